"""The detail panel's photo, fitted to the widget, with the detector's boxes drawn over it when asked."""

from __future__ import annotations

import zlib

from PySide6.QtCore import QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from photo_tagger.pipeline.types import Detection

BOX_HUES = (210, 30, 130, 280, 350, 60, 180, 90)
MIN_HEIGHT, MAX_HEIGHT = 180, 460  # the photo takes the height its shape needs at the panel's width, within these


def box_color(label: str) -> QColor:
    """A stable colour per label: every "dog" box is the same colour on every photo."""
    return QColor.fromHsv(BOX_HUES[zlib.crc32(label.encode()) % len(BOX_HUES)], 200, 245)


class PhotoView(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._pixmap: QPixmap | None = None
        self._full_size = (0, 0)
        self._boxes: list[Detection] = []
        self._message = ""
        self.show_boxes = False
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumHeight(MIN_HEIGHT)
        self._fit_height()

    def sizeHint(self) -> QSize:
        return QSize(360, 280)

    def _fit_height(self) -> None:
        """As tall as the photo is at this width: no empty bands above and below a landscape photo."""
        if self._pixmap is None or self._pixmap.width() == 0:
            height = MIN_HEIGHT + 60
        else:
            height = round(self.width() * self._pixmap.height() / self._pixmap.width())
        height = min(max(height, MIN_HEIGHT), MAX_HEIGHT)
        if height != self.maximumHeight():
            self.setMaximumHeight(height)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def has_image(self) -> bool:
        return self._pixmap is not None

    def boxes(self) -> list[Detection]:
        return list(self._boxes)

    def set_image(self, image: QImage | None, full_size: tuple[int, int], message: str = "") -> None:
        self._pixmap = QPixmap.fromImage(image) if image is not None and not image.isNull() else None
        self._full_size = full_size
        self._boxes = []
        self._message = message
        self._fit_height()
        self.update()

    def set_message(self, message: str) -> None:
        self._pixmap = None
        self._boxes = []
        self._message = message
        self._fit_height()
        self.update()

    def set_boxes(self, boxes: list[Detection]) -> None:
        self._boxes = list(boxes)
        self.update()

    def set_show_boxes(self, show: bool) -> None:
        self.show_boxes = show
        self.update()

    def image_rect(self) -> QRect:
        if self._pixmap is None:
            return QRect()
        size = self._pixmap.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(self.rect().center())
        return target

    def paintEvent(self, event: object) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        palette = self.palette()
        if self._pixmap is None:
            if self._message:
                frame = QPainterPath()
                frame.addRoundedRect(QRectF(self.rect()), 8, 8)
                painter.fillPath(frame, palette.color(QPalette.ColorRole.Base))
            painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self._message)
            return
        target = self.image_rect()
        clip = QPainterPath()
        clip.addRoundedRect(QRectF(target), 6, 6)
        painter.setClipPath(clip)
        painter.drawPixmap(target, self._pixmap)
        if self.show_boxes and self._boxes and self._full_size[0] > 0:
            self._draw_boxes(painter, target)

    def _draw_boxes(self, painter: QPainter, target: QRect) -> None:
        scale = target.width() / self._full_size[0]
        font = QFont(self.font())
        font.setPointSizeF(font.pointSizeF() * 0.85)
        font.setBold(True)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        for detection in self._boxes:
            x0, y0, x1, y1 = detection.box
            rect = QRectF(target.left() + x0 * scale, target.top() + y0 * scale, (x1 - x0) * scale, (y1 - y0) * scale)
            color = box_color(detection.label)
            painter.setPen(QPen(color, 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRoundedRect(rect, 3, 3)
            text = f"{detection.label} {detection.score:.2f}"
            label = QRectF(rect.left(), max(target.top(), rect.top() - metrics.height() - 2),
                           metrics.horizontalAdvance(text) + 8, metrics.height() + 2)
            painter.fillRect(label, color)
            painter.setPen(QColor("#111111"))
            painter.drawText(label, Qt.AlignmentFlag.AlignCenter, text)

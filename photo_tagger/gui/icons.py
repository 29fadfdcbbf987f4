"""Icons from ``resources/icons/*.svg``, drawn in the colour of the current palette's text (or a given colour).

The SVGs stroke with ``currentColor``, which Qt's SVG renderer does not know; the colour is substituted into the
text before rendering, so one file serves both themes.
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QApplication

from photo_tagger.resources import resources_dir


@cache
def _svg(name: str) -> str:
    return (resources_dir() / "icons" / f"{name}.svg").read_text(encoding="utf-8")


def pixmap(name: str, size: int = 16, color: str | None = None, ratio: float = 2.0) -> QPixmap:
    if color is None:
        color = QApplication.palette().color(QPalette.ColorRole.Text).name()
    renderer = QSvgRenderer(QByteArray(_svg(name).replace("currentColor", color).encode()))
    image = QPixmap(int(size * ratio), int(size * ratio))
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size * ratio, size * ratio))
    painter.end()
    image.setDevicePixelRatio(ratio)
    return image


def icon(name: str, color: str | None = None) -> QIcon:
    result = QIcon()
    for size in (16, 24):
        result.addPixmap(pixmap(name, size, color))
    if color is None:  # a greyed-out variant for disabled buttons and menu items
        dim = QApplication.palette().color(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text).name()
        for size in (16, 24):
            result.addPixmap(pixmap(name, size, dim), QIcon.Mode.Disabled)
    return result

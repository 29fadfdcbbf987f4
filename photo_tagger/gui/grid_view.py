"""The thumbnail grid: a ``QListView`` in icon mode with a delegate that draws tiles, placeholders and badges.

Uniform item sizes and a fixed grid spare the view from asking the model for each row's size, and the delegate
asks ``data()`` only for the tiles being painted. Icon mode still places every row once (about 250 ms for
100,000 on the development machine), so the layout runs in batches between events: the first screen paints
after the first batch, and the scroll range grows to its full length within a fraction of a second.
"""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPalette, QPen
from PySide6.QtWidgets import QAbstractItemView, QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from photo_tagger.gui import icons
from photo_tagger.gui.grid_model import FAILURE_ROLE, MARK_ROLE, PHOTO_ID_ROLE, PhotoGridModel
from photo_tagger.gui.theme import STATE_COLORS

CAPTION = 22
PADDING = 5
DEFAULT_TILE = 168
TILE_SIZES = (112, 136, 168, 208, 256)
LAYOUT_BATCH = 4000  # rows placed per step of the batched layout: about 10 ms of the GUI thread

Index = QModelIndex | QPersistentModelIndex


class TileDelegate(QStyledItemDelegate):
    def __init__(self, tile: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tile = tile
        self.cell = QSize(tile, tile + CAPTION)  # the tile stretched to fill the row (see PhotoGrid.fit_columns)
        self._placeholder = icons.pixmap("photos", 28, "#6d717a")
        self._broken = icons.pixmap("alert", 24, "#6d717a")

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return self.cell

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        palette: QPalette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        tile = QRect(option.rect).adjusted(PADDING, PADDING, -PADDING, -PADDING)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        card = palette.color(QPalette.ColorRole.AlternateBase)
        if selected:
            card = palette.color(QPalette.ColorRole.Highlight)
            card.setAlpha(60)
        path = QPainterPath()
        path.addRoundedRect(tile, 7, 7)
        painter.fillPath(path, card)
        if selected:
            painter.setPen(QPen(palette.color(QPalette.ColorRole.Highlight), 2))
            painter.drawPath(path)
        area = tile.adjusted(6, 6, -6, -CAPTION)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is not None:
            size = pixmap.size().scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(0, 0, size.width(), size.height())
            target.moveCenter(area.center())
            clip = QPainterPath()
            clip.addRoundedRect(target, 3, 3)
            painter.setClipPath(clip)
            painter.drawPixmap(target, pixmap)
            painter.setClipping(False)
        else:
            failed = index.data(FAILURE_ROLE)
            icon = self._broken if failed else self._placeholder
            placeholder = palette.color(QPalette.ColorRole.Base)
            painter.fillRect(area.adjusted(4, 4, -4, -4), placeholder)
            x = area.center().x() - icon.width() // (2 * int(icon.devicePixelRatio()))
            y = area.center().y() - icon.height() // (2 * int(icon.devicePixelRatio()))
            painter.drawPixmap(x, y, icon)
        name = index.data(Qt.ItemDataRole.DisplayRole) or ""
        caption = QRect(tile.left() + 6, tile.bottom() - CAPTION + 2, tile.width() - 12, CAPTION - 4)
        font = QFont(option.font)
        font.setPointSizeF(font.pointSizeF() * 0.88)
        painter.setFont(font)
        text = palette.color(QPalette.ColorRole.Text if selected else QPalette.ColorRole.PlaceholderText)
        painter.setPen(text)
        elided = painter.fontMetrics().elidedText(name, Qt.TextElideMode.ElideMiddle, caption.width())
        painter.drawText(caption, Qt.AlignmentFlag.AlignCenter, elided)
        mark = index.data(MARK_ROLE)
        if mark:
            self._badge(painter, tile, mark)
        painter.restore()

    @staticmethod
    def _badge(painter: QPainter, tile: QRect, mark: str) -> None:
        circle = QRect(tile.right() - 26, tile.top() + 8, 20, 20)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(STATE_COLORS.get(mark, "#888888")))
        painter.drawEllipse(circle)
        glyph = icons.pixmap("check" if mark == "accepted" else "cross", 12, "#ffffff")
        painter.drawPixmap(circle.left() + 4, circle.top() + 4, glyph)


class PhotoGrid(QListView):
    """The grid; keeps its selection and scroll position across a model refresh (the worker tagged more)."""

    def __init__(self, parent: QWidget | None = None, tile: int = DEFAULT_TILE) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setMovement(QListView.Movement.Static)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(LAYOUT_BATCH)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSpacing(0)
        self.setDragEnabled(False)
        self.delegate = TileDelegate(tile, self)
        self.setItemDelegate(self.delegate)
        self.set_tile(tile)
        self._keep: tuple[list[int], int, int | None] | None = None
        self._scroll_to: int | None = None  # a position to restore once the batched layout reaches it
        self.verticalScrollBar().rangeChanged.connect(self._range_changed)
        self.restoring = False  # True while a refresh puts the selection back (listeners may ignore it)

    def set_tile(self, tile: int) -> None:
        self.delegate.tile = tile
        self.verticalScrollBar().setSingleStep(max(20, tile // 3))
        self.fit_columns(force=True)

    def fit_columns(self, force: bool = False) -> None:
        """Stretch the tiles so that whole columns fill the width: no ragged gap on the right."""
        # QListView lays out in the largest viewport minus a scroll bar's extent, whether the scroll bar shows or
        # not, and wraps a row when its end reaches the last pixel (QListViewPrivate::prepareItemsLayout).
        extent = self.style().pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self.verticalScrollBar())
        width = max(self.maximumViewportSize().width() - extent - 1, 1)
        tile = self.delegate.tile
        columns = max(1, width // tile)
        cell = QSize(width // columns, tile + CAPTION)
        if force or cell != self.delegate.cell:
            self.delegate.cell = cell
            self.setGridSize(cell)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)
        self.fit_columns()

    def paintEvent(self, event: object) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is None or model.rowCount() > 0 or not model.has_searched():
            return
        if model.query.strip():
            text = "No photos match this search."
        else:
            text = ("No photos yet.\n\nAdd a folder with File ▸ Add Folder… (Ctrl+Shift+O):\n"
                    "its photos appear here as they are tagged.")
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(self.viewport().rect(), Qt.AlignmentFlag.AlignCenter, text)

    def setModel(self, model: PhotoGridModel) -> None:  # type: ignore[override]
        super().setModel(model)
        model.modelAboutToBeReset.connect(self._before_reset)
        model.modelReset.connect(self._after_reset)
        self.verticalScrollBar().valueChanged.connect(model.thumbnails.cancel_pending)

    def photo_grid_model(self) -> PhotoGridModel:
        return self.model()  # type: ignore[return-value]

    def selected_rows(self) -> list[int]:
        """Selected rows from the selection's ranges (cheap for 100,000 rows, unlike ``selectedIndexes``)."""
        rows: list[int] = []
        for selection_range in self.selectionModel().selection():
            rows.extend(range(selection_range.top(), selection_range.bottom() + 1))
        return sorted(set(rows))

    def current_photo_id(self) -> int | None:
        index = self.currentIndex()
        return index.data(PHOTO_ID_ROLE) if index.isValid() else None

    def select_row(self, row: int) -> None:
        model = self.model()
        if model is None or not 0 <= row < model.rowCount():
            return
        index = model.index(row, 0)
        self.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.scrollTo(index)

    def _before_reset(self) -> None:
        model = self.photo_grid_model()
        if not model.refreshing:
            self._keep = None
            return
        ids = [model.hit(row).photo_id for row in self.selected_rows()[:1000] if model.hit(row) is not None]
        self._keep = (ids, self.verticalScrollBar().value(), self.current_photo_id())

    def _after_reset(self) -> None:
        keep, self._keep = self._keep, None
        if keep is None:
            self._scroll_to = None
            self.scrollToTop()
            return
        ids, scroll, current = keep
        self.restoring = True
        try:
            self._restore(ids, scroll, current)
        finally:
            self.restoring = False

    def _restore(self, ids: list[int], scroll: int, current: int | None) -> None:
        model = self.photo_grid_model()
        selection = QItemSelection()
        for photo_id in ids:
            row = model.row_of(photo_id)
            if row is not None:
                selection.select(model.index(row), model.index(row))
        self.selectionModel().select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        row = model.row_of(current) if current is not None else None
        if row is not None:
            self.selectionModel().setCurrentIndex(model.index(row), QItemSelectionModel.SelectionFlag.NoUpdate)
        self._scroll_to = scroll
        self._range_changed(0, self.verticalScrollBar().maximum())

    def _range_changed(self, _minimum: int, maximum: int) -> None:
        if self._scroll_to is not None and maximum >= self._scroll_to:
            self.verticalScrollBar().setValue(self._scroll_to)
            self._scroll_to = None

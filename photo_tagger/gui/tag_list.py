"""The detail panel's tag list: tags grouped by state, each with its score, its source and, for GloVe, its parent.

With several photos selected it lists every tag on any of them, with how many of them carry it in that state;
accepting or rejecting such a row acts on exactly those photos.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QHeaderView,
    QMenu,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeWidget,
    QTreeWidgetItem,
    QWidget,
)

from photo_tagger.gui.theme import SOURCE_COLORS, STATE_COLORS, is_dark
from photo_tagger.store import PhotoTagInfo

STATES = ("suggested", "accepted", "rejected")
TITLES = {"suggested": "Suggested", "accepted": "Accepted", "rejected": "Rejected"}
ROW_ROLE = Qt.ItemDataRole.UserRole + 1

Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class TagRow:
    name: str
    state: str
    score: float
    source: str
    parent: str | None
    photo_ids: tuple[int, ...]  # the selected photos on which the tag is in this state
    selected: int  # how many photos are selected


def tag_rows(tags: Mapping[int, Sequence[PhotoTagInfo]]) -> list[TagRow]:
    """One row per (state, tag) over the photos: the best score, the source and parent that gave it."""
    groups: dict[tuple[str, str], list[tuple[int, PhotoTagInfo]]] = {}
    for photo_id, infos in tags.items():
        for info in infos:
            groups.setdefault((info.state.value, info.name), []).append((photo_id, info))
    rows = []
    for (state, name), found in groups.items():
        _, best = max(found, key=lambda item: item[1].score)
        rows.append(TagRow(name, state, best.score, best.source.value, best.parent,
                           tuple(photo_id for photo_id, _ in found), len(tags)))
    rows.sort(key=lambda row: (STATES.index(row.state), -len(row.photo_ids), -row.score, row.name))
    return rows


class _CellDelegate(QStyledItemDelegate):
    """Column 1: a score bar; column 2: a coloured pill naming the source (and the GloVe parent)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        row: TagRow | None = index.siblingAtColumn(0).data(ROW_ROLE)
        if row is None or index.column() == 0:
            super().paint(painter, option, index)
            return
        self.initStyleOption(option, index)
        style = option.widget.style() if option.widget is not None else QApplication.style()
        style.drawPrimitive(QStyle.PrimitiveElement.PE_PanelItemViewItem, option, painter, option.widget)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRect(option.rect)
        font = QFont(option.font)
        font.setPointSizeF(font.pointSizeF() * 0.85)
        painter.setFont(font)
        if index.column() == 1:
            self._score(painter, rect, row, option.palette)
        else:
            self._source(painter, rect, row, is_dark(option.palette))
        painter.restore()

    @staticmethod
    def _score(painter: QPainter, rect: QRect, row: TagRow, palette: QPalette) -> None:
        if row.source == "user":
            return
        track = QRectF(rect.left() + 2, rect.center().y() - 2, 38, 4)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(palette.color(QPalette.ColorRole.Mid))
        painter.drawRoundedRect(track, 2, 2)
        painter.setBrush(QColor(STATE_COLORS[row.state]))
        painter.drawRoundedRect(QRectF(track.left(), track.top(), max(3.0, 38 * row.score), 4), 2, 2)
        painter.setPen(palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(rect.adjusted(44, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, f"{row.score:.2f}")

    @staticmethod
    def _source(painter: QPainter, rect: QRect, row: TagRow, dark: bool) -> None:
        text = row.source if not row.parent else f"{row.source} \u2190 {row.parent}"
        metrics = painter.fontMetrics()
        text = metrics.elidedText(text, Qt.TextElideMode.ElideRight, rect.width() - 14)
        pill = QRectF(rect.left() + 2, rect.center().y() - 8, metrics.horizontalAdvance(text) + 12, 16)
        color = QColor(SOURCE_COLORS.get(row.source, "#888888"))
        fill = QColor(color)
        fill.setAlpha(50)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(fill)
        painter.drawRoundedRect(pill, 8, 8)
        painter.setPen(color.lighter(125) if dark else color.darker(150))
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        size = super().sizeHint(option, index)
        return QSize(size.width(), max(size.height(), 24))


class TagList(QTreeWidget):
    action_requested = Signal(str, object)  # "accept" | "reject" | "remove", TagRow
    review_requested = Signal(str)  # a tag name

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setColumnCount(3)
        self.setHeaderHidden(True)
        self.setRootIsDecorated(False)
        self.setIndentation(0)
        self.setUniformRowHeights(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setItemDelegate(_CellDelegate(self))
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Fixed)
        header.resizeSection(1, 80)
        header.resizeSection(2, 120)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)
        self.itemDoubleClicked.connect(self._double_clicked)
        self._rows: list[TagRow] = []

    def rows(self) -> list[TagRow]:
        return list(self._rows)

    def set_rows(self, rows: list[TagRow], keep: str | None = None) -> None:
        """Show ``rows``; the current row becomes the suggestion named ``keep``, else the first suggestion."""
        self._rows = rows
        self.clear()
        multi = bool(rows) and rows[0].selected > 1
        items: dict[str, QTreeWidgetItem] = {}
        for state in STATES:
            members = [row for row in rows if row.state == state]
            if not members:
                continue
            group = QTreeWidgetItem(self, [f"{TITLES[state].upper()}  \u00b7  {len(members)}"])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            group.setFirstColumnSpanned(True)
            font = QFont(self.font())
            font.setBold(True)
            font.setPointSizeF(font.pointSizeF() * 0.8)
            group.setFont(0, font)
            group.setForeground(0, QColor(STATE_COLORS[state]))
            for row in members:
                label = row.name if not multi else f"{row.name}   {len(row.photo_ids)}/{row.selected}"
                item = QTreeWidgetItem(group, [label, "", ""])
                item.setData(0, ROW_ROLE, row)
                item.setToolTip(0, _tooltip(row))
                items.setdefault(f"{state}:{row.name}", item)
            group.setExpanded(True)
        current = items.get(f"suggested:{keep}") if keep else None
        if current is None:
            current = next((item for key, item in items.items() if key.startswith("suggested:")), None)
        if current is not None:
            self.setCurrentItem(current)

    def select_suggestion(self, name: str) -> None:
        for index in range(self.topLevelItemCount()):
            group = self.topLevelItem(index)
            for child in range(group.childCount()):
                row = group.child(child).data(0, ROW_ROLE)
                if row.name == name and row.state == "suggested":
                    self.setCurrentItem(group.child(child))
                    return

    def current_row(self) -> TagRow | None:
        item = self.currentItem()
        return item.data(0, ROW_ROLE) if item is not None else None

    def next_suggestion_after(self, name: str) -> str | None:
        """The suggestion listed after ``name`` (or before it, at the end): where the cursor goes after a decision."""
        names = [row.name for row in self._rows if row.state == "suggested"]
        if name not in names:
            return names[0] if names else None
        position = names.index(name)
        rest = names[position + 1 :] or names[:position][-1:]
        return rest[0] if rest else None

    def _double_clicked(self, item: QTreeWidgetItem) -> None:
        row = item.data(0, ROW_ROLE)
        if row is not None and row.state != "accepted":
            self.action_requested.emit("accept", row)

    def _menu(self, point: QPoint) -> None:
        item = self.itemAt(point)
        row: TagRow | None = item.data(0, ROW_ROLE) if item is not None else None
        if row is None:
            return
        menu = QMenu(self)
        for action, text in (("accept", "Accept"), ("reject", "Reject"), ("remove", "Remove")):
            entry = menu.addAction(f"{text} \u201c{row.name}\u201d")
            entry.setEnabled(action == "remove" or row.state != f"{action}ed")
            entry.triggered.connect(lambda _=False, a=action: self.action_requested.emit(a, row))
        menu.addSeparator()
        menu.addAction(f"Review every suggestion of \u201c{row.name}\u201d",
                       lambda: self.review_requested.emit(row.name))
        menu.exec(self.viewport().mapToGlobal(point))


def _tooltip(row: TagRow) -> str:
    parts = [f"{row.name}: {row.state}", f"source: {row.source}"]
    if row.source != "user":
        parts.append(f"score: {row.score:.3f}")
    if row.parent:
        parts.append(f"GloVe neighbour of \u201c{row.parent}\u201d")
    if row.selected > 1:
        parts.append(f"on {len(row.photo_ids)} of {row.selected} selected photos")
    return "\n".join(parts)

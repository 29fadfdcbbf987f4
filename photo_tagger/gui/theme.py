"""Look and feel: the Fusion style with one dark and one light palette, and a short style sheet on top.

Widgets paint with the palette's roles (``Window``, ``Base``, ``Highlight``...), so switching themes needs no
widget to know which one is on. The colours of tag sources and decisions are the same in both themes: they carry
meaning, and a user who learned "orange is the detector" should not have to learn it again.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

SOURCE_COLORS = {"tagger": "#5b8def", "detector": "#e8953a", "glove": "#a77ce8", "user": "#3fb67f"}
STATE_COLORS = {"accepted": "#3fb67f", "rejected": "#e25d5d", "suggested": "#5b8def"}


@dataclass(frozen=True)
class Theme:
    name: str
    window: str
    base: str  # grid and lists
    card: str  # a thumbnail's tile
    raised: str  # buttons, inputs
    text: str
    dim: str
    border: str
    accent: str
    selection: str  # a selected row in a list: the accent, quieter
    error: str = "#e25d5d"


DARK = Theme("dark", window="#1f2023", base="#17181a", card="#26282c", raised="#2c2e33", text="#e8e8ea",
             dim="#9b9ea6", border="#34363c", accent="#4f8cf7", selection="#2a3f66")
LIGHT = Theme("light", window="#eceef1", base="#f8f9fa", card="#ffffff", raised="#ffffff", text="#1d1f23",
              dim="#646a73", border="#d3d7dd", accent="#2f6fe0", selection="#d4e2fb")

_STYLE = """
QMainWindow, QDialog {{ background: {window}; }}
QToolTip {{ color: {text}; background: {raised}; border: 1px solid {border}; padding: 4px; }}
QLineEdit {{ background: {raised}; border: 1px solid {border}; border-radius: 6px; padding: 5px 8px;
    selection-background-color: {accent}; }}
QLineEdit:focus {{ border-color: {accent}; }}
QLineEdit[error="true"] {{ border-color: {error}; }}
QPushButton, QToolButton {{ background: {raised}; border: 1px solid {border}; border-radius: 6px; padding: 4px 10px; }}
QPushButton:hover, QToolButton:hover {{ border-color: {accent}; }}
QPushButton:pressed, QToolButton:pressed, QToolButton:checked {{ background: {border}; }}
QPushButton:disabled {{ color: {dim}; }}
QPushButton[role="accept"] {{ color: #3fb67f; font-weight: bold; }}
QPushButton[role="reject"] {{ color: #e25d5d; font-weight: bold; }}
QToolButton[flat="true"] {{ border: none; background: transparent; padding: 2px 4px; }}
QTreeWidget, QListView {{ background: {base}; border: none; outline: 0; }}
QTreeWidget::item {{ padding: 3px 2px; }}
QTreeWidget::item:selected {{ background: {selection}; color: {text}; }}
QWidget#sidebar QTreeWidget {{ background: transparent; }}
QSplitter::handle {{ background: {border}; }}
QStatusBar {{ background: {window}; border-top: 1px solid {border}; }}
QStatusBar::item {{ border: none; }}
QProgressBar {{ background: {raised}; border: 1px solid {border}; border-radius: 4px; max-height: 8px; }}
QProgressBar::chunk {{ background: {accent}; border-radius: 3px; }}
QLabel[role="dim"] {{ color: {dim}; }}
QLabel[role="error"] {{ color: {error}; }}
QLabel[role="title"] {{ font-size: 12pt; font-weight: bold; }}
QLabel[role="section"] {{ color: {dim}; font-size: 8pt; font-weight: bold; letter-spacing: 1px; }}
QWidget#sidebar, QWidget#detail {{ background: {window}; }}
QWidget#banner {{ background: {accent}; border-radius: 6px; }}
QWidget#banner QLabel {{ color: white; }}
QWidget#banner QPushButton {{ background: rgba(255, 255, 255, 40); color: white; border: none; }}
QMenu {{ background: {raised}; border: 1px solid {border}; padding: 4px; }}
QMenu::item {{ padding: 5px 24px 5px 20px; border-radius: 4px; }}
QMenu::item:selected {{ background: {accent}; color: white; }}
QMenu::item:disabled {{ color: {dim}; }}
QMenuBar {{ background: {window}; }}
QMenuBar::item:selected {{ background: {raised}; border-radius: 4px; }}
QScrollBar:vertical {{ background: transparent; width: 10px; margin: 2px; }}
QScrollBar::handle:vertical {{ background: {border}; border-radius: 3px; min-height: 30px; }}
QScrollBar::add-line, QScrollBar::sub-line {{ height: 0; width: 0; }}
QScrollBar::add-page, QScrollBar::sub-page {{ background: transparent; }}
QDockWidget::title {{ padding: 6px; background: {window}; }}
"""


def palette_for(theme: Theme) -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.base,
        QPalette.ColorRole.AlternateBase: theme.card,
        QPalette.ColorRole.Button: theme.raised,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.PlaceholderText: theme.dim,
        QPalette.ColorRole.ToolTipBase: theme.raised,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.Highlight: theme.accent,
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Mid: theme.border,
        QPalette.ColorRole.Midlight: theme.card,
        QPalette.ColorRole.Dark: theme.border,
        QPalette.ColorRole.Light: theme.raised,
        QPalette.ColorRole.Link: theme.accent,
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.dim))
    return palette


def apply_theme(app: QApplication, dark: bool = True) -> Theme:
    theme = DARK if dark else LIGHT
    app.setStyle("Fusion")
    font = QFont(app.font())
    font.setPointSizeF(9.5)
    app.setFont(font)
    app.setPalette(palette_for(theme))
    app.setStyleSheet(_STYLE.format(**theme.__dict__))
    return theme


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128

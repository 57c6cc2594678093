"""What the settings dialog's tabs share: a field with its hint and error, the verdict of a
check with its tone, the notice box, the form and page layouts, and saving's failure."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from bulutpop.local.config import Config

Tone = Literal["", "busy", "ok", "warning", "error"]

_TONE_ICONS = {
    "ok": QStyle.StandardPixmap.SP_DialogApplyButton,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
}


def text_label(text: str = "", role: str = "", *, small: bool = False) -> QLabel:
    """Plain, word-wrapped text; `role` picks its look in the dialog's style sheet."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if role:
        label.setProperty("role", role)
    if small:
        font = QFont(label.font())
        font.setPointSizeF(font.pointSizeF() * 0.92)
        label.setFont(font)
    return label


def _restyle(widget: QWidget) -> None:
    # Dynamic properties only take effect in a stylesheet after a re-polish.
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class Field(QWidget):
    """One input row with its hint and its error underneath (each hidden while empty)."""

    def __init__(self, *widgets: QWidget, hint: str = "", stretch: bool = True) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        row = QHBoxLayout()
        row.setSpacing(6)
        for widget in widgets:
            row.addWidget(widget)
        if not stretch:
            row.addStretch(1)
        layout.addLayout(row)
        self.error = text_label("", "error", small=True)
        self.error.hide()
        layout.addWidget(self.error)
        self.hint = text_label(hint, "hint", small=True)
        self.hint.setVisible(bool(hint))
        layout.addWidget(self.hint)

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.setVisible(bool(text))

    def set_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))


class Status(QWidget):
    """The outcome of a check ("Key accepted by the PBX"), with an icon for its tone."""

    def __init__(self) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.icon = QLabel()
        self.icon.setFixedSize(16, 16)
        self.text = text_label()
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)
        self.show_result("", "")

    def show_result(self, tone: Tone, text: str) -> None:
        self.text.setText(text)
        self.text.setProperty("tone", tone)
        _restyle(self.text)
        pixmap = _TONE_ICONS.get(tone)
        if pixmap is None:
            self.icon.clear()
        else:
            self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(16, 16))
        self.icon.setVisible(pixmap is not None)
        self.setVisible(bool(text))


class Notice(QFrame):
    """A tinted box for advice the user should not miss (e.g. a local-only webhook URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.setProperty("role", "notice")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(8)
        icon = QLabel()
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(16, 16)
        )
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        self.text = text_label(small=True)
        layout.addWidget(self.text, 1)

    def set_text(self, text: str) -> None:
        self.text.setText(text)
        self.setVisible(bool(text))


def form_layout() -> QFormLayout:
    form = QFormLayout()
    form.setContentsMargins(0, 0, 0, 0)
    form.setHorizontalSpacing(14)
    form.setVerticalSpacing(12)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    return form


def make_page(*items: QWidget | QLayout) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(18, 16, 18, 16)
    layout.setSpacing(14)
    for item in items:
        if isinstance(item, QLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item)
    layout.addStretch(1)
    return page


def address(config: Config) -> str:
    """Where the PBX posts, without the secret path: what the user needs to recognise."""
    return config.webhook_url().removesuffix(config.webhook_path())


class SaveFailed(Exception):
    def __init__(self, summary: str, field: str = "", detail: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.field = field
        self.detail = detail

"""What every window shares to look alike: secondary text, a label in a meaning's colour,
the title line, the hint under an empty list, and the status line under a list; and
opening a dialog (or asking for a caller's name) without a nested event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from PySide6.QtCore import QCoreApplication, QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from bulutpop.ui.common.theme import Tone, colour, is_palette_change
from bulutpop.ui.common.theme import muted as muted  # the list windows import it from here


def heading(text: str = "") -> QLabel:
    """A window's title line, the same in every list window."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    font = label.font()
    font.setPointSizeF(font.pointSizeF() * 1.45)
    font.setBold(True)
    label.setFont(font)
    return label


def hint() -> QLabel:
    """The muted, centred line under an empty list's headline."""
    label = QLabel()
    label.setAlignment(Qt.AlignmentFlag.AlignCenter)
    label.setWordWrap(True)
    palette = label.palette()
    palette.setColor(
        QPalette.ColorRole.WindowText, muted(palette, background=QPalette.ColorRole.Window)
    )
    label.setPalette(palette)
    return label


class ToneLabel(QLabel):
    """A label whose text has a meaning's colour (`Tone`), re-derived when the palette
    changes (the system switched to a dark or high-contrast theme)."""

    def __init__(self, text: str = "", tone: Tone | None = None) -> None:
        super().__init__(text)
        self.tone = tone
        self._apply()

    def set_tone(self, tone: Tone | None) -> None:
        self.tone = tone
        self._apply()

    def _apply(self) -> None:
        app = QGuiApplication.palette()
        text = colour(self.tone, app) if self.tone else app.color(QPalette.ColorRole.WindowText)
        palette = self.palette()
        if palette.color(QPalette.ColorRole.WindowText) != text:
            palette.setColor(QPalette.ColorRole.WindowText, text)
            self.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if is_palette_change(event):
            self._apply()


class StatusLine(QWidget):
    """One line of feedback under a list, with an optional "Undo" button; messages that
    report a finished action clear themselves."""

    undoRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._label = QLabel()
        self._label.setTextFormat(Qt.TextFormat.PlainText)
        self.undo_button = QPushButton(self.tr("Undo"))
        self.undo_button.setFlat(True)
        self.undo_button.setCursor(Qt.CursorShape.PointingHandCursor)
        link = self.undo_button.palette()
        link.setColor(QPalette.ColorRole.ButtonText, link.color(QPalette.ColorRole.Link))
        self.undo_button.setPalette(link)
        bold = self.undo_button.font()
        bold.setBold(True)
        self.undo_button.setFont(bold)
        self.undo_button.clicked.connect(self.undoRequested)
        self.undo_button.hide()
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.clear)
        self._tone: Tone | None = None
        self._layout = layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._label, 1)
        layout.addWidget(self.undo_button)
        layout.addStretch(0)
        # The same height with or without the button, so the list above never jumps.
        self.setMinimumHeight(self.undo_button.sizeHint().height())

    def text(self) -> str:
        return self._label.text()

    def show_progress(self, text: str) -> None:
        self._set(text, None, 0)

    def show_success(self, text: str, seconds: int = 15) -> None:
        self._set(text, None, seconds)

    def show_error(self, text: str) -> None:
        # Errors stay until the next action: the user may be away from the screen.
        self._set(text, Tone.ERROR, 0)

    def offer_undo(self, text: str, seconds: int = 10) -> None:
        self._set(text, None, seconds)
        # A short line with "Undo" right after it; wrapping would squeeze the text instead.
        self._label.setWordWrap(False)
        self._label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self._layout.setStretch(0, 0)
        self._layout.setStretch(2, 1)
        self.undo_button.show()

    def clear(self) -> None:
        self._set("", None, 0)

    def _set(self, text: str, tone: Tone | None, seconds: int) -> None:
        self._timer.stop()
        self.undo_button.hide()
        self._label.setWordWrap(True)
        self._label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self._layout.setStretch(0, 1)
        self._layout.setStretch(2, 0)
        self._label.setText(text)
        self._tone = tone
        self._colour_text()
        if seconds:
            self._timer.start(seconds * 1000)

    def _colour_text(self) -> None:
        palette = self._label.palette()
        app = QGuiApplication.palette()
        text = colour(self._tone, app) if self._tone else app.color(QPalette.ColorRole.WindowText)
        palette.setColor(QPalette.ColorRole.WindowText, text)
        self._label.setPalette(palette)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if is_palette_change(event):
            self._colour_text()


async def dialog_result(dialog: QDialog) -> int:
    """Open `dialog` (window-modal) and wait for its result. Not `exec()`: a nested event
    loop would run asyncio callbacks re-entrantly. Cancelling the wait closes the dialog."""
    answer: asyncio.Future[int] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not answer.done():
            answer.set_result(result)

    dialog.finished.connect(finished)
    dialog.open()
    try:
        return await answer
    finally:
        dialog.finished.disconnect(finished)
        if dialog.isVisible():
            dialog.reject()


# (parent, the number as shown, the name shown now) -> the new name, or None if cancelled.
NameAsker = Callable[[QWidget, str, str], Awaitable[str | None]]


async def ask_name(parent: QWidget, number: str, current: str) -> str | None:
    """Ask for the name to show for `number` on this PC."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(QCoreApplication.translate("ask_name", "Edit name"))
    dialog.setLabelText(
        QCoreApplication.translate(
            "ask_name", "Name to show for %1 on this PC.\nLeave empty to use the address books."
        ).replace("%1", number)
    )
    dialog.setTextValue(current)
    dialog.resize(max(dialog.sizeHint().width(), 380), dialog.sizeHint().height())
    try:
        if await dialog_result(dialog) != QDialog.DialogCode.Accepted:
            return None
        return dialog.textValue()
    finally:
        dialog.deleteLater()

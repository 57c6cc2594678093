"""Caller notes in the UI: asking for a caller's short note ("wants the invoice resent"),
from the popup, the missed-call list or the history, and saving it through the bridge (in
a team it reaches every colleague's PC)."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QDialog, QInputDialog, QWidget

from bulutpop.calls import phone
from bulutpop.errors import BulutpopError
from bulutpop.storage.store import NOTE_LIMIT
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.common.widgets import NameAsker, StatusLine, dialog_result

log = logging.getLogger(__name__)


def _tr(text: str) -> str:
    return QCoreApplication.translate("notes", text)


async def ask_note(parent: QWidget, number: str, current: str) -> str | None:
    """Ask for the note on `number` (shown form); None when cancelled."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(_tr("Note on the caller"))
    dialog.setLabelText(
        _tr("A short note on %1, shown on their next call.\nLeave empty to remove it.").replace(
            "%1", number
        )
    )
    dialog.setTextValue(current)
    dialog.resize(max(dialog.sizeHint().width(), 420), dialog.sizeHint().height())
    try:
        if await dialog_result(dialog) != QDialog.DialogCode.Accepted:
            return None
        return dialog.textValue()[:NOTE_LIMIT]
    finally:
        dialog.deleteLater()


async def edit_note(
    bridge: CoreBridge, parent: QWidget, number_key: str, status: StatusLine | None, ask: NameAsker
) -> bool:
    """Let the user write (or clear) the note on a caller; True when it changed."""
    shown = phone.display(number_key)
    note = bridge.note_for(number_key)
    current = note.text if note else ""
    typed = await ask(parent, shown, current)
    if typed is None or " ".join(typed.split()) == current:
        return False
    try:
        await bridge.set_note(number_key, typed)
    except Exception as exc:
        if not isinstance(exc, BulutpopError):
            log.exception("sharing a note failed")
        if status is not None:
            text = _tr("Note kept on this PC; your team was not told: %1")
            status.show_error(text.replace("%1", describe_error(exc)))
        return True
    if status is not None:
        text = _tr("Note on %1 saved.") if typed.strip() else _tr("Note on %1 removed.")
        status.show_success(text.replace("%1", shown), seconds=5)
    return True

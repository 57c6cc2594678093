"""What the list windows (missed calls, call history) share around their table: the table's
look, the actions on the selected row (keyboard shortcuts and the right-click menu), and
what those actions do with a row's number: copy it, dial it, edit the name shown for it,
delete its records (KVKK erasure), each with word of it in the status line."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from PySide6.QtCore import QAbstractItemModel, QCoreApplication, QEvent, QObject, QPoint, Qt
from PySide6.QtGui import QAction, QContextMenuEvent, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QMessageBox,
    QTableView,
    QWidget,
)

from bulutpop.calls import phone
from bulutpop.errors import BulutpopError, NumberError
from bulutpop.storage.store import erasable_digits
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.common.widgets import NameAsker, StatusLine, dialog_result

log = logging.getLogger(__name__)

T = TypeVar("T")


def list_view(model: QAbstractItemModel, lines: int, padding: int) -> QTableView:
    """A read-only table of `model`, one row selected at a time, every row as high as
    `lines` lines of text and `padding` px (fixed heights let the view skip measuring
    100,000 rows)."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    view.setCornerButtonEnabled(False)
    view.verticalHeader().hide()
    view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    view.verticalHeader().setDefaultSectionSize(lines * view.fontMetrics().height() + padding)
    view.horizontalHeader().setHighlightSections(False)
    return view


def queue_width(bridge: CoreBridge, view: QAbstractItemView) -> int:
    """A queue column wide enough for the longest queue name the PBX gave ("Satış (200)"),
    within reason."""
    metrics = view.fontMetrics()
    # The header's own words, so the translation is shared.
    labels = [QCoreApplication.translate("MissedModel", "Queue"), "0000"]
    labels += [bridge.queue_name(number) for number in bridge.queue_names()]
    longest = max(metrics.horizontalAdvance(label) for label in labels)
    return min(longest + 28, 24 * metrics.averageCharWidth())


def selected_row(view: QTableView) -> int | None:
    """The row selected in `view`, if any."""
    rows = view.selectionModel().selectedRows()
    return rows[0].row() if rows else None


class RowActions(Generic[T]):
    """The actions on the row selected in `view`: each with a shortcut that works while the
    list has focus, offered again in the row's right-click menu. A handler gets the row's
    item as `selected` returns it when the action fires (rows move as calls arrive)."""

    def __init__(self, view: QTableView, selected: Callable[[], T | None]) -> None:
        self._view = view
        self._selected = selected
        self._menu: list[list[QAction]] = []
        view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        view.customContextMenuRequested.connect(self._show_menu)
        # The menu key and Shift+F10 open the menu of the selected row, at that row (Qt
        # places a keyboard menu by the current cell, not by the selection).
        self._keyboard_menu = _KeyboardMenu(view, self.show_menu_for_selection)
        keyboard = QAction(view)
        keyboard.setShortcut(QKeySequence(Qt.Modifier.SHIFT | Qt.Key.Key_F10))
        keyboard.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        keyboard.triggered.connect(self.show_menu_for_selection)
        view.addAction(keyboard)

    def add(
        self,
        text: str,
        handler: Callable[[T], None],
        key: Qt.Key | QKeySequence.StandardKey | None = None,
    ) -> QAction:
        action = QAction(text, self._view)
        if key is not None:
            action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.triggered.connect(lambda: self.run(handler))
        self._view.addAction(action)
        return action

    def run(self, handler: Callable[[T], None]) -> None:
        """Run `handler` on the selected row's item as it is now; nothing when none is."""
        item = self._selected()
        if item is not None:
            handler(item)

    def set_menu(self, *sections: list[QAction]) -> None:
        """The right-click menu: these actions, a separator between sections."""
        self._menu = [list(section) for section in sections]

    def show_menu_for_selection(self) -> None:
        """The right-click menu of the selected row, opened from the keyboard."""
        rows = self._view.selectionModel().selectedRows()
        if rows:
            self._show_menu(self._view.visualRect(rows[0]).center())

    def _show_menu(self, pos: QPoint) -> None:
        index = self._view.indexAt(pos)
        if not index.isValid():
            return
        self._view.selectRow(index.row())
        menu = QMenu(self._view)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        for i, section in enumerate(self._menu):
            if i:
                menu.addSeparator()
            menu.addActions(section)
        # popup, not exec: a nested event loop would run asyncio callbacks re-entrantly.
        menu.popup(self._view.viewport().mapToGlobal(pos))


class _KeyboardMenu(QObject):
    """Turns a context-menu request from the keyboard (the menu key) on a list into a call
    of `show`; a right click keeps Qt's way."""

    def __init__(self, view: QTableView, show: Callable[[], None]) -> None:
        super().__init__(view)
        self._show = show
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            isinstance(event, QContextMenuEvent)
            and event.reason() == QContextMenuEvent.Reason.Keyboard
        ):
            self._show()
            return True
        return super().eventFilter(watched, event)


def copy_number(shown: str, status: StatusLine) -> None:
    """Put a number (as shown) on the clipboard and say so in the status line."""
    QGuiApplication.clipboard().setText(shown)
    status.show_success(
        QCoreApplication.translate("copy_number", "Copied %1.").replace("%1", shown), seconds=4
    )


async def place_call(bridge: CoreBridge, party: str, status: StatusLine) -> bool:
    """Dial `party` from the user's extension, telling the user each step; True if the
    PBX accepted the call."""
    status.show_progress(
        QCoreApplication.translate("place_call", "Calling %1… your phone will ring.").replace(
            "%1", phone.display(party)
        )
    )
    try:
        dialled = await bridge.dialer.dial(party)
    except Exception as exc:
        if not isinstance(exc, BulutpopError):
            log.exception("dialling failed")
        status.show_error(describe_error(exc, "dial"))
        return False
    status.show_success(
        QCoreApplication.translate(
            "place_call", "Your phone is ringing — pick up to call %1."
        ).replace("%1", dialled.number.display)
    )
    return True


async def edit_local_name(
    bridge: CoreBridge, parent: QWidget, number: str, status: StatusLine, ask: NameAsker
) -> bool:
    """Let the user set the name shown for `number` (a canonical key) everywhere; True
    when it changed. An empty name removes the user's own and brings back the address
    books' one."""
    shown = phone.display(number)
    current = bridge.name_for(number)
    typed = await ask(parent, shown, current)
    if typed is None or typed.strip() == current:
        return False
    name = typed.strip()
    own = bridge.local_name(number)
    if not name and not own:
        return False  # nothing of the user's to remove; the address books' name stays
    await bridge.set_local_name(number, name)
    if name:
        text = QCoreApplication.translate("edit_name", "%1 is now shown as “%2”.")
        status.show_success(text.replace("%1", shown).replace("%2", name), seconds=5)
    else:
        text = QCoreApplication.translate("edit_name", "%1 shows its address book name again.")
        status.show_success(text.replace("%1", shown), seconds=5)
    return True


def can_forget(number_key: str) -> bool:
    """Whether a number's records can be deleted: not an extension's, whose digits are
    part of too many other numbers (`erasable_digits`)."""
    try:
        erasable_digits(number_key)
    except NumberError:
        return False
    return True


class ForgetConfirmation(QMessageBox):
    """Asks before a number's records are deleted (KVKK erasure), naming what goes, and
    what stays at the PBX (and, in team mode, on colleagues' PCs) with what to do there."""

    def __init__(self, parent: QWidget, number: str, calls: int, team: bool) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Delete this number's records"))
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setIcon(QMessageBox.Icon.Warning)
        shown = phone.display(number)
        self.setText(self.tr("Delete everything this PC keeps about %1?").replace("%1", shown))
        what = [
            self.tr(
                "Deleted from this PC, for good: %n call(s) with this number in the history "
                "and the missed calls, the call events that mention it, its name (yours and "
                "the address books'), its missed-call marks and claims, and the recordings of "
                "its calls downloaded here.",
                "",
                calls,
            ),
            self.tr(
                "The PBX keeps its own copies: its call history and the recordings of these "
                "calls stay there. To erase them too, delete them in the PBX's web portal, "
                "with the number's contact in its phonebook (bulutpop reads it again every "
                "day), or ask the PBX provider to."
            ),
        ]
        if team:
            what.append(
                self.tr(
                    "Your colleagues' PCs and the team server keep theirs: the team server's "
                    "administrator erases the number everywhere in the team with “bulutpop "
                    "relay forget”."
                )
            )
        self.setInformativeText("\n\n".join(what))
        self.delete_button = self.addButton(
            self.tr("Delete"), QMessageBox.ButtonRole.DestructiveRole
        )
        self.setDefaultButton(self.addButton(QMessageBox.StandardButton.Cancel))


async def forget_number(
    bridge: CoreBridge, parent: QWidget, number: str, status: StatusLine
) -> bool:
    """Delete everything this PC keeps about `number` (a canonical key) once the user has
    confirmed it in a `ForgetConfirmation`; True when deleted."""
    box = ForgetConfirmation(parent, number, bridge.calls_with(number), bridge.config.team_mode)
    try:
        await dialog_result(box)
        if box.clickedButton() is not box.delete_button:
            return False
    finally:
        box.deleteLater()
    shown = phone.display(number)
    status.show_progress(
        QCoreApplication.translate("forget_number", "Deleting the records of %1…").replace(
            "%1", shown
        )
    )
    try:
        await bridge.forget(number)
    except Exception as exc:
        if not isinstance(exc, BulutpopError):
            log.exception("deleting a number's records failed")
        status.show_error(describe_error(exc))
        return False
    text = QCoreApplication.translate(
        "forget_number",
        "Deleted everything this PC kept about %1. The PBX still has its own copies.",
    )
    status.show_success(text.replace("%1", shown))
    return True

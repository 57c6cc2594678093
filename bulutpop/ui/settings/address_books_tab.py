"""The "Address books" tab (in the dialog, not the wizard): where callers' names come from,
the PBX's phonebook and the CSV or vCard files the user imported; adding and removing files,
and syncing the PBX's phonebook now (not from a team PC: that needs the API key)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QTreeWidget,
    QTreeWidgetItem,
)

from bulutpop.errors import AddressBookError, BulutpopError
from bulutpop.pbx.phonebook import PBX, VCARD
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.common.widgets import dialog_result
from bulutpop.ui.settings.shared import SettingsTab, Status, StatusTone, text_label

log = logging.getLogger(__name__)

# The address book files the user picked ([] when cancelled).
FileChooser = Callable[[], Awaitable[list[Path]]]


class AddressBooksTab(SettingsTab):
    """The list of address books and what can be done with them. ``choose_files``
    replaces the file dialog."""

    def __init__(
        self, bridge: CoreBridge, tasks: TaskSet, *, choose_files: FileChooser | None = None
    ) -> None:
        super().__init__(bridge, tasks)
        # None: the real file dialog.
        self._choose_files = choose_files
        self._books_busy = False

        self.books = QTreeWidget()
        self.books.setAccessibleName(self.tr("Address books"))
        self.books.setHeaderLabels(
            [self.tr("Address book"), self.tr("Type"), self.tr("Contacts"), self.tr("Updated")]
        )
        self.books.setRootIsDecorated(False)
        self.books.setUniformRowHeights(True)
        self.books.setAlternatingRowColors(True)
        self.books.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.books.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.books.itemSelectionChanged.connect(self._update_book_buttons)
        self.add_book_button = self._task_button(
            self.tr("Add address book…"),
            self.add_address_books,
            "settings-add-books",
            tip=self.tr("A CSV file with a header row, or a vCard file (.vcf)"),
        )
        self.remove_book_button = self._task_button(
            self.tr("Remove"), self.remove_address_book, "settings-remove-book"
        )
        self.sync_button = self._task_button(
            self.tr("Sync PBX phonebook now"), self.sync_phonebook, "settings-sync"
        )
        self.books_result = Status()
        self._show_books()
        intro = text_label(
            self.tr(
                "Callers' names come from the PBX's phonebook and from address books you "
                "add: a CSV file with a header row, or a vCard file. A name you edit in the "
                "missed calls or the history wins over both."
            ),
            "hint",
        )
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addWidget(self.add_book_button)
        buttons.addWidget(self.remove_book_button)
        buttons.addStretch(1)
        buttons.addWidget(self.sync_button)
        layout = self._lay_out(intro, self.books, buttons, self.books_result, stretch=False)
        # The list takes the height, not spare room under it.
        layout.setStretchFactor(self.books, 1)
        bridge.namesChanged.connect(self._show_books)

    def show_team_mode(self, team: bool) -> None:
        super().show_team_mode(team)
        self._update_book_buttons()

    def _show_books(self) -> None:
        selected = self._selected_book()
        self.books.clear()
        status = self._bridge.phonebook.status
        if status.error:
            updated = self.tr("Sync failed")
        elif status.last_sync is None:
            updated = self.tr("Not synced yet")
        else:
            updated = fmt.when(status.last_sync)
        pbx = QTreeWidgetItem(
            [self.tr("PBX phonebook"), self.tr("PBX"), str(status.contacts), updated]
        )
        pbx.setData(0, Qt.ItemDataRole.UserRole, (PBX, ""))
        if status.error is not None:
            pbx.setToolTip(3, describe_error(status.error))
        items = [pbx]
        for book in self._bridge.address_books():
            if book.source == PBX:
                continue
            kind = "vCard" if book.source == VCARD else "CSV"
            item = QTreeWidgetItem(
                [Path(book.origin).name, kind, str(book.contacts), fmt.when(book.updated_ts)]
            )
            item.setToolTip(0, book.origin)
            item.setData(0, Qt.ItemDataRole.UserRole, (book.source, book.origin))
            items.append(item)
        for item in items:
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.books.addTopLevelItems(items)
        for item in items:
            if tuple(item.data(0, Qt.ItemDataRole.UserRole)) == selected:
                item.setSelected(True)
        self._update_book_buttons()

    def _selected_book(self) -> tuple[str, str] | None:
        items = self.books.selectedItems()
        return tuple(items[0].data(0, Qt.ItemDataRole.UserRole)) if items else None

    def _update_book_buttons(self) -> None:
        book = self._selected_book()
        self.remove_book_button.setEnabled(
            book is not None and book[0] != PBX and not self._books_busy
        )
        self.add_book_button.setEnabled(not self._books_busy)
        # The PBX's phonebook is read with the API key, which a team PC does not hold.
        self.sync_button.setEnabled(not self._books_busy and not self._bridge.config.team_mode)

    def _set_books_busy(self, busy: bool) -> None:
        self._books_busy = busy
        self._update_book_buttons()

    async def _ask_files(self) -> list[Path]:
        dialog = QFileDialog(self, self.tr("Add address books"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters(
            [self.tr("Address books (*.csv *.vcf *.vcard)"), self.tr("All files (*)")]
        )
        try:
            if await dialog_result(dialog) != QDialog.DialogCode.Accepted:
                return []
            return [Path(name) for name in dialog.selectedFiles()]
        finally:
            dialog.deleteLater()

    async def add_address_books(self) -> str:
        """Import the CSV or vCard files the user picks; says what was read."""
        paths = await (self._choose_files or self._ask_files)()
        if not paths:
            return ""
        self._set_books_busy(True)
        done: list[str] = []
        failed: list[str] = []
        try:
            for path in paths:
                self.books_result.show_result(
                    "busy", self.tr("Reading %1…").replace("%1", path.name)
                )
                try:
                    result = await self._bridge.phonebook.import_file(path)
                except AddressBookError as exc:
                    failed.append(f"{path.name}: {exc}")
                    continue
                except Exception as exc:  # this file is not added; the others still may be
                    if not isinstance(exc, BulutpopError):
                        log.exception("importing an address book failed")
                    failed.append(f"{path.name}: {describe_error(exc)}")
                    continue
                done.append(
                    self.tr("%1: %n contact(s)", "", result.contacts).replace("%1", path.name)
                )
        finally:
            self._set_books_busy(False)
            self._show_books()
        lines = [self.tr("Added %1.").replace("%1", "; ".join(done))] if done else []
        if failed:
            lines.append(self.tr("Not added: %1").replace("%1", "; ".join(failed)))
        text = "\n".join(lines)
        self.books_result.show_result("error" if failed else "ok", text)
        return text

    async def remove_address_book(self) -> str:
        """Forget the selected imported file's names (the file itself stays)."""
        book = self._selected_book()
        if book is None or book[0] == PBX:
            return ""
        self._set_books_busy(True)
        try:
            await self._bridge.phonebook.remove_file(*book)
        finally:
            self._set_books_busy(False)
            self._show_books()
        text = self.tr("Removed %1.").replace("%1", Path(book[1]).name)
        self.books_result.show_result("ok", text)
        return text

    async def sync_phonebook(self) -> str:
        """Fetch the PBX's phonebook (and queue names) now; says how it went."""
        self._set_books_busy(True)
        self.books_result.show_result("busy", self.tr("Asking the PBX…"))
        phonebook = self._bridge.phonebook
        tone: StatusTone
        try:
            count = await phonebook.sync_pbx()
            with contextlib.suppress(BulutpopError):  # queue names are a nicety
                await phonebook.sync_queues()
        except Exception as exc:
            if not isinstance(exc, BulutpopError):
                log.exception("the phonebook sync failed")
            tone = "error"
            text = self.tr("The PBX phonebook was not synced: %1").replace(
                "%1", describe_error(exc)
            )
        else:
            tone, text = "ok", self.tr("The PBX phonebook has %n contact(s).", "", count)
        finally:
            self._set_books_busy(False)
            self._show_books()
        self.books_result.show_result(tone, text)
        return text

"""The call history's Qt model: every call, newest first, loaded a page at a time so a store
of 100,000 calls opens as fast as one of ten, new and changed calls folded in without a
reset; and the filter the window's search field, direction and "Missed only" make."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt
from PySide6.QtGui import QFont, QGuiApplication, QPalette

from bulutpop.calls import phone
from bulutpop.calls.model import Call
from bulutpop.storage.history import HistoryFilter
from bulutpop.storage.store import Note
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
from bulutpop.ui.common.theme import Tone, colour, muted, readable

PAGE_SIZE = 200

ARROWS = {"inbound": "↙", "outbound": "↗", "internal": "⇄"}


class Column(IntEnum):
    TIME = 0
    DIRECTION = 1
    PARTY = 2
    QUEUE = 3
    RESULT = 4
    DURATION = 5
    RECORDING = 6


@dataclass
class _Rows:
    calls: list[Call] = field(default_factory=list)
    by_uuid: dict[str, int] = field(default_factory=dict)

    def reindex(self) -> None:
        self.by_uuid = {call.call_uuid: row for row, call in enumerate(self.calls)}


class HistoryModel(QAbstractTableModel):
    """Calls from the store, newest first; `fetchMore` pulls the next page as the view
    scrolls, and `apply_changes` folds new and updated calls in without a reset."""

    CallRole = Qt.ItemDataRole.UserRole + 1  # the row's Call

    def __init__(
        self, bridge: CoreBridge, parent: QObject | None = None, page_size: int = PAGE_SIZE
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._page_size = page_size
        self._filter = HistoryFilter()
        self._query = bridge.history_terms(self._filter)
        self._rows = _Rows()
        # (name, company) by number, for the loaded rows.
        self._contacts: dict[str, tuple[str, str]] = {}
        self._notes: dict[str, Note] = {}  # caller notes, for the loaded rows
        self._colleagues: dict[str, str | None] = {}  # extension -> name, as shown
        self._total = 0
        self._wanted = 0  # rows the user asked for: the first page plus what they scrolled to
        bridge.namesChanged.connect(self.refresh_names)
        # A note written here, or a colleague's arriving from the team.
        bridge.notesChanged.connect(self.refresh_names)
        bridge.missedChanged.connect(self.refresh_names)
        self.reload()

    @property
    def filter(self) -> HistoryFilter:
        return self._filter

    def set_filter(self, value: HistoryFilter) -> None:
        if value != self._filter:
            self._filter = value
            self.requery()

    def requery(self) -> None:
        """Derive the store's terms again (a name search may now match other numbers)."""
        self._query = self._bridge.history_terms(self._filter)
        self.reload()

    def total(self) -> int:
        """Calls matching the filter, loaded or not."""
        return self._total

    def call(self, row: int) -> Call:
        return self._rows.calls[row]

    def reload(self) -> None:
        """Start again from the newest calls (the first page is loaded right away)."""
        bridge = self._bridge
        self.beginResetModel()
        self._total = bridge.count_calls(self._query)
        self._rows = _Rows(bridge.calls(self._query, self._page_size))
        self._rows.reindex()
        self._contacts = self._lookup(self._rows.calls)
        self._wanted = len(self._rows.calls)
        self.endResetModel()

    def refresh_names(self) -> None:
        """Look the loaded rows' names and notes up again (an address book, a name or a
        note changed)."""
        self._notes.clear()
        self._colleagues.clear()
        self._contacts = self._lookup(self._rows.calls)
        if self._rows.calls:
            last = len(self._rows.calls) - 1
            self.dataChanged.emit(self.index(0, Column.PARTY), self.index(last, Column.QUEUE))

    def _lookup(self, calls: Sequence[Call]) -> dict[str, tuple[str, str]]:
        """(name, company) by number for `calls`; their notes join the loaded ones."""
        keys = [call.party_key for call in calls]
        self._notes.update(self._bridge.notes_for(keys))
        return self._bridge.contacts_for(keys)

    def note(self, call: Call) -> str:
        """The note on the call's other side ("" when none)."""
        note = self._notes.get(call.party_key)
        return note.text if note else ""

    def colleague(self, extension: str) -> str:
        """A colleague as listed: their name when known, else the extension."""
        if extension not in self._colleagues:
            self._colleagues[extension] = self._bridge.colleague_name(extension)
        return self._colleagues[extension] or extension

    def canFetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and len(self._rows.calls) < self._total

    def fetchMore(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid():
            return
        loaded = len(self._rows.calls)
        wanted = min(self._page_size, self._total - loaded)
        # A call stored since the last page shifts offsets until `apply_changes` puts it on
        # top: rows already listed come back and are skipped, and reading goes on past them.
        page: list[Call] = []
        offset = loaded
        while len(page) < wanted:
            batch = self._bridge.calls(self._query, wanted - len(page), offset)
            if not batch:
                break
            offset += len(batch)
            page.extend(call for call in batch if call.call_uuid not in self._rows.by_uuid)
        if not page:
            self._total = loaded  # calls were deleted under us; stop asking
            return
        self._contacts.update(self._lookup(page))
        self.beginInsertRows(QModelIndex(), loaded, loaded + len(page) - 1)
        for row, call in enumerate(page, start=loaded):
            self._rows.by_uuid[call.call_uuid] = row
        self._rows.calls.extend(page)
        self._wanted = len(self._rows.calls)
        self.endInsertRows()

    def apply_changes(self, calls: Sequence[Call]) -> None:
        """Update loaded rows in place and put new calls on top; anything that does not fit
        that pattern (a call recovered from the past) reloads."""
        fresh = False
        # A call may bring the caller's name from the PBX.
        self._contacts.update(self._lookup([c for c in calls if c.call_uuid in self._rows.by_uuid]))
        for call in calls:
            row = self._rows.by_uuid.get(call.call_uuid)
            if row is None:
                fresh = True
                continue
            self._rows.calls[row] = call
            self.dataChanged.emit(self.index(row, 0), self.index(row, len(Column) - 1))
        if fresh:
            self._insert_newest()

    def _insert_newest(self) -> None:
        total = self._bridge.count_calls(self._query)
        added = total - self._total
        if added <= 0:
            return  # the new calls do not match the filter
        head = self._bridge.calls(self._query, added)
        if any(call.call_uuid in self._rows.by_uuid for call in head):
            self.reload()
            return
        self._contacts.update(self._lookup(head))
        self.beginInsertRows(QModelIndex(), 0, len(head) - 1)
        self._rows.calls[0:0] = head
        self._rows.reindex()
        self._total = total
        self.endInsertRows()
        self._trim()

    def _trim(self) -> None:
        """Fall back to the rows the user loaded once new calls on top add a page more: a
        window left open all day on a busy line must not hold every call of the day."""
        keep = self._wanted
        if len(self._rows.calls) <= keep + self._page_size:
            return
        self.beginRemoveRows(QModelIndex(), keep, len(self._rows.calls) - 1)
        del self._rows.calls[keep:]
        self._rows.reindex()
        listed = {call.party_key for call in self._rows.calls}
        self._contacts = {k: v for k, v in self._contacts.items() if k in listed}
        self.endRemoveRows()

    # -- Qt model interface ---------------------------------------------------------------

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows.calls)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        column = Column(section)
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                Column.TIME: self.tr("Time"),
                Column.DIRECTION: self.tr("Direction"),
                Column.PARTY: self.tr("Number"),
                Column.QUEUE: self.tr("Queue"),
                Column.RESULT: self.tr("Result"),
                Column.DURATION: self.tr("Duration"),
                Column.RECORDING: self.tr("Recording"),
            }[column]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment(column)
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        call = self._rows.calls[index.row()]
        column = Column(index.column())
        if role == self.CallRole:
            return call
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(call, column)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self._alignment(column)
        if role == Qt.ItemDataRole.ForegroundRole and column == Column.RESULT:
            palette = QGuiApplication.palette()
            if call.missed:
                return colour(Tone.MISSED, palette, QPalette.ColorRole.Base)
            if not call.ended:
                base = palette.color(QPalette.ColorRole.Base)
                return readable(palette.color(QPalette.ColorRole.Highlight), base)
            if not call.answered:
                return muted(palette)
        if role == Qt.ItemDataRole.ForegroundRole and column == Column.RECORDING:
            return QGuiApplication.palette().color(QPalette.ColorRole.Link)
        if role == Qt.ItemDataRole.FontRole and column == Column.RESULT and call.missed:
            bold = QFont()
            bold.setBold(True)
            return bold
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(call, column)
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._accessible_text(call, column)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return self._accessible_description(call)
        return None

    # -- for screen readers ----------------------------------------------------------------

    def _accessible_text(self, call: Call, column: Column) -> str | None:
        """The first cell reads the whole row ("Incoming, Ayşe Yılmaz · 0532 123 45 67,
        27.11.2026 14:32, Answered by you, 0:42"); the ▶ cell says what it means."""
        if column == Column.RECORDING:
            return self.tr("Has a recording") if call.recording else ""
        if column != Column.TIME:
            return None  # the shown text
        parts = [self.direction_text(call), self.party_text(call), fmt.full(call.start_ts)]
        if call.queue:
            parts.append(self._tooltip(call, Column.QUEUE) or "")
        parts += [self.result_text(call), self._display(call, Column.DURATION)]
        if call.recording:
            parts.append(self.tr("Has a recording"))
        return ", ".join(part for part in parts if part)

    def _accessible_description(self, call: Call) -> str:
        if call.recording:
            return self.tr("Space plays the recording, Enter calls the number, Ctrl+C copies it")
        return self.tr("Enter calls the number, Ctrl+C copies it")

    @staticmethod
    def _alignment(column: Column) -> Qt.AlignmentFlag:
        if column == Column.DURATION:
            return Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        if column == Column.RECORDING:
            return Qt.AlignmentFlag.AlignCenter
        return Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter

    def party_text(self, call: Call) -> str:
        """The other side as listed: "Ayşe Yılmaz (Acme) · 0532 123 45 67", or the number."""
        number = phone.display(call.party) if call.party else self.tr("Unknown number")
        name, company = self._contacts.get(call.party_key) or (call.name, "")
        if company and company != name:
            name = self.tr("%1 (%2)").replace("%1", name).replace("%2", company)
        text = f"{name} · {number}" if name else number
        note = self.note(call)
        return f"{text} · ✎ {note}" if note else text

    def direction_text(self, call: Call) -> str:
        return self.direction_label(call.direction) or "—"

    def direction_label(self, direction: str) -> str:
        words = {
            "inbound": self.tr("Incoming"),
            "outbound": self.tr("Outgoing"),
            "internal": self.tr("Internal"),
        }
        return f"{ARROWS[direction]} {words[direction]}" if direction in words else ""

    def result_text(self, call: Call) -> str:
        if call.state == "waiting":  # every leg heard of stopped ringing; not settled yet
            return self.tr("Waiting in the queue")
        if not call.ended:
            return self.tr("In call") if call.answered else self.tr("Ringing")
        if call.seen_by(self._bridge.config.my_extensions) == "answered_by_me":
            return self.tr("Answered by you")
        if call.answered:
            if not call.connected_user:
                return self.tr("Answered")
            return self.tr("Answered by %1").replace("%1", self.colleague(call.connected_user))
        return self.tr("Missed") if call.missed else self.tr("Not answered")

    def _display(self, call: Call, column: Column) -> str:
        if column == Column.TIME:
            return fmt.full(call.start_ts)
        if column == Column.DIRECTION:
            return self.direction_text(call)
        if column == Column.PARTY:
            return self.party_text(call)
        if column == Column.QUEUE:
            return self._bridge.queue_name(call.queue) if call.queue else ""
        if column == Column.RESULT:
            return self.result_text(call)
        if column == Column.DURATION:
            return fmt.duration(call.duration) if call.answered else ""
        # Reads as a link in the accent colour: one click plays (the window's `clicked`).
        return self.tr("▶ Play") if call.recording else ""

    def _tooltip(self, call: Call, column: Column) -> str | None:
        if column == Column.RECORDING and call.recording:
            return self.tr("Recorded: click to play")
        if column == Column.PARTY:
            return self.party_text(call)
        if column == Column.QUEUE and call.queue:
            return self.tr("Through queue %1").replace("%1", self._bridge.queue_name(call.queue))
        return None

"""The missed-call list's Qt model: the callers who could not reach the user (one group per
caller, newest first, from the store), with what the team is doing about them; it reloads
in the background whenever the list moves."""

from __future__ import annotations

import asyncio
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from bulutpop.calls import phone
from bulutpop.calls.model import MissedGroup
from bulutpop.storage.history import TextMatch
from bulutpop.storage.store import Note
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
from bulutpop.ui.common.tasks import TaskSet

if TYPE_CHECKING:  # bulutpop.team.link loads the MQTT client: only in team mode
    from bulutpop.team.link import Claim


# Callers the list holds at most (the most recent); more would only slow the window down.
LIST_LIMIT = 1000


class Column(IntEnum):
    CALLER = 0
    COUNT = 1
    LAST = 2
    QUEUE = 3
    ACTIONS = 4


class MissedModel(QAbstractTableModel):
    """Missed-call groups from the store, newest first; reloads whenever the list moves.

    While `held` (the pointer is over the list or it has keyboard focus) rows never move:
    a reload that would insert, remove or reorder rows waits, and `waitingChanged` tells
    how many new callers it brings, until the hold ends or `show_waiting` is called."""

    # New callers a held reload brings (0: nothing waits).
    waitingChanged = Signal(int)

    GroupRole = Qt.ItemDataRole.UserRole + 1  # the row's MissedGroup
    NoteRole = Qt.ItemDataRole.UserRole + 2  # second line of the caller cell
    DialingRole = Qt.ItemDataRole.UserRole + 3  # this row's callback is in flight
    BusyRole = Qt.ItemDataRole.UserRole + 4  # some callback is in flight

    def __init__(self, bridge: CoreBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._read = bridge.missed_reader()
        self._groups: list[MissedGroup] = []
        self._loaded: list[MissedGroup] = []  # before the search: `_groups` is what it finds
        self._contacts: dict[str, tuple[str, str]] = {}
        self._search = TextMatch("")
        self._held = False
        self._notes: dict[str, Note] = {}
        self._waiting: (
            tuple[list[MissedGroup], dict[str, tuple[str, str]], dict[str, Note]] | None
        ) = None
        self._claims: dict[str, Claim] = {}
        self._show_resolved = False
        self._dialing: str | None = None
        self._stale = False
        self._loading: asyncio.Task[None] | None = None
        self.tasks = TaskSet()
        bridge.missedChanged.connect(self.refresh)
        bridge.namesChanged.connect(self.refresh)
        self.reload()

    @property
    def show_resolved(self) -> bool:
        return self._show_resolved

    @show_resolved.setter
    def show_resolved(self, value: bool) -> None:
        if value != self._show_resolved:
            self._show_resolved = value
            self.refresh()

    @property
    def held(self) -> bool:
        return self._held

    @held.setter
    def held(self, value: bool) -> None:
        if value != self._held:
            self._held = value
            if not value:
                self.show_waiting()

    def show_waiting(self) -> None:
        """Show the reload that waited while the list was held."""
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            self.waitingChanged.emit(0)
            self._reset(*waiting, force=True)

    def set_search(self, text: str) -> None:
        """Keep the callers `text` finds (history_terms' rules, see TextMatch)."""
        if text != self._search.text:
            self._search = TextMatch(text)
            self._reset(self._loaded, self._contacts, self._notes, force=True)

    def found(self, group: MissedGroup) -> bool:
        name, company = self._contacts.get(group.number, ("", ""))
        note = self._notes.get(group.number)
        return self._search.matches(
            group.number,
            (group.party, group.display),
            (name, company, group.name, note.text if note else ""),
        )

    def note(self, group: MissedGroup) -> str:
        """The caller's note ("" when none)."""
        note = self._notes.get(group.number)
        return note.text if note else ""

    def reload(self) -> None:
        """Load on this thread, for a first view that never flashes the empty state."""
        self._reset(*self._read(self._show_resolved, LIST_LIMIT))

    def refresh(self) -> None:
        """Load in the background (with resolved groups the query reads every missed call
        ever stored); the rows shown stay until the new ones are ready. A burst of changes
        costs at most one more query after the one running."""
        self._stale = True
        if self._loading is None or self._loading.done():
            self._loading = self.tasks.start(self._load(), name="missed calls refresh")

    async def settled(self) -> None:
        """Wait until every change so far is shown (the bridge tells a burst's last a
        moment later)."""
        await self._bridge.missed_told()
        await self.tasks.drain()

    async def _load(self) -> None:
        loop = asyncio.get_running_loop()
        while self._stale:
            self._stale = False
            include = self._show_resolved
            # The worker gets a plain function over the store (`CoreBridge.missed_reader`).
            read = await loop.run_in_executor(None, self._read, include, LIST_LIMIT)
            if include == self._show_resolved:
                self._reset(*read)

    def _reset(
        self,
        loaded: list[MissedGroup],
        contacts: dict[str, tuple[str, str]],
        notes: dict[str, Note],
        force: bool = False,
    ) -> None:
        # Claims arrive as missedChanged too; a handful of rows, read with the groups.
        claims = self._bridge.claims() if self._bridge.config.team_mode else {}
        previous = self._contacts, self._notes
        self._contacts, self._notes = contacts, notes
        searching = bool(self._search.text.strip())
        groups = [group for group in loaded if self.found(group)] if searching else loaded
        same_rows = [(g.number, g.resolved_ts) for g in groups] == [
            (g.number, g.resolved_ts) for g in self._groups
        ]
        if same_rows and self._groups:
            # Nothing moves: the rows are updated where they are, held or not.
            self._loaded, self._groups, self._claims = loaded, groups, claims
            if self._waiting is not None:
                self._waiting = None
                self.waitingChanged.emit(0)
            self.dataChanged.emit(self.index(0, 0), self.index(len(groups) - 1, len(Column) - 1))
            return
        if self._held and not force:
            self._contacts, self._notes = previous
            self._waiting = (loaded, contacts, notes)
            shown = {g.number for g in self._groups}
            self.waitingChanged.emit(len({g.number for g in groups if not g.resolved} - shown))
            return
        self.beginResetModel()
        self._loaded = loaded
        self._groups = groups
        self._claims = claims
        self.endResetModel()

    def claimed_by(self, group: MissedGroup) -> Claim | None:
        """Who on the team is calling this open group's caller back (None when nobody)."""
        return None if group.resolved else self._claims.get(group.number)

    def group(self, row: int) -> MissedGroup:
        return self._groups[row]

    def row_of(self, number: str) -> int | None:
        """The row of a caller's open group (or, failing that, their latest resolved one)."""
        rows = [i for i, g in enumerate(self._groups) if g.number == number]
        return rows[0] if rows else None

    def row_of_group(self, group: MissedGroup) -> int | None:
        return self._groups.index(group) if group in self._groups else None

    @property
    def busy_number(self) -> str | None:
        """The caller being dialled right now, if any."""
        return self._dialing

    def set_dialing(self, number: str | None) -> None:
        self._dialing = number
        if self._groups:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._groups) - 1, len(Column) - 1)
            )

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._groups)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return {
                Column.CALLER: self.tr("Caller"),
                Column.COUNT: self.tr("Calls"),
                Column.LAST: self.tr("Last call"),
                Column.QUEUE: self.tr("Queue"),
                Column.ACTIONS: "",
            }[Column(section)]
        if role == Qt.ItemDataRole.TextAlignmentRole and section == Column.COUNT:
            return Qt.AlignmentFlag.AlignCenter
        return None

    def name(self, group: MissedGroup) -> str:
        """The caller's name when known (the user's, an address book's or the PBX's)."""
        return self._contacts.get(group.number, ("", ""))[0]

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid():
            return None
        group = self._groups[index.row()]
        column = Column(index.column())
        if role == self.GroupRole:
            return group
        if role == self.DialingRole:
            return self._dialing == group.number
        if role == self.BusyRole:
            return self._dialing is not None
        if role == self.NoteRole:
            return self._note(group)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(group, column)
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(group, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column == Column.COUNT:
            return Qt.AlignmentFlag.AlignCenter
        if role == Qt.ItemDataRole.AccessibleTextRole:
            return self._accessible_text(group, column)
        if role == Qt.ItemDataRole.AccessibleDescriptionRole:
            return self._accessible_description(group)
        return None

    # -- for screen readers ----------------------------------------------------------------

    def _accessible_text(self, group: MissedGroup, column: Column) -> str | None:
        """The caller's cell reads the whole row ("Missed call, 0532 123 45 67, Ayşe
        Yılmaz, 3 times, last 14:05, queue Satış"); the buttons' cell names its keys."""
        if column == Column.ACTIONS:
            return self.tr("Enter calls back, Delete marks done, Ctrl+C copies the number")
        if column != Column.CALLER:
            return None  # the shown text
        name = self.name(group)
        who = ", ".join(part for part in (group.display, name) if part)
        text = (
            self.tr("Missed call, %1, %n time(s), last %2", "", group.count)
            .replace("%1", who or self.tr("unknown number"))
            .replace("%2", fmt.when(group.last_ts))
        )
        if group.queue:
            text += ", " + self.tr("queue %1").replace("%1", self._bridge.queue_name(group.queue))
        return text

    def _accessible_description(self, group: MissedGroup) -> str:
        """The row's second line: the number and company under a name, and what is
        happening or happened (a callback under way, who resolved it and when)."""
        return self._note(group)

    def _display(self, group: MissedGroup, column: Column) -> str:
        if column == Column.CALLER:
            if phone.withheld(group.party):
                return self.tr("Hidden number")
            return self.name(group) or group.display
        if column == Column.COUNT:
            return str(group.count)
        if column == Column.LAST:
            return fmt.when(group.last_ts)
        if column == Column.QUEUE:
            return self._bridge.queue_name(group.queue) if group.queue else ""
        return ""

    def _claim_text(self, claim: Claim) -> str:
        """Who holds a colleague's claim, and since when."""
        text = self.tr("%1 is calling back").replace("%1", claim.display)
        if not claim.at:
            return text
        return (
            self.tr("%1 (claimed %2)", "%2: '5 min ago', '14:32'")
            .replace("%1", text)
            .replace("%2", fmt.ago(claim.at))
        )

    def _note(self, group: MissedGroup) -> str:
        """The number (and company) when a name took the first line, then what is
        happening or happened."""
        name, company = self._contacts.get(group.number, ("", ""))
        parts = [group.display] if name else []
        if company and company != name:
            parts.append(company)
        if self._dialing == group.number:
            parts.append(self.tr("Calling… your phone will ring"))
        elif claim := self.claimed_by(group):
            parts.append(self.tr("You are calling back") if claim.mine else self._claim_text(claim))
        elif group.resolved_ts is not None:
            when = fmt.when(group.resolved_ts)
            text = {
                "callback": self.tr("Called back %1"),
                "answered": self.tr("Answered %1"),
                "user": self.tr("Marked done %1"),
            }.get(group.resolved_by, self.tr("Resolved %1"))
            parts.append(text.replace("%1", when))
        if note := self.note(group):
            parts.append(f"✎ {note}")
        return " · ".join(parts)

    def _tooltip(self, group: MissedGroup, column: Column) -> str | None:
        if column == Column.CALLER and (note := self.note(group)):
            return self.tr("Note: %1").replace("%1", note)
        if column == Column.COUNT:
            if group.count == 1:
                return self.tr("1 missed call at %1").replace("%1", fmt.full(group.last_ts))
            return (
                self.tr("%1 missed calls, first at %2")
                .replace("%1", str(group.count))
                .replace("%2", fmt.full(group.first_ts))
            )
        if column == Column.LAST:
            return fmt.full(group.last_ts)
        return None


def hidden(group: MissedGroup) -> bool:
    """A caller without a number (withheld, or words): nothing to call back or copy."""
    return not phone.dialable(group.party)

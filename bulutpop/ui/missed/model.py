"""The missed-call list's Qt model: the callers who could not reach the user (one group per
caller, newest first, from the store), with what the team is doing about them; it reloads
in the background whenever the list moves."""

from __future__ import annotations

import asyncio
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from bulutpop.calls.model import MissedGroup
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
    """Missed-call groups from the store, newest first; reloads whenever the list moves."""

    GroupRole = Qt.ItemDataRole.UserRole + 1  # the row's MissedGroup
    NoteRole = Qt.ItemDataRole.UserRole + 2  # second line of the caller cell
    DialingRole = Qt.ItemDataRole.UserRole + 3  # this row's callback is in flight
    BusyRole = Qt.ItemDataRole.UserRole + 4  # some callback is in flight

    def __init__(self, bridge: CoreBridge, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._read = bridge.missed_reader()
        self._groups: list[MissedGroup] = []
        self._contacts: dict[str, tuple[str, str]] = {}
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
        """Wait until every change signalled so far is shown."""
        await self.tasks.drain()

    async def _load(self) -> None:
        loop = asyncio.get_running_loop()
        while self._stale:
            self._stale = False
            include = self._show_resolved
            # The worker gets a plain function over the store (`CoreBridge.missed_reader`).
            groups, contacts = await loop.run_in_executor(None, self._read, include, LIST_LIMIT)
            if include == self._show_resolved:
                self._reset(groups, contacts)

    def _reset(self, groups: list[MissedGroup], contacts: dict[str, tuple[str, str]]) -> None:
        # Claims arrive as missedChanged too; a handful of rows, read with the groups.
        claims = self._bridge.claims() if self._bridge.config.team_mode else {}
        self.beginResetModel()
        self._groups = groups
        self._contacts = contacts
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
        if role == Qt.ItemDataRole.AccessibleTextRole and column == Column.CALLER:
            return " ".join(filter(None, [self._display(group, column), self._note(group)]))
        return None

    def _display(self, group: MissedGroup, column: Column) -> str:
        if column == Column.CALLER:
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
        return " · ".join(parts)

    def _tooltip(self, group: MissedGroup, column: Column) -> str | None:
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

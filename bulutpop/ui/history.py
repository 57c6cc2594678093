"""The call-history window: every call, newest first, loaded a page at a time so a store of
100,000 calls opens as fast as one of ten; searchable by number (any way it is written) or
name (the PBX's, an address book's or the user's own), filtered by direction or to missed
calls, with "Play" and "Call" on a selected row and "Edit name…" in its menu."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QFont,
    QGuiApplication,
    QKeySequence,
    QPalette,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from bulutpop.calls import phone
from bulutpop.calls.model import Call
from bulutpop.calls.phone import NumberError
from bulutpop.calls.tracker import Change
from bulutpop.local.config import Config
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
from bulutpop.ui.common.actions import (
    RowActions,
    copy_number,
    edit_local_name,
    list_view,
    place_call,
    queue_width,
    selected_row,
)
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.common.widgets import (
    MISSED_COLOR,
    NameAsker,
    StatusLine,
    ask_name,
    heading,
    hint,
    muted,
)

PAGE_SIZE = 200
SEARCH_DELAY_MS = 150
# Changes arriving within this time are applied together: a busy queue posts several events
# a second, and one model update per burst keeps scrolling smooth.
CHANGE_DELAY_MS = 250

_ARROWS = {"inbound": "↙", "outbound": "↗", "internal": "⇄"}
# Text that can only be a number being typed: searched by its digits, so "532 123" finds
# "05321234567" as well as "+905321234567".
_NUMBERISH = re.compile(r"\+?[0-9\s().\-/]+")


@dataclass(frozen=True)
class HistoryFilter:
    search: str = ""
    direction: str = ""  # "" (all) | inbound | outbound | internal
    missed_only: bool = False
    # Numbers whose address-book or edited name matches `search` (Store.keys_named): the
    # calls table only holds the name the PBX gave.
    name_keys: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.search.strip() or self.direction or self.missed_only)

    def query(self) -> dict[str, Any]:
        """Keyword arguments for Store.calls / Store.count_calls."""
        text = self.search.strip()
        search = text
        keys: tuple[str, ...] = ()
        if text:
            with contextlib.suppress(NumberError):  # not a number: a name, or part of one
                keys = (phone.parse(text).key,)
            if _NUMBERISH.fullmatch(text):
                search = "".join(c for c in text if c.isdigit()) or text
        return {
            "missed_only": self.missed_only,
            "direction": self.direction,
            "search": search,
            "search_keys": keys + self.name_keys,
        }


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
        self._query = self._filter.query()
        self._rows = _Rows()
        # (name, company) by number, for the loaded rows.
        self._contacts: dict[str, tuple[str, str]] = {}
        self._total = 0
        self._wanted = 0  # rows the user asked for: the first page plus what they scrolled to
        bridge.namesChanged.connect(self.refresh_names)
        self.reload()

    @property
    def filter(self) -> HistoryFilter:
        return self._filter

    def set_filter(self, value: HistoryFilter) -> None:
        if value != self._filter:
            self._filter = value
            self._query = value.query()
            self.reload()

    def total(self) -> int:
        """Calls matching the filter, loaded or not."""
        return self._total

    def call(self, row: int) -> Call:
        return self._rows.calls[row]

    def reload(self) -> None:
        """Start again from the newest calls (the first page is loaded right away)."""
        store = self._bridge.core.store
        self.beginResetModel()
        self._total = store.count_calls(**self._query)
        self._rows = _Rows(store.calls(limit=self._page_size, offset=0, **self._query))
        self._rows.reindex()
        self._contacts = self._lookup(self._rows.calls)
        self._wanted = len(self._rows.calls)
        self.endResetModel()

    def refresh_names(self) -> None:
        """Look the loaded rows' names up again (an address book or a name changed)."""
        self._contacts = self._lookup(self._rows.calls)
        if self._rows.calls:
            last = len(self._rows.calls) - 1
            self.dataChanged.emit(self.index(0, Column.PARTY), self.index(last, Column.QUEUE))

    def _lookup(self, calls: Sequence[Call]) -> dict[str, tuple[str, str]]:
        return self._bridge.contacts_for([call.party_key for call in calls])

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
            batch = self._bridge.core.store.calls(
                limit=wanted - len(page), offset=offset, **self._query
            )
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
        store = self._bridge.core.store
        total = store.count_calls(**self._query)
        added = total - self._total
        if added <= 0:
            return  # the new calls do not match the filter
        head = store.calls(limit=added, offset=0, **self._query)
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
            if call.missed:
                return MISSED_COLOR
            if not call.ended:
                return QGuiApplication.palette().color(QPalette.ColorRole.Highlight)
            if not call.answered:
                return muted(QGuiApplication.palette())
        if role == Qt.ItemDataRole.FontRole and column == Column.RESULT and call.missed:
            bold = QFont()
            bold.setBold(True)
            return bold
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(call, column)
        return None

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
        return f"{name} · {number}" if name else number

    def direction_text(self, call: Call) -> str:
        return self.direction_label(call.direction) or "—"

    def direction_label(self, direction: str) -> str:
        words = {
            "inbound": self.tr("Incoming"),
            "outbound": self.tr("Outgoing"),
            "internal": self.tr("Internal"),
        }
        return f"{_ARROWS[direction]} {words[direction]}" if direction in words else ""

    def result_text(self, call: Call) -> str:
        if not call.ended:
            return self.tr("In call") if call.answered else self.tr("Ringing")
        if call.answered:
            if not call.connected_user:
                return self.tr("Answered")
            if call.connected_user in self._bridge.config.my_extensions:
                return self.tr("Answered by you")
            return self.tr("Answered by %1").replace("%1", call.connected_user)
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
        return "▶" if call.recording else ""

    def _tooltip(self, call: Call, column: Column) -> str | None:
        if column == Column.RECORDING and call.recording:
            return self.tr("Recorded: double-click to play")
        if column == Column.PARTY:
            return self.party_text(call)
        if column == Column.QUEUE and call.queue:
            return self.tr("Through queue %1").replace("%1", self._bridge.queue_name(call.queue))
        return None


class HistoryWindow(QWidget):
    """Call history with search and filters. Emits `playRequested(Call)` for a recorded call;
    the app connects it to the player."""

    playRequested = Signal(object)

    def __init__(
        self, bridge: CoreBridge, parent: QWidget | None = None, *, ask: NameAsker = ask_name
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.tasks = TaskSet()
        self._ask = ask
        self._calling = False
        self._pending: list[Call] = []
        self._dirty = False
        self.setWindowTitle(self.tr("Call history"))
        self.resize(1000, 560)

        self.model = HistoryModel(bridge, self)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search by number or name"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(260)
        self.direction = QComboBox()
        for text, value in (
            (self.tr("All directions"), ""),
            (self.tr("Incoming"), "inbound"),
            (self.tr("Outgoing"), "outbound"),
            (self.tr("Internal"), "internal"),
        ):
            self.direction.addItem(text, value)
        self.missed_only = QCheckBox(self.tr("Missed only"))
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        palette = self.summary.palette()
        palette.setColor(QPalette.ColorRole.WindowText, muted(palette))
        self.summary.setPalette(palette)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.apply_filter)
        self.search.textChanged.connect(lambda: self._search_timer.start())
        self.search.returnPressed.connect(self.apply_filter)
        self.direction.currentIndexChanged.connect(self.apply_filter)
        self.missed_only.toggled.connect(self.apply_filter)

        self.view = self._make_view()
        self.empty = self._make_empty_state()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)

        self.status = StatusLine()
        self.play_button = QPushButton(self.tr("Play"))
        self.play_button.setToolTip(self.tr("Listen to the recording of the selected call"))
        self.play_button.clicked.connect(lambda: self.row_actions.run(self._play))
        self.call_button = QPushButton(self.tr("Call"))
        self.call_button.setToolTip(self.tr("Ring your phone, then dial the selected number"))
        self.call_button.clicked.connect(lambda: self.row_actions.run(self._start_call))

        header = QHBoxLayout()
        header.addWidget(heading(self.tr("Call history")))
        header.addStretch(1)
        header.addWidget(self.summary, 0, Qt.AlignmentFlag.AlignBottom)
        toolbar = QHBoxLayout()
        toolbar.setSpacing(8)
        toolbar.addWidget(self.search, 1)
        toolbar.addWidget(self.direction)
        toolbar.addSpacing(4)
        toolbar.addWidget(self.missed_only)
        footer = QHBoxLayout()
        footer.addWidget(self.status, 1)
        footer.addWidget(self.play_button)
        footer.addWidget(self.call_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(header)
        layout.addLayout(toolbar)
        layout.addWidget(self.stack, 1)
        layout.addLayout(footer)

        self._change_timer = QTimer(self)
        self._change_timer.setSingleShot(True)
        self._change_timer.setInterval(CHANGE_DELAY_MS)
        self._change_timer.timeout.connect(self._apply_pending)
        bridge.changed.connect(self._on_change)
        bridge.configChanged.connect(self._on_config)
        bridge.namesChanged.connect(self._on_names)

        for signal in (self.model.modelReset, self.model.rowsInserted):
            signal.connect(self._update_state)
        # A ringing call gains its recording flag at hangup: the row's buttons follow.
        self.model.dataChanged.connect(self._update_buttons)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self._update_state()

        focus = QAction(self)
        focus.setShortcut(QKeySequence.StandardKey.Find)
        focus.triggered.connect(lambda: self.search.setFocus(Qt.FocusReason.ShortcutFocusReason))
        self.addAction(focus)

    def _make_view(self) -> QTableView:
        view = list_view(self.model, lines=1, padding=14)
        header = view.horizontalHeader()
        metrics = view.fontMetrics()
        widths = {
            Column.TIME: metrics.horizontalAdvance("30.12.2099 23:59") + 28,
            Column.DIRECTION: max(
                metrics.horizontalAdvance(self.model.direction_label(direction))
                for direction in _ARROWS
            )
            + 28,
            Column.RESULT: metrics.horizontalAdvance(self.tr("Answered by %1")) + 40,
            Column.DURATION: metrics.horizontalAdvance(self.tr("Duration")) + 28,
            Column.RECORDING: metrics.horizontalAdvance(self.tr("Recording")) + 24,
            Column.QUEUE: queue_width(self.bridge, view),
        }
        for column, width in widths.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            view.setColumnWidth(column, width)
        header.setSectionResizeMode(Column.PARTY, QHeaderView.ResizeMode.Stretch)
        view.setMinimumWidth(sum(widths.values()) + 20 * metrics.averageCharWidth())
        view.doubleClicked.connect(lambda index: self._play(self.model.call(index.row())))

        self.row_actions = rows = RowActions(view, self._selected_call)
        self.play_action = rows.add(self.tr("Play recording"), self._play, Qt.Key.Key_Space)
        self.call_action = rows.add(self.tr("Call"), self._start_call, Qt.Key.Key_Return)
        self.copy_action = rows.add(
            self.tr("Copy number"), self._copy, QKeySequence.StandardKey.Copy
        )
        self.edit_name_action = rows.add(
            self.tr("Edit name…"), self._start_edit_name, Qt.Key.Key_F2
        )
        rows.set_menu(
            [self.play_action, self.call_action, self.copy_action], [self.edit_name_action]
        )
        return view

    def _make_empty_state(self) -> QWidget:
        page = QWidget()
        self.empty_headline = QLabel()
        font = self.empty_headline.font()
        font.setPointSizeF(font.pointSizeF() * 1.25)
        font.setBold(True)
        self.empty_headline.setFont(font)
        self.empty_headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_detail = hint()
        self.clear_filters = QPushButton(self.tr("Clear filters"))
        self.clear_filters.clicked.connect(self.reset_filters)
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(self.empty_headline)
        layout.addWidget(self.empty_detail)
        layout.addWidget(self.clear_filters, 0, Qt.AlignmentFlag.AlignCenter)
        layout.addStretch(2)
        return page

    # -- public ---------------------------------------------------------------------------

    def status_text(self) -> str:
        return self.status.text()

    def is_empty(self) -> bool:
        return self.stack.currentWidget() is self.empty

    def apply_filter(self) -> None:
        """Show the calls matching the search field, direction and "Missed only" now
        (typing applies them after a short pause)."""
        self._search_timer.stop()
        text = self.search.text()
        self.model.set_filter(
            HistoryFilter(
                search=text,
                direction=str(self.direction.currentData()),
                missed_only=self.missed_only.isChecked(),
                name_keys=self._keys_named(text),
            )
        )

    def _keys_named(self, text: str) -> tuple[str, ...]:
        """Numbers whose name in an address book (or the user's) contains `text`."""
        text = text.strip()
        if not text or _NUMBERISH.fullmatch(text):
            return ()
        return tuple(self.bridge.core.store.keys_named(text))

    def reset_filters(self) -> None:
        for widget in (self.search, self.direction, self.missed_only):
            widget.blockSignals(True)
        self.search.clear()
        self.direction.setCurrentIndex(0)
        self.missed_only.setChecked(False)
        for widget in (self.search, self.direction, self.missed_only):
            widget.blockSignals(False)
        self.apply_filter()

    def play(self, row: int) -> None:
        """Ask for the recording of `row` to be played (rows without one are ignored)."""
        self._play(self.model.call(row))

    async def call(self, row: int) -> None:
        """Dial the other side of `row`; one call at a time, like the missed-calls window."""
        await self._dial(self.model.call(row))

    def copy(self, row: int) -> None:
        self._copy(self.model.call(row))

    async def edit_name(self, row: int) -> bool:
        """Ask for the name to show for the other side of `row`, on this PC; True if it
        changed (every window shows it)."""
        return await self._edit_name(self.model.call(row))

    # -- internals ------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        if self._dirty:
            self._dirty = False
            self._pending.clear()
            self.model.reload()
        super().showEvent(event)

    def _on_change(self, change: Change) -> None:
        if change.call is None:
            return
        if not self.isVisible():
            # Hidden windows do no work per call; showing the window reloads once.
            self._dirty = True
            return
        self._pending.append(change.call)
        if not self._change_timer.isActive():
            self._change_timer.start()

    def _apply_pending(self) -> None:
        pending, self._pending = self._pending, []
        if not self.isVisible():
            # Closed since the changes came in (perhaps the app is quitting): reload on show.
            self._dirty = True
            return
        self.model.apply_changes(pending)

    def _on_config(self, _config: Config) -> None:
        # New extensions re-derive which calls were missed and who answered "you".
        if self.isVisible():
            self.model.reload()
        else:
            self._dirty = True

    def _play(self, call: Call) -> None:
        if call.recording:
            self.playRequested.emit(call)

    async def _dial(self, call: Call) -> None:
        if self._calling:
            return
        self._calling = True
        self._update_buttons()
        try:
            await place_call(self.bridge, call.party, self.status)
        finally:
            self._calling = False
            self._update_buttons()

    def _start_call(self, call: Call) -> None:
        self.tasks.start(self._dial(call), name="call from history")

    async def _edit_name(self, call: Call) -> bool:
        if not call.party:
            return False
        return await edit_local_name(self.bridge, self, call.party_key, self.status, self._ask)

    def _start_edit_name(self, call: Call) -> None:
        self.tasks.start(self._edit_name(call), name="edit name")

    def _on_names(self) -> None:
        # A name search may now match other numbers.
        if self.search.text().strip():
            self.apply_filter()

    def _copy(self, call: Call) -> None:
        copy_number(phone.display(call.party), self.status)

    def _selected_call(self) -> Call | None:
        row = selected_row(self.view)
        return None if row is None else self.model.call(row)

    def _update_buttons(self) -> None:
        call = self._selected_call()
        can_play = call is not None and call.recording
        can_call = call is not None and bool(call.party) and not self._calling
        self.play_button.setEnabled(can_play)
        self.play_action.setEnabled(can_play)
        self.call_button.setEnabled(can_call)
        self.call_action.setEnabled(can_call)
        self.copy_action.setEnabled(call is not None and bool(call.party))
        self.edit_name_action.setEnabled(call is not None and bool(call.party))

    def _update_state(self) -> None:
        total = self.model.total()
        self.summary.setText(
            self.tr("1 call")
            if total == 1
            else self.tr("%1 calls").replace("%1", QLocale().toString(total))
        )
        if self.model.rowCount():
            self.stack.setCurrentWidget(self.view)
        else:
            filtered = self.model.filter.active
            self.empty_headline.setText(
                self.tr("No calls match.") if filtered else self.tr("No calls yet.")
            )
            self.empty_detail.setText(
                self.tr("Try another number or name, or clear the filters.")
                if filtered
                else self.tr("Calls to and from your extension will be listed here.")
            )
            self.clear_filters.setVisible(filtered)
            self.stack.setCurrentWidget(self.empty)
        self._update_buttons()

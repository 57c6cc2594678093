"""The call-history window: every call, newest first, loaded a page at a time so a store of
100,000 calls opens as fast as one of ten; searchable by number (any way it is written) or
name (the PBX's, an address book's or the user's own), filtered by direction or to missed
calls, with "Play" and "Call" on a selected row and "Edit name…" in its menu."""

from __future__ import annotations

from PySide6.QtCore import QLocale, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QPalette, QShowEvent
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
from bulutpop.calls.tracker import Change
from bulutpop.local.config import Config
from bulutpop.storage.history import HistoryFilter
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.actions import (
    RowActions,
    can_forget,
    copy_number,
    edit_local_name,
    forget_number,
    list_view,
    place_call,
    queue_width,
    selected_row,
)
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.common.widgets import NameAsker, StatusLine, ask_name, heading, hint, muted
from bulutpop.ui.history.model import ARROWS, Column, HistoryModel
from bulutpop.ui.notes import ask_note, edit_note

SEARCH_DELAY_MS = 150
# Changes arriving within this time are applied together: a busy queue posts several events
# a second, and one model update per burst keeps scrolling smooth.
CHANGE_DELAY_MS = 250


class HistoryWindow(QWidget):
    """Call history with search and filters. Emits `playRequested(Call)` for a recorded call;
    the app connects it to the player."""

    playRequested = Signal(object)

    def __init__(
        self,
        bridge: CoreBridge,
        parent: QWidget | None = None,
        *,
        ask: NameAsker = ask_name,
        ask_note: NameAsker = ask_note,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.tasks = TaskSet()
        self._ask = ask
        self._ask_note = ask_note
        self._calling = False
        self._pending: list[Call] = []
        self._dirty = False
        self.setWindowTitle(self.tr("Call history"))
        self.resize(1000, 560)

        self.model = HistoryModel(bridge, self)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search by number or name"))
        self.search.setAccessibleName(self.search.placeholderText())
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
        bridge.recordsDeleted.connect(self._reload)
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
        view.setAccessibleName(self.tr("Call history"))
        header = view.horizontalHeader()
        metrics = view.fontMetrics()
        widths = {
            Column.TIME: metrics.horizontalAdvance("30.12.2099 23:59") + 28,
            Column.DIRECTION: max(
                metrics.horizontalAdvance(self.model.direction_label(direction))
                for direction in ARROWS
            )
            + 28,
            Column.RESULT: metrics.horizontalAdvance(self.tr("Answered by %1")) + 40,
            Column.DURATION: metrics.horizontalAdvance(self.tr("Duration")) + 28,
            Column.RECORDING: max(
                metrics.horizontalAdvance(text)
                for text in (self.tr("Recording"), self.model.tr("▶ Play"))
            )
            + 24,
            Column.QUEUE: queue_width(self.bridge, view),
        }
        for column, width in widths.items():
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Interactive)
            view.setColumnWidth(column, width)
        header.setSectionResizeMode(Column.PARTY, QHeaderView.ResizeMode.Stretch)
        view.setMinimumWidth(sum(widths.values()) + 20 * metrics.averageCharWidth())
        view.doubleClicked.connect(lambda index: self._play(self.model.call(index.row())))
        # ▶ plays on a single click, like the button it looks like.
        view.clicked.connect(self._on_click)

        self.row_actions = rows = RowActions(view, self._selected_call)
        self.play_action = rows.add(self.tr("Play recording"), self._play, Qt.Key.Key_Space)
        self.call_action = rows.add(self.tr("Call"), self._start_call, Qt.Key.Key_Return)
        self.copy_action = rows.add(
            self.tr("Copy number"), self._copy, QKeySequence.StandardKey.Copy
        )
        self.edit_name_action = rows.add(
            self.tr("Edit name…"), self._start_edit_name, Qt.Key.Key_F2
        )
        self.forget_action = rows.add(self.tr("Delete this number's records…"), self._forget)
        self.note_action = rows.add(self.tr("Note…"), self._start_edit_note)
        rows.set_menu(
            [self.play_action, self.call_action, self.copy_action],
            [self.note_action, self.edit_name_action, self.forget_action],
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
            )
        )

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
        self._reload()

    def _reload(self) -> None:
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

    def _on_click(self, index: QModelIndex) -> None:
        if index.column() == Column.RECORDING:
            self._play(self.model.call(index.row()))

    def _start_edit_note(self, call: Call) -> None:
        if phone.dialable(call.party):
            self.tasks.start(
                edit_note(self.bridge, self, call.party_key, self.status, self._ask_note),
                name="edit note",
            )

    def _start_edit_name(self, call: Call) -> None:
        self.tasks.start(self._edit_name(call), name="edit name")

    def _forget(self, call: Call) -> None:
        if can_forget(call.party_key):
            self.tasks.start(
                forget_number(self.bridge, self, call.party_key, self.status),
                name="delete records",
            )

    def _on_names(self) -> None:
        # A name search may now match other numbers.
        if self.search.text().strip():
            self.apply_filter()
            self.model.requery()

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
        self.note_action.setEnabled(call is not None and phone.dialable(call.party))
        self.forget_action.setEnabled(call is not None and can_forget(call.party_key))

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

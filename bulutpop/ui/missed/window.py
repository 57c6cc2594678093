"""The missed-calls window: one row per caller who could not reach the user, with "Call back",
"Done" (undoable) and "Copy" on every row.

In team mode a queue's missed caller is shared: the row says who on the team is calling them
back ("Ayşe (1002) is calling back"), and "Call back" first tells the team (a claim), so two
agents do not ring the same customer.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import TYPE_CHECKING

from PySide6.QtCore import (
    QEvent,
    QLocale,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QAction,
    QFont,
    QHelpEvent,
    QHideEvent,
    QKeySequence,
    QMouseEvent,
    QPainter,
    QPalette,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionButton,
    QStyleOptionViewItem,
    QTableView,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from bulutpop.calls import phone
from bulutpop.calls.model import MissedGroup
from bulutpop.errors import BulutpopError, TeamError
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
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
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.common.theme import Tone, badge
from bulutpop.ui.common.widgets import (
    NameAsker,
    StatusLine,
    ToneLabel,
    ask_name,
    dialog_result,
    heading,
    hint,
    muted,
)
from bulutpop.ui.missed.model import Column, MissedModel, hidden
from bulutpop.ui.notes import ask_note, edit_note

log = logging.getLogger(__name__)


# --- painting -----------------------------------------------------------------------------


class CallerDelegate(QStyledItemDelegate):
    """Two lines: the name or number in bold, then the number and what is going on."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        title, opt.text = opt.text, ""
        assert opt.widget is not None
        opt.widget.style().drawControl(
            QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget
        )
        group: MissedGroup = index.data(MissedModel.GroupRole)
        note = str(index.data(MissedModel.NoteRole) or "")
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        style = opt.widget.style()
        # The same inset the style gives plain cells, so the text lines up with the header.
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, opt.widget) + 1
        rect = opt.rect.adjusted(margin, 0, -margin, 0)
        bold = QFont(opt.font)
        bold.setBold(True)
        line = opt.fontMetrics.height()
        lines = 2 if note else 1
        top = rect.top() + (rect.height() - lines * line - (lines - 1) * 2) // 2

        painter.save()
        text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        title_color = opt.palette.color(text_role)
        if group.resolved:
            title_color = muted(opt.palette, selected)
        painter.setPen(title_color)
        painter.setFont(bold)
        painter.drawText(
            QRect(rect.left(), top, rect.width(), line),
            Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
            painter.fontMetrics().elidedText(title, Qt.TextElideMode.ElideRight, rect.width()),
        )
        if note:
            dialing = bool(index.data(MissedModel.DialingRole))
            accent = opt.palette.color(QPalette.ColorRole.Highlight)
            painter.setPen(accent if dialing and not selected else muted(opt.palette, selected))
            painter.setFont(opt.font)
            painter.drawText(
                QRect(rect.left(), top + line + 2, rect.width(), line),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                opt.fontMetrics.elidedText(note, Qt.TextElideMode.ElideRight, rect.width()),
            )
        painter.restore()


class BadgeDelegate(QStyledItemDelegate):
    """The number of calls as a pill: red while open, grey once resolved."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        text, opt.text = opt.text, ""
        assert opt.widget is not None
        opt.widget.style().drawControl(
            QStyle.ControlElement.CE_ItemViewItem, opt, painter, opt.widget
        )
        group: MissedGroup = index.data(MissedModel.GroupRole)
        bold = QFont(opt.font)
        bold.setBold(True)
        painter.save()
        painter.setFont(bold)
        metrics = painter.fontMetrics()
        height = metrics.height() + 4
        width = max(height, metrics.horizontalAdvance(text) + 14)
        pill = QRect(0, 0, width, height)
        pill.moveCenter(opt.rect.center())
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        fill, text_colour = badge(Tone.NEUTRAL if group.resolved else Tone.MISSED, opt.palette)
        painter.setBrush(fill)
        painter.drawRoundedRect(pill, height / 2, height / 2)
        painter.setPen(text_colour)
        painter.drawText(pill, Qt.AlignmentFlag.AlignCenter, text)
        painter.restore()


class Action(StrEnum):
    CALL = "call"
    DONE = "done"
    COPY = "copy"


@dataclass(frozen=True)
class RowButton:
    action: Action
    rect: QRect
    text: str
    enabled: bool
    primary: bool


class ActionsDelegate(QStyledItemDelegate):
    """Push buttons painted into each row (no widget per row): Call back, Done, Copy.

    A click is tied to the group pressed, not to a row number: if the list reorders under the
    mouse, the click goes to the caller the user aimed at, or nowhere."""

    triggered = Signal(object, str)  # MissedGroup, Action value

    SPACING = 6

    def __init__(self, view: QAbstractItemView) -> None:
        super().__init__(view)
        self._view = view
        self._hover: tuple[MissedGroup, Action] | None = None
        self._pressed: tuple[MissedGroup, Action] | None = None
        # The caller each row showed when last painted: a click acts on what the user saw,
        # even if the model changed since and the row was not repainted yet.
        self._painted: dict[int, MissedGroup] = {}
        view.viewport().setMouseTracking(True)
        view.viewport().installEventFilter(self)

    def _labels(self) -> dict[Action, str]:
        return {
            Action.CALL: self.tr("Call back"),
            Action.DONE: self.tr("Done"),
            Action.COPY: self.tr("Copy"),
        }

    def _button_size(self, text: str) -> QSize:
        metrics = self._view.fontMetrics()
        return QSize(max(64, metrics.horizontalAdvance(text) + 24), metrics.height() + 12)

    def width_needed(self) -> int:
        labels = [*self._labels().values(), self.tr("Calling…")]
        widths = [self._button_size(text).width() for text in labels]
        # The callback button must fit its "Calling…" label too, so it never jumps.
        return max(widths[0], widths[3]) + widths[1] + widths[2] + 4 * self.SPACING

    def shown(self, index: QModelIndex | QPersistentModelIndex) -> MissedGroup:
        """The caller the row of `index` showed when last painted (else the model's)."""
        group: MissedGroup = index.data(MissedModel.GroupRole)
        return self._painted.get(index.row(), group)

    def buttons(
        self,
        rect: QRect,
        index: QModelIndex | QPersistentModelIndex,
        group: MissedGroup | None = None,
    ) -> list[RowButton]:
        group = group or index.data(MissedModel.GroupRole)
        assert group is not None
        dialing = bool(index.data(MissedModel.DialingRole))
        busy = bool(index.data(MissedModel.BusyRole))
        labels = self._labels()
        call_text = self.tr("Calling…") if dialing else labels[Action.CALL]
        call_width = max(
            self._button_size(labels[Action.CALL]).width(),
            self._button_size(self.tr("Calling…")).width(),
        )
        dialable = not hidden(group)
        specs = [
            (Action.CALL, call_text, not busy and dialable, True, call_width),
            (Action.DONE, labels[Action.DONE], not group.resolved, False, 0),
            (Action.COPY, labels[Action.COPY], dialable, False, 0),
        ]
        result: list[RowButton] = []
        left = rect.left() + self.SPACING
        for action, text, enabled, primary, fixed in specs:
            size = self._button_size(text)
            width = fixed or size.width()
            top = rect.top() + (rect.height() - size.height()) // 2
            result.append(
                RowButton(action, QRect(left, top, width, size.height()), text, enabled, primary)
            )
            left += width + self.SPACING
        return result

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        assert widget is not None
        style = widget.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        group: MissedGroup = index.data(MissedModel.GroupRole)
        self._painted[index.row()] = group
        for button in self.buttons(opt.rect, index, group):
            draw = QStyleOptionButton()
            draw.initFrom(widget)
            draw.rect = button.rect
            draw.text = button.text
            draw.state = QStyle.StateFlag.State_Raised
            if button.enabled:
                draw.state |= QStyle.StateFlag.State_Enabled
                key = (group, button.action)
                if self._hover == key:
                    draw.state |= QStyle.StateFlag.State_MouseOver
                if self._pressed == key:
                    draw.state |= QStyle.StateFlag.State_Sunken
            else:
                draw.state &= ~QStyle.StateFlag.State_Enabled
                draw.palette.setCurrentColorGroup(QPalette.ColorGroup.Disabled)
            if button.primary and button.enabled:
                draw.features |= QStyleOptionButton.ButtonFeature.DefaultButton
            style.drawControl(QStyle.ControlElement.CE_PushButton, draw, painter, widget)

    def _hit(self, pos: QPoint) -> tuple[MissedGroup, Action] | None:
        index = self._view.indexAt(pos)
        if not index.isValid() or index.column() != Column.ACTIONS:
            return None
        group = self.shown(index)
        for button in self.buttons(self._view.visualRect(index), index, group):
            if button.enabled and button.rect.contains(pos):
                return group, button.action
        return None

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
            hover = self._hit(event.position().toPoint())
            if hover != self._hover:
                self._hover = hover
                self._view.viewport().update()
        elif kind == QEvent.Type.Leave and self._hover is not None:
            self._hover = None
            self._view.viewport().update()
        elif isinstance(event, QMouseEvent) and event.button() == Qt.MouseButton.LeftButton:
            hit = self._hit(event.position().toPoint())
            if kind == QEvent.Type.MouseButtonPress and hit is not None:
                self._pressed = hit
                self._view.viewport().update()
                return True  # a button press neither selects nor starts a drag
            if kind == QEvent.Type.MouseButtonRelease and self._pressed is not None:
                pressed, self._pressed = self._pressed, None
                self._view.viewport().update()
                if hit == pressed:
                    self.triggered.emit(pressed[0], pressed[1].value)
                return True
            if kind == QEvent.Type.MouseButtonDblClick and hit is not None:
                return True  # two quick clicks on Done must not also call back
        return False

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        hit = self._hit(event.pos())
        if hit is None:
            return super().helpEvent(event, view, option, index)
        group: MissedGroup = index.data(MissedModel.GroupRole)
        tips = {
            Action.CALL: self.tr("Ring your phone, then dial %1 (Enter)"),
            Action.DONE: self.tr("Remove %1 from the list without calling (Delete)"),
            Action.COPY: self.tr("Copy %1 to the clipboard"),
        }
        QToolTip.showText(event.globalPos(), tips[hit[1]].replace("%1", group.display), view)
        return True


# --- the window ---------------------------------------------------------------------------


if TYPE_CHECKING:
    from bulutpop.team.link import Claim

# Asked when a colleague holds the caller's claim (None: not known who) -> take it over?
TakeoverAsker = Callable[["Claim | None"], Awaitable[bool]]


class TakeoverConfirmation(QMessageBox):
    """Asks before taking over a callback a colleague claimed: who, since when, and that
    they may be on the phone with the caller right now."""

    def __init__(self, parent: QWidget, claim: Claim | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Take over the callback"))
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setIcon(QMessageBox.Icon.Question)
        if claim is not None and claim.at:
            text = (
                self.tr("%1 claimed this callback %2.")
                .replace("%1", claim.display)
                .replace("%2", fmt.ago(claim.at))
            )
        elif claim is not None:
            text = self.tr("%1 is calling this caller back.").replace("%1", claim.display)
        else:
            text = self.tr("A colleague is calling this caller back.")
        self.setText(text)
        self.setInformativeText(
            self.tr(
                "Take the callback over and call now? Your colleague's list then shows that "
                "you are calling back; they may already be on the phone with the caller."
            )
        )
        self.take_button = self.addButton(
            self.tr("Take over and call"), QMessageBox.ButtonRole.AcceptRole
        )
        self.setDefaultButton(self.addButton(QMessageBox.StandardButton.Cancel))


async def ask_takeover(parent: QWidget, claim: Claim | None) -> bool:
    box = TakeoverConfirmation(parent, claim)
    try:
        await dialog_result(box)
        return box.clickedButton() is box.take_button
    finally:
        box.deleteLater()


@dataclass(frozen=True)
class _Undo:
    number: str
    at: float


class MissedWindow(QWidget):
    """The missed-call list. Open it from the tray; it keeps itself up to date.

    `ask` asks for a caller's name ("Edit name…"); tests pass one that answers at once."""

    def __init__(
        self,
        bridge: CoreBridge,
        parent: QWidget | None = None,
        *,
        ask: NameAsker = ask_name,
        ask_note: NameAsker = ask_note,
        confirm_takeover: TakeoverAsker | None = None,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.tasks = TaskSet()
        self._ask = ask
        self._ask_note = ask_note
        # None: the real box (a bound method kept here would tie the window to itself).
        self._confirm_takeover = confirm_takeover
        # The caller whose claim a colleague holds, while the status line says so.
        self._claim_refused: str | None = None
        self._pending_undo: _Undo | None = None
        self._marking: set[str] = set()
        self._selected_number: str | None = None
        self._pointer_inside = False
        self.setWindowTitle(self.tr("Missed calls"))
        self.resize(880, 460)

        self.model = MissedModel(bridge, self)
        self.model.modelReset.connect(self._clear_stale_claim_error)
        self.title = heading()
        self.show_resolved = QCheckBox(self.tr("Show resolved"))
        self.show_resolved.setToolTip(self.tr("Also list callers you called back or marked done"))
        self.show_resolved.toggled.connect(self._on_show_resolved)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search by number or name"))
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(220)
        self.search.setAccessibleName(self.tr("Search missed calls"))
        self.search.textChanged.connect(self.model.set_search)
        find = QAction(self)
        find.setShortcut(QKeySequence.StandardKey.Find)
        find.triggered.connect(lambda: self.search.setFocus(Qt.FocusReason.ShortcutFocusReason))
        self.addAction(find)
        # Rows never move under the pointer or the keyboard: new callers wait behind this.
        self.waiting = QPushButton()
        self.waiting.setFlat(True)
        self.waiting.setCursor(Qt.CursorShape.PointingHandCursor)
        self.waiting.setToolTip(
            self.tr("The list stays still while you point at it; click to update")
        )
        self.waiting.hide()
        self.waiting.clicked.connect(self.model.show_waiting)
        self.model.waitingChanged.connect(self._on_waiting)

        self.view = self._make_view()
        self.view.viewport().installEventFilter(self)
        self.view.installEventFilter(self)
        self.empty = self._make_empty_state()
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)

        self.status = StatusLine()
        self.status.undoRequested.connect(lambda: self.tasks.start(self.undo(), name="undo done"))
        # The list holds the most recent callers only; say so when there are more.
        self.more = hint()
        self.more.hide()

        header = QHBoxLayout()
        header.addWidget(self.title)
        header.addWidget(self.waiting)
        header.addStretch(1)
        header.addWidget(self.search)
        header.addWidget(self.show_resolved)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 14, 16, 12)
        layout.setSpacing(10)
        layout.addLayout(header)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.more)
        layout.addWidget(self.status)

        self.model.modelAboutToBeReset.connect(self._remember_selection)
        self.model.modelReset.connect(self._on_reset)
        self.model.dataChanged.connect(self._update_counts)
        self._on_reset()

    def _make_view(self) -> QTableView:
        view = list_view(self.model, lines=2, padding=22)
        view.setAccessibleName(self.tr("Missed calls"))
        view.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        header = view.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setSectionResizeMode(Column.CALLER, QHeaderView.ResizeMode.Stretch)
        metrics = view.fontMetrics()
        longest_time = max(
            metrics.horizontalAdvance(text)
            for text in (fmt.when(time.time() - 86400), "30.12.2099", self.tr("Last call"))
        )
        widths = ((Column.COUNT, 64), (Column.LAST, longest_time + 28))
        for column, width in widths:
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Fixed)
            view.setColumnWidth(column, width)
        header.setSectionResizeMode(Column.QUEUE, QHeaderView.ResizeMode.Interactive)
        view.setColumnWidth(Column.QUEUE, queue_width(self.bridge, view))
        self.bridge.namesChanged.connect(self._on_names)

        view.setItemDelegateForColumn(Column.CALLER, CallerDelegate(view))
        view.setItemDelegateForColumn(Column.COUNT, BadgeDelegate(view))
        self.actions_delegate = ActionsDelegate(view)
        self.actions_delegate.triggered.connect(self._on_button)
        view.setItemDelegateForColumn(Column.ACTIONS, self.actions_delegate)
        header.setSectionResizeMode(Column.ACTIONS, QHeaderView.ResizeMode.Fixed)
        view.setColumnWidth(Column.ACTIONS, self.actions_delegate.width_needed())
        # Never squeeze the caller below a name's worth of width; the window stops shrinking.
        fixed = sum(view.columnWidth(column) for column in Column if column != Column.CALLER)
        view.setMinimumWidth(fixed + 24 * metrics.averageCharWidth())
        view.doubleClicked.connect(
            lambda index: self._start(Action.CALL, self.actions_delegate.shown(index))
        )

        self.row_actions = rows = RowActions(view, self._selected_group)
        call, done, copy = (
            partial(self._start, a) for a in (Action.CALL, Action.DONE, Action.COPY)
        )
        self.call_action = rows.add(self.tr("Call back"), call, Qt.Key.Key_Return)
        self.done_action = rows.add(self.tr("Done"), done, Qt.Key.Key_Delete)
        self.copy_action = rows.add(self.tr("Copy number"), copy, QKeySequence.StandardKey.Copy)
        self.edit_name_action = rows.add(self.tr("Edit name…"), self._edit_name, Qt.Key.Key_F2)
        self.forget_action = rows.add(self.tr("Delete this number's records…"), self._forget)
        self.note_action = rows.add(self.tr("Note…"), self._edit_note)
        # Enter on the keypad is a second key for the same action.
        rows.add("", call, Qt.Key.Key_Enter)
        rows.set_menu(
            [self.call_action, self.done_action, self.copy_action],
            [self.note_action, self.edit_name_action, self.forget_action],
        )
        view.selectionModel().selectionChanged.connect(self._update_actions)
        self.model.dataChanged.connect(self._update_actions)
        return view

    def _make_empty_state(self) -> QWidget:
        page = QWidget()
        mark = ToneLabel("✓", Tone.SUCCESS)
        mark.setAlignment(Qt.AlignmentFlag.AlignCenter)
        mark_font = mark.font()
        mark_font.setPointSizeF(mark_font.pointSizeF() * 4)
        mark.setFont(mark_font)
        self.empty_headline = headline = QLabel(self.tr("No missed calls. Nice!"))
        headline_font = headline.font()
        headline_font.setPointSizeF(headline_font.pointSizeF() * 1.25)
        headline_font.setBold(True)
        headline.setFont(headline_font)
        headline.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_detail = hint()
        layout = QVBoxLayout(page)
        layout.addStretch(1)
        layout.addWidget(mark)
        layout.addWidget(headline)
        layout.addWidget(self.empty_detail)
        layout.addStretch(2)
        return page

    # -- public ---------------------------------------------------------------------------

    def count(self) -> int:
        """Callers with open missed calls: the number the tray badge shows."""
        return self.bridge.open_missed_count()

    def status_text(self) -> str:
        return self.status.text()

    def is_empty(self) -> bool:
        return self.stack.currentWidget() is self.empty

    async def call_back(self, row: int) -> None:
        """Dial the caller of `row`. While a callback is in flight the buttons are disabled
        and further requests are ignored, so rapid clicks place one call."""
        await self._call_back(self.model.group(row))

    async def mark_done(self, row: int) -> None:
        """Resolve the caller of `row` without calling; `undo` brings them back."""
        await self._mark_done(self.model.group(row))

    async def undo(self) -> None:
        """Bring back the caller last marked done (offered for a few seconds)."""
        pending, self._pending_undo = self._pending_undo, None
        if pending is None:
            return
        await self.bridge.undo_done(pending.number, pending.at)
        await self.model.settled()
        self.model.show_waiting()
        self.status.show_success(
            self.tr("%1 is back in the list.").replace("%1", phone.display(pending.number)),
            seconds=5,
        )

    def copy(self, row: int) -> None:
        self._copy(self.model.group(row))

    async def edit_name(self, row: int) -> bool:
        """Ask for the name to show for the caller of `row`, on this PC; True if changed."""
        return await edit_local_name(
            self.bridge, self, self.model.group(row).number, self.status, self._ask
        )

    # -- internals ------------------------------------------------------------------------

    def showEvent(self, event: QShowEvent) -> None:
        # "14:32" turns into "yesterday 14:32" overnight; reopening shows fresh times.
        self.model.refresh()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:
        self._pointer_inside = False
        self._update_hold()
        super().hideEvent(event)

    async def _call_back(self, group: MissedGroup) -> None:
        if self.model.busy_number is not None:
            return
        self.model.set_dialing(group.number)
        try:
            note = ""
            if self.bridge.config.team_mode and group.queue and not group.resolved:
                claimed, note = await self._claim(group)
                if not claimed:
                    return
            if await place_call(self.bridge, group.party, self.status) and note:
                self.status.show_success(f"{self.status.text()} {note}")
        finally:
            self.model.set_dialing(None)

    async def _claim(self, group: MissedGroup) -> tuple[bool, str]:
        """Tell the team this caller is being called back. (False, _) when a colleague
        already is, or the setup is incomplete: nothing is dialled then. Any other refusal
        (say, the team server no longer lists the call as open, or cannot be reached) does
        not stop the call, which says for itself whether it went through: (True, a note
        that the team was not told)."""
        self.status.show_progress(
            self.tr("Telling your team that you are calling %1 back…").replace("%1", group.display)
        )
        try:
            try:
                await self.bridge.claim(group.number)
            except TeamError as exc:
                if exc.status != 409:
                    raise
                who = self.bridge.claims().get(group.number)
                confirm = self._confirm_takeover or partial(ask_takeover, self)
                if not await confirm(who):
                    self.status.show_error(
                        self.tr("%1 is already calling back.").replace("%1", who.display)
                        if who
                        else self.tr("A colleague is already calling back.")
                    )
                    self._claim_refused = group.number
                    self.model.refresh()
                    return False, ""
                await self.bridge.claim(group.number, takeover=True)
        except TeamError as exc:
            log.info("claim for a callback refused: %s", exc)
            return True, self.tr("(Your team was not told: %1)").replace("%1", describe_error(exc))
        except Exception as exc:
            if not isinstance(exc, BulutpopError):
                log.exception("claiming a callback failed")
            self.status.show_error(describe_error(exc))
            return False, ""
        return True, ""

    def _clear_stale_claim_error(self) -> None:
        """ "Mehmet is already calling back" goes once the caller is no longer open."""
        number = self._claim_refused
        if number is None:
            return
        if not any(
            g.number == number and not g.resolved
            for g in (self.model.group(r) for r in range(self.model.rowCount()))
        ):
            self._claim_refused = None
            self.status.clear()

    async def _mark_done(self, group: MissedGroup) -> None:
        if group.resolved or group.number in self._marking:
            return  # a second click before the row went away
        self._marking.add(group.number)
        try:
            at = await self.bridge.mark_done(group.number)
            await self.model.settled()
            self.model.show_waiting()  # the user's own change shows at once, held or not
        finally:
            self._marking.discard(group.number)
        self._pending_undo = _Undo(group.number, at)
        self.status.offer_undo(self.tr("Marked %1 as done.").replace("%1", group.display))

    def _copy(self, group: MissedGroup) -> None:
        copy_number(group.display, self.status)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Hold the rows still while the pointer is over the list or it has the focus.
        kind = event.type()
        if watched is self.view.viewport() and kind in (QEvent.Type.Enter, QEvent.Type.Leave):
            self._pointer_inside = kind == QEvent.Type.Enter
            self._update_hold()
        elif watched is self.view and kind in (QEvent.Type.FocusIn, QEvent.Type.FocusOut):
            self._update_hold()
        return False

    def _update_hold(self) -> None:
        self.model.held = self._pointer_inside or self.view.hasFocus()

    def _on_waiting(self, count: int) -> None:
        self.waiting.setVisible(count > 0)
        self._update_counts()  # the title counts every caller, shown or waiting
        self.waiting.setText(
            self.tr("1 new caller — show")
            if count == 1
            else self.tr("%1 new callers — show").replace("%1", str(count))
        )

    def _start(self, action: Action | str, group: MissedGroup) -> None:
        """Act on the group as it was when the user clicked (rows may move meanwhile)."""
        action = Action(action)
        if action != Action.DONE and hidden(group):
            return  # a withheld number: nothing to call or copy
        if action == Action.CALL:
            self.tasks.start(self._call_back(group), name="call back")
        elif action == Action.DONE:
            self.tasks.start(self._mark_done(group), name="mark done")
        else:
            self._copy(group)

    def _selected_group(self) -> MissedGroup | None:
        row = selected_row(self.view)
        return None if row is None else self.model.group(row)

    def _on_button(self, group: MissedGroup, action: str) -> None:
        row = self.model.row_of_group(group)
        if row is not None:
            self.view.selectRow(row)
        self._start(action, group)

    def _edit_name(self, group: MissedGroup) -> None:
        self.tasks.start(
            edit_local_name(self.bridge, self, group.number, self.status, self._ask),
            name="edit name",
        )

    def _edit_note(self, group: MissedGroup) -> None:
        if not hidden(group):
            self.tasks.start(
                edit_note(self.bridge, self, group.number, self.status, self._ask_note),
                name="edit note",
            )

    def _forget(self, group: MissedGroup) -> None:
        self.tasks.start(
            forget_number(self.bridge, self, group.number, self.status), name="delete records"
        )

    def _on_names(self) -> None:
        self.view.setColumnWidth(Column.QUEUE, queue_width(self.bridge, self.view))

    def _update_actions(self) -> None:
        group = self._selected_group()
        dialable = group is not None and not hidden(group)
        self.call_action.setEnabled(dialable and self.model.busy_number is None)
        self.done_action.setEnabled(group is not None and not group.resolved)
        self.copy_action.setEnabled(dialable)
        self.forget_action.setEnabled(group is not None and can_forget(group.number))
        self.edit_name_action.setEnabled(group is not None)
        self.note_action.setEnabled(dialable)

    def _on_show_resolved(self, checked: bool) -> None:
        self.model.show_resolved = checked

    def _remember_selection(self) -> None:
        group = self._selected_group()
        self._selected_number = group.number if group else None

    def _on_reset(self) -> None:
        self._update_counts()
        if self.model.rowCount():
            self.stack.setCurrentWidget(self.view)
        else:
            searching = bool(self.search.text().strip())
            self.empty_headline.setText(
                self.tr("No caller matches.") if searching else self.tr("No missed calls. Nice!")
            )
            self.empty_detail.setText(
                self.tr("Try another number or name.")
                if searching
                else self.tr("Nothing resolved yet either.")
                if self.model.show_resolved
                else self.tr("Calls you miss will show up here, ready to call back.")
            )
            self.stack.setCurrentWidget(self.empty)
        if self._selected_number is not None:
            row = self.model.row_of(self._selected_number)
            if row is not None:
                self.view.selectRow(row)
        self._update_actions()

    def _update_counts(self) -> None:
        """The title's count and the "most recent of" line (rows updated in place too)."""
        count = self.count()
        self.title.setText(self.tr("Missed calls (%1)").replace("%1", str(count)))
        self.setWindowTitle(self.tr("Missed calls (%1)").replace("%1", str(count)))
        listed = sum(
            1 for row in range(self.model.rowCount()) if not self.model.group(row).resolved
        )
        # While new callers wait to be shown, the list is not short of them for its limit.
        self.more.setVisible(listed < count and self.waiting.isHidden())
        self.more.setText(
            self.tr("The %1 most recent of %2 callers are listed; find the others in the history.")
            .replace("%1", QLocale().toString(listed))
            .replace("%2", QLocale().toString(count))
        )

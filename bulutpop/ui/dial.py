"""The dial dialog: type, paste or pick a number, see how it will be dialled, place one call.

The PBX rings the user's own phone first and only then dials out, so the dialog says so
while the request is in flight and closes itself once the phone is ringing. Closed while the
request is still in flight, it lets the call go on; should the PBX then refuse it, the
dialog comes back with the reason, so a call is never silently not placed.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QFontMetrics, QPainter, QPalette, QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QCompleter,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from bulutpop.calls import phone
from bulutpop.calls.model import Call
from bulutpop.calls.phone import PhoneNumber
from bulutpop.errors import BulutpopError, NumberError
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.common.theme import Tone, colour
from bulutpop.ui.common.widgets import heading, muted

log = logging.getLogger(__name__)

RECENT_LIMIT = 12
# History rows read to find RECENT_LIMIT distinct numbers; a busy line repeats callers.
_RECENT_SCAN = 300
# Long enough to read the confirmation, short enough not to be in the way.
CLOSE_DELAY_MS = 1500
_DETAIL_ROLE = Qt.ItemDataRole.UserRole + 1
DETAIL_GAP = 16  # between a recent number and its detail


def set_tone(label: QLabel, tone: str) -> None:
    """Colour a message line: "error", "ok", "muted" or "" (normal text). The tone is also
    kept as the label's "tone" property, for tests and style sheets."""
    label.setProperty("tone", tone)
    app_palette = QApplication.palette()
    if tone == "error":
        color = colour(Tone.ERROR, app_palette)
    elif tone == "ok":
        color = colour(Tone.SUCCESS, app_palette)
    elif tone == "muted":
        color = muted(app_palette, background=QPalette.ColorRole.Window)
    else:
        color = app_palette.color(QPalette.ColorRole.WindowText)
    palette = label.palette()
    palette.setColor(QPalette.ColorRole.WindowText, color)
    label.setPalette(palette)


class _RecentDelegate(QStyledItemDelegate):
    """A recent number on the left, what happened and when on the right, muted."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        number, opt.text = opt.text, ""
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)
        selected = bool(opt.state & QStyle.StateFlag.State_Selected)
        metrics = opt.fontMetrics
        rect = opt.rect.adjusted(8, 0, -10, 0)
        painter.save()
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(opt.palette.color(role))
        left = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        painter.drawText(rect, left, number)
        detail = index.data(_DETAIL_ROLE)
        if detail:
            shown = self.fit_detail(metrics, number, detail, rect.width())
            room = rect.adjusted(metrics.horizontalAdvance(number) + DETAIL_GAP, 0, 0, 0)
            painter.setPen(muted(opt.palette, selected))
            painter.drawText(
                room, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, shown
            )
        painter.restore()

    @staticmethod
    def fit_detail(metrics: QFontMetrics, number: str, detail: str, width: int) -> str:
        """The detail as it fits beside the number in `width`: elided, never over it."""
        room = width - metrics.horizontalAdvance(number) - DETAIL_GAP
        return metrics.elidedText(detail, Qt.TextElideMode.ElideRight, max(room, 0))

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        hint = super().sizeHint(option, index)
        detail = index.data(_DETAIL_ROLE) or ""
        extra = option.fontMetrics.horizontalAdvance(detail) + 32
        return QSize(hint.width() + extra, max(hint.height(), 26))


class DialDialog(QDialog):
    """Dial a number through the PBX; `number` pre-fills the field (e.g. from a tel: link)."""

    def __init__(self, bridge: CoreBridge, number: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.tasks = TaskSet()
        self._number: PhoneNumber | None = None
        self._calling = False
        self._placed = False
        # The user closed the dialog while the PBX was still being asked.
        self._closed_mid_call = False
        self.setWindowTitle(self.tr("Dial"))
        self.setMinimumWidth(420)

        title = heading(self.tr("Call a number"))

        self.field = QComboBox()
        self.field.setEditable(True)
        self.field.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.field.setMinimumHeight(32)
        self.field.setItemDelegate(_RecentDelegate(self.field))
        self.field.setModel(self._recent_model())
        self.field.setCurrentIndex(-1)
        self.edit = edit = QLineEdit()
        self.field.setLineEdit(edit)
        edit.setPlaceholderText(self.tr("Number, extension or tel: link"))
        # A placeholder is no name for a screen reader: the field says what it is for.
        for widget in (self.field, edit):
            widget.setAccessibleName(self.tr("Number to call"))
            widget.setAccessibleDescription(edit.placeholderText())
        edit.setClearButtonEnabled(True)
        completer = QCompleter(self.field.model(), self.field)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.field.setCompleter(completer)
        recent = completer.popup()
        assert recent is not None  # QCompleter makes its popup on first use
        recent.setItemDelegate(_RecentDelegate(recent))

        self.status = QLabel()
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        self.status.setWordWrap(True)
        # Room for two lines, so a longer error does not make the dialog jump.
        self.status.setMinimumHeight(self.status.fontMetrics().lineSpacing() * 2)
        self.status.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)

        self.hint = QLabel()
        self.hint.setTextFormat(Qt.TextFormat.PlainText)
        self.hint.setWordWrap(True)

        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.call_button = QPushButton(self.tr("Call"))
        self.call_button.setMinimumWidth(96)
        # Enter is handled once, by returnPressed; a default button would fire it again.
        for button in (self.cancel_button, self.call_button):
            button.setAutoDefault(False)
            button.setDefault(False)
        self.cancel_button.clicked.connect(self.reject)
        self.call_button.clicked.connect(self._request_call)
        edit.returnPressed.connect(self._request_call)
        self.field.editTextChanged.connect(self._validate)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.call_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addWidget(self.hint)
        layout.addSpacing(8)
        # The preview ("Will call …") above the field: the list of recent numbers opens
        # below it and would cover it.
        layout.addWidget(self.status)
        layout.addWidget(self.field)
        layout.addSpacing(10)
        layout.addLayout(buttons)

        self._close_timer = QTimer(self)
        self._close_timer.setSingleShot(True)
        self._close_timer.setInterval(CLOSE_DELAY_MS)
        self._close_timer.timeout.connect(self.accept)

        self._show_hint()
        self.set_number(number)

    def set_number(self, number: str) -> None:
        """Fill the field (a tel: link opened while the dialog is up); ignored mid-call."""
        if self._calling:
            return
        self._close_timer.stop()
        self._placed = False
        # A tel: link reads better in display form; the key (what is dialled) is the same.
        self.field.setEditText(phone.display(number) if number else "")
        self._validate()
        self.edit.selectAll()
        self.field.setFocus()

    @property
    def calling(self) -> bool:
        """Whether a call was asked for and the PBX has not answered yet (the dialog may be
        hidden meanwhile). Counts from the click, before the request task first runs."""
        return self._calling or bool(self.tasks)

    def number_text(self) -> str:
        return self.field.currentText()

    def _recent_model(self) -> QStandardItemModel:
        """Recently dialled and missed numbers, newest first, one row per number."""
        model = QStandardItemModel(self)
        seen: set[str] = set()
        for call in self._bridge.recent_calls(_RECENT_SCAN):
            if not (call.missed or call.direction == "outbound") or not call.party_key:
                continue
            if call.party_key in seen:
                continue
            seen.add(call.party_key)
            item = QStandardItem(phone.display(call.party))
            item.setData(self._recent_detail(call), _DETAIL_ROLE)
            item.setEditable(False)
            model.appendRow(item)
            if len(seen) >= RECENT_LIMIT:
                break
        return model

    def _recent_detail(self, call: Call) -> str:
        when = fmt.when(call.start_ts)
        what = self.tr("missed %1") if call.missed else self.tr("called %1")
        # The bridge's name first: the user's own edit must beat the PBX's caller id name.
        name = self._bridge.name_for(call.party_key) or call.name
        parts = [name] if name else []
        parts.append(what.replace("%1", when))
        return " · ".join(parts)

    def _show_hint(self) -> None:
        extension = self._bridge.config.extension
        if extension:
            self.hint.setText(
                self.tr("Your phone (extension %1) rings first.").replace("%1", extension)
            )
            set_tone(self.hint, "muted")
        else:
            self.hint.setText(self.tr("Set your extension in Settings to dial."))
            set_tone(self.hint, "error")

    def _validate(self) -> None:
        if self._calling or self._placed:
            return
        text = self.number_text()
        self._number = None
        if not text.strip():
            self.status.setText(
                self.tr("Type a number as you would write it, or pick a recent one.")
            )
            set_tone(self.status, "muted")
        else:
            try:
                self._number = phone.parse(text)
            except NumberError:
                self.status.setText(
                    self.tr("Not a phone number. Try 0532 123 45 67, +49 30 1234567 or 1001.")
                )
                set_tone(self.status, "error")
            else:
                self.status.setText(
                    self.tr("Will call %1").replace("%1", self._shown(self._number))
                )
                set_tone(self.status, "")
        self._sync_controls()

    def _shown(self, number: PhoneNumber) -> str:
        """The number as it will be dialled, to go inside a sentence."""
        if number.kind == "extension":
            return self.tr("extension %1").replace("%1", number.display)
        return number.display

    def _sync_controls(self) -> None:
        idle = not self._calling and not self._placed
        self.field.setEnabled(idle)
        self.call_button.setEnabled(idle and self._number is not None)

    def _request_call(self) -> None:
        # Disabled at once, not when the task starts: a second click or Enter in the same
        # event batch must find it off.
        if not self.call_button.isEnabled():
            return
        self.call_button.setEnabled(False)
        self.tasks.start(self.dial(), name="dial")

    async def dial(self) -> bool:
        """Dial the field's number. True when the PBX is ringing the user's phone; False when
        nothing was placed (a call already in flight, or an error, which is shown)."""
        if self._calling or self._placed:
            return False
        self._calling = True
        self._sync_controls()
        self.status.setText(self.tr("Calling… your phone will ring first"))
        set_tone(self.status, "muted")
        try:
            dialled = await self._bridge.dialer.dial(self.number_text())
        except Exception as exc:  # whatever it was, it is said, and the dialog comes back
            if not isinstance(exc, BulutpopError):
                log.exception("dialling failed")
            self.status.setText(describe_error(exc, "dial"))
            set_tone(self.status, "error")
            self.field.setFocus()
            if self._closed_mid_call:
                self._come_back()
            return False
        finally:
            self._calling = False
            self._sync_controls()
        # Closed meanwhile: the ringing phone tells the user the call went through.
        self._closed_mid_call = False
        self._placed = True
        self._sync_controls()
        self.status.setText(
            self.tr("Your phone is ringing — pick up to call %1.").replace(
                "%1", self._shown(dialled.number)
            )
        )
        set_tone(self.status, "ok")
        self._close_timer.start()
        return True

    def done(self, result: int) -> None:
        # Esc, Cancel or the window's close button while the PBX is being asked: the request
        # goes on (it cannot be taken back), and its failure must not go unseen.
        if self.calling:
            self._closed_mid_call = True
        super().done(result)

    def _come_back(self) -> None:
        """Show the dialog again with the late error, on top but without taking the
        keyboard from whatever the user is typing meanwhile."""
        self._closed_mid_call = False
        if self.isVisible():
            return
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, True)
        self.show()
        self.raise_()
        # Reopened from the tray later, the dialog takes focus as usual.
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating, False)
        QApplication.alert(self)

"""The screen pop: one small, quiet window per call that rings the user, stacked in a corner.

`PopupManager` decides which popups exist from the bridge's changes; it never decides what
counts as missed (that is `Call.missed`, from the core). `CallPopup` only displays a call.
Popups never take keyboard focus, so an agent typing elsewhere is never interrupted; only a
deliberate click into one lets it take focus, so that Esc can close it.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from PySide6.QtCore import (
    QEasingCurve,
    QEvent,
    QObject,
    QPropertyAnimation,
    QRect,
    QRectF,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import (
    QCloseEvent,
    QColor,
    QCursor,
    QDesktopServices,
    QEnterEvent,
    QFont,
    QGuiApplication,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPalette,
)
from PySide6.QtWidgets import (
    QGraphicsDropShadowEffect,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from bulutpop.calls import phone
from bulutpop.calls.crm import crm_link
from bulutpop.calls.model import Call
from bulutpop.calls.text import fold
from bulutpop.calls.tracker import Change
from bulutpop.errors import BulutpopError, TeamError
from bulutpop.local.config import Config
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt, theme
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.common.theme import Tone
from bulutpop.ui.common.widgets import NameAsker
from bulutpop.ui.notes import ask_note, edit_note

# Sizes in logical pixels: Qt scales them on HiDPI screens.
CARD_WIDTH = 360
CARD_HEIGHT = 130
OVERFLOW_HEIGHT = 44
SHADOW = 8  # transparent margin around each card that holds its drop shadow
SCREEN_EDGE = 12  # distance of the stack from the screen's edges
GAP = 10  # between stacked cards
RADIUS = 10.0
STRIP = 5.0
MAX_VISIBLE = 3
CALLED_BACK_MS = 4000  # a popup whose caller was called back goes after this
FADE_MS = 120
# Call ids already popped, remembered so a popup the user closed does not come back when a
# queue rings another leg. Bounded: calls whose hangup never arrives must not pile up.
REMEMBERED_CALLS = 500

log = logging.getLogger(__name__)

_FLAGS = (
    Qt.WindowType.Tool
    | Qt.WindowType.FramelessWindowHint
    | Qt.WindowType.WindowStaysOnTopHint
    | Qt.WindowType.WindowDoesNotAcceptFocus
)


class PopupState(Enum):
    """`Call.seen_by`'s outcomes, each with its colour."""

    RINGING = "ringing"
    STOPPED = "stopped"  # the user's leg stopped ringing; the call may still be answered
    ANSWERED_BY_ME = "answered_by_me"
    ANSWERED_ELSEWHERE = "answered_elsewhere"
    MISSED = "missed"
    ENDED = "ended"  # ended unanswered, yet not missed for the user (per the core)


# The strip's meaning: the accent while ringing, then what happened (colours: theme.py).
STATE_TONES: dict[PopupState, Tone] = {
    PopupState.RINGING: Tone.RINGING,
    PopupState.STOPPED: Tone.NEUTRAL,
    PopupState.ANSWERED_BY_ME: Tone.SUCCESS,
    PopupState.ANSWERED_ELSEWHERE: Tone.NEUTRAL,
    PopupState.MISSED: Tone.MISSED,
    PopupState.ENDED: Tone.NEUTRAL,
}
_GREY_STATES = frozenset({PopupState.ANSWERED_ELSEWHERE, PopupState.ENDED, PopupState.STOPPED})


def popup_state(call: Call, mine: frozenset[str]) -> PopupState:
    return PopupState(call.seen_by(mine))


def _area_under_cursor() -> QRect:
    """Where popups may go: the free area (no taskbar or dock) of the screen under the mouse,
    in logical pixels, so a three-monitor desk sees them where the user is looking."""
    screen = QGuiApplication.screenAt(QCursor.pos()) or QGuiApplication.primaryScreen()
    return screen.availableGeometry()


def _set_font(widget: QWidget, scale: float, weight: QFont.Weight) -> None:
    font = QFont(widget.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setWeight(weight)
    widget.setFont(font)


class _Label(QLabel):
    """A one-line plain-text label that elides instead of widening the popup; `text()`
    stays the full text, so nothing the PBX sent is ever interpreted or lost."""

    def __init__(self, parent: QWidget, colour: QColor, muted: bool = False) -> None:
        super().__init__(parent)
        self.colour = colour
        self.muted = muted
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setPen(self.colour)
        rect = self.contentsRect()
        shown = self.fontMetrics().elidedText(
            self.text(), Qt.TextElideMode.ElideRight, rect.width()
        )
        painter.drawText(rect, int(self.alignment()), shown)


class _Card(QWidget):
    """The visible rounded card with the state strip on its left edge."""

    def __init__(self, parent: QWidget, background: QColor, border: QColor) -> None:
        super().__init__(parent)
        self.background = background
        self.border = border
        self.strip = QColor(background)
        shadow = QGraphicsDropShadowEffect(self)
        shadow.setBlurRadius(16)
        shadow.setOffset(0, 2)
        shadow.setColor(QColor(0, 0, 0, 70))
        self.setGraphicsEffect(shadow)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = QRectF(self.rect()).adjusted(0.5, 0.5, -0.5, -0.5)
        path = QPainterPath()
        path.addRoundedRect(rect, RADIUS, RADIUS)
        painter.fillPath(path, self.background)
        painter.save()
        painter.setClipPath(path)
        painter.fillRect(QRectF(rect.left(), rect.top(), STRIP, rect.height()), self.strip)
        painter.restore()
        painter.setPen(self.border)
        painter.drawPath(path)


class _FloatingWindow(QWidget):
    """A frameless, always-on-top tool window that never takes focus when shown."""

    def __init__(self, card_height: int) -> None:
        super().__init__(None, _FLAGS)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_TranslucentBackground)
        # macOS hides tool windows while their app is inactive, and a tray app always is.
        self.setAttribute(Qt.WidgetAttribute.WA_MacAlwaysShowToolWindow)
        self.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.setFixedSize(CARD_WIDTH + 2 * SHADOW, card_height + 2 * SHADOW)
        # A card reads like a document: the theme's base colours (white in light themes),
        # taken from the application's palette because style sheets re-polish the
        # children's; taken again when the system switches theme (`_apply_palette`).
        self.text, self.muted = QColor(), QColor()
        self.card = _Card(self, QColor(), QColor())
        self.card.setGeometry(SHADOW, SHADOW, CARD_WIDTH, card_height)
        self.strip_tone = Tone.RINGING
        self._take_colours()
        self._fade = QPropertyAnimation(self, b"windowOpacity", self)
        self._fade.setDuration(FADE_MS)
        self._fade.setStartValue(0.0)
        self._fade.setEndValue(1.0)
        self._fade.setEasingCurve(QEasingCurve.Type.OutCubic)

    def allow_focus(self, allow: bool) -> None:
        """Let the window and its buttons take focus (Tab between them, Esc closes), or
        not: only while the user deliberately brought the popup forward."""
        handle = self.windowHandle()
        if handle is not None:
            handle.setFlag(Qt.WindowType.WindowDoesNotAcceptFocus, not allow)
        policy = Qt.FocusPolicy.TabFocus if allow else Qt.FocusPolicy.NoFocus
        for button in self.card.findChildren(QPushButton):
            button.setFocusPolicy(policy)

    def _take_colours(self) -> None:
        palette = QGuiApplication.palette()
        background = palette.color(QPalette.ColorRole.Base)
        self.text = palette.color(QPalette.ColorRole.Text)
        self.muted = theme.muted(palette)
        self.card.background = background
        # A faint edge, or the full text colour when the user asked for high contrast.
        edge = 1.0 if theme.is_high_contrast(palette) else 0.16
        self.card.border = theme.blend(background, self.text, edge)
        for label in self.card.findChildren(_Label):
            label.colour = self.muted if label.muted else self.text
        self.set_strip(self.strip_tone)

    def _apply_palette(self) -> None:
        """The system switched theme (dark, high contrast): every colour again."""
        self._take_colours()
        self.card.setStyleSheet(self.button_style())

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if theme.is_palette_change(event):
            self._apply_palette()

    def set_strip(self, tone: Tone) -> None:
        self.strip_tone = tone
        palette = QGuiApplication.palette()
        self.card.strip = theme.colour(tone, palette, QPalette.ColorRole.Base, theme.SHAPE_CONTRAST)
        self.card.update()

    def appear(self) -> None:
        """Show (fading in) without activating; the window manager keeps it on top."""
        if self.isVisible():
            return
        self.setWindowOpacity(0.0)
        self.show()
        self._fade.start()

    def button(self, text: str, parent: QWidget) -> QPushButton:
        button = QPushButton(text, parent)
        # No focus until the user brings the popup forward (`allow_focus`).
        button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        button.setCursor(Qt.CursorShape.PointingHandCursor)
        return button

    def button_style(self) -> str:
        text, muted, border = self.text.name(), self.muted.name(), self.card.border.name()
        accent = QGuiApplication.palette().color(QPalette.ColorRole.Highlight)
        rgb = f"{accent.red()}, {accent.green()}, {accent.blue()}"
        return (
            f"QPushButton {{ color: {text}; padding: 3px 10px; border-radius: 6px;"
            f" border: 1px solid {border}; background: transparent; }}"
            f" QPushButton:hover {{ background: rgba({rgb}, 26); border-color: rgba({rgb}, 130); }}"
            f" QPushButton:focus {{ border: 2px solid {accent.name()}; }}"
            f" QPushButton:disabled {{ color: {muted}; }}"
            f" QPushButton:flat {{ color: {muted}; border: none; padding: 0; }}"
        )


class CallPopup(_FloatingWindow):
    """One call: who is calling, how often they called before, and what happened."""

    # The popup was closed (by the user, a timer or the manager); carries the call id.
    dismissed = Signal(str)
    # Its height changed (a note appeared or went): the stack is laid out again.
    resized = Signal()

    def __init__(
        self,
        bridge: CoreBridge,
        call: Call,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
        ask_note: NameAsker = ask_note,
    ) -> None:
        super().__init__(CARD_HEIGHT)
        self.bridge = bridge
        self.call = call
        self.state = PopupState.RINGING
        self.tasks = TaskSet()
        self._open_url = open_url
        self._ask_note = ask_note
        self._close_ms = 0
        self._close_timer = QTimer(self)
        self._close_timer.setSingleShot(True)
        self._close_timer.timeout.connect(self.close)
        self._hovered = False

        card = self.card
        self.route = _Label(card, self.muted, muted=True)
        _set_font(self.route, 0.9, QFont.Weight.Normal)
        # A coloured pill; plain text, as it may carry the extension the PBX reported.
        self.status = QLabel(card)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        _set_font(self.status, 0.85, QFont.Weight.DemiBold)
        self.close_button = self.button("×", card)
        self.close_button.setFlat(True)
        self.close_button.setFixedSize(22, 22)
        _set_font(self.close_button, 1.3, QFont.Weight.Normal)
        self.close_button.clicked.connect(self.close)

        self.title = _Label(card, self.text)
        _set_font(self.title, 1.45, QFont.Weight.DemiBold)
        self.subtitle = _Label(card, self.text)
        self.meta = _Label(card, self.muted, muted=True)
        _set_font(self.meta, 0.9, QFont.Weight.Normal)
        # The caller's note, on a line of its own (the popup grows by it).
        self.note = _Label(card, self.text)
        self.note.hide()

        self.crm_button = self.button("", card)
        self.crm_button.clicked.connect(self.open_crm)
        self.copy_button = self.button("", card)
        self.copy_button.clicked.connect(self.copy_number)
        self.callback_button = self.button(self.tr("Call back"), card)
        self.callback_button.setToolTip(self.tr("Ring your phone, then dial the caller"))
        self.callback_button.clicked.connect(self.call_back)
        self.note_button = self.button(self.tr("✎ Note"), card)
        self.note_button.setAccessibleName(self.tr("Note…"))
        self.note_button.clicked.connect(self.edit_note)

        top = QHBoxLayout()
        top.setSpacing(6)
        top.addWidget(self.route, 1)
        top.addWidget(self.status)
        top.addWidget(self.close_button)
        actions = QHBoxLayout()
        actions.setSpacing(6)
        actions.addWidget(self.callback_button)
        actions.addWidget(self.crm_button)
        actions.addWidget(self.copy_button)
        actions.addWidget(self.note_button)
        actions.addStretch(1)
        layout = QVBoxLayout(card)
        layout.setContentsMargins(int(STRIP) + 12, 6, 8, 10)
        layout.setSpacing(1)
        layout.addLayout(top)
        layout.addWidget(self.title)
        layout.addWidget(self.subtitle)
        layout.addWidget(self.meta)
        layout.addWidget(self.note)
        layout.addSpacing(6)
        layout.addLayout(actions)
        card.setStyleSheet(self.button_style())

        self._retranslate()
        self.show_call(call, PopupState.RINGING)

    def _retranslate(self) -> None:
        """The popup's words in the current language (again after the language changed)."""
        self.setWindowTitle(self.tr("Incoming call"))
        self.close_button.setToolTip(self.tr("Close"))
        self.close_button.setAccessibleName(self.tr("Close"))
        self.crm_button.setText(self.tr("Open in CRM"))
        self.copy_button.setText(self.tr("Copy"))
        self.copy_button.setToolTip(self.tr("Copy the number"))
        self._show_history()

    def show_call(self, call: Call, state: PopupState) -> None:
        """Display the call as it now is."""
        self.call = call
        self.state = state
        self.route.setText(self._route_text(call))
        self._show_party(call)
        dialable = phone.dialable(call.party)
        # A CRM has no record of a colleague or of a withheld number.
        self.crm_button.setVisible(
            bool(self.bridge.config.crm_url) and dialable and call.direction != "internal"
        )
        self.copy_button.setEnabled(dialable)
        self.callback_button.setVisible(state is PopupState.MISSED and dialable)
        self.note_button.setVisible(dialable)
        self._show_note()
        self.status.setText(self._status_text(call, state))
        self._colour_status()
        self.set_strip(STATE_TONES[state])
        self._describe()

    def _colour_status(self) -> None:
        """The state pill: the state's colour on a faint tint of it, the text kept readable
        on the tinted card (the grey states use the muted text)."""
        tone = STATE_TONES[self.state]
        palette = QGuiApplication.palette()
        base = palette.color(QPalette.ColorRole.Base)
        hue = theme.colour(tone, palette, QPalette.ColorRole.Base)
        tint = QColor(hue)
        tint.setAlpha(34)
        wanted = theme.text_contrast(palette)
        text = theme.readable(
            self.muted if tone is Tone.NEUTRAL else hue, theme.over(tint, base), wanted
        )
        self.status.setStyleSheet(
            f"color: {text.name()}; border-radius: 9px; padding: 1px 8px;"
            f" background: rgba({tint.red()}, {tint.green()}, {tint.blue()}, {tint.alpha()});"
        )

    def _apply_palette(self) -> None:
        super()._apply_palette()
        self._colour_status()

    def _describe(self) -> None:
        """What a screen reader says for the popup: who calls and how (the name), then what
        happened and how often they called (the description)."""
        who = " · ".join(filter(None, [self.title.text(), self.subtitle.text()]))
        self.setAccessibleName(f"{self.route.text()}: {who}")
        self.setAccessibleDescription(
            ". ".join(filter(None, [self.status.text(), self.meta.text()]))
        )

    def take_focus(self) -> None:
        """Bring the popup forward for the keyboard (the user asked: the tray's "Latest
        call"): it may now take focus, Tab moves between its buttons and Esc closes it."""
        self.allow_focus(True)
        self._hovered = True  # read by the keyboard: no closing by itself meanwhile
        self._close_timer.stop()
        self.activateWindow()
        buttons = [b for b in (self.crm_button, self.copy_button) if b.isVisibleTo(self)]
        first = next((b for b in buttons if b.isEnabled()), self.close_button)
        first.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def refresh_names(self) -> None:
        """Look the caller (and the queue) up again: a name was edited or an address book
        synced while the popup was up."""
        self.show_call(self.call, self.state)

    def _show_party(self, call: Call) -> None:
        """The caller's name on the big line, else the number; under it the number (when the
        name took the big line) and the company, as the missed calls list shows them."""
        name, company = self.bridge.contact_for(call.party_key) or ("", "")
        # The user's own edit or an address book first, then what the PBX called the caller.
        name = name or call.name
        number = (
            self.tr("Hidden number") if phone.withheld(call.party) else phone.display(call.party)
        )
        parts = [number] if name else []
        if company and company != name:
            parts.append(company)
        self.title.setText(name or number)
        self.subtitle.setText(" · ".join(parts))
        self.subtitle.setVisible(bool(parts))

    @property
    def closing(self) -> bool:
        """Whether the popup is on its way out by itself."""
        return self._close_ms > 0

    @property
    def close_ms(self) -> int:
        """The countdown it closes by itself after (0: none)."""
        return self._close_ms

    def close_after(self, ms: int) -> None:
        """Close by itself after `ms`, unless a close is already on its way; the countdown
        waits while the mouse is over the popup, so it never vanishes while being read."""
        if self._close_ms:
            return
        self._close_ms = ms
        if not self._hovered:
            self._close_timer.start(ms)

    def open_crm(self) -> None:
        template = self.bridge.config.crm_url
        if not template:
            return
        link = crm_link(template, self.call)
        if not self._open_url(QUrl(link)):
            # No browser: the link goes on the clipboard, and the popup says so.
            QGuiApplication.clipboard().setText(link)
            self.meta.setText(self.tr("No browser opened; link copied: %1").replace("%1", link))
            self.meta.setToolTip(link)

    def call_back(self) -> None:
        self.tasks.start(self._call_back(), name="call back from a popup")

    async def _call_back(self) -> None:
        """Dial the caller from the user's extension; in a team, a shared queue caller is
        claimed first, so two agents do not ring the same customer."""
        button = self.callback_button
        button.setEnabled(False)
        button.setText(self.tr("Calling…"))
        call = self.call
        try:
            if self.bridge.config.team_mode and call.queue:
                try:
                    await self.bridge.claim(call.party_key)
                except TeamError as exc:
                    if exc.status == 409:
                        raise
                    log.info("claim for a callback from a popup refused: %s", exc)
            dialled = await self.bridge.dialer.dial(call.party)
        except Exception as exc:
            if not isinstance(exc, BulutpopError):
                log.exception("calling back from a popup failed")
            self.meta.setText(describe_error(exc, "dial"))
            button.setText(self.tr("Call back"))
            button.setEnabled(True)
            return
        button.setText(self.tr("Phone ringing"))
        self.meta.setText(
            self.tr("Your phone is ringing — pick up to call %1.").replace(
                "%1", dialled.number.display
            )
        )
        self.close_after(CALLED_BACK_MS)

    def edit_note(self) -> None:
        self.tasks.start(
            edit_note(self.bridge, self, self.call.party_key, None, self._ask_note),
            name="note from a popup",
        )

    def _show_note(self) -> None:
        note = self.bridge.note_for(self.call.party_key)
        text = note.text if note else ""
        self.note.setText(f"✎ {text}" if text else "")
        self.note.setToolTip(text)
        self.note.setVisible(bool(text))
        # One short label either way: a 360 px card has no room for "Edit note…" in Turkish.
        self.note_button.setToolTip(
            self.tr("Edit the note on this caller")
            if text
            else self.tr("A short note on this caller, shown on their next call")
        )
        extra = self.note.fontMetrics().height() + 2 if text else 0
        if self.height() != CARD_HEIGHT + extra + 2 * SHADOW:
            self.setFixedSize(CARD_WIDTH + 2 * SHADOW, CARD_HEIGHT + extra + 2 * SHADOW)
            self.card.setGeometry(SHADOW, SHADOW, CARD_WIDTH, CARD_HEIGHT + extra)
            self.resized.emit()

    def copy_number(self) -> None:
        QGuiApplication.clipboard().setText(phone.display(self.call.party))
        self.copy_button.setText(self.tr("Copied"))
        QTimer.singleShot(1500, self, lambda: self.copy_button.setText(self.tr("Copy")))

    def _route_text(self, call: Call) -> str:
        if call.direction == "inbound":
            text = self.tr("Incoming call")
        elif call.direction == "internal":
            text = self.tr("Internal call")
        else:
            text = self.tr("Call")
        config = self.bridge.config
        if call.queue:
            name = self.bridge.queue_name(call.queue)
            # A PBX names its queues "Kuyruk 1" by default: "Queue Kuyruk 1" says it twice.
            said = {fold(word) for word in (self.tr("Queue"), "queue", "kuyruk")}
            named = fold(name).split(" ", 1)[0] in said
            route = name if named else self.tr("Queue %1").replace("%1", name)
        else:
            rung = [x for x in (*call.dialed_users, call.destination) if x in config.my_extensions]
            # The user's own extension goes without saying; a watched one is worth naming.
            shown = rung[0] if rung and rung[0] != config.extension else ""
            route = self.tr("Extension %1").replace("%1", shown) if shown else ""
        return f"{text} · {route}" if route else text

    def _status_text(self, call: Call, state: PopupState) -> str:
        if state is PopupState.RINGING:
            return self.tr("Ringing")
        if state is PopupState.ANSWERED_BY_ME:
            return self.tr("You answered")
        if state is PopupState.ANSWERED_ELSEWHERE:
            if call.connected_user:
                who = self.bridge.colleague_name(call.connected_user) or call.connected_user
                return self.tr("%1 answered").replace("%1", who)
            return self.tr("A colleague answered")
        if state is PopupState.STOPPED:
            return self.tr("No longer ringing here")
        if state is PopupState.MISSED:
            return self.tr("Missed")
        return self.tr("Ended")

    def _show_history(self) -> None:
        # One indexed COUNT per popup: cheap enough for the GUI thread.
        if not self.call.party_key:
            self.meta.setText("")
            return
        count, last = self.bridge.history_for(self.call.party_key, self.call.start_ts)
        if not count:
            self.meta.setText(self.tr("First time calling"))
            return
        text = self.tr("%1 · last: %2").replace("%1", self._ordinal_call(count + 1))
        self.meta.setText(text.replace("%2", fmt.when(last)))

    def _ordinal_call(self, n: int) -> str:
        # English needs four suffixes; a translation may map them all to one form ("%1. arama").
        if n % 100 in (11, 12, 13):
            text = self.tr("%1th call")
        elif n % 10 == 1:
            text = self.tr("%1st call")
        elif n % 10 == 2:
            text = self.tr("%1nd call")
        elif n % 10 == 3:
            text = self.tr("%1rd call")
        else:
            text = self.tr("%1th call")
        return text.replace("%1", str(n))

    # -- focus only on a deliberate click -----------------------------------------------

    def mousePressEvent(self, event: QMouseEvent) -> None:
        # The user reached for the popup: now it may take focus, so Esc can close it.
        self.allow_focus(True)
        self.activateWindow()
        super().mousePressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.ActivationChange and not self.isActiveWindow():
            self.allow_focus(False)
            if self._hovered and not self.underMouse():
                # The keyboard left (see take_focus): a pending close resumes.
                self._hovered = False
                if self._close_ms:
                    self._close_timer.start(self._close_ms)
        elif event.type() == QEvent.Type.LanguageChange and self.isVisible():
            self._retranslate()
            self.show_call(self.call, self.state)
        super().changeEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close()
        else:
            super().keyPressEvent(event)

    def enterEvent(self, event: QEnterEvent) -> None:
        self._hovered = True
        self._close_timer.stop()
        super().enterEvent(event)

    def leaveEvent(self, event: QEvent) -> None:
        self._hovered = False
        if self._close_ms:
            self._close_timer.start(self._close_ms)
        super().leaveEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._close_timer.stop()
        super().closeEvent(event)
        self.dismissed.emit(self.call.call_uuid)


class OverflowBar(_FloatingWindow):
    """The summary after the three visible popups: "+2 more" and "Close all"."""

    def __init__(self) -> None:
        super().__init__(OVERFLOW_HEIGHT)
        self.label = _Label(self.card, self.text)
        _set_font(self.label, 1.0, QFont.Weight.DemiBold)
        self.close_all_button = self.button(self.tr("Close all"), self.card)
        layout = QHBoxLayout(self.card)
        layout.setContentsMargins(int(STRIP) + 12, 6, 10, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.close_all_button)
        self.card.setStyleSheet(self.button_style())
        self._count = 0

    def set_hidden_count(self, count: int) -> None:
        self._count = count
        self.label.setText(self.tr("+%1 more").replace("%1", str(count)))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.close_all_button.setText(self.tr("Close all"))
            self.set_hidden_count(self._count)
        super().changeEvent(event)


@dataclass(frozen=True)
class CloseDelays:
    """How long a finished popup stays, in ms (tests pass short ones)."""

    answered_elsewhere: int = 4000
    missed: int = 6000
    # After the user's own answered call ends: the call is over, the popup has done its job.
    mine_ended: int = 1500


class _Waiting(QObject):
    """A call behind "+N more": its data and its own close countdown, but no window (a
    popup window costs ~200 KB; a busy queue can ring dozens of calls at once)."""

    expired = Signal(str)

    def __init__(self, call: Call, state: PopupState, parent: QObject) -> None:
        super().__init__(parent)
        self.call = call
        self.state = state
        self.close_ms = 0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(lambda: self.expired.emit(self.call.call_uuid))

    def close_after(self, ms: int) -> None:
        if not self.close_ms:
            self.close_ms = ms
            self._timer.start(ms)


class PopupManager(QObject):
    """Shows a popup when a call rings one of the user's extensions (or a watched queue or
    extension), updates it as the call goes on, and stacks the popups in the chosen corner
    of the screen under the mouse.

    A popup closes by itself once it has nothing more to say: a few seconds after a colleague
    answered (or an unanswered call ended that the core does not count as missed), a little
    longer after a missed call, and shortly after the user's own answered call ends. While
    the user's call goes on, the popup stays (its CRM and copy buttons are still useful).
    At most MAX_VISIBLE popups are windows; later calls wait behind "+N more" as data and
    get their window when a slot frees."""

    def __init__(
        self,
        bridge: CoreBridge,
        ring: Callable[[], None] | None = None,
        *,
        area: Callable[[], QRect] = _area_under_cursor,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
        delays: CloseDelays | None = None,
        parent: QObject | None = None,
        ask_note: NameAsker = ask_note,
    ) -> None:
        super().__init__(parent)
        self.bridge = bridge
        self.tasks = TaskSet()
        self._ring = ring
        self._area = area
        self._open_url = open_url
        self._ask_note = ask_note
        self.delays = delays or CloseDelays()
        self._popups: dict[str, CallPopup] = {}
        self._waiting: OrderedDict[str, _Waiting] = OrderedDict()
        self._popped: OrderedDict[str, None] = OrderedDict()
        # The stack stays on the screen it started on until it empties: popups must not
        # jump between monitors because the mouse moved.
        self._anchor: QRect | None = None
        self.overflow = OverflowBar()
        self.overflow.close_all_button.clicked.connect(self.close_all)
        bridge.changed.connect(self._on_change)
        bridge.configChanged.connect(self._on_config)
        bridge.namesChanged.connect(self._on_names)
        # Notes: written here (notesChanged) or by a colleague (they arrive as missedChanged).
        bridge.notesChanged.connect(self._on_names)
        bridge.missedChanged.connect(self._on_names)

    def popups(self) -> dict[str, CallPopup]:
        """Popup windows on screen by call id, oldest first."""
        return dict(self._popups)

    def focus_latest(self) -> bool:
        """Give the keyboard to the newest popup on screen (the tray's "Latest call");
        False when there is none."""
        if not self._popups:
            return False
        next(reversed(self._popups.values())).take_focus()
        return True

    def waiting(self) -> list[Call]:
        """Calls behind "+N more", oldest first."""
        return [entry.call for entry in self._waiting.values()]

    def close_all(self) -> None:
        for entry in self._waiting.values():
            entry.deleteLater()
        self._waiting.clear()
        for popup in list(self._popups.values()):
            popup.close()
        self.overflow.hide()

    def _on_config(self, config: Config) -> None:
        self._relayout()  # the corner may have changed

    def _on_names(self) -> None:
        # Waiting calls look their names up when they get a window.
        for popup in self._popups.values():
            popup.refresh_names()

    def _on_change(self, change: Change) -> None:
        call = change.call
        if call is None:
            return
        uuid = call.call_uuid
        state = popup_state(call, self.bridge.config.my_extensions)
        target: CallPopup | _Waiting | None = self._popups.get(uuid) or self._waiting.get(uuid)
        if target is None:
            ringing = change.event is not None and change.event.event_type == "ringing"
            if not (ringing and self._should_pop(call)):
                return
            target = self._add(call, state)
        if isinstance(target, CallPopup):
            target.show_call(call, state)
        else:
            target.call, target.state = call, state
        delay = self._close_delay(call, state)
        if delay is not None:
            target.close_after(delay)
        if call.ended:
            self._popped.pop(uuid, None)

    def _close_delay(self, call: Call, state: PopupState) -> int | None:
        if state in _GREY_STATES:
            return self.delays.answered_elsewhere
        if state is PopupState.MISSED:
            # Kept until closed (the default), so an agent who was away sees who called.
            return None if self.bridge.config.missed_popup_stays else self.delays.missed
        if state is PopupState.ANSWERED_BY_ME and call.ended:
            return self.delays.mine_ended
        return None

    def _should_pop(self, call: Call) -> bool:
        config = self.bridge.config
        if config.popups_paused or call.call_uuid in self._popped:
            return False
        return self.bridge.ring_is_news(call)  # not one already over or long begun

    def _add(self, call: Call, state: PopupState) -> CallPopup | _Waiting:
        self._popped[call.call_uuid] = None
        while len(self._popped) > REMEMBERED_CALLS:
            self._popped.popitem(last=False)
        target: CallPopup | _Waiting
        if len(self._popups) >= MAX_VISIBLE:
            self._make_room()
        if len(self._popups) < MAX_VISIBLE:
            target = self._create(call)
        else:
            target = _Waiting(call, state, self)
            target.expired.connect(self._on_expired)
            self._waiting[call.call_uuid] = target
        self._relayout()
        if self._ring is not None and self.bridge.config.ring_sound:
            self._ring()
        return target

    def _create(self, call: Call) -> CallPopup:
        popup = CallPopup(self.bridge, call, self._open_url, self._ask_note)
        popup.dismissed.connect(self._on_dismissed)
        popup.resized.connect(self._relayout)
        self._popups[call.call_uuid] = popup
        return popup

    def _make_room(self) -> None:
        """A ringing call takes the window of the oldest popup whose call has ended: that
        one waits behind "+N more" (with what is left of its countdown) and comes back
        when a slot frees."""
        ended = [
            p for p in self._popups.values() if p.call.ended and p.state is not PopupState.RINGING
        ]
        if not ended:
            return
        popup = ended[0]
        entry = _Waiting(popup.call, popup.state, self)
        entry.expired.connect(self._on_expired)
        if popup.closing:
            entry.close_after(popup.close_ms)
        self._waiting[popup.call.call_uuid] = entry
        self._waiting.move_to_end(popup.call.call_uuid, last=False)
        popup.dismissed.disconnect(self._on_dismissed)
        del self._popups[popup.call.call_uuid]
        popup.close()
        self._dispose(popup)

    def _dispose(self, popup: CallPopup) -> None:
        """Delete a closed popup; one still dialling is deleted once its task ends."""
        if len(popup.tasks):

            async def later() -> None:
                await popup.tasks.drain()
                popup.deleteLater()

            self.tasks.start(later(), name="closed popup")
        else:
            popup.deleteLater()

    def _on_expired(self, call_uuid: str) -> None:
        entry = self._waiting.pop(call_uuid, None)
        if entry is not None:
            entry.deleteLater()
            self._relayout()

    def _on_dismissed(self, call_uuid: str) -> None:
        popup = self._popups.pop(call_uuid, None)
        if popup is None:
            return
        self._dispose(popup)
        if self._waiting:
            # A call still ringing goes first; else the oldest.
            ringing = [k for k, e in self._waiting.items() if not e.call.ended]
            entry = self._waiting.pop(ringing[0] if ringing else next(iter(self._waiting)))
            promoted = self._create(entry.call)
            promoted.show_call(entry.call, entry.state)
            if entry.close_ms:
                promoted.close_after(entry.close_ms)
            entry.deleteLater()
        self._relayout()

    def _relayout(self) -> None:
        popups = list(self._popups.values())
        if not popups:
            self._anchor = None
            self.overflow.hide()
            return
        if self._anchor is None:
            self._anchor = self._area()
        area = self._anchor
        corner = self.bridge.config.popup_corner
        upwards = corner.startswith("bottom")
        right = corner.endswith("right")
        x = area.x() + area.width() - SCREEN_EDGE - CARD_WIDTH if right else area.x() + SCREEN_EDGE
        # `edge` is the outer edge of the next card: its bottom going up, its top going down.
        edge = area.y() + area.height() - SCREEN_EDGE if upwards else area.y() + SCREEN_EDGE

        def place(window: _FloatingWindow) -> None:
            nonlocal edge
            height = window.height() - 2 * SHADOW
            top = edge - height if upwards else edge
            window.move(x - SHADOW, top - SHADOW)
            edge = edge - height - GAP if upwards else edge + height + GAP
            window.appear()

        for popup in popups:
            place(popup)
        if self._waiting:
            self.overflow.set_hidden_count(len(self._waiting))
            place(self.overflow)
        else:
            self.overflow.hide()

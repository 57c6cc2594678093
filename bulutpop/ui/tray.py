"""The tray icon (state at a glance, menu rebuilt on open) and, where the desktop has no
tray, a small window with the same actions, so the app never runs invisibly.

The tray also switches the PBX's do-not-disturb for the user's extension and the number
presented when dialling, and tells how the catch-up from the PBX's call history is going."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QCoreApplication, QLocale, QObject, QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QActionGroup, QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QLabel,
    QLayout,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from bulutpop.calls import phone
from bulutpop.errors import BulutpopError, KeyRefused
from bulutpop.pbx.catchup import CatchUpStatus
from bulutpop.ui import assets
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.common.tasks import TaskSet

if TYPE_CHECKING:
    from bulutpop.team.link import TeamStatus

log = logging.getLogger(__name__)

# The PBX's /user_statuses value for an extension in do-not-disturb.

# The count badge in the tray SVGs' 64×64 view box.
BADGE_CENTRE, BADGE_RADIUS = (47.0, 17.0), 14.5


@dataclass(frozen=True)
class ShellActions:
    """What the tray menu and the fallback window can do; the app supplies them."""

    missed: Callable[[], None]
    history: Callable[[], None]
    dial: Callable[[], None]
    settings: Callable[[], None]
    about: Callable[[], None]
    quit: Callable[[], None]
    toggle_pause: Callable[[bool], None]
    # The first-run wizard again, while setup is incomplete (None: not offered).
    setup: Callable[[], None] | None = None
    # The keyboard's way to a popup (which never takes focus by itself): whether one is on
    # screen, and giving the newest one focus.
    has_popup: Callable[[], bool] = lambda: False
    latest_call: Callable[[], object] = lambda: None


ICON_CACHE = 16  # looks kept by the shell (states × missed counts shown lately)
# Windows keeps a tray tooltip in 128 UTF-16 units, its NUL included, and cuts the rest.
WINDOWS_TIP = 127


def fit_tip(lines: list[str], limit: int | None) -> str:
    """As many of `lines` as fit in `limit` UTF-16 units, whole and in order (the first
    is cut short, with "…", when even it does not fit)."""

    def units(text: str) -> int:
        return len(text.encode("utf-16-le")) // 2

    text = "\n".join(lines)
    if limit is None or units(text) <= limit:
        return text
    kept = lines[0]
    if units(kept) > limit:
        while units(kept) > limit - 1:
            kept = kept[:-1]
        return kept + "…"
    for line in lines[1:]:
        if units(kept + "\n" + line) > limit:
            break
        kept += "\n" + line
    return kept


def tray_icon(state: str, count: int = 0, size: int = 64) -> QIcon:
    """The icon for a state; "missed" gets the count painted into its badge. "setup"
    (setup incomplete) wears the problem's warning badge. "missed-paused" is the paused
    (grey) cloud with the missed calls' badge: popups are paused (or do-not-disturb is
    on) while calls wait, and neither fact may hide the other."""
    # Do-not-disturb shares the paused icon: either way, calls will not reach the user.
    name = {
        "problem": "tray-problem",
        "setup": "tray-problem",
        "paused": "tray-paused",
        "dnd": "tray-paused",
        "missed": "tray-missed",
        "missed-paused": "tray-paused",
    }.get(state, "tray-listening")
    icon = QIcon()
    renderer = QSvgRenderer(str(assets.path("icons", f"{name}.svg")))
    for side in (16, 22, 24, 32, 48, size):
        pixmap = QPixmap(side, side)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        scale = side / 64
        cx, cy = BADGE_CENTRE
        r = BADGE_RADIUS
        if state == "missed-paused":  # the badge of tray-missed.svg, on the grey cloud
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor("#FFFFFF"))
            painter.drawEllipse(QPointF(cx * scale, cy * scale), 17 * scale, 17 * scale)
            painter.setBrush(QColor("#D32F2F"))
            painter.drawEllipse(QPointF(cx * scale, cy * scale), r * scale, r * scale)
        if state in ("missed", "missed-paused") and count > 0:
            text = str(count) if count < 10 or side >= 32 else "9+"
            text = text if count < 100 else "99+"
            font = QFont()
            font.setBold(True)
            factor = 1.45 if len(text) == 1 else 1.1 if len(text) == 2 else 0.8
            font.setPixelSize(max(6, int(BADGE_RADIUS * factor * scale)))
            painter.setFont(font)
            painter.setPen(QColor("white"))
            box = QRectF((cx - r) * scale, (cy - r) * scale, 2 * r * scale, 2 * r * scale)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


# The Turkish ablative after the last word of a number as read aloud ("10:42'den",
# "10:40'tan", "11:00'dan"): by the units digit, else by the tens digit.
_UNITS_SUFFIX = ("'dan", "'den", "'den", "'ten", "'ten", "'ten", "'dan", "'den", "'den", "'dan")
_TENS_SUFFIX = ("'dan", "'dan", "'den", "'dan", "'tan", "'den")


def _since_suffix(clock: str) -> str:
    """What Turkish adds to "10:42" to say "since 10:42" ("'den"); "" in other languages."""
    if QLocale().language() != QLocale.Language.Turkish:
        return ""
    hours, _, minutes = clock.rpartition(" ")[2].partition(":")
    number = int(minutes) if minutes.isdigit() and int(minutes) else int(hours or 0)
    if number % 10:
        return _UNITS_SUFFIX[number % 10]
    return _TENS_SUFFIX[(number // 10) % 6] if number else _UNITS_SUFFIX[0]


def describe_team(status: TeamStatus, now: float | None = None) -> str:
    """The team link's state in one line: "Team: reconnecting since 10:42"."""
    if status.state == "connected":
        return QCoreApplication.translate("describe_team", "Team: connected")
    if status.state == "refused":
        return QCoreApplication.translate(
            "describe_team", "Team: credential refused — ask for a new invite"
        )
    if status.state == "removed":
        return QCoreApplication.translate(
            "describe_team", "Team: this PC was removed from the team"
        )
    if status.state == "reconnecting":
        now = time.time() if now is None else now
        # Today's time alone; an older one with its date (both end with the clock).
        same_day = time.localtime(status.since)[:3] == time.localtime(now)[:3]
        clock = time.strftime("%H:%M", time.localtime(status.since))
        if not same_day:
            clock = fmt.full(status.since)
        return (
            QCoreApplication.translate(
                "describe_team",
                "Team: reconnecting since %1%2",
                "%1: a time (10:42); %2: Turkish ablative suffix for it ('den, 'tan…), "
                "empty in other languages",
            )
            .replace("%1", clock)
            .replace("%2", _since_suffix(clock))
        )
    return QCoreApplication.translate("describe_team", "Team: connecting…")


class Shell(QObject):
    """Tray or fallback window, whichever the desktop supports; both show the same state."""

    stateChanged = Signal(str, str)  # state, tooltip text

    def __init__(
        self, bridge: CoreBridge, actions: ShellActions, use_tray: bool | None = None
    ) -> None:
        super().__init__()
        self.bridge = bridge
        self.actions = actions
        self.tasks = TaskSet()
        self.problem = ""
        # What setup still lacks, in the user's words ("" once complete).
        self.setup_needed = ""
        self.listening_on = ""
        self.state = "listening"
        self.tooltip = ""
        self.problems: list[str] = []  # shown first in the tooltip, and atop the menu
        self.tip_limit = WINDOWS_TIP if sys.platform == "win32" else None
        # The PBX cannot be asked for do-not-disturb except through a rate-limited status
        # list, so the state is kept here, by extension (the user may change theirs).
        self._dnd: dict[str, bool] = {}
        self._dnd_busy = False
        self._icons: dict[tuple[str, int], QIcon] = {}
        self.count = 0  # missed callers, as last shown
        use_tray = QSystemTrayIcon.isSystemTrayAvailable() if use_tray is None else use_tray
        self.tray: QSystemTrayIcon | None = None
        self.window: FallbackWindow | None = None
        self._menu = QMenu()
        self._menu.aboutToShow.connect(self._rebuild_menu)
        # Kept across rebuilds: clearing the menu deletes its actions, not its submenus.
        self._caller_menu = QMenu(self.tr("Present my number as"), self._menu)
        self._caller_group = QActionGroup(self._caller_menu)
        if use_tray:
            self.tray = QSystemTrayIcon(self)
            self.tray.setContextMenu(self._menu)
            self.tray.activated.connect(self._activated)
            self.tray.show()
        else:
            self.window = FallbackWindow(self)
            self.window.show()
        bridge.missedChanged.connect(self.refresh)
        bridge.configChanged.connect(lambda _config: self.refresh())
        bridge.catchUpChanged.connect(lambda _status: self.refresh())
        bridge.teamChanged.connect(lambda _status: self.refresh())
        self._rebuild_menu()
        self.refresh()

    @property
    def dnd(self) -> bool | None:
        """Do-not-disturb of the user's extension as last set or read; None: not known."""
        return self._dnd.get(self.bridge.config.extension)

    def set_problem(self, text: str) -> None:
        self.problem = text
        self.refresh()

    def set_setup_needed(self, text: str) -> None:
        """Setup is incomplete (`text` says what is missing) or, with "", complete: the
        icon, tooltip and menu say so, and the menu offers to finish it."""
        self.setup_needed = text
        self.refresh()

    def set_listening(self, where: str) -> None:
        self.listening_on = where
        self.refresh()

    def missed_count(self) -> int:
        return self.bridge.open_missed_count()

    def icon(self, state: str, count: int) -> QIcon:
        """`tray_icon`, drawn once per look: every change shown (a ring, a catch-up) asks
        again, and drawing six sizes from SVG each time would hold up the loop."""
        key = (state, count if state.startswith("missed") else 0)
        icon = self._icons.get(key)
        if icon is None:
            if len(self._icons) >= ICON_CACHE:
                self._icons.clear()
            icon = self._icons[key] = tray_icon(*key)
        return icon

    def team_line(self) -> str:
        """The team link's state ("Team: connected"); "" outside team mode."""
        status = self.bridge.team_status
        if status is None or not self.bridge.config.team_mode:
            return ""
        return describe_team(status)

    def refresh(self) -> None:
        count = self.count = self.missed_count()
        catchup = self.bridge.catchup_status
        # A refused key stops the catch-up until the key changes: as much a problem as a
        # receiver that cannot listen. Other failures are retried by themselves.
        key_refused = isinstance(catchup.error, KeyRefused)
        problems = [self.problem] if self.problem else []
        team = self.team_line()
        status = self.bridge.team_status
        # A lost or refused team link is a receiver that does not receive.
        team_down = (
            bool(team)
            and status is not None
            and status.state in ("reconnecting", "refused", "removed")
        )
        if team_down:
            problems.append(team)
        if key_refused and catchup.error is not None:
            problems.append(describe_error(catchup.error))
        paused = self.bridge.config.popups_paused
        if self.setup_needed:
            # Not "listening": until setup is done, no call can reach this PC.
            problems.insert(0, self.tr("Setup not finished: %1").replace("%1", self.setup_needed))
            state, tip = "setup", "\n".join(problems)
        elif problems:
            state, tip = "problem", "\n".join(problems)
        elif count:
            state = "missed-paused" if paused or self.dnd else "missed"
            tip = self.tr("%n missed call(s)", "", count)
        elif paused:
            state, tip = "paused", self.tr("Popups paused")
        elif self.dnd:
            state, tip = "dnd", self.tr("Do not disturb is on")
        else:
            state = "listening"
            tip = self.tr("Listening for calls")
        lines = [tip]
        if self.listening_on and not self.problem and not self.setup_needed:
            lines.append(self.tr("Receiver: %1").replace("%1", self.listening_on))
        if team and not team_down:
            lines.append(team)
        if paused and state != "paused":
            lines.append(self.tr("Popups paused"))
        if self.dnd and state != "dnd":
            lines.append(self.tr("Do not disturb is on"))
        if not key_refused:
            lines.extend(self.catchup_lines(catchup))
        lines[0] = "bulutpop — " + lines[0]
        self.state, self.tooltip, self.problems = state, "\n".join(lines), problems
        if self.tray is not None:
            self.tray.setIcon(self.icon(state, count))
            self.tray.setToolTip(fit_tip(lines, self.tip_limit))
        self.stateChanged.emit(state, self.tooltip)

    def catchup_lines(self, status: CatchUpStatus) -> list[str]:
        """What the catch-up from the PBX's call history last did, for the tooltip."""
        lines = []
        if status.running:
            lines.append(self.tr("Catching up from the PBX's call history…"))
        elif status.last_run is not None:
            lines.append(
                self.tr(
                    "Last catch-up %1 · %n call(s) recovered", "", status.last_recovered
                ).replace("%1", fmt.when(status.last_run))
            )
        if status.error is not None and not status.running:
            text = self.tr("Catch-up failed: %1").replace("%1", describe_error(status.error))
            if status.next_run is not None:
                text += " " + self.tr("Retrying at %1.").replace("%1", fmt.when(status.next_run))
            lines.append(text)
        return lines

    def notify(self, title: str, text: str) -> None:
        """A transient message from the tray (or the fallback window's status line)."""
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 6000)
        elif self.window is not None:
            self.window.status.setText(text)

    # -- do-not-disturb and caller number ------------------------------------------------

    async def load_dnd(self) -> None:
        """Read the extension's do-not-disturb state from the PBX, if it says (the status
        list allows 2 requests a minute: a refusal leaves the state unknown)."""
        extension = self.bridge.config.extension
        try:
            on = await self.bridge.dnd_on()
        except BulutpopError as exc:
            log.info("do-not-disturb state not read: %s", exc)
            return
        if extension not in self._dnd and not self._dnd_busy:  # not switched meanwhile
            self._dnd[extension] = on
            self.refresh()

    async def set_dnd(self, on: bool) -> bool:
        """Switch do-not-disturb on the PBX for the user's extension; False, told through
        `notify`, when it could not be changed."""
        if self._dnd_busy:
            return False
        self._dnd_busy = True
        extension = self.bridge.config.extension
        try:
            await self.bridge.set_dnd(on)
        except Exception as exc:
            if not isinstance(exc, BulutpopError):
                log.exception("do-not-disturb failed")
            self.notify(self.tr("Do not disturb was not changed"), describe_error(exc))
            self._dnd_busy = False
            self.refresh()  # the fallback window's switch shows the state that held
            return False
        finally:
            self._dnd_busy = False
        self._dnd[extension] = on
        self.refresh()
        return True

    def _toggle_dnd(self, on: bool) -> None:
        self.tasks.start(self.set_dnd(on), name="do-not-disturb")

    def _choose_caller_id(self, number: str) -> None:
        config = replace(self.bridge.config, caller_id=number)
        self.tasks.start(self.bridge.save_config(config), name="caller number")

    # -- menu -----------------------------------------------------------------------------

    def _activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            self.actions.missed()

    def entries(self) -> list[tuple[str, Callable[[], None]] | None]:
        """The menu's plain entries (None: a separator), with live counts."""
        count = self.missed_count()
        return [
            (self.tr("Missed calls (%1)").replace("%1", str(count)), self.actions.missed),
            (self.tr("Call history"), self.actions.history),
            (self.tr("Dial…"), self.actions.dial),
            None,
            (self.tr("Settings"), self.actions.settings),
            (self.tr("About"), self.actions.about),
            None,
            (self.tr("Quit"), self.actions.quit),
        ]

    def _rebuild_menu(self) -> None:
        # Actions are children of the menu: clear() deletes them, so nothing accumulates.
        self._menu.clear()
        # The whole of what is wrong (a tooltip may be cut short), then the team's state.
        team = self.team_line()
        status = [*self.problems, *([team] if team and team not in self.problems else [])]
        for line in status:
            self._menu.addAction(line).setEnabled(False)
        if self.setup_needed and self.actions.setup is not None:
            self._menu.addAction(self.tr("Finish setup…")).triggered.connect(self.actions.setup)
        if status:
            self._menu.addSeparator()
        if self.actions.has_popup():
            latest = self._menu.addAction(self.tr("Latest call…"))
            latest.setToolTip(self.tr("Move the keyboard to the newest popup (Esc closes it)"))
            latest.triggered.connect(lambda: self.actions.latest_call())
            self._menu.addSeparator()
        for index, entry in enumerate(self.entries()):
            if entry is None:
                self._menu.addSeparator()
                if index == 3:
                    self._add_switches()
                    self._menu.addSeparator()
                continue
            self._menu.addAction(entry[0]).triggered.connect(entry[1])

    def _add_switches(self) -> None:
        config = self.bridge.config
        pause = self._menu.addAction(self.tr("Pause popups"))
        pause.setCheckable(True)
        pause.setChecked(config.popups_paused)
        pause.toggled.connect(self.actions.toggle_pause)
        dnd = self._menu.addAction(self.tr("Do not disturb"))
        dnd.setCheckable(True)
        dnd.setChecked(bool(self.dnd))
        dnd.setEnabled(bool(config.extension) and not self._dnd_busy)
        dnd.setToolTip(self.tr("Your phone does not ring while this is on"))
        dnd.toggled.connect(self._toggle_dnd)
        if self.bridge.caller_ids:
            self._fill_caller_menu()
            self._menu.addMenu(self._caller_menu)

    def _fill_caller_menu(self) -> None:
        menu = self._caller_menu
        menu.clear()
        # Set on every fill: the language may have changed since the menu was made.
        menu.setTitle(self.tr("Present my number as"))
        current = self.bridge.config.caller_id
        choices = [("", self.tr("My extension's default"))]
        choices += [(number, phone.display(number)) for number in self.bridge.caller_ids]
        if current and current not in self.bridge.caller_ids:
            choices.append((current, phone.display(current)))
        for number, text in choices:
            action = menu.addAction(text)
            action.setCheckable(True)
            action.setChecked(number == current)
            action.setActionGroup(self._caller_group)
            action.triggered.connect(lambda _checked=False, n=number: self._choose_caller_id(n))

    def close(self) -> None:
        self.tasks.cancel()
        if self.tray is not None:
            self.tray.hide()
        if self.window is not None:
            self.window.close()


class FallbackWindow(QWidget):
    """Shown instead of the tray icon where the desktop has none: the menu's entries and
    switches (pause, do-not-disturb, the number presented) as buttons."""

    def __init__(self, shell: Shell) -> None:
        super().__init__()
        self.shell = shell
        self.setWindowTitle("bulutpop")
        self.setWindowIcon(assets.icon("bulutpop"))
        layout = QVBoxLayout(self)
        # The window grows with its text (a problem, setup advice) instead of cutting it.
        layout.setSizeConstraint(QLayout.SizeConstraint.SetMinAndMaxSize)
        self.state = QLabel()
        self.state.setTextFormat(Qt.TextFormat.PlainText)
        self.state.setWordWrap(True)
        layout.addWidget(self.state)
        self.setup_button = QPushButton()
        if shell.actions.setup is not None:
            self.setup_button.clicked.connect(shell.actions.setup)
        layout.addWidget(self.setup_button)
        self.buttons: list[QPushButton] = []
        for entry in shell.entries():
            if entry is None:
                continue
            button = QPushButton(entry[0])
            button.clicked.connect(entry[1])
            layout.addWidget(button)
            self.buttons.append(button)
        # The menu's switches, placed after "Dial…" as in the menu.
        self.pause_button = QPushButton()
        self.pause_button.setCheckable(True)
        self.pause_button.clicked.connect(lambda on: shell.actions.toggle_pause(on))
        self.dnd_button = QPushButton()
        self.dnd_button.setCheckable(True)
        self.dnd_button.clicked.connect(shell._toggle_dnd)
        self.caller_button = QPushButton()
        self.caller_button.setMenu(shell._caller_menu)
        shell._caller_menu.aboutToShow.connect(shell._fill_caller_menu)
        for offset, button in enumerate((self.pause_button, self.dnd_button, self.caller_button)):
            layout.insertWidget(layout.indexOf(self.buttons[2]) + 1 + offset, button)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.status)
        shell.stateChanged.connect(self._show_state)
        self.setMinimumWidth(280)
        self._show_state(shell.state, shell.tooltip)

    def _show_state(self, state: str, tooltip: str) -> None:
        shell = self.shell
        self.state.setText(tooltip)
        self.setWindowIcon(shell.icon(state, shell.count))
        self.setup_button.setText(self.tr("Finish setup…"))
        self.setup_button.setVisible(bool(shell.setup_needed) and shell.actions.setup is not None)
        # Only the labels change (the missed count); the buttons stay.
        labels = [entry[0] for entry in shell.entries() if entry is not None]
        for button, label in zip(self.buttons, labels, strict=True):
            button.setText(label)
        config = shell.bridge.config
        self.pause_button.setText(self.tr("Pause popups"))
        self.pause_button.setChecked(config.popups_paused)
        self.dnd_button.setText(self.tr("Do not disturb"))
        self.dnd_button.setToolTip(self.tr("Your phone does not ring while this is on"))
        self.dnd_button.setChecked(bool(shell.dnd))
        self.dnd_button.setEnabled(bool(config.extension) and not shell._dnd_busy)
        self.caller_button.setText(self.tr("Present my number as"))
        self.caller_button.setVisible(bool(shell.bridge.caller_ids))

    def closeEvent(self, event: object) -> None:
        # Closing the only window quits: nothing would be left to bring the app back.
        self.shell.actions.quit()

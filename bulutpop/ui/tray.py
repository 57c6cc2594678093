"""The tray icon (state at a glance, menu rebuilt on open) and, where the desktop has no
tray, a small window with the same actions, so the app never runs invisibly."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import (
    QLabel,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from bulutpop.ui import assets
from bulutpop.ui.bridge import CoreBridge

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


def tray_icon(state: str, count: int = 0, size: int = 64) -> QIcon:
    """The icon for a state; "missed" gets the count painted into its badge."""
    name = {"problem": "tray-problem", "paused": "tray-paused", "missed": "tray-missed"}.get(
        state, "tray-listening"
    )
    icon = QIcon()
    for side in (16, 22, 24, 32, 48, size):
        pixmap = QPixmap(side, side)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        QSvgRenderer(str(assets.path("icons", f"{name}.svg"))).render(painter)
        if state == "missed" and count > 0:
            scale = side / 64
            text = str(count) if count < 10 or side >= 32 else "9+"
            text = text if count < 100 else "99+"
            font = QFont()
            font.setBold(True)
            factor = 1.45 if len(text) == 1 else 1.1 if len(text) == 2 else 0.8
            font.setPixelSize(max(6, int(BADGE_RADIUS * factor * scale)))
            painter.setFont(font)
            painter.setPen(QColor("white"))
            cx, cy = BADGE_CENTRE
            r = BADGE_RADIUS
            box = QRectF((cx - r) * scale, (cy - r) * scale, 2 * r * scale, 2 * r * scale)
            painter.drawText(box, Qt.AlignmentFlag.AlignCenter, text)
        painter.end()
        icon.addPixmap(pixmap)
    return icon


class Shell(QObject):
    """Tray or fallback window, whichever the desktop supports; both show the same state."""

    stateChanged = Signal(str, str)  # state, tooltip text

    def __init__(
        self, bridge: CoreBridge, actions: ShellActions, use_tray: bool | None = None
    ) -> None:
        super().__init__()
        self.bridge = bridge
        self.actions = actions
        self.problem = ""
        self.listening_on = ""
        self.state = "listening"
        self.tooltip = ""
        use_tray = QSystemTrayIcon.isSystemTrayAvailable() if use_tray is None else use_tray
        self.tray: QSystemTrayIcon | None = None
        self.window: FallbackWindow | None = None
        self._menu = QMenu()
        self._menu.aboutToShow.connect(self._rebuild_menu)
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
        self._rebuild_menu()
        self.refresh()

    def set_problem(self, text: str) -> None:
        self.problem = text
        self.refresh()

    def set_listening(self, where: str) -> None:
        self.listening_on = where
        self.refresh()

    def missed_count(self) -> int:
        return self.bridge.core.store.open_missed_count()

    def refresh(self) -> None:
        count = self.missed_count()
        if self.problem:
            state, tip = "problem", self.problem
        elif count:
            state = "missed"
            tip = self.tr("%n missed call(s)", "", count)
        elif self.bridge.config.popups_paused:
            state, tip = "paused", self.tr("Popups paused")
        else:
            state = "listening"
            tip = self.tr("Listening for calls")
        if self.listening_on and not self.problem:
            tip += "\n" + self.tr("Receiver: %1").replace("%1", self.listening_on)
        self.state, self.tooltip = state, "bulutpop — " + tip
        if self.tray is not None:
            self.tray.setIcon(tray_icon(state, count))
            self.tray.setToolTip(self.tooltip)
        self.stateChanged.emit(state, self.tooltip)

    def notify(self, title: str, text: str) -> None:
        """A transient message from the tray (or the fallback window's status line)."""
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(title, text, QSystemTrayIcon.MessageIcon.Information, 6000)
        elif self.window is not None:
            self.window.status.setText(text)

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
        for index, entry in enumerate(self.entries()):
            if entry is None:
                self._menu.addSeparator()
                if index == 3:
                    pause = self._menu.addAction(self.tr("Pause popups"))
                    pause.setCheckable(True)
                    pause.setChecked(self.bridge.config.popups_paused)
                    pause.toggled.connect(self.actions.toggle_pause)
                continue
            self._menu.addAction(entry[0]).triggered.connect(entry[1])

    def close(self) -> None:
        if self.tray is not None:
            self.tray.hide()
        if self.window is not None:
            self.window.close()


class FallbackWindow(QWidget):
    """Shown instead of the tray icon where the desktop has none."""

    def __init__(self, shell: Shell) -> None:
        super().__init__()
        self.shell = shell
        self.setWindowTitle("bulutpop")
        self.setWindowIcon(assets.icon("bulutpop"))
        layout = QVBoxLayout(self)
        self.state = QLabel()
        self.state.setTextFormat(Qt.TextFormat.PlainText)
        self.state.setWordWrap(True)
        layout.addWidget(self.state)
        self.buttons: list[QPushButton] = []
        for entry in shell.entries():
            if entry is None:
                continue
            button = QPushButton(entry[0])
            button.clicked.connect(entry[1])
            layout.addWidget(button)
            self.buttons.append(button)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.status)
        shell.stateChanged.connect(self._show_state)
        self.setMinimumWidth(280)

    def _show_state(self, state: str, tooltip: str) -> None:
        self.state.setText(tooltip)
        self.setWindowIcon(tray_icon(state, self.shell.missed_count()))
        # Only the labels change (the missed count); the buttons stay.
        labels = [entry[0] for entry in self.shell.entries() if entry is not None]
        for button, label in zip(self.buttons, labels, strict=True):
            button.setText(label)

    def closeEvent(self, event: object) -> None:
        # Closing the only window quits: nothing would be left to bring the app back.
        self.shell.actions.quit()

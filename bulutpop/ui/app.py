"""The tray application: one asyncio loop inside Qt's (qasync), the core's runtime (the
receiver or the team link, the catch-up, the phonebook sync: `bulutpop.app.runtime`, the
same as `bulutpop serve` runs), and the windows, created when first needed. The app shows
what the runtime reports and calls the core through the bridge; it decides no call rules."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import platformdirs

from bulutpop import __version__
from bulutpop.app.core import Core, setup_logging
from bulutpop.app.runtime import ServiceState
from bulutpop.calls.model import Call
from bulutpop.errors import BulutpopError, CredentialRefused, KeyringUnavailable, SetupMissing
from bulutpop.local.config import Dirs
from bulutpop.local.redact import Redactor

if TYPE_CHECKING:  # the product loads its development tools only for `bulutpop demo`
    from bulutpop.devtools.demo import DemoBackend

os.environ.setdefault("QT_API", "pyside6")
# QtMultimedia reports every optional library it could not load; agents don't need that.
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

import qasync
import shiboken6
from PySide6.QtCore import QCoreApplication, QEvent, QObject, QUrl, Slot
from PySide6.QtGui import QDesktopServices, QFileOpenEvent
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QWidget

from bulutpop.ui import assets
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.errors import describe_error, missing_setup
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.handoff import InstanceServer, hand_over, server_name
from bulutpop.ui.i18n import Translations
from bulutpop.ui.macos import prevent_app_nap
from bulutpop.ui.tray import Shell, ShellActions

log = logging.getLogger(__name__)

GIL_SWITCH_SECONDS = 0.0005


def _ring_player() -> Callable[[], None]:
    """Plays the ring sound through QtMultimedia; silent where it cannot load (no libpulse).

    QtMultimedia is loaded on the first ring, not at start: importing it and making the
    `QSoundEffect` (which loads its FFmpeg backend) costs ~11 MB an idle app need not hold.
    """
    play: Callable[[], None] | None = None
    unavailable = False

    def ring() -> None:
        nonlocal play, unavailable
        if unavailable:
            return
        if play is None:
            try:
                from PySide6.QtMultimedia import QSoundEffect
            except ImportError as exc:
                log.warning("no ring sound: %s", exc)
                unavailable = True
                return
            sound = QSoundEffect(QCoreApplication.instance())
            sound.setSource(QUrl.fromLocalFile(str(assets.path("sounds", "ring.wav"))))
            sound.setVolume(0.6)
            play = sound.play
        play()

    return ring


class DesktopApp(QObject):
    """Owns the windows and wires them to the core; holds no call rules of its own."""

    def __init__(
        self,
        core: Core,
        translations: Translations,
        quit: Callable[[], None],
        *,
        use_tray: bool | None = None,
        demo: DemoBackend | None = None,
    ) -> None:
        super().__init__()
        # The loop (the UI's) shares the GIL with the store's writer thread: by default a
        # busy writer keeps it 5 ms whenever the loop gives it up (each call into Qt does),
        # and a burst of events held the UI up for 100-300 ms. Switching every 0.5 ms keeps
        # it under the 50 ms a user would notice (benchmarks/burst.py).
        sys.setswitchinterval(GIL_SWITCH_SECONDS)
        # A tray app: closing its last window (or the wizard) is no reason to quit.
        app = QApplication.instance()
        if isinstance(app, QApplication):
            app.setQuitOnLastWindowClosed(False)
        self.core = core
        self.bridge = CoreBridge(core, self)
        self.translations = translations
        self.demo = demo
        self.tasks = TaskSet()
        self._quit = quit
        self._windows: dict[str, QWidget] = {}
        # Per-use dialogs not yet freed, by name or not: one replaced under its name may
        # still be busy (a call being placed) and show itself again.
        self._dialogs: set[QDialog] = set()
        self.runtime = self.bridge.runtime
        # Once setup is complete: what the app itself asks the PBX (caller ids, DND state).
        self._asked_pbx = False
        self.bridge.serviceChanged.connect(self._on_service)
        from bulutpop.ui.popup import PopupManager

        # Before the shell: its menu offers the latest popup to the keyboard.
        self.popups = PopupManager(self.bridge, ring=_ring_player())
        self.shell = Shell(
            self.bridge,
            ShellActions(
                missed=self.show_missed,
                history=self.show_history,
                dial=lambda: self.show_dial(""),
                settings=lambda: self.show_settings(first_run=False),
                about=self.show_about,
                quit=self.quit,
                toggle_pause=self.set_paused,
                setup=lambda: self.show_settings(first_run=True),
                has_popup=lambda: bool(self.popups.popups()),
                latest_call=lambda: self.popups.focus_latest(),
            ),
            use_tray=use_tray,
        )

    async def start(self) -> None:
        """Start the runtime (the receiver or the team link, the catch-up, the phonebook
        sync…: the app only shows their states), then the first-run wizard if setup is not
        complete, else what the app asks the PBX itself."""
        await self.runtime.start()
        # What the start made lives as long as the app: set aside from the garbage
        # collector, whose full passes over it stopped the loop (the UI) for 100 ms and
        # more in a burst of events (benchmarks/burst.py).
        gc.freeze()
        receiver = self.runtime.receiver
        if self.demo is not None and receiver is not None:
            url = f"http://127.0.0.1:{receiver.port}{self.core.config.webhook_path()}"
            self._announce_demo()
            self.tasks.start(self.demo.play(url), name="demo")
        if await self._check_setup():
            self.show_settings(first_run=True)

    def _announce_demo(self) -> None:
        """Say what the demo is before its first call pops up: made-up calls from a fake
        PBX on this PC, not a PBX account."""
        assert self.demo is not None
        log.warning(
            "demo: a built-in fake PBX at %s plays sample calls to this app every few "
            "seconds; the calls, names and recordings are made up and nothing reaches a real "
            "PBX. Quit from the tray menu or with Ctrl+C.",
            self.demo.api_url,
        )
        self.shell.notify(
            self.tr("bulutpop demo"),
            self.tr(
                "A fake PBX on this PC now plays sample calls every few seconds, so you can "
                "try popups, missed calls, calling back and recordings. The calls are made up."
            ),
        )

    def _on_service(self, state: ServiceState) -> None:
        """A service of the runtime changed: the tray says what matters to the user."""
        if state.name not in ("receiver", "team"):
            return
        if state.state == "failed" and state.error is not None:
            text = describe_error(state.error)
            self.shell.set_problem(text)
            if state.name == "receiver":
                self._warn(self.tr("The call receiver could not start"), text)
            elif not isinstance(state.error, CredentialRefused):  # the tray says refused
                self._warn(self.tr("The team link could not start"), text)
        elif state.state == "running":
            self.shell.set_problem("")
        if state.name == "receiver":
            self.shell.set_listening(state.detail if state.state == "running" else "")

    def _ask_pbx(self) -> None:
        """The app's own questions to the PBX (through the relay in team mode): asked once
        setup is complete, so a new user's first minutes are not spent on failures."""
        if self._asked_pbx:
            return
        self._asked_pbx = True
        self.tasks.start(self._load_caller_ids(), name="caller-ids")
        self.shell.tasks.start(self.shell.load_dnd(), name="dnd-state")

    async def _load_caller_ids(self) -> None:
        try:
            await self.bridge.load_caller_ids()
        except BulutpopError as exc:
            log.info("outbound numbers not listed: %s", exc)
        self.shell.refresh()  # the fallback window shows the choice once there is one

    async def _check_setup(self) -> str:
        """What setup still lacks, in the user's words ("" when complete), shown by the
        tray until it is done; once complete, the app asks the PBX its own questions."""
        missing = await self._setup_gap()
        self.shell.set_setup_needed(missing)
        if not missing:
            self._ask_pbx()
        return missing

    async def _setup_gap(self) -> str:
        config = self.core.config
        if config.team_mode:
            # No API key in team mode; a missing team secret is told by the team service.
            return "" if config.extension else missing_setup(SetupMissing("extension"))
        try:
            key = await self.bridge.stored_key()
        except KeyringUnavailable as exc:
            if config.extension and exc.problem in ("locked", "failed"):
                # Set up before, and the keyring is only unusable for now: the tray says
                # so, and the key is read again once the keyring works.
                self.shell.set_problem(describe_error(exc))
                return ""
            # No keyring at all (or only a plaintext one): no key can be stored here.
            return describe_error(exc)
        if not key:
            return missing_setup(SetupMissing("api_key"))
        return "" if config.extension else missing_setup(SetupMissing("extension"))

    async def stop(self) -> None:
        # Windows first: what closing one starts (applying the settings) is cancelled with
        # the rest, and the per-use dialogs are freed here.
        windows = [w for w in {*self._windows.values(), *self._dialogs} if shiboken6.isValid(w)]
        for window in windows:
            window.close()
        self.tasks.cancel()
        self.shell.tasks.cancel()
        await self.tasks.drain()
        await self.shell.tasks.drain()
        # The reused windows too: an app stopped and made again in one process (the tests, a
        # restart) must not keep the old ones and their connections.
        for window in windows:
            await self._free(window, cancel=True)
        self._windows.clear()
        self.popups.close_all()
        self.shell.close()
        await self.runtime.stop()
        self.bridge.detach()

    def quit(self) -> None:
        self._quit()

    # -- windows ----------------------------------------------------------------------
    #
    # The missed-call list, the history and the player are made once and reused (closing
    # hides them). The settings, dial and warning dialogs are made for one use and deleted
    # once closed: each connects to the bridge's signals and its own widgets' signals hold
    # slots that refer back to it, so a closed one is freed by nothing but its deletion, and
    # its connections on the bridge (which lives as long as the app) go with it.

    def _retranslate(self) -> None:
        """A new language: the reused lists are made again (their texts are set when they
        are built), in the same place if they are open. The tray's tooltip follows here;
        its menus are rebuilt when opened, and open popups, the player and the fallback
        window retranslate themselves on Qt's LanguageChange."""
        reopen = {"missed": self.show_missed, "history": self.show_history}
        for name, show in reopen.items():
            window = self._windows.pop(name, None)
            if window is None or not shiboken6.isValid(window):
                continue
            visible, geometry = window.isVisible(), window.saveGeometry()
            window.close()
            self.tasks.start(self._free(window, cancel=True), name="window-replaced")
            if visible:
                show()
                self._windows[name].restoreGeometry(geometry)
        self.shell.refresh()

    def _window(self, name: str, make: Callable[[], QWidget]) -> QWidget:
        window = self._windows.get(name)
        if window is None:
            window = self._windows[name] = make()
        window.show()
        window.raise_()
        window.activateWindow()
        return window

    def _open_once(self, name: str, dialog: QDialog) -> None:
        """Keep a per-use dialog under `name` until it is closed, then free it."""
        self._windows[name] = dialog
        self._dialogs.add(dialog)
        dialog.finished.connect(self._dialog_closed)

    def _dialog_closed(self, _result: int) -> None:
        dialog = self.sender()
        if isinstance(dialog, QDialog):
            self.tasks.start(self._free(dialog), name="window-closed")

    async def _free(self, dialog: QWidget, *, cancel: bool = False) -> None:
        """Delete a closed window once its own tasks have ended: the ones cancelled on close
        still tidy up its widgets, and a call still being placed may show the dial dialog
        again with its error (closed again later, it comes back here). `cancel`: stop them
        instead of waiting (at exit, or for a window being replaced)."""
        tasks = getattr(dialog, "tasks", None)
        try:
            if isinstance(tasks, TaskSet):
                if cancel:
                    tasks.cancel()
                await tasks.drain()
        finally:
            if shiboken6.isValid(dialog) and not dialog.isVisible():
                self._dialogs.discard(dialog)
                for name, window in list(self._windows.items()):
                    if window is dialog:
                        del self._windows[name]
                dialog.deleteLater()

    def _visible(self, name: str) -> QWidget | None:
        window = self._windows.get(name)
        if window is not None and shiboken6.isValid(window) and window.isVisible():
            return window
        return None

    def show_missed(self) -> None:
        from bulutpop.ui.missed.window import MissedWindow

        self._window("missed", lambda: MissedWindow(self.bridge))

    def show_history(self) -> None:
        from bulutpop.ui.history.window import HistoryWindow

        def make() -> QWidget:
            window = HistoryWindow(self.bridge)
            window.playRequested.connect(self.play)
            return window

        self._window("history", make)

    def show_dial(self, number: str) -> None:
        from bulutpop.ui.dial import DialDialog

        window = self._windows.get("dial")
        # One still placing a call comes back rather than a second dialog beside it.
        calling = isinstance(window, DialDialog) and shiboken6.isValid(window) and window.calling
        dialog = window if calling else self._visible("dial")
        if isinstance(dialog, DialDialog):
            if number:
                dialog.set_number(number)
        else:
            dialog = DialDialog(self.bridge, number)
            self._open_once("dial", dialog)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def play(self, call: Call) -> None:
        from bulutpop.ui.player import PlayerWindow

        player = self._window("player", lambda: PlayerWindow(self.bridge))
        assert isinstance(player, PlayerWindow)
        self.tasks.start(player.open_call(call), name="player")

    def show_settings(self, first_run: bool) -> None:
        """One settings window at a time: an open one is brought to the front."""
        from bulutpop.ui.settings.dialog import SettingsDialog

        dialog = self._visible("settings")
        if dialog is None:
            dialog = SettingsDialog(self.bridge, first_run=first_run)
            dialog.finished.connect(self._settings_closed)
            self._open_once("settings", dialog)
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    def _settings_closed(self, _result: int = 0) -> None:
        config = self.core.config
        before = self.translations.language
        if self.translations.apply(config.language) != before:
            self._retranslate()
        self.tasks.start(self._apply_settings(), name="settings-applied")

    async def _apply_settings(self) -> None:
        """The runtime follows saved settings by itself (a new port restarts the receiver,
        joining a team swaps the services); what is left is the app's own."""
        await self._check_setup()
        if self.bridge.catchup_status.error is not None:
            self.runtime.trigger_catchup()  # the key or address may be fixed now

    def show_about(self) -> None:
        QMessageBox.about(
            None,
            self.tr("About bulutpop"),
            self.tr(
                "bulutpop %1\n\nScreen pop, missed calls, click-to-dial and recordings for "
                "Bulutsantralim.\n\nData folder: %2"
            )
            .replace("%1", __version__)
            .replace("%2", str(self.core.dirs.data)),
        )

    def set_paused(self, paused: bool) -> None:
        self.tasks.start(
            self.bridge.save_config(replace(self.core.config, popups_paused=paused)),
            name="pause",
        )

    def _warn(self, title: str, text: str) -> None:
        # Not modal: the rest of the app (missed list, dialling) still works meanwhile.
        box = QMessageBox(QMessageBox.Icon.Warning, title, text)
        self._open_once("warning", box)
        box.show()

    # -- hand-over from later starts --------------------------------------------------

    def handle_argv(self, argv: Sequence[str]) -> None:
        """A later `bulutpop …` start: a tel:/callto: link opens the dial dialog filled in
        (one Enter to call), `dial NUMBER` dials, anything else shows the missed calls."""
        args = list(argv)
        log.info("handed over: %s", " ".join(args)[:100] or "(nothing)")
        if args and args[0].lower().startswith(("tel:", "callto:")):
            self.show_dial(args[0])
        elif args[:1] == ["dial"] and len(args) > 1:
            self.tasks.start(self.dial_now(args[1]), name="dial")
        elif args[:1] == ["show"] or not args:
            self.show_missed()

    async def dial_now(self, text: str) -> None:
        try:
            dialled = await self.bridge.dialer.dial(text)
        except Exception as exc:  # every failure is told to the user, in plain words
            if not isinstance(exc, BulutpopError):
                log.exception("dialling failed")
            self.shell.notify(self.tr("Call not placed"), describe_error(exc, "dial"))
            return
        self.shell.notify(
            self.tr("Calling"),
            self.tr("Your phone is ringing: pick up to call %1").replace(
                "%1", dialled.number.display
            ),
        )


class LinkEvents(QObject):
    """tel:/callto: links that reach the running app through Qt rather than argv: macOS
    sends an Apple Event, which Qt delivers as a QFileOpenEvent, or (PySide6 6.8.1–6.8.2,
    QTBUG-134316) to the URL handler registered with QDesktopServices; both are taken. Links
    that arrive before the app is ready wait for `deliver_to`."""

    SCHEMES = ("tel", "callto")

    def __init__(self, app: QApplication, platform: str = sys.platform) -> None:
        super().__init__(app)
        self._pending: list[str] = []
        self._handle: Callable[[Sequence[str]], None] | None = None
        if platform == "darwin":
            # An application-wide filter sees every Qt event of the process (each costs a
            # call into Python): only macOS sends links as QFileOpenEvent.
            app.installEventFilter(self)
        for scheme in self.SCHEMES:
            # PySide6 takes the method's name as str, although its stub says bytes.
            QDesktopServices.setUrlHandler(scheme, self, "open_url")  # type: ignore[arg-type]

    def close(self) -> None:
        for scheme in self.SCHEMES:
            QDesktopServices.unsetUrlHandler(scheme)

    def deliver_to(self, handle: Callable[[Sequence[str]], None]) -> None:
        self._handle = handle
        pending, self._pending = self._pending, []
        for url in pending:
            handle([url])

    @Slot(QUrl)
    def open_url(self, url: QUrl) -> None:
        self._take(url.toString())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FileOpen and isinstance(event, QFileOpenEvent):
            url = event.url().toString()
            if url.lower().startswith(tuple(f"{s}:" for s in self.SCHEMES)):
                self._take(url)
                return True
        return super().eventFilter(watched, event)

    def _take(self, url: str) -> None:
        if self._handle is None:
            self._pending.append(url)
        else:
            self._handle([url])


def _demo_dir() -> Path:
    return Path(platformdirs.user_data_dir("bulutpop")) / "demo"


def _install_excepthook(redactor: Redactor, stopping: Callable[[], bool]) -> None:
    """Crashes are logged (redacted) and told to the user; the app keeps running. Once the
    app is `stopping`, nobody is there to read a dialog: the log alone keeps it."""

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        log.critical("unexpected error", exc_info=(kind, value, tb))
        if QApplication.instance() is not None and not stopping():
            QMessageBox.critical(
                None,
                "bulutpop",
                QCoreApplication.translate(
                    "app", "Something went wrong: %1\n\nDetails are in the log file."
                ).replace("%1", redactor.redact(str(value))[:300]),
            )

    sys.excepthook = hook


def run(argv: Sequence[str], demo: bool = False, use_tray: bool | None = None) -> int:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("bulutpop")
    app.setApplicationVersion(__version__)
    app.setWindowIcon(assets.icon("bulutpop"))
    prevent_app_nap()  # macOS would throttle the timers of a menu-bar app in the background
    links = LinkEvents(app)

    backend = None
    if demo:
        from bulutpop.devtools.demo import DemoBackend

        backend = DemoBackend(_demo_dir())
    env = backend.env() if backend else dict(os.environ)
    dirs = Dirs.from_env(env)
    name = server_name(dirs.data)
    if hand_over(name, list(argv) or ["show"]):
        return 0
    instance = InstanceServer(name)

    loop = qasync.QSelectorEventLoop(app)
    asyncio.set_event_loop(loop)
    done = asyncio.Event()
    # Qt quits by itself at a macOS logout or Quit event and at Windows' WM_ENDSESSION
    # (Restart Manager before an upgrade too): that is the tray's Quit, not a crash.
    app.aboutToQuit.connect(done.set)
    result = 0

    redactor = Redactor()
    setup_logging(redactor, log_file=dirs.data / "bulutpop.log")
    _install_excepthook(redactor, stopping=done.is_set)
    translations = Translations()

    async def main() -> None:
        nonlocal result
        if backend is not None:
            await backend.start()
        try:
            core = Core.open(backend.env() if backend else env, redactor=redactor)
        except BulutpopError as exc:
            translations.apply("system")
            QMessageBox.critical(None, "bulutpop", redactor.redact(describe_error(exc)))
            result = 1
            return
        if backend is not None:
            await core.update_config(
                core.config.with_value("extension", "1001").with_value("listen_port", 0)
            )
        translations.apply(core.config.language)
        desktop = DesktopApp(core, translations, done.set, use_tray=use_tray, demo=backend)
        instance.received.connect(desktop.handle_argv)
        links.deliver_to(desktop.handle_argv)
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, done.set)
        try:
            await desktop.start()
            if argv:
                desktop.handle_argv(argv)
            await done.wait()
        finally:
            await desktop.stop()
            core.close()
            if backend is not None:
                await backend.stop()

    task = loop.create_task(main())
    task.add_done_callback(lambda _task: loop.stop())
    with loop:
        # Qt's own quit ends exec() before main() has stopped the services (qasync's
        # run_until_complete would raise): run the loop again until it has.
        while not task.done():
            loop.run_forever()
        task.result()
    links.close()
    instance.close()
    return result

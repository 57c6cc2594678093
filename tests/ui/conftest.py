"""GUI test fixtures: a qasync loop (pattern A in ENVIRONMENT.md: sync tests drive
coroutines with `run_until_complete`), a real core in a temporary directory, the real
webhook receiver and the fake PBX on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import sys
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest
import qasync
from PySide6.QtCore import QLocale, QTranslator
from PySide6.QtWidgets import QApplication, QMenu, QTableView, QWidget
from pytestqt.qtbot import QtBot

from bulutpop.app.core import Core
from bulutpop.devtools.fakepbx import FakePbxState, start, tone_wav
from bulutpop.devtools.replay import post_bodies
from bulutpop.pbx.receiver import Receiver
from bulutpop.ui import assets, i18n
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.actions import ForgetConfirmation
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.missed.window import MissedWindow
from bulutpop.ui.settings.dialog import SettingsDialog
from bulutpop.ui.tray import Shell, ShellActions
from tests.conftest import TEST_KEY

T = TypeVar("T")


class Loop:
    """The test's qasync loop; unhandled async errors fail the test."""

    def __init__(self, app: QApplication) -> None:
        self.loop = qasync.QEventLoop(app)
        asyncio.set_event_loop(self.loop)
        self.errors: list[dict[str, Any]] = []
        self.loop.set_exception_handler(lambda _loop, context: self.errors.append(context))

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        result: T = self.loop.run_until_complete(coro)
        return result

    def close(self) -> None:
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()
        asyncio.set_event_loop(None)
        # A closed qasync loop still holds Qt timers for cancelled asyncio handles (e.g.
        # aiohttp's connect timeout) until the garbage collector frees it; collected later
        # on a worker thread, its timer fires into freed memory during another test.
        gc.collect()


@pytest.fixture(autouse=True)
def english_by_default(qapp: QApplication) -> Iterator[None]:
    """English, whatever the machine's locale (scripts/test also runs the tests under
    tr_TR.UTF-8) and whatever an earlier test installed: formats as Translations.apply("en")
    leaves QLocale(), and the plural forms of bulutpop_en.qm ("2 calls", not "2 call(s)").
    Tests that want Turkish apply it (the `turkish` fixture)."""
    previous = QLocale()
    QLocale.setDefault(QLocale(QLocale.Language.English))
    plurals = QTranslator()
    assert plurals.load(str(assets.path("i18n", "bulutpop_en.qm")))
    qapp.installTranslator(plurals)
    yield
    qapp.removeTranslator(plurals)
    QLocale.setDefault(previous)


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[Loop]:
    loop = Loop(qapp)
    yield loop
    loop.close()
    assert not loop.errors, loop.errors


@pytest.fixture
def fake_pbx(qloop: Loop) -> Iterator[FakePbxState]:
    state = FakePbxState(key=TEST_KEY)
    state.recordings["6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01"] = tone_wav(1.0)
    runner, base = qloop.run(start(state))
    state.base_url = base
    yield state
    qloop.run(runner.cleanup())


@pytest.fixture
def core(qloop: Loop, fake_pbx: FakePbxState, monkeypatch: pytest.MonkeyPatch) -> Iterator[Core]:
    assert fake_pbx.base_url
    monkeypatch.setenv("BULUTPOP_API_URL", fake_pbx.base_url)
    monkeypatch.setenv("BULUTPOP_API_KEY", TEST_KEY)
    c = Core.open()
    # English, not "system": the tests' outcome must not depend on the machine's locale.
    qloop.run(
        c.update_config(c.config.with_value("extension", "1001").with_value("language", "en"))
    )
    yield c
    qloop.run(c.aclose())
    c.close()


def scenario_now(bridge: CoreBridge) -> Callable[[], float]:
    """A clock for events from the bundled scenarios (all of 2026-11-20): now is just after
    the call of the latest event began, as if each event arrived as it happened."""

    def now() -> float:
        rows = bridge.core.store.read(
            "SELECT calls.start_ts FROM events JOIN calls USING (call_uuid)"
            " ORDER BY events.id DESC LIMIT 1"
        )
        return float(rows[0][0] or 0) + 1 if rows else 0.0

    return now


@pytest.fixture
def bridge(core: Core) -> Iterator[CoreBridge]:
    b = CoreBridge(core)
    # The bundled scenarios' calls are old: a popup test sees them as they happen.
    b.clock = scenario_now(b)
    yield b
    b.detach()


@dataclass
class Webhook:
    url: str
    loop: Loop

    def post(self, *bodies: bytes) -> list[int]:
        async def go() -> list[int]:
            async with aiohttp.ClientSession() as session:
                return await post_bodies(self.url, bodies, session)

        return self.loop.run(go())


@pytest.fixture
def webhook(qloop: Loop, core: Core) -> Iterator[Webhook]:
    receiver = Receiver(core.tracker, core.config.token, "127.0.0.1", 0)
    qloop.run(receiver.start())
    yield Webhook(f"http://127.0.0.1:{receiver.port}/events/{core.config.token}", qloop)
    qloop.run(receiver.stop())


@pytest.fixture
def missed_window(qtbot: QtBot, qloop: Loop, bridge: CoreBridge) -> Iterator[MissedWindow]:
    """The missed-call list; its tasks and its model settled at the end."""
    window = MissedWindow(bridge)
    qtbot.addWidget(window)
    yield window
    drain(qloop, window.tasks)
    qloop.run(window.model.settled())


def drain(qloop: Loop, tasks: TaskSet, seconds: float = 10.0) -> None:
    """Wait for a window's tasks at the end of a test. One still waiting after `seconds` (on
    a dialog a failed test left open) is cancelled, so the failure is reported, not hung."""
    qloop.run(asyncio.wait_for(tasks.drain(), seconds))


@pytest.fixture
def turkish(qapp: QApplication) -> Iterator[i18n.Translations]:
    """The app's own switch to Turkish; back to English (and the old locale) after."""
    previous = QLocale()
    translations = i18n.Translations()
    assert translations.apply("tr") == "tr"
    yield translations
    translations.apply("en")
    QLocale.setDefault(previous)


def ts(*args: int) -> float:
    """The time stamp of a local date and time: ts(2026, 11, 27, 14, 32)."""
    return datetime(*args).timestamp()  # type: ignore[arg-type]


def make_shell(bridge: CoreBridge, use_tray: bool = False, **actions: Any) -> Shell:
    """The tray shell with actions that do nothing (offscreen: its fallback window), except
    the `actions` given."""

    def nothing(*_args: object) -> None:
        return None

    defaults: dict[str, Any] = {
        name: nothing
        for name in ("missed", "history", "dial", "settings", "about", "quit", "toggle_pause")
    }
    return Shell(bridge, ShellActions(**{**defaults, **actions}), use_tray=use_tray)


def menu_texts(view: QTableView, row: int) -> list[str]:
    """The right-click menu of `row`, as its entries read ("" for a separator)."""
    view.customContextMenuRequested.emit(view.visualRect(view.model().index(row, 0)).center())
    menu = view.findChild(QMenu)
    assert menu is not None and menu.isVisible()
    menu.close()
    return [action.text() for action in menu.actions()]


def forget_confirmation(loop: Loop, parent: QWidget) -> ForgetConfirmation:
    """The confirmation "Delete this number's records…" opens over `parent`, once shown."""

    async def shown() -> ForgetConfirmation:
        while True:
            box = parent.findChild(ForgetConfirmation)
            if box is not None and box.isVisible():
                return box
            await asyncio.sleep(0.01)

    return loop.run(asyncio.wait_for(shown(), 5))


MakeDialog = Callable[..., SettingsDialog]


@pytest.fixture
def make_dialog(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, tmp_path: Path
) -> Iterator[MakeDialog]:
    """Settings dialogs that write login items into the test's folder, cancelled at the end."""
    dialogs: list[SettingsDialog] = []

    def make(first_run: bool = False, **kwargs: Any) -> SettingsDialog:
        dialog = SettingsDialog(
            bridge,
            first_run,
            autostart_platform="linux",
            autostart_base=tmp_path / "xdg",
            **kwargs,
        )
        qtbot.addWidget(dialog)
        qloop.run(dialog.tasks.drain())  # the keyring status it asks for on opening
        dialogs.append(dialog)
        return dialog

    yield make
    for dialog in dialogs:
        dialog.tasks.cancel()
        qloop.run(dialog.tasks.drain())


def hand_over_later(name: str, argv: list[str]) -> subprocess.Popen[bytes]:
    """A later start of the app, in a process of its own, handing `argv` to the instance at
    `name`; exits 0 when it was handed over, 3 when nobody took it."""
    code = (
        "import sys; from PySide6.QtCore import QCoreApplication; "
        "from bulutpop.ui.handoff import hand_over; app = QCoreApplication([]); "
        f"sys.exit(0 if hand_over({name!r}, {argv!r}) else 3)"
    )
    return subprocess.Popen([sys.executable, "-c", code])

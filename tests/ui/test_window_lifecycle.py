"""Windows opened and closed again and again are freed, not piled up: a closed settings,
dial or warning dialog leaves no widget behind and no connection on the bridge's signals
(which live as long as the app). The missed-call list and the history are made once and
reused."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator

import pytest
from PySide6.QtCore import SIGNAL, QCoreApplication, QEvent, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from bulutpop.app.core import Core
from bulutpop.devtools.fakepbx import FakePbxState
from bulutpop.ui.app import DesktopApp
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.dial import DialDialog
from bulutpop.ui.history.window import HistoryWindow
from bulutpop.ui.i18n import Translations
from bulutpop.ui.missed.window import MissedWindow
from bulutpop.ui.settings.dialog import SettingsDialog
from tests.ui.conftest import Loop

ROUNDS = 20

BRIDGE_SIGNALS = (
    "changed(PyObject)",
    "missedChanged()",
    "configChanged(PyObject)",
    "namesChanged()",
    "catchUpChanged(PyObject)",
    "teamChanged(PyObject)",
)


def receivers(bridge: CoreBridge) -> dict[str, int]:
    return {name: bridge.receivers(SIGNAL(name)) for name in BRIDGE_SIGNALS}


def live(kind: type[QWidget]) -> int:
    """How many widgets of this kind exist, once pending deletions have run."""
    for _ in range(3):
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        gc.collect()
    return sum(isinstance(w, kind) for w in QApplication.topLevelWidgets())


@pytest.fixture
def desktop(qapp: QApplication, qloop: Loop, core: Core) -> Iterator[DesktopApp]:
    quits = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    app = DesktopApp(core, Translations(), lambda: None, use_tray=False)
    yield app
    qloop.run(app.stop())
    qapp.setQuitOnLastWindowClosed(quits)


# The background services run as long as the app: not waited for.
FOREVER = {"catch-up", "phonebook"}


def settle(qloop: Loop, desktop: DesktopApp) -> None:
    """Let what closing a window started (applying the settings) finish."""

    async def go() -> None:
        while pending := [t for t in desktop.tasks._tasks if t.get_name() not in FOREVER]:
            await asyncio.gather(*pending, return_exceptions=True)

    qloop.run(go())


def test_settings_opened_and_closed_again_and_again_are_freed(
    qloop: Loop, desktop: DesktopApp
) -> None:
    before = receivers(desktop.bridge)
    baseline = live(SettingsDialog)
    for _ in range(ROUNDS):
        desktop.show_settings(first_run=False)
        dialog = desktop._windows["settings"]
        assert isinstance(dialog, SettingsDialog)
        qloop.run(dialog.tasks.drain())
        dialog.reject()
        del dialog
        settle(qloop, desktop)
    assert live(SettingsDialog) == baseline
    assert receivers(desktop.bridge) == before
    assert "settings" not in desktop._windows


def test_settings_asked_for_again_while_open_comes_to_the_front(
    qloop: Loop, desktop: DesktopApp
) -> None:
    baseline = live(SettingsDialog)
    desktop.show_settings(first_run=False)
    first = desktop._windows["settings"]
    opened = receivers(desktop.bridge)
    for _ in range(3):
        desktop.show_settings(first_run=False)
        assert desktop._windows["settings"] is first
    assert live(SettingsDialog) == baseline + 1
    assert receivers(desktop.bridge) == opened
    assert isinstance(first, SettingsDialog)
    qloop.run(first.tasks.drain())
    first.reject()
    del first
    settle(qloop, desktop)
    assert live(SettingsDialog) == baseline


def test_dial_dialog_opened_and_closed_again_and_again_is_freed(
    qloop: Loop, desktop: DesktopApp
) -> None:
    before = receivers(desktop.bridge)
    baseline = live(DialDialog)
    for _ in range(ROUNDS):
        desktop.show_dial("")
        dialog = desktop._windows["dial"]
        assert isinstance(dialog, DialDialog)
        dialog.reject()
        del dialog
        settle(qloop, desktop)
    assert live(DialDialog) == baseline
    assert receivers(desktop.bridge) == before


def test_dial_asked_for_while_a_closed_one_is_still_calling_brings_that_one_back(
    qloop: Loop, desktop: DesktopApp, fake_pbx: FakePbxState
) -> None:
    fake_pbx.originate_delay = 0.3
    desktop.show_dial("05321234567")
    first = desktop._windows["dial"]
    assert isinstance(first, DialDialog)
    QTest.keyClick(first.edit, Qt.Key.Key_Return)
    first.reject()  # Esc while the PBX has not answered yet
    desktop.show_dial("05321234568")
    assert desktop._windows["dial"] is first and first.isVisible()
    qloop.run(first.tasks.drain())
    assert len(fake_pbx.originates) == 1


def test_warning_closed_is_freed(qloop: Loop, desktop: DesktopApp) -> None:
    baseline = live(QMessageBox)
    for _ in range(ROUNDS):
        desktop._warn("Trouble", "Something went wrong")
        box = desktop._windows["warning"]
        assert isinstance(box, QMessageBox)
        box.reject()
        del box
        settle(qloop, desktop)
    assert live(QMessageBox) == baseline


def test_lists_and_history_are_reused_not_made_again(qloop: Loop, desktop: DesktopApp) -> None:
    desktop.show_missed()
    desktop.show_history()
    settle(qloop, desktop)
    opened = receivers(desktop.bridge)
    for _ in range(ROUNDS):
        for show in (desktop.show_missed, desktop.show_history):
            show()
        for name in ("missed", "history"):
            desktop._windows[name].close()
        settle(qloop, desktop)
    assert live(MissedWindow) == 1
    assert live(HistoryWindow) == 1
    assert receivers(desktop.bridge) == opened


def test_dialogs_open_at_exit_are_freed(qloop: Loop, core: Core, qapp: QApplication) -> None:
    baseline = live(SettingsDialog), live(DialDialog)
    quits = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    try:
        desktop = DesktopApp(core, Translations(), lambda: None, use_tray=False)
        desktop.show_settings(first_run=False)
        desktop.show_dial("1002")
        qloop.run(desktop.stop())
    finally:
        qapp.setQuitOnLastWindowClosed(quits)
    assert (live(SettingsDialog), live(DialDialog)) == baseline


def test_a_new_language_remakes_the_open_lists_in_it(
    qloop: Loop, desktop: DesktopApp, core: Core
) -> None:
    desktop.show_missed()
    settle(qloop, desktop)
    old = desktop._windows["missed"]
    assert old.windowTitle().startswith("Missed calls")
    try:
        qloop.run(core.update_config(core.config.with_value("language", "tr")))
        desktop._settings_closed()
        settle(qloop, desktop)
        new = desktop._windows["missed"]
        assert new is not old and new.isVisible()
        assert new.windowTitle().startswith("Cevapsız çağrılar")
        assert live(MissedWindow) == 1
    finally:
        qloop.run(core.update_config(core.config.with_value("language", "en")))
        desktop._settings_closed()
        settle(qloop, desktop)

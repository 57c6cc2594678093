"""From the first start to the first popup: the wizard whenever setup is incomplete (no
keyring at all included, under a real X server), the team's invite first, a wizard that
says "ready" only when the PBX can reach this PC, and a tray that shows an unfinished setup."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from bulutpop.app.core import Core
from bulutpop.devtools.fakepbx import FakePbxState
from bulutpop.local.config import load
from bulutpop.local.keys import KeyStore
from bulutpop.local.net import reachable_from_internet
from bulutpop.ui.app import DesktopApp
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.i18n import Translations
from bulutpop.ui.settings.dialog import SettingsDialog
from tests.conftest import TEST_KEY, scenario
from tests.ui.conftest import Loop, MakeDialog, Webhook, make_shell
from tests.ui.test_team_ui import invite

# The app started as a user would (`bulutpop`), in a process of its own on a real X server.
# Once the wizard shows, it prints what the user sees as one JSON line and quits.
_FIRST_START = """
import json, sys
from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication
from bulutpop.ui.app import run
from bulutpop.ui.settings.dialog import SettingsDialog
from bulutpop.ui.tray import FallbackWindow

app = QApplication(sys.argv[:1])

def report_once_shown() -> None:
    widgets = QApplication.topLevelWidgets()
    wizards = [w for w in widgets if isinstance(w, SettingsDialog) and w.isVisible()]
    shells = [w for w in widgets if isinstance(w, FallbackWindow)]
    if not wizards or not wizards[0].start_page.keyring_notice.isVisible():
        QTimer.singleShot(50, report_once_shown)
        return
    wizard = wizards[0]
    print(json.dumps({
        "platform": QApplication.platformName(),
        "first_run": wizard.first_run,
        "window": wizard.windowTitle(),
        "title": wizard.title_label.text(),
        "notice": wizard.start_page.keyring_notice.text.text(),
        "team": wizard.start_page.team_choice.text(),
        "shell": shells[0].state.text() if shells else "",
    }), flush=True)
    QCoreApplication.postEvent(app, QEvent(QEvent.Type.Quit))

QTimer.singleShot(0, report_once_shown)
sys.exit(run([]))
"""


def first_start(tmp_path: Path, lang: str) -> tuple[dict[str, str], str]:
    """Start the app with fresh directories and no keyring at all (keyring's fail backend,
    as where no Secret Service runs), under Xvfb with Qt's xcb platform."""
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        pytest.skip("xvfb-run is not installed (./scripts/setup --test installs it)")
    home = tmp_path / "home"
    home.mkdir()
    runtime = tmp_path / "runtime"
    runtime.mkdir(mode=0o700)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("BULUTPOP_", "XDG_", "LC_", "QT_", "DBUS_"))
        and key not in ("LANG", "LANGUAGE", "DISPLAY", "PYTHON_KEYRING_BACKEND")
    }
    env.update(
        HOME=str(home),
        XDG_RUNTIME_DIR=str(runtime),
        LANG=lang,
        QT_QPA_PLATFORM="xcb",
        PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring",
        PYTHONPATH=os.pathsep.join(sys.path),
    )
    done = subprocess.run(
        [xvfb, "-a", sys.executable, "-c", _FIRST_START],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stderr


def test_with_no_keyring_at_all_the_first_start_opens_the_wizard(tmp_path: Path) -> None:
    seen, console = first_start(tmp_path, "C.UTF-8")
    assert seen["platform"] == "xcb"
    assert seen["first_run"] and seen["window"] == "bulutpop setup"
    assert seen["title"] == "Welcome to bulutpop"
    assert seen["team"] == "Yes, I have a team invite"  # the team's invite comes first
    assert "no keyring" in seen["notice"] and "gnome-keyring" in seen["notice"]
    # No tray under a bare X server: the window in its place says setup is unfinished.
    assert "Setup not finished" in seen["shell"]
    assert "Traceback" not in console


def test_the_first_start_speaks_turkish_under_a_turkish_locale(tmp_path: Path) -> None:
    seen, console = first_start(tmp_path, "tr_TR.UTF-8")
    assert seen["window"] == "bulutpop kurulumu"
    assert seen["title"] == "bulutpop'a hoş geldiniz"
    assert "anahtar deposu" in seen["notice"]
    assert "Kurulum tamamlanmadı" in seen["shell"]
    assert "Traceback" not in console


# --- the tray while setup is incomplete ----------------------------------------------------


@pytest.fixture
def no_keyring(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """No key in the environment and no keyring to hold one; no extension either."""
    monkeypatch.delenv("BULUTPOP_API_KEY", raising=False)
    backend = fail.Keyring()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated
    monkeypatch.setattr(core, "keys", KeyStore({}, backend=backend))
    core.config = core.config.with_value("extension", "").with_value("listen_port", "0")


@pytest.fixture
def desktop(qapp: QApplication, qloop: Loop, core: Core) -> Iterator[DesktopApp]:
    app = DesktopApp(core, Translations(), lambda: None, use_tray=False)
    yield app
    qloop.run(app.stop())


def wizard(desktop: DesktopApp) -> SettingsDialog:
    dialog = desktop._visible("settings")
    assert isinstance(dialog, SettingsDialog)
    return dialog


async def settled(desktop: DesktopApp) -> None:
    """What closing a window started (applying the settings) has finished."""
    forever = {"catch-up", "phonebook"}
    while pending := [t for t in desktop.tasks._tasks if t.get_name() not in forever]:
        await asyncio.gather(*pending, return_exceptions=True)


@pytest.mark.usefixtures("no_keyring")
def test_a_cancelled_wizard_leaves_the_tray_saying_setup_is_unfinished(
    qloop: Loop, desktop: DesktopApp
) -> None:
    qloop.run(desktop.start())
    dialog = wizard(desktop)
    assert dialog.first_run
    shell = desktop.shell
    assert shell.state == "setup" and shell.state != "listening"
    assert "Setup not finished: No system keyring is available" in shell.tooltip

    dialog.reject()
    qloop.run(settled(desktop))
    assert desktop._visible("settings") is None
    assert shell.state == "setup"
    shell._rebuild_menu()
    entries = {action.text(): action for action in shell._menu.actions()}
    assert "Finish setup…" in entries
    window = shell.window
    assert window is not None and window.setup_button.isVisible()
    entries["Finish setup…"].trigger()  # the way back into the wizard
    again = wizard(desktop)
    assert again.first_run
    qloop.run(again.tasks.drain())


def test_setup_done_the_tray_waits_for_calls(qloop: Loop, desktop: DesktopApp, core: Core) -> None:
    qloop.run(core.update_config(core.config.with_value("listen_port", "0")))
    qloop.run(desktop.start())
    assert desktop._visible("settings") is None
    assert desktop.shell.state == "listening" and not desktop.shell.setup_needed


# --- team first -----------------------------------------------------------------------------


def test_pasting_the_invite_is_the_whole_setup(
    qloop: Loop, core: Core, make_dialog: MakeDialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A new agent's PC: no API key, no extension; the keyring (in memory) takes the secret.
    monkeypatch.delenv("BULUTPOP_API_KEY", raising=False)
    monkeypatch.setattr(core, "keys", KeyStore({}))
    core.config = core.config.with_value("extension", "")
    dialog = make_dialog(first_run=True)
    assert dialog.page == dialog.START and dialog.start_page.team
    assert dialog.step_label.text() == "Step 1 of 2"
    assert not dialog.next()  # the invite first
    dialog.team_tab.invite_edit.setPlainText(invite(extension="1003").encode())
    dialog.next_button.click()  # Next with a pasted invite joins, then goes on
    qloop.run(dialog.tasks.drain())
    assert core.config.team_mode and core.config.extension == "1003"
    assert dialog.page == dialog.FINISH and dialog.step_label.text() == "Step 2 of 2"
    assert dialog.title_label.text() == "You're all set"
    assert qloop.run(dialog.save()) is True
    assert load(core.dirs).extension == "1003"


def test_the_own_connection_is_the_administrators_second_choice(make_dialog: MakeDialog) -> None:
    dialog = make_dialog(first_run=True)
    start = dialog.start_page
    assert "for administrators" in start.solo_choice.text()
    start.solo_choice.setChecked(True)
    assert dialog.step_label.text() == "Step 1 of 4"
    assert dialog.next()
    assert dialog.page == dialog.ACCOUNT
    assert "administrator" in dialog.subtitle_label.text()


# --- an honest "ready" ----------------------------------------------------------------------


def test_an_address_of_this_pc_is_not_one_the_pbx_can_reach() -> None:
    for url in (
        "http://127.0.0.1:8787/events/x",
        "http://0.0.0.0:8787/",
        "http://192.168.1.20:8787/",
        "http://10.0.0.5/",
        "http://[::1]:8787/",
        "http://localhost:8787/",
        "http://desk-pc:8787/",
        "http://desk-pc.local/",
    ):
        assert not reachable_from_internet(url), url
    assert reachable_from_internet("https://pop.example.com/events/x")
    assert reachable_from_internet("http://8.8.8.8:8787/")


@pytest.mark.usefixtures("no_env_key")
def test_the_wizard_is_not_ready_while_the_pbx_cannot_reach_this_pc(
    qloop: Loop, make_dialog: MakeDialog, webhook: Webhook
) -> None:
    dialog = make_dialog(first_run=True)
    dialog.start_page.solo_choice.setChecked(True)
    dialog.next()
    dialog.account_tab.key_edit.setText(TEST_KEY)
    dialog.next()
    # The receiver answers at 127.0.0.1: the test event reaches it, but that proves
    # nothing about the PBX on the internet.
    base = webhook.url.split("/events/")[0]
    dialog.notifications_tab.public_url_edit.setText(base)
    assert "cannot use this address" in qloop.run(dialog.notifications_tab.send_test_event())
    assert dialog.notifications_tab.event_result.text.property("tone") == "warning"
    dialog.next()
    assert dialog.page == dialog.FINISH
    assert dialog.title_label.text() == "Almost done"
    assert dialog.summary.text.text().startswith("Calls cannot reach this PC yet")
    assert "Ready" not in dialog.summary.text.text()


@pytest.fixture
def no_env_key(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BULUTPOP_API_KEY", raising=False)
    monkeypatch.setattr(core, "keys", KeyStore({}))


# --- the tray's smaller states -------------------------------------------------------------


def test_paused_popups_show_while_calls_are_missed(
    qloop: Loop, bridge: CoreBridge, webhook: Webhook
) -> None:
    shell = make_shell(bridge)
    webhook.post(*scenario("02"))
    assert shell.state == "missed"
    qloop.run(bridge.save_config(bridge.config.with_value("popups_paused", "true")))
    assert shell.state == "missed-paused"  # the grey cloud, with the count's badge
    assert "1 missed call" in shell.tooltip and "Popups paused" in shell.tooltip
    shell.close()


def test_the_window_in_place_of_a_tray_pauses_and_switches_do_not_disturb(
    qloop: Loop, bridge: CoreBridge, fake_pbx: FakePbxState
) -> None:
    paused: list[bool] = []
    shell = make_shell(bridge)
    shell.actions = replace(shell.actions, toggle_pause=paused.append)
    window = shell.window
    assert window is not None
    window.pause_button.click()
    assert paused == [True]
    window.dnd_button.click()
    qloop.run(shell.tasks.drain())
    assert shell.dnd is True and window.dnd_button.isChecked()
    assert fake_pbx.dnd.get("1001") is True
    qloop.run(bridge.load_caller_ids())
    shell.refresh()
    assert window.caller_button.isVisible() or not window.isVisible()
    assert window.caller_button.menu() is shell._caller_menu
    shell.close()


def test_switching_the_language_retranslates_what_is_open(
    qloop: Loop, bridge: CoreBridge, turkish: Translations
) -> None:
    turkish.apply("en")
    shell = make_shell(bridge)
    window = shell.window
    assert window is not None and window.pause_button.text() == "Pause popups"
    qloop.run(bridge.load_caller_ids())
    shell._rebuild_menu()
    assert shell._caller_menu.title() == "Present my number as"
    turkish.apply("tr")
    shell.refresh()  # as the app does when the language changes
    assert window.pause_button.text() == "Açılır pencereleri duraklat"
    shell._rebuild_menu()
    assert shell._caller_menu.title() == "Görünen numaram"
    shell.close()


def test_open_popups_and_the_player_follow_a_language_switch(
    qloop: Loop, bridge: CoreBridge, webhook: Webhook, turkish: Translations
) -> None:
    from bulutpop.ui.player import PlayerWindow
    from bulutpop.ui.popup import PopupManager

    turkish.apply("en")
    manager = PopupManager(bridge, lambda: None)
    webhook.post(scenario("01")[0])
    (popup,) = manager.popups().values()
    player = PlayerWindow(bridge)
    assert (popup.copy_button.text(), player.save_button.text()) == ("Copy", "Save as…")
    turkish.apply("tr")
    QCoreApplication.sendPostedEvents(None, QEvent.Type.LanguageChange)
    assert popup.copy_button.text() == "Kopyala"
    assert popup.status.text() == "Çalıyor"
    assert player.save_button.text() == "Kaydet…"
    manager.close_all()
    manager.overflow.deleteLater()
    player.deleteLater()


def test_the_demo_says_what_it_is_before_its_first_call(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BULUTPOP_")}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_CONFIG_HOME=str(tmp_path / "config"))
    demo = subprocess.Popen(
        [sys.executable, "-m", "bulutpop", "demo"],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert demo.stderr is not None
    lines = ["(nothing)"]
    # A demo that never says it would run until killed: stop waiting for it at some point.
    deadline = threading.Timer(60, demo.kill)
    deadline.start()
    try:
        for line in demo.stderr:
            lines.append(line)
            if "demo:" in line:
                break
    finally:
        deadline.cancel()
        demo.send_signal(signal.SIGTERM)
        demo.wait(timeout=30)
    told = lines[-1]
    assert "fake PBX" in told and "sample calls" in told and "made up" in told
    # Said before anything of a call was shown.
    assert not any("ringing" in line or "popup" in line for line in lines[:-1])

"""From the first start to the first popup: the wizard whenever setup is incomplete (no
keyring at all included, under a real X server), the team's invite first, a wizard that
says "ready" only when the PBX can reach this PC, and a tray that shows an unfinished setup."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QApplication

from bulutpop.app.core import Core
from bulutpop.local.config import load
from bulutpop.local.keys import KeyStore
from bulutpop.local.net import reachable_from_internet
from bulutpop.ui.app import DesktopApp
from bulutpop.ui.i18n import Translations
from bulutpop.ui.settings.dialog import SettingsDialog
from tests.ui.conftest import Loop, MakeDialog
from tests.ui.test_team_ui import invite

# The app started as a user would (`bulutpop`), in a process of its own on a real X server.
# Once the wizard shows, it prints what the user sees as one JSON line and quits.
_FIRST_START = """
import json, sys
from PySide6.QtCore import QCoreApplication, QEvent, QTimer
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
    monkeypatch.setattr(core, "keys", KeyStore({}, backend=fail.Keyring()))
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

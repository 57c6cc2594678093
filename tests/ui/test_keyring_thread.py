"""No keyring call runs on the UI thread: a D-Bus stall or an unlock prompt must not freeze
the tray. The app reads its secrets once on a worker thread, and every later read or write
(settings, dialling, joining a team) goes to a worker thread as well."""

from __future__ import annotations

import threading

import keyring
import pytest
from pytestqt.qtbot import QtBot

from bulutpop.app.core import Core
from bulutpop.local.keys import SERVICE, TEAM_SECRET, KeyStore, MemoryKeyring
from bulutpop.ui.app import DesktopApp
from bulutpop.ui.i18n import Translations
from bulutpop.ui.settings.dialog import SettingsDialog
from tests.conftest import TEST_KEY
from tests.ui.conftest import Loop


class ThreadRecordingKeyring(MemoryKeyring):
    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []

    def get_password(self, service: str, username: str) -> str | None:
        self.threads.append(threading.current_thread().name)
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.threads.append(threading.current_thread().name)
        super().set_password(service, username, password)


@pytest.fixture
def recording(core: Core) -> ThreadRecordingKeyring:
    """The API key in the keyring (no BULUTPOP_API_KEY on this PC), every call recorded."""
    backend = ThreadRecordingKeyring()
    backend.set_password(SERVICE, "api_key", TEST_KEY)
    backend.threads.clear()
    keyring.set_keyring(backend)
    core.keys = KeyStore(env={})
    core.team_keys = KeyStore(env={}, secret=TEAM_SECRET)
    return backend


def test_the_app_never_waits_for_the_keyring_on_the_ui_thread(
    qtbot: QtBot, qloop: Loop, core: Core, recording: ThreadRecordingKeyring
) -> None:
    desktop = DesktopApp(core, Translations(), lambda: None, use_tray=False)
    qloop.run(core.update_config(core.config.with_value("listen_port", 0)))

    async def a_day() -> None:
        await desktop.start()
        try:
            assert "settings" not in desktop._windows  # the key was found: no wizard
            await desktop.bridge.dialer.dial("0532 123 45 67")
            desktop.show_settings(first_run=False)
            settings = desktop._windows["settings"]
            assert isinstance(settings, SettingsDialog)
            await settings.tasks.drain()  # it asked where the key is kept
            await desktop.bridge.store_key("K99999999-9999-9999-9999-999999999999")
        finally:
            await desktop.stop()

    qloop.run(a_day())
    assert recording.threads  # the keyring was used…
    assert threading.main_thread().name not in recording.threads  # …never from the UI thread

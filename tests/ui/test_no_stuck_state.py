"""No window is left stuck by an error: every action that waits for something says what went
wrong and gives its controls back, whether the error is one the app knows (a locked
keyring) or one nobody expected (a library failing)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import aiohttp
import keyring
import keyring.errors
import pytest
import tomli_w
from pytestqt.qtbot import QtBot

from bulutpop.app.core import Core
from bulutpop.calls.model import Call
from bulutpop.local.keys import KeyStore, MemoryKeyring
from bulutpop.team.protocol import Invite
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.dial import DialDialog
from bulutpop.ui.missed.window import MissedWindow
from bulutpop.ui.player import PlayerWindow
from tests.conftest import scenario
from tests.ui.conftest import Loop, MakeDialog, Webhook

# No Qt message capture: the player's FFmpeg thread warns from a thread of its own (see
# test_player.py).
pytestmark = pytest.mark.no_qt_log

RECORDED = "6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01"  # scenario 01; the fake PBX has its audio


class LockedKeyring(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("locked")


def http_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on every HTTP request fails as nobody planned: inside the HTTP library."""

    async def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(aiohttp.ClientSession, "_request", fail)


def recorded(bridge: CoreBridge, webhook: Webhook) -> Call:
    """A call with a recording, in the store as the webhook brought it."""
    webhook.post(*scenario("01"))
    call = bridge.core.store.call(RECORDED)
    assert call is not None
    return call


def shown(qtbot: QtBot, widget: Any) -> Any:
    qtbot.addWidget(widget)
    widget.show()
    return widget


def test_dialling_with_a_locked_keyring_gives_the_dialog_back(
    qtbot: QtBot, qloop: Loop, core: Core, bridge: CoreBridge
) -> None:
    core.keys = KeyStore(env={})  # a PC with no BULUTPOP_API_KEY: the keyring holds the key
    keyring.set_keyring(LockedKeyring())
    qloop.run(core.load_secrets())  # as the app does at start, off the UI thread
    dialog = shown(qtbot, DialDialog(bridge, "0532 123 45 67"))
    assert qloop.run(dialog.dial()) is False
    assert "keyring is locked" in dialog.status.text()
    assert dialog.status.property("tone") == "error"
    assert not dialog.calling
    assert dialog.field.isEnabled() and dialog.call_button.isEnabled()


def test_an_unexpected_error_while_dialling(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    http_fails(monkeypatch)
    dialog = shown(qtbot, DialDialog(bridge, "0532 123 45 67"))
    assert qloop.run(dialog.dial()) is False
    assert dialog.status.text() == "Something went wrong: boom"
    assert not dialog.calling and not bridge.dialer.busy
    assert dialog.field.isEnabled() and dialog.call_button.isEnabled()


def test_an_unexpected_error_while_calling_back(
    qtbot: QtBot,
    qloop: Loop,
    bridge: CoreBridge,
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    webhook.post(*scenario("02"))
    http_fails(monkeypatch)
    window = shown(qtbot, MissedWindow(bridge))
    qloop.run(window.model.settled())
    window.view.selectRow(0)
    assert window.call_action.isEnabled()
    qloop.run(window.call_back(0))
    assert window.status_text() == "Something went wrong: boom"
    assert window.model.busy_number is None and window.call_action.isEnabled()
    qloop.run(window.tasks.drain())


def test_an_unexpected_error_while_fetching_a_recording(
    qtbot: QtBot,
    qloop: Loop,
    bridge: CoreBridge,
    webhook: Webhook,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    call = recorded(bridge, webhook)
    http_fails(monkeypatch)
    player = shown(qtbot, PlayerWindow(bridge))
    qloop.run(player.open_call(call))
    assert player.state == "failed"  # not "loading" for good
    assert player.message.text() == "Something went wrong: boom"
    assert player.play_button.isEnabled()  # Play asks again


def test_an_unexpected_error_while_saving_a_recording(
    qtbot: QtBot,
    qloop: Loop,
    bridge: CoreBridge,
    webhook: Webhook,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    player = shown(qtbot, PlayerWindow(bridge))
    qloop.run(player.open_call(recorded(bridge, webhook)))
    assert player.state == "ready"

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(shutil, "copyfileobj", fail)
    qloop.run(player.save_to(tmp_path / "call.wav"))
    assert player.save_note.text() == "Could not save the recording: boom"
    assert player.save_note.property("tone") == "error"
    assert player.save_button.isEnabled()
    player.media.stop()


def test_an_unexpected_error_while_testing_the_key(
    qloop: Loop, make_dialog: MakeDialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab = make_dialog().account_tab
    http_fails(monkeypatch)
    tab.key_edit.setText("K12345678-1234-5678-4321-123456789012")
    assert qloop.run(tab.test_key()) == "Something went wrong: boom"
    assert tab.test_key_button.isEnabled()


def test_an_unexpected_error_while_registering_the_webhook(
    qloop: Loop, make_dialog: MakeDialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    tab = make_dialog().pbx_tab
    http_fails(monkeypatch)
    assert qloop.run(tab.register()) == "Not registered: Something went wrong: boom"
    assert not tab._registering


def test_an_unexpected_error_while_joining_a_team(
    qloop: Loop, make_dialog: MakeDialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    keyring.set_keyring(MemoryKeyring())
    tab = make_dialog().team_tab
    invite = Invite("mqtt://127.0.0.1:1", "http://127.0.0.1:1", "agent1001", "s3cret", "1001")
    tab.invite_edit.setPlainText(invite.encode())

    def fail(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(tomli_w, "dumps", fail)  # the settings file cannot be written
    assert qloop.run(tab.join_team()) == "Not joined: Something went wrong: boom"
    assert tab.join_button.isEnabled() and not tab._team_busy

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from bulutpop.calls.model import Call
from bulutpop.devtools.fakepbx import FakePbxState
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
from bulutpop.ui.player import FileChooser, PlayerWindow, ask_save_path
from tests.conftest import scenario
from tests.ui.conftest import Loop, Webhook

# No Qt message capture here: with no sound card, FFmpeg's audio thread warns ("No audio
# device detected") while pytest-qt removes its Python message handler after each test, and
# PySide then calls the removed handler from that thread (a NULL call: segfault, ~1 run in 5).
pytestmark = pytest.mark.no_qt_log

UUID = "6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01"  # scenario 01, recorded; the fake PBX has it


@pytest.fixture
def call(bridge: CoreBridge, webhook: Webhook) -> Call:
    webhook.post(*scenario("01"))
    found = bridge.core.store.call(UUID)
    assert found is not None and found.recording
    return found


def make(
    qtbot: QtBot, bridge: CoreBridge, choose_file: FileChooser = ask_save_path
) -> PlayerWindow:
    player = PlayerWindow(bridge, choose_file=choose_file)
    qtbot.addWidget(player)
    player.show()
    return player


def test_recording_downloads_plays_to_the_end(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, call: Call
) -> None:
    player = make(qtbot, bridge)
    qloop.run(player.open_call(call))
    assert player.title.text() == "0212 320 50 62"
    assert player.details.text() == f"Incoming call · {fmt.full(call.start_ts)} · 03:31"
    assert player.progress_label.text() == "Downloading… 100%"
    assert player.state == "ready"
    assert player.middle.currentWidget() is player.seek
    assert player.save_button.isEnabled()
    qtbot.waitUntil(
        lambda: player.media.mediaStatus() == QMediaPlayer.MediaStatus.EndOfMedia, timeout=10_000
    )
    assert player.time_label.text() == "00:01 / 00:01"
    assert player.seek.maximum() == player.media.duration() > 900


def test_controls_drive_the_player(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, call: Call
) -> None:
    player = make(qtbot, bridge)
    qloop.run(player.open_call(call))
    playing = QMediaPlayer.PlaybackState.PlayingState
    qtbot.waitUntil(lambda: player.media.playbackState() == playing)
    QTest.keyClick(player, Qt.Key.Key_Space)
    assert player.media.playbackState() == QMediaPlayer.PlaybackState.PausedState
    QTest.keyClick(player, Qt.Key.Key_Space)
    assert player.media.playbackState() == playing

    player.speed_buttons.button(2).click()
    assert player.media.playbackRate() == 2.0
    player.volume.setValue(40)
    assert player.audio.volume() == pytest.approx(0.4)
    QTest.keyClick(player, Qt.Key.Key_Space)
    player.seek.setValue(500)  # as a drag or a click on the groove does
    qtbot.waitUntil(lambda: player.media.position() == 500)
    assert player.time_label.text() == "00:00 / 00:01"


def test_the_users_own_name_beats_the_pbxs_and_follows_renames(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, webhook: Webhook
) -> None:
    webhook.post(*(body + b"&caller_id_name=SANTRAL+ADI" for body in scenario("01")))
    call = bridge.core.store.call(UUID)
    assert call is not None and call.name == "SANTRAL ADI"
    qloop.run(bridge.set_local_name("0212 320 50 62", "Ahmet Kaya"))
    player = make(qtbot, bridge)
    qloop.run(player.open_call(call))
    assert player.title.text() == "Ahmet Kaya"
    assert player.windowTitle() == "Recording — Ahmet Kaya"
    assert player.details.text().startswith("Incoming call · 0212 320 50 62 · ")
    qloop.run(bridge.set_local_name("0212 320 50 62", "Ahmet Kaya (muhasebe)"))
    assert player.title.text() == "Ahmet Kaya (muhasebe)"


def test_cached_recording_needs_no_new_request(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, call: Call, fake_pbx: FakePbxState
) -> None:
    qloop.run(make(qtbot, bridge).open_call(call))
    requests = fake_pbx.recording_requests
    again = make(qtbot, bridge)
    qloop.run(again.open_call(call))
    assert again.state == "ready"
    assert fake_pbx.recording_requests == requests == 1


def test_rate_limit_is_a_wait_not_a_failure(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, call: Call, fake_pbx: FakePbxState
) -> None:
    fake_pbx.fail(429, "Rate limit exceeded", {"Retry-After": "40"})
    player = make(qtbot, bridge)
    qloop.run(player.open_call(call))
    assert player.message.text() == "Available in 40 s"
    assert player.message.property("tone") == "muted"
    assert player.middle.currentWidget() is player.message
    assert not player.play_button.isEnabled()
    assert player.state == "waiting"


def test_play_is_offered_again_when_the_wait_is_over(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, call: Call, fake_pbx: FakePbxState
) -> None:
    fake_pbx.fail(429, "Rate limit exceeded", {"Retry-After": "1"})
    player = make(qtbot, bridge)
    qloop.run(player.open_call(call))
    assert player.message.text() == "Available in 1 s"
    qtbot.waitUntil(player.play_button.isEnabled, timeout=3000)
    assert player.message.text() == "Available now: press Play"
    assert player.message.property("tone") == "muted"
    QTest.mouseClick(player.play_button, Qt.MouseButton.LeftButton)
    qloop.run(player.tasks.drain())
    assert player.state == "ready"
    assert player.path is not None and player.path.read_bytes() == fake_pbx.recordings[UUID]


def test_missing_recording_says_so(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, call: Call, fake_pbx: FakePbxState
) -> None:
    del fake_pbx.recordings[UUID]
    player = make(qtbot, bridge)
    qloop.run(player.open_call(call))
    assert player.message.text() == "This recording is not available (it may have expired)."
    assert player.message.property("tone") == "error"
    assert not player.play_button.isEnabled()
    assert not player.save_button.isEnabled()


def test_network_error_shows_its_message_and_allows_a_retry(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, call: Call
) -> None:
    config = bridge.core.config.with_value("api_url", "http://127.0.0.1:9")
    qloop.run(bridge.core.update_config(config))
    player = make(qtbot, bridge)
    qloop.run(player.open_call(call))
    assert "cannot connect to 127.0.0.1:9" in player.message.text()
    assert player.message.property("tone") == "error"
    assert player.state == "failed"
    assert player.play_button.isEnabled()


def test_save_as_copies_the_recording(
    qtbot: QtBot,
    qloop: Loop,
    bridge: CoreBridge,
    call: Call,
    fake_pbx: FakePbxState,
    tmp_path: Path,
) -> None:
    suggested: list[str] = []

    def choose(parent: object, path: str) -> str:
        suggested.append(path)
        return str(tmp_path / "customer")

    player = make(qtbot, bridge, choose)
    qloop.run(player.open_call(call))
    QTest.mouseClick(player.save_button, Qt.MouseButton.LeftButton)
    qloop.run(player.tasks.drain())
    assert suggested[0].endswith(" 02123205062.wav")
    assert (tmp_path / "customer.wav").read_bytes() == fake_pbx.recordings[UUID]
    assert player.save_note.text() == "Saved as customer.wav"
    assert player.save_note.isVisible()


def test_cancelled_save_writes_nothing(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, call: Call, tmp_path: Path
) -> None:
    player = make(qtbot, bridge, lambda parent, path: "")
    qloop.run(player.open_call(call))
    before = set(tmp_path.rglob("*"))
    QTest.mouseClick(player.save_button, Qt.MouseButton.LeftButton)
    assert len(player.tasks) == 0
    assert set(tmp_path.rglob("*")) == before
    assert not player.save_note.isVisible()


def test_plays_and_saves_are_in_the_audit(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, call: Call, tmp_path: Path
) -> None:
    player = make(qtbot, bridge, lambda parent, path: str(tmp_path / "copy"))
    qloop.run(player.open_call(call))
    qloop.run(make(qtbot, bridge).open_call(call))  # played again, from the cache
    QTest.mouseClick(player.save_button, Qt.MouseButton.LeftButton)
    qloop.run(player.tasks.drain())
    assert (tmp_path / "copy.wav").exists()
    audit = bridge.core.store.accesses()
    assert [(a.action, a.who, a.call_uuid, a.party) for a in audit] == [
        ("play", "this PC", UUID, "02123205062"),
        ("play", "this PC", UUID, "02123205062"),
        ("download", "this PC", UUID, "02123205062"),
    ]

from __future__ import annotations

from pytestqt.qtbot import QtBot

from bulutpop.calls.tracker import Change
from bulutpop.ui.bridge import CoreBridge
from tests.conftest import scenario
from tests.ui.conftest import Webhook


def test_webhook_events_reach_qt_signals(
    qtbot: QtBot, bridge: CoreBridge, webhook: Webhook
) -> None:
    seen: list[Change] = []
    bridge.changed.connect(seen.append)
    with qtbot.waitSignal(bridge.missedChanged):
        assert webhook.post(*scenario("02")) == [200, 200]
    assert [c.call.state if c.call else None for c in seen] == ["ringing", "ended"]

"""The screen pop, driven by real events over HTTP into a real core and store."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import quote

import pytest
from PySide6.QtCore import QRect, Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from bulutpop.calls.events import PBX_TZ, CallEvent, decode_fields
from bulutpop.devtools.fakepbx import FakePbxState
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.popup import (
    CARD_HEIGHT,
    CARD_WIDTH,
    SCREEN_EDGE,
    SHADOW,
    CallPopup,
    CloseDelays,
    PopupManager,
    PopupState,
)
from tests.conftest import scenario
from tests.ui.conftest import Loop, Webhook

CALL_01 = "6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01"
CALL_03 = "a3e91c0d-77b2-4e19-8c3a-91f0d2e4b503"
SCREEN = QRect(0, 0, 1280, 800)
# Short enough for a quick test, long enough to read the state before the popup goes.
CLOSE_MS = 400


class Opened(list[QUrl]):
    def __call__(self, url: QUrl) -> bool:
        self.append(url)
        return True


@pytest.fixture
def opened() -> Opened:
    return Opened()


@pytest.fixture
def rings() -> list[None]:
    return []


@pytest.fixture
def manager(bridge: CoreBridge, opened: Opened, rings: list[None]) -> Iterator[PopupManager]:
    m = PopupManager(
        bridge,
        lambda: rings.append(None),
        area=lambda: SCREEN,
        open_url=opened,
        delays=CloseDelays(CLOSE_MS, CLOSE_MS, CLOSE_MS),
    )
    yield m
    m.close_all()
    m.overflow.deleteLater()


def configure(qloop: Loop, bridge: CoreBridge, **values: str) -> None:
    config = bridge.config
    for key, value in values.items():
        config = config.with_value(key, value)
    qloop.run(bridge.save_config(config))


def ringing(n: int) -> bytes:
    """Scenario 01's ringing event as call number `n`, from a caller of its own."""
    return (
        scenario("01")[0]
        .replace(b"6f1c2b1e", f"{n:08d}".encode())
        .replace(b"02123205062", f"021232050{n:02d}".encode())
    )


def only(manager: PopupManager) -> CallPopup:
    (popup,) = manager.popups().values()
    return popup


def test_a_call_ringing_my_extension_pops_up_with_the_number(
    manager: PopupManager, webhook: Webhook
) -> None:
    webhook.post(scenario("01")[0])
    popup = manager.popups()[CALL_01]
    assert popup.isVisible()
    assert popup.title.text() == "0212 320 50 62"
    assert popup.route.text() == "Incoming call"
    assert popup.status.text() == "Ringing"
    assert popup.meta.text() == "First time calling"
    assert popup.subtitle.isHidden()


def test_a_call_ringing_another_extension_pops_nothing(
    manager: PopupManager, webhook: Webhook
) -> None:
    body = (
        scenario("01")[0]
        .replace(b"dialed_user=1001", b"dialed_user=1005")
        .replace(b"destination_number=1001", b"destination_number=1005")
    )
    webhook.post(body)
    assert manager.popups() == {}


def test_a_watched_extension_pops_up_and_is_named(
    qloop: Loop, bridge: CoreBridge, manager: PopupManager, webhook: Webhook
) -> None:
    configure(qloop, bridge, watch="1005")
    webhook.post(scenario("01")[0].replace(b"=1001", b"=1005"))
    assert only(manager).route.text() == "Incoming call · Extension 1005"


def test_a_queue_call_pops_once_and_closes_after_a_colleague_answers(
    qtbot: QtBot, manager: PopupManager, webhook: Webhook, rings: list[None]
) -> None:
    ring_me, ring_colleague, answer, hangup = scenario("03")
    webhook.post(ring_me, ring_colleague)
    popup = only(manager)
    assert list(manager.popups()) == [CALL_03]
    assert not popup.closing
    assert popup.route.text() == "Incoming call · Queue 200"
    assert len(rings) == 1

    webhook.post(answer)
    assert popup.state is PopupState.ANSWERED_ELSEWHERE
    assert popup.status.text() == "1002 answered"
    qtbot.waitUntil(lambda: not manager.popups())
    webhook.post(hangup)
    assert manager.popups() == {}


def test_my_answered_call_stays_green_until_it_ends(
    qtbot: QtBot, manager: PopupManager, webhook: Webhook
) -> None:
    ring, answer, hangup = scenario("01")
    webhook.post(ring, answer)
    popup = only(manager)
    assert popup.status.text() == "You answered"
    assert not popup.closing  # the call goes on: so does the popup
    webhook.post(hangup)
    assert popup.closing
    qtbot.waitUntil(lambda: not manager.popups())


def test_a_missed_call_turns_red_and_closes_by_itself(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, manager: PopupManager, webhook: Webhook
) -> None:
    configure(qloop, bridge, missed_popup_stays="false")  # the default keeps it (test_popup_desk)
    webhook.post(*scenario("02"))
    popup = only(manager)
    assert popup.state is PopupState.MISSED
    assert popup.status.text() == "Missed"
    qtbot.waitUntil(lambda: not manager.popups())


@pytest.mark.parametrize("caller", ["<b>x</b>", "<img src=x>"])
def test_markup_from_the_pbx_shows_literally(
    manager: PopupManager, webhook: Webhook, caller: str
) -> None:
    webhook.post(scenario("01")[0].replace(b"02123205062", quote(caller, safe="").encode("ascii")))
    popup = only(manager)
    assert popup.title.textFormat() == Qt.TextFormat.PlainText
    assert popup.title.text() == caller


def test_a_popup_is_a_window_that_cannot_take_focus(
    manager: PopupManager, webhook: Webhook
) -> None:
    webhook.post(scenario("01")[0])
    popup = only(manager)
    assert popup.testAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
    for window in (popup, manager.overflow):
        flags = window.windowFlags()
        assert flags & Qt.WindowType.WindowDoesNotAcceptFocus
        assert flags & Qt.WindowType.WindowStaysOnTopHint
        assert flags & Qt.WindowType.FramelessWindowHint
        assert window.windowType() == Qt.WindowType.Tool
        for widget in [window, *window.findChildren(QWidget)]:
            assert widget.focusPolicy() == Qt.FocusPolicy.NoFocus, widget


def test_the_keyboard_focus_stays_where_the_user_is_typing(
    qtbot: QtBot, manager: PopupManager, webhook: Webhook
) -> None:
    if QGuiApplication.platformName() == "offscreen":
        pytest.skip(
            "the offscreen platform activates every window it shows, whatever its flags "
            "(QOffscreenWindow::setVisible); run under a display (xvfb-run, QT_QPA_PLATFORM=xcb)"
        )
    window = QWidget()
    qtbot.addWidget(window)
    edit = QLineEdit(window)
    QVBoxLayout(window).addWidget(edit)
    window.show()
    window.activateWindow()
    edit.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is edit)

    webhook.post(scenario("01")[0])
    popup = only(manager)
    qtbot.waitExposed(popup)
    assert QApplication.focusWidget() is edit
    assert QApplication.activeWindow() is window


def test_esc_closes_a_popup_the_user_clicked_into(manager: PopupManager, webhook: Webhook) -> None:
    webhook.post(scenario("01")[0])
    popup = only(manager)
    QTest.mouseClick(popup, Qt.MouseButton.LeftButton)
    QTest.keyClick(popup, Qt.Key.Key_Escape)
    assert manager.popups() == {}


def test_a_closed_popup_does_not_return_when_the_queue_rings_another_leg(
    manager: PopupManager, webhook: Webhook
) -> None:
    ring_me, ring_colleague, *_ = scenario("03")
    webhook.post(ring_me)
    only(manager).close_button.click()
    webhook.post(ring_colleague)
    assert manager.popups() == {}


def test_calls_the_user_makes_do_not_pop_up(manager: PopupManager, webhook: Webhook) -> None:
    webhook.post(*scenario("05"))
    webhook.post(scenario("06")[0].replace(b"caller_id_number=1002", b"caller_id_number=1001"))
    assert manager.popups() == {}


def test_a_colleague_calling_me_internally_pops_up(manager: PopupManager, webhook: Webhook) -> None:
    webhook.post(scenario("06")[0])
    popup = only(manager)
    assert popup.route.text() == "Internal call"
    assert popup.title.text() == "1002"


def test_the_meta_line_counts_earlier_calls(manager: PopupManager, webhook: Webhook) -> None:
    earlier = [
        b.replace(b"6f1c2b1e", b"11111111").replace(b"2026-11-20", b"2026-11-19")
        for b in scenario("01")
    ]
    webhook.post(*earlier)
    manager.close_all()
    webhook.post(scenario("01")[0])
    assert manager.popups()[CALL_01].meta.text().startswith("2nd call · last: ")


def test_popups_stack_upwards_in_the_corner_and_overflow_into_a_summary(
    manager: PopupManager, webhook: Webhook, rings: list[None]
) -> None:
    webhook.post(*(ringing(n) for n in range(5)))
    popups = list(manager.popups().values())
    assert len(popups) == 3 and all(p.isVisible() for p in popups)
    # Calls beyond three wait as data, without a window of their own.
    assert len(manager.waiting()) == 2
    assert len(rings) == 5
    cards = [p.geometry().adjusted(SHADOW, SHADOW, -SHADOW, -SHADOW) for p in popups]
    assert cards[0].right() == SCREEN.right() - SCREEN_EDGE
    assert cards[0].bottom() == SCREEN.bottom() - SCREEN_EDGE
    assert all(c.size().toTuple() == (CARD_WIDTH, CARD_HEIGHT) for c in cards)
    assert cards[0].top() > cards[1].bottom() and cards[1].top() > cards[2].bottom()
    overflow = manager.overflow
    assert overflow.isVisible()
    assert overflow.label.text() == "+2 more"
    assert overflow.geometry().bottom() < cards[2].top()
    assert overflow.windowFlags() & Qt.WindowType.WindowDoesNotAcceptFocus

    # Closing one lets the oldest waiting call take its place.
    first_waiting = manager.waiting()[0].call_uuid
    popups[0].close_button.click()
    assert list(manager.popups())[-1] == first_waiting
    assert all(p.isVisible() for p in manager.popups().values())
    assert overflow.label.text() == "+1 more"

    QTest.mouseClick(overflow.close_all_button, Qt.MouseButton.LeftButton)
    assert manager.popups() == {} and manager.waiting() == []
    assert not overflow.isVisible()


def test_a_waiting_call_that_ends_leaves_the_queue_without_a_window(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, manager: PopupManager, webhook: Webhook
) -> None:
    configure(qloop, bridge, missed_popup_stays="false")
    webhook.post(*(ringing(n) for n in range(4)))
    (waiting,) = manager.waiting()
    hangup = scenario("02")[1].replace(
        b"0b7f3d55-1e4a-4f0d-a6a2-5c7e9d3b2a02", waiting.call_uuid.encode()
    )
    webhook.post(hangup)
    assert manager.waiting()[0].missed
    qtbot.waitUntil(lambda: manager.waiting() == [], timeout=2000)
    assert len(manager.popups()) == 3 and not manager.overflow.isVisible()


def test_top_corners_stack_downwards(
    qloop: Loop, bridge: CoreBridge, manager: PopupManager, webhook: Webhook
) -> None:
    configure(qloop, bridge, popup_corner="top-left")
    webhook.post(ringing(1), ringing(2))
    first, second = (
        p.geometry().adjusted(SHADOW, SHADOW, -SHADOW, -SHADOW) for p in manager.popups().values()
    )
    assert first.topLeft().toTuple() == (SCREEN_EDGE, SCREEN_EDGE)
    assert second.top() > first.bottom()
    assert second.left() == first.left()


def test_paused_popups_show_nothing(
    qloop: Loop, bridge: CoreBridge, manager: PopupManager, webhook: Webhook, rings: list[None]
) -> None:
    configure(qloop, bridge, popups_paused="true")
    webhook.post(scenario("01")[0])
    assert manager.popups() == {}
    assert rings == []


def test_no_ring_when_the_sound_is_off(
    qloop: Loop, bridge: CoreBridge, manager: PopupManager, webhook: Webhook, rings: list[None]
) -> None:
    configure(qloop, bridge, ring_sound="false")
    webhook.post(scenario("01")[0])
    assert len(manager.popups()) == 1
    assert rings == []


def test_the_crm_button_needs_a_template(manager: PopupManager, webhook: Webhook) -> None:
    webhook.post(scenario("01")[0])
    assert only(manager).crm_button.isHidden()


def test_the_crm_button_opens_the_template_with_encoded_values(
    qloop: Loop,
    bridge: CoreBridge,
    manager: PopupManager,
    webhook: Webhook,
    opened: Opened,
) -> None:
    configure(qloop, bridge, crm_url="https://crm.example/find?n={number}&e={e164}&id={call_uuid}")
    webhook.post(scenario("01")[0])
    popup = only(manager)
    assert not popup.crm_button.isHidden()
    QTest.mouseClick(popup.crm_button, Qt.MouseButton.LeftButton)
    assert [url.toString(QUrl.ComponentFormattingOption.FullyEncoded) for url in opened] == [
        f"https://crm.example/find?n=02123205062&e=%2B902123205062&id={CALL_01}"
    ]


def test_copy_puts_the_number_on_the_clipboard(manager: PopupManager, webhook: Webhook) -> None:
    webhook.post(scenario("01")[0])
    QTest.mouseClick(only(manager).copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "0212 320 50 62"


def test_queue_calls_name_the_queue_once_its_name_is_known(
    qloop: Loop,
    bridge: CoreBridge,
    manager: PopupManager,
    webhook: Webhook,
    fake_pbx: FakePbxState,
) -> None:
    qloop.run(bridge.phonebook.sync_queues())  # the fake PBX calls queue 200 "Kuyruk 1"
    webhook.post(scenario("03")[0])
    # The PBX's default name says "queue" itself: said once, not "Queue Kuyruk 1".
    assert only(manager).route.text() == "Incoming call · Kuyruk 1 (200)"
    manager.close_all()
    fake_pbx.queues["200"] = "Satış"
    qloop.run(bridge.phonebook.sync_queues())
    webhook.post(scenario("03")[0].replace(b"a3e91c0d", b"a3e91c0e"))
    assert only(manager).route.text() == "Incoming call · Queue Satış (200)"


AHMET = {
    "id": "7",
    "name": "Ahmet",
    "surname": "Kaya",
    "company_name": "Deniz Lojistik A.Ş.",
    "phone": "0212 320 50 62",
}


def test_a_known_caller_shows_name_number_and_company(
    qloop: Loop, bridge: CoreBridge, manager: PopupManager, webhook: Webhook, fake_pbx: FakePbxState
) -> None:
    fake_pbx.contacts = [AHMET]
    qloop.run(bridge.phonebook.sync_pbx())
    webhook.post(scenario("01")[0])
    popup = only(manager)
    assert popup.title.text() == "Ahmet Kaya"
    assert popup.subtitle.text() == "0212 320 50 62 · Deniz Lojistik A.Ş."
    assert popup.subtitle.isVisible()


def test_open_popups_follow_name_changes(
    qloop: Loop, bridge: CoreBridge, manager: PopupManager, webhook: Webhook, fake_pbx: FakePbxState
) -> None:
    webhook.post(scenario("01")[0] + b"&caller_id_name=SANTRAL+ADI")
    popup = only(manager)
    assert popup.title.text() == "SANTRAL ADI"  # the PBX's name while nothing better is known
    assert popup.subtitle.text() == "0212 320 50 62"

    fake_pbx.contacts = [AHMET]
    qloop.run(bridge.phonebook.sync_pbx())  # the phonebook sync finishes while it rings
    assert popup.title.text() == "Ahmet Kaya"
    assert popup.subtitle.text() == "0212 320 50 62 · Deniz Lojistik A.Ş."

    qloop.run(bridge.set_local_name("0212 320 50 62", "Ahmet Bey (muhasebe)"))
    assert popup.title.text() == "Ahmet Bey (muhasebe)"
    assert popup.subtitle.text() == "0212 320 50 62 · Deniz Lojistik A.Ş."
    assert popup.status.text() == "Ringing"


# -- a burst: a team PC back after a day off gets the broker's whole queue at once -----------


def burst(qloop: Loop, bridge: CoreBridge, *bodies: bytes) -> None:
    """Deliver events as the team link takes a backlog: stored together, in order, before
    anyone is told."""
    events = [(CallEvent(decode_fields(body)), None) for body in bodies]
    qloop.run(bridge.core.tracker.ingest_batch(events, "team"))


def live(body: bytes, start: float) -> bytes:
    """The event as if its call began at `start`."""
    stamp = datetime.fromtimestamp(start, PBX_TZ).strftime("%Y-%m-%d %H:%M:%S")
    return body.replace(b"2026-11-20 09:15:02", stamp.encode())


def test_an_old_ring_in_a_burst_neither_pops_nor_rings(
    bridge: CoreBridge, manager: PopupManager, qloop: Loop, rings: list[None]
) -> None:
    bridge.clock = time.time  # the scenario's call began weeks ago
    burst(qloop, bridge, scenario("01")[0])
    assert manager.popups() == {} and manager.waiting() == [] and rings == []
    assert bridge.core.store.call(CALL_01) is not None  # stored all the same


def test_a_ring_whose_hangup_came_in_the_same_burst_pops_nothing(
    manager: PopupManager, qloop: Loop, bridge: CoreBridge, rings: list[None]
) -> None:
    ring, _answer, hangup = scenario("01")
    burst(qloop, bridge, ring, hangup)  # recent, by the scenario's clock, but over
    assert manager.popups() == {} and rings == []


def test_a_live_ring_in_the_middle_of_a_burst_pops_at_once(
    bridge: CoreBridge, manager: PopupManager, qloop: Loop, rings: list[None]
) -> None:
    bridge.clock = time.time
    old = [ringing(n) for n in range(2, 12)]
    now_ringing = live(scenario("01")[0], time.time() - 5)
    burst(qloop, bridge, *old[:5], now_ringing, *old[5:])
    assert list(manager.popups()) == [CALL_01] and manager.waiting() == []
    assert rings == [None]
    assert only(manager).status.text() == "Ringing"

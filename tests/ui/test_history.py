from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

import pytest
from PySide6.QtCore import QLocale, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from bulutpop.app.core import Core
from bulutpop.calls.events import PBX_TZ, CallEvent
from bulutpop.calls.model import Call
from bulutpop.devtools.fakepbx import FakePbxState
from bulutpop.storage.history import HistoryFilter
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.history.model import PAGE_SIZE, Column
from bulutpop.ui.history.window import HistoryWindow
from tests.conftest import scenario
from tests.ui.conftest import Loop, Webhook, drain, forget_confirmation, menu_texts

START = datetime(2026, 11, 2, 9, 0, tzinfo=PBX_TZ).timestamp()


def hangup(
    uuid: str, caller: str, ts: float, *, answered: bool, direction: str = "inbound"
) -> CallEvent:
    """The closing event of a call; alone it describes the whole call."""
    stamp = datetime.fromtimestamp(ts, PBX_TZ).strftime("%Y-%m-%d %H:%M:%S")
    outbound = direction == "outbound"
    return CallEvent(
        {
            "event_type": "hangup",
            "direction": direction,
            "caller_id_number": "1001" if outbound else caller,
            "destination_number": caller if outbound else "1001",
            "dialed_user": "" if outbound else "1001",
            "connected_user": "1001" if answered and not outbound else "",
            "call_uuid": uuid,
            "start_stamp": stamp,
            "end_stamp": stamp,
            "duration": "42" if answered else "0",
            "answered": "t" if answered else "f",
            "recording_present": "f",
        }
    )


def add_calls(core: Core, count: int) -> None:
    """`count` calls a minute apart: every third missed, every fifth outgoing."""
    for i in range(count):
        direction = "outbound" if i % 5 == 0 else "inbound"
        event = hangup(
            f"synthetic-{i:05d}",
            f"0212{i:07d}",
            START + 60 * i,
            answered=i % 3 != 0 or direction == "outbound",
            direction=direction,
        )
        core.tracker.ingest_sync(event, None, "test")


@pytest.fixture
def window(qtbot: QtBot, qloop: Loop, bridge: CoreBridge) -> Iterator[HistoryWindow]:
    w = HistoryWindow(bridge)
    qtbot.addWidget(w)
    yield w
    drain(qloop, w.tasks)


def calls(window: HistoryWindow) -> list[Call]:
    return [window.model.call(row) for row in range(window.model.rowCount())]


def test_rows_load_a_page_at_a_time(window: HistoryWindow, core: Core) -> None:
    add_calls(core, 1000)
    window.model.reload()
    assert window.model.rowCount() == PAGE_SIZE
    assert window.model.total() == 1000
    assert window.model.canFetchMore()
    window.model.fetchMore()
    assert window.model.rowCount() == 2 * PAGE_SIZE
    while window.model.canFetchMore():
        window.model.fetchMore()
    rows = calls(window)
    assert len(rows) == 1000
    assert len({c.call_uuid for c in rows}) == 1000
    assert rows[0].call_uuid == "synthetic-00999"  # newest first
    assert window.summary.text() == QLocale().toString(1000) + " calls"


def test_scrolling_the_view_fetches_more(qtbot: QtBot, window: HistoryWindow, core: Core) -> None:
    add_calls(core, 1000)
    window.model.reload()
    window.show()
    window.view.scrollToBottom()
    qtbot.waitUntil(lambda: window.model.rowCount() > PAGE_SIZE)


def test_search_finds_a_number_however_it_is_written(
    window: HistoryWindow, webhook: Webhook
) -> None:
    webhook.post(*scenario("01"), *scenario("02"))
    for text in ("0532 123 45 67", "+90 532 123 45 67", "532 123", "05321234567"):
        window.search.setText(text)
        window.apply_filter()
        assert [c.party for c in calls(window)] == ["05321234567"], text
    window.search.setText("0555 000 00 00")
    window.apply_filter()
    assert window.is_empty()
    assert window.empty_headline.text() == "No calls match."
    window.reset_filters()
    assert window.model.rowCount() == 2


def test_typing_is_debounced(qtbot: QtBot, window: HistoryWindow, webhook: Webhook) -> None:
    webhook.post(*scenario("01"), *scenario("02"))
    window.show()
    window.search.setText("0532")
    assert window.model.rowCount() == 2  # not yet
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)


def test_direction_and_missed_filters(window: HistoryWindow, core: Core) -> None:
    add_calls(core, 30)
    window.model.reload()
    window.direction.setCurrentIndex(window.direction.findData("outbound"))
    assert window.model.total() == 6
    assert {c.direction for c in calls(window)} == {"outbound"}
    window.direction.setCurrentIndex(window.direction.findData("inbound"))
    assert window.model.total() == 24
    window.missed_only.setChecked(True)
    assert window.model.total() == 8  # i % 3 == 0 and not i % 5 == 0 among 0..29
    assert all(c.missed and c.direction == "inbound" for c in calls(window))
    assert {window.model.index(r, Column.RESULT).data() for r in range(8)} == {"Missed"}
    window.direction.setCurrentIndex(0)
    assert window.model.filter == HistoryFilter(direction="", missed_only=True)


def test_recording_column_marks_the_recorded_call(
    qtbot: QtBot, window: HistoryWindow, webhook: Webhook
) -> None:
    webhook.post(*scenario("01"), *scenario("02"))
    window.show()
    marks = {
        c.party: window.model.index(r, Column.RECORDING).data() for r, c in enumerate(calls(window))
    }
    assert marks == {"02123205062": "▶ Play", "05321234567": ""}
    recorded = next(r for r, c in enumerate(calls(window)) if c.recording)
    with qtbot.waitSignal(window.playRequested) as played:
        window.play(recorded)
    assert played.args[0].call_uuid == "6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01"
    # ▶ Play looks like a link and plays on one click, no double-click needed.
    cell = window.view.visualRect(window.model.index(recorded, Column.RECORDING))
    with qtbot.waitSignal(window.playRequested) as clicked:
        QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=cell.center())
    assert clicked.args[0].call_uuid == "6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01"
    with qtbot.assertNotEmitted(window.playRequested):  # a row without a recording
        other = window.view.visualRect(window.model.index(1 - recorded, Column.RECORDING))
        QTest.mouseClick(window.view.viewport(), Qt.MouseButton.LeftButton, pos=other.center())
    window.view.selectRow(recorded)
    assert window.play_button.isEnabled()
    window.view.selectRow(1 - recorded)
    assert not window.play_button.isEnabled()


def test_results_read_plainly(window: HistoryWindow, webhook: Webhook) -> None:
    webhook.post(*scenario("01"), *scenario("02"), *scenario("03"))
    window.show()
    results = {c.party: window.model.result_text(c) for c in calls(window)}
    assert results == {
        "02123205062": "Answered by you",
        "05321234567": "Missed",
        "02163334455": "Answered by 1002",
    }


def test_new_calls_appear_on_top_while_open(
    qtbot: QtBot, window: HistoryWindow, webhook: Webhook
) -> None:
    window.show()
    webhook.post(*scenario("01"))
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    window.view.selectRow(0)
    webhook.post(*scenario("05"))
    qtbot.waitUntil(lambda: window.model.rowCount() == 2)
    assert calls(window)[0].party == "905321234567"
    # An insert above keeps the user's row selected.
    selected = window.view.selectionModel().selectedRows()
    assert [window.model.call(i.row()).party for i in selected] == ["02123205062"]


def test_hidden_window_reloads_when_shown(
    qtbot: QtBot, window: HistoryWindow, webhook: Webhook
) -> None:
    assert window.is_empty()
    webhook.post(*scenario("02"))
    assert window.model.rowCount() == 0  # no work while hidden
    window.show()
    assert window.model.rowCount() == 1
    assert not window.is_empty()


def test_call_dials_the_other_side(
    window: HistoryWindow, webhook: Webhook, fake_pbx: FakePbxState, qloop: Loop
) -> None:
    webhook.post(*scenario("02"))
    window.show()
    qloop.run(window.call(0))
    assert [(o["extension"], o["destination"]) for o in fake_pbx.originates] == [
        ("1001", "905321234567")
    ]
    fake_pbx.fail(429, "too many", {"Retry-After": "30"})
    window.bridge.dialer._recent.clear()
    qloop.run(window.call(0))
    assert window.status_text() == "Too many requests: try again in 30 s."


def test_a_ringing_call_is_updated_in_place(
    qtbot: QtBot, window: HistoryWindow, webhook: Webhook
) -> None:
    window.show()
    ringing, hangup = scenario("02")
    webhook.post(ringing)
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    assert window.model.index(0, Column.RESULT).data() == "Ringing"
    webhook.post(hangup)
    qtbot.waitUntil(lambda: window.model.index(0, Column.RESULT).data() == "Missed")
    assert window.model.rowCount() == 1


def test_a_call_stored_between_pages_is_not_listed_twice(window: HistoryWindow, core: Core) -> None:
    add_calls(core, 2 * PAGE_SIZE)
    window.model.reload()
    core.tracker.ingest_sync(
        hangup("late", "02120000000", START + 60 * 10_000, answered=True), None, "test"
    )
    while window.model.canFetchMore():
        window.model.fetchMore()
    late = core.store.call("late")
    assert late is not None
    window.model.apply_changes([late])
    uuids = [c.call_uuid for c in calls(window)]
    assert len(uuids) == len(set(uuids)) == 2 * PAGE_SIZE + 1
    assert uuids[0] == "late"


def test_a_window_left_open_on_a_busy_line_does_not_hold_every_call(
    window: HistoryWindow, core: Core
) -> None:
    window.model.reload()
    page = window.model.rowCount()
    for i in range(3 * PAGE_SIZE):
        core.tracker.ingest_sync(
            hangup(f"busy-{i}", "02120000000", START + 60 * (20_000 + i), answered=True),
            None,
            "test",
        )
        window.model.apply_changes([c for c in [core.store.call(f"busy-{i}")] if c])
        assert window.model.rowCount() <= page + PAGE_SIZE
    assert window.model.call(0).call_uuid == f"busy-{3 * PAGE_SIZE - 1}"
    assert window.model.canFetchMore()


def test_keys_buttons_and_menu_act_on_the_selected_call(
    qtbot: QtBot, window: HistoryWindow, webhook: Webhook, fake_pbx: FakePbxState, qloop: Loop
) -> None:
    webhook.post(*scenario("01"), *scenario("02"))
    with qtbot.waitActive(window):  # shortcuts work in the active window only
        window.show()
        window.activateWindow()
    recorded = next(r for r, c in enumerate(calls(window)) if c.recording)
    with qtbot.assertNotEmitted(window.playRequested):
        window.play_button.click()  # nothing selected
        window.play_action.trigger()
    window.view.selectRow(recorded)
    window.view.setFocus()
    with qtbot.waitSignal(window.playRequested) as played:
        QTest.keyClick(window.view, Qt.Key.Key_Space)
    assert played.args[0].party == "02123205062"
    with qtbot.waitSignal(window.playRequested):
        window.play_button.click()
    QTest.keyClick(window.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert window.status_text() == "Copied 0212 320 50 62."
    QTest.keyClick(window.view, Qt.Key.Key_Return)
    qloop.run(window.tasks.drain())
    assert [o["destination"] for o in fake_pbx.originates] == ["902123205062"]

    window.view.clearSelection()
    other = 1 - recorded
    assert menu_texts(window.view, other) == [
        "Play recording",
        "Call",
        "Copy number",
        "",
        "Note…",
        "Edit name…",
        "Delete this number's records…",
    ]
    assert window.view.selectionModel().selectedRows()[0].row() == other  # right-click selects
    window.copy_action.trigger()
    assert QGuiApplication.clipboard().text() == "0532 123 45 67"


def test_deleting_a_numbers_records_from_the_history(
    window: HistoryWindow, webhook: Webhook, qloop: Loop, bridge: CoreBridge
) -> None:
    webhook.post(*scenario("01"), *scenario("02"), *scenario("05"), *scenario("06"))
    window.show()
    rows = [c.party_key for c in calls(window)]
    assert rows.count("+905321234567") == 2  # the missed call and the callback
    window.view.selectRow(rows.index("1002"))
    assert not window.forget_action.isEnabled()  # an extension's digits are in other numbers
    window.view.selectRow(rows.index("+905321234567"))
    window.forget_action.trigger()
    box = forget_confirmation(qloop, window)
    assert "0532 123 45 67" in box.text()
    assert "2 calls with this number" in box.informativeText()
    assert "The PBX keeps its own copies" in box.informativeText()
    box.delete_button.click()
    qloop.run(window.tasks.drain())
    assert [c.party for c in calls(window)] == ["1002", "02123205062"]
    assert "Deleted everything this PC kept about 0532 123 45 67" in window.status_text()

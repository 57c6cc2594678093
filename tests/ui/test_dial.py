from __future__ import annotations

import asyncio

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from bulutpop.devtools.fakepbx import FakePbxState
from bulutpop.ui import dial as dial_module
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.dial import DialDialog
from tests.conftest import scenario, until
from tests.ui.conftest import Loop, Webhook


def make(qtbot: QtBot, bridge: CoreBridge, number: str = "") -> DialDialog:
    dialog = DialDialog(bridge, number)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("05321234567", "Will call 0532 123 45 67"),
        ("+90 (532) 123-45-67", "Will call 0532 123 45 67"),
        ("1001", "Will call extension 1001"),
        ("0049 30 27590915", "Will call +49 30 27590915"),
    ],
)
def test_valid_number_shows_its_normalised_form(
    qtbot: QtBot, bridge: CoreBridge, typed: str, shown: str
) -> None:
    dialog = make(qtbot, bridge)
    QTest.keyClicks(dialog.edit, typed)
    assert dialog.status.text() == shown
    assert dialog.status.property("tone") == ""
    assert dialog.call_button.isEnabled()


def test_invalid_number_shows_an_error_and_cannot_be_called(
    qtbot: QtBot, bridge: CoreBridge
) -> None:
    dialog = make(qtbot, bridge, "0532 12")
    assert dialog.status.property("tone") == "error"
    assert "Not a phone number" in dialog.status.text()
    assert not dialog.call_button.isEnabled()
    dialog.field.setEditText("call me")
    assert dialog.status.property("tone") == "error"
    assert not dialog.call_button.isEnabled()
    dialog.field.setEditText("")
    assert dialog.status.property("tone") == "muted"
    assert not dialog.call_button.isEnabled()


def test_tel_link_is_prefilled_in_display_form(qtbot: QtBot, bridge: CoreBridge) -> None:
    dialog = make(qtbot, bridge, "tel:%2B905321234567")
    assert dialog.number_text() == "0532 123 45 67"
    assert dialog.call_button.isEnabled()


def test_dial_places_one_call_and_closes(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, fake_pbx: FakePbxState
) -> None:
    dialog = make(qtbot, bridge, "0532 123 45 67")
    assert qloop.run(dialog.dial()) is True
    assert [(o["extension"], o["destination"]) for o in fake_pbx.originates] == [
        ("1001", "905321234567")
    ]
    assert dialog.status.text() == "Your phone is ringing — pick up to call 0532 123 45 67."
    assert dialog.status.property("tone") == "ok"
    assert not dialog.call_button.isEnabled()
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=dial_module.CLOSE_DELAY_MS + 2000)
    assert dialog.result() == DialDialog.DialogCode.Accepted


def test_concurrent_dials_place_one_call(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, fake_pbx: FakePbxState
) -> None:
    fake_pbx.originate_delay = 0.2
    dialog = make(qtbot, bridge, "05321234567")

    async def both() -> list[bool]:
        return list(await asyncio.gather(dialog.dial(), dialog.dial()))

    assert sorted(qloop.run(both())) == [False, True]
    assert len(fake_pbx.originates) == 1
    assert fake_pbx.originates[0]["destination"] == "905321234567"


def test_double_click_places_one_call(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, fake_pbx: FakePbxState
) -> None:
    fake_pbx.originate_delay = 0.2
    dialog = make(qtbot, bridge, "05321234567")
    QTest.mouseClick(dialog.call_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(dialog.call_button, Qt.MouseButton.LeftButton)
    QTest.mouseDClick(dialog.call_button, Qt.MouseButton.LeftButton)
    assert dialog.status.text() != "Your phone is ringing — pick up to call 0532 123 45 67."
    qloop.run(dialog.tasks.drain())
    assert len(fake_pbx.originates) == 1
    assert dialog.status.property("tone") == "ok"


def test_repeated_enter_places_one_call(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, fake_pbx: FakePbxState
) -> None:
    fake_pbx.originate_delay = 0.2
    dialog = make(qtbot, bridge, "05321234567")
    edit = dialog.edit
    for _ in range(3):
        QTest.keyClick(edit, Qt.Key.Key_Return)
    qloop.run(dialog.tasks.drain())
    QTest.keyClick(edit, Qt.Key.Key_Enter)  # after the call: the field is disabled
    qloop.run(dialog.tasks.drain())
    assert len(fake_pbx.originates) == 1
    assert fake_pbx.originates[0]["extension"] == "1001"
    assert dialog.isVisible()  # closed by its timer, not by the Enter key


def test_pbx_error_is_shown_and_the_user_can_try_again(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, fake_pbx: FakePbxState
) -> None:
    fake_pbx.fail(400, "extension 1001 not found")
    dialog = make(qtbot, bridge, "05321234567")
    assert qloop.run(dialog.dial()) is False
    assert dialog.status.text() == (
        "The PBX refused the call.\nThe PBX's reply: extension 1001 not found"
    )
    assert dialog.status.property("tone") == "error"
    assert dialog.call_button.isEnabled()
    assert dialog.field.isEnabled()
    assert qloop.run(dialog.dial()) is True
    assert len(fake_pbx.originates) == 2


def test_unreachable_pbx_says_the_call_was_not_placed(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, fake_pbx: FakePbxState
) -> None:
    qloop.run(
        bridge.core.update_config(bridge.core.config.with_value("api_url", "http://127.0.0.1:9"))
    )
    dialog = make(qtbot, bridge, "05321234567")
    assert qloop.run(dialog.dial()) is False
    assert "the call was not placed" in dialog.status.text()
    assert fake_pbx.originates == []


def test_recent_outbound_and_missed_numbers_are_offered(
    qtbot: QtBot, bridge: CoreBridge, webhook: Webhook
) -> None:
    # 01: an answered inbound call (not offered); 02: a missed call and 05: the callback
    # to the same number (offered once).
    webhook.post(*scenario("01"), *scenario("02"), *scenario("05"))
    dialog = make(qtbot, bridge)
    model = dialog.field.model()
    assert [model.index(row, 0).data() for row in range(model.rowCount())] == ["0532 123 45 67"]
    assert dialog.number_text() == ""
    dialog.field.setCurrentIndex(0)
    assert dialog.status.text() == "Will call 0532 123 45 67"


def test_the_users_own_name_beats_the_pbxs_in_recent_numbers(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, webhook: Webhook
) -> None:
    webhook.post(*(body + b"&caller_id_name=SANTRAL+ADI" for body in scenario("02")))
    qloop.run(bridge.set_local_name("0532 123 45 67", "Ayşe Yılmaz"))
    dialog = make(qtbot, bridge)
    detail = dialog.field.model().index(0, 0).data(dial_module._DETAIL_ROLE)
    assert detail.startswith("Ayşe Yılmaz · missed ")


def test_a_failure_after_the_dialog_was_closed_brings_it_back(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, fake_pbx: FakePbxState
) -> None:
    fake_pbx.originate_delay = 0.2
    fake_pbx.fail(400, "extension 1001 not found")
    dialog = make(qtbot, bridge, "05321234567")
    QTest.keyClick(dialog.edit, Qt.Key.Key_Return)
    QTest.keyClick(dialog, Qt.Key.Key_Escape)  # before the request has even left
    assert not dialog.isVisible()
    qloop.run(dialog.tasks.drain())
    assert dialog.isVisible()
    assert dialog.status.text() == (
        "The PBX refused the call.\nThe PBX's reply: extension 1001 not found"
    )
    assert dialog.status.property("tone") == "error"
    assert dialog.call_button.isEnabled()
    assert len(fake_pbx.originates) == 1  # shown, never dialled again


def test_a_call_placed_after_the_dialog_was_closed_stays_quiet(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, fake_pbx: FakePbxState
) -> None:
    fake_pbx.originate_delay = 0.2
    dialog = make(qtbot, bridge, "05321234567")
    QTest.mouseClick(dialog.call_button, Qt.MouseButton.LeftButton)
    qloop.run(until(lambda: len(fake_pbx.originates) == 1, what="the request in flight"))
    dialog.close()
    qloop.run(dialog.tasks.drain())
    assert not dialog.isVisible()  # the ringing phone says it went through
    assert not dialog.calling
    assert len(fake_pbx.originates) == 1


def test_the_recent_list_neither_covers_the_preview_nor_overprints_numbers(
    qtbot: QtBot, bridge: CoreBridge, webhook: Webhook
) -> None:
    webhook.post(*scenario("02"))
    dialog = make(qtbot, bridge)
    QTest.keyClicks(dialog.edit, "0532")
    completer = dialog.field.completer()
    assert completer is not None
    popup = completer.popup()
    assert popup is not None
    qtbot.waitUntil(popup.isVisible)
    preview = dialog.status
    top_left = preview.mapToGlobal(preview.rect().topLeft())
    assert dialog.status.text() == "Will call extension 0532"
    assert not popup.geometry().intersects(preview.rect().translated(top_left))
    # A detail too long for the row is shortened beside the number, never drawn over it.
    metrics = dialog.fontMetrics()
    number, detail = "0532 123 45 67", "Ayşe Yılmaz (Acme Lojistik) · missed yesterday 14:32"
    shown = dial_module._RecentDelegate.fit_detail(metrics, number, detail, 260)
    assert shown != detail and shown.endswith("…")
    assert (
        metrics.horizontalAdvance(number)
        + dial_module.DETAIL_GAP
        + metrics.horizontalAdvance(shown)
        <= 260
    )

"""A day at the desk with the missed-call list (issue 13): rows never move under the
pointer or the keyboard, a click dials the caller the row showed, the list is searched
the Turkish way, and a withheld number offers nothing to call or copy."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from bulutpop.devtools.fakepbx import FakePbxState
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.missed.model import Column
from bulutpop.ui.missed.window import Action, MissedWindow
from tests.conftest import scenario
from tests.ui.conftest import Loop, Webhook

LEFT = Qt.MouseButton.LeftButton
NO_KEYS = Qt.KeyboardModifier.NoModifier


def other_caller(number: str = "05551112233", hour: str = "11", tag: str = "b") -> list[bytes]:
    """Scenario 02 (a missed mobile call) from another number, later the same day."""
    return [
        body.replace(b"05321234567", number.encode())
        .replace(b"0b7f3d55", f"0b7f3d5{tag}".encode())
        .replace(b"2026-11-20 10:", f"2026-11-20 {hour}:".encode())
        for body in scenario("02")
    ]


def post(window: MissedWindow, webhook: Webhook, qloop: Loop, *bodies: bytes) -> None:
    webhook.post(*bodies)
    qloop.run(window.model.settled())


def numbers(window: MissedWindow) -> list[str]:
    return [window.model.group(r).number for r in range(window.model.rowCount())]


def call_button_center(window: MissedWindow, row: int) -> QPoint:
    index = window.model.index(row, Column.ACTIONS)
    rect = window.view.visualRect(index)
    buttons = {b.action: b.rect for b in window.actions_delegate.buttons(rect, index)}
    return buttons[Action.CALL].center()


def test_rows_stay_still_under_the_pointer_and_new_callers_wait(
    missed_window: MissedWindow, webhook: Webhook, fake_pbx: FakePbxState, qloop: Loop
) -> None:
    window = missed_window
    post(window, webhook, qloop, *scenario("02"))
    window.show()
    QApplication.sendEvent(window.view.viewport(), QEvent(QEvent.Type.Enter))
    assert window.model.held
    # 0555 111 22 33 misses a call while the pointer rests on 0532's row.
    post(window, webhook, qloop, *other_caller())
    assert numbers(window) == ["+905321234567"]
    assert window.waiting.isVisible() and window.waiting.text() == "1 new caller — show"
    assert window.title.text() == "Missed calls (2)" and not window.more.isVisible()
    QTest.mouseClick(window.view.viewport(), LEFT, NO_KEYS, call_button_center(window, 0))
    qloop.run(window.tasks.drain())
    assert [o["destination"] for o in fake_pbx.originates] == ["905321234567"]
    # The pointer leaves, and the keyboard focus the click gave the list moves on: the
    # list catches up, newest first.
    QApplication.sendEvent(window.view.viewport(), QEvent(QEvent.Type.Leave))
    window.view.clearFocus()
    QApplication.sendEvent(window.view, QEvent(QEvent.Type.FocusOut))
    assert numbers(window) == ["+905551112233", "+905321234567"]
    assert not window.waiting.isVisible()


def test_rows_stay_still_while_the_list_has_the_keyboard(
    qtbot: QtBot, missed_window: MissedWindow, webhook: Webhook, qloop: Loop
) -> None:
    window = missed_window
    post(window, webhook, qloop, *scenario("02"))
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    window.view.setFocus()
    window.view.selectRow(0)
    assert window.model.held
    post(window, webhook, qloop, *other_caller(), *other_caller("05061112233", "12", "c"))
    assert numbers(window) == ["+905321234567"]
    assert window.waiting.text() == "2 new callers — show"
    window.waiting.click()  # the user asks for them
    assert numbers(window) == ["+905061112233", "+905551112233", "+905321234567"]
    # The selection stayed with the caller the user had chosen.
    assert window.view.selectionModel().selectedRows()[0].row() == 2


def test_a_click_dials_the_caller_the_row_showed(
    missed_window: MissedWindow, webhook: Webhook, fake_pbx: FakePbxState, qloop: Loop
) -> None:
    window = missed_window
    post(window, webhook, qloop, *scenario("02"), *other_caller())
    window.show()
    window.grab()  # painted: 0555 on top, 0532 below
    assert numbers(window) == ["+905551112233", "+905321234567"]
    shown = [window.actions_delegate.shown(window.model.index(r, Column.ACTIONS)) for r in (0, 1)]
    # The model reorders, and the click arrives before the rows are painted again.
    window.model.beginResetModel()
    window.model._groups.reverse()
    window.model.endResetModel()
    assert numbers(window) == ["+905321234567", "+905551112233"]
    window.actions_delegate.triggered.emit(shown[1], Action.CALL.value)  # what a click sends
    qloop.run(window.tasks.drain())
    assert [o["destination"] for o in fake_pbx.originates] == ["905321234567"]
    press = window.actions_delegate._hit(call_button_center(window, 1))
    assert press is not None and press[0].number == "+905321234567"  # painted, not the model's


def test_the_list_is_searched_the_turkish_way(
    missed_window: MissedWindow, bridge: CoreBridge, webhook: Webhook, qloop: Loop
) -> None:
    window = missed_window
    qloop.run(bridge.set_local_name("0532 123 45 67", "Şükrü Işık"))
    post(window, webhook, qloop, *scenario("02"), *other_caller())
    for typed in ("sukru", "IŞIK", "ışık", "0532 123", "+90 532 123 45 67"):
        window.search.setText(typed)
        assert numbers(window) == ["+905321234567"], typed
    window.search.setText("zeynep")
    assert window.is_empty() and window.empty_headline.text() == "No caller matches."
    window.search.clear()
    assert len(numbers(window)) == 2


def test_a_withheld_number_is_named_and_offers_no_call_back(
    missed_window: MissedWindow, webhook: Webhook, qloop: Loop
) -> None:
    window = missed_window
    post(window, webhook, qloop, *[b.replace(b"05321234567", b"") for b in scenario("02")])
    assert window.model.rowCount() == 1
    assert window.model.index(0, Column.CALLER).data() == "Hidden number"
    index = window.model.index(0, Column.ACTIONS)
    enabled = {
        b.action: b.enabled for b in window.actions_delegate.buttons(window.view.rect(), index)
    }
    assert enabled == {Action.CALL: False, Action.DONE: True, Action.COPY: False}
    window.view.selectRow(0)
    assert not window.call_action.isEnabled() and not window.copy_action.isEnabled()
    assert window.done_action.isEnabled()

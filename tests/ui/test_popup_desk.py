"""The popup at the desk (issue 13): a missed call's popup stays until seen and can call
back, ringing calls take the slots of finished ones, caller notes show on the next call,
colleagues are named, and "Open in CRM" is offered only where a CRM can help."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QRect, Qt, QUrl
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from bulutpop.devtools.fakepbx import FakePbxState
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.history.window import HistoryWindow
from bulutpop.ui.missed.model import Column
from bulutpop.ui.missed.window import MissedWindow
from bulutpop.ui.popup import CARD_HEIGHT, SHADOW, CallPopup, CloseDelays, PopupManager, PopupState
from tests.conftest import scenario
from tests.ui.conftest import Loop, Webhook, drain

SCREEN = QRect(0, 0, 1280, 800)
CALL_02 = "0b7f3d55-1e4a-4f0d-a6a2-5c7e9d3b2a02"
NOTE = "Faturayı yeniden istiyor"


class Answers:
    """A note dialog that answers at once with the text given."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.asked: list[tuple[str, str]] = []

    async def __call__(self, _parent: QWidget, number: str, current: str) -> str | None:
        self.asked.append((number, current))
        return self.text


class Opened(list[QUrl]):
    def __init__(self, works: bool = True) -> None:
        super().__init__()
        self.works = works

    def __call__(self, url: QUrl) -> bool:
        self.append(url)
        return self.works


@pytest.fixture
def opened() -> Opened:
    return Opened()


@pytest.fixture
def answers() -> Answers:
    return Answers(NOTE)


@pytest.fixture
def manager(
    qloop: Loop, bridge: CoreBridge, opened: Opened, answers: Answers
) -> Iterator[PopupManager]:
    m = PopupManager(
        bridge, area=lambda: SCREEN, open_url=opened, delays=CloseDelays(300, 300, 300),
        ask_note=answers,
    )  # fmt: skip
    yield m
    for popup in m.popups().values():
        drain(qloop, popup.tasks)
    m.close_all()
    drain(qloop, m.tasks)
    m.overflow.deleteLater()


def configure(qloop: Loop, bridge: CoreBridge, **values: str) -> None:
    config = bridge.config
    for key, value in values.items():
        config = config.with_value(key, value)
    qloop.run(bridge.save_config(config))


def missed(n: int) -> list[bytes]:
    """Scenario 02 (a missed mobile call) as call `n`, from a caller of its own."""
    return [
        body.replace(b"0b7f3d55", f"{n:08d}".encode()).replace(
            b"05321234567", f"053212345{n:02d}".encode()
        )
        for body in scenario("02")
    ]


def only(manager: PopupManager) -> CallPopup:
    (popup,) = manager.popups().values()
    return popup


def test_a_missed_calls_popup_stays_and_calls_back_once(
    qtbot: QtBot, qloop: Loop, manager: PopupManager, webhook: Webhook, fake_pbx: FakePbxState
) -> None:
    webhook.post(*scenario("02"))
    popup = only(manager)
    assert popup.state is PopupState.MISSED and not popup.closing  # stays until seen
    assert popup.callback_button.isVisibleTo(popup)
    QTest.mouseClick(popup.callback_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(popup.callback_button, Qt.MouseButton.LeftButton)  # disabled by now
    qloop.run(popup.tasks.drain())
    assert [o["destination"] for o in fake_pbx.originates] == ["905321234567"]
    assert popup.meta.text() == "Your phone is ringing — pick up to call 0532 123 45 67."
    assert popup.closing  # it has done its job
    qtbot.waitUntil(lambda: not manager.popups())


def test_a_ringing_call_takes_the_slot_of_a_finished_one(
    manager: PopupManager, webhook: Webhook
) -> None:
    for n in range(3):
        webhook.post(*missed(n))
    assert len(manager.popups()) == 3 and manager.waiting() == []
    webhook.post(scenario("01")[0])  # a new call rings
    popups = manager.popups()
    assert "6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01" in popups
    assert all(p.isVisible() for p in popups.values())
    assert [c.call_uuid[:8] for c in manager.waiting()] == ["00000000"]  # the oldest missed
    assert manager.overflow.label.text() == "+1 more"
    # Once the ringing call's popup goes, the missed call gets its window back.
    popups["6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01"].close()
    assert "00000000" in {uuid[:8] for uuid in manager.popups()}
    assert manager.waiting() == []


def test_a_note_written_on_a_popup_shows_on_the_next_call_and_in_the_lists(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, manager: PopupManager, webhook: Webhook,
    answers: Answers,
) -> None:  # fmt: skip
    webhook.post(*scenario("02"))
    popup = only(manager)
    assert popup.note.isHidden() and popup.note_button.text() == "✎ Note"
    QTest.mouseClick(popup.note_button, Qt.MouseButton.LeftButton)
    qloop.run(popup.tasks.drain())
    assert answers.asked == [("0532 123 45 67", "")]
    note = bridge.note_for("+905321234567")
    assert note is not None and note.text == NOTE
    # The open popup shows it at once, one line taller.
    assert popup.note.text() == f"✎ {NOTE}"
    assert popup.note_button.toolTip() == "Edit the note on this caller"
    assert popup.height() > CARD_HEIGHT + 2 * SHADOW
    popup.close()

    missed_list = MissedWindow(bridge)
    qtbot.addWidget(missed_list)
    history = HistoryWindow(bridge)
    qtbot.addWidget(history)
    assert NOTE in str(missed_list.model.index(0, Column.CALLER).data(missed_list.model.NoteRole))
    assert NOTE in history.model.party_text(history.model.call(0))
    missed_list.search.setText("fatura")  # a note is searched like a name
    assert missed_list.model.rowCount() == 1

    # The same caller rings again: their note is on the popup from the start.
    webhook.post(scenario("02")[0].replace(b"0b7f3d55", b"0b7f3d66"))
    again = manager.popups()["0b7f3d66-1e4a-4f0d-a6a2-5c7e9d3b2a02"]
    assert again.note.text() == f"✎ {NOTE}"
    drain(qloop, missed_list.tasks)
    qloop.run(missed_list.model.settled())


def test_notes_are_written_from_the_lists_and_forgotten_with_the_number(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, webhook: Webhook, answers: Answers
) -> None:
    webhook.post(*scenario("02"))
    missed_list = MissedWindow(bridge, ask_note=answers)
    qtbot.addWidget(missed_list)
    missed_list.view.selectRow(0)
    missed_list.note_action.trigger()
    drain(qloop, missed_list.tasks)
    qloop.run(missed_list.model.settled())
    assert missed_list.status_text() == "Note on 0532 123 45 67 saved."
    assert NOTE in str(missed_list.model.index(0, Column.CALLER).data(missed_list.model.NoteRole))

    history = HistoryWindow(bridge, ask_note=Answers(""))  # emptied: the note goes
    qtbot.addWidget(history)
    history.view.selectRow(0)
    history.note_action.trigger()
    drain(qloop, history.tasks)
    assert bridge.note_for("+905321234567") is None
    assert history.status_text() == "Note on 0532 123 45 67 removed."

    qloop.run(bridge.set_note("+905321234567", NOTE))
    qloop.run(bridge.forget("+905321234567"))  # KVKK erasure
    assert bridge.note_for("+905321234567") is None
    qloop.run(missed_list.model.settled())


def test_colleagues_are_named(
    qloop: Loop, bridge: CoreBridge, manager: PopupManager, webhook: Webhook,
    fake_pbx: FakePbxState, qtbot: QtBot,
) -> None:  # fmt: skip
    # The PBX's phonebook lists the extension under the colleague's name.
    fake_pbx.contacts.append({"id": 7, "name": "Mehmet", "surname": "Kaya", "phone": "1002"})
    qloop.run(bridge.phonebook.sync_pbx())
    ring_me, ring_colleague, answer, hangup = scenario("03")
    webhook.post(ring_me, ring_colleague, answer)
    assert only(manager).status.text() == "Mehmet Kaya answered"
    webhook.post(hangup)
    history = HistoryWindow(bridge)
    qtbot.addWidget(history)
    assert history.model.result_text(history.model.call(0)) == "Answered by Mehmet Kaya"


def test_no_crm_for_colleagues_or_hidden_numbers_and_no_silent_failure(
    qloop: Loop, bridge: CoreBridge, manager: PopupManager, webhook: Webhook, opened: Opened
) -> None:
    configure(qloop, bridge, crm_url="https://crm.example/find?n={number}")
    webhook.post(scenario("06")[0])  # colleague 1002 calls internally
    assert only(manager).crm_button.isHidden()
    manager.close_all()
    webhook.post(scenario("01")[0].replace(b"caller_id_number=02123205062", b"caller_id_number="))
    popup = only(manager)
    assert popup.title.text() == "Hidden number"
    assert popup.crm_button.isHidden() and not popup.copy_button.isEnabled()
    assert popup.note_button.isHidden()
    manager.close_all()

    opened.works = False  # no browser on this desktop
    webhook.post(scenario("02")[0])
    popup = only(manager)
    assert not popup.crm_button.isHidden()
    QTest.mouseClick(popup.crm_button, Qt.MouseButton.LeftButton)
    link = "https://crm.example/find?n=05321234567"
    assert popup.meta.text() == f"No browser opened; link copied: {link}"
    assert QGuiApplication.clipboard().text() == link

"""Nothing missed, as the user sees it: the PBX's notification URL shown and registered only
after confirmation, caller names from the PBX's phonebook, address books and the user's own
edits in every window, the catch-up from the call history in the tray, do-not-disturb and
the caller number. All against the real core and the fake PBX."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QMessageBox, QTreeWidgetItem, QWidget
from pytestqt.qtbot import QtBot

from bulutpop.app.core import Core
from bulutpop.calls.events import PBX_TZ
from bulutpop.devtools.fakepbx import FakePbxState, history_record
from bulutpop.errors import KeyRefused, RateLimited
from bulutpop.local.config import load
from bulutpop.pbx.client import CrmSettings
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
from bulutpop.ui.common.widgets import NameAsker
from bulutpop.ui.history.model import Column as HistoryColumn
from bulutpop.ui.history.window import HistoryWindow
from bulutpop.ui.missed.model import Column
from bulutpop.ui.missed.window import MissedWindow
from bulutpop.ui.settings.dialog import SettingsDialog
from tests.conftest import scenario
from tests.core.test_phonebook import hostile_books
from tests.ui.conftest import Loop, MakeDialog, Webhook, make_shell

OTHER_URL = "https://crm.example.com/bulutsantralim/hook"
AYSE = {
    "id": "17",
    "name": "Ayşe",
    "surname": "Yılmaz",
    "company_name": "Acme A.Ş.",
    "phone": "905321234567",
}


def answers(*names: str | None) -> tuple[NameAsker, list[tuple[str, str]]]:
    """A name dialog that answers at once; records (number shown, name offered)."""
    asked: list[tuple[str, str]] = []
    replies = iter(names)

    async def ask(_parent: QWidget, number: str, current: str) -> str | None:
        asked.append((number, current))
        return next(replies)

    return ask, asked


def missed_record(call_uuid: str, caller: str, **extra: Any) -> dict[str, Any]:
    """The PBX's history record of a call to 1001 that nobody answered, half an hour ago."""
    stamp = (datetime.now(PBX_TZ) - timedelta(minutes=30)).strftime("%Y-%m-%d %H:%M:%S")
    fields = {
        "call_uuid": call_uuid,
        "direction": "inbound",
        "caller_id_number": caller,
        "destination_number": "1001",
        "start_stamp": stamp,
        "end_stamp": stamp,
        "answered": "false",
    }
    return history_record(fields, **extra)


def plural(context: str, text: str, n: int) -> str:
    """`text` with its count as the app shows it, in one form or two ("1 call(s)" with the
    source text alone, "1 call" once the English catalogue is installed)."""
    return QCoreApplication.translate(context, text, "", n)


def caller(window: MissedWindow, row: int = 0) -> tuple[str, str]:
    index = window.model.index(row, Column.CALLER)
    return str(index.data()), str(index.data(window.model.NoteRole))


def books(dialog: SettingsDialog) -> list[QTreeWidgetItem]:
    """The rows of the address book list: (name, type, contacts, updated)."""
    rows = [
        dialog.books_tab.books.topLevelItem(i)
        for i in range(dialog.books_tab.books.topLevelItemCount())
    ]
    return [row for row in rows if row is not None]


def settle(window: MissedWindow, qloop: Loop) -> None:
    qloop.run(window.model.settled())


# --- the PBX's notification URL ------------------------------------------------------------


def test_the_pbx_url_is_shown_and_declining_the_confirmation_sends_nothing(
    make_dialog: MakeDialog, qloop: Loop, fake_pbx: FakePbxState, bridge: CoreBridge
) -> None:
    fake_pbx.crm = {
        "ringing": "on",
        "answered": "on",
        "hangup": "off",
        "notification_url": OTHER_URL,
    }
    asked: list[tuple[CrmSettings, str]] = []

    async def decline(current: CrmSettings, url: str) -> bool:
        asked.append((current, url))
        return False

    dialog = make_dialog(confirm_register=decline)
    dialog.tabs.setCurrentWidget(dialog.pbx_tab)  # the tab asks the PBX when first shown
    qloop.run(dialog.tasks.drain())
    assert f"Another URL is registered: {OTHER_URL}" in dialog.pbx_tab.crm_state.text.text()
    assert dialog.pbx_tab.crm_events.text() == "Ringing: on · Answered: on · Hangup: off"

    assert qloop.run(dialog.pbx_tab.register()) == "Nothing was changed on the PBX."
    [(current, url)] = asked
    assert current.notification_url == OTHER_URL
    assert url == bridge.config.webhook_url()
    assert fake_pbx.crm["notification_url"] == OTHER_URL
    assert not any("notification_url" in sent for sent in fake_pbx.received["crm_integrations"])


def test_registering_after_confirmation_points_the_pbx_at_this_app(
    make_dialog: MakeDialog,
    qloop: Loop,
    fake_pbx: FakePbxState,
    bridge: CoreBridge,
    webhook: Webhook,
) -> None:
    # The fake PBX, like the real one, first posts `{}` to the URL: it must reach us.
    public = webhook.url.removesuffix(bridge.config.webhook_path())
    qloop.run(bridge.save_config(bridge.config.with_value("public_url", public)))
    fake_pbx.crm["notification_url"] = OTHER_URL
    confirmed: list[str] = []

    async def confirm(_current: CrmSettings, url: str) -> bool:
        confirmed.append(url)
        return True

    dialog = make_dialog(confirm_register=confirm)
    qloop.run(dialog.pbx_tab.load_pbx())
    assert dialog.pbx_tab.register_button.isEnabled()

    text = qloop.run(dialog.pbx_tab.register())
    assert text == "Registered: the PBX now sends its call events to this app."
    assert confirmed == [webhook.url]
    assert fake_pbx.crm == {
        "notification_url": webhook.url,
        "ringing": "on",
        "answered": "on",
        "hangup": "on",
    }
    assert dialog.pbx_tab.crm_state.text.text() == "This is this app's URL."
    assert not dialog.pbx_tab.register_button.isEnabled()


def test_the_confirmation_names_the_url_it_replaces_and_defaults_to_cancel(
    make_dialog: MakeDialog, qloop: Loop
) -> None:
    dialog = make_dialog()
    current = CrmSettings(OTHER_URL, ringing=True, answered=True, hangup=True)

    async def answer() -> bool:
        asking = asyncio.ensure_future(
            dialog.pbx_tab._ask_register(current, "https://pop.example.com/x")
        )
        await asyncio.sleep(0)  # the box opens on the task's first step
        box = dialog.findChild(QMessageBox)
        assert box is not None and box.isVisible()
        assert OTHER_URL in box.informativeText()
        assert "https://pop.example.com/x" in box.informativeText()
        assert box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel)
        box.defaultButton().click()
        return await asking

    assert qloop.run(answer()) is False


def test_a_refused_key_is_explained_on_the_pbx_tab(
    make_dialog: MakeDialog, qloop: Loop, fake_pbx: FakePbxState
) -> None:
    fake_pbx.fail(401, "Gecersiz anahtar")
    dialog = make_dialog()
    qloop.run(dialog.pbx_tab.load_crm())
    assert "The API key was refused: check it in Settings." in dialog.pbx_tab.crm_state.text.text()
    assert not dialog.pbx_tab.register_button.isEnabled()


# --- names ---------------------------------------------------------------------------------


def test_a_phonebook_name_shows_for_a_number_written_differently(
    missed_window: MissedWindow,
    qloop: Loop,
    fake_pbx: FakePbxState,
    bridge: CoreBridge,
    webhook: Webhook,
) -> None:
    webhook.post(*scenario("02"))  # a missed call from 05321234567
    settle(missed_window, qloop)
    assert caller(missed_window) == ("0532 123 45 67", "")

    fake_pbx.contacts = [AYSE]  # the PBX writes the number 905321234567
    qloop.run(bridge.phonebook.sync_pbx())
    settle(missed_window, qloop)
    assert caller(missed_window) == ("Ayşe Yılmaz", "0532 123 45 67 · Acme A.Ş.")
    assert bridge.name_for("+905321234567") == "Ayşe Yılmaz"  # what the popup shows


def test_the_history_name_is_used_until_something_better_is_known(
    missed_window: MissedWindow, qloop: Loop, fake_pbx: FakePbxState, bridge: CoreBridge
) -> None:
    fake_pbx.cdrs = [missed_record("h-1", "05321234567", caller_id_name="AYSE Y")]
    qloop.run(bridge.catchup.run_once())
    settle(missed_window, qloop)
    assert caller(missed_window)[0] == "AYSE Y"

    fake_pbx.contacts = [AYSE]
    qloop.run(bridge.phonebook.sync_pbx())
    settle(missed_window, qloop)
    assert caller(missed_window)[0] == "Ayşe Yılmaz"


def test_a_name_edited_by_the_user_shows_everywhere(
    qtbot: QtBot,
    qloop: Loop,
    fake_pbx: FakePbxState,
    bridge: CoreBridge,
    webhook: Webhook,
) -> None:
    fake_pbx.contacts = [AYSE]
    qloop.run(bridge.phonebook.sync_pbx())
    ask, asked = answers("Ayşe Hanım (muhasebe)", "")
    missed = MissedWindow(bridge, ask=ask)
    history = HistoryWindow(bridge, ask=ask)
    for window in (missed, history):
        qtbot.addWidget(window)
    history.show()
    webhook.post(*scenario("02"))
    settle(missed, qloop)
    qtbot.waitUntil(lambda: history.model.rowCount() == 1)

    assert qloop.run(missed.edit_name(0)) is True
    assert asked == [("0532 123 45 67", "Ayşe Yılmaz")]
    settle(missed, qloop)
    assert caller(missed)[0] == "Ayşe Hanım (muhasebe)"
    party = history.model.index(0, HistoryColumn.PARTY).data()
    assert party == "Ayşe Hanım (muhasebe) (Acme A.Ş.) · 0532 123 45 67"
    assert bridge.name_for("05321234567") == "Ayşe Hanım (muhasebe)"
    assert "Ayşe Hanım" in missed.status_text()

    # The history finds the call by the new name, which the PBX never sent.
    history.search.setText("muhasebe")
    history.apply_filter()
    assert history.model.rowCount() == 1

    # An empty name gives the phonebook's back.
    assert qloop.run(history.edit_name(0)) is True
    settle(missed, qloop)
    assert caller(missed)[0] == "Ayşe Yılmaz"
    assert history.model.rowCount() == 0  # nothing is called "muhasebe" any more
    qloop.run(missed.tasks.drain())
    qloop.run(history.tasks.drain())


def test_an_address_book_file_names_callers_until_it_is_removed(
    make_dialog: MakeDialog,
    missed_window: MissedWindow,
    qloop: Loop,
    webhook: Webhook,
    tmp_path: Path,
) -> None:
    book = tmp_path / "rehber.csv"
    book.write_text(
        "Ad Soyad;Şirket;Cep Telefonu\nMehmet Demir;Demir Ltd;0532 123 45 67\n", encoding="utf-8"
    )
    broken = tmp_path / "notes.csv"
    broken.write_text("Ad;Not\nAli;hi\n", encoding="utf-8")

    async def choose() -> list[Path]:
        return [book, broken]

    webhook.post(*scenario("02"))
    dialog = make_dialog(choose_files=choose)
    text = qloop.run(dialog.books_tab.add_address_books())
    assert "rehber.csv: 1 contact" in text
    assert "notes.csv: no phone number column" in text
    rows = books(dialog)
    assert [(r.text(0), r.text(1), r.text(2)) for r in rows] == [
        ("PBX phonebook", "PBX", "0"),
        ("rehber.csv", "CSV", "1"),
    ]
    settle(missed_window, qloop)
    assert caller(missed_window) == ("Mehmet Demir", "0532 123 45 67 · Demir Ltd")

    assert not dialog.books_tab.remove_book_button.isEnabled()
    rows[0].setSelected(True)  # the PBX's phonebook is synced, not removed
    assert not dialog.books_tab.remove_book_button.isEnabled()
    dialog.books_tab.books.clearSelection()
    rows[1].setSelected(True)
    assert qloop.run(dialog.books_tab.remove_address_book()) == "Removed rehber.csv."
    settle(missed_window, qloop)
    assert caller(missed_window) == ("0532 123 45 67", "")
    assert len(books(dialog)) == 1


def test_a_hostile_address_book_is_reported_and_the_next_file_still_added(
    make_dialog: MakeDialog, qloop: Loop, tmp_path: Path
) -> None:
    hostile = hostile_books(tmp_path)
    good = tmp_path / "rehber.csv"
    good.write_text("Ad Soyad;Cep Telefonu\nMehmet Demir;0532 123 45 67\n", encoding="utf-8")

    async def choose() -> list[Path]:
        return [*hostile.values(), good]

    dialog = make_dialog(choose_files=choose)
    text = qloop.run(dialog.books_tab.add_address_books())
    assert "rehber.csv: 1 contact" in text
    assert "huge-field.csv: a field is longer than 131072 characters" in text
    assert "nested.vcf: vCards are nested too deeply" in text
    assert "charset.vcf: not a readable CSV or vCard file" in text
    assert [r.text(0) for r in books(dialog)] == ["PBX phonebook", "rehber.csv"]


def test_syncing_the_pbx_phonebook_from_settings_counts_it(
    make_dialog: MakeDialog, qloop: Loop, fake_pbx: FakePbxState
) -> None:
    fake_pbx.contacts = [AYSE]
    dialog = make_dialog()
    has_one = plural("AddressBooksTab", "The PBX phonebook has %n contact(s).", 1)
    assert qloop.run(dialog.books_tab.sync_phonebook()) == has_one
    pbx = books(dialog)[0]
    assert (pbx.text(0), pbx.text(2)) == ("PBX phonebook", "1")

    fake_pbx.fail(401, "Gecersiz anahtar")
    text = qloop.run(dialog.books_tab.sync_phonebook())
    assert text == (
        "The PBX phonebook was not synced: The API key was refused: check it in Settings."
    )


def test_queues_show_by_name(
    qtbot: QtBot, qloop: Loop, fake_pbx: FakePbxState, bridge: CoreBridge, webhook: Webhook
) -> None:
    assert bridge.queue_name("200") == "200"
    fake_pbx.queues = {"200": "Satış"}
    qloop.run(bridge.phonebook.sync_queues())
    assert bridge.queue_name("200") == "Satış (200)"
    assert bridge.queue_name("300") == "300"

    history = HistoryWindow(bridge)
    qtbot.addWidget(history)
    webhook.post(*scenario("03"))  # a queue call to 200
    history.model.reload()
    assert history.model.index(0, HistoryColumn.QUEUE).data() == "Satış (200)"


# --- catch-up ------------------------------------------------------------------------------


def test_the_tray_tells_when_the_catch_up_ran_and_what_it_recovered(
    qloop: Loop, fake_pbx: FakePbxState, bridge: CoreBridge
) -> None:
    tray = make_shell(bridge)
    assert "catch-up" not in tray.tooltip
    fake_pbx.cdrs = [missed_record("h-1", "05321234567")]

    qloop.run(bridge.catchup.run_once())
    last = plural("Shell", "Last catch-up %1 · %n call(s) recovered", 1)
    assert last.replace("%1", fmt.when(bridge.catchup_status.last_run)) in tray.tooltip
    assert tray.state == "missed"

    # A refused key stops the catch-up: a problem, with the reason.
    fake_pbx.fail(401, "Gecersiz anahtar")
    with pytest.raises(KeyRefused):
        qloop.run(bridge.catchup.run_once())
    assert tray.state == "problem"
    assert "The API key was refused" in tray.tooltip
    assert "check it in Settings." in tray.tooltip

    # Other failures are retried by themselves: told, but no problem state.
    fake_pbx.fail(429, "Rate limit exceeded", {"Retry-After": "30"})
    with pytest.raises(RateLimited):
        qloop.run(bridge.catchup.run_once())
    assert tray.state == "missed"
    assert "Catch-up failed: Too many requests: try again in 30 s." in tray.tooltip
    tray.close()


def test_catch_up_now_in_settings_shows_what_it_recovered(
    make_dialog: MakeDialog, qloop: Loop, fake_pbx: FakePbxState, core: Core, bridge: CoreBridge
) -> None:
    dialog = make_dialog()
    assert dialog.pbx_tab.catchup_state.text.text() == "No catch-up has run yet."
    fake_pbx.cdrs = [missed_record("h-1", "05321234567"), missed_record("h-2", "02121234567")]
    text = qloop.run(dialog.pbx_tab.catch_up_now())
    last = plural("PbxTab", "Last catch-up %1 · %n call(s) recovered", 2)
    assert text == last.replace("%1", fmt.when(bridge.catchup_status.last_run))
    assert core.store.open_missed_count() == 2

    dialog.pbx_tab.catchup_minutes_edit.setText("0")
    assert "outside 1..1440" in dialog.error_text("catchup_minutes")
    dialog.pbx_tab.catchup_minutes_edit.setText("5")
    dialog.pbx_tab.history_days_edit.setText("30")
    assert qloop.run(dialog.save()) is True
    assert (load(core.dirs).catchup_minutes, load(core.dirs).history_days) == (5, 30)


# --- do-not-disturb and the caller number --------------------------------------------------


def test_do_not_disturb_is_switched_on_the_pbx_from_the_tray_menu(
    qloop: Loop, fake_pbx: FakePbxState, bridge: CoreBridge
) -> None:
    fake_pbx.dnd["1001"] = True
    tray = make_shell(bridge)
    qloop.run(tray.load_dnd())
    assert tray.dnd is True and tray.state == "dnd"
    assert "Do not disturb is on" in tray.tooltip

    tray._menu.aboutToShow.emit()
    [dnd] = [a for a in tray._menu.actions() if a.text() == "Do not disturb"]
    assert dnd.isChecked()
    dnd.trigger()  # unchecks it
    qloop.run(tray.tasks.drain())
    assert fake_pbx.dnd["1001"] is False
    assert tray.dnd is False and tray.state == "listening"

    fake_pbx.fail(400, "extension 1001 not found")
    assert qloop.run(tray.set_dnd(True)) is False
    assert tray.dnd is False
    assert tray.window is not None
    assert tray.window.status.text() == (
        "The PBX refused the request.\nThe PBX's reply: extension 1001 not found"
    )
    tray.close()


def test_the_caller_number_is_chosen_from_the_pbx_and_used_when_dialling(
    make_dialog: MakeDialog,
    qloop: Loop,
    fake_pbx: FakePbxState,
    bridge: CoreBridge,
    core: Core,
) -> None:
    fake_pbx.caller_ids = ["908505320000", "902125550000"]
    dialog = make_dialog()
    qloop.run(dialog.pbx_tab.load_pbx())
    combo = dialog.pbx_tab.caller_id_combo
    assert [combo.itemText(i) for i in range(combo.count())] == [
        "My extension's default",
        "0850 532 0000",
        "0212 555 00 00",
    ]
    combo.setCurrentIndex(combo.findData("902125550000"))
    assert qloop.run(dialog.save()) is True
    assert load(core.dirs).caller_id == "902125550000"

    qloop.run(bridge.dialer.dial("05321234567"))
    assert fake_pbx.originates[-1]["caller_id"] == "902125550000"

    # The tray offers the same choice, with the saved one ticked.
    tray = make_shell(bridge)
    tray._menu.aboutToShow.emit()
    submenu = tray._caller_menu
    assert [a.text() for a in submenu.actions() if a.isChecked()] == ["0212 555 00 00"]
    [default] = [a for a in submenu.actions() if a.text() == "My extension's default"]
    default.trigger()
    qloop.run(tray.tasks.drain())
    assert core.config.caller_id == ""
    tray.close()

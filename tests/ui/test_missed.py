from __future__ import annotations

import asyncio
import errno

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from bulutpop.devtools.fakepbx import FakePbxState
from bulutpop.errors import (
    AutostartError,
    BrokerError,
    CannotListen,
    ConfigError,
    CredentialRefused,
    DialRefused,
    DownloadError,
    InviteError,
    KeyRefused,
    KeyringUnavailable,
    NetworkError,
    NotFound,
    NumberError,
    PbxFailed,
    PbxRefused,
    RateLimited,
    SetupMissing,
    StorageError,
    TeamError,
)
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.missed import model as missed_model
from bulutpop.ui.missed.model import Column
from bulutpop.ui.missed.window import Action, MissedWindow
from tests.conftest import scenario
from tests.ui.conftest import Loop, Webhook, forget_confirmation, menu_texts

LEFT = Qt.MouseButton.LeftButton
NO_KEYS = Qt.KeyboardModifier.NoModifier


@pytest.fixture
def window(missed_window: MissedWindow) -> MissedWindow:
    """The missed-call list (tests/ui/conftest.py), under the name these tests use."""
    return missed_window


def post(window: MissedWindow, webhook: Webhook, qloop: Loop, *bodies: bytes) -> None:
    """Deliver events, then wait for the list to show them."""
    webhook.post(*bodies)
    qloop.run(window.model.settled())


def caller_text(window: MissedWindow, row: int) -> str:
    return str(window.model.index(row, Column.CALLER).data())


def test_a_missed_call_shows_one_row_and_the_count(
    window: MissedWindow, webhook: Webhook, qloop: Loop
) -> None:
    assert window.is_empty()
    post(window, webhook, qloop, *scenario("02"))
    assert window.model.rowCount() == 1
    assert caller_text(window, 0) == "0532 123 45 67"
    assert window.count() == 1
    assert window.title.text() == "Missed calls (1)"
    assert not window.is_empty()


def test_call_back_originates_once_from_my_extension(
    window: MissedWindow, webhook: Webhook, fake_pbx: FakePbxState, qloop: Loop
) -> None:
    post(window, webhook, qloop, *scenario("02"))
    qloop.run(window.call_back(0))
    assert [(o["extension"], o["destination"]) for o in fake_pbx.originates] == [
        ("1001", "905321234567")
    ]
    assert window.status_text() == "Your phone is ringing — pick up to call 0532 123 45 67."
    assert window.model.busy_number is None


def test_rapid_repeated_call_backs_send_one_request(
    window: MissedWindow, webhook: Webhook, fake_pbx: FakePbxState, qloop: Loop
) -> None:
    post(window, webhook, qloop, *scenario("02"))
    fake_pbx.originate_delay = 0.2

    async def twice() -> None:
        await asyncio.gather(window.call_back(0), window.call_back(0))

    qloop.run(twice())
    assert len(fake_pbx.originates) == 1
    # A third click right after the call went through is refused by the dialer's guard.
    qloop.run(window.call_back(0))
    assert len(fake_pbx.originates) == 1
    assert "dialled a moment ago" in window.status_text()


def test_the_row_shows_progress_while_calling(
    window: MissedWindow, webhook: Webhook, fake_pbx: FakePbxState, qloop: Loop
) -> None:
    post(window, webhook, qloop, *scenario("02"))
    seen: list[str] = []

    async def watch() -> None:
        task = asyncio.ensure_future(window.call_back(0))
        await asyncio.sleep(0)  # one turn: the callback runs up to its request to the PBX
        index = window.model.index(0, Column.ACTIONS)
        call_button = window.actions_delegate.buttons(QRect(), index)[0]
        assert (call_button.text, call_button.enabled) == ("Calling…", False)
        seen.append(str(window.model.index(0, Column.CALLER).data(window.model.NoteRole)))
        seen.append(window.status_text())
        await task

    qloop.run(watch())
    assert seen == [
        "Calling… your phone will ring",
        "Calling 0532 123 45 67… your phone will ring.",
    ]
    assert window.model.index(0, Column.CALLER).data(window.model.NoteRole) == ""
    assert len(fake_pbx.originates) == 1


def test_done_hides_the_row_and_undo_restores_it(
    window: MissedWindow, webhook: Webhook, qloop: Loop
) -> None:
    post(window, webhook, qloop, *scenario("02"))
    qloop.run(window.mark_done(0))
    assert window.model.rowCount() == 0
    assert window.count() == 0
    assert window.is_empty()
    assert window.status_text() == "Marked 0532 123 45 67 as done."
    qloop.run(window.undo())
    assert window.model.rowCount() == 1
    assert window.count() == 1
    assert window.status_text() == "0532 123 45 67 is back in the list."


def test_answered_callback_resolves_without_a_click(
    window: MissedWindow, webhook: Webhook, qloop: Loop
) -> None:
    post(window, webhook, qloop, *scenario("02"))
    post(window, webhook, qloop, *scenario("05"))
    assert window.model.rowCount() == 0
    assert window.count() == 0
    window.show_resolved.setChecked(True)
    qloop.run(window.model.settled())
    assert window.model.rowCount() == 1
    group = window.model.group(0)
    assert group.resolved_by == "callback"
    note = window.model.index(0, Column.CALLER).data(window.model.NoteRole)
    assert note.startswith("Called back")
    assert window.count() == 0  # resolved rows do not count


def test_pbx_refusal_is_shown_in_plain_words(
    window: MissedWindow, webhook: Webhook, fake_pbx: FakePbxState, qloop: Loop
) -> None:
    post(window, webhook, qloop, *scenario("02"))
    fake_pbx.fail(400, "extension 1001 not found")
    qloop.run(window.call_back(0))
    assert "extension 1001 not found" in window.status_text()
    assert window.model.busy_number is None


def test_copy_puts_the_display_number_on_the_clipboard(
    window: MissedWindow, webhook: Webhook, qloop: Loop
) -> None:
    post(window, webhook, qloop, *scenario("02"))
    window.copy(0)
    clipboard = QGuiApplication.clipboard()
    assert clipboard.text() == "0532 123 45 67"


def test_selection_follows_the_caller_across_reloads(
    window: MissedWindow, webhook: Webhook, qloop: Loop
) -> None:
    post(window, webhook, qloop, *scenario("02"))
    window.view.selectRow(0)
    post(window, webhook, qloop, *scenario("06"))  # a colleague's missed internal call goes on top
    assert [window.model.group(r).number for r in range(2)] == ["1002", "+905321234567"]
    rows = window.view.selectionModel().selectedRows()
    assert [window.model.group(r.row()).number for r in rows] == ["+905321234567"]


# One of every kind in the error vocabulary (bulutpop.errors).
EVERY_ERROR: list[BaseException] = [
    NumberError("abc"),
    DialRefused("busy", "+905321234567"),
    DialRefused("repeat", "1002"),
    SetupMissing("api_key"),
    SetupMissing("extension"),
    SetupMissing("team_secret"),
    InviteError("foreign"),
    InviteError("damaged"),
    ConfigError("listen_port: 99999 is outside 0..65535"),
    KeyringUnavailable("locked", "API key", "BULUTPOP_API_KEY"),
    KeyringUnavailable("unavailable", "team secret", "BULUTPOP_TEAM_SECRET"),
    KeyringUnavailable("insecure", "API key", "BULUTPOP_API_KEY", backend="PlaintextKeyring"),
    KeyringUnavailable("failed", "API key", "BULUTPOP_API_KEY", detail="DBusError"),
    CredentialRefused(status=401),
    KeyRefused(status=401),
    RateLimited(12.2),
    NotFound("call"),
    NotFound("recording_link"),
    NotFound("address"),
    PbxRefused(detail="extension 1005 not found"),
    PbxFailed("HTTP 503", detail="backend down"),
    NetworkError("connection refused", uncertain=False),
    DownloadError("/tmp/x.wav", "No space left on device"),
    StorageError("/tmp/s.sqlite3", "damaged", "file is not a database"),
    StorageError("/tmp/s.sqlite3", "newer", "schema 9"),
    StorageError("/tmp/s.sqlite3", "unwritable", "Permission denied"),
    CannotListen("receiver", "127.0.0.1", 8787, "in_use", "listen_port"),
    CannotListen("receiver", "10.9.9.9", 8787, "bad_address", "listen_host", "not here"),
    TeamError("the relay answered HTTP 500"),
    BrokerError("Mosquitto did not start"),
    AutostartError("could not write the login item"),
    AutostartError("runs from a temporary copy", problem="translocated"),
    NetworkError(
        "no route", uncertain=False, errno=errno.EHOSTUNREACH, host="192.168.1.5", platform="darwin"
    ),
]


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (NumberError("abc"), "“abc” is not a phone number."),
        (DialRefused("busy", "+905321234567"), "Not dialled: already calling 0532 123 45 67."),
        (DialRefused("repeat", "1002"), "Not dialled: 1002 was dialled a moment ago."),
        (
            SetupMissing("api_key"),
            "Setup needed: no API key is stored. Open Settings to finish it.",
        ),
        (
            SetupMissing("extension"),
            "Setup needed: no extension is configured. Open Settings to finish it.",
        ),
        (
            SetupMissing("team_secret"),
            "Setup needed: this PC's team secret is missing. Open Settings to finish it.",
        ),
        (KeyRefused(status=401), "The API key was refused: check it in Settings."),
        (PbxRefused(detail="extension 1005 not found"), "extension 1005 not found"),
        (NetworkError("x", uncertain=False), "Could not reach"),
        (RateLimited(12.2), "Too many requests: try again in 13 s."),
        (KeyringUnavailable("locked", "API key", "BULUTPOP_API_KEY"), "keyring is locked"),
        (CannotListen("receiver", "127.0.0.1", 8787, "in_use", "listen_port"), "Port 8787"),
    ],
)
def test_describe_error(exc: BaseException, text: str) -> None:
    assert text in describe_error(exc)
    assert "`bulutpop" not in describe_error(exc)  # no command-line advice in the app


def test_no_route_to_the_office_lan_on_macos_points_at_the_privacy_setting() -> None:
    def no_route(platform: str) -> NetworkError:
        return NetworkError(
            "cannot connect to 192.168.1.5:8788: No route to host",
            uncertain=False,
            errno=errno.EHOSTUNREACH,
            host="192.168.1.5",
            platform=platform,
        )

    hint = (
        "macOS may be blocking local network access: System Settings → Privacy and Security → "
        "Local Network → allow bulutpop."
    )
    assert describe_error(no_route("darwin")) == hint
    assert describe_error(no_route("darwin"), "dial") == hint
    assert "No route to host" in describe_error(no_route("linux"))
    assert "macOS" not in describe_error(no_route("linux"), "dial")


def test_a_translocated_app_says_where_to_move_it() -> None:
    text = describe_error(AutostartError("temporary copy", problem="translocated"))
    assert "move bulutpop.app into Applications" in text


def test_a_dial_that_may_have_gone_through_says_so() -> None:
    uncertain = NetworkError("timed out", uncertain=True)
    assert "may or may not have been placed" in describe_error(uncertain, "dial")
    assert "may or may not" not in describe_error(uncertain)
    refused = PbxRefused(detail="invalid destination: 1234")
    assert describe_error(refused, "dial") == (
        "The PBX refused the call.\nThe PBX's reply: invalid destination: 1234"
    )


@pytest.mark.parametrize("exc", EVERY_ERROR, ids=lambda e: type(e).__name__)
def test_every_error_has_words_in_both_languages(turkish: None, exc: BaseException) -> None:
    text = describe_error(exc)
    assert text and "Something went wrong" not in text and "Bir sorun oluştu" not in text
    assert type(exc).__name__ not in text


@pytest.mark.parametrize(
    ("exc", "text"),
    [
        (DialRefused("busy", "+905321234567"), "Aranmadı: 0532 123 45 67 şu anda aranıyor."),
        (DialRefused("repeat", "+905321234567"), "Aranmadı: 0532 123 45 67 az önce arandı."),
        (
            SetupMissing("api_key"),
            "Kurulum gerekli: kayıtlı API anahtarı yok. Tamamlamak için Ayarlar'ı açın.",
        ),
        (
            SetupMissing("extension"),
            "Kurulum gerekli: dahili numara ayarlanmamış. Tamamlamak için Ayarlar'ı açın.",
        ),
        (
            SetupMissing("team_secret"),
            "Kurulum gerekli: bu bilgisayarın ekip parolası eksik. Tamamlamak için Ayarlar'ı açın.",
        ),
    ],
)
def test_describe_error_in_turkish_has_no_english_inside(
    turkish: None, exc: BaseException, text: str
) -> None:
    assert describe_error(exc) == text


def test_done_twice_quickly_is_one_undoable_mark(
    window: MissedWindow, webhook: Webhook, qloop: Loop
) -> None:
    post(window, webhook, qloop, *scenario("02"))

    async def twice() -> None:
        await asyncio.gather(window.mark_done(0), window.mark_done(0))

    qloop.run(twice())
    assert window.count() == 0
    qloop.run(window.undo())
    assert window.count() == 1
    assert window.model.rowCount() == 1


def test_a_known_caller_shows_name_and_number(
    window: MissedWindow, bridge: CoreBridge, webhook: Webhook, qloop: Loop
) -> None:
    qloop.run(bridge.set_local_name("0532 123 45 67", "Ayşe Yılmaz"))
    post(window, webhook, qloop, *scenario("02"))
    index = window.model.index(0, Column.CALLER)
    assert index.data() == "Ayşe Yılmaz"
    assert index.data(window.model.NoteRole) == "0532 123 45 67"


def test_the_painted_row_buttons_and_undo_respond_to_clicks(
    qtbot: QtBot, window: MissedWindow, webhook: Webhook, fake_pbx: FakePbxState, qloop: Loop
) -> None:
    post(window, webhook, qloop, *scenario("02"))
    window.show()
    index = window.model.index(0, Column.ACTIONS)
    buttons = {
        b.action: b.rect
        for b in window.actions_delegate.buttons(window.view.visualRect(index), index)
    }
    viewport = window.view.viewport()

    QTest.mouseClick(viewport, LEFT, NO_KEYS, buttons[Action.CALL].center())
    qloop.run(window.tasks.drain())
    assert len(fake_pbx.originates) == 1

    QTest.mouseClick(viewport, LEFT, NO_KEYS, buttons[Action.DONE].center())
    qloop.run(window.tasks.drain())
    assert window.is_empty()
    assert window.status.undo_button.isVisible()
    QTest.mouseClick(window.status.undo_button, LEFT)
    qloop.run(window.tasks.drain())
    assert window.model.rowCount() == 1


def test_double_click_calls_back(
    qtbot: QtBot, window: MissedWindow, webhook: Webhook, fake_pbx: FakePbxState, qloop: Loop
) -> None:
    post(window, webhook, qloop, *scenario("02"))
    window.show()
    rect = window.view.visualRect(window.model.index(0, Column.LAST))
    # A real double click is a press, a release, then the double-click event.
    QTest.mouseClick(window.view.viewport(), LEFT, NO_KEYS, rect.center())
    QTest.mouseDClick(window.view.viewport(), LEFT, NO_KEYS, rect.center())
    qloop.run(window.tasks.drain())
    assert [o["destination"] for o in fake_pbx.originates] == ["905321234567"]


def test_keys_and_menu_act_on_the_selected_caller(
    qtbot: QtBot, window: MissedWindow, webhook: Webhook, fake_pbx: FakePbxState, qloop: Loop
) -> None:
    post(window, webhook, qloop, *scenario("02"))
    with qtbot.waitActive(window):  # shortcuts work in the active window only
        window.show()
        window.activateWindow()
    window.copy_action.trigger()  # nothing selected: nothing to copy
    assert window.status_text() == ""
    window.view.selectRow(0)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)
    assert QGuiApplication.clipboard().text() == "0532 123 45 67"
    assert window.status_text() == "Copied 0532 123 45 67."
    QTest.keyClick(window.view, Qt.Key.Key_Enter)  # the keypad's Enter calls back too
    qloop.run(window.tasks.drain())
    assert len(fake_pbx.originates) == 1

    window.view.clearSelection()
    assert menu_texts(window.view, 0) == [
        "Call back",
        "Done",
        "Copy number",
        "",
        "Note…",
        "Edit name…",
        "Delete this number's records…",
    ]
    assert window.view.selectionModel().selectedRows()[0].row() == 0  # right-click selects
    window.done_action.trigger()
    qloop.run(window.tasks.drain())
    assert window.is_empty()
    assert window.status_text() == "Marked 0532 123 45 67 as done."


def test_more_callers_than_the_list_holds_are_mentioned(
    window: MissedWindow, webhook: Webhook, qloop: Loop, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(missed_model, "LIST_LIMIT", 2)
    bodies = [
        line.replace(b"05321234567", f"0532123450{n}".encode()).replace(
            b"call_uuid=", f"call_uuid=many{n}-".encode()
        )
        for n in range(3)
        for line in scenario("02")
    ]
    post(window, webhook, qloop, *bodies)
    assert window.model.rowCount() == 2 and window.count() == 3
    assert window.more.isVisibleTo(window)
    assert window.more.text() == (
        "The 2 most recent of 3 callers are listed; find the others in the history."
    )
    monkeypatch.setattr(missed_model, "LIST_LIMIT", 1000)
    window.model.refresh()
    qloop.run(window.model.settled())
    assert not window.more.isVisibleTo(window)


def test_deleting_a_callers_records_says_what_goes_and_what_the_pbx_keeps(
    window: MissedWindow, webhook: Webhook, qloop: Loop, bridge: CoreBridge
) -> None:
    post(window, webhook, qloop, *scenario("02"), *scenario("01"))
    window.view.selectRow(0)
    window.forget_action.trigger()
    box = forget_confirmation(qloop, window)
    assert box.text() == "Delete everything this PC keeps about 0532 123 45 67?"
    told = box.informativeText()
    for words in ("1 call with this number", "call events", "name", "recordings", "claims"):
        assert words in told
    assert "The PBX keeps its own copies" in told and "PBX's web portal" in told
    assert "relay forget" not in told  # not in a team
    assert box.defaultButton() is not box.delete_button
    box.reject()  # Cancel, or Esc
    qloop.run(window.tasks.drain())
    assert window.model.rowCount() == 1 and bridge.calls_with("+905321234567") == 1

    window.forget_action.trigger()
    forget_confirmation(qloop, window).delete_button.click()
    qloop.run(window.tasks.drain())
    qloop.run(window.model.settled())
    assert window.is_empty()
    assert bridge.calls_with("+905321234567") == 0
    assert [c.party for c in bridge.recent_calls(10)] == ["02123205062"]  # the other caller
    assert window.status_text() == (
        "Deleted everything this PC kept about 0532 123 45 67. The PBX still has its own copies."
    )

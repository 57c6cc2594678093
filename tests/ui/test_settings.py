"""The settings dialog and first-run wizard over a real core: values go through the config
parser and into the config file, the key into the (in-memory) keyring, the key test to the
fake PBX, and the test event to the real webhook receiver."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import keyring
import pytest
from keyring.backends import null
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QLabel
from pytestqt.qtbot import QtBot

from bulutpop.app.core import Core
from bulutpop.devtools.fakepbx import FakePbxState
from bulutpop.local import autostart
from bulutpop.local.config import Config, load
from bulutpop.local.keys import SERVICE, USERNAME, KeyStore
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.settings.dialog import SettingsDialog
from tests.conftest import TEST_KEY, closed_port
from tests.ui.conftest import Loop, MakeDialog, Webhook

NEW_KEY = "K0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
WRONG_KEY = "K99999999-9999-4999-8999-999999999999"


@pytest.fixture
def login_dir(tmp_path: Path) -> Path:
    return tmp_path / "xdg"


@pytest.fixture
def no_env_key(core: Core, monkeypatch: pytest.MonkeyPatch) -> None:
    """The core fixture puts the key in the environment; key-storage tests need it gone."""
    monkeypatch.delenv("BULUTPOP_API_KEY", raising=False)
    monkeypatch.setattr(core, "keys", KeyStore({}))


def shown_text(dialog: SettingsDialog) -> str:
    return "\n".join(label.text() for label in dialog.findChildren(QLabel))


# --- validation and saving -----------------------------------------------------------------


def test_invalid_port_is_shown_and_not_saved(
    make_dialog: MakeDialog, qloop: Loop, core: Core
) -> None:
    dialog = make_dialog()
    before = core.config.listen_port
    dialog.notifications_tab.port_edit.setText("99999")

    assert "outside 0..65535" in dialog.error_text("listen_port")
    assert not dialog.ok_button.isEnabled()
    assert qloop.run(dialog.save()) is False
    assert load(core.dirs).listen_port == before

    dialog.notifications_tab.port_edit.setText("9000")
    assert dialog.error_text("listen_port") == ""
    assert dialog.ok_button.isEnabled()


def test_valid_values_are_saved_to_the_config_file(
    make_dialog: MakeDialog, qloop: Loop, core: Core, bridge: CoreBridge
) -> None:
    announced: list[Config] = []
    bridge.configChanged.connect(announced.append)
    dialog = make_dialog()
    dialog.account_tab.extension_edit.setText(" 1002 ")
    dialog.account_tab.watch_edit.setText("200, 1005")
    dialog.notifications_tab.host_edit.setText("0.0.0.0")
    dialog.notifications_tab.port_edit.setText("9000")
    dialog.notifications_tab.public_url_edit.setText("https://pop.example.com/")
    dialog.preferences_tab.corner_combo.setCurrentIndex(
        dialog.preferences_tab.corner_combo.findData("top-left")
    )
    dialog.preferences_tab.ring_check.setChecked(False)
    assert dialog.preferences_tab.missed_stays_check.isChecked()  # kept until seen, by default
    dialog.preferences_tab.missed_stays_check.setChecked(False)
    dialog.preferences_tab.crm_edit.setText("https://crm.example.com/find?tel={e164}")
    dialog.preferences_tab.language_combo.setCurrentIndex(
        dialog.preferences_tab.language_combo.findData("tr")
    )

    assert qloop.run(dialog.save()) is True

    saved = load(core.dirs)
    assert saved.extension == "1002"
    assert saved.watch == ("200", "1005")
    assert (saved.listen_host, saved.listen_port) == ("0.0.0.0", 9000)
    assert saved.public_url == "https://pop.example.com"
    assert saved.popup_corner == "top-left"
    assert saved.ring_sound is False
    assert saved.missed_popup_stays is False
    assert saved.crm_url == "https://crm.example.com/find?tel={e164}"
    assert saved.language == "tr"
    assert saved.token == core.config.token
    assert announced == [core.config]


def test_retention_is_set_in_the_preferences(
    make_dialog: MakeDialog, qloop: Loop, core: Core
) -> None:
    dialog = make_dialog()
    tab = dialog.preferences_tab
    assert (tab.keep_calls_edit.text(), tab.keep_recordings_edit.text()) == ("730", "30")
    assert "KVKK" in shown_text(dialog)
    tab.keep_calls_edit.setText("0")
    assert dialog.error_text("keep_calls_days")
    assert not dialog.ok_button.isEnabled()
    tab.keep_calls_edit.setText("365")
    tab.keep_recordings_edit.setText("7")
    assert dialog.error_text("keep_calls_days") == ""
    assert qloop.run(dialog.save()) is True
    saved = load(core.dirs)
    assert (saved.keep_calls_days, saved.keep_recordings_days) == (365, 7)


def test_missing_extension_blocks_ok(make_dialog: MakeDialog, qloop: Loop) -> None:
    dialog = make_dialog()
    dialog.account_tab.extension_edit.setText("")
    assert dialog.error_text("extension")
    assert not dialog.ok_button.isEnabled()
    assert qloop.run(dialog.save()) is False


def test_crm_template_is_checked_by_the_config_parser(make_dialog: MakeDialog) -> None:
    dialog = make_dialog()
    dialog.preferences_tab.crm_edit.setText("crm.example.com/{number}")
    assert "http(s) URL" in dialog.error_text("crm_url")
    assert not dialog.ok_button.isEnabled()


def test_ok_saves_and_closes(make_dialog: MakeDialog, qloop: Loop, core: Core) -> None:
    dialog = make_dialog()
    dialog.account_tab.watch_edit.setText("200")
    dialog.ok_button.click()
    qloop.run(dialog.tasks.drain())
    assert dialog.result() == QDialog.DialogCode.Accepted
    assert load(core.dirs).watch == ("200",)


# --- the API key ---------------------------------------------------------------------------


@pytest.mark.usefixtures("no_env_key")
def test_typed_key_goes_to_the_keyring_and_never_to_the_config_file(
    make_dialog: MakeDialog, qloop: Loop, core: Core
) -> None:
    dialog = make_dialog()
    assert dialog.account_tab.key_edit.text() == ""
    assert "No API key stored yet" in dialog.account_tab.key_state.text()

    dialog.account_tab.key_edit.setText(NEW_KEY)
    assert qloop.run(dialog.save()) is True

    assert keyring.get_password(SERVICE, USERNAME) == NEW_KEY
    assert NEW_KEY not in core.dirs.config_file.read_text(encoding="utf-8")
    assert dialog.account_tab.key_edit.text() == ""  # never left in (or pre-filled into) the field
    assert dialog.account_tab.key_state.text().startswith("•••• stored in")


@pytest.mark.usefixtures("no_env_key")
def test_stored_key_is_never_prefilled(make_dialog: MakeDialog, qloop: Loop) -> None:
    keyring.set_password(SERVICE, USERNAME, NEW_KEY)
    dialog = make_dialog()
    assert dialog.account_tab.key_edit.text() == ""
    assert NEW_KEY not in shown_text(dialog)
    assert "stored in" in dialog.account_tab.key_state.text()


def test_malformed_key_is_refused_before_saving(make_dialog: MakeDialog, qloop: Loop) -> None:
    dialog = make_dialog()
    dialog.account_tab.key_edit.setText("two words")
    assert "spaces" in dialog.error_text("api_key")
    assert not dialog.ok_button.isEnabled()
    assert qloop.run(dialog.save()) is False


@pytest.mark.usefixtures("no_env_key")
def test_keyring_that_cannot_keep_the_key_is_explained(
    make_dialog: MakeDialog, qloop: Loop, core: Core
) -> None:
    keyring.set_keyring(null.Keyring())  # type: ignore[no-untyped-call]
    dialog = make_dialog()
    assert "No system keyring" in dialog.account_tab.key_warning.text.text()

    dialog.account_tab.key_edit.setText(NEW_KEY)
    dialog.account_tab.watch_edit.setText("200")
    assert qloop.run(dialog.save()) is False
    assert "No system keyring" in dialog.error_text("api_key")
    assert "not saved" in dialog.form_error.text.text()
    assert load(core.dirs).watch == ()  # nothing half-saved


def test_key_test_accepts_the_pbx_key(make_dialog: MakeDialog, qloop: Loop) -> None:
    dialog = make_dialog()
    dialog.account_tab.key_edit.setText(TEST_KEY)
    assert qloop.run(dialog.account_tab.test_key()) == "Key accepted by the PBX."
    assert dialog.account_tab.key_result.text.text() == "Key accepted by the PBX."


def test_key_test_uses_the_stored_key_when_none_is_typed(
    make_dialog: MakeDialog, qloop: Loop
) -> None:
    dialog = make_dialog()  # the core fixture provides TEST_KEY
    assert qloop.run(dialog.account_tab.test_key()) == "Key accepted by the PBX."


def test_wrong_key_is_refused_and_never_shown(
    make_dialog: MakeDialog, qloop: Loop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    dialog = make_dialog()
    dialog.account_tab.key_edit.setText(WRONG_KEY)
    assert qloop.run(dialog.account_tab.test_key()) == "The PBX refused this key."
    assert WRONG_KEY not in shown_text(dialog)
    assert WRONG_KEY not in caplog.text
    assert dialog.account_tab.test_key_button.isEnabled()


def test_key_test_when_the_pbx_limits_requests(
    make_dialog: MakeDialog, qloop: Loop, fake_pbx: FakePbxState
) -> None:
    fake_pbx.fail(429, "Rate limit exceeded", {"Retry-After": "42"})
    dialog = make_dialog()
    assert "try again in 42 s" in qloop.run(dialog.account_tab.test_key())


def test_key_test_when_the_pbx_is_unreachable(
    make_dialog: MakeDialog, qloop: Loop, core: Core
) -> None:
    dialog = make_dialog()
    core.config = core.config.with_value("api_url", f"http://127.0.0.1:{closed_port()}")
    assert "cannot connect to 127.0.0.1" in qloop.run(dialog.account_tab.test_key())


# --- the notification URL ------------------------------------------------------------------


def test_webhook_url_shown_is_the_config_one(make_dialog: MakeDialog, bridge: CoreBridge) -> None:
    dialog = make_dialog()
    assert dialog.notifications_tab.webhook_url_edit.text() == bridge.config.webhook_url()
    assert (
        dialog.notifications_tab.webhook_notice.text.text()
    )  # local-only URL: the PBX cannot reach it

    dialog.notifications_tab.public_url_edit.setText("https://pop.example.com")
    expected = bridge.config.with_value("public_url", "https://pop.example.com").webhook_url()
    assert dialog.notifications_tab.webhook_url_edit.text() == expected
    assert dialog.notifications_tab.webhook_notice.isHidden()


def test_copy_puts_the_webhook_url_on_the_clipboard(make_dialog: MakeDialog) -> None:
    dialog = make_dialog()
    dialog.notifications_tab.copy_button.click()
    assert QGuiApplication.clipboard().text() == dialog.notifications_tab.webhook_url_edit.text()


def test_test_event_reaches_the_receiver(
    make_dialog: MakeDialog, qloop: Loop, webhook: Webhook
) -> None:
    base = webhook.url.split("/events/")[0]
    dialog = make_dialog()
    dialog.notifications_tab.public_url_edit.setText(base)
    # Reached, but through 127.0.0.1: no proof that the PBX, on the internet, can reach it.
    result = qloop.run(dialog.notifications_tab.send_test_event())
    assert result.startswith(f"Reached this app at {base}, but only from this PC")


def test_test_event_at_another_server_points_at_the_path(
    make_dialog: MakeDialog, qloop: Loop, fake_pbx: FakePbxState
) -> None:
    assert fake_pbx.base_url
    dialog = make_dialog()
    dialog.notifications_tab.public_url_edit.setText(fake_pbx.base_url)
    result = qloop.run(dialog.notifications_tab.send_test_event())
    assert result == "The URL reaches a server, but not this app — check the path."


def test_test_event_with_nothing_listening(make_dialog: MakeDialog, qloop: Loop) -> None:
    dialog = make_dialog()
    dialog.notifications_tab.public_url_edit.setText(f"http://127.0.0.1:{closed_port()}")
    assert "connection refused" in qloop.run(dialog.notifications_tab.send_test_event())
    assert dialog.notifications_tab.test_event_button.isEnabled()


# --- start at login ------------------------------------------------------------------------


def test_start_at_login_checkbox_writes_and_removes_the_entry(
    make_dialog: MakeDialog, qloop: Loop, login_dir: Path
) -> None:
    dialog = make_dialog()
    assert not dialog.preferences_tab.autostart_check.isChecked()

    dialog.preferences_tab.autostart_check.setChecked(True)
    assert qloop.run(dialog.save()) is True
    assert autostart.is_enabled(platform="linux", base=login_dir)

    dialog = make_dialog()
    assert dialog.preferences_tab.autostart_check.isChecked()
    dialog.preferences_tab.autostart_check.setChecked(False)
    assert qloop.run(dialog.save()) is True
    assert not autostart.is_enabled(platform="linux", base=login_dir)


# --- first run -----------------------------------------------------------------------------


@pytest.mark.usefixtures("no_env_key")
def test_first_run_wizard_walks_the_administrators_way_through_four_pages(
    make_dialog: MakeDialog, qloop: Loop, core: Core, login_dir: Path
) -> None:
    core.config = core.config.with_value("extension", "")
    dialog = make_dialog(first_run=True)
    assert dialog.pages.count() == 4
    assert dialog.page == dialog.START
    dialog.start_page.solo_choice.setChecked(True)  # no team invite: the PBX's own key
    assert dialog.next() is True
    assert dialog.page == dialog.ACCOUNT
    assert dialog.title_label.text() == "Connect to your PBX"
    assert dialog.step_label.text() == "Step 2 of 4"
    assert dialog.error_text("extension") == ""  # not nagging before the user tries

    assert dialog.next() is False  # key and extension are required
    assert dialog.error_text("extension")
    assert dialog.error_text("api_key")

    dialog.account_tab.key_edit.setText(NEW_KEY)
    dialog.account_tab.extension_edit.setText("1003")
    assert dialog.next() is True
    assert dialog.page == dialog.NOTIFICATIONS
    assert dialog.title_label.text() == "Receive call notifications"
    page = dialog.pages.currentWidget()
    assert page is not None and page.isAncestorOf(dialog.notifications_tab.webhook_url_edit)
    assert dialog.notifications_tab.webhook_url_edit.text() == core.config.webhook_url()

    dialog.back()
    assert dialog.page == dialog.ACCOUNT
    dialog.next()
    assert dialog.next() is True
    assert dialog.page == dialog.FINISH
    assert dialog.next_button.text() == "Finish"
    assert dialog.preferences_tab.autostart_check.isChecked()  # suggested on first run

    assert qloop.run(dialog.save()) is True
    assert keyring.get_password(SERVICE, USERNAME) == NEW_KEY
    assert load(core.dirs).extension == "1003"
    assert autostart.is_enabled(platform="linux", base=login_dir)


@pytest.mark.skipif(sys.platform == "win32", reason="there it would read the real registry")
@pytest.mark.usefixtures("no_env_key")
def test_first_run_wizard_keeps_the_windows_installers_answer(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge
) -> None:
    # The installer asked "start bulutpop when I sign in" and the user said no: no Run
    # value. (Off Windows the real registry is out of reach, which reads as "not set up"
    # and would make any write fail: the wizard must not try one.)
    dialog = SettingsDialog(bridge, True, autostart_platform="win32")
    qtbot.addWidget(dialog)
    qloop.run(dialog.tasks.drain())  # the keyring status it asks for on opening
    assert not dialog.preferences_tab.autostart_check.isChecked()
    dialog.account_tab.key_edit.setText(NEW_KEY)
    assert qloop.run(dialog.save()) is True
    assert dialog.error_text("autostart") == ""
    dialog.tasks.cancel()
    qloop.run(dialog.tasks.drain())


def test_settings_changed_elsewhere_while_open_are_kept(
    make_dialog: MakeDialog, qloop: Loop, core: Core, bridge: CoreBridge
) -> None:
    dialog = make_dialog()
    # The tray pauses pop-ups while the dialog is open.
    qloop.run(bridge.save_config(bridge.config.with_value("popups_paused", "true")))
    dialog.account_tab.watch_edit.setText("200")
    assert qloop.run(dialog.save()) is True
    saved = load(core.dirs)
    assert (saved.watch, saved.popups_paused) == (("200",), True)

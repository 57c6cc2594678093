"""The "Account" tab, also the wizard's first page: the API key, the user's extension, and
the queues or extensions whose calls pop up here too.

The API key never enters the config: it goes to the system keyring through `KeyStore`, and
the key field is never pre-filled. "Test" asks the PBX whether it accepts the typed key (or
the stored one) without placing a call.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget

from bulutpop.errors import BulutpopError, InvalidInput, KeyRefused, RateLimited
from bulutpop.local.config import Config
from bulutpop.local.keys import KeyStatus, validate_key
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.settings.shared import (
    Notice,
    SaveFailed,
    SettingsTab,
    Status,
    StatusTone,
    form_layout,
    text_label,
)

log = logging.getLogger(__name__)


class AccountTab(SettingsTab):
    """The API key, the extension and what else pops up here. With ``require_key`` (the
    wizard), going on needs a key, stored or typed, unless this PC is in a team."""

    def __init__(self, bridge: CoreBridge, tasks: TaskSet, *, require_key: bool = False) -> None:
        super().__init__(bridge, tasks)
        self._require_key = require_key
        self._key_status: KeyStatus | None = None

        # The API key: never shown, replaced only when the user types a new one.
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(self.tr("Paste the key from the PBX web portal"))
        self.key_edit.textChanged.connect(self.changed)
        self.test_key_button = self._task_button(
            self.tr("Test"),
            self.test_key,
            "settings-test-key",
            tip=self.tr("Ask the PBX whether it accepts this key"),
        )
        self._field("api_key", self.key_edit, self.test_key_button)
        self.key_state = text_label(self.tr("Checking the keyring…"), small=True)
        self.key_hint = text_label(
            self.tr(
                "You find it in the Bulutsantralim web portal, on the settings page. Treat it "
                "like a password: it can place calls and play recordings for the whole PBX."
            ),
            "hint",
            small=True,
        )
        self.key_warning = Notice()
        self.key_warning.set_text("")
        self.key_result = Status()
        # A verdict about a key that is no longer in the field would mislead.
        self.key_edit.textChanged.connect(lambda: self.key_result.show_result("", ""))

        self.extension_edit = self._line("extension", placeholder="1001", width=120)
        self._field(
            "extension",
            self.extension_edit,
            hint=self.tr("The extension of your own phone."),
            stretch=False,
        )
        self.watch_edit = self._line("watch", placeholder="200 1005")
        self._field(
            "watch",
            self.watch_edit,
            hint=self.tr(
                "Optional. Queues or other extensions whose calls should pop up here too, "
                "separated by spaces."
            ),
        )

        form = form_layout()
        form.addRow(self._team_notice())
        self._key_rows.append((form, form.rowCount()))
        form.addRow(self.tr("API key"), self._key_block())
        form.addRow(self.tr("Your extension"), self.fields["extension"])
        form.addRow(self.tr("Also pop up for"), self.fields["watch"])
        self._lay_out(form)

    def _key_block(self) -> QWidget:
        block = QWidget()
        layout = QVBoxLayout(block)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.fields["api_key"])
        layout.addWidget(self.key_state)
        layout.addWidget(self.key_result)
        layout.addWidget(self.key_hint)
        layout.addWidget(self.key_warning)
        return block

    def add_problems(self, config: Config, errors: dict[str, str], *, insist: bool) -> None:
        """Add to `errors` what the config parser cannot see: no extension (once the user
        tried to go on: `insist`), a malformed key, or in the wizard no key at all."""
        if "extension" not in errors and not config.extension and insist:
            errors["extension"] = self.tr("Enter your extension, e.g. 1001.")
        typed = self.key_edit.text()
        if typed.strip():
            try:
                validate_key(typed)
            except InvalidInput as exc:
                errors["api_key"] = str(exc)
        elif insist and self._require_key and self._key_status_is("none") and not config.team_mode:
            errors["api_key"] = self.tr("Paste your API key to continue.")

    def _key_status_is(self, source: str) -> bool:
        return self._key_status is not None and self._key_status.source == source

    async def load_key_status(self) -> KeyStatus:
        """Ask the keyring where the key is (off the UI thread: it may block) and show it."""
        status = await self._bridge.key_status()
        self._key_status = status
        if status.source != "none":
            self.key_edit.setPlaceholderText(self.tr("Type a new key to replace it"))
        if status.problem is not None:
            warning = describe_error(status.problem)
            if status.problem.problem == "unavailable":
                # A way that needs no keyring and writes the key nowhere: `read -s` keeps it
                # out of the terminal's history too.
                warning += "\n" + self.tr(
                    "Until then, an administrator can start bulutpop for this session with the "
                    "key in an environment variable, which is kept in memory only: in a "
                    "terminal, run  read -rs BULUTPOP_API_KEY && export BULUTPOP_API_KEY && "
                    "bulutpop  and paste the key."
                )
        elif status.memory_only:
            warning = self.tr("The API key is kept in memory only and is forgotten at exit.")
        else:
            warning = ""
        self.key_warning.set_text(warning)
        self.changed.emit()
        return status

    def show_key_state(self) -> None:
        """Say where the key is kept, or where a typed one will go."""
        status = self._key_status
        if status is None:
            return  # still asking the keyring
        if self.key_edit.text().strip():
            text = self.tr("The new key will be saved in %1").replace("%1", status.backend)
        elif status.source == "keyring":
            text = self.tr("•••• stored in %1").replace("%1", status.backend)
        elif status.source == "env":
            text = self.tr(
                "•••• from the BULUTPOP_API_KEY environment variable, which takes "
                "precedence over a key saved here"
            )
        else:
            text = self.tr("No API key stored yet")
        self.key_state.setText(text)

    async def test_key(self) -> str:
        """Check the typed key (or the stored one) with the PBX, without placing a call."""
        self.test_key_button.setEnabled(False)
        self.key_result.show_result("busy", self.tr("Asking the PBX…"))
        try:
            tone, text = await self._check_key()
        except Exception as exc:  # whatever it was, it is said, and the button comes back
            log.exception("testing the key failed")
            tone, text = "error", describe_error(exc)
        finally:
            self.test_key_button.setEnabled(True)
        self.key_result.show_result(tone, text)
        return text

    async def _check_key(self) -> tuple[StatusTone, str]:
        typed = self.key_edit.text()
        try:
            key = validate_key(typed) if typed.strip() else await self._bridge.stored_key()
            if not key:
                return "error", self.tr("Type the API key first.")
            await self._bridge.check_key(key)
        except KeyRefused:
            return "error", self.tr("The PBX refused this key.")
        except RateLimited as exc:
            return "warning", describe_error(exc)
        except BulutpopError as exc:
            return "error", describe_error(exc)
        return "ok", self.tr("Key accepted by the PBX.")

    async def store_key(self) -> None:
        """Put the typed key (if any) into the keyring and empty the field; SaveFailed when
        the keyring refused it."""
        typed = self.key_edit.text()
        if not typed.strip():
            return
        try:
            await self._bridge.store_key(typed)
        except InvalidInput as exc:  # the field's own complaint, as `add_problems` shows it
            raise SaveFailed(self.tr("The API key was not saved."), "api_key", str(exc)) from None
        except BulutpopError as exc:
            raise SaveFailed(
                self.tr("The API key was not saved."), "api_key", describe_error(exc)
            ) from None
        self.key_edit.clear()
        await self.load_key_status()

    def show_team_mode(self, team: bool) -> None:
        super().show_team_mode(team)
        # The relay sends the invite's extension's calls: another one typed here would
        # silently stop the popups.
        self.extension_edit.setEnabled(not team)
        self.fields["extension"].set_hint(
            self.tr(
                "Set by your team invite. To use another extension, leave the team and join "
                "with an invite for it."
            )
            if team
            else self.tr("The extension of your own phone.")
        )
        if team:
            self.show_saved_extension()

    def show_saved_extension(self) -> None:
        """Show the extension as saved: joining a team sets it from the invite, and OK must
        not write back the old one."""
        self.extension_edit.setText(self._bridge.config.extension)

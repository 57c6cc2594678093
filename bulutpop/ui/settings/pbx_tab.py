"""The "PBX" tab (in the dialog, not the wizard): where the PBX sends its call events, and
registering this app there, only after the user confirmed replacing what is set (the PBX
keeps one URL); the number to present when dialling; and the catch-up from the PBX's call
history. It asks the PBX only when first shown. In team mode the events and the catch-up
are the team server's business: only the caller number stays.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QFormLayout, QHBoxLayout, QMessageBox

from bulutpop.calls import phone
from bulutpop.errors import BulutpopError, KeyRefused
from bulutpop.local.config import Config
from bulutpop.pbx.catchup import CatchUpStatus
from bulutpop.pbx.client import CrmSettings
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.common.widgets import dialog_result
from bulutpop.ui.settings.shared import (
    SettingsTab,
    Status,
    StatusTone,
    form_layout,
    text_label,
)

log = logging.getLogger(__name__)

# Asked before the PBX's notification URL is replaced: (the PBX's settings now, the URL
# that would replace them) -> go ahead?
RegisterConfirm = Callable[[CrmSettings, str], Awaitable[bool]]


class PbxTab(SettingsTab):
    """The PBX's side of things. ``confirm_register`` replaces the confirmation box."""

    def __init__(
        self,
        bridge: CoreBridge,
        tasks: TaskSet,
        *,
        confirm_register: RegisterConfirm | None = None,
    ) -> None:
        super().__init__(bridge, tasks)
        # None: the real box. (Not the bound method stored here: a widget that refers to
        # itself is only freed by the garbage collector, at any later moment.)
        self._confirm_register = confirm_register
        self._crm: CrmSettings | None = None  # the PBX's settings as last read
        self._pbx_asked = False
        self._registering = False

        self.crm_state = Status()
        self.crm_state.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.crm_events = text_label()
        self.register_button = self._task_button(
            self.tr("Register this app with the PBX"),
            self.register,
            "settings-register",
            tip=self.tr("Have the PBX send ringing, answered and hangup events to this app"),
        )
        self.crm_check_button = self._task_button(
            self.tr("Check again"), self.load_crm, "settings-crm"
        )
        self.register_hint = text_label("", "hint", small=True)
        self.register_result = Status()

        self.caller_id_combo = QComboBox()
        self.caller_id_combo.setMinimumWidth(220)
        self._fill_caller_ids(())
        self.caller_id_combo.currentIndexChanged.connect(self.changed)
        combo = self.caller_id_combo
        self._inputs["caller_id"] = lambda: str(combo.currentData())
        self._field(
            "caller_id",
            self.caller_id_combo,
            hint=self.tr("The number people see when you call from bulutpop."),
            stretch=False,
        )

        self.catchup_state = Status()
        self.catchup_button = self._task_button(
            self.tr("Catch up now"),
            self.catch_up_now,
            "settings-catch-up",
            tip=self.tr("Fetch the calls this app has not heard of from the PBX's call history"),
        )
        self.catchup_minutes_edit = self._line("catchup_minutes", placeholder="10", width=70)
        self._field(
            "catchup_minutes",
            self.catchup_minutes_edit,
            text_label(self.tr("minutes")),
            hint=self.tr("Calls the app missed while it was closed or unreachable come back."),
            stretch=False,
        )
        self.history_days_edit = self._line("history_days", placeholder="7", width=70)
        self._field(
            "history_days",
            self.history_days_edit,
            text_label(self.tr("days back")),
            hint=self.tr("How far back the very first catch-up goes."),
            stretch=False,
        )
        self._show_catchup(self._bridge.catchup_status)
        self._lay_out(self._sections())
        bridge.catchUpChanged.connect(self._show_catchup)

    def _sections(self) -> QFormLayout:
        # One form for the three sections, so their fields line up.
        form = form_layout()

        def section(title: str, first: bool = False) -> None:
            label = text_label(title, "section")
            label.setContentsMargins(0, 0 if first else 10, 0, 0)
            form.addRow(label)

        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addWidget(self.register_button)
        buttons.addWidget(self.crm_check_button)
        buttons.addStretch(1)
        catchup = QHBoxLayout()
        catchup.setSpacing(10)
        catchup.addWidget(self.catchup_state, 1)
        catchup.addWidget(self.catchup_button, 0, Qt.AlignmentFlag.AlignTop)

        form.addRow(self._team_notice())
        first = form.rowCount()
        section(self.tr("Call events from the PBX"), first=True)
        form.addRow(self.crm_state)
        form.addRow(self.tr("Events sent"), self.crm_events)
        form.addRow(buttons)
        form.addRow(self.register_hint)
        form.addRow(self.register_result)
        self._key_rows += [(form, row) for row in range(first, form.rowCount())]
        section(self.tr("Calling"))
        form.addRow(self.tr("Present my number as"), self.fields["caller_id"])
        # The catch-up reads the PBX's call history with the API key: the relay's business.
        first = form.rowCount()
        section(self.tr("Catch-up from the call history"))
        form.addRow(catchup)
        form.addRow(self.tr("Catch up every"), self.fields["catchup_minutes"])
        form.addRow(self.tr("First catch-up"), self.fields["history_days"])
        self._key_rows += [(form, row) for row in range(first, form.rowCount())]
        return form

    def show_team_mode(self, team: bool) -> None:
        super().show_team_mode(team)
        if not team:
            # Rows shown again show their widgets: an empty verdict stays out of sight.
            for status in (self.crm_state, self.register_result, self.catchup_state):
                status.setVisible(bool(status.text.text()))
            if self._crm is None:
                self._pbx_asked = False  # ask the PBX when the tab is next shown

    def on_shown(self) -> None:
        """The dialog shows this tab: ask the PBX, unless that is done already."""
        if not self._pbx_asked:
            self._tasks.start(self.load_pbx(), name="settings-pbx")

    async def load_pbx(self) -> None:
        """Ask the PBX where it sends call events and which numbers may be presented."""
        self._pbx_asked = True
        if self._bridge.config.team_mode:
            await self.load_caller_ids()  # the PBX's settings are the team server's business
        else:
            await asyncio.gather(self.load_crm(), self.load_caller_ids())

    async def load_crm(self) -> CrmSettings | None:
        """Read and show the PBX's CRM-integration settings; None when it could not."""
        self.crm_state.show_result("busy", self.tr("Asking the PBX…"))
        self.crm_check_button.setEnabled(False)
        try:
            current = await self._bridge.crm_integrations()
        except Exception as exc:
            if not isinstance(exc, BulutpopError):
                log.exception("reading the PBX's settings failed")
            self._crm = None
            self.crm_events.setText("—")
            self.crm_state.show_result(
                "error",
                self.tr("Could not read the PBX's settings: %1").replace("%1", describe_error(exc)),
            )
            return None
        finally:
            self.crm_check_button.setEnabled(True)
            self.changed.emit()
        self._crm = current
        self._show_crm(current)
        self.changed.emit()
        return current

    def _show_crm(self, current: CrmSettings) -> None:
        ours = self._bridge.config.webhook_url()
        events = [
            (self.tr("Ringing"), current.ringing),
            (self.tr("Answered"), current.answered),
            (self.tr("Hangup"), current.hangup),
        ]
        self.crm_events.setText(
            " · ".join(
                (self.tr("%1: on") if on else self.tr("%1: off")).replace("%1", name)
                for name, on in events
            )
        )
        if current.registered(ours):
            self.crm_state.show_result("ok", self.tr("This is this app's URL."))
        elif current.sends_to(ours):
            self.crm_state.show_result(
                "warning",
                self.tr(
                    "This is this app's URL, but not every event is sent: register again "
                    "to turn them all on."
                ),
            )
        elif current.notification_url:
            self.crm_state.show_result(
                "warning",
                self.tr("Another URL is registered: %1 (a colleague's setup or a CRM).").replace(
                    "%1", current.notification_url
                ),
            )
        else:
            self.crm_state.show_result(
                "warning", self.tr("No URL is registered: the PBX announces calls to nobody.")
            )

    def update_register(self, typed: Config | None) -> None:
        """Registering sends the saved address: say so when the fields hold another."""
        saved = self._bridge.config
        ours = saved.webhook_url()
        unsaved = typed is None or typed.webhook_url() != ours
        registered = self._crm is not None and self._crm.registered(ours)
        self.register_button.setEnabled(
            self._crm is not None and not registered and not unsaved and not self._registering
        )
        if saved.team_mode:
            hint = ""  # the whole section is hidden: the team server has the PBX's events
        elif unsaved:
            hint = self.tr(
                "You changed the address on the Notifications tab: press OK to save it, then "
                "register it here."
            )
        elif not saved.public_url and not registered:
            hint = self.tr(
                "No public URL is set, so this app's URL works on this PC only and a PBX on "
                "the internet cannot reach it. Set one on the Notifications tab first."
            )
        else:
            hint = ""
        self.register_hint.setText(hint)
        self.register_hint.setVisible(bool(hint))

    async def register(self) -> str:
        """Point the PBX's call events at this app's saved URL, once the user agreed to
        replace what is set there; says what happened."""
        url = self._bridge.config.webhook_url()
        self._registering = True
        self.changed.emit()
        self.register_result.show_result("busy", self.tr("Asking the PBX…"))
        tone: StatusTone
        try:
            confirm = self._confirm_register or self._ask_register
            outcome = await self._bridge.register_webhook(
                url, lambda current: confirm(current, url)
            )
        except Exception as exc:  # whatever it was, it is said, and the button comes back
            if not isinstance(exc, BulutpopError):
                log.exception("registering with the PBX failed")
            outcome = None
            tone, text = "error", self.tr("Not registered: %1").replace("%1", describe_error(exc))
        finally:
            self._registering = False
            self.changed.emit()
        if outcome == "registered":
            tone = "ok"
            text = self.tr("Registered: the PBX now sends its call events to this app.")
        elif outcome == "unchanged":
            tone, text = "ok", self.tr("Already registered: nothing needed changing.")
        elif outcome == "declined":
            tone, text = "", self.tr("Nothing was changed on the PBX.")
        self.register_result.show_result(tone, text)
        if outcome in ("registered", "unchanged"):
            await self.load_crm()
        return text

    async def _ask_register(self, current: CrmSettings, url: str) -> bool:
        replacing = bool(current.notification_url) and not current.sends_to(url)
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("Register this app with the PBX"))
        box.setTextFormat(Qt.TextFormat.PlainText)
        if replacing:
            box.setIcon(QMessageBox.Icon.Warning)
            box.setText(self.tr("Replace the PBX's notification URL?"))
            box.setInformativeText(
                self.tr(
                    "The PBX sends its call events to one URL only. Registering this app "
                    "replaces\n\n%1\n\nwith this app's URL:\n\n%2\n\nIf the current URL belongs "
                    "to a colleague's setup or a CRM, it will no longer receive calls."
                )
                .replace("%1", current.notification_url)
                .replace("%2", url)
            )
        else:
            box.setIcon(QMessageBox.Icon.Question)
            box.setText(self.tr("Send the PBX's call events to this app?"))
            box.setInformativeText(
                self.tr(
                    "The PBX will send ringing, answered and hangup events to this app's URL:\n\n%1"
                ).replace("%1", url)
            )
        register = box.addButton(
            self.tr("Replace and register") if replacing else self.tr("Register"),
            QMessageBox.ButtonRole.AcceptRole,
        )
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        # Taking over a colleague's or a CRM's events must be a deliberate click.
        box.setDefaultButton(cancel if replacing else register)
        try:
            await dialog_result(box)
            return box.clickedButton() is register
        finally:
            box.deleteLater()

    async def load_caller_ids(self) -> None:
        """Offer the PBX's outbound numbers in the caller-number choice."""
        try:
            numbers = await self._bridge.load_caller_ids()
        except BulutpopError as exc:
            self.fields["caller_id"].set_hint(
                self.tr("The PBX's numbers could not be listed: %1").replace(
                    "%1", describe_error(exc)
                )
            )
            return
        self._fill_caller_ids(numbers)

    def _fill_caller_ids(self, numbers: tuple[str, ...]) -> None:
        combo = self.caller_id_combo
        wanted = str(combo.currentData()) if combo.count() else self._bridge.config.caller_id
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(self.tr("My extension's default"), "")
        for number in numbers:
            combo.addItem(phone.display(number), number)
        if wanted and combo.findData(wanted) < 0:
            shown = phone.display(wanted)
            if numbers:  # the PBX answered, without this one
                shown = self.tr("%1 (not offered by the PBX)").replace("%1", shown)
            combo.addItem(shown, wanted)
        combo.setCurrentIndex(max(combo.findData(wanted), 0))
        combo.blockSignals(False)

    def _show_catchup(self, status: CatchUpStatus) -> None:
        last = ""
        if status.last_run is not None:
            last = self.tr(
                "Last catch-up %1 · %n call(s) recovered", "", status.last_recovered
            ).replace("%1", fmt.when(status.last_run))
        tone: StatusTone
        if status.running:
            tone, text = "busy", self.tr("Catching up…")
            if status.progress is not None:
                text = (
                    self.tr("Catching up… page %1 of %2")
                    .replace("%1", str(status.progress[0]))
                    .replace("%2", str(status.progress[1]))
                )
        elif status.error is not None:
            tone = "error" if isinstance(status.error, KeyRefused) else "warning"
            text = self.tr("The last catch-up failed: %1").replace(
                "%1", describe_error(status.error)
            )
            if status.next_run is not None:
                text += " " + self.tr("Next try at %1.").replace("%1", fmt.when(status.next_run))
            text = "\n".join(filter(None, [last, text]))
        elif last:
            tone, text = "ok", last
        else:
            tone, text = "", self.tr("No catch-up has run yet.")
        self.catchup_state.show_result(tone, text)
        self.catchup_button.setEnabled(not status.running)

    async def catch_up_now(self) -> str:
        """Fetch what the call history has that this app missed; the status line follows
        the catch-up's own status. Returns what it shows at the end."""
        self.catchup_button.setEnabled(False)
        try:
            await self._bridge.catchup.run_once()
        except Exception as exc:  # the status (shown through catchUpChanged) says why
            if not isinstance(exc, BulutpopError):
                log.exception("catching up failed")
        finally:
            self.catchup_button.setEnabled(not self._bridge.catchup_status.running)
        return self.catchup_state.text.text()

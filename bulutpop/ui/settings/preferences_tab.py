"""The "Preferences" tab, also the wizard's last page: where pop-ups appear, their sound,
the CRM link they offer, the language, starting bulutpop at login, and how long this PC
keeps calls and recordings (KVKK)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QCheckBox, QFormLayout

from bulutpop.errors import AutostartError
from bulutpop.local import autostart
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.settings.shared import SaveFailed, SettingsTab, form_layout, text_label


class PreferencesTab(SettingsTab):
    """How pop-ups look and where, and the login item. ``suggest_autostart`` ticks "start
    at login" whatever is set up now (the wizard does, where no installer asked);
    ``autostart_platform`` and ``autostart_base`` choose where the login item is written
    (see `bulutpop.local.autostart`)."""

    def __init__(
        self,
        bridge: CoreBridge,
        tasks: TaskSet,
        *,
        suggest_autostart: bool = False,
        autostart_platform: str | None = None,
        autostart_base: Path | None = None,
    ) -> None:
        super().__init__(bridge, tasks)
        self._autostart_platform = autostart_platform
        self._autostart_base = autostart_base

        self.corner_combo = self._combo(
            "popup_corner",
            [
                ("bottom-right", self.tr("Bottom right")),
                ("bottom-left", self.tr("Bottom left")),
                ("top-right", self.tr("Top right")),
                ("top-left", self.tr("Top left")),
            ],
        )
        self._field("popup_corner", self.corner_combo, stretch=False)
        self.ring_check = self._check("ring_sound", self.tr("Play a sound when a call rings"))
        self._field("ring_sound", self.ring_check)
        self.missed_stays_check = self._check(
            "missed_popup_stays", self.tr("Keep a missed call's pop-up until I close it")
        )
        self._field("missed_popup_stays", self.missed_stays_check)
        self.crm_edit = self._line(
            "crm_url", placeholder="https://crm.example.com/search?phone={e164}"
        )
        self._field(
            "crm_url",
            self.crm_edit,
            hint=self.tr(
                "Optional: adds an “Open in CRM” button to the pop-up. {number} is the number "
                "as dialled in Türkiye (05321234567), {e164} the international form "
                "(+905321234567), {call_uuid} the PBX's id of the call."
            ),
        )
        self.language_combo = self._combo(
            "language",
            [("system", self.tr("System language")), ("tr", "Türkçe"), ("en", "English")],
        )
        self._field(
            "language",
            self.language_combo,
            stretch=False,
        )
        self.autostart_check = QCheckBox(self.tr("Start bulutpop when I log in"))
        # The wizard suggests it (a tray app that is not running misses calls), unless the
        # installer asked already; otherwise the box shows what is set up on this computer.
        suggest = suggest_autostart and not autostart.asked_by_installer(autostart_platform)
        self.autostart_check.setChecked(suggest or self._autostart_enabled())
        self._field("autostart", self.autostart_check)
        self.keep_calls_edit = self._line("keep_calls_days", placeholder="730", width=70)
        self._field(
            "keep_calls_days",
            self.keep_calls_edit,
            text_label(self.tr("days")),
            hint=self.tr(
                "Older calls are deleted from this PC, with their call events and the record "
                "of who listened to their recordings. Keep personal data no longer than your "
                "office needs it (KVKK)."
            ),
            stretch=False,
        )
        self.keep_recordings_edit = self._line("keep_recordings_days", placeholder="30", width=70)
        self._field(
            "keep_recordings_days",
            self.keep_recordings_edit,
            text_label(self.tr("days")),
            hint=self.tr("Recordings played or saved here are deleted from this PC after this."),
            stretch=False,
        )
        self._lay_out(
            self._popup_form(), text_label(self.tr("Privacy (KVKK)"), "section"), self._keep_form()
        )

    def _popup_form(self) -> QFormLayout:
        form = form_layout()
        form.addRow(self.tr("Pop-up corner"), self.fields["popup_corner"])
        form.addRow(self.tr("Sound"), self.fields["ring_sound"])
        form.addRow(self.tr("Missed calls"), self.fields["missed_popup_stays"])
        form.addRow(self.tr("CRM link"), self.fields["crm_url"])
        form.addRow(self.tr("Language"), self.fields["language"])
        form.addRow(self.tr("Startup"), self.fields["autostart"])
        return form

    def _keep_form(self) -> QFormLayout:
        form = form_layout()
        form.addRow(self.tr("Keep calls"), self.fields["keep_calls_days"])
        form.addRow(self.tr("Keep recordings"), self.fields["keep_recordings_days"])
        return form

    def store_autostart(self) -> None:
        """Set up starting at login, or remove it, as the box says; SaveFailed when that
        could not be changed."""
        wanted = self.autostart_check.isChecked()
        if wanted != self._autostart_enabled():
            try:
                self._set_autostart(wanted)
            except AutostartError as exc:
                raise SaveFailed(
                    self.tr("Settings saved, but starting at login could not be changed."),
                    "autostart",
                    describe_error(exc),
                ) from None

    def _autostart_enabled(self) -> bool:
        try:
            return autostart.is_enabled(
                platform=self._autostart_platform, base=self._autostart_base
            )
        except AutostartError:
            return False

    def _set_autostart(self, wanted: bool) -> None:
        platform, base = self._autostart_platform, self._autostart_base
        if wanted:
            autostart.enable(autostart.launch_command(), platform=platform, base=base)
        else:
            autostart.disable(platform=platform, base=base)

"""Settings, and the first-run wizard: the team's invite first (the whole setup), or the
administrator's own connection over the same fields.

Every field is checked by `Config.with_value`, the same parser the CLI and the config file
use, so a value is refused the same way wherever it is typed; the error appears under the
field and OK (or Next) stays disabled until it is fixed.

Each tab is a class of its own, in a module of this package: the account (API key and
extension), the notifications (where the PBX posts), the preferences, the PBX, the address
books and the team. The wizard's first page (`start_page`) offers the team's invite; the
first three tabs are the pages of the administrator's way. This module is the shell: it
reads the settings as typed on every tab, validates and saves them, and shows what team mode
changes on each tab.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent
from PySide6.QtGui import QFont, QIcon
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bulutpop.local.config import Config
from bulutpop.local.net import reachable_from_internet
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.access import name_inputs_after_labels
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.common.theme import Tone, colour, is_palette_change
from bulutpop.ui.settings.account_tab import AccountTab
from bulutpop.ui.settings.address_books_tab import AddressBooksTab, FileChooser
from bulutpop.ui.settings.notifications_tab import ADDRESS_FIELDS, NotificationsTab
from bulutpop.ui.settings.pbx_tab import PbxTab, RegisterConfirm
from bulutpop.ui.settings.preferences_tab import PreferencesTab
from bulutpop.ui.settings.shared import (
    Field,
    SaveFailed,
    SettingsTab,
    Status,
    StatusTone,
    address,
    text_label,
)
from bulutpop.ui.settings.start_page import StartPage
from bulutpop.ui.settings.team_tab import LeaveConfirm, TeamTab

_STYLE = """
QLabel[role="error"] { color: %(error)s; }
QLabel[role="hint"] { color: palette(placeholder-text); }
QLabel[role="title"] { font-weight: 600; }
QLabel[role="step"] { color: palette(placeholder-text); }
QLabel[role="section"] { font-weight: 600; }
QLabel[tone="ok"] { color: %(ok)s; }
QLabel[tone="warning"] { color: %(warning)s; }
QLabel[tone="error"] { color: %(error)s; }
QFrame[role="notice"] {
    background: rgba(240, 173, 78, 0.16);
    border: 1px solid rgba(240, 173, 78, 0.55);
    border-radius: 6px;
}
QFrame[role="steps"] {
    background: palette(alternate-base);
    border: 1px solid palette(mid);
    border-radius: 6px;
}
QFrame#wizardHeader { background: palette(base); border-bottom: 1px solid palette(mid); }
"""


class SettingsDialog(QDialog):
    """The settings as tabs, or with ``first_run`` a three-step wizard over the same fields.

    The tabs are `account_tab`, `notifications_tab`, `preferences_tab`, `pbx_tab`,
    `books_tab` and `team_tab` (the wizard has the first three as pages, and `team_tab` on
    the first). The async methods (`save` here, and the tabs' own, such as
    `account_tab.test_key` or `pbx_tab.register`) are public so tests can await them; the
    buttons start them through `tasks`, which the tabs share. ``autostart_platform`` and
    ``autostart_base`` choose where "start at login" is written (see `bulutpop.local.autostart`);
    ``confirm_register``, ``confirm_leave`` and ``choose_files`` replace the confirmation
    boxes and the file dialog.
    """

    def __init__(
        self,
        bridge: CoreBridge,
        first_run: bool = False,
        parent: QWidget | None = None,
        *,
        autostart_platform: str | None = None,
        autostart_base: Path | None = None,
        confirm_register: RegisterConfirm | None = None,
        choose_files: FileChooser | None = None,
        confirm_leave: LeaveConfirm | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.first_run = first_run
        self.tasks = TaskSet()
        # Until the user tries to go on, a required field that is still empty is not an error
        # worth shouting about (in the wizard); malformed values are flagged at once.
        self._insist = not first_run
        self._busy = False
        self._apply_style()
        self.setWindowTitle(self.tr("bulutpop setup") if first_run else self.tr("Settings"))

        self.account_tab = AccountTab(bridge, self.tasks, require_key=first_run)
        self.notifications_tab = NotificationsTab(bridge, self.tasks)
        self.preferences_tab = PreferencesTab(
            bridge,
            self.tasks,
            suggest_autostart=first_run,
            autostart_platform=autostart_platform,
            autostart_base=autostart_base,
        )
        self.team_tab = TeamTab(bridge, self.tasks, wizard=first_run, confirm_leave=confirm_leave)
        # The tabs in order: the dialog's, or the wizard's pages.
        self._tab_pages: list[SettingsTab] = []
        self.form_error = Status()
        if first_run:
            self._build_wizard()
        else:
            self.pbx_tab = PbxTab(bridge, self.tasks, confirm_register=confirm_register)
            self.books_tab = AddressBooksTab(bridge, self.tasks, choose_files=choose_files)
            self._build_tabs()
        for page in self._tab_pages:
            page.changed.connect(self._validate)
        self.team_tab.joined.connect(self.account_tab.show_saved_extension)
        self.team_tab.membershipChanged.connect(self._on_membership)
        self._show_team()
        self._validate()
        if first_run:
            self.tasks.start(self.check_keyring(), name="settings-key-status")
        else:
            self.tasks.start(self.account_tab.load_key_status(), name="settings-key-status")
        name_inputs_after_labels(self)

    # --- layouts ------------------------------------------------------------------------------

    def _apply_style(self) -> None:
        """Message colours from the palette (light, dark or high contrast), readable on it."""
        palette = self.palette()
        tones = {"error": Tone.ERROR, "ok": Tone.SUCCESS, "warning": Tone.WARNING}
        style = _STYLE % {key: colour(tone, palette).name() for key, tone in tones.items()}
        if self.styleSheet() != style:
            self.setStyleSheet(style)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if is_palette_change(event):
            self._apply_style()

    def _build_tabs(self) -> None:
        self._tab_pages = [
            self.account_tab,
            self.notifications_tab,
            self.preferences_tab,
            self.pbx_tab,
            self.books_tab,
            self.team_tab,
        ]
        titles = [
            self.tr("Account"),
            self.tr("Notifications"),
            self.tr("Preferences"),
            self.tr("PBX"),
            self.tr("Address books"),
            self.tr("Team"),
        ]
        self.tabs = QTabWidget()
        for page, title in zip(self._tab_pages, titles, strict=True):
            self.tabs.addTab(page, title)
        self.tabs.currentChanged.connect(self._on_tab)

        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.buttons.accepted.connect(self._on_ok)
        self.buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 12)
        layout.setSpacing(10)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.form_error)
        layout.addWidget(self.buttons)
        # As tall as the longest tab needs, no taller; the user may resize it.
        self.setMinimumWidth(640)
        self.adjustSize()

    def _build_wizard(self) -> None:
        self.step_label = text_label("", "step", small=True)
        self.title_label = text_label("", "title")
        title_font = QFont(self.title_label.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.35)
        self.title_label.setFont(title_font)
        self.subtitle_label = text_label()
        header = QFrame()
        header.setObjectName("wizardHeader")
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(22, 18, 22, 14)
        header_layout.setSpacing(4)
        header_layout.addWidget(self.step_label)
        header_layout.addWidget(self.title_label)
        header_layout.addWidget(self.subtitle_label)

        self.summary = Status()
        self.pages = QStackedWidget()
        # Team first: the first page asks for the team's invite, which is the whole setup;
        # the administrator's own connection (API key, notification URL) is the other way.
        self.start_page = StartPage(self.team_tab)
        self.start_page.choiceChanged.connect(self._on_choice)
        self.start_page.recheckKeyring.connect(
            lambda: self.tasks.start(self.check_keyring(), name="settings-key-status")
        )
        self.team_tab.membershipChanged.connect(self._on_joined)
        self.preferences_tab.add(
            self.summary, text_label(self.tr("Preferences"), "section"), first=True
        )
        self._tab_pages = [self.account_tab, self.notifications_tab, self.preferences_tab]
        for page in (self.start_page, *self._tab_pages):
            self.pages.addWidget(page)
        self._page_texts = [
            (
                self.tr("Welcome to bulutpop"),
                self.tr(
                    "bulutpop shows who is calling as soon as your phone rings. Did your "
                    "administrator give you a team invite?"
                ),
            ),
            (
                self.tr("Connect to your PBX"),
                self.tr(
                    "For the office's administrator: bulutpop places calls and fetches "
                    "recordings with the PBX's API key, and uses the extension to tell which "
                    "calls are this PC's."
                ),
            ),
            (
                self.tr("Receive call notifications"),
                self.tr(
                    "The PBX, on the internet, announces every call by sending it to a web "
                    "address that leads to this PC. Choose that address, then enter it in the "
                    "PBX's web portal."
                ),
            ),
            (
                self.tr("You're all set"),
                self.tr(
                    "bulutpop waits in the system tray. When a call rings for you, a small "
                    "window shows who is calling; missed calls collect behind the tray icon."
                ),
            ),
        ]
        self._summary_tone: StatusTone = ""
        self._summary_for: Config | None = None

        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.reject)
        self.back_button = QPushButton(self.tr("Back"))
        self.back_button.clicked.connect(self.back)
        self.next_button = QPushButton(self.tr("Next"))
        self.next_button.setDefault(True)
        self.next_button.clicked.connect(self._on_next)
        self.ok_button = self.next_button

        buttons = QHBoxLayout()
        buttons.setContentsMargins(22, 0, 22, 0)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.next_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 16)
        layout.setSpacing(10)
        layout.addWidget(header)
        layout.addWidget(self.pages, 1)
        error_row = QHBoxLayout()
        error_row.setContentsMargins(22, 0, 22, 0)
        error_row.addWidget(self.form_error)
        layout.addLayout(error_row)
        layout.addLayout(buttons)
        self.setMinimumWidth(600)
        self._show_page(0)

    # --- wizard navigation --------------------------------------------------------------------

    @property
    def page(self) -> int:
        return self.pages.currentIndex() if self.first_run else 0

    # The wizard's pages, by index.
    START, ACCOUNT, NOTIFICATIONS, FINISH = range(4)

    def _path(self) -> list[int]:
        """The pages this setup goes through: the invite is the whole of a team's."""
        if self.start_page.team:
            return [self.START, self.FINISH]
        return [self.START, self.ACCOUNT, self.NOTIFICATIONS, self.FINISH]

    def _page_fields(self, index: int) -> set[str]:
        widget = self.pages.widget(index)
        return set(widget.fields) if isinstance(widget, SettingsTab) else set()

    def _show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        # Only the page on show counts for the window's size: no room kept for the others.
        for other in range(self.pages.count()):
            policy = QSizePolicy.Policy.Preferred if other == index else QSizePolicy.Policy.Ignored
            widget = self.pages.widget(other)
            if widget is not None:
                widget.setSizePolicy(policy, policy)
        path = self._path()
        title, subtitle = self._page_texts[index]
        self.step_label.setText(
            self.tr("Step %1 of %2")
            .replace("%1", str(path.index(index) + 1))
            .replace("%2", str(len(path)))
        )
        self.title_label.setText(title)
        self.subtitle_label.setText(subtitle)
        self.back_button.setVisible(index != self.START)
        last = index == self.FINISH
        self.next_button.setText(self.tr("Finish") if last else self.tr("Next"))
        self.form_error.show_result("", "")
        if last:
            self._update_summary()
        self._validate()
        self._fit()

    def _fit(self) -> None:
        """Fit the window to the page (never narrower than the user made it)."""
        layout = self.layout()
        page = self.pages.currentWidget()
        if layout is None or page is None:
            return
        self.pages.updateGeometry()
        layout.invalidate()
        layout.activate()
        width = max(self.width(), self.sizeHint().width())
        if width != self.width():
            self.resize(width, self.height())
            layout.activate()
        # The stack would ask every page for its height: only this one's counts, at the
        # width it has (wrapped text is as tall as the width makes it).
        wanted = page.heightForWidth(self.pages.width()) if page.hasHeightForWidth() else -1
        wanted = max(wanted, page.minimumSizeHint().height())
        self.resize(width, self.height() - self.pages.height() + wanted)

    def next(self) -> bool:
        """Go to the next wizard page if this one is complete; False (errors shown) if not."""
        if self.page == self.START:
            if self.start_page.team and not self._bridge.config.team_mode:
                self.form_error.show_result(
                    "error", self.tr("Paste the invite and press Join first.")
                )
                return False
        else:
            self._insist = True
            errors = self._validate()
            if errors.keys() & self._page_fields(self.page):
                return False
            self._insist = False
        path = self._path()
        position = path.index(self.page)
        if position < len(path) - 1:
            self._show_page(path[position + 1])
        return True

    def back(self) -> None:
        if self.first_run and self.page != self.START:
            path = self._path()
            self._show_page(path[max(path.index(self.page) - 1, 0)])

    def _on_next(self) -> None:
        if self.page == self.FINISH:
            self._on_ok()
        elif (
            self.page == self.START
            and self.start_page.team
            and not self._bridge.config.team_mode
            and self.team_tab.join_button.isEnabled()
        ):
            # A pasted invite and Next: join, then go on.
            self.tasks.start(self._join_and_go_on(), name="settings-join-team")
        else:
            self.next()

    async def _join_and_go_on(self) -> None:
        await self.team_tab.join_team()
        if self._bridge.config.team_mode:
            self.next()

    def _on_choice(self) -> None:
        if self.first_run and self.page == self.START:
            self._show_page(self.START)  # the step count follows the way chosen

    def _on_joined(self) -> None:
        if self._bridge.config.team_mode:
            self.start_page.team_choice.setChecked(True)

    async def check_keyring(self) -> None:
        """Ask the keyring again (it may have been installed or unlocked meanwhile)."""
        await self._bridge.rediscover_keyring()
        status = await self.account_tab.load_key_status()
        self.start_page.show_keyring(status.problem)
        if status.source != "none" and not self._bridge.config.team_mode:
            # An API key is there already (this PC's own, or the environment's): that way.
            self.start_page.solo_choice.setChecked(True)
        self._fit()

    def _update_summary(self) -> None:
        """Say honestly whether calls can reach this PC: in a team, through the team
        server; alone, only once the notification URL is one the PBX on the internet can
        use and a test through it reached this app."""
        config, _errors = self._parse()
        extension = config.extension
        if config.team_mode:
            text = self.tr("Extension %1 · calls come from the team server %2").replace(
                "%2", config.team_relay
            )
            self._show_summary("ok", text.replace("%1", extension))
            return
        where = address(config)
        if not reachable_from_internet(config.webhook_url()):
            self._show_summary(
                "warning",
                self.tr(
                    "Calls cannot reach this PC yet: the PBX is on the internet and cannot "
                    "use %1, an address of this PC or your own network. Set up a tunnel or a "
                    "forwarded port, enter its public URL on the previous page and register "
                    "the notification URL in the PBX's web portal."
                ).replace("%1", where),
            )
            return
        if self._summary_for == config and self._summary_tone:
            return  # checked already
        self._summary_for = config
        checking = self.tr("Checking that %1 reaches this app…").replace("%1", where)
        self._show_summary("busy", checking)
        self.tasks.start(self.check_public_address(config), name="settings-check-address")

    async def check_public_address(self, config: Config) -> None:
        """The self-test through the public URL, for the last page's verdict."""
        tone, text = await self.notifications_tab.check_address(config)
        if self._summary_for != config:
            return  # the address was changed meanwhile
        if tone == "ok":
            text = (
                self.tr(
                    "Extension %1 · the PBX sends calls to %2, and a test through it "
                    "reached this app."
                )
                .replace("%1", config.extension)
                .replace("%2", address(config))
            )
        else:
            tone = "warning"
            text = self.tr("Calls cannot reach this PC yet: %1").replace("%1", text)
        self._show_summary(tone, text)

    def _show_summary(self, tone: StatusTone, text: str) -> None:
        self._summary_tone = tone
        self.summary.show_result(tone, text)
        if self.page == self.FINISH:
            ready = tone == "ok"
            self.title_label.setText(self.tr("You're all set") if ready else self.tr("Almost done"))
            self.subtitle_label.setText(
                self._page_texts[self.FINISH][1]
                if tone != "warning"
                else self.tr(
                    "You can finish now. Until the PBX can reach this PC, calls do not pop up "
                    "while they ring; they are fetched from the PBX's call history later."
                )
            )
        self._fit()

    # --- validation ---------------------------------------------------------------------------

    def _parse(self) -> tuple[Config, dict[str, str]]:
        """The settings as typed on top of the current ones (a field that does not parse
        keeps its current value), and the problems by field."""
        errors: dict[str, str] = {}
        config = self._bridge.config
        for page in self._tab_pages:
            config = page.typed(config, errors)
        self.account_tab.add_problems(config, errors, insist=self._insist)
        return config, errors

    def _validate(self) -> dict[str, str]:
        """Check every field and show each problem under its field; the problems by key."""
        config, errors = self._parse()
        for page in self._tab_pages:
            page.show_errors(errors)
        self.account_tab.show_key_state()
        if not self.first_run:
            # OK is disabled for a problem on another tab: point at that tab.
            warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            for index, page in enumerate(self._tab_pages):
                self.tabs.setTabIcon(
                    index, warning if errors.keys() & page.fields.keys() else QIcon()
                )

        address_ok = not errors.keys() & set(ADDRESS_FIELDS)
        self.notifications_tab.show_address(config if address_ok else None, busy=self._busy)
        if not self.first_run:
            self.pbx_tab.update_register(config if address_ok else None)

        blocking = set(errors)
        if self.first_run:
            blocking &= self._page_fields(self.page)
        self.ok_button.setEnabled(not blocking and not self._busy)
        return errors

    def _reveal(self, errors: dict[str, str]) -> None:
        """Bring the first page or tab with a problem into view."""
        for index, page in enumerate(self._tab_pages):
            if errors.keys() & page.fields.keys():
                if self.first_run:
                    self._show_page(self.pages.indexOf(page))
                else:
                    self.tabs.setCurrentIndex(index)
                return

    def error_text(self, key: str) -> str:
        """The problem shown under a field ("" when none); keys as in `SETTINGS`, plus
        ``api_key`` and ``autostart``."""
        error = self._field(key).error
        return "" if error.isHidden() else error.text()

    def _field(self, key: str) -> Field:
        """The field of a setting, on whichever tab it is."""
        for page in self._tab_pages:
            if key in page.fields:
                return page.fields[key]
        raise KeyError(key)

    # --- tabs ---------------------------------------------------------------------------------

    def _on_tab(self, index: int) -> None:
        if self.tabs.widget(index) is self.pbx_tab:
            self.pbx_tab.on_shown()

    def _show_team(self) -> None:
        """Show what team mode changes on every tab, as the settings are saved: the team's
        details, or the parts that need the API key."""
        team = self._bridge.config.team_mode
        for page in self._tab_pages:
            page.show_team_mode(team)
        if self.first_run:
            self.team_tab.show_team_mode(team)  # on the first page, not one of its own

    def _on_membership(self) -> None:
        self._show_team()
        self._validate()

    # --- saving -------------------------------------------------------------------------------

    def _set_busy(self, busy: bool) -> None:
        self._busy = busy
        if self.first_run:
            self.back_button.setEnabled(not busy)
        self._validate()

    async def save(self) -> bool:
        """Store the key (if one was typed), the settings and the login item; False, with
        the reason shown, if anything is invalid or could not be written."""
        self._insist = True
        _config, errors = self._parse()
        if errors:
            self._reveal(errors)
            self._validate()
            self.form_error.show_result("error", self.tr("Fix the highlighted fields first."))
            return False
        self.form_error.show_result("", "")
        self._set_busy(True)
        try:
            await self._store()
        except SaveFailed as failed:
            problem = failed
        else:
            return True
        finally:
            self._set_busy(False)  # re-validates, which clears the field errors
        if problem.field:
            self._field(problem.field).set_error(problem.detail)
        self.form_error.show_result("error", problem.summary)
        return False

    async def _store(self) -> None:
        await self.account_tab.store_key()
        # Folded onto the settings as they are now: the tray may have changed one (pausing
        # pop-ups) while the keyring was busy.
        config, errors = self._parse()
        if errors:
            raise SaveFailed(self.tr("Fix the highlighted fields first."))
        if config != self._bridge.config:
            try:
                await self._bridge.save_config(config)
            except OSError as exc:
                raise SaveFailed(
                    self.tr("Could not save the settings: %1").replace(
                        "%1", exc.strerror or str(exc)
                    )
                ) from None
        self.preferences_tab.store_autostart()

    def _on_ok(self) -> None:
        self.tasks.start(self._save_and_close(), name="settings-save")

    async def _save_and_close(self) -> None:
        if await self.save():
            self.accept()

    def done(self, result: int) -> None:
        # Checks still running would write into a closed dialog.
        self.tasks.cancel()
        super().done(result)

"""Settings, and the first-run wizard that asks for the same things in three short steps.

Every field is checked by `Config.with_value`, the same parser the CLI and the config file
use, so a value is refused the same way wherever it is typed; the error appears under the
field and OK (or Next) stays disabled until it is fixed. The API key never enters the config:
it goes to the system keyring through `KeyStore`, and the key field is never pre-filled.

The "PBX" tab shows where the PBX sends its call events and registers this app there (only
after the user confirmed replacing what is set: there is one URL per PBX), the number to
present when dialling, and the catch-up from the call history; "Address books" lists the
PBX's phonebook and the files the user imported. Both ask the PBX only when first shown.

The "Team" tab joins the team's relay with an invite (the wizard offers the same on its first
page): the invite's secret goes to the keyring like the API key, the rest into the config.
In team mode the events come from the team server, so what needs the API key (the key
itself, the notification URL, the PBX's CRM integration, the catch-up) is hidden with a
line that says why.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import math
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from bulutpop.app.core import MissingSetup
from bulutpop.calls import phone
from bulutpop.local import autostart
from bulutpop.local.config import Config, ConfigError
from bulutpop.local.keys import KeyStatus, KeyStoreError, validate_key
from bulutpop.pbx.catchup import CatchUpStatus
from bulutpop.pbx.client import (
    CrmSettings,
    InvalidKey,
    NetworkError,
    NotFound,
    PbxClient,
    PbxError,
    RateLimited,
    register_webhook,
)
from bulutpop.pbx.phonebook import PBX, VCARD, AddressBookError
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common import fmt
from bulutpop.ui.common.errors import missing_setup
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.common.widgets import dialog_result
from bulutpop.ui.settings.shared import (
    Field,
    Notice,
    SaveFailed,
    Status,
    Tone,
    address,
    form_layout,
    make_page,
    text_label,
)
from bulutpop.ui.tray import describe_team

if TYPE_CHECKING:
    from bulutpop.team.link import Invite, TeamStatus

# A made-up call id: asking for its recording proves the key without placing a call.
KEY_TEST_CALL = "bulutpop-key-test"
TEST_EVENT_TIMEOUT = 10.0

# The fields that make up the notification URL.
_ADDRESS_FIELDS = ("listen_host", "listen_port", "public_url")

# Asked before the PBX's notification URL is replaced: (the PBX's settings now, the URL
# that would replace them) -> go ahead?
RegisterConfirm = Callable[[CrmSettings, str], Awaitable[bool]]
# The address book files the user picked ([] when cancelled).
FileChooser = Callable[[], Awaitable[list[Path]]]
# Asked before leaving the team -> go ahead?
LeaveConfirm = Callable[[], Awaitable[bool]]

# Message colours for light and dark palettes (the darker reds are unreadable on grey).
_LIGHT = {"error": "#c62828", "ok": "#2e7d32", "warning": "#9a6700"}
_DARK = {"error": "#ff8a80", "ok": "#81c784", "warning": "#ffcc80"}

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

    The async methods (`save`, `test_key`, `send_test_event`, `load_key_status`, and on the
    PBX tabs `load_pbx`, `register`, `catch_up_now`, `add_address_books`,
    `remove_address_book`, `sync_phonebook`, and `join_team`, `leave_team`) are public so
    tests can await them; the buttons start them through `tasks`. ``autostart_platform`` and
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
        self._keys = bridge.core.keys
        self.first_run = first_run
        self.tasks = TaskSet()
        self._autostart_platform = autostart_platform
        self._autostart_base = autostart_base
        # None: the real box and file dialog. (Not bound methods stored here: a dialog that
        # refers to itself is only freed by the garbage collector, at any later moment.)
        self._confirm_register = confirm_register
        self._choose_files = choose_files
        self._confirm_leave = confirm_leave
        self._team_busy = False
        # Rows and widgets that need the API key, hidden in team mode: (form, row) pairs.
        self._key_rows: list[tuple[QFormLayout, int]] = []
        self._key_widgets: list[QWidget] = []
        self._team_notices: list[QWidget] = []
        self._crm: CrmSettings | None = None  # the PBX's settings as last read
        self._pbx_asked = False
        self._registering = False
        self._books_busy = False
        self._key_status: KeyStatus | None = None
        # Until the user tries to go on, a required field that is still empty is not an error
        # worth shouting about (in the wizard); malformed values are flagged at once.
        self._insist = not first_run
        self._busy = False
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        self.setStyleSheet(_STYLE % (_DARK if dark else _LIGHT))
        self.setWindowTitle(self.tr("bulutpop setup") if first_run else self.tr("Settings"))

        self._fields: dict[str, Field] = {}
        self._inputs: dict[str, Callable[[], str]] = {}
        self._make_fields()

        if first_run:
            self._build_wizard()
        else:
            self._build_tabs()
        self._show_team()
        self._validate()
        self.tasks.start(self.load_key_status(), name="settings-key-status")
        bridge.teamChanged.connect(self._show_team_link)
        if not first_run:
            bridge.catchUpChanged.connect(self._show_catchup)
            bridge.namesChanged.connect(self._show_books)

    # --- fields -----------------------------------------------------------------------------

    def _line(self, key: str, *, placeholder: str = "", width: int = 0) -> QLineEdit:
        edit = QLineEdit(self._bridge.config.value_text(key))
        edit.setPlaceholderText(placeholder)
        if width:
            edit.setMaximumWidth(width)
        edit.textChanged.connect(self._validate)
        self._inputs[key] = edit.text
        return edit

    def _combo(self, key: str, choices: list[tuple[str, str]]) -> QComboBox:
        combo = QComboBox()
        for value, text in choices:
            combo.addItem(text, value)
        combo.setCurrentIndex(max(combo.findData(self._bridge.config.value_text(key)), 0))
        combo.currentIndexChanged.connect(self._validate)
        self._inputs[key] = lambda: str(combo.currentData())
        return combo

    def _check(self, key: str, text: str) -> QCheckBox:
        box = QCheckBox(text)
        box.setChecked(bool(getattr(self._bridge.config, key)))
        box.toggled.connect(self._validate)
        self._inputs[key] = lambda: "true" if box.isChecked() else "false"
        return box

    def _field(self, key: str, *widgets: QWidget, hint: str = "", stretch: bool = True) -> Field:
        field = Field(*widgets, hint=hint, stretch=stretch)
        self._fields[key] = field
        return field

    def _make_fields(self) -> None:
        config = self._bridge.config

        # The API key: never shown, replaced only when the user types a new one.
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(self.tr("Paste the key from the PBX web portal"))
        self.key_edit.textChanged.connect(self._validate)
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

        self.host_edit = self._line("listen_host", placeholder="127.0.0.1", width=200)
        self._field(
            "listen_host",
            self.host_edit,
            hint=self.tr(
                "127.0.0.1 accepts connections from this PC only (use it with a tunnel); "
                "0.0.0.0 also from your network."
            ),
            stretch=False,
        )
        self.port_edit = self._line("listen_port", placeholder="8787", width=120)
        self._field("listen_port", self.port_edit, stretch=False)
        self.public_url_edit = self._line("public_url", placeholder="https://bulutpop.example.com")
        self._field("public_url", self.public_url_edit)

        self.webhook_url_edit = QLineEdit(config.webhook_url())
        self.webhook_url_edit.setReadOnly(True)
        self.webhook_url_edit.setCursorPosition(0)
        self.copy_button = QPushButton(self.tr("Copy"))
        self.copy_button.clicked.connect(self.copy_webhook_url)
        self._field("webhook_url", self.webhook_url_edit, self.copy_button)
        self.webhook_notice = Notice()
        self.test_event_button = self._task_button(
            self.tr("Send test event"),
            self.send_test_event,
            "settings-test-event",
            tip=self.tr("Post the PBX's address check to this URL and see whether it arrives here"),
        )
        self.event_result = Status()
        for edit in (self.host_edit, self.port_edit, self.public_url_edit):
            edit.textChanged.connect(lambda: self.event_result.show_result("", ""))

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
            hint=self.tr("Takes effect the next time bulutpop starts."),
            stretch=False,
        )
        self.autostart_check = QCheckBox(self.tr("Start bulutpop when I log in"))
        # The wizard suggests it (a tray app that is not running misses calls); later the
        # box shows what is actually set up on this computer.
        self.autostart_check.setChecked(self.first_run or self._autostart_enabled())
        self._field("autostart", self.autostart_check)

        self.form_error = Status()
        self._make_team_fields()
        if not self.first_run:
            self._make_pbx_fields()
            self._make_book_fields()

    def _team_notice(self) -> QLabel:
        """The line that says why a part is hidden in team mode (one per place)."""
        label = text_label(
            self.tr("In team mode, call events come from the team server; no API key is needed."),
            "hint",
        )
        self._team_notices.append(label)
        return label

    def _make_team_fields(self) -> None:
        self.team_intro = text_label(
            self.tr(
                "If your office shares its PBX through a team server, paste the invite your "
                "administrator gave you. Calls then reach this PC through the team server, and "
                "dialling and recordings go through it too: no API key or notification URL is "
                "needed here."
            ),
            "hint",
        )
        self.invite_edit = QPlainTextEdit()
        self.invite_edit.setPlaceholderText(self.tr("Paste the invite (bulutpop-team:…)"))
        self.invite_edit.setTabChangesFocus(True)
        self.invite_edit.setFixedHeight(4 * self.invite_edit.fontMetrics().height() + 14)
        self.invite_edit.textChanged.connect(self._check_invite)
        self.invite_result = Status()
        self.join_button = self._task_button(self.tr("Join"), self.join_team, "settings-join-team")
        self.join_button.setEnabled(False)
        self.team_agent_label = text_label()
        self.team_extension_label = text_label()
        self.team_relay_label = text_label()
        self.team_relay_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.team_link_state = Status()
        self.leave_button = self._task_button(
            self.tr("Leave the team"), self.leave_team, "settings-leave-team"
        )
        self.team_result = Status()

    def _make_pbx_fields(self) -> None:
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
        self.caller_id_combo.currentIndexChanged.connect(self._validate)
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

    def _make_book_fields(self) -> None:
        self.books = QTreeWidget()
        self.books.setHeaderLabels(
            [self.tr("Address book"), self.tr("Type"), self.tr("Contacts"), self.tr("Updated")]
        )
        self.books.setRootIsDecorated(False)
        self.books.setUniformRowHeights(True)
        self.books.setAlternatingRowColors(True)
        self.books.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.books.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.books.itemSelectionChanged.connect(self._update_book_buttons)
        self.add_book_button = self._task_button(
            self.tr("Add address book…"),
            self.add_address_books,
            "settings-add-books",
            tip=self.tr("A CSV file with a header row, or a vCard file (.vcf)"),
        )
        self.remove_book_button = self._task_button(
            self.tr("Remove"), self.remove_address_book, "settings-remove-book"
        )
        self.sync_button = self._task_button(
            self.tr("Sync PBX phonebook now"), self.sync_phonebook, "settings-sync"
        )
        self.books_result = Status()
        self._show_books()

    def _task_button(
        self,
        text: str,
        run: Callable[[], Coroutine[Any, Any, object]],
        name: str,
        tip: str = "",
    ) -> QPushButton:
        """A button whose click runs `run()` as one of this dialog's tasks."""
        button = QPushButton(text)
        if tip:
            button.setToolTip(tip)
        button.clicked.connect(lambda: self.tasks.start(run(), name=name))
        return button

    def _key_block(self) -> QWidget:
        block = QWidget()
        layout = QVBoxLayout(block)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self._fields["api_key"])
        layout.addWidget(self.key_state)
        layout.addWidget(self.key_result)
        layout.addWidget(self.key_hint)
        layout.addWidget(self.key_warning)
        return block

    def _account_form(self) -> QFormLayout:
        form = form_layout()
        form.addRow(self._team_notice())
        self._key_rows.append((form, form.rowCount()))
        form.addRow(self.tr("API key"), self._key_block())
        form.addRow(self.tr("Your extension"), self._fields["extension"])
        form.addRow(self.tr("Also pop up for"), self._fields["watch"])
        return form

    def _receiver_form(self) -> QWidget:
        form = form_layout()
        form.addRow(self.tr("Listen on address"), self._fields["listen_host"])
        form.addRow(self.tr("Port"), self._fields["listen_port"])
        form.addRow(self.tr("Public URL"), self._fields["public_url"])
        block = QWidget()
        block.setLayout(form)
        self._key_widgets.append(block)
        return block

    def _notifications_page(self) -> QWidget:
        webhook = self._webhook_block()
        self._key_widgets.append(webhook)
        return make_page(self._team_notice(), self._receiver_form(), webhook)

    def _team_join_block(self) -> QWidget:
        """The invite field, its verdict and the Join button."""
        block = QWidget()
        layout = QVBoxLayout(block)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.invite_title = text_label(self.tr("Join a team"), "section")
        layout.addWidget(self.invite_title)
        layout.addWidget(self.invite_edit)
        row = QHBoxLayout()
        row.setSpacing(10)
        row.addWidget(self.invite_result, 1)
        row.addWidget(self.join_button, 0, Qt.AlignmentFlag.AlignTop)
        layout.addLayout(row)
        return block

    def _team_page(self) -> QWidget:
        self.team_info = QWidget()
        form = form_layout()
        form.addRow(text_label(self.tr("Your team"), "section"))
        form.addRow(self.tr("Agent"), self.team_agent_label)
        form.addRow(self.tr("Extension"), self.team_extension_label)
        form.addRow(self.tr("Team server"), self.team_relay_label)
        form.addRow(self.tr("Connection"), self.team_link_state)
        leave = QHBoxLayout()
        leave.addWidget(self.leave_button)
        leave.addStretch(1)
        form.addRow(leave)
        self.team_info.setLayout(form)
        return make_page(self.team_intro, self.team_info, self._team_join_block(), self.team_result)

    def _webhook_block(self) -> QWidget:
        block = QWidget()
        layout = QVBoxLayout(block)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        title = text_label(self.tr("Notification URL for the PBX"), "section")
        layout.addWidget(title)
        layout.addWidget(self._fields["webhook_url"])
        layout.addWidget(self.webhook_notice)
        steps = QFrame()
        steps.setProperty("role", "steps")
        steps_layout = QVBoxLayout(steps)
        steps_layout.setContentsMargins(12, 10, 12, 10)
        steps_layout.setSpacing(4)
        for line in (
            self.tr("1. Sign in to the Bulutsantralim web portal as an administrator."),
            self.tr("2. Open Settings, then the CRM integration section."),
            self.tr(
                "3. Paste the URL above as the notification URL, turn on the ringing, answered "
                "and hangup events, and save."
            ),
            self.tr(
                "The PBX checks the URL when you save, so bulutpop must be running. The PBX "
                "keeps a single notification URL: saving replaces any URL set for another tool."
            ),
        ):
            steps_layout.addWidget(text_label(line, small=True))
        # The last line is advice, not a step.
        steps_layout.insertSpacing(steps_layout.count() - 1, 6)
        layout.addWidget(steps)
        row = QHBoxLayout()
        row.setSpacing(10)
        row.addWidget(self.test_event_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.event_result, 1)
        row.addStretch(0)
        layout.addLayout(row)
        return block

    def _pbx_page(self) -> QWidget:
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
        form.addRow(self.tr("Present my number as"), self._fields["caller_id"])
        # The catch-up reads the PBX's call history with the API key: the relay's business.
        first = form.rowCount()
        section(self.tr("Catch-up from the call history"))
        form.addRow(catchup)
        form.addRow(self.tr("Catch up every"), self._fields["catchup_minutes"])
        form.addRow(self.tr("First catch-up"), self._fields["history_days"])
        self._key_rows += [(form, row) for row in range(first, form.rowCount())]
        return make_page(form)

    def _books_page(self) -> QWidget:
        intro = text_label(
            self.tr(
                "Callers' names come from the PBX's phonebook and from address books you "
                "add: a CSV file with a header row, or a vCard file. A name you edit in the "
                "missed calls or the history wins over both."
            ),
            "hint",
        )
        buttons = QHBoxLayout()
        buttons.setSpacing(8)
        buttons.addWidget(self.add_book_button)
        buttons.addWidget(self.remove_book_button)
        buttons.addStretch(1)
        buttons.addWidget(self.sync_button)
        page = make_page(intro, self.books, buttons, self.books_result)
        layout = page.layout()
        assert isinstance(layout, QVBoxLayout)
        # The list takes the height; the trailing stretch page adds is not wanted here.
        layout.setStretchFactor(self.books, 1)
        layout.takeAt(layout.count() - 1)
        return page

    def _popup_form(self) -> QFormLayout:
        form = form_layout()
        form.addRow(self.tr("Pop-up corner"), self._fields["popup_corner"])
        form.addRow(self.tr("Sound"), self._fields["ring_sound"])
        form.addRow(self.tr("CRM link"), self._fields["crm_url"])
        form.addRow(self.tr("Language"), self._fields["language"])
        form.addRow(self.tr("Startup"), self._fields["autostart"])
        return form

    # --- layouts ------------------------------------------------------------------------------

    def _build_tabs(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.addTab(make_page(self._account_form()), self.tr("Account"))
        self.tabs.addTab(self._notifications_page(), self.tr("Notifications"))
        self.tabs.addTab(make_page(self._popup_form()), self.tr("Preferences"))
        self.pbx_tab = self._pbx_page()
        self.tabs.addTab(self.pbx_tab, self.tr("PBX"))
        self.books_tab = self._books_page()
        self.tabs.addTab(self.books_tab, self.tr("Address books"))
        self.team_tab = self._team_page()
        self.tabs.addTab(self.team_tab, self.tr("Team"))
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
        self.resize(640, 600)

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
        # An agent whose office runs a team server has an invite, not an API key.
        self.team_toggle = QPushButton(self.tr("I have a team invite"))
        self.team_toggle.setFlat(True)
        self.team_toggle.setCheckable(True)
        self.team_toggle.setCursor(Qt.CursorShape.PointingHandCursor)
        team_block = self._team_join_block()
        team_block.setVisible(False)
        self.team_toggle.toggled.connect(team_block.setVisible)
        toggle_row = QHBoxLayout()
        toggle_row.addWidget(self.team_toggle)
        toggle_row.addStretch(1)
        self.team_info = QWidget()  # not shown in the wizard
        self.pages.addWidget(
            make_page(self._account_form(), toggle_row, team_block, self.team_result)
        )
        self.pages.addWidget(self._notifications_page())
        self.pages.addWidget(
            make_page(
                self.summary, text_label(self.tr("Preferences"), "section"), self._popup_form()
            )
        )
        self._page_texts = [
            (
                self.tr("Connect to your PBX"),
                self.tr(
                    "bulutpop places calls and fetches recordings with your PBX's API key, "
                    "and uses your extension to tell which calls are yours."
                ),
            ),
            (
                self.tr("Receive call notifications"),
                self.tr(
                    "The PBX announces every call by sending it to a web address on this PC. "
                    "Choose how the PBX reaches it, then enter that address in the PBX's web "
                    "portal."
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
        self.resize(640, 620)
        self._show_page(0)

    # --- wizard navigation --------------------------------------------------------------------

    # Which fields each wizard page holds, to check a page before leaving it.
    _PAGE_FIELDS = (
        ("api_key", "extension", "watch"),
        ("listen_host", "listen_port", "public_url"),
        ("popup_corner", "ring_sound", "crm_url", "language", "autostart"),
        ("caller_id", "catchup_minutes", "history_days"),  # the PBX tab; not in the wizard
    )

    @property
    def page(self) -> int:
        return self.pages.currentIndex() if self.first_run else 0

    def _show_page(self, index: int) -> None:
        self.pages.setCurrentIndex(index)
        title, subtitle = self._page_texts[index]
        self.step_label.setText(
            self.tr("Step %1 of %2").replace("%1", str(index + 1)).replace("%2", "3")
        )
        self.title_label.setText(title)
        self.subtitle_label.setText(subtitle)
        self.back_button.setVisible(index > 0)
        last = index == self.pages.count() - 1
        self.next_button.setText(self.tr("Finish") if last else self.tr("Next"))
        if last:
            self._update_summary()
        self._validate()

    def next(self) -> bool:
        """Go to the next wizard page if this one is complete; False (errors shown) if not."""
        self._insist = True
        errors = self._validate()
        if any(key in errors for key in self._PAGE_FIELDS[self.page]):
            return False
        self._insist = False
        if self.page < self.pages.count() - 1:
            self._show_page(self.page + 1)
        return True

    def back(self) -> None:
        if self.first_run and self.page > 0:
            self._show_page(self.page - 1)

    def _on_next(self) -> None:
        if self.page == self.pages.count() - 1:
            self._on_ok()
        else:
            self.next()

    def _update_summary(self) -> None:
        config, _errors = self._parse()
        if config.team_mode:
            text = self.tr("Extension %1 · calls come from the team server %2").replace(
                "%2", config.team_relay
            )
        else:
            text = self.tr("Extension %1 · the PBX sends calls to %2").replace(
                "%2", address(config)
            )
        self.summary.show_result("ok", text.replace("%1", config.extension))

    # --- validation ---------------------------------------------------------------------------

    def _parse(self) -> tuple[Config, dict[str, str]]:
        """The settings as typed on top of the current ones (a field that does not parse
        keeps its current value), and the problems by field."""
        errors: dict[str, str] = {}
        config = self._bridge.config
        for key, read in self._inputs.items():
            try:
                config = config.with_value(key, read())
            except ConfigError as exc:
                # The parser names the setting; the field is right there, so drop the name.
                errors[key] = str(exc).removeprefix(f"{key}: ")
        if "extension" not in errors and not config.extension and self._insist:
            errors["extension"] = self.tr("Enter your extension, e.g. 1001.")
        typed = self.key_edit.text()
        if typed.strip():
            try:
                validate_key(typed)
            except ValueError as exc:
                errors["api_key"] = str(exc)
        elif (
            self._insist and self.first_run and self._key_status_is("none") and not config.team_mode
        ):
            errors["api_key"] = self.tr("Paste your API key to continue.")
        return config, errors

    def _validate(self) -> dict[str, str]:
        """Check every field and show each problem under its field; the problems by key."""
        config, errors = self._parse()
        for key, field in self._fields.items():
            field.set_error(errors.get(key, ""))
        self._show_key_state()
        if not self.first_run:
            # OK is disabled for a problem on another tab: point at that tab.
            warning = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
            for index, keys in enumerate(self._PAGE_FIELDS):
                self.tabs.setTabIcon(index, warning if errors.keys() & set(keys) else QIcon())

        address_ok = not errors.keys() & set(_ADDRESS_FIELDS)
        if address_ok:
            self.webhook_url_edit.setText(config.webhook_url())
            self.webhook_url_edit.setCursorPosition(0)
            self._update_webhook_advice(config)
        self.test_event_button.setEnabled(address_ok and not self._busy)
        if not self.first_run:
            self._update_register(config if address_ok else None)

        blocking = set(errors)
        if self.first_run:
            blocking &= set(self._PAGE_FIELDS[self.page])
        self.ok_button.setEnabled(not blocking and not self._busy)
        return errors

    def _reveal(self, errors: dict[str, str]) -> None:
        """Bring the first page or tab with a problem into view."""
        for index, keys in enumerate(self._PAGE_FIELDS):
            if errors.keys() & set(keys):
                if self.first_run:
                    self._show_page(index)
                else:
                    self.tabs.setCurrentIndex(index)
                return

    def error_text(self, key: str) -> str:
        """The problem shown under a field ("" when none); keys as in `SETTINGS`, plus
        ``api_key`` and ``autostart``."""
        error = self._fields[key].error
        return "" if error.isHidden() else error.text()

    def _key_status_is(self, source: str) -> bool:
        return self._key_status is not None and self._key_status.source == source

    def _update_webhook_advice(self, config: Config) -> None:
        self._fields["public_url"].set_hint(
            self.tr(
                "The address of your tunnel or router that forwards to port %1 of this PC. "
                "Leave empty if the PBX can reach this PC directly."
            ).replace("%1", str(config.listen_port))
        )
        if config.public_url:
            self.webhook_notice.set_text("")
        else:
            self.webhook_notice.set_text(
                self.tr(
                    "This address works on this PC only, and the PBX is on the internet. "
                    "Set a public URL (a tunnel such as Cloudflare Tunnel or ngrok, or a "
                    "forwarded port) so that the PBX can reach bulutpop."
                )
            )

    # --- key ----------------------------------------------------------------------------------

    async def load_key_status(self) -> KeyStatus:
        """Ask the keyring where the key is (off the UI thread: it may block) and show it."""
        status = await asyncio.get_running_loop().run_in_executor(None, self._keys.status)
        self._key_status = status
        if status.source != "none":
            self.key_edit.setPlaceholderText(self.tr("Type a new key to replace it"))
        self.key_warning.set_text(status.warning)
        self._validate()
        return status

    def _show_key_state(self) -> None:
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
        finally:
            self.test_key_button.setEnabled(True)
        self.key_result.show_result(tone, text)
        return text

    async def _check_key(self) -> tuple[Tone, str]:
        typed = self.key_edit.text()
        loop = asyncio.get_running_loop()
        try:
            key = (
                validate_key(typed)
                if typed.strip()
                else await loop.run_in_executor(None, self._keys.get)
            )
        except (ValueError, KeyStoreError) as exc:
            return "error", str(exc)
        if not key:
            return "error", self.tr("Type the API key first.")
        core = self._bridge.core
        client = PbxClient(core.config.api_url, key, redactor=core.redactor)
        try:
            await client.recording_url(KEY_TEST_CALL)
        except NotFound:
            pass  # the key was accepted; the made-up call does not exist, as expected
        except InvalidKey:
            return "error", self.tr("The PBX refused this key.")
        except RateLimited as exc:
            return "warning", self.tr("The PBX is busy. Try again in %1 s.").replace(
                "%1", str(math.ceil(exc.retry_after))
            )
        except NetworkError as exc:
            return "error", self.tr("Could not reach the PBX: %1").replace("%1", exc.cause)
        except PbxError as exc:
            return "error", exc.message
        finally:
            await client.close()
        return "ok", self.tr("Key accepted by the PBX.")

    # --- notification URL ---------------------------------------------------------------------

    def copy_webhook_url(self) -> None:
        QGuiApplication.clipboard().setText(self.webhook_url_edit.text())
        self.event_result.show_result("ok", self.tr("Copied. Paste it into the PBX's web portal."))

    async def send_test_event(self) -> str:
        """Post the PBX's address check (`{}`) to the URL the PBX would use; say what happened."""
        config, errors = self._parse()
        if errors.keys() & set(_ADDRESS_FIELDS):
            text = self.tr("Fix the highlighted fields first.")
            self.event_result.show_result("error", text)
            return text
        self.test_event_button.setEnabled(False)
        self.event_result.show_result("busy", self.tr("Sending…"))
        try:
            tone, text = await self._post_probe(config)
        finally:
            self.test_event_button.setEnabled(True)
        self.event_result.show_result(tone, text)
        return text

    async def _post_probe(self, config: Config) -> tuple[Tone, str]:
        url = config.webhook_url()
        where = address(config)
        timeout = aiohttp.ClientTimeout(total=TEST_EVENT_TIMEOUT)
        try:
            async with (
                aiohttp.ClientSession(timeout=timeout) as session,
                session.post(
                    url,
                    data=b"{}",
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    allow_redirects=False,
                ) as response,
            ):
                status = response.status
                location = response.headers.get("Location", "")
        except aiohttp.ClientConnectorDNSError:
            return "error", self.tr(
                "The name in %1 cannot be resolved: check the address."
            ).replace("%1", where)
        except aiohttp.ClientConnectorCertificateError:
            return "error", self.tr("%1 presented a certificate this PC does not trust.").replace(
                "%1", where
            )
        except aiohttp.ClientConnectorError as exc:
            if exc.os_error.errno == errno.ECONNREFUSED:
                return "error", self.tr(
                    "Nothing is listening at %1 (connection refused). If you changed the "
                    "address or port, save first; if it is a tunnel, check that it is running."
                ).replace("%1", where)
            return "error", self.tr("Could not connect to %1: %2").replace("%1", where).replace(
                "%2", exc.os_error.strerror or type(exc.os_error).__name__
            )
        except TimeoutError:
            return "error", self.tr("No answer from %1 within %2 s.").replace("%1", where).replace(
                "%2", f"{TEST_EVENT_TIMEOUT:g}"
            )
        except aiohttp.ClientError as exc:
            return "error", self.tr("Could not reach %1: %2").replace("%1", where).replace(
                "%2", str(exc) or type(exc).__name__
            )
        if 200 <= status < 300:
            return "ok", self.tr("Reached this app through %1.").replace("%1", where)
        if 300 <= status < 400:
            return "error", self.tr(
                "%1 redirects to %2: the PBX does not follow redirects, use the final address."
            ).replace("%1", where).replace("%2", location or "?")
        if status == 404:
            return "error", self.tr("The URL reaches a server, but not this app — check the path.")
        if status in (502, 503, 504):
            return "error", self.tr(
                "%1 answered HTTP %2: a tunnel or proxy is there, but it cannot reach this "
                "app. Check that it forwards to port %3."
            ).replace("%1", where).replace("%2", str(status)).replace("%3", str(config.listen_port))
        return "error", self.tr("%1 answered HTTP %2 instead of 200.").replace("%1", where).replace(
            "%2", str(status)
        )

    # --- the PBX tab ---------------------------------------------------------------------------

    def _on_tab(self, index: int) -> None:
        if self.tabs.widget(index) is self.pbx_tab and not self._pbx_asked:
            self.tasks.start(self.load_pbx(), name="settings-pbx")

    async def load_pbx(self) -> None:
        """Ask the PBX where it sends call events and which numbers may be presented."""
        self._pbx_asked = True
        if self._bridge.config.team_mode:
            await self.load_caller_ids()  # the PBX's settings are the team server's business
        else:
            await asyncio.gather(self.load_crm(), self.load_caller_ids())

    def _pbx_error(self, exc: PbxError | MissingSetup) -> str:
        if isinstance(exc, MissingSetup):
            return self.tr("Setup needed: %1.").replace("%1", missing_setup(exc))
        if isinstance(exc, InvalidKey):
            return self.tr("The PBX refused the API key.")
        if isinstance(exc, RateLimited):
            return self.tr("The PBX is busy. Try again in %1 s.").replace(
                "%1", str(math.ceil(exc.retry_after))
            )
        if isinstance(exc, NetworkError):
            return self.tr("Could not reach the PBX: %1").replace("%1", exc.cause)
        return exc.message

    async def load_crm(self) -> CrmSettings | None:
        """Read and show the PBX's CRM-integration settings; None when it could not."""
        self.crm_state.show_result("busy", self.tr("Asking the PBX…"))
        self.crm_check_button.setEnabled(False)
        try:
            current = await self._bridge.core.api().crm_integrations()
        except (PbxError, MissingSetup) as exc:
            self._crm = None
            self.crm_events.setText("—")
            self.crm_state.show_result(
                "error",
                self.tr("Could not read the PBX's settings: %1").replace(
                    "%1", self._pbx_error(exc)
                ),
            )
            return None
        finally:
            self.crm_check_button.setEnabled(True)
            self._validate()
        self._crm = current
        self._show_crm(current)
        self._validate()
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

    def _update_register(self, typed: Config | None) -> None:
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
        self._validate()
        self.register_result.show_result("busy", self.tr("Asking the PBX…"))
        tone: Tone
        try:
            confirm = self._confirm_register or self._ask_register
            outcome = await register_webhook(
                self._bridge.core.api(), url, lambda current: confirm(current, url)
            )
        except (PbxError, MissingSetup) as exc:
            outcome = None
            tone, text = "error", self.tr("Not registered: %1").replace("%1", self._pbx_error(exc))
        finally:
            self._registering = False
            self._validate()
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
        except (PbxError, MissingSetup) as exc:
            self._fields["caller_id"].set_hint(
                self.tr("The PBX's numbers could not be listed: %1").replace(
                    "%1", self._pbx_error(exc)
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
        tone: Tone
        if status.running:
            tone, text = "busy", self.tr("Catching up…")
            if status.progress is not None:
                text = (
                    self.tr("Catching up… page %1 of %2")
                    .replace("%1", str(status.progress[0]))
                    .replace("%2", str(status.progress[1]))
                )
        elif status.error:
            tone = "error" if status.error_kind == "invalid_key" else "warning"
            text = self.tr("The last catch-up failed: %1").replace("%1", status.error)
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
        except MissingSetup as exc:
            self.catchup_state.show_result("error", self._pbx_error(exc))
        except PbxError:
            pass  # the status (shown through catchUpChanged) says why
        finally:
            self.catchup_button.setEnabled(not self._bridge.catchup_status.running)
        return self.catchup_state.text.text()

    # --- the address books tab ----------------------------------------------------------------

    def _show_books(self) -> None:
        selected = self._selected_book()
        self.books.clear()
        status = self._bridge.phonebook.status
        if status.error:
            updated = self.tr("Sync failed")
        elif status.last_sync is None:
            updated = self.tr("Not synced yet")
        else:
            updated = fmt.when(status.last_sync)
        pbx = QTreeWidgetItem(
            [self.tr("PBX phonebook"), self.tr("PBX"), str(status.contacts), updated]
        )
        pbx.setData(0, Qt.ItemDataRole.UserRole, (PBX, ""))
        if status.error:
            pbx.setToolTip(3, status.error)
        items = [pbx]
        for book in self._bridge.core.store.contact_sources():
            if book.source == PBX:
                continue
            kind = "vCard" if book.source == VCARD else "CSV"
            item = QTreeWidgetItem(
                [Path(book.origin).name, kind, str(book.contacts), fmt.when(book.updated_ts)]
            )
            item.setToolTip(0, book.origin)
            item.setData(0, Qt.ItemDataRole.UserRole, (book.source, book.origin))
            items.append(item)
        for item in items:
            item.setTextAlignment(2, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.books.addTopLevelItems(items)
        for item in items:
            if tuple(item.data(0, Qt.ItemDataRole.UserRole)) == selected:
                item.setSelected(True)
        self._update_book_buttons()

    def _selected_book(self) -> tuple[str, str] | None:
        items = self.books.selectedItems()
        return tuple(items[0].data(0, Qt.ItemDataRole.UserRole)) if items else None

    def _update_book_buttons(self) -> None:
        book = self._selected_book()
        self.remove_book_button.setEnabled(
            book is not None and book[0] != PBX and not self._books_busy
        )
        self.add_book_button.setEnabled(not self._books_busy)
        # The PBX's phonebook is read with the API key, which a team PC does not hold.
        self.sync_button.setEnabled(not self._books_busy and not self._bridge.config.team_mode)

    def _set_books_busy(self, busy: bool) -> None:
        self._books_busy = busy
        self._update_book_buttons()

    async def _ask_files(self) -> list[Path]:
        dialog = QFileDialog(self, self.tr("Add address books"))
        dialog.setFileMode(QFileDialog.FileMode.ExistingFiles)
        dialog.setNameFilters(
            [self.tr("Address books (*.csv *.vcf *.vcard)"), self.tr("All files (*)")]
        )
        try:
            if await dialog_result(dialog) != QDialog.DialogCode.Accepted:
                return []
            return [Path(name) for name in dialog.selectedFiles()]
        finally:
            dialog.deleteLater()

    async def add_address_books(self) -> str:
        """Import the CSV or vCard files the user picks; says what was read."""
        paths = await (self._choose_files or self._ask_files)()
        if not paths:
            return ""
        self._set_books_busy(True)
        done: list[str] = []
        failed: list[str] = []
        try:
            for path in paths:
                self.books_result.show_result(
                    "busy", self.tr("Reading %1…").replace("%1", path.name)
                )
                try:
                    result = await self._bridge.phonebook.import_file(path)
                except AddressBookError as exc:
                    failed.append(f"{path.name}: {exc}")
                    continue
                done.append(
                    self.tr("%1: %n contact(s)", "", result.contacts).replace("%1", path.name)
                )
        finally:
            self._set_books_busy(False)
            self._show_books()
        lines = [self.tr("Added %1.").replace("%1", "; ".join(done))] if done else []
        if failed:
            lines.append(self.tr("Not added: %1").replace("%1", "; ".join(failed)))
        text = "\n".join(lines)
        self.books_result.show_result("error" if failed else "ok", text)
        return text

    async def remove_address_book(self) -> str:
        """Forget the selected imported file's names (the file itself stays)."""
        book = self._selected_book()
        if book is None or book[0] == PBX:
            return ""
        self._set_books_busy(True)
        try:
            await self._bridge.phonebook.remove_file(*book)
        finally:
            self._set_books_busy(False)
            self._show_books()
        text = self.tr("Removed %1.").replace("%1", Path(book[1]).name)
        self.books_result.show_result("ok", text)
        return text

    async def sync_phonebook(self) -> str:
        """Fetch the PBX's phonebook (and queue names) now; says how it went."""
        self._set_books_busy(True)
        self.books_result.show_result("busy", self.tr("Asking the PBX…"))
        phonebook = self._bridge.phonebook
        tone: Tone
        try:
            count = await phonebook.sync_pbx()
            with contextlib.suppress(PbxError):  # queue names are a nicety
                await phonebook.sync_queues()
        except (PbxError, MissingSetup) as exc:
            tone = "error"
            text = self.tr("The PBX phonebook was not synced: %1").replace(
                "%1", self._pbx_error(exc)
            )
        else:
            tone, text = "ok", self.tr("The PBX phonebook has %n contact(s).", "", count)
        finally:
            self._set_books_busy(False)
            self._show_books()
        self.books_result.show_result(tone, text)
        return text

    # --- the team tab -------------------------------------------------------------------------

    def _show_team(self) -> None:
        """Show what team mode changes: the team's details, or the parts that need the API
        key, whichever applies to the settings as saved."""
        config = self._bridge.config
        team = config.team_mode
        for form, row in self._key_rows:
            form.setRowVisible(row, not team)
        for widget in self._key_widgets:
            widget.setVisible(not team)
        for notice in self._team_notices:
            notice.setVisible(team)
        self.invite_title.setText(
            self.tr("Replace with a new invite") if team else self.tr("Join a team")
        )
        if self.first_run:
            return
        if not team:
            # Rows shown again show their widgets: an empty verdict stays out of sight.
            for status in (self.crm_state, self.register_result, self.catchup_state):
                status.setVisible(bool(status.text.text()))
            if self._crm is None:
                self._pbx_asked = False  # ask the PBX when the tab is next shown
        self.team_info.setVisible(team)
        self.team_agent_label.setText(config.team_agent)
        self.team_extension_label.setText(config.extension)
        self.team_relay_label.setText(config.team_relay)
        self._show_team_link(self._bridge.team_status)
        self._update_book_buttons()

    def _show_team_link(self, status: TeamStatus | None) -> None:
        if self.first_run:
            return  # the wizard has no connection line
        if status is None or not self._bridge.config.team_mode:
            self.team_link_state.show_result("", self.tr("Not connected"))
            return
        tones: dict[str, Tone] = {"connected": "ok", "reconnecting": "warning", "refused": "error"}
        tone = tones.get(status.state, "busy")
        text = describe_team(status)
        if status.detail and status.state != "connected":
            text += "\n" + status.detail
        self.team_link_state.show_result(tone, text)

    def _check_invite(self) -> Invite | None:
        """Check the pasted invite as it is typed; the invite when it can be joined."""
        text = self.invite_edit.toPlainText()
        invite = None
        if not text.strip():
            self.invite_result.show_result("", "")
        else:
            from bulutpop.team.link import Invite, InviteError

            try:
                invite = Invite.parse(text)
            except InviteError as exc:
                self.invite_result.show_result(
                    "error", self.tr("This invite cannot be used: %1").replace("%1", str(exc))
                )
            else:
                self.invite_result.show_result(
                    "ok",
                    self.tr("Invite for agent %1, extension %2, team server %3.")
                    .replace("%1", invite.agent)
                    .replace("%2", invite.extension)
                    .replace("%3", invite.relay),
                )
        self.join_button.setEnabled(invite is not None and not self._team_busy)
        return invite

    def invite_error(self) -> str:
        """The verdict on the pasted invite when it cannot be used ("" otherwise)."""
        status = self.invite_result
        error = status.text.property("tone") == "error" and not status.isHidden()
        return status.text.text() if error else ""

    def _set_team_busy(self, busy: bool) -> None:
        self._team_busy = busy
        self.leave_button.setEnabled(not busy)
        self._check_invite()

    async def join_team(self) -> str:
        """Join with the pasted invite: the secret into the keyring, the rest into the
        settings (saved at once, like registering with the PBX); says what happened."""
        invite = self._check_invite()
        if invite is None:
            return self.invite_result.text.text()
        self._set_team_busy(True)
        self.team_result.show_result("busy", self.tr("Joining…"))
        tone: Tone
        try:
            await self._bridge.join_team(invite)
        except KeyStoreError as exc:
            tone = "error"
            text = self.tr("Not joined: the team secret was not saved. %1").replace("%1", str(exc))
        except OSError as exc:
            tone = "error"
            text = self.tr("Could not save the settings: %1").replace(
                "%1", exc.strerror or str(exc)
            )
        else:
            # The secret is not left lying in the field.
            self.invite_edit.clear()
            # The invite says which extension this PC is; OK must not write back the old one.
            self.extension_edit.setText(self._bridge.config.extension)
            tone = "ok"
            text = (
                self.tr(
                    "Joined the team as %1 (extension %2). Calls now come from the team server."
                )
                .replace("%1", invite.agent)
                .replace("%2", invite.extension)
            )
        finally:
            self._set_team_busy(False)
        self._show_team()
        self._validate()
        self.team_result.show_result(tone, text)
        return text

    async def leave_team(self) -> str:
        """Leave the team once the user confirmed: the secret is deleted from the keyring
        and this PC goes back to its own API key and notification URL."""
        if not await (self._confirm_leave or self._ask_leave)():
            return ""
        self._set_team_busy(True)
        tone: Tone
        try:
            await self._bridge.leave_team()
        except KeyStoreError as exc:
            tone, text = "error", self.tr("Could not leave the team: %1").replace("%1", str(exc))
        except OSError as exc:
            tone = "error"
            text = self.tr("Could not save the settings: %1").replace(
                "%1", exc.strerror or str(exc)
            )
        else:
            tone = "ok"
            text = self.tr(
                "You left the team. To receive calls, this PC needs an API key and a "
                "notification URL of its own again."
            )
        finally:
            self._set_team_busy(False)
        self._show_team()
        self._validate()
        self.team_result.show_result(tone, text)
        return text

    async def _ask_leave(self) -> bool:
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("Leave the team"))
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setText(self.tr("Leave the team?"))
        box.setInformativeText(
            self.tr(
                "Calls will no longer reach this PC through the team server, and this PC's "
                "team credential is deleted. To join again you need a new invite."
            )
        )
        leave = box.addButton(self.tr("Leave the team"), QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        try:
            await dialog_result(box)
            return box.clickedButton() is leave
        finally:
            box.deleteLater()

    # --- saving -------------------------------------------------------------------------------

    def _autostart_enabled(self) -> bool:
        try:
            return autostart.is_enabled(
                platform=self._autostart_platform, base=self._autostart_base
            )
        except autostart.AutostartError:
            return False

    def _set_autostart(self, wanted: bool) -> None:
        platform, base = self._autostart_platform, self._autostart_base
        if wanted:
            autostart.enable(autostart.launch_command(), platform=platform, base=base)
        else:
            autostart.disable(platform=platform, base=base)

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
            self._fields[problem.field].set_error(problem.detail)
        self.form_error.show_result("error", problem.summary)
        return False

    async def _store(self) -> None:
        loop = asyncio.get_running_loop()
        typed = self.key_edit.text()
        if typed.strip():
            try:
                await loop.run_in_executor(None, self._keys.set, typed)
            except (ValueError, KeyStoreError) as exc:
                raise SaveFailed(
                    self.tr("The API key was not saved."), "api_key", str(exc)
                ) from None
            self.key_edit.clear()
            await self.load_key_status()
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
        wanted = self.autostart_check.isChecked()
        if wanted != self._autostart_enabled():
            try:
                self._set_autostart(wanted)
            except autostart.AutostartError as exc:
                raise SaveFailed(
                    self.tr("Settings saved, but starting at login could not be changed."),
                    "autostart",
                    str(exc),
                ) from None

    def _on_ok(self) -> None:
        self.tasks.start(self._save_and_close(), name="settings-save")

    async def _save_and_close(self) -> None:
        if await self.save():
            self.accept()

    def done(self, result: int) -> None:
        # Checks still running would write into a closed dialog.
        self.tasks.cancel()
        super().done(result)

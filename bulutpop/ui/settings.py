"""Settings, and the first-run wizard that asks for the same things in three short steps.

Every field is checked by `Config.with_value`, the same parser the CLI and the config file
use, so a value is refused the same way wherever it is typed; the error appears under the
field and OK (or Next) stays disabled until it is fixed. The API key never enters the config:
it goes to the system keyring through `KeyStore`, and the key field is never pre-filled.
"""

from __future__ import annotations

import asyncio
import errno
import math
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import aiohttp
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from bulutpop import autostart
from bulutpop.config import Config, ConfigError
from bulutpop.keys import KeyStatus, KeyStoreError, validate_key
from bulutpop.pbxapi import (
    InvalidKey,
    NetworkError,
    NotFound,
    PbxClient,
    PbxError,
    RateLimited,
)
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.tasks import TaskSet

# A made-up call id: asking for its recording proves the key without placing a call.
KEY_TEST_CALL = "bulutpop-key-test"
TEST_EVENT_TIMEOUT = 10.0

# The fields that make up the notification URL.
_ADDRESS_FIELDS = ("listen_host", "listen_port", "public_url")

Tone = Literal["", "busy", "ok", "warning", "error"]

_TONE_ICONS = {
    "ok": QStyle.StandardPixmap.SP_DialogApplyButton,
    "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
    "error": QStyle.StandardPixmap.SP_MessageBoxCritical,
}

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


def _label(text: str = "", role: str = "", *, small: bool = False) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    if role:
        label.setProperty("role", role)
    if small:
        font = QFont(label.font())
        font.setPointSizeF(font.pointSizeF() * 0.92)
        label.setFont(font)
    return label


def _restyle(widget: QWidget) -> None:
    # Dynamic properties only take effect in a stylesheet after a re-polish.
    widget.style().unpolish(widget)
    widget.style().polish(widget)


class _Field(QWidget):
    """One input row with its hint and its error underneath (each hidden while empty)."""

    def __init__(self, *widgets: QWidget, hint: str = "", stretch: bool = True) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(3)
        row = QHBoxLayout()
        row.setSpacing(6)
        for widget in widgets:
            row.addWidget(widget)
        if not stretch:
            row.addStretch(1)
        layout.addLayout(row)
        self.error = _label("", "error", small=True)
        self.error.hide()
        layout.addWidget(self.error)
        self.hint = _label(hint, "hint", small=True)
        self.hint.setVisible(bool(hint))
        layout.addWidget(self.hint)

    def set_hint(self, text: str) -> None:
        self.hint.setText(text)
        self.hint.setVisible(bool(text))

    def set_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))


class _Status(QWidget):
    """The outcome of a check ("Key accepted by the PBX"), with an icon for its tone."""

    def __init__(self) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        self.icon = QLabel()
        self.icon.setFixedSize(16, 16)
        self.text = _label()
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.text, 1)
        self.show_result("", "")

    def show_result(self, tone: Tone, text: str) -> None:
        self.text.setText(text)
        self.text.setProperty("tone", tone)
        _restyle(self.text)
        pixmap = _TONE_ICONS.get(tone)
        if pixmap is None:
            self.icon.clear()
        else:
            self.icon.setPixmap(self.style().standardIcon(pixmap).pixmap(16, 16))
        self.icon.setVisible(pixmap is not None)
        self.setVisible(bool(text))


class _Notice(QFrame):
    """A tinted box for advice the user should not miss (e.g. a local-only webhook URL)."""

    def __init__(self) -> None:
        super().__init__()
        self.setProperty("role", "notice")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(8)
        icon = QLabel()
        icon.setPixmap(
            self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning).pixmap(16, 16)
        )
        layout.addWidget(icon, 0, Qt.AlignmentFlag.AlignTop)
        self.text = _label(small=True)
        layout.addWidget(self.text, 1)

    def set_text(self, text: str) -> None:
        self.text.setText(text)
        self.setVisible(bool(text))


def _form() -> QFormLayout:
    form = QFormLayout()
    form.setContentsMargins(0, 0, 0, 0)
    form.setHorizontalSpacing(14)
    form.setVerticalSpacing(12)
    form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
    form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
    return form


def _page(*items: QWidget | QLayout) -> QWidget:
    page = QWidget()
    layout = QVBoxLayout(page)
    layout.setContentsMargins(18, 16, 18, 16)
    layout.setSpacing(14)
    for item in items:
        if isinstance(item, QLayout):
            layout.addLayout(item)
        else:
            layout.addWidget(item)
    layout.addStretch(1)
    return page


def _address(config: Config) -> str:
    """Where the PBX posts, without the secret path: what the user needs to recognise."""
    return config.webhook_url().removesuffix(config.webhook_path())


class _SaveFailed(Exception):
    def __init__(self, summary: str, field: str = "", detail: str = "") -> None:
        super().__init__(summary)
        self.summary = summary
        self.field = field
        self.detail = detail


class SettingsDialog(QDialog):
    """The settings as tabs, or with ``first_run`` a three-step wizard over the same fields.

    The async methods (`save`, `test_key`, `send_test_event`, `load_key_status`) are public so
    tests can await them; the buttons start them through `tasks`. ``autostart_platform`` and
    ``autostart_base`` choose where "start at login" is written (see `bulutpop.autostart`).
    """

    def __init__(
        self,
        bridge: CoreBridge,
        first_run: bool = False,
        parent: QWidget | None = None,
        *,
        autostart_platform: str | None = None,
        autostart_base: Path | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._keys = bridge.core.keys
        self.first_run = first_run
        self.tasks = TaskSet()
        self._autostart_platform = autostart_platform
        self._autostart_base = autostart_base
        self._key_status: KeyStatus | None = None
        # Until the user tries to go on, a required field that is still empty is not an error
        # worth shouting about (in the wizard); malformed values are flagged at once.
        self._insist = not first_run
        self._busy = False
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        self.setStyleSheet(_STYLE % (_DARK if dark else _LIGHT))
        self.setWindowTitle(self.tr("bulutpop setup") if first_run else self.tr("Settings"))

        self._fields: dict[str, _Field] = {}
        self._inputs: dict[str, Callable[[], str]] = {}
        self._make_fields()

        if first_run:
            self._build_wizard()
        else:
            self._build_tabs()
        self._validate()
        self.tasks.start(self.load_key_status(), name="settings-key-status")

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

    def _field(self, key: str, *widgets: QWidget, hint: str = "", stretch: bool = True) -> _Field:
        field = _Field(*widgets, hint=hint, stretch=stretch)
        self._fields[key] = field
        return field

    def _make_fields(self) -> None:
        config = self._bridge.config

        # The API key: never shown, replaced only when the user types a new one.
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText(self.tr("Paste the key from the PBX web portal"))
        self.key_edit.textChanged.connect(self._validate)
        self.test_key_button = QPushButton(self.tr("Test"))
        self.test_key_button.setToolTip(self.tr("Ask the PBX whether it accepts this key"))
        self.test_key_button.clicked.connect(
            lambda: self.tasks.start(self.test_key(), name="settings-test-key")
        )
        self._field("api_key", self.key_edit, self.test_key_button)
        self.key_state = _label(self.tr("Checking the keyring…"), small=True)
        self.key_hint = _label(
            self.tr(
                "You find it in the Bulutsantralim web portal, on the settings page. Treat it "
                "like a password: it can place calls and play recordings for the whole PBX."
            ),
            "hint",
            small=True,
        )
        self.key_warning = _Notice()
        self.key_warning.set_text("")
        self.key_result = _Status()
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
        self.webhook_notice = _Notice()
        self.test_event_button = QPushButton(self.tr("Send test event"))
        self.test_event_button.setToolTip(
            self.tr("Post the PBX's address check to this URL and see whether it arrives here")
        )
        self.test_event_button.clicked.connect(
            lambda: self.tasks.start(self.send_test_event(), name="settings-test-event")
        )
        self.event_result = _Status()
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

        self.form_error = _Status()

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
        form = _form()
        form.addRow(self.tr("API key"), self._key_block())
        form.addRow(self.tr("Your extension"), self._fields["extension"])
        form.addRow(self.tr("Also pop up for"), self._fields["watch"])
        return form

    def _receiver_form(self) -> QFormLayout:
        form = _form()
        form.addRow(self.tr("Listen on address"), self._fields["listen_host"])
        form.addRow(self.tr("Port"), self._fields["listen_port"])
        form.addRow(self.tr("Public URL"), self._fields["public_url"])
        return form

    def _webhook_block(self) -> QWidget:
        block = QWidget()
        layout = QVBoxLayout(block)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        title = _label(self.tr("Notification URL for the PBX"), "section")
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
            steps_layout.addWidget(_label(line, small=True))
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

    def _popup_form(self) -> QFormLayout:
        form = _form()
        form.addRow(self.tr("Pop-up corner"), self._fields["popup_corner"])
        form.addRow(self.tr("Sound"), self._fields["ring_sound"])
        form.addRow(self.tr("CRM link"), self._fields["crm_url"])
        form.addRow(self.tr("Language"), self._fields["language"])
        form.addRow(self.tr("Startup"), self._fields["autostart"])
        return form

    # --- layouts ------------------------------------------------------------------------------

    def _build_tabs(self) -> None:
        self.tabs = QTabWidget()
        self.tabs.addTab(_page(self._account_form()), self.tr("Account"))
        self.tabs.addTab(
            _page(self._receiver_form(), self._webhook_block()), self.tr("Notifications")
        )
        self.tabs.addTab(_page(self._popup_form()), self.tr("Preferences"))

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
        self.step_label = _label("", "step", small=True)
        self.title_label = _label("", "title")
        title_font = QFont(self.title_label.font())
        title_font.setPointSizeF(title_font.pointSizeF() * 1.35)
        self.title_label.setFont(title_font)
        self.subtitle_label = _label()
        header = QFrame()
        header.setObjectName("wizardHeader")
        header_layout = QVBoxLayout(header)
        header_layout.setContentsMargins(22, 18, 22, 14)
        header_layout.setSpacing(4)
        header_layout.addWidget(self.step_label)
        header_layout.addWidget(self.title_label)
        header_layout.addWidget(self.subtitle_label)

        self.summary = _Status()
        self.pages = QStackedWidget()
        self.pages.addWidget(_page(self._account_form()))
        self.pages.addWidget(_page(self._receiver_form(), self._webhook_block()))
        self.pages.addWidget(
            _page(self.summary, _label(self.tr("Preferences"), "section"), self._popup_form())
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
        self.summary.show_result(
            "ok",
            self.tr("Extension %1 · the PBX sends calls to %2")
            .replace("%1", config.extension)
            .replace("%2", _address(config)),
        )

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
        elif self._insist and self.first_run and self._key_status_is("none"):
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
        where = _address(config)
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
        except _SaveFailed as failed:
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
                raise _SaveFailed(
                    self.tr("The API key was not saved."), "api_key", str(exc)
                ) from None
            self.key_edit.clear()
            await self.load_key_status()
        # Folded onto the settings as they are now: the tray may have changed one (pausing
        # pop-ups) while the keyring was busy.
        config, errors = self._parse()
        if errors:
            raise _SaveFailed(self.tr("Fix the highlighted fields first."))
        if config != self._bridge.config:
            try:
                await self._bridge.save_config(config)
            except OSError as exc:
                raise _SaveFailed(
                    self.tr("Could not save the settings: %1").replace(
                        "%1", exc.strerror or str(exc)
                    )
                ) from None
        wanted = self.autostart_check.isChecked()
        if wanted != self._autostart_enabled():
            try:
                self._set_autostart(wanted)
            except autostart.AutostartError as exc:
                raise _SaveFailed(
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

"""The "Notifications" tab, also the wizard's second page: where this app listens for the
PBX's call events, the notification URL to enter in the PBX's web portal (with the steps to
get there), and a test event posted to that URL the way the PBX posts."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout, QWidget

from bulutpop.local.config import Config
from bulutpop.local.net import reachable_from_internet
from bulutpop.pbx.receiver import PROBE_SECONDS, probe
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.settings.shared import (
    Notice,
    SettingsTab,
    Status,
    StatusTone,
    address,
    form_layout,
    text_label,
)

# The fields that make up the notification URL.
ADDRESS_FIELDS = ("listen_host", "listen_port", "public_url")


class NotificationsTab(SettingsTab):
    """The address the PBX posts to, the URL it makes, and a test of it."""

    def __init__(self, bridge: CoreBridge, tasks: TaskSet) -> None:
        super().__init__(bridge, tasks)
        config = bridge.config

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

        webhook = self._webhook_block()
        self._key_widgets.append(webhook)
        self._lay_out(self._team_notice(), self._receiver_form(), webhook)

    def show_address(self, typed: Config | None, *, busy: bool) -> None:
        """Show the URL the fields make, and what to do with it; `typed` is None while one
        of them is wrong (the last good URL stays). No test event while the dialog is `busy`
        saving."""
        if typed is not None:
            self.webhook_url_edit.setText(typed.webhook_url())
            self.webhook_url_edit.setCursorPosition(0)
            self._update_webhook_advice(typed)
        self.test_event_button.setEnabled(typed is not None and not busy)

    def _update_webhook_advice(self, config: Config) -> None:
        self.fields["public_url"].set_hint(
            self.tr(
                "The address of your tunnel or router that forwards to port %1 of this PC. "
                "Leave empty if the PBX can reach this PC directly."
            ).replace("%1", str(config.listen_port))
        )
        if reachable_from_internet(config.webhook_url()):
            self.webhook_notice.set_text("")
        else:
            self.webhook_notice.set_text(
                self.tr(
                    "This address works on this PC or your own network only, and the PBX is "
                    "on the internet. Set a public URL (a tunnel such as Cloudflare Tunnel or "
                    "ngrok, or a forwarded port) so that the PBX can reach bulutpop."
                )
            )

    def copy_webhook_url(self) -> None:
        QGuiApplication.clipboard().setText(self.webhook_url_edit.text())
        self.event_result.show_result("ok", self.tr("Copied. Paste it into the PBX's web portal."))

    async def send_test_event(self) -> str:
        """Post the PBX's address check (`{}`) to the URL the PBX would use; say what happened."""
        # The URL is made of this tab's fields alone.
        errors: dict[str, str] = {}
        config = self.typed(self._bridge.config, errors)
        if errors.keys() & set(ADDRESS_FIELDS):
            text = self.tr("Fix the highlighted fields first.")
            self.event_result.show_result("error", text)
            return text
        self.test_event_button.setEnabled(False)
        self.event_result.show_result("busy", self.tr("Sending…"))
        try:
            tone, text = await self.check_address(config)
        finally:
            self.test_event_button.setEnabled(True)
        self.event_result.show_result(tone, text)
        return text

    async def check_address(self, config: Config) -> tuple[StatusTone, str]:
        """Post the PBX's address check to `config`'s notification URL: "ok" only when it
        reached this app through an address the PBX on the internet can use."""
        where = address(config)
        result = await probe(config.webhook_url())
        match result.outcome:
            case "reached" if not reachable_from_internet(config.webhook_url()):
                # Reaching ourselves through 127.0.0.1 proves nothing about the PBX.
                return "warning", self.tr(
                    "Reached this app at %1, but only from this PC or your own network: the "
                    "PBX, on the internet, cannot use this address. Set a public URL (a "
                    "tunnel or a forwarded port) and test again."
                ).replace("%1", where)
            case "reached":
                return "ok", self.tr(
                    "Reached this app through the public address %1, as the PBX will."
                ).replace("%1", where)
            case "unknown_host":
                text = self.tr("The name in %1 cannot be resolved: check the address.")
            case "untrusted":
                text = self.tr("%1 presented a certificate this PC does not trust.")
            case "refused":
                text = self.tr(
                    "Nothing is listening at %1 (connection refused). If you changed the "
                    "address or port, save first; if it is a tunnel, check that it is running."
                )
            case "unreachable":
                text = self.tr("Could not connect to %1: %2").replace("%2", result.detail)
            case "timeout":
                text = self.tr("No answer from %1 within %2 s.").replace("%2", f"{PROBE_SECONDS:g}")
            case "redirect":
                text = self.tr(
                    "%1 redirects to %2: the PBX does not follow redirects, use the final address."
                ).replace("%2", result.location or "?")
            case "not_this_app":
                text = self.tr("The URL reaches a server, but not this app — check the path.")
            case "proxy":
                text = (
                    self.tr(
                        "%1 answered HTTP %2: a tunnel or proxy is there, but it cannot reach "
                        "this app. Check that it forwards to port %3."
                    )
                    .replace("%2", str(result.status))
                    .replace("%3", str(config.listen_port))
                )
            case _:
                text = self.tr("%1 answered HTTP %2 instead of 200.").replace(
                    "%2", str(result.status)
                )
        return "error", text.replace("%1", where)

    def _receiver_form(self) -> QWidget:
        form = form_layout()
        form.addRow(self.tr("Listen on address"), self.fields["listen_host"])
        form.addRow(self.tr("Port"), self.fields["listen_port"])
        form.addRow(self.tr("Public URL"), self.fields["public_url"])
        block = QWidget()
        block.setLayout(form)
        self._key_widgets.append(block)
        return block

    def _webhook_block(self) -> QWidget:
        block = QWidget()
        layout = QVBoxLayout(block)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        title = text_label(self.tr("Notification URL for the PBX"), "section")
        title.setBuddy(self.fields["webhook_url"])  # the field's name for screen readers
        layout.addWidget(title)
        layout.addWidget(self.fields["webhook_url"])
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

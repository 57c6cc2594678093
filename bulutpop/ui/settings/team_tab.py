"""The "Team" tab: joining the office's team server with the invite the administrator gave
(the invite's secret goes to the keyring like the API key, the rest into the settings), the
team's details and the state of the link, and leaving. The wizard offers the joining part on
its first page.

In team mode the events come from the team server, so the other tabs hide what needs the API
key; the dialog shows that once this tab says a join or a leave is over (`membershipChanged`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from bulutpop.errors import BulutpopError, InviteError
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.errors import describe_error
from bulutpop.ui.common.tasks import TaskSet
from bulutpop.ui.common.widgets import dialog_result
from bulutpop.ui.settings.shared import SettingsTab, Status, StatusTone, form_layout, text_label
from bulutpop.ui.tray import describe_team

log = logging.getLogger(__name__)

if TYPE_CHECKING:
    from bulutpop.team.link import TeamStatus
    from bulutpop.team.protocol import Invite

# Asked before leaving the team -> go ahead?
LeaveConfirm = Callable[[], Awaitable[bool]]


class TeamTab(SettingsTab):
    """Joining and leaving the team. With ``wizard``, only a button that opens the invite
    field, for the wizard's first page (no margins of its own: it sits under the account
    fields). ``confirm_leave`` replaces the confirmation box."""

    # Joined: the settings hold the invite's extension now.
    joined = Signal()
    # A join or a leave is over (or failed): show what team mode changes.
    membershipChanged = Signal()

    def __init__(
        self,
        bridge: CoreBridge,
        tasks: TaskSet,
        *,
        wizard: bool = False,
        confirm_leave: LeaveConfirm | None = None,
    ) -> None:
        super().__init__(bridge, tasks)
        self._wizard = wizard
        # None: the real box. (Not the bound method stored here: a widget that refers to
        # itself is only freed by the garbage collector, at any later moment.)
        self._confirm_leave = confirm_leave
        self._team_busy = False
        self.invite_edit = QPlainTextEdit()
        self.invite_edit.setPlaceholderText(self.tr("Paste the invite (bulutpop-team:…)"))
        self.invite_edit.setTabChangesFocus(True)
        self.invite_edit.setFixedHeight(4 * self.invite_edit.fontMetrics().height() + 14)
        self.invite_edit.textChanged.connect(self._check_invite)
        self.invite_result = Status()
        self.join_button = self._task_button(self.tr("Join"), self.join_team, "settings-join-team")
        self.join_button.setEnabled(False)
        self.team_result = Status()
        join = self._team_join_block()
        if wizard:
            # An agent whose office runs a team server has an invite, not an API key.
            self.team_toggle = QPushButton(self.tr("I have a team invite"))
            self.team_toggle.setFlat(True)
            self.team_toggle.setCheckable(True)
            self.team_toggle.setCursor(Qt.CursorShape.PointingHandCursor)
            join.setVisible(False)
            self.team_toggle.toggled.connect(join.setVisible)
            toggle_row = QHBoxLayout()
            toggle_row.addWidget(self.team_toggle)
            toggle_row.addStretch(1)
            layout = self._lay_out(toggle_row, join, self.team_result, stretch=False)
            layout.setContentsMargins(0, 0, 0, 0)
        else:
            self.team_intro = text_label(
                self.tr(
                    "If your office shares its PBX through a team server, paste the invite your "
                    "administrator gave you. Calls then reach this PC through the team server, and "
                    "dialling and recordings go through it too: no API key or notification URL is "
                    "needed here."
                ),
                "hint",
            )
            self.team_agent_label = text_label()
            self.team_display_label = text_label()
            self.team_extension_label = text_label()
            self.team_queues_label = text_label()
            self.team_relay_label = text_label()
            self.team_relay_label.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse
            )
            self.team_link_state = Status()
            self.leave_button = self._task_button(
                self.tr("Leave the team"), self.leave_team, "settings-leave-team"
            )
            self.team_info = QWidget()
            form = form_layout()
            form.addRow(text_label(self.tr("Your team"), "section"))
            form.addRow(self.tr("Agent"), self.team_agent_label)
            form.addRow(self.tr("Name"), self.team_display_label)
            form.addRow(self.tr("Extension"), self.team_extension_label)
            form.addRow(self.tr("Shared queues"), self.team_queues_label)
            form.addRow(self.tr("Team server"), self.team_relay_label)
            form.addRow(self.tr("Connection"), self.team_link_state)
            leave = QHBoxLayout()
            leave.addWidget(self.leave_button)
            leave.addStretch(1)
            form.addRow(leave)
            self.team_info.setLayout(form)
            self._lay_out(self.team_intro, self.team_info, join, self.team_result)
            bridge.teamChanged.connect(self._show_team_link)
            bridge.namesChanged.connect(self._show_queues)

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

    def show_team_mode(self, team: bool) -> None:
        super().show_team_mode(team)
        self.invite_title.setText(
            self.tr("Replace with a new invite") if team else self.tr("Join a team")
        )
        if self._wizard:
            return  # the wizard shows no team details
        config = self._bridge.config
        self.team_info.setVisible(team)
        self.team_agent_label.setText(config.team_agent)
        self.team_display_label.setText(config.team_display or "—")
        self.team_extension_label.setText(config.extension)
        self.team_relay_label.setText(config.team_relay)
        self._show_queues()
        self._show_team_link(self._bridge.team_status)

    def _show_queues(self) -> None:
        """The invite's queues, each with its name once the team server has sent them."""
        names = self._bridge.queue_names()
        queues = [
            self.tr("%1 (%2)").replace("%1", q).replace("%2", names[q]) if names.get(q) else q
            for q in self._bridge.config.team_queues
        ]
        self.team_queues_label.setText(", ".join(queues) or self.tr("None"))

    def _show_team_link(self, status: TeamStatus | None) -> None:
        if status is None or not self._bridge.config.team_mode:
            self.team_link_state.show_result("", self.tr("Not connected"))
            return
        tones: dict[str, StatusTone] = {
            "connected": "ok",
            "reconnecting": "warning",
            "refused": "error",
            "removed": "error",
        }
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
            from bulutpop.team.protocol import Invite

            try:
                invite = Invite.parse(text)
            except InviteError as exc:
                self.invite_result.show_result("error", describe_error(exc))
            else:
                self.invite_result.show_result(
                    "ok",
                    self.tr("Invite for agent %1, extension %2, team server %3.")
                    .replace(
                        "%1",
                        f"{invite.agent} ({invite.display})" if invite.display else invite.agent,
                    )
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
        if not self._wizard:  # which has no Leave button
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
        tone: StatusTone
        try:
            await self._bridge.join_team(invite)
        except Exception as exc:  # whatever it was, it is said, and the buttons come back
            if not isinstance(exc, BulutpopError | OSError):
                log.exception("joining the team failed")
            tone = "error"
            text = self.tr("Not joined: %1").replace("%1", describe_error(exc))
        else:
            # The secret is not left lying in the field.
            self.invite_edit.clear()
            self.joined.emit()
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
        self.membershipChanged.emit()
        self.team_result.show_result(tone, text)
        return text

    async def leave_team(self) -> str:
        """Leave the team once the user confirmed: the secret is deleted from the keyring
        and this PC goes back to its own API key and notification URL."""
        if not await (self._confirm_leave or self._ask_leave)():
            return ""
        self._set_team_busy(True)
        tone: StatusTone
        try:
            await self._bridge.leave_team()
        except Exception as exc:
            if not isinstance(exc, BulutpopError | OSError):
                log.exception("leaving the team failed")
            tone = "error"
            text = self.tr("Could not leave the team: %1").replace("%1", describe_error(exc))
        else:
            tone = "ok"
            text = self.tr(
                "You left the team. To receive calls, this PC needs an API key and a "
                "notification URL of its own again."
            )
        finally:
            self._set_team_busy(False)
        self.membershipChanged.emit()
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

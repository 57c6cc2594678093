"""The wizard's first page: does this PC join the office's team with the invite the
administrator gave (the whole setup, and the usual case for an agent), or connect to the
PBX on its own with the API key (the administrator's way)? It also says, before anything is
typed, when this PC has no keyring to keep a credential in, and what to do about it."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from bulutpop.errors import KeyringUnavailable
from bulutpop.ui.settings.shared import Notice, text_label
from bulutpop.ui.settings.team_tab import TeamTab


class StartPage(QWidget):
    """The choice between the team's invite (`team_choice`, with `team_tab`'s invite field
    under it) and this PC's own connection (`solo_choice`), and the keyring notice."""

    # The user chose the other way.
    choiceChanged = Signal()
    # "Check again" for a keyring, after one was installed or unlocked.
    recheckKeyring = Signal()

    def __init__(self, team_tab: TeamTab) -> None:
        super().__init__()
        self.team_tab = team_tab
        self.keyring_notice = Notice()
        self.keyring_notice.set_text("")
        self.recheck_button = QPushButton(self.tr("Check again"))
        self.recheck_button.clicked.connect(self.recheckKeyring)
        self.recheck_button.hide()

        self.team_choice = QRadioButton(self.tr("Yes, I have a team invite"))
        self.team_hint = text_label(
            self.tr(
                "Paste the whole line your administrator sent (it starts with "
                "bulutpop-team:) and press Join. That is all this PC needs: no API key, no "
                "address for the PBX."
            ),
            "hint",
            small=True,
        )
        self.solo_choice = QRadioButton(
            self.tr("No, connect this PC to the PBX directly (for administrators)")
        )
        self.solo_hint = text_label(
            self.tr(
                "Needs the PBX's API key, and an address on the internet through which the PBX "
                "reaches this PC (a tunnel or a forwarded port). Agents: ask your administrator "
                "for a team invite instead."
            ),
            "hint",
            small=True,
        )
        self.choices = QButtonGroup(self)
        self.choices.addButton(self.team_choice)
        self.choices.addButton(self.solo_choice)
        self.team_choice.setChecked(True)
        self.choices.buttonToggled.connect(self._on_choice)

        # The invite field and Join, always open under the team choice.
        team_tab.team_toggle.setChecked(True)
        team_tab.team_toggle.hide()
        team_box = QWidget()
        team_layout = QVBoxLayout(team_box)
        team_layout.setContentsMargins(24, 0, 0, 0)
        team_layout.setSpacing(6)
        team_layout.addWidget(self.team_hint)
        team_layout.addWidget(team_tab)
        self.team_box = team_box
        solo_box = QWidget()
        solo_layout = QVBoxLayout(solo_box)
        solo_layout.setContentsMargins(24, 0, 0, 0)
        solo_layout.addWidget(self.solo_hint)

        recheck_row = QHBoxLayout()
        recheck_row.addStretch(1)
        recheck_row.addWidget(self.recheck_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(18, 16, 18, 16)
        layout.setSpacing(10)
        layout.addWidget(self.keyring_notice)
        layout.addLayout(recheck_row)
        layout.addWidget(self.team_choice)
        layout.addWidget(team_box)
        layout.addSpacing(6)
        layout.addWidget(self.solo_choice)
        layout.addWidget(solo_box)
        layout.addStretch(1)
        self._on_choice()

    @property
    def team(self) -> bool:
        """Whether the user chose the team's invite."""
        return self.team_choice.isChecked()

    def _on_choice(self) -> None:
        self.team_box.setEnabled(self.team)
        self.choiceChanged.emit()

    def show_keyring(self, problem: KeyringUnavailable | None) -> None:
        """Say that this PC has nowhere safe to keep a credential, when that is so. A
        locked or failing keyring is told where the key is typed; this is for none at all
        (or only a plaintext one), which no credential can be stored in."""
        if problem is None or problem.problem not in ("unavailable", "insecure"):
            self.keyring_notice.set_text("")
            self.recheck_button.hide()
            return
        self.keyring_notice.set_text(
            self.tr(
                "This PC has no keyring to keep bulutpop's credentials in (such as GNOME "
                "Keyring or KWallet), and bulutpop never writes them to a file. Ask whoever "
                "looks after this PC to install one (on Debian, Ubuntu or Mint: the "
                "gnome-keyring package), then log out and back in, and press Check again."
            )
        )
        self.recheck_button.show()

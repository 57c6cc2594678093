"""The core as the Qt shell sees it: tracker changes as Qt signals, and the services widgets
call. Widgets receive a bridge (never reach for globals), so a test hands them one built
over a real core in a temporary directory."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from bulutpop.app.core import Core
from bulutpop.calls.tracker import Change
from bulutpop.local.config import Config
from bulutpop.pbx.catchup import CatchUp, CatchUpStatus
from bulutpop.pbx.dialer import Dialer
from bulutpop.pbx.phonebook import PhoneBook
from bulutpop.pbx.recordings import RecordingCache

if TYPE_CHECKING:  # bulutpop.team.link loads the MQTT client: only in team mode, when used
    from bulutpop.team.link import Claim, Invite, TeamStatus


class CoreBridge(QObject):
    # A call changed (Change: .call, .event, .missed_changed).
    changed = Signal(object)
    # The missed-call list moved: a new missed call, a resolution, a "done" or its undo.
    missedChanged = Signal()
    # Settings were saved (the new Config).
    configChanged = Signal(object)
    # Names for numbers or queues may have changed: a phonebook sync, an address book
    # imported or removed, a name edited by the user. Open windows look them up again.
    namesChanged = Signal()
    # The catch-up from the PBX's call history moved on (CatchUpStatus).
    catchUpChanged = Signal(object)
    # The link to the team's broker moved on (TeamStatus; None when no link runs).
    teamChanged = Signal(object)

    def __init__(self, core: Core, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.dialer = Dialer(core)
        self.recordings = RecordingCache(core.dirs.cache / "recordings")
        # Both services are idle until the app runs their loops (`run_forever`); windows
        # and tests use their one-shot methods directly.
        self.catchup = CatchUp(core.tracker, core.api, history_days=core.config.history_days)
        self.phonebook = PhoneBook(core.tracker, core.api)
        self._queues = self.phonebook.queue_names()
        # The PBX's outbound numbers, once asked for (`load_caller_ids`).
        self.caller_ids: tuple[str, ...] = ()
        self._team_status: TeamStatus | None = None
        # Counts joins and leaves: a new invite for the same agent (a new secret) leaves the
        # settings as they were, yet the link must start again with the new secret.
        self.team_generation = 0
        self._unsubscribe: list[Callable[[], None]] = [
            core.tracker.subscribe(self._on_change),
            self.catchup.subscribe(self.catchUpChanged.emit),
            self.phonebook.subscribe(self._on_names),
        ]

    @property
    def config(self) -> Config:
        return self.core.config

    @property
    def catchup_status(self) -> CatchUpStatus:
        return self.catchup.status

    @property
    def team_status(self) -> TeamStatus | None:
        """The team link's state as last reported; None outside team mode."""
        return self._team_status

    def set_team_status(self, status: TeamStatus | None) -> None:
        """The team link's `on_status` callback (it runs on the loop, the Qt thread)."""
        self._team_status = status
        self.teamChanged.emit(status)

    def detach(self) -> None:
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    def _on_change(self, change: Change) -> None:
        # Listeners run on the loop thread, which under qasync is the Qt main thread.
        if change.call is not None:
            self.changed.emit(change)
        if change.missed_changed:
            self.missedChanged.emit()

    def _on_names(self) -> None:
        self._queues = self.phonebook.queue_names()
        self.namesChanged.emit()

    async def save_config(self, config: Config) -> None:
        await self.core.update_config(config)
        self.configChanged.emit(config)

    # -- names ------------------------------------------------------------------------------

    def contact_for(self, number: str) -> tuple[str, str] | None:
        """(name, company) for a number however written: the user's own edit, else an
        address book, else the name the PBX's history gave the caller; None if unknown."""
        return self.phonebook.name_for(number)

    def name_for(self, number: str) -> str:
        """The name to show for a number ("" when unknown)."""
        contact = self.contact_for(number)
        return contact[0] if contact else ""

    def contacts_for(self, keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        """`contact_for` for a page of canonical keys in one query; unknown ones left out."""
        return self.core.store.names_for(keys)

    async def set_local_name(self, number: str, name: str) -> None:
        """Show `name` for this number from now on; "" goes back to the address books."""
        await self.phonebook.set_local_name(number, name)

    def queue_name(self, number: str) -> str:
        """A queue as people know it, "Satış (200)"; the bare number when its name is not
        known (yet)."""
        name = self._queues.get(number.strip(), "")
        return f"{name} ({number})" if name else number

    def queue_names(self) -> dict[str, str]:
        """Queue number -> name, as last fetched from the PBX."""
        return dict(self._queues)

    # -- PBX ----------------------------------------------------------------------------

    async def load_caller_ids(self) -> tuple[str, ...]:
        """Ask the PBX which outbound numbers may be presented; kept for the tray menu.
        Raises PbxError or MissingSetup."""
        self.caller_ids = tuple(await self.core.api().caller_ids())
        return self.caller_ids

    # -- team mode ----------------------------------------------------------------------------

    def claims(self) -> dict[str, Claim]:
        """Callers a colleague (or this PC) is calling back now, by party key."""
        from bulutpop.team.link import claims

        return claims(self.core.tracker, self.config.team_agent)

    async def claim(self, party_key: str) -> str:
        """Tell the team "I'm calling this caller back"; how colleagues see the claimer.
        Raises TeamError (status 409: a colleague already claimed them) or MissingSetup."""
        from bulutpop.team.link import claim

        loop = asyncio.get_running_loop()
        secret = await loop.run_in_executor(None, self.core.team_secret)
        return await claim(self.config, secret, party_key)

    async def join_team(self, invite: Invite) -> None:
        """Store the invite's secret in the keyring (never the config file), then switch the
        settings to team mode. Raises KeyStoreError or OSError."""
        loop = asyncio.get_running_loop()
        self.core.redactor.add(invite.secret)
        await loop.run_in_executor(None, self.core.team_keys.set, invite.secret)
        self.team_generation += 1
        await self.save_config(invite.apply(self.config))

    async def leave_team(self) -> None:
        """Forget the team secret and leave team mode. Raises KeyStoreError or OSError."""
        from bulutpop.team.link import leave

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.core.team_keys.delete)
        self.team_generation += 1
        await self.save_config(leave(self.config))

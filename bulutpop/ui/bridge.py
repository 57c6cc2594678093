"""The core as the Qt shell sees it: the one facade windows use. Tracker changes and the
runtime's states arrive as Qt signals; reads and actions are methods here, so no window
reaches into the store, the tracker or the PBX client. Widgets receive a bridge (never
reach for globals), so a test hands them one built over a real core in a temporary
directory. Every keyring call runs off the UI thread."""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from bulutpop.app.core import Core
from bulutpop.app.runtime import Runtime, ServiceState
from bulutpop.calls.alerts import ring_is_news
from bulutpop.calls.model import Call, MissedGroup
from bulutpop.calls.tracker import Change
from bulutpop.errors import BulutpopError
from bulutpop.local.config import Config
from bulutpop.local.keys import KeyStatus
from bulutpop.pbx.catchup import CatchUp, CatchUpStatus
from bulutpop.pbx.client import CrmSettings, RegisterResult, register_webhook
from bulutpop.pbx.dialer import Dialer
from bulutpop.pbx.phonebook import PhoneBook
from bulutpop.storage.history import HistoryFilter, history_terms
from bulutpop.storage.store import ContactSource, Note, Store

if TYPE_CHECKING:  # bulutpop.team.link loads the MQTT client: only in team mode, when used
    from bulutpop.team.link import Claim, TeamStatus
    from bulutpop.team.protocol import Invite

log = logging.getLogger(__name__)


def missed_with_names(
    store: Store, include_resolved: bool, limit: int
) -> tuple[list[MissedGroup], dict[str, tuple[str, str]], dict[str, Note]]:
    """The missed-call groups, (name, company) and notes for their callers, in one go; safe
    on a worker thread (it touches no Qt object)."""
    groups = store.missed_groups(include_resolved=include_resolved, limit=limit)
    keys = [group.number for group in groups]
    return groups, store.names_for(keys), store.notes_for(keys)


# A burst (a team PC's backlog, a catch-up) moves the missed list thousands of times a
# second: the tray count and the list are told at most this often, the first change at once.
MISSED_COALESCE_MS = 150


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
    # A background service changed state (ServiceState: receiver, team, catchup, …).
    serviceChanged = Signal(object)
    # A number's records were deleted (KVKK erasure): lists showing its calls read again.
    recordsDeleted = Signal()
    # A caller's note was written on this PC (a colleague's arrives as missedChanged).
    notesChanged = Signal()

    def __init__(self, core: Core, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.core = core
        # The background services; the app starts it, windows and tests may leave it idle
        # and use the catch-up's and the phonebook's one-shot methods.
        self.runtime = Runtime(core)
        self.runtime.forget = self.forget  # the relay's requests refresh the windows too
        self.dialer = Dialer(core)
        self._queues = self.phonebook.queue_names()
        # The PBX's outbound numbers, once asked for (`load_caller_ids`).
        self.caller_ids: tuple[str, ...] = ()
        self._team_status: TeamStatus | None = None
        # What time it is for `ring_is_news` (a test may set a clock of its own).
        self.clock: Callable[[], float] = time.time
        # missedChanged is held back while this runs; one more follows if the list moved.
        self._missed_timer = QTimer(self)
        self._missed_timer.setSingleShot(True)
        self._missed_timer.setInterval(MISSED_COALESCE_MS)
        self._missed_timer.timeout.connect(self._missed_quiet)
        self._missed_held = False
        self._missed_told = asyncio.Event()  # set while nothing is held back
        self._missed_told.set()
        self._unsubscribe: list[Callable[[], None]] = [
            core.tracker.subscribe(self._on_change),
            self.catchup.subscribe(self.catchUpChanged.emit),
            self.phonebook.subscribe(self._on_names),
            self.runtime.subscribe(self._on_service),
        ]

    @property
    def catchup(self) -> CatchUp:
        return self.runtime.catchup

    @property
    def phonebook(self) -> PhoneBook:
        return self.runtime.phonebook

    @property
    def config(self) -> Config:
        return self.core.config

    @property
    def catchup_status(self) -> CatchUpStatus:
        return self.catchup.status

    @property
    def team_status(self) -> TeamStatus | None:
        """The team link's state as last reported; None when no link runs."""
        return self._team_status

    def set_team_status(self, status: TeamStatus | None) -> None:
        """What the team link reports reaches the windows (through `teamChanged`)."""
        self._team_status = status
        self.teamChanged.emit(status)

    def _on_service(self, state: ServiceState) -> None:
        # Runtime listeners run on the loop thread, which under qasync is the Qt thread.
        self.serviceChanged.emit(state)
        if state.name == "team":
            link = self.runtime.link
            self.set_team_status(link.status if link is not None else None)

    def detach(self) -> None:
        self._missed_timer.stop()
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()

    def _on_change(self, change: Change) -> None:
        # Listeners run on the loop thread, which under qasync is the Qt main thread.
        if change.call is not None:
            self.changed.emit(change)
        if change.missed_changed:
            # The user's own actions (done, undo) come without a call: shown at once.
            self._missed_moved(hold=change.call is not None)
        if change.call is None and self.config.team_mode:
            # The team's relay may have sent the office's names (the team link has no
            # phonebook of its own to tell): read them again.
            self._on_names()

    def _missed_moved(self, hold: bool) -> None:
        """Tell missedChanged at once, then, for calls coming in, at most once per
        MISSED_COALESCE_MS."""
        if hold and self._missed_timer.isActive():
            self._missed_held = True
            self._missed_told.clear()
            return
        self._tell_missed()

    async def missed_told(self) -> None:
        """Wait until every change of the missed list so far has been signalled."""
        await self._missed_told.wait()

    def _missed_quiet(self) -> None:
        if self._missed_held:
            self._tell_missed()

    def _tell_missed(self) -> None:
        """Signal missedChanged now and hold the next ones for MISSED_COALESCE_MS."""
        self._missed_held = False
        self._missed_told.set()
        self._missed_timer.start()
        self.missedChanged.emit()

    def ring_is_news(self, call: Call) -> bool:
        """Whether a call its `ringing` event just changed should pop up and ring: the
        core's rule (`calls.alerts`) over the call as stored now (its hangup may have come
        in the same burst)."""
        mine, now = self.config.my_extensions, self.clock()
        # The store is asked only about a ring that is news by itself (a backlog's are not).
        return ring_is_news(call, None, mine, now) and ring_is_news(
            call, self.core.store.call(call.call_uuid), mine, now
        )

    def _on_names(self) -> None:
        self._queues = self.phonebook.queue_names()
        self.namesChanged.emit()

    # -- calls (reads, on any thread: the store gives each thread its own connection) ---------

    def history_terms(self, wanted: HistoryFilter) -> dict[str, Any]:
        """The store's terms for a history filter (see `calls`, `count_calls`)."""
        return history_terms(self.core.store, wanted)

    def calls(self, terms: dict[str, Any], limit: int, offset: int = 0) -> list[Call]:
        return self.core.store.calls(limit=limit, offset=offset, **terms)

    def count_calls(self, terms: dict[str, Any]) -> int:
        return self.core.store.count_calls(**terms)

    def recent_calls(self, limit: int) -> list[Call]:
        return self.core.store.calls(limit=limit)

    def history_for(self, party_key: str, before_ts: float | None) -> tuple[int, float | None]:
        """How often this party called or was called before, and when last."""
        return self.core.store.history_for(party_key, before_ts)

    def open_missed_count(self) -> int:
        return self.core.store.open_missed_count()

    def missed_reader(self) -> Callable[[bool, int], tuple[list[MissedGroup], Any, Any]]:
        """A function giving the missed groups and their names, for a worker thread: it
        holds the store only (a Qt object dropped there would be destroyed there)."""
        return functools.partial(missed_with_names, self.core.store)

    async def mark_done(self, party_key: str) -> float:
        """Resolve a caller's open missed calls; returns the mark `undo_done` takes. In a
        team, a shared queue's caller is resolved on every member's PC too."""
        at = await self.core.tracker.mark_done(party_key)
        await self._share_done(party_key, at, undo=False)
        return at

    async def undo_done(self, party_key: str, at: float) -> None:
        await self.core.tracker.undo_done(party_key, at)
        await self._share_done(party_key, at, undo=True)

    async def _share_done(self, party_key: str, at: float, *, undo: bool) -> None:
        if not self.config.team_mode:
            return
        from bulutpop.team.link import share_done

        try:
            await share_done(self.config, self.core.team_secret(), party_key, at, undo)
        except BulutpopError as exc:  # the mark stands here; colleagues' lists keep theirs
            log.warning("could not tell the team about a done mark: %s", exc)

    def calls_with(self, number_key: str) -> int:
        """How many calls the store has with this number as the other party."""
        return self.core.store.history_for(number_key, math.inf)[0]

    async def forget(self, number_key: str) -> None:
        """Delete every record of this number on this PC (KVKK erasure); open windows
        drop it."""
        await self.core.forget(number_key)  # the tracker tells the missed list
        self.recordsDeleted.emit()
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

    def local_name(self, number_key: str) -> str:
        """The user's own name for a number ("" when they gave none)."""
        return self.core.store.local_name(number_key)

    def address_books(self) -> list[ContactSource]:
        return self.core.store.contact_sources()

    def queue_name(self, number: str) -> str:
        """A queue as people know it, "Satış (200)"; the bare number when its name is not
        known (yet)."""
        name = self._queues.get(number.strip(), "")
        return f"{name} ({number})" if name else number

    def queue_names(self) -> dict[str, str]:
        """Queue number -> name, as last fetched from the PBX."""
        return dict(self._queues)

    def colleague_name(self, extension: str) -> str | None:
        """A colleague's name for their extension ("Mehmet"), None when not known."""
        return self.core.store.colleague_name(extension)

    # -- caller notes -----------------------------------------------------------------------

    def note_for(self, number_key: str) -> Note | None:
        return self.core.store.note_for(number_key) if number_key else None

    def notes_for(self, keys: Sequence[str]) -> dict[str, Note]:
        """The notes of a page of callers (canonical keys); callers without one left out."""
        return self.core.store.notes_for(keys)

    async def set_note(self, number_key: str, text: str) -> None:
        """Keep a short note on a caller ("" removes it); in a team, every colleague's PC
        gets it through the relay. Raises TeamError when the team could not be told (the
        note is kept on this PC all the same)."""
        store = self.core.store
        await self.core.tracker.run_write(
            store.write_note, number_key, text, "", time.time(), missed=True
        )
        self.notesChanged.emit()
        if self.config.team_mode:
            from bulutpop.team.link import note

            await note(self.config, self.core.team_secret(), number_key, text)

    # -- PBX ----------------------------------------------------------------------------

    async def load_caller_ids(self) -> tuple[str, ...]:
        """Ask the PBX which outbound numbers may be presented; kept for the tray menu.
        Raises a BulutpopError."""
        self.caller_ids = tuple(await self.core.api().caller_ids())
        return self.caller_ids

    async def fetch_recording(
        self, call_uuid: str, progress: Callable[[int, int | None], None] | None = None
    ) -> Path:
        """The call's recording as a local file (downloaded once, then cached), to play."""
        return await self.core.recording(self.core.api(), call_uuid, progress)

    async def save_recording(self, call_uuid: str, target: Path) -> int:
        """Save a copy of the call's recording at `target`; returns its size."""
        return await self.core.save_recording(self.core.api(), call_uuid, target)

    async def dnd_on(self) -> bool:
        """Whether do-not-disturb is on for the user's extension, as the PBX says."""
        return await self.core.api().dnd_on(self.core.extension())

    async def set_dnd(self, on: bool) -> None:
        await self.core.api().dnd(self.core.extension(), on)

    async def crm_integrations(self) -> CrmSettings:
        """Where the PBX posts its events, and which."""
        return await self.core.api().crm_integrations()

    async def register_webhook(
        self, url: str, confirm: Callable[[CrmSettings], Awaitable[bool]]
    ) -> RegisterResult:
        """Point the PBX's events at `url`, once `confirm` says yes."""
        return await register_webhook(self.core.api(), url, confirm)

    # -- the API key (keyring calls block: each runs on a worker thread) ----------------------

    async def rediscover_keyring(self) -> None:
        await asyncio.to_thread(self.core.keys.rediscover)

    async def key_status(self) -> KeyStatus:
        return await asyncio.to_thread(self.core.keys.status)

    async def stored_key(self) -> str | None:
        return await self.core.keys.load()

    async def store_key(self, key: str) -> None:
        """Keep the key in the keyring; the PBX services start (or retry) with it."""
        self.core.redactor.add(key)
        await asyncio.to_thread(self.core.keys.set, key)
        await self.runtime.key_changed()

    async def check_key(self, key: str) -> None:
        """Whether the PBX takes `key` (typed, not stored yet). Raises KeyRefused, …"""
        from bulutpop.pbx.client import PbxClient

        async with PbxClient(self.config.api_url, key, redactor=self.core.redactor) as client:
            await client.check_key()

    # -- team mode ----------------------------------------------------------------------------

    def claims(self) -> dict[str, Claim]:
        """Callers a colleague (or this PC) is calling back now, by party key."""
        from bulutpop.team.link import claims

        return claims(self.core.tracker, self.config.team_agent)

    async def claim(self, party_key: str, takeover: bool = False) -> str:
        """Tell the team "I'm calling this caller back"; how colleagues see the claimer.
        Raises TeamError (status 409: a colleague already claimed them, unless `takeover`)
        or SetupMissing."""
        from bulutpop.team.link import claim

        return await claim(self.config, self.core.team_secret(), party_key, takeover)

    async def whoami(self) -> dict[str, Any]:
        """Ask the team's relay who this PC is (checks the invite end to end)."""
        from bulutpop.team.link import whoami

        return await whoami(self.config, self.core.team_secret())

    async def join_team(self, invite: Invite) -> None:
        """Store the invite's secret in the keyring (never the config file), then switch the
        settings to team mode. Raises KeyringUnavailable or OSError."""
        self.core.redactor.add(invite.secret)
        await asyncio.to_thread(self.core.team_keys.set, invite.secret)
        await self.save_config(invite.apply(self.config))
        await self.runtime.rejoined()

    async def leave_team(self) -> None:
        """Forget the team secret and leave team mode. Raises KeyringUnavailable or OSError."""
        from bulutpop.team.protocol import leave

        await asyncio.to_thread(self.core.team_keys.delete)
        await self.save_config(leave(self.config))
        await self.runtime.rejoined()

"""The runtime: one object that runs the background services of every mode.

`bulutpop serve`, `bulutpop relay` and the tray app each open a `Core` and run one
`Runtime` over it; the front end only starts it, stops it and shows what it reports. The
services, by mode:

* solo  — this PC's webhook receiver; the catch-up from the PBX's history and the phonebook
  sync, once the API key (and the extension) are set;
* team  — the link to the team's broker (the relay does the rest, with the key);
* relay — the office's relay: the webhook receiver, the relay itself (broker, publisher,
  agents' API), the catch-up and the phonebook sync for the whole office.

Every mode also keeps personal data no longer than the settings say (KVKK): the retention
purges older calls, events and recordings at start and daily (see `purge`). And it settles
the calls whose outcome the events alone cannot tell (calls.fold):
where the PBX's history can be asked, seconds after every leg of such a call has ended;
otherwise `settle_seconds` after its last news. After an upgrade it derives the stored
calls again with the current rules.

The mode follows the settings: joining or leaving a team (a saved change of the settings)
swaps the services while running. Each service's state is plain data (`ServiceState`);
`subscribe` tells a listener of every change, on the loop's thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import math
import time
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from bulutpop.app.core import Core
from bulutpop.app.guard import raise_open_files
from bulutpop.calls.tracker import Change
from bulutpop.errors import (
    BulutpopError,
    CredentialRefused,
    KeyRefused,
    SetupMissing,
    TeamRemoved,
)
from bulutpop.local.config import Config
from bulutpop.pbx.catchup import CatchUp, CatchUpStatus
from bulutpop.pbx.phonebook import PhoneBook
from bulutpop.pbx.receiver import Receiver

if TYPE_CHECKING:  # team mode loads the MQTT client only when it is used
    from bulutpop.team.link import TeamLink, TeamStatus
    from bulutpop.team.relay.service import Relay

log = logging.getLogger(__name__)

Mode = Literal["solo", "team", "relay"]
State = Literal["starting", "running", "waiting", "failed", "stopped"]

PHONEBOOK_INTERVAL = 86400.0  # the PBX's phonebook changes rarely: once a day, and on demand
# How often undecided calls are looked at; each settles `settle_seconds` after its last news.
SETTLE_CHECK_SECONDS = 5.0
# Once every leg of an undecided call has ended, the PBX's history is asked for it this
# long after the last news (the history lists a call only once it has ended, maybe a little
# late), then again at most every HISTORY_RETRY seconds until it settles. One look-up at a
# time, HISTORY_SPACING apart: /cdrs allows about 6 requests a minute, the catch-up's too.
HISTORY_LAG = 10.0
HISTORY_RETRY = 60.0
HISTORY_SPACING = 20.0
# The look-up starts this long before the oldest such call (clocks differ a little).
HISTORY_MARGIN = 120.0

# The retention runs at start and then once a day. Each batch is one short transaction on
# the store's writer (50 queue calls of 13 events: ~13 ms here): events queue behind at
# most one batch, and the pause lets them go before the next. The freed space goes back to
# the file system the same way, a step at a time (Store.reclaim: ~10 ms). A day of a
# 200-agent office takes a few minutes (benchmarks/retention.py).
RETENTION_INTERVAL = 86400.0
RETENTION_BATCH = 50
RETENTION_PAUSE = 0.05
DAY = 86400.0

# The services whose failure leaves the mode without its events (the command line exits).
ESSENTIAL = frozenset({"receiver", "relay", "team"})


@dataclass(frozen=True, slots=True)
class ServiceState:
    """One service as the front ends show it. `error` says why it failed or waits (the
    front end puts it in words); `detail` is what it runs on ("127.0.0.1:8787")."""

    name: str
    state: State
    since: float
    error: BaseException | None = None
    detail: str = ""
    last_run: float | None = None
    next_run: float | None = None


StateListener = Callable[[ServiceState], None]
Ready = asyncio.Future[None]  # a service resolves it once it runs (or has failed to start)
Work = Callable[[Ready], Coroutine[Any, Any, None]]


@dataclass(slots=True)
class _Running:
    name: str
    key: Hashable  # what it was started for: a change restarts it
    task: asyncio.Task[None]
    ready: Ready


def _loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a name: it may stand for any address
        return False


def mode_of(config: Config) -> Mode:
    return "team" if config.team_mode else "solo"


class Runtime:
    def __init__(
        self,
        core: Core,
        mode: Mode | None = None,
        *,
        listen: tuple[str, int] | None = None,
    ) -> None:
        """`mode` None follows the settings (solo or team); "relay" is the relay's own.
        `listen` overrides the receiver's address (`bulutpop serve --host/--port`)."""
        self.core = core
        self._fixed_mode = mode
        self._listen = listen
        self.catchup = CatchUp(core.tracker, core.api, history_days=core.config.history_days)
        self.phonebook = PhoneBook(core.tracker, core.api)
        self.receiver: Receiver | None = None
        self.relay: Relay | None = None
        self.link: TeamLink | None = None
        # Bumped by a new invite: the same settings with a new secret start the link again.
        self.team_generation = 0
        # What the team link does when the relay asks this PC to forget a number (KVKK); the
        # tray app puts its bridge's, which also refreshes the open windows.
        self.forget: Callable[[str], Awaitable[object]] = core.forget
        self.states: dict[str, ServiceState] = {}
        self._listeners: list[StateListener] = []
        self._services: dict[str, _Running] = {}
        self._syncs: set[asyncio.Task[None]] = set()
        self._sync_lock = asyncio.Lock()
        self._started = False
        self._unsubscribe: list[Callable[[], None]] = []
        # The settling rhythm (module constants; a test may shorten them).
        self.settle_check = SETTLE_CHECK_SECONDS
        self.history_lag = HISTORY_LAG
        self.history_retry = HISTORY_RETRY
        self.history_spacing = HISTORY_SPACING
        self.retention_interval = RETENTION_INTERVAL
        self.retention_pause = RETENTION_PAUSE

    # -- what the front ends use -------------------------------------------------------------

    @property
    def mode(self) -> Mode:
        return self._fixed_mode or mode_of(self.core.config)

    def subscribe(self, listener: StateListener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def problem(self) -> ServiceState | None:
        """The first essential service that failed, if any (for the command line)."""
        for name in sorted(ESSENTIAL):
            state = self.states.get(name)
            if state is not None and state.state == "failed":
                return state
        return None

    def running(self, name: str) -> bool:
        service = self._services.get(name)
        return service is not None and not service.task.done()

    async def start(self) -> None:
        """Read the mode's secret (off the loop), then start what the mode runs. Never raises for
        a service that fails: its state says why (see `problem`)."""
        self._started = True
        # Room for the servers' connection caps (and the broker's) above the 1,024 open files
        # a service often starts with.
        log.debug("open files: up to %s", raise_open_files())
        self._unsubscribe.append(self.core.subscribe_config(self._config_changed))
        self._unsubscribe.append(self.catchup.subscribe(self._catchup_changed))
        self._start("upgrade", None, self._upgrade)
        await self.sync()

    async def stop(self) -> None:
        self._started = False
        for unsubscribe in self._unsubscribe:
            unsubscribe()
        self._unsubscribe.clear()
        for task in list(self._syncs):
            task.cancel()
        async with self._sync_lock:
            for name in list(self._services):
                await self._stop(name)
        await self.core.aclose()

    async def sync(self) -> None:
        """Run what the mode and the settings ask for now: start what is missing, restart
        what a changed setting concerns, stop what the mode no longer runs. Returns once
        the essential services (receiver, relay, team link) have started or failed."""
        async with self._sync_lock:
            if not self._started:
                return
            await self.core.load_secrets()  # the mode may have changed: its secret, off the loop
            wanted = await self._wanted()
            for name in [n for n in self._services if n not in wanted and n != "upgrade"]:
                await self._stop(name)
            started = []
            for name, (key, make) in wanted.items():
                service = self._services.get(name)
                if service is not None and service.key == key and not service.task.done():
                    continue
                if service is not None:
                    await self._stop(name)
                started.append(self._start(name, key, make))
            await asyncio.gather(*(s.ready for s in started if s.name in ESSENTIAL))

    async def key_changed(self) -> None:
        """The API key was stored or deleted here: the PBX services follow."""
        await self.sync()
        self.trigger_catchup()

    def trigger_catchup(self) -> None:
        """Catch up now (the user asked, the receiver was away, the key changed)."""
        self.catchup.trigger()

    async def rejoined(self) -> None:
        """A new invite was stored (the same settings may now hold a new secret)."""
        self.team_generation += 1
        await self.core.load_secrets(again=True)
        await self.sync()

    # -- which services ----------------------------------------------------------------------

    async def _wanted(self) -> dict[str, tuple[Hashable, Work]]:
        config = self.core.config
        mode = self.mode
        wanted: dict[str, tuple[Hashable, Work]] = {
            "settle": (None, self._settle),
            "retention": (None, self._retention),
        }
        if mode == "team":
            key = (
                config.team_broker,
                config.team_relay,
                config.team_agent,
                config.team_ca,
                config.extension,
                self.team_generation,
            )
            wanted["team"] = (key, self._team)
            return wanted
        host, port = self._listen or (config.listen_host, config.listen_port)
        wanted["receiver"] = ((host, port, config.token, config.allow_from), self._receive)
        if mode == "relay":
            wanted["relay"] = (None, self._relay)
        missing = await self._pbx_missing()
        if missing is not None:
            for name in ("catchup", "phonebook"):
                self._set(name, "waiting", error=missing)
            return wanted
        wanted["catchup"] = (config.catchup_minutes, self._catch_up)
        wanted["phonebook"] = (None, self._phonebook)
        return wanted

    async def _pbx_missing(self) -> BulutpopError | None:
        """What keeps the catch-up and the phonebook from asking the PBX: no API key, or
        (on an agent's own PC) no extension to tell their calls by."""
        try:
            key = self.core.keys.cached()
        except BulutpopError as exc:
            return exc
        if not key:
            return SetupMissing("api_key")
        if self.mode == "solo" and not self.core.config.extension:
            return SetupMissing("extension")
        return None

    def _config_changed(self, old: Config, new: Config) -> None:
        self.catchup.history_days = new.history_days
        if self._started:
            task = asyncio.create_task(self.sync(), name="runtime-sync")
            self._syncs.add(task)
            task.add_done_callback(self._syncs.discard)

    def _catchup_changed(self, status: CatchUpStatus) -> None:
        if status.running:
            self._set("catchup", "running")
            return
        error = status.error
        if isinstance(error, (KeyRefused, SetupMissing)):
            self._set("catchup", "waiting", error=error, last_run=status.last_run)
        else:
            state: State = "failed" if error is not None else "running"
            self._set(
                "catchup", state, error=error, last_run=status.last_run, next_run=status.next_run
            )

    # -- the services ------------------------------------------------------------------------

    async def _receive(self, ready: Ready) -> None:
        config = self.core.config
        host, port = self._listen or (config.listen_host, config.listen_port)
        receiver = Receiver(self.core.tracker, config.token, host, port, config.allow_from)
        self._set("receiver", "starting")
        try:
            await receiver.start()
        except BulutpopError as exc:
            self._set("receiver", "failed", error=exc)
            return
        self.receiver = receiver
        self._set("receiver", "running", detail=f"{receiver.host}:{receiver.port}")
        if not config.allow_from and not _loopback(host):
            log.warning(
                "the webhook receiver on %s takes connections from anyone who can reach it: "
                "set allow_from to the PBX's networks if you know them "
                "(bulutpop config set allow_from CIDR...)",
                host,
            )
        ready.set_result(None)
        if self.running("catchup"):
            self.catchup.trigger()  # events sent while it was away are only in the history
        try:
            await asyncio.Event().wait()
        finally:
            self.receiver = None
            await receiver.stop()

    async def _relay(self, ready: Ready) -> None:
        from bulutpop.team.relay.service import Relay

        self._set("relay", "starting")
        try:
            relay = Relay(self.core, self.catchup)
            await relay.start()
        except BulutpopError as exc:
            self._set("relay", "failed", error=exc)
            return
        self.relay = relay
        unsubscribe = self.phonebook.subscribe(relay.names_changed)  # names reach the agents
        self._set("relay", "running", detail=f"agents' API on port {relay.api_port}")
        ready.set_result(None)
        try:
            await asyncio.Event().wait()
        finally:
            unsubscribe()
            self.relay = None
            await relay.stop()

    async def _team(self, ready: Ready) -> None:
        from bulutpop.team.link import TeamLink

        self._set("team", "starting")
        try:
            secret = self.core.team_secret()
        except BulutpopError as exc:
            self._set("team", "failed", error=exc)
            return
        link = TeamLink(
            self.core.tracker,
            self.core.config,
            secret,
            self._team_changed,
            forget=self.forget,
        )
        self.link = link
        self._team_changed(link.status)
        ready.set_result(None)  # connecting is the link's own business: it retries
        try:
            await link.run()
        finally:
            self.link = None

    def _team_changed(self, status: TeamStatus) -> None:
        if status.state == "connected":
            self._set("team", "running", detail=self.core.config.team_broker)
        elif status.state == "refused":
            self._set("team", "failed", error=CredentialRefused(detail=status.detail))
        elif status.state == "removed":
            self._set("team", "failed", error=TeamRemoved(detail=status.detail))
            if self.core.config.team_queues:  # the team's shared calls are no longer this PC's
                task = asyncio.create_task(
                    self.core.update_config(replace(self.core.config, team_queues=())),
                    name="team-removed",
                )
                self._syncs.add(task)
                task.add_done_callback(self._syncs.discard)
        elif status.state == "reconnecting":
            self._set("team", "waiting", detail=status.detail)
        else:
            self._set("team", "starting")

    async def _catch_up(self, ready: Ready) -> None:
        await self.catchup.run_forever(self.core.config.catchup_minutes * 60.0)

    async def _phonebook(self, ready: Ready) -> None:
        self._set("phonebook", "running")
        await self.phonebook.run_forever(PHONEBOOK_INTERVAL)

    async def _settle(self, ready: Ready) -> None:
        self._set("settle", "running")
        looked_up: dict[str, float] = {}  # call_uuid -> when the history was last asked
        last_look = -math.inf
        # With nothing undecided the loop sleeps until a call is (an idle app does no work).
        undecided = asyncio.Event()

        def on_change(change: Change) -> None:
            # Without a call: many may have changed at once (calls derived again).
            if change.call is None or change.call.pending:
                undecided.set()

        unsubscribe = self.core.tracker.subscribe(on_change)
        try:
            await self._settle_rounds(looked_up, last_look, undecided)
        finally:
            unsubscribe()

    async def _settle_rounds(
        self, looked_up: dict[str, float], last_look: float, undecided: asyncio.Event
    ) -> None:
        while True:
            undecided.clear()
            try:
                await self.core.tracker.settle_due()
            except Exception:  # the store failed: tried again at the next round
                log.exception("could not settle undecided calls")
            if self.running("catchup") and time.monotonic() - last_look >= self.history_spacing:
                try:
                    if await self._look_up_quiet(looked_up):
                        last_look = time.monotonic()
                except Exception as exc:  # the catch-up's state shows the PBX's trouble
                    log.debug("could not look undecided calls up in the history: %s", exc)
            if not self.core.store.pending_due(math.inf, 1):
                await undecided.wait()
                continue
            # A call settles `settle_seconds` after its last news, give or take this.
            pause = min(self.settle_check, self.core.config.settle_seconds / 2)
            await asyncio.sleep(max(pause, 0.05))

    async def _look_up_quiet(self, looked_up: dict[str, float]) -> bool:
        """Ask the PBX's history for the undecided calls that have gone quiet (see
        HISTORY_LAG); returns whether it asked."""
        now = time.time()
        quiet = self.core.tracker.quiet_pending(self.history_lag, now)
        for call_uuid in looked_up.keys() - {u for u, _ in quiet}:
            del looked_up[call_uuid]  # settled meanwhile
        due = [
            (u, start)
            for u, start in quiet
            if now - looked_up.get(u, -math.inf) >= self.history_retry
        ]
        if not due:
            return False
        looked_up.update((u, now) for u, _ in due)
        settled = await self.catchup.look_up(min(start for _, start in due) - HISTORY_MARGIN)
        log.debug("the history settled %d of %d quiet undecided calls", settled, len(due))
        return True

    async def _retention(self, ready: Ready) -> None:
        self._set("retention", "running")
        while True:
            try:
                await self.purge()
            except Exception:  # the store failed: tried again at the next round
                log.exception("could not purge old calls")
            self._set("retention", "running", last_run=time.time())
            await asyncio.sleep(self.retention_interval)

    async def purge(self) -> int:
        """Remove what is older than the settings keep: calls with their events, rejected
        bodies, dismissals, claims and the audit (`keep_calls_days`), and cached
        recordings (`keep_recordings_days`); then give the freed space back. Returns how
        many rows went."""
        config = self.core.config
        store = self.core.store
        before = time.time() - config.keep_calls_days * DAY
        removed = 0
        while batch := await store.write(store.purge, before, RETENTION_BATCH):
            removed += batch
            await self._pause()
        expired = await asyncio.to_thread(
            self.core.recordings.expire, config.keep_recordings_days * DAY
        )
        if removed or expired:
            log.info("retention: %d old rows and %d cached recordings removed", removed, expired)
        while await store.write(store.reclaim):  # free pages left
            await self._pause()
        return removed

    async def _pause(self) -> None:
        await asyncio.sleep(self.retention_pause)

    async def _upgrade(self, ready: Ready) -> None:
        if await self.core.tracker.refold_if_needed():
            log.info("the stored calls are derived with the current rules")

    # -- bookkeeping -------------------------------------------------------------------------

    def _start(self, name: str, key: Hashable, make: Work) -> _Running:
        ready: Ready = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._guarded(name, make, ready), name=f"runtime-{name}")
        service = self._services[name] = _Running(name, key, task, ready)
        return service

    async def _guarded(self, name: str, make: Work, ready: Ready) -> None:
        try:
            await make(ready)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug: this service stops, the others go on
            log.exception("the %s service failed", name)
            self._set(name, "failed", error=exc)
        finally:
            if not ready.done():  # it ended (failed) before it was ready
                ready.set_result(None)

    async def _stop(self, name: str) -> None:
        service = self._services.pop(name, None)
        if service is None:
            return
        service.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await service.task
        self._set(name, "stopped")

    def _set(
        self,
        name: str,
        state: State,
        *,
        error: BaseException | None = None,
        detail: str = "",
        last_run: float | None = None,
        next_run: float | None = None,
    ) -> None:
        old = self.states.get(name)
        since = old.since if old is not None and old.state == state else time.time()
        new = ServiceState(name, state, since, error, detail, last_run, next_run)
        if old is not None and replace(old, since=since) == new:
            return
        self.states[name] = new
        if state == "failed" and error is not None:
            log.warning("%s: %s", name, error)
        for listener in list(self._listeners):
            try:
                listener(new)
            except Exception:
                log.exception("a runtime listener failed")

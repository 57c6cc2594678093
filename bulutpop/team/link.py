"""Team mode on an agent's PC: the link to the team's broker, and the relay's team API.

With an invite joined, events come from the relay through the broker instead of a webhook
of this PC's own: `TeamLink` keeps a persistent MQTT session (what arrived while the PC was
off is delivered on reconnect, in order) and feeds each event to the tracker exactly like a
webhook event, so duplicates are dropped the same way. A message is acknowledged to the
broker only once it is stored. Dial and recordings go through the relay's API
(`Core.api()`), which needs the agent's credential, never the PBX's API key. When the relay
forgets a number (KVKK erasure), its "forget" message makes this PC forget it too, before
the message is acknowledged: a PC that was off does it as it reconnects.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import ssl
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import aiohttp
import aiomqtt
from paho.mqtt.enums import MQTTErrorCode
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from bulutpop.calls.events import CallEvent
from bulutpop.calls.tracker import CallTracker
from bulutpop.errors import NumberError, TeamError
from bulutpop.local.config import Config
from bulutpop.local.net import client_session, tls_for
from bulutpop.pbx.phonebook import QUEUES_KEY
from bulutpop.storage.store import Contact
from bulutpop.storage.team import COLLEAGUES_KEY, ClaimRow, TeamTables
from bulutpop.team.protocol import (
    CLAIM_SECONDS,
    SESSION_EXPIRY_DAYS,
    Address,
    authorization,
    credential,
    subscriptions,
)

log = logging.getLogger(__name__)

SOURCE = "team"
# At most this many queued messages are stored in one go (the broker sends up to 100
# unacknowledged ones: broker.py's max_inflight_messages).
LINK_BATCH = 500
READ_AHEAD_SECONDS = 0.01
SYNC_KEY = "team.synced"  # meta: the credential this PC last received its history for
# MQTT v5 reason codes for a refused login: retrying soon will not help.
_REFUSED = {134, 135}


# What a message that cannot be used raises while it is read.
_UNUSABLE = (ValueError, KeyError, TypeError, AttributeError)


def call_event(data: Any) -> CallEvent:
    """The call event of an "event" message; raises one of _UNUSABLE when it has none."""
    event = CallEvent({str(k): str(v) for k, v in data["fields"].items()})
    if not event.call_uuid or not event.event_type:
        raise ValueError("no call_uuid or event_type")
    return event


def _event_of(raw: bytes) -> CallEvent | None:
    """The call event a message carries; None for anything else (a claim, a request to
    forget, a malformed message: `TeamLink._handle` deals with those)."""
    try:
        data = json.loads(raw)
        return call_event(data) if data["kind"] == "event" else None
    except _UNUSABLE:
        return None


def _read_ahead(paho: Any, queue: asyncio.Queue[aiomqtt.Message], limit: int) -> None:
    """Take in what the broker has sent already, up to `limit` queued messages. aiomqtt
    reads one packet each time the socket is readable, a turn of the Qt loop each; a
    backlog arrives faster in one go, for READ_AHEAD_SECONDS at most (the loop is the UI's).
    paho's `loop_read` never blocks (the socket does not); this stops at the first packet
    that is not a message."""
    deadline = time.perf_counter() + READ_AHEAD_SECONDS
    while queue.qsize() < limit and time.perf_counter() < deadline:
        before = queue.qsize()
        if paho.loop_read() != MQTTErrorCode.MQTT_ERR_SUCCESS or queue.qsize() == before:
            return


def tls_context(config: Config) -> ssl.SSLContext:
    """Trust the invite's certificate when it has one, else the system's authorities."""
    return tls_for(config.team_ca)


async def _ask_relay(
    config: Config, secret: str, method: str, path: str, form: dict[str, str] | None = None
) -> dict[str, Any]:
    """One request to the relay's team API; its JSON reply. Raises TeamError."""
    url = config.team_relay + path
    timeout = aiohttp.ClientTimeout(total=10)
    try:
        async with (
            client_session(tls=tls_context(config)) as s,
            s.request(
                method,
                url,
                data=form,
                headers=authorization(credential(config, secret)),
                timeout=timeout,
                allow_redirects=False,
            ) as response,
        ):
            text = await response.text()
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TeamError(f"cannot reach the relay at {config.team_relay}: {exc}") from None
    if status != 200:
        raise TeamError(text.strip()[:200] or f"the relay answered HTTP {status}", status)
    try:
        data = json.loads(text)
    except ValueError:
        raise TeamError("the relay sent an unreadable reply") from None
    return data if isinstance(data, dict) else {}


async def whoami(config: Config, secret: str) -> dict[str, Any]:
    """Ask the relay who this PC's credential is (checks the invite end to end)."""
    return await _ask_relay(config, secret, "GET", "/team/whoami")


async def claim(config: Config, secret: str, party_key: str, takeover: bool = False) -> str:
    """Tell the team "I'm calling this caller back"; returns how colleagues see the claimer.
    TeamError with status 409 when a colleague already claimed them, unless `takeover`
    (the user confirmed taking the callback over from them)."""
    form = {"party_key": party_key, "takeover": "1" if takeover else "0"}
    reply = await _ask_relay(config, secret, "POST", "/team/claim", form)
    return str(reply.get("claimed_by", ""))


async def note(config: Config, secret: str, number_key: str, text: str) -> None:
    """Share a caller's note ("" removes it) with the team, through the relay."""
    await _ask_relay(config, secret, "POST", "/team/note", {"number": number_key, "text": text})


async def share_done(
    config: Config, secret: str, party_key: str, at: float, undo: bool = False
) -> bool:
    """Tell the team this PC marked a caller done at `at` (`Tracker.mark_done`'s mark), or
    took that back: when the caller is a shared queue's, every member's list follows.
    Returns whether it was shared. Raises TeamError."""
    form = {"party_key": party_key, "at": repr(at), "undo": "1" if undo else "0"}
    reply = await _ask_relay(config, secret, "POST", "/team/done", form)
    return bool(reply.get("shared"))


async def sync(config: Config, secret: str) -> int:
    """Ask the relay for what a newly joined PC misses: the last `history_days` of this
    agent's calls and the office's names, sent through the broker. Raises TeamError."""
    return int((await _ask_relay(config, secret, "POST", "/team/sync")).get("queued", 0))


# -- reconnecting -----------------------------------------------------------------------------

# While the broker was reachable a little while ago (a relay restart, a short network cut),
# retries stay this close together, so the PC is back seconds after the relay; a broker
# gone for longer is tried less often, up to SLOW_RETRY.
FAST_RETRY = 5.0
SLOW_RETRY = 60.0
RECENT_SECONDS = 600.0


def retry_delay(failures: int, since_connected: float | None) -> float:
    """Seconds before the next try, after `failures` failed ones in a row (0: the session
    just ended), `since_connected` seconds after the last connection (None: never). With
    jitter, so that an office's PCs do not all knock at the restarted relay at once."""
    recent = since_connected is not None and since_connected < RECENT_SECONDS
    cap = FAST_RETRY if recent else SLOW_RETRY
    return min(cap, 2.0**failures) * random.uniform(0.5, 1.0)


# -- the link ---------------------------------------------------------------------------------

LinkState = Literal["connecting", "connected", "reconnecting", "refused", "removed"]


@dataclass(frozen=True, slots=True)
class TeamStatus:
    state: LinkState
    since: float  # when this state began (time.time())
    detail: str = ""


@dataclass(frozen=True, slots=True)
class Claim:
    """Someone on the team is calling a caller back: who, as colleagues see them, whether
    it is this PC's own agent, and since when (time.time(); 0 when not known)."""

    display: str
    mine: bool = False
    at: float = field(default=0.0, compare=False)


def claims(tracker: CallTracker, me: str = "", now: float | None = None) -> dict[str, Claim]:
    """Callers someone on the team is calling back now, by party key; `me` is this PC's
    agent name."""
    now = time.time() if now is None else now
    rows = TeamTables(tracker.store).claims_since(now - CLAIM_SECONDS)
    return {
        row.party_key: Claim(row.display, bool(me) and row.agent == me, row.at_ts) for row in rows
    }


def claim_message(data: dict[str, Any]) -> ClaimRow:
    """A claim as the relay sends it (a "claim" message)."""
    return ClaimRow(
        str(data["party_key"]), str(data["agent"]), str(data["display"]), float(data["at"])
    )


def session_client(
    address: Address, agent: str, secret: str, tls: ssl.SSLContext | None
) -> aiomqtt.Client:
    """A client for an agent's persistent session: never a clean start, so the broker keeps
    what arrives while the PC is off (for SESSION_EXPIRY_DAYS)."""
    properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
    properties.SessionExpiryInterval = SESSION_EXPIRY_DAYS * 86400
    return aiomqtt.Client(
        address.host,
        address.port,
        username=agent,
        password=secret,
        identifier=agent,
        protocol=aiomqtt.ProtocolVersion.V5,
        clean_start=False,
        properties=properties,
        tls_context=tls,
        keepalive=30,
        timeout=10,
    )


class TeamLink:
    """The persistent session with the team's broker, while the app runs."""

    def __init__(
        self,
        tracker: CallTracker,
        config: Config,
        secret: str,
        on_status: Callable[[TeamStatus], None] | None = None,
        *,
        forget: Callable[[str], Awaitable[object]],
    ) -> None:
        """`forget` erases a number from this PC (`Core.forget`) when the relay says so."""
        self.tracker = tracker
        self.config = config
        self._secret = secret
        self._on_status = on_status
        self._forget = forget
        self.status = TeamStatus("connecting", time.time())
        self.received = 0
        self._connected = False  # the last session got as far as subscribing

    def _set(self, state: LinkState, detail: str = "") -> None:
        # "reconnecting since 10:42" means since the link was lost, not since the last try.
        since = self.status.since if state == self.status.state else time.time()
        self.status = TeamStatus(state, since, detail)
        if self._on_status is not None:
            self._on_status(self.status)

    async def run(self) -> None:
        failures = 0
        connected_at: float | None = None
        while True:
            try:
                await self._session()
            except aiomqtt.MqttCodeError as exc:
                if getattr(exc.rc, "value", exc.rc) in _REFUSED:
                    await self._refused()
                else:
                    self._set("reconnecting", str(exc))
            except aiomqtt.MqttError as exc:
                self._set("reconnecting", str(exc))
            except Exception:  # e.g. the store failed: unacknowledged, so sent again later
                log.exception("team link: a message could not be stored")
                self._set("reconnecting", "could not store a team event")
            if self._connected:
                connected_at, failures, self._connected = time.monotonic(), 0, False
            else:
                failures += 1
            if self.status.state in ("refused", "removed"):
                delay = SLOW_RETRY
            else:
                since = None if connected_at is None else time.monotonic() - connected_at
                delay = retry_delay(failures, since)
            log.info("team link: %s; next try in %.1f s", self.status.detail, delay)
            await asyncio.sleep(delay)

    async def _refused(self) -> None:
        """The broker refused the credential: the relay says whether the agent was removed
        (so the PC says that, not "wrong credential") or never existed."""
        try:
            await whoami(self.config, self._secret)
        except TeamError as exc:
            if exc.status == 410:
                self._set("removed", "this agent was removed from the team")
                return
        self._set("refused", "the broker refused this PC's team credential")

    def _sync_marker(self) -> str:
        """Which credential this PC last received its history for: a new invite (or a new
        PC) gets it again; the same one reconnecting does not."""
        text = f"{self.config.team_relay}\n{self.config.team_agent}\n{self._secret}"
        return hashlib.sha256(text.encode()).hexdigest()

    async def _sync_once(self) -> None:
        marker = self._sync_marker()
        if self.tracker.store.meta(SYNC_KEY) == marker:
            return
        try:
            queued = await sync(self.config, self._secret)
        except TeamError as exc:  # asked again at the next connection
            log.warning("could not fetch this agent's recent calls from the relay: %s", exc)
            return
        await self.tracker.run_write(self.tracker.store.set_meta, SYNC_KEY, marker)
        log.info("joined: the relay sends %d messages of this agent's recent calls", queued)

    async def _session(self) -> None:
        config = self.config
        address = Address.parse(config.team_broker)
        client = session_client(
            address,
            config.team_agent,
            self._secret,
            tls_context(config) if address.tls else None,
        )
        # aiomqtt acknowledges on receipt; the PUBACK must wait until the event is stored,
        # or a crash in between would lose it. paho, underneath, can do that.
        paho = client._client
        paho.manual_ack_set(True)
        async with client:
            await client.subscribe(subscriptions(config.extension))
            self._connected = True
            self._set("connected")
            # The session exists now: what the relay queues for it will arrive.
            syncing = asyncio.create_task(self._sync_once(), name="team-sync")
            try:
                async for message in client.messages:
                    # A PC back after a day away gets its whole queue at once: what has
                    # arrived is stored together (one commit or two instead of one per
                    # event), then acknowledged. aiomqtt's queue is read directly: its
                    # iterator costs a task and a turn of the loop per message.
                    batch = [message]
                    _read_ahead(paho, client._queue, LINK_BATCH)
                    while len(batch) < LINK_BATCH and not client._queue.empty():
                        batch.append(client._queue.get_nowait())
                    await self._handle_all(batch)
                    for done in batch:
                        paho.ack(done.mid, done.qos)
            finally:
                syncing.cancel()

    async def _handle_all(self, messages: list[aiomqtt.Message]) -> None:
        """Store the messages in their order: events side by side (the tracker commits
        them together, in order), anything else once the events before it are stored."""
        events: list[tuple[CallEvent, bytes]] = []
        for message in messages:
            raw = message.payload if isinstance(message.payload, bytes) else b""
            event = _event_of(raw)
            if event is not None:
                events.append((event, raw))
                continue
            await self._ingest(events)
            events = []
            await self._handle(raw)
        await self._ingest(events)

    async def _ingest(self, events: list[tuple[CallEvent, bytes]]) -> None:
        if events:
            await self.tracker.ingest_batch(events, SOURCE)
            self.received += len(events)

    async def _handle(self, raw: bytes) -> None:
        try:
            data = json.loads(raw)
            kind = data["kind"]
            if kind == "event":  # one `_event_of` could not use: raises why
                await self.tracker.ingest(call_event(data), raw, SOURCE)
                self.received += 1
            elif kind == "claim":
                tables = TeamTables(self.tracker.store)
                await self.tracker.run_write(tables.put_claim, claim_message(data), missed=True)
            elif kind == "note":
                number, text, at = data["number"], data["text"], float(data["at"])
                if not isinstance(number, str) or not number or not isinstance(text, str):
                    raise ValueError("no number or text for a note")
                store = self.tracker.store
                author = str(data.get("author", ""))
                await self.tracker.run_write(
                    store.write_note, number, text, author, at, missed=True
                )
            elif kind in ("done", "undo"):
                tables = TeamTables(self.tracker.store)
                party_key, at = str(data["party_key"]), float(data["at"])
                await self.tracker.run_write(
                    tables.apply_done, party_key, at, kind == "undo", missed=True
                )
            elif kind == "names":
                await self.tracker.run_write(self._put_names, data, missed=True)
            elif kind == "forget":
                number = data["number"]
                if not isinstance(number, str) or not number:
                    raise ValueError("no number to forget")
                await self._forget(number)
                log.info("forgot a number's records on the team relay's request")
            else:
                raise ValueError(f"unknown kind {kind!r}")
        except (*_UNUSABLE, NumberError) as exc:
            # Kept for inspection, like a malformed webhook body; never retried forever.
            await self.tracker.reject(raw, f"team message: {exc}"[:200], "application/json", SOURCE)
            log.warning("kept a team message that could not be used: %s", exc)

    def _put_names(self, data: dict[str, Any]) -> None:
        """The office's names from the relay (writer thread): its address books as this
        PC's "team" book (the user's own names and files still win), colleagues' display
        names and the queues' names."""
        contacts = [
            Contact(str(c[0]), str(c[1]), str(c[2]), tuple((str(x), str(y)) for x, y in c[3]))
            for c in data["contacts"]
        ]
        colleagues = {str(k): str(v) for k, v in dict(data["colleagues"]).items()}
        queues = {str(k): str(v) for k, v in dict(data.get("queues") or {}).items()}
        store = self.tracker.store
        TeamTables(store).put_book(contacts, time.time())
        store.set_meta(COLLEAGUES_KEY, json.dumps(colleagues, ensure_ascii=False))
        if queues:
            store.set_meta(QUEUES_KEY, json.dumps(queues, ensure_ascii=False))

"""The team relay: the office's one webhook, every event fanned out to the agents it
concerns through the broker, and the PBX API used on the agents' behalf.

* The PBX posts to the relay's receiver (the same one `serve` runs). The tracker stores each
  event and, in the same transaction, `Router` writes an outbox row per extension topic the
  event concerns. The PBX gets its 200 once that is committed.
* `Publisher` sends the outbox to the broker in order, QoS 1, and marks rows acknowledged
  only after the broker's PUBACK; a broker outage or restart only delays them. Rows are kept
  a few seconds after the PUBACK and sent again on every reconnect, because a broker killed
  hard loses what arrived since its last autosave (agents drop the duplicates).
* The agents' API (`make_api`) speaks the PBX API's own paths and errors, so the desktop's
  `PbxClient` works against it unchanged, with the agent's credential in place of the API
  key; it dials only from the agent's own extension and serves only recordings of calls that
  involved the agent, under the PBX's rate limits shared by everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import secrets
import socket
import sqlite3
import ssl
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import aiomqtt
from aiohttp import web

from bulutpop import __version__
from bulutpop.app.core import Core
from bulutpop.calls.events import CallEvent, party
from bulutpop.calls.tracker import Change
from bulutpop.errors import (
    InvalidInput,
    KeyRefused,
    NetworkError,
    NotFound,
    PbxError,
    RateLimited,
    TeamError,
)
from bulutpop.local.config import Config
from bulutpop.pbx.client import SlidingWindow
from bulutpop.pbx.receiver import listen_error
from bulutpop.storage.store import Store
from bulutpop.storage.team import AgentRow, ClaimRow, TeamTables
from bulutpop.team.link import session_client
from bulutpop.team.protocol import (
    TEAM_TOPIC,
    TOPIC_ROOT,
    Address,
    Invite,
    ext_topic,
    payload,
    subscriptions,
)
from bulutpop.team.relay.broker import (
    RELAY_USER,
    BrokerFiles,
    BrokerUser,
    ManagedBroker,
    check_password,
    hash_password,
    reload,
)

log = logging.getLogger(__name__)

REPUBLISH_SECONDS = 5.0  # longer than the broker's autosave interval (1 s)
CLAIM_SECONDS = 15 * 60  # an "I'm calling back" holds this long unless the call resolves
ORIGINATE_LIMIT = (3, 1.0)  # the PBX's reported originate limit, for all agents together
LINK_SECONDS = 50 * 60  # a recording link from the relay lives as long as the PBX's
_BATCH = 100
_CREDENTIAL_REFUSED = "unknown or removed team credential"


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    extension: str
    queues: tuple[str, ...] = ()
    display: str = ""

    @property
    def label(self) -> str:
        """How other agents see this one, e.g. "Ayşe (1002)"."""
        return f"{self.display} ({self.extension})" if self.display else self.extension

    @property
    def topics(self) -> tuple[str, ...]:
        return (ext_topic(self.extension), TEAM_TOPIC)


def _agent(row: AgentRow) -> Agent:
    return Agent(row.name, row.extension, row.queues, row.display)


class Agents:
    """The agents a relay serves (in its store), and the broker files made from them."""

    def __init__(self, store: Store, files: BrokerFiles) -> None:
        self.store = store
        self.tables = TeamTables(store)
        self.files = files
        self._relay_password: str | None = None

    def all(self) -> list[Agent]:
        return [_agent(row) for row in self.tables.agents()]

    def add(
        self, extension: str, name: str = "", queues: Sequence[str] = (), display: str = ""
    ) -> tuple[Agent, str]:
        """A new agent and its secret (shown once, in the invite; only a hash is kept)."""
        agent = Agent(name or f"agent{extension}", extension, tuple(queues), display.strip())
        if agent.name == RELAY_USER:
            raise InvalidInput(f"{RELAY_USER!r} is the relay's own broker user")
        secret = secrets.token_urlsafe(24)
        row = AgentRow(agent.name, agent.extension, agent.queues, agent.display, "")
        row = replace(row, secret_hash=hash_password(secret))
        if not self.store.run(self.tables.add_agent, row):
            raise InvalidInput(f"an agent named {agent.name!r} exists")
        self.write_broker_files()
        return agent, secret

    def remove(self, name: str) -> bool:
        removed = self.store.run(self.tables.remove_agent, name)
        if removed:
            self.write_broker_files()
        return removed

    def verify(self, credential: str) -> Agent | None:
        """The agent whose `name:secret` this is, or None."""
        name, _, secret = credential.partition(":")
        row = self.tables.agent(name)
        if row is None or not secret or not check_password(secret, row.secret_hash):
            return None
        return _agent(row)

    def relay_password(self) -> str:
        """The relay's own broker password, made on first use, kept in its store."""
        if self._relay_password is None:
            self._relay_password = secret_in(self.store, "relay_broker_password", 24)
        return self._relay_password

    def write_broker_files(self) -> None:
        users = [
            BrokerUser(
                RELAY_USER, hash_password(self.relay_password()), readwrite=(f"{TOPIC_ROOT}/#",)
            )
        ]
        users += [
            BrokerUser(row.name, row.secret_hash, read=_agent(row).topics)
            for row in self.tables.agents()
        ]
        self.files.write_users(users)


def secret_in(store: Store, name: str, size: int) -> str:
    """A secret of the relay's own, made on first use and kept in its store."""
    value = store.meta(name)
    if value is None:
        value = secrets.token_urlsafe(size)
        store.run(store.set_meta, name, value)
    return value


def _members(agents: Iterable[Agent], queues: set[str]) -> set[str]:
    return {a.extension for a in agents if queues.intersection(a.queues)}


class Router:
    """The tracker's `on_stored` hook: outbox rows for every extension an event concerns.

    Concerned are the agents rung, connected, calling or called; every member of the call's
    queue; and, while a caller has an unresolved missed queue call (or this call just
    resolved it), the members of that queue, so a colleague's answered callback resolves the
    shared missed call on every member's PC too."""

    def __init__(self) -> None:
        self.mine: frozenset[str] = frozenset()

    def __call__(self, conn: sqlite3.Connection, event: CallEvent, change: Change | None) -> None:
        agents = [_agent(row) for row in TeamTables.agents_in(conn)]
        self.mine = frozenset(
            x for a in agents for x in (a.extension, *a.queues)
        )  # read by the relay, which keeps the tracker's `mine` in step
        extensions = {a.extension for a in agents}
        # The parties as the call has them: `DID (EXT)` written by the history names EXT.
        fields = ("dialed_user", "connected_user", "caller_id_number", "destination_number")
        sides = {party(event.get(f)).number for f in fields}
        queues = {event.get("queue"), party(event.get("destination_number")).number} - {""}
        call = change.call if change is not None else None
        if call is not None:
            sides.update((call.caller, call.destination, call.connected_user, *call.dialed_users))
            queues.update(q for q in (call.queue, call.destination) if q)
            if call.party_key:
                queues |= TeamTables.missed_queues_in(conn, call.party_key, call.call_uuid)
        concerned = (sides & extensions) | _members(agents, queues)
        if not concerned:
            return
        body = payload("event", fields=event.fields, received=time.time())
        TeamTables.queue_in(conn, [(ext_topic(ext), body) for ext in sorted(concerned)])


def claim_in(conn: sqlite3.Connection, agent: Agent, party_key: str, now: float) -> tuple[str, str]:
    """Record `agent`'s claim on a caller's shared missed calls and queue it for the members.
    Returns ("ok", label) or ("none" | "taken", text for the agent)."""
    queues = TeamTables.missed_queues_in(conn, party_key)
    if not queues:
        return "none", "no open shared missed call from this number"
    held = TeamTables.claim_held_in(conn, party_key, now - CLAIM_SECONDS)
    if held is not None and held.agent != agent.name:
        return "taken", f"{held.display} is already calling back"
    TeamTables.put_claim_in(conn, ClaimRow(party_key, agent.name, agent.label, now))
    body = payload("claim", party_key=party_key, agent=agent.name, display=agent.label, at=now)
    agents = [_agent(row) for row in TeamTables.agents_in(conn)]
    members = _members(agents, queues) | {agent.extension}
    TeamTables.queue_in(conn, [(ext_topic(ext), body) for ext in sorted(members)])
    return "ok", agent.label


# -- publishing ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BrokerLink:
    """How to reach the broker as one user."""

    address: Address
    username: str
    password: str
    tls: ssl.SSLContext | None = None


def _marked(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        # The rows stay unacknowledged and go out again after the next reconnect.
        log.warning("could not mark outbox rows as sent: %s", task.exception())


class Publisher:
    """Sends the outbox to the broker in order until each message is acknowledged."""

    def __init__(self, core: Core, link: BrokerLink) -> None:
        self.core = core
        self.link = link
        self.connected = False
        self._wake = asyncio.Event()
        self._unsubscribe = core.tracker.subscribe(lambda _change: self._wake.set())
        self.tables = TeamTables(core.store)

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        delay = 1.0
        while True:
            try:
                async with aiomqtt.Client(
                    self.link.address.host,
                    self.link.address.port,
                    username=self.link.username,
                    password=self.link.password,
                    identifier=self.link.username,
                    tls_context=self.link.tls,
                    max_inflight_messages=_BATCH,
                    timeout=10,
                ) as client:
                    self.connected = True
                    delay = 1.0
                    log.info("connected to the broker")
                    await self._republish(client)
                    await self._drain(client)
            except aiomqtt.MqttError as exc:
                log.warning("broker connection: %s; retrying in %.0f s", exc, delay)
            except Exception:  # e.g. the store could not be read: retried, never given up
                log.exception("publishing to the broker failed; retrying in %.0f s", delay)
            finally:
                self.connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _republish(self, client: aiomqtt.Client) -> None:
        rows = self.tables.acked_since(time.time() - REPUBLISH_SECONDS)
        for start in range(0, len(rows), _BATCH):
            batch = rows[start : start + _BATCH]
            await asyncio.gather(*(client.publish(r[0], r[1], qos=1) for r in batch))

    async def _drain(self, client: aiomqtt.Client) -> None:
        # Rows up to `sent` went out on this connection; marking them acknowledged in the
        # store runs behind, so a commit (or a WAL checkpoint) never holds the next batch.
        sent = 0
        marking: set[asyncio.Task[None]] = set()
        while True:
            self._wake.clear()
            rows = self.tables.unsent(sent, _BATCH)
            if not rows:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 1.0)
                continue
            # One connection keeps the broker's order; awaiting the batch together lets
            # PUBACKs overlap instead of one round trip per message.
            results = await asyncio.gather(
                *(client.publish(r[1], r[2], qos=1) for r in rows), return_exceptions=True
            )
            acked: list[int] = []
            for row, result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    break
                acked.append(row[0])
            if acked:
                sent = acked[-1]
                task = asyncio.create_task(
                    self.core.store.write(self.tables.ack, acked, time.time(), REPUBLISH_SECONDS)
                )
                marking.add(task)
                task.add_done_callback(_marked)
                task.add_done_callback(marking.discard)
            failed = next((r for r in results if isinstance(r, BaseException)), None)
            if failed is not None:
                raise failed

    def close(self) -> None:
        self._unsubscribe()


# -- the agents' API ------------------------------------------------------------------------


class RelayApi:
    """PBX API paths for agents, answered with the relay's key on their behalf."""

    def __init__(self, core: Core, agents: Agents, public_url: str) -> None:
        self.core = core
        self.agents = agents
        self.public_url = public_url.rstrip("/")
        self._originate = SlidingWindow(*ORIGINATE_LIMIT, time.monotonic)
        self._downloads: aiohttp.ClientSession | None = None
        self.link_secret = ""  # signs recording links; set by `Relay.start`

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024)
        app.router.add_get("/pbx/originate", self._dial)
        app.router.add_post("/pbx/recording_url/", self._recording_url)
        app.router.add_post("/pbx/recording_url", self._recording_url)
        app.router.add_get("/pbx/recording/{call_uuid}", self._recording)
        app.router.add_get("/pbx/caller_ids", self._caller_ids)
        app.router.add_get("/pbx/queues", self._queues)
        app.router.add_get("/pbx/dnd/{extension}", self._dnd)
        app.router.add_get("/pbx/user_statuses", self._user_statuses)
        app.router.add_post("/team/claim", self._claim)
        app.router.add_get("/team/whoami", self._whoami)
        app.router.add_get("/health", self._health)
        app.router.add_route("*", "/pbx/{rest:.*}", self._not_for_agents)
        app.on_cleanup.append(self._cleanup)
        return app

    async def _cleanup(self, _app: web.Application) -> None:
        if self._downloads is not None:
            await self._downloads.close()

    async def _agent(self, request: web.Request) -> Agent:
        if request.method == "GET":
            credential = request.query.get("key", "")
        else:
            credential = str((await request.post()).get("key", ""))
        agent = await asyncio.to_thread(self.agents.verify, credential)
        if agent is None:
            raise web.HTTPUnauthorized(text=_CREDENTIAL_REFUSED)
        return agent

    def _failure(self, exc: PbxError) -> web.Response:
        """A PBX error passed on in the PBX's own shape (the relay's key redacted)."""
        text = self.core.redactor.redact(str(exc))
        if isinstance(exc, RateLimited):
            return web.Response(
                status=429,
                text=text,
                headers={"Retry-After": str(max(1, round(exc.retry_after)))},
            )
        if isinstance(exc, KeyRefused):
            return web.Response(
                status=502, text="the relay's API key was refused by the PBX; tell its admin"
            )
        if isinstance(exc, NotFound):
            return web.Response(status=404, text=text)
        if isinstance(exc, NetworkError):
            return web.Response(status=504, text=text)
        return web.Response(status=exc.status or 502, text=text)

    async def _dial(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        extension = request.query.get("extension", "")
        if extension != agent.extension:
            raise web.HTTPForbidden(
                text=f"a team agent dials only from its own extension ({agent.extension})"
            )
        if (delay := self._originate.wait_time()) > 0:
            return web.Response(
                status=429,
                text="too many calls are being placed at once; try again in a moment",
                headers={"Retry-After": str(max(1, round(delay)))},
            )
        self._originate.take()
        query = request.query
        try:
            call_uuid = await self.core.api().originate(
                extension,
                query.get("destination", ""),
                caller_id=query.get("caller_id") or None,
                manual_answer=query.get("manual_answer") == "true",
            )
        except PbxError as exc:
            return self._failure(exc)
        except ValueError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        log.info("agent %s dialled from %s", agent.name, extension)
        return web.Response(text=call_uuid)

    def _involved(self, agent: Agent, call_uuid: str) -> bool:
        call = self.core.store.call(call_uuid)
        if call is None:
            return False
        sides = {call.caller, call.destination, call.connected_user, *call.dialed_users}
        return agent.extension in sides or bool(call.queue and call.queue in agent.queues)

    def _signature(self, agent: str, call_uuid: str, expires: int) -> str:
        if not self.link_secret:
            raise RuntimeError("the relay's API signs links only once it has started")
        secret = self.link_secret
        message = f"{agent}\n{call_uuid}\n{expires}".encode()
        return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()

    async def _recording_url(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        call_uuid = str((await request.post()).get("call_uuid", "")).strip()
        if not call_uuid or not self._involved(agent, call_uuid):
            # The PBX's own wording for an unknown call, so the desktop shows "not found".
            raise web.HTTPNotFound(text=f"cannot find call with call_uuid {call_uuid[:80]}")
        try:
            await self.core.api().recording_url(call_uuid)
        except PbxError as exc:
            return self._failure(exc)
        expires = int(time.time() + LINK_SECONDS)
        signature = self._signature(agent.name, call_uuid, expires)
        return web.Response(
            text=f"{self.public_url}/pbx/recording/{call_uuid}"
            f"?agent={agent.name}&expires={expires}&sig={signature}"
        )

    async def _recording(self, request: web.Request) -> web.StreamResponse:
        call_uuid = request.match_info["call_uuid"]
        agent_name = request.query.get("agent", "")
        try:
            expires = int(request.query.get("expires", "0"))
        except ValueError:
            expires = 0
        expected = self._signature(agent_name, call_uuid, expires)
        if expires < time.time() or not hmac.compare_digest(expected, request.query.get("sig", "")):
            raise web.HTTPNotFound(text="this recording link has expired")
        if not any(a.name == agent_name for a in self.agents.all()):
            raise web.HTTPUnauthorized(text=_CREDENTIAL_REFUSED)
        try:
            url = await self.core.api().recording_url(call_uuid)
        except PbxError as exc:
            return self._failure(exc)
        if self._downloads is None:
            self._downloads = aiohttp.ClientSession()
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=30)
        async with self._downloads.get(url, timeout=timeout) as upstream:
            if upstream.status != 200:
                return web.Response(status=upstream.status, text="the PBX refused the recording")
            response = web.StreamResponse(
                headers={"Content-Type": upstream.content_type or "application/octet-stream"}
            )
            if upstream.content_length is not None:
                response.content_length = upstream.content_length
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(64 * 1024):
                await response.write(chunk)
            await response.write_eof()
            return response

    async def _caller_ids(self, request: web.Request) -> web.Response:
        await self._agent(request)
        try:
            numbers = await self.core.api().caller_ids()
        except PbxError as exc:
            return self._failure(exc)
        return web.json_response(numbers)

    async def _queues(self, request: web.Request) -> web.Response:
        await self._agent(request)
        try:
            names = await self.core.api().queues()
        except PbxError as exc:
            return self._failure(exc)
        return web.json_response([{"number": k, "name": v} for k, v in names.items()])

    async def _dnd(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        if request.match_info["extension"] != agent.extension:
            raise web.HTTPForbidden(text="a team agent changes only its own extension")
        try:
            text = await self.core.api().dnd(agent.extension, request.query.get("state") == "on")
        except PbxError as exc:
            return self._failure(exc)
        return web.Response(text=text)

    async def _user_statuses(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        try:
            statuses = await self.core.api().user_statuses(user=agent.extension)
        except PbxError as exc:
            return self._failure(exc)
        return web.json_response([{"user": s.user, "status": s.status} for s in statuses])

    async def _claim(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        party_key = str((await request.post()).get("party_key", "")).strip()
        outcome, text = await self.core.tracker.run_write(
            self._claim_in, agent, party_key, time.time()
        )
        if outcome == "none":
            raise web.HTTPNotFound(text=text)
        if outcome == "taken":
            raise web.HTTPConflict(text=text)
        return web.json_response({"claimed_by": text})

    def _claim_in(self, agent: Agent, party_key: str, now: float) -> tuple[str, str]:
        with self.core.store.transaction() as conn:  # on the writer: run_write
            return claim_in(conn, agent, party_key, now)

    async def _whoami(self, request: web.Request) -> web.Response:
        agent = await self._agent(request)
        return web.json_response(
            {"agent": agent.name, "extension": agent.extension, "queues": list(agent.queues)}
        )

    async def _health(self, _request: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "version": __version__})

    async def _not_for_agents(self, request: web.Request) -> web.Response:
        await self._agent(request)
        raise web.HTTPForbidden(text="not available to team agents; ask the relay's admin")


# -- the relay as a whole ---------------------------------------------------------------------


def broker_files(core: Core) -> BrokerFiles:
    return BrokerFiles(core.dirs.data / "broker")


def server_tls(config: Config) -> ssl.SSLContext | None:
    if not (config.tls_cert and config.tls_key):
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(config.tls_cert, config.tls_key)
    return context


def client_tls(config: Config) -> ssl.SSLContext | None:
    if urlsplit(config.broker_url).scheme != "mqtts":
        return None
    return ssl.create_default_context(cafile=config.tls_ca or None)


def public_urls(config: Config) -> tuple[str, str]:
    """The broker and relay addresses an invite gives agents."""
    host = socket.getfqdn()
    broker = config.broker_public_url
    if not broker:
        address = Address.parse(config.broker_url)
        scheme = "mqtts" if address.tls else "mqtt"
        broker = f"{scheme}://{host}:{address.port}"
    scheme = "https" if config.tls_cert else "http"
    relay = config.relay_url or f"{scheme}://{host}:{config.relay_port}"
    return broker, relay


def invite_for(config: Config, agent: Agent, secret: str) -> Invite:
    broker, relay = public_urls(config)
    ca = Path(config.tls_ca).read_text(encoding="utf-8").strip() if config.tls_ca else ""
    return Invite(
        broker=broker,
        relay=relay,
        agent=agent.name,
        secret=secret,
        extension=agent.extension,
        queues=agent.queues,
        ca=ca,
    )


def reload_broker(config: Config, files: BrokerFiles) -> None:
    reload(Path(config.broker_pid_file) if config.broker_pid_file else files.pid_file)


async def open_session(config: Config, agent: Agent, secret: str) -> None:
    """Start a new agent's persistent session on the broker now, so events that arrive
    before their PC first connects wait for it instead of going nowhere."""
    address = Address.parse(config.broker_url)
    deadline = asyncio.get_running_loop().time() + 5
    while True:  # the broker may still be reading the new password file
        try:
            async with session_client(address, agent.name, secret, client_tls(config)) as client:
                await client.subscribe(subscriptions(agent.extension))
            return
        except aiomqtt.MqttError as exc:
            if asyncio.get_running_loop().time() > deadline:
                raise TeamError(
                    f"could not open {agent.name}'s session on the broker ({exc}); events "
                    "for them wait from their PC's first connection on"
                ) from None
            await asyncio.sleep(0.1)


class Relay:
    """The relay's own parts: the broker (when managed), the publisher of the outbox and the
    agents' API. The runtime runs it in relay mode beside the webhook receiver, the catch-up
    and the phonebook sync, whose events it routes to the agents (`Router`)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.files = broker_files(core)
        self.agents = Agents(core.store, self.files)
        self.router = Router()
        config = core.config
        address = Address.parse(config.broker_url)
        self.broker: ManagedBroker | None = None
        if config.broker_managed:
            listen = Address(config.relay_host, address.port, address.tls)
            conf = self.files.write_config(listen, config.tls_cert, config.tls_key)
            self.broker = ManagedBroker(conf, address)
        self._address = address
        self.publisher: Publisher | None = None
        self.api = RelayApi(core, self.agents, public_urls(config)[1])
        self._api_runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.api_port = config.relay_port

    async def start(self) -> None:
        core = self.core
        core.api()  # the API key is needed for agents' calls: say so now, not at first dial
        # The store is written on its own thread; made once, these secrets are kept there.
        password = await asyncio.to_thread(self.agents.relay_password)
        self.api.link_secret = await asyncio.to_thread(
            secret_in, core.store, "relay_link_secret", 32
        )
        self.agents.write_broker_files()
        link = BrokerLink(self._address, RELAY_USER, password, client_tls(core.config))
        self.publisher = Publisher(core, link)
        core.tracker.mine = frozenset(
            x for a in self.agents.all() for x in (a.extension, *a.queues)
        )
        core.tracker.on_stored = self._on_stored
        if self.broker is not None:
            await self.broker.start()
        try:
            await self._serve()
        except BaseException:
            # Nothing half-started stays behind: a broker left running would hold its port.
            await self.stop()
            raise
        log.info("relay ready: agents' API on port %s", self.api_port)
        if not core.config.tls_cert and core.config.relay_host not in ("127.0.0.1", "::1"):
            log.warning(
                "agents' credentials and calls travel unencrypted: set tls_cert and tls_key "
                "(see docs/team.md) unless this network is trusted"
            )

    async def _serve(self) -> None:
        core = self.core
        runner = web.AppRunner(self.api.app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(
            runner, self.core.config.relay_host, self.api_port, ssl_context=server_tls(core.config)
        )
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            host = self.core.config.relay_host
            raise listen_error("relay_api", host, self.api_port, exc, "relay_port") from None
        self._api_runner = runner
        if self.api_port == 0:
            self.api_port = int(runner.addresses[0][1])
        assert self.publisher is not None
        self._tasks.append(asyncio.create_task(self.publisher.run(), name="relay-publisher"))

    def _on_stored(self, conn: sqlite3.Connection, event: CallEvent, change: Change | None) -> None:
        self.router(conn, event, change)
        # An agent added meanwhile (by another process) counts from the next event on.
        self.core.tracker.mine = self.router.mine

    async def stop(self) -> None:
        if self.core.tracker.on_stored == self._on_stored:
            self.core.tracker.on_stored = None
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.publisher is not None:
            self.publisher.close()
        if self._api_runner is not None:
            await self._api_runner.cleanup()
        if self.broker is not None:
            await self.broker.stop()


def agent_lines(agents: Sequence[Agent]) -> list[str]:
    return [
        f"{a.name:<16} ext {a.extension:<6} queues {' '.join(a.queues) or '-':<12} {a.display}"
        for a in agents
    ]

"""The team relay: the office's one webhook, every event fanned out to the agents it
concerns through the broker, and the PBX API used on the agents' behalf. `Relay` holds
its parts: the broker it runs (`broker`), the publisher of the outbox (`publisher`) and
the agents' API (`api`); the runtime runs it beside the receiver, the catch-up and the
phonebook sync, whose events `router` routes."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import socket
import sqlite3
import ssl
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiomqtt

from bulutpop import __version__
from bulutpop.app.core import Core
from bulutpop.app.guard import GuardedServer, Limits
from bulutpop.calls import phone
from bulutpop.calls.events import CallEvent
from bulutpop.calls.tracker import Change
from bulutpop.errors import (
    BrokerError,
    InvalidInput,
    TeamError,
)
from bulutpop.local.config import Config
from bulutpop.pbx import catchup, receiver
from bulutpop.pbx.phonebook import QUEUES_KEY
from bulutpop.pbx.receiver import listen_error
from bulutpop.storage.store import Store
from bulutpop.storage.team import TeamTables
from bulutpop.team.link import session_client
from bulutpop.team.protocol import (
    TEAM_TOPIC,
    Address,
    Invite,
    ext_topic,
    forget_message,
    payload,
    subscriptions,
)
from bulutpop.team.relay.agents import Agent, Agents, secret_in
from bulutpop.team.relay.api import RelayApi
from bulutpop.team.relay.broker import (
    RELAY_USER,
    BrokerFiles,
    ManagedBroker,
    Seen,
    reload,
    running_as_root,
)
from bulutpop.team.relay.publisher import BrokerLink, Publisher
from bulutpop.team.relay.router import Router

log = logging.getLogger(__name__)

# Agents' PCs keep a connection or two each; offices behind one address (NAT) share the
# per-address cap, where the idle ones make room for each other.
API_LIMITS = Limits()

NAMES_SECONDS = 60.0  # how often the relay checks whether the office's names changed
NAMES_SENT_KEY = "team.names_sent"  # meta: digest of the names last sent to the agents


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
    """The broker and relay addresses an invite gives agents: `broker_public_url` and
    `relay_url`, else this machine's name (`socket.getfqdn`) with the ports."""
    host = socket.getfqdn()
    broker = config.broker_public_url
    if not broker:
        address = Address.parse(config.broker_url)
        scheme = "mqtts" if address.tls else "mqtt"
        broker = f"{scheme}://{host}:{address.port}"
    scheme = "https" if config.tls_cert else "http"
    relay = config.relay_url or f"{scheme}://{host}:{config.relay_port}"
    return broker, relay


def refuse_root(allow_root: bool) -> None:
    """The relay holds the office's API key and faces the network: never as root, unless
    asked (a container, CI)."""
    if running_as_root() and not allow_root:
        raise InvalidInput(
            "the relay does not run as root: run it as a user of its own (docs/team.md: "
            "`useradd --system bulutpop` and the systemd unit packaging/linux/"
            "bulutpop-relay.service), or add --allow-root to run it as root anyway (a "
            "container that is the relay alone)"
        )


def status_token(core: Core) -> str:
    """The secret `GET /team/status` asks for; made on first use, kept in the store, so
    `bulutpop relay status` (the same user) and a monitoring system given it can ask."""
    token = secret_in(core.store, "relay_status_token", 32)
    core.redactor.add(token)
    return token


def local_api_url(config: Config) -> str:
    """The relay's API as seen from its own machine (`bulutpop relay status`)."""
    host = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}.get(
        config.relay_host, config.relay_host
    )
    host = f"[{host}]" if ":" in host else host
    scheme = "https" if config.tls_cert else "http"
    return f"{scheme}://{host}:{config.relay_port}"


def stored_status(core: Core) -> dict[str, Any]:
    """What the relay's store says, running or not: its agents, the outbox the broker has
    not acknowledged, the PBX's last event and the last catch-up."""
    tables = TeamTables(core.store)
    unsent = tables.unsent_by_topic()
    rows = core.store.read(
        "SELECT received_ts FROM events WHERE source = ? ORDER BY received_ts DESC LIMIT 1",
        (receiver.SOURCE,),
    )
    try:
        saved = json.loads(core.store.meta(catchup.META_KEY) or "{}")
    except ValueError:
        saved = {}
    return {
        "version": __version__,
        "now": time.time(),
        "pbx": {"last_event": float(rows[0][0]) if rows else None},
        "catchup": {
            "last_run": saved.get("last_run"),
            "recovered": saved.get("last_recovered", 0),
            "fetched": saved.get("last_fetched", 0),
        },
        "outbox": {"unsent": sum(unsent.values())},
        "agents": [
            {
                "name": agent.name,
                "extension": agent.extension,
                "display": agent.display,
                "queues": list(agent.queues),
                "unsent": unsent.get(ext_topic(agent.extension), 0) + unsent.get(TEAM_TOPIC, 0),
            }
            for agent in Agents(core.store, broker_files(core)).all()
        ],
    }


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
        display=agent.display,
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


async def tell_agents_to_forget(core: Core, number: str) -> int:
    """Ask every agent's PC to forget a number the relay has forgotten (after it:
    `Store.forget` deletes the outbox rows that mention the number). The request goes into
    the outbox, which the running relay sends whoever wrote it, and the broker keeps it for
    a PC that is off. Returns how many agents there are."""
    tables = TeamTables(core.store)
    await core.store.write(tables.queue, [forget_message(phone.canonical_key(number))])
    return len(tables.agents())


def names_message(core: Core, agents: Sequence[Agent]) -> bytes:
    """The office's names for agents' PCs: every address book on the relay (the PBX's
    phonebook, imported files) as one, colleagues' display names and the queues' names."""
    contacts = [
        [c.external_id, c.name, c.company, [list(n) for n in c.numbers]]
        for c in TeamTables(core.store).book()
    ]
    colleagues = {a.extension: a.display for a in agents if a.display}
    queues = json.loads(core.store.meta(QUEUES_KEY) or "{}")
    return payload("names", contacts=contacts, colleagues=colleagues, queues=queues)


def _queue_names_in(store: Store, body: bytes) -> bool:
    """Queue the names for every agent unless they are what was last sent; whether queued."""
    digest = hashlib.sha256(body).hexdigest()
    with store.transaction() as conn:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (NAMES_SENT_KEY,)).fetchone()
        if row is not None and row[0] == digest:
            return False
        TeamTables.queue_in(conn, [(TEAM_TOPIC, body)])
        conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (NAMES_SENT_KEY, digest),
        )
        return True


class Relay:
    """The relay's own parts: the broker (when managed), the publisher of the outbox and the
    agents' API. The runtime runs it in relay mode beside the webhook receiver, the catch-up
    and the phonebook sync, whose events it routes to the agents (`Router`)."""

    def __init__(self, core: Core, catch_up: catchup.CatchUp | None = None) -> None:
        self.core = core
        self.catch_up = catch_up  # the runtime's, for its state in the status
        self.files = broker_files(core)
        self.agents = Agents(core.store, self.files)
        self.router = Router()
        self.agents.on_change = self.router.forget
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
        self.api.names = self.names
        self._names_wake = asyncio.Event()
        self.names_every = NAMES_SECONDS  # a test may shorten it
        self._api_server: GuardedServer | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.api_port = config.relay_port
        # Messages queued per topic since the start (`_on_stored`), and each agent's count
        # when their PC left the broker: the difference waits for them there.
        self._queued: Counter[str] = Counter()
        self._queued_seq = 0
        self._left_at: dict[str, int] = {}
        self.started = time.time()
        if self.broker is not None:
            self.broker.presence.listeners.append(self._presence_changed)

    async def start(self) -> None:
        core = self.core
        core.api()  # the API key is needed for agents' calls: say so now, not at first dial
        # The store is written on its own thread; made once, these secrets are kept there.
        password = await asyncio.to_thread(self.agents.relay_password)
        self.api.link_secret = await asyncio.to_thread(
            secret_in, core.store, "relay_link_secret", 32
        )
        self.api.status_token = await asyncio.to_thread(status_token, core)
        self.api.status = self.status
        self._queued_seq = await asyncio.to_thread(TeamTables(core.store).last_seq)
        self.agents.write_broker_files()
        if self.broker is None:  # an external broker learns the relay's own user now
            try:
                reload_broker(core.config, self.files)
            except BrokerError as exc:
                log.warning("%s; the relay connects once the broker reads its files", exc)
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
        host = self.core.config.relay_host
        # Open to every agent's network: behind the guard, like the webhook, so that idle or
        # slow clients cannot take the descriptors the webhook and the agents need.
        server = GuardedServer(self.api.app(), API_LIMITS, tls=server_tls(self.core.config))
        try:
            await server.start(host, self.api_port)
        except OSError as exc:
            raise listen_error("relay_api", host, self.api_port, exc, "relay_port") from None
        self._api_server = server
        self.api_port = server.port
        assert self.publisher is not None
        self._tasks.append(asyncio.create_task(self.publisher.run(), name="relay-publisher"))
        self._tasks.append(asyncio.create_task(self._send_names(), name="relay-names"))

    def names(self) -> bytes:
        return names_message(self.core, self.agents.all())

    def names_changed(self) -> None:
        """The address books changed here (the phonebook sync, an import): send them now."""
        self._names_wake.set()

    async def _send_names(self) -> None:
        """Keep agents' PCs' names in step with the relay's: whenever they change, checked
        now and then too, since `bulutpop contacts import` or `relay agent add` run in
        another process."""
        while True:
            self._names_wake.clear()
            try:
                body = await asyncio.to_thread(self.names)
                if await self.core.tracker.run_write(_queue_names_in, self.core.store, body):
                    log.info("the office's names changed: sent to the agents")
                    if self.publisher is not None:
                        self.publisher.wake()
            except Exception:  # the store failed: tried again at the next round
                log.exception("could not send the office's names to the agents")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._names_wake.wait(), self.names_every)

    def _on_stored(self, conn: sqlite3.Connection, event: CallEvent, change: Change | None) -> None:
        self.router(conn, event, change)
        # Counted before the commit: were it rolled back, the status overcounts, harmlessly.
        self._queued_seq, queued = TeamTables.queued_since_in(conn, self._queued_seq)
        self._queued.update(queued)
        # An agent added meanwhile (by another process) counts from the next event on.
        self.core.tracker.mine = self.router.mine

    def _waiting_for(self, agent: Agent) -> int:
        return self._queued[ext_topic(agent.extension)] + self._queued[TEAM_TOPIC]

    def _presence_changed(self, client: str, seen: Seen) -> None:
        agent = self.agents.named(client)
        if agent is not None and not seen.connected:
            self._left_at[client] = self._waiting_for(agent)

    def status(self) -> dict[str, Any]:
        """The running relay's state for `GET /team/status` and `bulutpop relay status`:
        what the store says (`stored_status`), each agent's connection and the messages
        queued for them while away, the broker, and `problems`, a list of what needs an
        admin (empty: all is well)."""
        config = self.core.config
        status = stored_status(self.core)
        presence = self.broker.presence.clients if self.broker is not None else None
        problems: list[str] = []
        for entry in status["agents"]:
            agent = self.agents.named(entry["name"])
            seen = presence.get(entry["name"]) if presence is not None else None
            entry["connected"] = None if presence is None else bool(seen and seen.connected)
            entry["since"] = seen.at if seen is not None else None
            if agent is None or presence is None or entry["connected"]:
                entry["waiting"] = None
                continue
            # Away since the relay started, or since their PC left: queued since then.
            entry["waiting"] = self._waiting_for(agent) - self._left_at.get(agent.name, 0)
            if entry["waiting"]:
                problems.append(
                    f"agent {agent.name} ({agent.extension}) is offline with "
                    f"{entry['waiting']} message(s) waiting"
                )
        connected = self.publisher is not None and self.publisher.connected
        status["broker"] = {
            "url": config.broker_url,
            "managed": self.broker is not None,
            "running": self.broker.running if self.broker is not None else None,
            "relay_connected": connected,
        }
        if not connected:
            problems.append("the relay is not connected to the broker: events wait in its outbox")
        live = self.catch_up.status if self.catch_up is not None else None
        if live is not None and live.error is not None:
            status["catchup"]["error"] = self.core.redactor.redact(str(live.error))
            problems.append(f"the last catch-up failed: {status['catchup']['error']}")
        status["started"] = self.started
        status["problems"] = problems
        return status

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
        if self._api_server is not None:
            await self._api_server.stop()
        if self.broker is not None:
            await self.broker.stop()

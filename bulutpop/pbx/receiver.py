"""The webhook receiver: the embedded aiohttp server the PBX posts call events to.

An event is acknowledged only after the tracker has committed it, so a 200 means "stored".
The secret token in the path is the only thing that tells the PBX apart from anyone else on
the internet: it is compared in constant time and never logged.

The port is open to anyone who can reach it, so connections are bounded: a request must
arrive whole within a deadline, and past a cap on open connections the longest-waiting idle
one is dropped, so that slow or idle clients cannot hold the sockets the PBX needs.
"""

from __future__ import annotations

import asyncio
import errno
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, cast

import aiohttp
from aiohttp import web

from bulutpop import __version__
from bulutpop.calls.events import parse_body
from bulutpop.calls.tracker import CallTracker
from bulutpop.errors import CannotListen
from bulutpop.local.net import client_session

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
KEEPALIVE_SECONDS = 15.0
# A whole request (head and body) must arrive within this, from connecting or from the last
# answer; it closes idle keep-alive connections before KEEPALIVE_SECONDS does.
REQUEST_SECONDS = 10.0
MAX_CONNECTIONS = 256
SOURCE = "webhook"


def listen_error(
    what: Literal["receiver", "relay_api", "broker"],
    host: str,
    port: int,
    exc: OSError,
    setting: str,
) -> CannotListen:
    """Why a server of ours could not listen, from the socket's error."""
    if exc.errno == errno.EADDRINUSE:
        return CannotListen(what, host, port, "in_use", setting)
    if exc.errno == errno.EACCES:
        return CannotListen(what, host, port, "not_allowed", setting, exc.strerror or "")
    return CannotListen(what, host, port, "bad_address", setting, str(exc))


@dataclass
class ReceiverState:
    token: str
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    received: int = 0
    rejected: int = 0


TRACKER = web.AppKey("tracker", CallTracker)
STATE = web.AppKey("receiver_state", ReceiverState)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class _Connection(asyncio.Protocol):
    """One client connection: aiohttp's protocol inside, with a deadline around it.

    A wrapper rather than a subclass: aiohttp's `Server` builds its `RequestHandler` itself,
    with no hook for another class, but it is a public protocol factory, and delegating the
    asyncio protocol methods needs nothing private.
    """

    def __init__(self, guard: _Guard, inner: asyncio.Protocol) -> None:
        self._guard = guard
        self._inner = inner
        self._transport: asyncio.Transport | None = None
        self._admitted = False
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        if not self._guard.admit(self):
            self._transport.close()
            return
        self._admitted = True
        self._inner.connection_made(transport)
        self.await_request()

    def data_received(self, data: bytes) -> None:
        if self._admitted:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._admitted else None

    def pause_writing(self) -> None:
        if self._admitted:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._admitted:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        self._guard.forget(self)
        if self._admitted:
            self._admitted = False
            self._inner.connection_lost(exc)

    def await_request(self) -> None:
        """Start the clock: the next request must be in before it runs out."""
        self._stop_clock()
        if self._transport is None or self._transport.is_closing():
            return
        self._deadline = asyncio.get_running_loop().call_later(
            self._guard.request_seconds, self.drop, "no whole request in time"
        )
        self._guard.waiting(self)

    def request_received(self) -> None:
        """A request is in and being answered: it may take as long as the store needs."""
        self._stop_clock()
        self._guard.busy(self)

    def drop(self, why: str) -> None:
        log.debug("closing a connection: %s", why)
        self._stop_clock()
        self._guard.forget(self)
        if self._transport is not None:
            self._transport.close()  # connection_lost follows, and tells aiohttp

    def _stop_clock(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


class _Guard:
    """The protocol factory the listening socket uses: counts connections and keeps the
    ones waiting for a request in the order they started waiting, oldest first."""

    def __init__(
        self, protocols: Callable[[], asyncio.Protocol], limit: int, request_seconds: float
    ) -> None:
        self._protocols = protocols
        self.limit = limit
        self.request_seconds = request_seconds
        self._open: set[_Connection] = set()
        self._waiting: dict[_Connection, None] = {}  # insertion-ordered: oldest first
        self._warned_at: float | None = None

    def __call__(self) -> asyncio.Protocol:
        return _Connection(self, self._protocols())

    @property
    def count(self) -> int:
        return len(self._open)

    def admit(self, connection: _Connection) -> bool:
        if len(self._open) >= self.limit:
            self._warn()
            # A connection waiting for a request has sent nothing worth keeping (an idle
            # keep-alive, or a client too slow to finish): dropping the one that has waited
            # longest lets the newcomer in. An attacker must open `limit` connections
            # between the PBX's connect and its request (a millisecond) to push it out.
            oldest = next(iter(self._waiting), None)
            if oldest is None:
                return False  # every connection is answering a request: refuse this one
            oldest.drop("too many connections")
        self._open.add(connection)
        return True

    def waiting(self, connection: _Connection) -> None:
        self._waiting.pop(connection, None)
        self._waiting[connection] = None

    def busy(self, connection: _Connection) -> None:
        self._waiting.pop(connection, None)

    def forget(self, connection: _Connection) -> None:
        self._waiting.pop(connection, None)
        self._open.discard(connection)

    def _warn(self) -> None:
        # Once a minute at most: a flood of connections must not become a flood of logs.
        now = asyncio.get_running_loop().time()
        if self._warned_at is None or now - self._warned_at > 60:
            self._warned_at = now
            log.warning("%d connections open: dropping the idle ones", len(self._open))


@web.middleware
async def _request_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    connection = request.transport.get_protocol() if request.transport else None
    if not isinstance(connection, _Connection):  # make_app served without a Receiver
        return await handler(request)
    # The body is part of the request the deadline is for; read now (it is kept for the
    # handler), and the clock stops only once it is in.
    try:
        await request.read()
    except ConnectionResetError:
        # The deadline (or the client) closed the connection mid-body: no one to answer, and
        # nothing for aiohttp to log as a handler's error.
        return web.Response(status=408)
    connection.request_received()
    try:
        return await handler(request)
    finally:
        connection.await_request()


@web.middleware
async def _allow_list(request: web.Request, handler: Handler) -> web.StreamResponse:
    networks = request.app[STATE].networks
    if networks:
        try:
            remote = ipaddress.ip_address(request.remote or "")
        except ValueError:
            raise web.HTTPForbidden(text="client address not allowed\n") from None
        if not any(remote in net for net in networks):
            raise web.HTTPForbidden(text="client address not allowed\n")
    return await handler(request)


async def _receive(request: web.Request) -> web.Response:
    state = request.app[STATE]
    if not hmac.compare_digest(
        request.match_info.get("token", "").encode("utf-8", "replace"), state.token.encode()
    ):
        raise web.HTTPNotFound()
    if request.method != "POST":
        raise web.HTTPMethodNotAllowed(request.method, ["POST"])
    body = await request.read()  # aiohttp answers 413 past client_max_size
    tracker = request.app[TRACKER]
    content_type = request.headers.get("Content-Type", "")[:200]
    parsed = parse_body(body)
    if parsed.probe:
        if body.strip() not in (b"", b"{}"):
            # Not the PBX's usual probe: acknowledge it the same way, but keep it to look at.
            await tracker.reject(body, "no event_type or call_uuid", content_type, SOURCE)
        log.info("notification URL check answered")
        return web.Response(text="OK\n")
    if parsed.event is None:
        state.rejected += 1
        await tracker.reject(body, parsed.problem, content_type, SOURCE)
        log.warning("refused an event: %s (kept for inspection)", parsed.problem)
        return web.Response(status=400, text=parsed.problem + "\n")
    event = parsed.event
    try:
        change = await tracker.ingest(event, body, SOURCE)
    except Exception:
        log.exception("could not store an event for call %s", event.call_uuid[:64])
        # 503 asks the PBX to try again; nothing was acknowledged.
        return web.Response(status=503, text="could not store the event\n")
    state.received += 1
    log.info(
        "%s %s call %s%s",
        event.event_type[:20] or "?",
        event.get("direction")[:10] or "-",
        event.call_uuid[:64],
        "" if change else " (duplicate)",
    )
    return web.Response(text="OK\n")


async def _health(request: web.Request) -> web.Response:
    state = request.app[STATE]
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "events_received": state.received,
            "events_rejected": state.rejected,
        }
    )


def make_app(tracker: CallTracker, token: str, allow_from: Sequence[str] = ()) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[_request_deadline, _allow_list])
    app[TRACKER] = tracker
    app[STATE] = ReceiverState(
        token=token, networks=tuple(ipaddress.ip_network(n, strict=False) for n in allow_from)
    )
    app.router.add_route("*", "/events/{token}", _receive)
    app.router.add_get("/health", _health)
    return app


class Receiver:
    """Runs `make_app` on a host and port; start/stop in pairs."""

    def __init__(
        self,
        tracker: CallTracker,
        token: str,
        host: str,
        port: int,
        allow_from: Sequence[str] = (),
        *,
        max_connections: int = MAX_CONNECTIONS,
        request_seconds: float = REQUEST_SECONDS,
    ) -> None:
        self.app = make_app(tracker, token, allow_from)
        self.host = host
        self.port = port
        self.max_connections = max_connections
        self.request_seconds = request_seconds
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None
        self._guard: _Guard | None = None

    @property
    def connections(self) -> int:
        """Connections open now (admitted ones: a refused connection is closed at once)."""
        return self._guard.count if self._guard is not None else 0

    @property
    def state(self) -> ReceiverState:
        return self.app[STATE]

    async def start(self) -> None:
        # access_log=None: aiohttp's access log would write the secret token (in the path).
        runner = web.AppRunner(
            self.app,
            access_log=None,
            handle_signals=False,
            # The PBX reconnects when it needs to; idle keep-alive sockets are closed soon
            # (by the request deadline; aiohttp's own timer is a backstop).
            keepalive_timeout=KEEPALIVE_SECONDS,
        )
        await runner.setup()
        assert runner.server is not None
        # Listening ourselves, not through web.TCPSite, to put the guard between the socket
        # and aiohttp's protocol factory.
        guard = _Guard(runner.server, self.max_connections, self.request_seconds)
        try:
            server = await asyncio.get_running_loop().create_server(
                guard, self.host, self.port, backlog=256
            )
        except OSError as exc:
            await runner.cleanup()
            raise listen_error("receiver", self.host, self.port, exc, "listen_port") from None
        self._runner, self._server, self._guard = runner, server, guard
        if self.port == 0:
            self.port = int(server.sockets[0].getsockname()[1])
        log.info("listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()  # stop accepting; aiohttp closes the open connections
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None


# -- is it reachable? ---------------------------------------------------------------------------

PROBE_SECONDS = 10.0

ProbeOutcome = Literal[
    "reached",  # a 2xx: the PBX will accept this URL
    "unknown_host",  # the name does not resolve
    "untrusted",  # its certificate is not trusted here
    "refused",  # nothing listens there
    "unreachable",  # no connection for another reason (`detail`)
    "timeout",
    "redirect",  # the PBX follows no redirects (`location`)
    "not_this_app",  # a 404: a server, but not this receiver (or not its secret path)
    "proxy",  # 502/503/504: a tunnel or proxy that cannot reach this PC's receiver
    "status",  # any other HTTP status
]


@dataclass(frozen=True, slots=True)
class ProbeResult:
    outcome: ProbeOutcome
    status: int | None = None
    location: str = ""
    detail: str = ""


async def probe(url: str, timeout: float = PROBE_SECONDS) -> ProbeResult:
    """Post what the PBX posts when a notification URL is saved (`{}`, form type, no
    redirects followed) and say what came of it."""
    try:
        async with (
            client_session(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
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
        return ProbeResult("unknown_host")
    except aiohttp.ClientConnectorCertificateError:
        return ProbeResult("untrusted")
    except aiohttp.ClientConnectorError as exc:
        if exc.os_error.errno == errno.ECONNREFUSED:
            return ProbeResult("refused")
        return ProbeResult("unreachable", detail=exc.os_error.strerror or type(exc).__name__)
    except TimeoutError:
        return ProbeResult("timeout")
    except aiohttp.ClientError as exc:
        return ProbeResult("unreachable", detail=str(exc) or type(exc).__name__)
    if 200 <= status < 300:
        return ProbeResult("reached", status)
    if 300 <= status < 400:
        return ProbeResult("redirect", status, location=location)
    if status == 404:
        return ProbeResult("not_this_app", status)
    if status in (502, 503, 504):
        return ProbeResult("proxy", status)
    return ProbeResult("status", status)

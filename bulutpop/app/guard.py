"""What stands between a listening socket of ours and aiohttp: who may connect, how many at
once, and how long a request may take to arrive.

The webhook receiver and the relay's agents' API are open to anyone who can reach them, so
each runs behind a `Guard`:

* a client outside the allow-list is refused as it connects, before anything is read, so it
  takes no connection slot;
* a request must arrive whole (TLS handshake, head and body) within a deadline, from
  connecting or from the last answer;
* past a cap on open connections (in all, and from one address) the idle one that has waited
  longest is dropped to make room; a connection that has started sending a request is
  never dropped for room, only by its deadline. When there is no idle one, the newcomer is
  refused.

Every open connection holds a file descriptor: with the caps, a flood of connections to one
server cannot use up the process's descriptors and starve another server (or the store).
`raise_open_files` gives the process room above the 1,024 a service often starts with.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from aiohttp import web

log = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Enough for every cap here and the broker's; more only slows down a child closing every
# descriptor it might have inherited (macOS).
OPEN_FILES = 65536
# asyncio accepts up to this many connections at a time before any of them can be dropped
# (and the kernel queues as many): a server holds at most its cap plus this many
# descriptors, the webhook's and the agents' API's together about 800 of a service's 1,024.
BACKLOG = 128
KEEPALIVE_SECONDS = 15.0  # aiohttp's own timer on idle connections: a backstop to the deadline


@dataclass(frozen=True, slots=True)
class Limits:
    connections: int = 256  # open at once
    # From one client: an IPv4 address, an IPv6 /64 (what one household or office gets).
    per_address: int = 64
    request_seconds: float = 10.0  # for a whole request to arrive (see the module docstring)


def networks(cidrs: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def _address(peer: Any) -> Address | None:
    """The client's IP address from a socket's peer name (an IPv4 one when it is mapped into
    IPv6 by a dual-stack listener)."""
    try:
        address = ipaddress.ip_address(peer[0])
    except (TypeError, IndexError, ValueError):
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _client(address: Address | None) -> Address | Network | None:
    """Whom a connection counts against for the per-address cap."""
    if isinstance(address, ipaddress.IPv6Address):
        return ipaddress.IPv6Network((int(address) >> 64 << 64, 64))
    return address


class Connection(asyncio.Protocol):
    """One client connection: aiohttp's protocol inside, with the guard's rules around it.

    A wrapper rather than a subclass: aiohttp's `Server` builds its `RequestHandler` itself,
    with no hook for another class, but it is a public protocol factory, and delegating the
    asyncio protocol methods needs nothing private.
    """

    def __init__(self, guard: Guard, inner: asyncio.Protocol) -> None:
        self.guard = guard
        self.client: Address | Network | None = None
        self._inner = inner
        self._transport: asyncio.Transport | None = None
        self._started = False  # aiohttp's protocol has the connection (after any handshake)
        self._handshake: asyncio.Task[None] | None = None  # held: the loop keeps weak refs
        self._early: list[bytes] = []
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        address = _address(transport.get_extra_info("peername"))
        self.client = _client(address)
        if not self.guard.admit(self, address):
            self._transport.abort()
            return
        self.await_request()  # the clock runs through the TLS handshake too
        if self.guard.tls is None:
            self._start(self._transport)
        else:
            self._handshake = asyncio.ensure_future(self._start_tls(transport, self.guard.tls))

    async def _start_tls(self, transport: asyncio.BaseTransport, context: ssl.SSLContext) -> None:
        # TLS above the guard rather than under it: a client that never finishes its
        # handshake is counted and timed like any other.
        loop = asyncio.get_running_loop()
        seconds = self.guard.limits.request_seconds
        try:
            tls = await loop.start_tls(
                cast(asyncio.Transport, transport),
                self,
                context,
                server_side=True,
                ssl_handshake_timeout=seconds,
                ssl_shutdown_timeout=seconds,
            )
        except OSError as exc:  # start_tls has closed the connection: connection_lost follows
            log.debug("TLS handshake failed: %s", exc)
            return
        if tls is None or tls.is_closing():
            return
        self._transport = tls
        self._start(tls)

    def _start(self, transport: asyncio.Transport) -> None:
        self._started = True
        self._inner.connection_made(transport)
        early, self._early = self._early, []
        for data in early:
            self._inner.data_received(data)

    def data_received(self, data: bytes) -> None:
        self.guard.receiving(self)
        if self._started:
            self._inner.data_received(data)
        else:  # decrypted as the handshake ends, before start_tls has returned
            self._early.append(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self._started else None

    def pause_writing(self) -> None:
        if self._started:
            self._inner.pause_writing()

    def resume_writing(self) -> None:
        if self._started:
            self._inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_clock()
        self.guard.forget(self)
        if self._started:
            self._started = False
            self._inner.connection_lost(exc)

    def await_request(self) -> None:
        """Start the clock: the next request must be in before it runs out."""
        self._stop_clock()
        if self._transport is None or self._transport.is_closing():
            return
        self._deadline = asyncio.get_running_loop().call_later(
            self.guard.limits.request_seconds, self.drop, "no whole request in time"
        )
        self.guard.idle(self)

    def request_received(self) -> None:
        """A request is in and being answered: it may take as long as the store needs."""
        self._stop_clock()
        self.guard.receiving(self)

    def drop(self, why: str) -> None:
        log.debug("closing a connection: %s", why)
        self._stop_clock()
        self.guard.forget(self)
        if self._transport is not None:
            # At once: only a connection waiting for a request is dropped, so nothing of an
            # answer is lost, and a TLS goodbye would wait on a client that may never reply.
            self._transport.abort()  # connection_lost follows, and tells aiohttp

    def _stop_clock(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None


class Guard:
    """The protocol factory the listening socket uses: counts the open connections (in all
    and per client) and keeps the idle ones in the order they became idle, oldest first."""

    def __init__(
        self,
        protocols: Callable[[], asyncio.Protocol],
        limits: Limits,
        allow: tuple[Network, ...] = (),
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self._protocols = protocols
        self.limits = limits
        self.allow = allow
        self.tls = tls
        self._open: set[Connection] = set()
        self._per_client: dict[Address | Network | None, dict[Connection, None]] = {}
        self._idle: dict[Connection, None] = {}  # insertion-ordered: oldest first
        self._warned_at: dict[str, float] = {}

    def __call__(self) -> asyncio.Protocol:
        return Connection(self, self._protocols())

    @property
    def count(self) -> int:
        return len(self._open)

    def allows(self, address: Address | None) -> bool:
        return not self.allow or (address is not None and any(address in n for n in self.allow))

    def trusts(self, address: Address | None) -> bool:
        """Whether a client may learn more than that the server runs: one on this machine,
        or in the allow-list when there is one."""
        if address is None:
            return False
        return address.is_loopback or (bool(self.allow) and self.allows(address))

    def admit(self, connection: Connection, address: Address | None) -> bool:
        if not self.allows(address):
            self._warn("refused", f"refused connections from outside allow_from (last {address})")
            return False
        same = self._per_client.get(connection.client, {})
        if len(same) >= self.limits.per_address:
            self._warn("client", f"{len(same)} connections open from {connection.client}")
            # The oldest that connected and sent nothing since its last answer.
            victim = next((c for c in same if c in self._idle), None)
            if victim is None:
                return False
            victim.drop("too many connections from one client")
        if len(self._open) >= self.limits.connections:
            self._warn("open", f"{len(self._open)} connections open: dropping the idle ones")
            # An idle connection has sent nothing worth keeping (a keep-alive between
            # requests, a client that connected and waits): dropping the one that has
            # waited longest lets the newcomer in.
            victim = next(iter(self._idle), None)
            if victim is None:
                return False  # every connection is sending or being answered: refuse this one
            victim.drop("too many connections")
        self._open.add(connection)
        self._per_client.setdefault(connection.client, {})[connection] = None
        return True

    def idle(self, connection: Connection) -> None:
        self._idle.pop(connection, None)
        self._idle[connection] = None

    def receiving(self, connection: Connection) -> None:
        self._idle.pop(connection, None)

    def forget(self, connection: Connection) -> None:
        self._idle.pop(connection, None)
        self._open.discard(connection)
        same = self._per_client.get(connection.client)
        if same is not None:
            same.pop(connection, None)
            if not same:
                del self._per_client[connection.client]

    def close_all(self) -> None:
        """Drop what is still open (connections aiohttp never saw: a TLS handshake)."""
        for connection in list(self._open):
            connection.drop("the server stops")

    def _warn(self, kind: str, text: str) -> None:
        # Once a minute at most per kind: a flood of connections must not become one of logs.
        now = asyncio.get_running_loop().time()
        last = self._warned_at.get(kind)
        if last is None or now - last > 60:
            self._warned_at[kind] = now
            log.warning("%s", text)


def _connection(request: web.Request) -> Connection | None:
    protocol = request.transport.get_protocol() if request.transport else None
    return protocol if isinstance(protocol, Connection) else None


@web.middleware
async def request_deadline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The request's part of the guard: the clock stops once the body is in."""
    connection = _connection(request)
    if connection is None:  # an app served without a guard
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


def trusted(request: web.Request) -> bool:
    """Whether the client may learn more than that the server runs (see `Guard.trusts`)."""
    connection = _connection(request)
    address = _address((request.remote,))
    if connection is None:
        return address is not None and address.is_loopback
    return connection.guard.trusts(address)


class GuardedServer:
    """An aiohttp application served behind a `Guard`; start/stop in pairs."""

    def __init__(
        self,
        app: web.Application,
        limits: Limits,
        allow: tuple[Network, ...] = (),
        tls: ssl.SSLContext | None = None,
    ) -> None:
        self.app = app
        self.limits = limits
        self.allow = allow
        self.tls = tls
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._server: asyncio.Server | None = None
        self._guard: Guard | None = None

    @property
    def connections(self) -> int:
        """Connections open now (admitted ones: a refused connection is closed at once)."""
        return self._guard.count if self._guard is not None else 0

    async def start(self, host: str, port: int) -> None:
        """Listen on `host` and `port` (0: any free one, then in `port`); OSError if not."""
        runner = web.AppRunner(
            self.app,
            # Off: aiohttp's access log would write the receiver's token (in the path) and
            # agents' credentials (in query strings).
            access_log=None,
            handle_signals=False,
            keepalive_timeout=KEEPALIVE_SECONDS,
        )
        await runner.setup()
        assert runner.server is not None
        # Listening ourselves, not through web.TCPSite, to put the guard between the socket
        # and aiohttp's protocol factory.
        guard = Guard(runner.server, self.limits, self.allow, self.tls)
        loop = asyncio.get_running_loop()
        try:
            if sys.platform == "win32":
                server = await loop.create_server(guard, sock=exclusive_socket(host, port))
            else:
                server = await loop.create_server(guard, host, port, backlog=BACKLOG)
        except OSError:
            await runner.cleanup()
            raise
        self._runner, self._server, self._guard = runner, server, guard
        self.port = int(server.sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()  # stop accepting; aiohttp closes the open connections
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._guard is not None:
            self._guard.close_all()
            self._guard = None
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None


def exclusive_socket(host: str, port: int) -> socket.socket:
    """A listening socket on host:port that no other program can bind beside it. Windows
    lets a socket with SO_REUSEADDR take a port another one listens on (another user's
    program on a terminal server, say) unless the first bound it SO_EXCLUSIVEADDRUSE; on
    Unix a port is shared only between sockets of the same user that all ask for it."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_EXCLUSIVEADDRUSE, 1)  # type: ignore[attr-defined,unused-ignore]
        sock.bind(address)
        sock.listen(BACKLOG)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def raise_open_files() -> int | None:
    """Raise this process's soft limit on open files toward its hard limit (children, such
    as the broker, inherit it): a service often starts with 1,024, which a flood of
    connections uses up. Returns the soft limit now; None where there is none (Windows)."""
    try:
        import resource
    except ImportError:  # Windows: no such limit to raise
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, OPEN_FILES)
    while target > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
            return target
        except (ValueError, OSError):  # macOS caps it below the hard limit (OPEN_MAX)
            target //= 2
    return soft

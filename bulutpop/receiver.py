"""The webhook receiver: the embedded aiohttp server the PBX posts call events to.

An event is acknowledged only after the tracker has committed it, so a 200 means "stored".
The secret token in the path is the only thing that tells the PBX apart from anyone else on
the internet: it is compared in constant time and never logged.
"""

from __future__ import annotations

import errno
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from aiohttp import web

from bulutpop import __version__
from bulutpop.events import parse_body
from bulutpop.tracker import CallTracker

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
KEEPALIVE_SECONDS = 15.0
SOURCE = "webhook"


class ReceiverError(Exception):
    """The receiver cannot start; the message says what to change."""


@dataclass
class ReceiverState:
    token: str
    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    received: int = 0
    rejected: int = 0


TRACKER = web.AppKey("tracker", CallTracker)
STATE = web.AppKey("receiver_state", ReceiverState)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
    app = web.Application(client_max_size=MAX_BODY, middlewares=[_allow_list])
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
    ) -> None:
        self.app = make_app(tracker, token, allow_from)
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def state(self) -> ReceiverState:
        return self.app[STATE]

    async def start(self) -> None:
        # access_log=None: aiohttp's access log would write the secret token (in the path).
        runner = web.AppRunner(
            self.app,
            access_log=None,
            handle_signals=False,
            # The PBX reconnects when it needs to; idle keep-alive sockets are closed soon.
            keepalive_timeout=KEEPALIVE_SECONDS,
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port, backlog=256)
        try:
            await site.start()
        except OSError as exc:
            await runner.cleanup()
            if exc.errno == errno.EADDRINUSE:
                raise ReceiverError(
                    f"port {self.port} on {self.host} is already in use (is bulutpop already "
                    "running?). Choose another with: bulutpop config set listen_port PORT"
                ) from None
            if exc.errno in (errno.EADDRNOTAVAIL, errno.EACCES):
                raise ReceiverError(
                    f"cannot listen on {self.host}:{self.port} ({exc.strerror}). Check "
                    "listen_host and listen_port: bulutpop config set listen_host 127.0.0.1"
                ) from None
            raise ReceiverError(f"cannot listen on {self.host}:{self.port}: {exc}") from None
        self._runner = runner
        if self.port == 0:
            self.port = int(runner.addresses[0][1])
        log.info("listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

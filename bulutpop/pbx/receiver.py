"""The webhook receiver: the embedded aiohttp server the PBX posts call events to.

An event is acknowledged only after the tracker has committed it, so a 200 means "stored".
The secret token in the path is the only thing that tells the PBX apart from anyone else on
the internet: it is compared in constant time and never logged.

The port is open to anyone who can reach it, so it is served behind the guard
(`app.guard`): `allow_from` is enforced as a client connects, and idle, slow or too many
connections cannot hold the sockets the PBX needs.
"""

from __future__ import annotations

import errno
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import aiohttp
from aiohttp import web

from bulutpop import __version__
from bulutpop.app.guard import GuardedServer, Limits, networks, request_deadline, trusted
from bulutpop.calls.events import parse_body
from bulutpop.calls.tracker import CallTracker
from bulutpop.errors import CannotListen
from bulutpop.local.net import client_session

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
LIMITS = Limits()
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
    received: int = 0
    rejected: int = 0


TRACKER = web.AppKey("tracker", CallTracker)
STATE = web.AppKey("receiver_state", ReceiverState)


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
    # Every event is in the store as received (`bulutpop calls`, the raw bodies): a line
    # per event at INFO cost the loop more than its own handling (~45 µs, ~100 with the
    # tray app's log file), while the PBX waits for the 200.
    log.debug(
        "%s %s call %s%s",
        event.event_type[:20] or "?",
        event.get("direction")[:10] or "-",
        event.call_uuid[:64],
        "" if change else " (duplicate)",
    )
    return web.Response(text="OK\n")


async def _health(request: web.Request) -> web.Response:
    if not trusted(request):  # the version and the counts are for the PBX and this machine
        return web.json_response({"status": "ok"})
    state = request.app[STATE]
    return web.json_response(
        {
            "status": "ok",
            "version": __version__,
            "events_received": state.received,
            "events_rejected": state.rejected,
        }
    )


def make_app(tracker: CallTracker, token: str) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY, middlewares=[request_deadline])
    app[TRACKER] = tracker
    app[STATE] = ReceiverState(token=token)
    app.router.add_route("*", "/events/{token}", _receive)
    app.router.add_get("/health", _health)
    return app


class Receiver:
    """Runs `make_app` on a host and port behind the guard; start/stop in pairs."""

    def __init__(
        self,
        tracker: CallTracker,
        token: str,
        host: str,
        port: int,
        allow_from: Sequence[str] = (),
        *,
        limits: Limits = LIMITS,
    ) -> None:
        self.app = make_app(tracker, token)
        self.host = host
        self.port = port
        self._server = GuardedServer(self.app, limits, networks(allow_from))

    @property
    def connections(self) -> int:
        """Connections open now (admitted ones: a refused connection is closed at once)."""
        return self._server.connections

    @property
    def state(self) -> ReceiverState:
        return self.app[STATE]

    async def start(self) -> None:
        try:
            await self._server.start(self.host, self.port)
        except OSError as exc:
            raise listen_error("receiver", self.host, self.port, exc, "listen_port") from None
        self.port = self._server.port
        log.info("listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        await self._server.stop()


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

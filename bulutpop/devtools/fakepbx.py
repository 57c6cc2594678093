"""A fake Bulutsantralim API (PBX-API.md §1, §3, §4) served by a real aiohttp application.

Used by the test suite and by the app's demo mode, so it behaves like the PBX where it
matters to a client: plain-text bodies, 400 for an invalid key *with the key echoed back*,
the recording rate limit, one-hour recording links, and byte ranges for streaming players.

All state lives in a `FakePbxState` stored on the application under `STATE`; tests create
one, mutate it (add recordings, inject failures, move the clock) and inspect what the fake
received. Nothing here logs the API key: the access log prints paths without query strings.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import math
import re
import sys
import time
import uuid
import wave
from array import array
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bulutpop.calls.events import EXTENSION, PBX_TZ, decode_fields, parse_stamp

log = logging.getLogger(__name__)

# Looks like a real key and is obviously not one; for the demo mode.
DEMO_KEY = "K00000000-0000-0000-0000-000000000000"
DEFAULT_EXTENSIONS = frozenset({"1001", "1002", "1003"})
RECORDING_LIFETIME = 3600.0  # the PBX's recording links live one hour
STREAM_CHUNK = 16 * 1024

_DOMESTIC = re.compile(r"90\d{10}")
_INTERNATIONAL = re.compile(r"00\d{6,15}")
# Short numbers the PBX can dial besides extensions: 3-digit emergency/public services
# (112, 155) and 7-digit 444 service numbers. "1234" stays invalid, as in the PBX's example.
_SHORT = re.compile(r"1\d{2}|444\d{4}")


@dataclass
class Failure:
    """A reply to send instead of the real one, for fault-injection."""

    status: int
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakePbxState:
    key: str = field(repr=False)
    extensions: set[str] = field(default_factory=lambda: set(DEFAULT_EXTENSIONS))
    # call_uuid -> audio (WAV or MP3 bytes); a call without an entry has no recording.
    recordings: dict[str, bytes] = field(default_factory=dict, repr=False)
    # Every /originate request's query as received, key included (so tests can check it
    # was sent); repr=False keeps it out of reprs.
    originates: list[dict[str, str]] = field(default_factory=list, repr=False)
    recording_requests: int = 0  # every /recording_url request, rejected ones included
    recording_limit: int = 5
    recording_window: float = 60.0
    clock: Callable[[], float] = time.monotonic
    originate_delay: float = 0.0  # seconds to wait before answering /originate
    # Base for recording links; None derives it from the request (scheme + Host header).
    base_url: str | None = None
    recording_lifetime: float = RECORDING_LIFETIME
    # Replies to send, first one first, instead of handling the next API request(s).
    fail_next: list[Failure] = field(default_factory=list)
    # Serve only this many bytes of a recording, then drop the connection.
    truncate_downloads_at: int | None = None
    # recording link id -> (call_uuid, expiry time on `clock`)
    links: dict[str, tuple[str, float]] = field(default_factory=dict, init=False, repr=False)
    _recent: deque[float] = field(default_factory=deque, init=False, repr=False)

    # --- history, phonebook and PBX settings (PBX-API.md §4) ---
    # History records as the PBX serves them (see `history_record`).
    cdrs: list[dict[str, Any]] = field(default_factory=list, repr=False)
    call_flows: dict[str, list[dict[str, Any]]] = field(default_factory=dict, repr=False)
    # Phonebook entries: {"id", "name", "surname", "company_name", "phone", "phone1", …}.
    contacts: list[dict[str, Any]] = field(default_factory=list, repr=False)
    caller_ids: list[str] = field(default_factory=lambda: ["908505320000"])
    crm: dict[str, str] = field(
        default_factory=lambda: {
            "ringing": "off",
            "answered": "off",
            "hangup": "off",
            "notification_url": "",
        }
    )
    # The PBX posts `{}` to a new notification URL and refuses it unless that gets a 2xx.
    check_notification_url: bool = True
    dnd: dict[str, bool] = field(default_factory=dict)  # extension -> on
    statuses: dict[str, str] = field(default_factory=dict)  # extension -> status
    queues: dict[str, str] = field(default_factory=lambda: {"200": "Kuyruk 1"})
    # Endpoint -> (requests, window seconds); tests make them small.
    api_limits: dict[str, tuple[int, float]] = field(
        default_factory=lambda: {
            "cdrs": (6, 60.0),
            "user_statuses": (2, 60.0),
            "queues": (10, 60.0),
        }
    )
    # Every §4 request's query or form by endpoint name ("cdrs", "contacts", …), key
    # included, rejected ones too.
    received: dict[str, list[dict[str, str]]] = field(default_factory=dict, repr=False)
    # (endpoint, n) -> the reply to the n-th request to that endpoint (1-based).
    fail_on: dict[tuple[str, int], Failure] = field(default_factory=dict)
    _api_recent: dict[str, deque[float]] = field(default_factory=dict, init=False, repr=False)
    _stamps: dict[str, float] = field(default_factory=dict, init=False, repr=False)

    def fail(self, status: int, body: str = "", headers: dict[str, str] | None = None) -> None:
        """Make the next API request (any endpoint but recording downloads) fail this way."""
        self.fail_next.append(Failure(status, body, dict(headers or {})))

    def fail_request(
        self,
        endpoint: str,
        n: int,
        status: int,
        body: str = "",
        headers: dict[str, str] | None = None,
    ) -> None:
        """Make the n-th request to `endpoint` (counting from the first, 1-based) fail."""
        self.fail_on[(endpoint, n)] = Failure(status, body, dict(headers or {}))

    def _over_limit(self, endpoint: str) -> bool:
        if endpoint not in self.api_limits:
            return False
        limit, window = self.api_limits[endpoint]
        recent = self._api_recent.setdefault(endpoint, deque())
        now = self.clock()
        while recent and recent[0] <= now - window:
            recent.popleft()
        if len(recent) >= limit:
            return True
        recent.append(now)
        return False

    def _rate_limited(self) -> bool:
        """Sliding-window limit; a request that is let through takes a slot."""
        now = self.clock()
        while self._recent and self._recent[0] <= now - self.recording_window:
            self._recent.popleft()
        if len(self._recent) >= self.recording_limit:
            return True
        self._recent.append(now)
        return False


STATE = web.AppKey("bulutpop_fakepbx_state", FakePbxState)


def _text(status: int, body: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, text=body, headers=headers)


def _injected(state: FakePbxState) -> web.Response | None:
    if not state.fail_next:
        return None
    failure = state.fail_next.pop(0)
    return _text(failure.status, failure.body, failure.headers)


def _bad_key(state: FakePbxState, sent: str, status: int = 400) -> web.Response | None:
    if sent == state.key:
        return None
    # The real PBX echoes whatever key it got; clients must cope with that.
    return _text(status, f"Gecersiz anahtar: {sent}")


def _valid_destination(state: FakePbxState, number: str) -> bool:
    return (
        number in state.extensions
        or _DOMESTIC.fullmatch(number) is not None
        or _INTERNATIONAL.fullmatch(number) is not None
        or _SHORT.fullmatch(number) is not None
    )


async def _originate(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    query = dict(request.query)
    state.originates.append(query)  # before any delay: a client that gives up was still seen
    log.info(
        "fake PBX: originate extension=%s destination=%s",
        query.get("extension"),
        query.get("destination"),
    )
    if state.originate_delay > 0:
        await asyncio.sleep(state.originate_delay)
    if (injected := _injected(state)) is not None:
        return injected
    if (rejected := _bad_key(state, query.get("key", ""))) is not None:
        return rejected
    for name in ("extension", "destination"):
        if not query.get(name):
            return _text(400, f"missing parameter: {name}")
    extension, destination = query["extension"], query["destination"]
    if extension not in state.extensions:
        return _text(400, f"extension {extension} not found")
    if not _valid_destination(state, destination):
        return _text(400, f"invalid destination: {destination}")
    caller_id = query.get("caller_id")
    if caller_id is not None and not _DOMESTIC.fullmatch(caller_id):
        return _text(400, f"invalid caller_id: {caller_id}")
    manual = query.get("manual_answer")
    if manual is not None and manual not in ("true", "false"):
        return _text(400, f"invalid manual_answer: {manual}")
    timeout = query.get("timeout")
    if timeout is not None and not (timeout.isdigit() and 10 <= int(timeout) <= 60):
        return _text(400, f"invalid timeout: {timeout}")
    return _text(200, str(uuid.uuid4()))


async def _recording_url(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    state.recording_requests += 1
    # The reference specifies a form POST; the seed document shows a GET with a query.
    fields = dict(await request.post()) if request.method == "POST" else dict(request.query)
    if (injected := _injected(state)) is not None:
        return injected
    if (rejected := _bad_key(state, str(fields.get("key", "")))) is not None:
        return rejected
    if state._rate_limited():
        return _text(429, "Rate limit exceeded")
    call_uuid = str(fields.get("call_uuid", ""))
    if not call_uuid:
        return _text(400, "missing parameter: call_uuid")
    if call_uuid not in state.recordings:
        return _text(400, f"cannot find call with call_uuid {call_uuid}")
    link_id = f"R{uuid.uuid4()}"
    state.links[link_id] = (call_uuid, state.clock() + state.recording_lifetime)
    base = state.base_url or f"{request.scheme}://{request.host}"
    return _text(200, f"{base.rstrip('/')}/recording/{link_id}")


def _content_type(data: bytes) -> str:
    if data[:4] == b"RIFF":
        return "audio/wav"
    if data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"
    return "application/octet-stream"


def _byte_range(request: web.Request, size: int) -> tuple[int, int] | None:
    """The requested single range as [start, end), or None for the whole body.

    Raises HTTPRequestRangeNotSatisfiable for a range outside the content.
    """
    if "Range" not in request.headers:
        return None
    try:
        rng = request.http_range  # parses one `bytes=a-b`, `a-` or `-n` range
    except ValueError:
        # Multiple or malformed ranges: RFC 9110 lets a server ignore Range entirely.
        return None
    start, stop = rng.start, rng.stop
    if start is not None and start < 0:  # suffix range: the last -start bytes
        start = max(size + start, 0)
        stop = size
    start = start or 0
    stop = size if stop is None else min(stop, size)
    if start >= size or start >= stop:
        raise web.HTTPRequestRangeNotSatisfiable(headers={"Content-Range": f"bytes */{size}"})
    return start, stop


async def _recording(request: web.Request) -> web.StreamResponse:
    state = request.app[STATE]
    link = state.links.get(request.match_info["link_id"])
    if link is None:
        raise web.HTTPNotFound(text="recording not found")
    call_uuid, expires = link
    if state.clock() >= expires or call_uuid not in state.recordings:
        state.links.pop(request.match_info["link_id"], None)
        raise web.HTTPNotFound(text="recording not found")
    data = state.recordings[call_uuid]
    size = len(data)
    span = _byte_range(request, size)
    start, stop = span if span is not None else (0, size)

    response = web.StreamResponse(status=206 if span is not None else 200)
    response.content_type = _content_type(data)
    response.content_length = stop - start
    response.headers["Accept-Ranges"] = "bytes"
    if span is not None:
        response.headers["Content-Range"] = f"bytes {start}-{stop - 1}/{size}"
    await response.prepare(request)
    if request.method == "HEAD":
        return response

    # Write in chunks so clients see a real stream (and progress), not one buffer.
    limit = stop
    if state.truncate_downloads_at is not None:
        limit = min(stop, start + state.truncate_downloads_at)
    for offset in range(start, limit, STREAM_CHUNK):
        await response.write(data[offset : min(offset + STREAM_CHUNK, limit)])
    if limit < stop and request.transport is not None:
        request.transport.close()  # simulate a dropped connection mid-body
        return response
    await response.write_eof()
    return response


def make_app(state: FakePbxState) -> web.Application:
    app = web.Application()
    app[STATE] = state
    app.router.add_get("/originate", _originate)
    for path in ("/recording_url", "/recording_url/"):
        app.router.add_post(path, _recording_url)
        app.router.add_get(path, _recording_url)
    app.router.add_get("/recording/{link_id}", _recording)
    _add_section4_routes(app)
    return app


class _PathOnlyAccessLogger(AbstractAccessLogger):
    """aiohttp's default access log prints the query string, i.e. the API key."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %s (%.3fs)",
            request.remote,
            request.method,
            request.path,
            response.status,
            time,
        )


async def start(
    state: FakePbxState, host: str = "127.0.0.1", port: int = 0
) -> tuple[web.AppRunner, str]:
    """Serve the fake PBX; returns the runner (call `cleanup()` to stop) and its base URL."""
    runner = web.AppRunner(make_app(state), access_log_class=_PathOnlyAccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    url_host = f"[{host}]" if ":" in host else host
    return runner, f"http://{url_host}:{site.port}"


def tone_wav(seconds: float = 2.0, rate: int = 8000, frequency: float = 440.0) -> bytes:
    """A mono 16-bit WAV with a sine tone: a small, valid recording for demos and tests."""
    count = max(int(seconds * rate), 0)
    amplitude = 0.3 * 32767  # well below clipping
    samples = array(
        "h", (int(amplitude * math.sin(2 * math.pi * frequency * i / rate)) for i in range(count))
    )
    if sys.byteorder == "big":  # WAV samples are little-endian
        samples.byteswap()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(samples.tobytes())
    return buffer.getvalue()


# --- history, phonebook and PBX settings (PBX-API.md §4) -----------------------------------

CDR_WINDOW = timedelta(days=31)
_DIRECTION_LABELS = {"inbound": "Gelen", "outbound": "Giden", "internal": "Santral içi"}


def _json(data: object) -> web.Response:
    return web.json_response(data, dumps=lambda o: json.dumps(o, ensure_ascii=False))


async def _begin(
    request: web.Request, endpoint: str, bad_key_status: int = 400
) -> tuple[FakePbxState, dict[str, str], web.Response | None]:
    """Record the request, then the checks every §4 endpoint makes: injected failures,
    the key (echoed back when wrong), the endpoint's rate limit."""
    state = request.app[STATE]
    fields = dict(request.query)
    if request.method == "POST":
        fields.update({k: str(v) for k, v in (await request.post()).items()})
    seen = state.received.setdefault(endpoint, [])
    seen.append(fields)
    failure = state.fail_on.pop((endpoint, len(seen)), None)
    if failure is not None:
        return state, fields, _text(failure.status, failure.body, failure.headers)
    if (injected := _injected(state)) is not None:
        return state, fields, injected
    if (rejected := _bad_key(state, fields.get("key", ""), bad_key_status)) is not None:
        return state, fields, rejected
    if state._over_limit(endpoint):
        return state, fields, _text(429, "Rate limit exceeded")
    return state, fields, None


def _paging(fields: Mapping[str, str]) -> tuple[int, int] | web.Response:
    try:
        page, limit = int(fields.get("page", "1")), int(fields.get("limit", "10"))
    except ValueError:
        return _text(400, "invalid page or limit")
    if page < 1 or not 10 <= limit <= 100:
        return _text(400, "limit must be between 10 and 100, page at least 1")
    return page, limit


def _paginated(name: str, items: list[dict[str, Any]], page: int, limit: int) -> web.Response:
    return _json(
        {
            name: items[(page - 1) * limit : page * limit],
            "pagination": {
                "page": page,
                "total_count": len(items),
                "total_pages": math.ceil(len(items) / limit),
                "limit": limit,
            },
        }
    )


def _text_of(value: object) -> str:
    """A history value as a query compares it: JSON booleans as `true`/`false`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _cdr_time(state: FakePbxState, stamp: str) -> float:
    # Parsed once per record: a catch-up of 10,000 calls asks for 100 pages.
    if stamp not in state._stamps:
        moment = parse_stamp(stamp)
        state._stamps[stamp] = moment.timestamp() if moment else 0.0
    return state._stamps[stamp]


async def _cdrs(request: web.Request) -> web.StreamResponse:
    state, fields, early = await _begin(request, "cdrs")
    if early is not None:
        return early
    paging = _paging(fields)
    if isinstance(paging, web.Response):
        return paging
    now = datetime.now(PBX_TZ)
    until = parse_stamp(fields.get("start_stamp_to", "")) or now
    since = parse_stamp(fields.get("start_stamp_from", "")) or until - timedelta(days=1)
    if until - since > CDR_WINDOW:
        return _text(400, "start_stamp_from - start_stamp_to range cannot exceed 31 days")
    low, high = since.timestamp(), until.timestamp()
    direction = _DIRECTION_LABELS.get(fields.get("direction", ""), "")
    wanted = {
        name: fields[name]
        for name in ("missed", "caller_id_number", "destination_number", "queue")
        if fields.get(name)
    }
    selected = [
        cdr
        for cdr in state.cdrs
        if low <= _cdr_time(state, str(cdr.get("start_stamp", ""))) <= high
        and (not direction or str(cdr.get("direction", "")).startswith(direction))
        and all(_text_of(cdr.get(name)) == value for name, value in wanted.items())
    ]
    selected.sort(key=lambda c: _cdr_time(state, str(c.get("start_stamp", ""))), reverse=True)
    return _paginated("cdrs", selected, *paging)


async def _one_cdr(request: web.Request) -> web.StreamResponse:
    state, _, early = await _begin(request, "cdrs")
    if early is not None:
        return early
    call_uuid = request.match_info["call_uuid"]
    for cdr in state.cdrs:
        if cdr.get("call_uuid") == call_uuid:
            return _json({"cdr": cdr, "call_flow": state.call_flows.get(call_uuid, [])})
    return _text(404, f"cannot find call with call_uuid {call_uuid}")


async def _contacts(request: web.Request) -> web.StreamResponse:
    state, fields, early = await _begin(request, "contacts", bad_key_status=401)
    if early is not None:
        return early
    paging = _paging(fields)
    if isinstance(paging, web.Response):
        return paging
    return _paginated("contacts", state.contacts, *paging)


async def _caller_ids(request: web.Request) -> web.StreamResponse:
    state, _, early = await _begin(request, "caller_ids")
    return early or _json(state.caller_ids)


async def _dnd(request: web.Request) -> web.StreamResponse:
    state, fields, early = await _begin(request, "dnd")
    if early is not None:
        return early
    extension = request.match_info["extension"]
    if extension not in state.extensions:
        return _text(400, f"extension {extension} not found")
    wanted = fields.get("state", "")
    if wanted not in ("on", "off"):
        return _text(400, f"invalid state: {wanted}")
    state.dnd[extension] = wanted == "on"
    return _text(200, f"Changed DND of {extension} to {wanted}.")


async def _user_statuses(request: web.Request) -> web.StreamResponse:
    state, fields, early = await _begin(request, "user_statuses")
    if early is not None:
        return early
    rows = [
        {
            "user": int(ext),
            "status": "SS_DND" if state.dnd.get(ext) else state.statuses.get(ext, "AVAILABLE"),
        }
        for ext in sorted(state.extensions)
    ]
    if fields.get("user"):
        rows = [r for r in rows if str(r["user"]) == fields["user"]]
    if fields.get("status"):
        rows = [r for r in rows if r["status"] == fields["status"]]
    return _json(rows)


async def _get_crm(request: web.Request) -> web.StreamResponse:
    state, _, early = await _begin(request, "crm_integrations")
    return early or _json(state.crm)


async def _set_crm(request: web.Request) -> web.StreamResponse:
    state, fields, early = await _begin(request, "crm_integrations")
    if early is not None:
        return early
    for name in ("ringing", "answered", "hangup"):
        if fields.get(name, "off") not in ("on", "off"):
            return _text(400, f"invalid {name}: {fields[name]}")
    url = fields.get("notification_url", "").strip()
    if url and state.check_notification_url and not await _answers_probe(url):
        return _text(400, f"notification_url did not answer the test request: {url}")
    state.crm = {
        "ringing": fields.get("ringing", "off"),
        "answered": fields.get("answered", "off"),
        "hangup": fields.get("hangup", "off"),
        "notification_url": url,
    }
    return _text(200, "Ok")


async def _answers_probe(url: str) -> bool:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                url, data=b"{}", headers=headers, timeout=aiohttp.ClientTimeout(total=5)
            ) as response,
        ):
            return 200 <= response.status < 300
    except (aiohttp.ClientError, TimeoutError, ValueError):
        return False


async def _queues(request: web.Request) -> web.StreamResponse:
    state, _, early = await _begin(request, "queues")
    if early is not None:
        return early
    return _json(
        [
            {"number": int(n) if n.isdigit() else n, "name": name}
            for n, name in sorted(state.queues.items())
        ]
    )


def _add_section4_routes(app: web.Application) -> None:
    app.router.add_get("/cdrs", _cdrs)
    app.router.add_get("/cdrs/{call_uuid}", _one_cdr)
    app.router.add_get("/contacts", _contacts)
    app.router.add_get("/caller_ids", _caller_ids)
    app.router.add_get("/dnd/{extension}", _dnd)
    app.router.add_get("/user_statuses", _user_statuses)
    app.router.add_get("/crm_integrations", _get_crm)
    app.router.add_post("/crm_integrations", _set_crm)
    app.router.add_get("/queues", _queues)


_RESULTS = {"LOSE_RACE": "Diğer dahili cevapladı", "PICKED_OFF": "Çağrısı çekildi"}


def _party(number: str, line: str) -> str:
    """How the history writes a side with an extension and the company line beside it:
    `902125550101 (1014)` for the line that rang 1014, `1014 (902129510292)` for 1014
    calling out on that line."""
    return f"{number} ({line})" if line else number


def history_record(fields: Mapping[str, str], **extra: Any) -> dict[str, Any]:
    """The PBX's history record of one leg of a call, from the fields of that leg's hangup
    event, in the shapes the real history uses: Turkish direction and result labels, the
    company line beside the extension (`DID (EXT)`, `EXT (DID)`), `+0300` times, the talk
    time as `00:0:35`, `missed` as a JSON boolean, the queue wait as seconds or as
    `00:00:10`, null for what is not known. `extra` sets or overrides fields
    (caller_id_name, return_uuid, …)."""

    def stamp(name: str) -> str | None:
        value = fields.get(name, "").strip()
        return f"{value} +0300" if value else None

    def clock(seconds: int, pad: bool = True) -> str:
        minutes = f"{seconds % 3600 // 60:02d}" if pad else str(seconds % 3600 // 60)
        return f"{seconds // 3600:02d}:{minutes}:{seconds % 60:02d}"

    start, end = (
        parse_stamp(fields.get("start_stamp", "")),
        parse_stamp(fields.get("end_stamp", "")),
    )
    total = int((end - start).total_seconds()) if start and end else 0
    talk = int(fields.get("duration") or 0)
    cause = fields.get("hangup_cause", "")
    answered = fields.get("answered", "").lower() in ("t", "true") and cause not in _RESULTS
    direction = fields.get("direction", "")
    caller = fields.get("caller_id_number", "")
    destination = fields.get("destination_number", "")
    rung = fields.get("dialed_user", "")
    if direction == "outbound":
        caller = _party(caller, fields.get("outbound_caller_id_number", ""))
    elif rung and rung != destination:
        # The company line rang this extension; a queue dialled directly names the member.
        destination = rung if EXTENSION.fullmatch(destination) else _party(destination, rung)
    wait = int(fields.get("queue_wait_duration") or 0)
    record: dict[str, Any] = {
        "call_uuid": fields.get("call_uuid", ""),
        "start_stamp": stamp("start_stamp"),
        "answer_stamp": stamp("answer_stamp"),
        "end_stamp": stamp("end_stamp"),
        "direction": _DIRECTION_LABELS.get(direction, ""),
        "caller_id_number": caller,
        "caller_id_name": "",
        "destination_number": destination,
        "destination_name": "",
        "duration": clock(total),
        "talk_duration": clock(talk, pad=False),
        "queue": fields.get("queue") or None,
        "queue_wait_seconds": clock(wait) if fields.get("queue") else wait,
        "result": "Cevaplandı" if answered else _RESULTS.get(cause, "Cevapsız"),
        "missed": not answered,
        "return_uuid": None,
        "recording_present": "true"
        if fields.get("recording_present") in ("t", "true")
        else "false",
        "sip_hangup_disposition": fields.get("sip_hangup_disposition", ""),
    }
    record.update(extra)
    return record


def history_records(bodies: Iterable[bytes]) -> list[dict[str, Any]]:
    """The history of the calls these webhook bodies describe: one record per extension
    rung (its answered leg's hangup if it had one, else its last), as the PBX keeps it."""
    legs: dict[tuple[str, str], dict[str, str]] = {}
    for body in bodies:
        fields = decode_fields(body)
        if fields.get("event_type") not in ("hangup", "user_hangup"):
            continue
        key = (fields.get("call_uuid", ""), fields.get("dialed_user", ""))
        kept = legs.get(key)
        if kept is None or kept.get("answered") not in ("t", "true"):
            legs[key] = fields
    return [history_record(fields) for fields in legs.values()]

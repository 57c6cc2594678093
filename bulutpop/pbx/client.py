"""Client for the Bulutsantralim HTTP API (PBX-API.md §1, §3, §4).

Every failure is a `bulutpop.errors.PbxError` carrying what happened as data; the PBX's own
reply goes in `detail` through a `Redactor` first, because the PBX echoes the API key in its
error bodies.
The key travels only in query parameters / form fields handed to aiohttp (the PBX wants it
there), never in a URL string we build, log or put in an exception. A team relay's
credential travels in the Authorization header instead: query strings end up in logs.

`originate` is not idempotent (a retry places a second call), so nothing here retries.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import ssl
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Literal, Self
from urllib.parse import urljoin, urlsplit

import aiohttp

from bulutpop import __version__
from bulutpop.errors import (
    CredentialRefused,
    DownloadError,
    KeyRefused,
    NetworkError,
    NotFound,
    PbxError,
    PbxFailed,
    PbxRefused,
    RateLimited,
    TeamRemoved,
)
from bulutpop.local.net import client_session
from bulutpop.local.redact import Redactor

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.bulutsantralim.com"
RECORDING_URL_LIMIT = 5  # requests per window (PBX-API.md §3)
RECORDING_URL_WINDOW = 60.0
RECORDING_URL_TTL = 50 * 60.0  # links live one hour; keep a margin for a slow download
DEFAULT_RETRY_AFTER = 60.0
# Requests per window of the endpoints with a known limit (PBX-API.md §4); /cdrs/<uuid>
# counts as /cdrs.
API_LIMITS: Mapping[str, tuple[int, float]] = {
    "cdrs": (6, 60.0),
    "user_statuses": (2, 60.0),
    "queues": (10, 60.0),
}
CDR_WINDOW_DAYS = 31  # /cdrs refuses a wider start_stamp range
KEY_TEST_CALL = "bulutpop-key-test"  # a call id no PBX has (`check_key`)
DND_STATUS = "SS_DND"
_MAX_DETAIL = 300  # characters of a PBX body kept in a message

_INVALID_KEY = re.compile(
    r"ge[cç]ersiz\s+(api\s+)?anahtar|invalid\s+(api\s+)?key|wrong\s+(api\s+)?key",
    re.IGNORECASE,
)
_NO_SUCH_CALL = re.compile(r"cannot\s+find\s+call", re.IGNORECASE)
_CALL_ID = re.compile(r"[\w-]{1,200}")


# --- client-side rate limit ---------------------------------------------------------------


class SlidingWindow:
    """At most `limit` events in any `window` seconds, on an injectable monotonic clock."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float]) -> None:
        self._limit = limit
        self._window = window
        self._clock = clock
        self._events: deque[float] = deque()
        self._blocked_until = 0.0

    def describe(self) -> str:
        per = "minute" if self._window == 60 else f"{self._window:g} s"
        return f"{self._limit} per {per}"

    def wait_time(self) -> float:
        """Seconds until a slot is free (0 when one is free now)."""
        now = self._clock()
        while self._events and self._events[0] <= now - self._window:
            self._events.popleft()
        wait = max(self._blocked_until - now, 0.0)
        if len(self._events) >= self._limit:
            wait = max(wait, self._events[0] + self._window - now)
        return wait

    def take(self) -> None:
        self._events.append(self._clock())

    def estimate(self) -> float | None:
        """When the oldest counted request leaves the window, if one is counted."""
        if not self._events:
            return None
        return max(self._events[0] + self._window - self._clock(), 0.0) or None

    def block_for(self, seconds: float) -> None:
        """The PBX said 429 (maybe another tool uses the same key): stop asking for a while."""
        self._blocked_until = max(self._blocked_until, self._clock() + seconds)


# --- client -------------------------------------------------------------------------------


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:  # the HTTP-date form
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - time.time(), 0.0)


def _fsync_close(fh: IO[bytes]) -> None:
    fh.flush()
    os.fsync(fh.fileno())
    fh.close()


class PbxClient:
    """Async client for one PBX account. Use as `async with PbxClient(...) as pbx:`.

    With no `session`, the client creates one on first use and closes it in `close()`;
    a session passed in belongs to the caller. `clock` and `sleep` are injectable so tests
    can move time instead of waiting. Pass the app-wide `redactor` to have the key
    registered there too.
    """

    def __init__(
        self,
        base_url: str,
        key: str,
        *,
        session: aiohttp.ClientSession | None = None,
        connect_timeout: float = 5.0,
        total_timeout: float = 15.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        redactor: Redactor | None = None,
        recording_limit: int = RECORDING_URL_LIMIT,
        recording_window: float = RECORDING_URL_WINDOW,
        api_limits: Mapping[str, tuple[int, float]] | None = None,
        ssl_context: ssl.SSLContext | None = None,
        relay: bool = False,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._key = key.strip()
        self._redactor = redactor if redactor is not None else Redactor()
        self._redactor.add(self._key)
        self._session = session
        self._owns_session = session is None
        self._timeout = aiohttp.ClientTimeout(
            total=total_timeout, connect=connect_timeout, sock_connect=connect_timeout
        )
        # Recordings can be long: no total limit, but give up on a stalled transfer.
        self._download_timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=total_timeout,
        )
        self._headers = {"User-Agent": f"bulutpop/{__version__}"}
        # As team.protocol.authorization writes it (the PBX's client does not import team mode).
        self._auth = {"Authorization": f"Bearer {self._key}"} if relay else {}
        self._clock = clock
        self._sleep = sleep
        self._recording_limiter = SlidingWindow(recording_limit, recording_window, clock)
        self._limiters = {
            name: SlidingWindow(limit, window, clock)
            for name, (limit, window) in {**API_LIMITS, **(api_limits or {})}.items()
        }
        self._url_cache: dict[str, tuple[str, float]] = {}
        self._url_locks: dict[str, asyncio.Lock] = {}
        self._ssl = ssl_context
        self._relay = relay  # a team relay answering for the PBX: its 401 is about us

    def __repr__(self) -> str:
        return f"<PbxClient {self._base_url}>"

    @property
    def base_url(self) -> str:
        return self._base_url

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        if self._owns_session and self._session is not None and not self._session.closed:
            await self._session.close()
        if self._owns_session:
            self._session = None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # A team relay may use a certificate only the invite's CA vouches for.
            self._session = client_session(tls=self._ssl)
        return self._session

    # --- errors ---

    def _clean(self, text: str) -> str:
        text = self._redactor.redact(" ".join(text.split()))
        return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"

    def _network_error(self, exc: BaseException) -> NetworkError:
        # Without a connection nothing was sent; anything later may have reached the PBX.
        not_sent = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
        uncertain = not isinstance(exc, not_sent)
        # A failed connect's errno and host: macOS' refusal of the LAN looks like no route.
        code: int | None = None
        host = ""
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            cause = "connection timed out"
        elif isinstance(exc, TimeoutError):
            cause = "timed out waiting for the reply"
        elif isinstance(exc, aiohttp.ClientConnectorError):
            err = exc.os_error
            code, host = err.errno, exc.host
            # asyncio's strerror is "Connect call failed (...)"; errno says more.
            reason = os.strerror(err.errno) if err.errno and err.errno > 0 else err.strerror
            cause = f"cannot connect to {exc.host}:{exc.port}: {reason or type(err).__name__}"
        elif isinstance(exc, aiohttp.ClientPayloadError):
            cause = "the connection dropped during the transfer"
        elif isinstance(exc, aiohttp.ServerDisconnectedError):
            cause = "the server closed the connection"
        else:
            cause = str(exc) or type(exc).__name__
        return NetworkError(self._clean(cause), uncertain=uncertain, errno=code, host=host)

    def _http_error(
        self, status: int, body: str, headers: Mapping[str, str], *, rate_estimate: float | None
    ) -> PbxError:
        detail = self._clean(body)
        if self._relay and status == 401:
            return CredentialRefused(detail=detail, status=status)
        if self._relay and status == 410:  # the relay's admin removed this agent
            return TeamRemoved(detail=detail, status=status)
        if status == 401 or (status in (400, 403) and _INVALID_KEY.search(body)):
            return KeyRefused(detail=detail, status=status)
        if _NO_SUCH_CALL.search(body) and status in (400, 404):
            return NotFound("call", detail=detail, status=status)
        if status == 404:  # a bare 404 usually means a wrong API address
            return NotFound("address", detail=detail, status=status)
        if status == 429:
            retry = _retry_after(headers) or rate_estimate or DEFAULT_RETRY_AFTER
            return RateLimited(retry, detail=detail, status=status)
        if 400 <= status < 500:
            return PbxRefused(detail=detail, status=status)
        if status >= 500:
            return PbxFailed(f"HTTP {status}", detail=detail, status=status)
        return PbxFailed(f"unexpected HTTP {status}", detail=detail, status=status)

    # --- transport ---

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        data: Mapping[str, str] | None = None,
        rate_estimate: Callable[[], float | None] | None = None,
    ) -> str:
        """One API call, key added (query for GET, form field otherwise; a relay's credential
        in a header); the body on 2xx.

        Never retries. Redirects are not followed: a key-bearing request must not be
        replayed somewhere else (and a POST would lose its body anyway).
        """
        if not self._relay:
            if method == "GET":
                params = {**(params or {}), "key": self._key}
            else:
                data = {**(data or {}), "key": self._key}
        url = self._base_url + path
        log.debug("PBX request %s %s", method, path)  # never the URL with its query
        try:
            async with self._get_session().request(
                method,
                url,
                params=params,
                data=data,
                headers={**self._headers, **self._auth},
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                body = await response.text(errors="replace")
                status = response.status
                headers = response.headers
        except (TimeoutError, aiohttp.ClientError) as exc:
            raise self._network_error(exc) from None
        log.debug("PBX reply %s %s: HTTP %s", method, path, status)
        if 200 <= status < 300:
            return body
        estimate = rate_estimate() if rate_estimate is not None else None
        raise self._http_error(status, body, headers, rate_estimate=estimate)

    # --- endpoints ---

    async def originate(
        self,
        extension: str,
        destination: str,
        *,
        caller_id: str | None = None,
        manual_answer: bool = False,
        timeout: int | None = None,
        announcement_to_callee: str | None = None,
        announcement_to_caller: str | None = None,
    ) -> str:
        """Ring `extension`, then dial `destination` and bridge them; returns the call_uuid.

        Never retried: a NetworkError with `uncertain=True` means the call may exist.
        """
        extension, destination = extension.strip(), destination.strip()
        if not extension or not destination:
            raise ValueError("extension and destination are required")
        if timeout is not None and not 10 <= timeout <= 60:
            raise ValueError(f"timeout must be 10..60 seconds, not {timeout}")
        params = {"extension": extension, "destination": destination}
        optional = {
            "caller_id": caller_id,
            "timeout": None if timeout is None else str(timeout),
            "announcement_to_callee": announcement_to_callee,
            "announcement_to_caller": announcement_to_caller,
        }
        params.update({k: v for k, v in optional.items() if v is not None})
        if manual_answer:
            params["manual_answer"] = "true"
        body = await self._request("GET", "/originate", params=params)
        call_uuid = body.strip()
        if not call_uuid:
            raise PbxFailed("it accepted the call but returned no call id")
        return call_uuid

    async def recording_url(self, call_uuid: str, *, wait: bool = False) -> str:
        """The call's recording link (cached ~50 min; links live 1 h).

        The PBX allows 5 requests a minute. Over the limit, raises RateLimited with the
        seconds until a slot frees, or with `wait=True` sleeps until then.
        """
        call_uuid = call_uuid.strip()
        if not call_uuid:
            raise ValueError("call_uuid is required")
        # One request per call at a time; a concurrent caller then finds the cache filled.
        lock = self._url_locks.setdefault(call_uuid, asyncio.Lock())
        async with lock:
            cached = self._cached_url(call_uuid)
            if cached is not None:
                return cached
            limiter = self._recording_limiter
            while (delay := limiter.wait_time()) > 0:
                if not wait:
                    raise RateLimited(delay, limit=limiter.describe())
                log.info("recording link rate limit: waiting %.1f s", delay)
                await self._sleep(delay)
            limiter.take()
            try:
                body = await self._request(
                    "POST",
                    "/recording_url/",
                    data={"call_uuid": call_uuid},
                    rate_estimate=limiter.estimate,
                )
            except RateLimited as exc:
                limiter.block_for(exc.retry_after)
                raise
            url = urljoin(self._base_url + "/", body.strip())  # tolerate a relative link
            if not body.strip() or urlsplit(url).scheme not in ("http", "https"):
                raise PbxFailed("no usable recording link", detail=self._clean(body))
            self._url_cache[call_uuid] = (url, self._clock() + RECORDING_URL_TTL)
            return url

    def _cached_url(self, call_uuid: str) -> str | None:
        now = self._clock()
        for stale in [u for u, (_, expires) in self._url_cache.items() if expires <= now]:
            del self._url_cache[stale]
            lock = self._url_locks.get(stale)
            if lock is not None and not lock.locked():
                del self._url_locks[stale]
        entry = self._url_cache.get(call_uuid)
        return entry[0] if entry is not None else None

    async def download(
        self,
        url: str,
        dest: Path,
        *,
        progress: Callable[[int, int | None], None] | None = None,
        chunk_size: int = 64 * 1024,
    ) -> int:
        """Stream `url` to `dest`; returns the bytes written.

        Writes a temp file next to `dest` and renames it at the end, so `dest` is either
        the complete recording or untouched. `progress(done, total_or_None)` is called at
        the start and after every chunk.
        """
        dest = Path(dest)
        try:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{dest.name}.", suffix=".part", dir=dest.parent
            )
        except OSError as exc:
            raise self._disk_error(dest, exc) from None
        tmp = Path(tmp_name)
        written = 0
        finished = False
        try:
            fh = os.fdopen(fd, "wb")
            try:
                async with self._get_session().get(
                    url, headers=self._headers, timeout=self._download_timeout
                ) as response:
                    if response.status != 200:
                        body = await response.text(errors="replace")
                        if response.status == 404:
                            raise NotFound("recording_link", detail=self._clean(body), status=404)
                        raise self._http_error(
                            response.status, body, response.headers, rate_estimate=None
                        )
                    total = response.content_length
                    if progress is not None:
                        progress(0, total)
                    async for chunk in response.content.iter_chunked(chunk_size):
                        # File writes go to a thread: a slow disk must not stall the UI loop.
                        await asyncio.to_thread(fh.write, chunk)
                        written += len(chunk)
                        if progress is not None:
                            progress(written, total)
                if total is not None and written != total:
                    raise NetworkError(
                        f"the download stopped after {written} of {total} bytes",
                        uncertain=True,
                    )
                await asyncio.to_thread(_fsync_close, fh)
            finally:
                fh.close()
            await asyncio.to_thread(os.replace, tmp, dest)
            finished = True
        except PbxError:
            raise
        except (TimeoutError, aiohttp.ClientError) as exc:  # before OSError: ClientOSError is both
            raise self._network_error(exc) from None
        except OSError as exc:
            raise self._disk_error(dest, exc) from None
        finally:
            if not finished:
                try:
                    await asyncio.to_thread(tmp.unlink, missing_ok=True)
                except OSError:
                    log.warning("could not remove temporary file %s", tmp)
        log.debug("downloaded %d bytes to %s", written, dest)
        return written

    def _disk_error(self, dest: Path, exc: OSError) -> DownloadError:
        return DownloadError(str(dest), self._clean(exc.strerror or type(exc).__name__))

    # --- history, phonebook and PBX settings (PBX-API.md §4) ---

    async def _limited(
        self,
        name: str,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        wait: bool,
    ) -> str:
        """`_request` under the endpoint's rate limit: over it, raise RateLimited or (with
        `wait`) sleep until a slot frees. A 429 from the PBX holds later requests back."""
        limiter = self._limiters[name]
        while (delay := limiter.wait_time()) > 0:
            if not wait:
                raise RateLimited(delay, limit=limiter.describe())
            log.info("%s rate limit: waiting %.1f s", path, delay)
            await self._sleep(delay)
        limiter.take()
        try:
            return await self._request(method, path, params=params, rate_estimate=limiter.estimate)
        except RateLimited as exc:
            limiter.block_for(exc.retry_after)
            raise

    def _json(self, body: str, path: str) -> Any:
        try:
            return json.loads(body)
        except ValueError:
            raise PbxFailed(f"an unreadable reply to {path}", detail=self._clean(body)) from None

    def _page(self, body: str, path: str, name: str, page: int, limit: int) -> Page:
        data = self._json(body, path)
        if not isinstance(data, dict) or not isinstance(data.get(name), list):
            raise PbxFailed(f"no {name} list from {path}")
        items = tuple(_texts(item) for item in data[name] if isinstance(item, dict))
        paging = data.get("pagination")
        paging = paging if isinstance(paging, dict) else {}
        # Without pagination info, a full page may have a successor: ask for it.
        guess = page + 1 if len(items) >= limit else page
        return Page(
            items=items,
            page=_whole(paging.get("page"), page),
            total_pages=_whole(paging.get("total_pages"), guess),
            total_count=_whole(paging.get("total_count"), len(items)),
        )

    async def cdrs(
        self,
        start_from: datetime,
        start_to: datetime,
        *,
        page: int = 1,
        limit: int = 100,
        direction: str | None = None,
        missed: bool | None = None,
        wait: bool = True,
    ) -> Page:
        """One page of the call history for calls that started in [start_from, start_to]
        (at most 31 days apart). Values are text as the PBX wrote them (PBX-API.md §4).

        Limited to about 6 requests a minute: by default waits for a slot."""
        if not 10 <= limit <= 100:
            raise ValueError(f"limit must be 10..100, not {limit}")
        if start_to - start_from > timedelta(days=CDR_WINDOW_DAYS):
            raise ValueError(f"the PBX gives at most {CDR_WINDOW_DAYS} days of history at once")
        params = {
            "start_stamp_from": _utc(start_from),
            "start_stamp_to": _utc(start_to),
            "page": str(page),
            "limit": str(limit),
        }
        if direction is not None:
            params["direction"] = direction
        if missed is not None:
            params["missed"] = "true" if missed else "false"
        body = await self._limited("cdrs", "GET", "/cdrs", params=params, wait=wait)
        return self._page(body, "/cdrs", "cdrs", page, limit)

    async def cdr(
        self, call_uuid: str, *, wait: bool = True
    ) -> tuple[dict[str, str], tuple[dict[str, str], ...]]:
        """One call's history record and its call flow (each leg: who was rung, when)."""
        call_uuid = call_uuid.strip()
        if not _CALL_ID.fullmatch(call_uuid):  # it goes into the path
            raise ValueError(f"not a call id: {call_uuid!r}")
        body = await self._limited("cdrs", "GET", f"/cdrs/{call_uuid}", wait=wait)
        data = self._json(body, "/cdrs")
        if not isinstance(data, dict) or not isinstance(data.get("cdr"), dict):
            raise PbxFailed("no call record")
        flow = data.get("call_flow")
        legs = (
            tuple(_texts(leg) for leg in flow if isinstance(leg, dict))
            if isinstance(flow, list)
            else ()
        )
        return _texts(data["cdr"]), legs

    async def contacts(self, page: int = 1, limit: int = 100) -> Page:
        """One page of the PBX's phonebook (id, name, surname, company_name, phone, …)."""
        if not 10 <= limit <= 100:
            raise ValueError(f"limit must be 10..100, not {limit}")
        body = await self._request(
            "GET", "/contacts", params={"page": str(page), "limit": str(limit)}
        )
        return self._page(body, "/contacts", "contacts", page, limit)

    async def caller_ids(self) -> list[str]:
        """The outbound numbers an originate may present as `caller_id`."""
        data = self._json(await self._request("GET", "/caller_ids"), "/caller_ids")
        if not isinstance(data, list):
            raise PbxFailed("no list of caller ids")
        return [str(n).strip() for n in data if isinstance(n, str | int) and str(n).strip()]

    async def check_key(self) -> None:
        """Whether the PBX takes the key, without placing a call: asks for the recording of
        a call that does not exist, which a valid key gets "not found" for. Raises
        KeyRefused, or what else stopped the question (RateLimited, NetworkError…)."""
        try:
            await self.recording_url(KEY_TEST_CALL)
        except NotFound as exc:
            if exc.what != "call":
                raise

    async def dnd_on(self, extension: str) -> bool:
        """Whether do-not-disturb is on for an extension (2 questions a minute)."""
        statuses = await self.user_statuses(user=extension)
        return any(s.user == extension and s.status == DND_STATUS for s in statuses)

    async def dnd(self, extension: str, on: bool) -> str:
        """Turn do-not-disturb on or off for an extension; returns the PBX's message."""
        extension = extension.strip()
        if not extension.isdigit():
            raise ValueError(f"{extension!r} is not an extension")
        body = await self._request(
            "GET", f"/dnd/{extension}", params={"state": "on" if on else "off"}
        )
        return body.strip()

    async def user_statuses(
        self, user: str | None = None, status: str | None = None, *, wait: bool = False
    ) -> list[UserStatus]:
        """Extensions and their state (AVAILABLE, TALKING, UNREGISTERED, SS_DND).

        Limited to 2 requests a minute: by default raises RateLimited when over it."""
        params = {k: v for k, v in {"user": user, "status": status}.items() if v}
        body = await self._limited(
            "user_statuses", "GET", "/user_statuses", params=params, wait=wait
        )
        data = self._json(body, "/user_statuses")
        if not isinstance(data, list):
            raise PbxFailed("no list of user statuses")
        return [
            UserStatus(str(item.get("user", "")), str(item.get("status", "")))
            for item in data
            if isinstance(item, dict) and item.get("user") is not None
        ]

    async def crm_integrations(self) -> CrmSettings:
        """Where the PBX posts call events, and which ones."""
        data = self._json(await self._request("GET", "/crm_integrations"), "/crm_integrations")
        if not isinstance(data, dict):
            raise PbxFailed("no CRM integration settings")
        fields = _texts(data)
        return CrmSettings(
            notification_url=fields.get("notification_url", "").strip(),
            ringing=_on(fields.get("ringing", "")),
            answered=_on(fields.get("answered", "")),
            hangup=_on(fields.get("hangup", "")),
        )

    async def set_crm_integrations(
        self,
        notification_url: str,
        *,
        ringing: bool = True,
        answered: bool = True,
        hangup: bool = True,
    ) -> None:
        """Replace the PBX's notification URL (there is one per PBX) and event choice.

        The PBX first posts `{}` to the URL and refuses it unless that gets a 2xx."""
        data = {
            "notification_url": notification_url.strip(),
            "ringing": "on" if ringing else "off",
            "answered": "on" if answered else "off",
            "hangup": "on" if hangup else "off",
        }
        await self._request("POST", "/crm_integrations", data=data)

    async def queues(self, *, wait: bool = False) -> dict[str, str]:
        """Queue number -> name. Limited to 10 requests a minute."""
        body = await self._limited("queues", "GET", "/queues", wait=wait)
        data = self._json(body, "/queues")
        if not isinstance(data, list):
            raise PbxFailed("no list of queues")
        return {
            str(item["number"]).strip(): str(item.get("name") or "").strip()
            for item in data
            if isinstance(item, dict) and item.get("number") is not None
        }


# --- replies of the §4 endpoints ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a paginated list; each item's values as text ("" for null)."""

    items: tuple[dict[str, str], ...]
    page: int
    total_pages: int
    total_count: int


@dataclass(frozen=True, slots=True)
class UserStatus:
    user: str
    status: str  # AVAILABLE | TALKING | UNREGISTERED | SS_DND (others may appear)


@dataclass(frozen=True, slots=True)
class CrmSettings:
    notification_url: str
    ringing: bool
    answered: bool
    hangup: bool

    def sends_to(self, url: str) -> bool:
        """Whether the PBX posts to `url` (scheme and host compared case-insensitively)."""
        return bool(self.notification_url) and _same_url(self.notification_url, url)

    def registered(self, url: str) -> bool:
        """Whether every event bulutpop needs goes to `url`."""
        return self.sends_to(url) and self.ringing and self.answered and self.hangup


RegisterResult = Literal["registered", "unchanged", "declined"]


async def register_webhook(
    client: PbxClient, url: str, confirm: Callable[[CrmSettings], Awaitable[bool]]
) -> RegisterResult:
    """Point the PBX's events (ringing, answered, hangup) at `url`.

    There is one notification URL per PBX and another tool may own it, so nothing is
    changed unless `confirm(current settings)` returns True; it can show the URL that will
    be replaced. Already registered: nothing is asked or sent."""
    current = await client.crm_integrations()
    if current.registered(url):
        return "unchanged"
    if not await confirm(current):
        return "declined"
    await client.set_crm_integrations(url, ringing=True, answered=True, hangup=True)
    return "registered"


def _texts(item: Mapping[str, Any]) -> dict[str, str]:
    """A JSON object's values as text, the way events carry them: null is ""."""
    out: dict[str, str] = {}
    for key, value in item.items():
        if value is None:
            out[str(key)] = ""
        elif isinstance(value, bool):
            out[str(key)] = "true" if value else "false"
        elif isinstance(value, dict | list):
            out[str(key)] = json.dumps(value, ensure_ascii=False)
        else:
            out[str(key)] = str(value)
    return out


def _whole(value: object, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def _on(value: str) -> bool:
    return value.strip().lower() in ("on", "true", "1", "t", "yes")


def _utc(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("history times must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _same_url(a: str, b: str) -> bool:
    def norm(url: str) -> tuple[str, str, str, str]:
        parts = urlsplit(url.strip())
        return parts.scheme.lower(), parts.netloc.lower(), parts.path.rstrip("/"), parts.query

    return norm(a) == norm(b)

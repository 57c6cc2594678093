"""Client for the Bulutsantralim HTTP API (PBX-API.md §1, §3).

Every failure is a `PbxError` subclass whose text is safe to log or show: the PBX echoes the
API key in error bodies, so bodies pass through a `Redactor` before they reach a message.
The key travels only in query parameters / form fields handed to aiohttp, never in a URL
string we build, log or put in an exception.

`originate` is not idempotent (a retry places a second call), so nothing here retries.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import tempfile
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from email.utils import parsedate_to_datetime
from pathlib import Path
from types import TracebackType
from typing import IO, Self
from urllib.parse import urljoin, urlsplit

import aiohttp

from bulutpop import __version__
from bulutpop.redact import Redactor

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.bulutsantralim.com"
RECORDING_URL_LIMIT = 5  # requests per window (PBX-API.md §3)
RECORDING_URL_WINDOW = 60.0
RECORDING_URL_TTL = 50 * 60.0  # links live one hour; keep a margin for a slow download
DEFAULT_RETRY_AFTER = 60.0
_MAX_DETAIL = 300  # characters of a PBX body kept in a message

_INVALID_KEY = re.compile(
    r"ge[cç]ersiz\s+(api\s+)?anahtar|invalid\s+(api\s+)?key|wrong\s+(api\s+)?key",
    re.IGNORECASE,
)
_NO_SUCH_CALL = re.compile(r"cannot\s+find\s+call", re.IGNORECASE)


# --- errors -------------------------------------------------------------------------------


class PbxError(Exception):
    """A failed PBX request. `message` is for the user; `detail` is the PBX's (redacted)
    reply, if any; `status` is the HTTP status, if one was received."""

    def __init__(self, message: str, *, detail: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail
        self.status = status

    def __str__(self) -> str:
        return self.message


class InvalidKey(PbxError):
    """The PBX rejected the API key."""


class NotFound(PbxError):
    """The call (or recording link) does not exist."""


class RateLimited(PbxError):
    """Too many requests; try again after `retry_after` seconds."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float,
        detail: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message, detail=detail, status=status)
        self.retry_after = retry_after


class BadRequest(PbxError):
    """The PBX refused the request; `detail` says why (e.g. `extension 1005 not found`)."""


class ServerError(PbxError):
    """The PBX failed (5xx) or replied with something unusable."""


class NetworkError(PbxError):
    """No usable reply: connection failed, dropped or timed out.

    `uncertain` is True when the request may have reached the PBX (timeout, dropped
    connection) and False when it surely did not (the connection was never made).
    """

    def __init__(self, message: str, *, cause: str, uncertain: bool) -> None:
        super().__init__(message)
        self.cause = cause
        self.uncertain = uncertain


class DownloadError(PbxError):
    """The recording could not be written to disk."""


# --- client-side rate limit ---------------------------------------------------------------


class _SlidingWindow:
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
        self._clock = clock
        self._sleep = sleep
        self._recording_limiter = _SlidingWindow(recording_limit, recording_window, clock)
        self._url_cache: dict[str, tuple[str, float]] = {}
        self._url_locks: dict[str, asyncio.Lock] = {}

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
            self._session = aiohttp.ClientSession()
        return self._session

    # --- errors ---

    def _clean(self, text: str) -> str:
        text = self._redactor.redact(" ".join(text.split()))
        return text if len(text) <= _MAX_DETAIL else text[: _MAX_DETAIL - 1] + "…"

    def _network_error(self, exc: BaseException, what: str) -> NetworkError:
        # Without a connection nothing was sent; anything later may have reached the PBX.
        not_sent = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
        uncertain = not isinstance(exc, not_sent)
        if isinstance(exc, aiohttp.ConnectionTimeoutError):
            cause = "connection timed out"
        elif isinstance(exc, TimeoutError):
            cause = "timed out waiting for the reply"
        elif isinstance(exc, aiohttp.ClientConnectorError):
            err = exc.os_error
            # asyncio's strerror is "Connect call failed (...)"; errno says more.
            reason = os.strerror(err.errno) if err.errno and err.errno > 0 else err.strerror
            cause = f"cannot connect to {exc.host}:{exc.port}: {reason or type(err).__name__}"
        elif isinstance(exc, aiohttp.ClientPayloadError):
            cause = "the connection dropped during the transfer"
        elif isinstance(exc, aiohttp.ServerDisconnectedError):
            cause = "the server closed the connection"
        else:
            cause = str(exc) or type(exc).__name__
        cause = self._clean(cause)
        return NetworkError(f"{what}: {cause}", cause=cause, uncertain=uncertain)

    def _http_error(
        self, status: int, body: str, headers: Mapping[str, str], *, rate_estimate: float | None
    ) -> PbxError:
        detail = self._clean(body)
        shown = f" ({detail})" if detail else ""
        if status == 401 or (status in (400, 403) and _INVALID_KEY.search(body)):
            return InvalidKey(f"The PBX rejected the API key{shown}.", detail=detail, status=status)
        if _NO_SUCH_CALL.search(body) and status in (400, 404):
            return NotFound(
                f"The PBX does not know this call{shown}.", detail=detail, status=status
            )
        if status == 404:  # a bare 404 usually means a wrong API address
            return NotFound(
                f"The PBX answered 'not found' (HTTP 404){shown}; check the API address.",
                detail=detail,
                status=status,
            )
        if status == 429:
            retry = _retry_after(headers) or rate_estimate or DEFAULT_RETRY_AFTER
            return RateLimited(
                f"The PBX is limiting requests; try again in {math.ceil(retry)} s.",
                retry_after=retry,
                detail=detail,
                status=status,
            )
        if 400 <= status < 500:
            return BadRequest(
                detail or f"The PBX refused the request (HTTP {status}).",
                detail=detail,
                status=status,
            )
        if status >= 500:
            return ServerError(
                f"The PBX failed (HTTP {status}){shown}.", detail=detail, status=status
            )
        return ServerError(
            f"Unexpected reply from the PBX (HTTP {status}); check the API address.",
            detail=detail,
            status=status,
        )

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
        """One API call, key added (query for GET, form field otherwise); the body on 2xx.

        Never retries. Redirects are not followed: a key-bearing request must not be
        replayed somewhere else (and a POST would lose its body anyway).
        """
        if method == "GET":
            params = {**(params or {}), "key": self._key}
        else:
            data = {**(data or {}), "key": self._key}
        url = self._base_url + path
        what = f"{method} {path} failed"
        log.debug("PBX request %s %s", method, path)  # never the URL with its query
        try:
            async with self._get_session().request(
                method,
                url,
                params=params,
                data=data,
                headers=self._headers,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                body = await response.text(errors="replace")
                status = response.status
                headers = response.headers
        except TimeoutError as exc:
            raise self._network_error(exc, what) from None
        except aiohttp.ClientError as exc:
            raise self._network_error(exc, what) from None
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
        try:
            body = await self._request("GET", "/originate", params=params)
        except NetworkError as exc:
            if not exc.uncertain:
                raise NetworkError(
                    f"Could not reach the PBX; the call was not placed ({exc.cause}).",
                    cause=exc.cause,
                    uncertain=False,
                ) from None
            raise NetworkError(
                f"No answer from the PBX ({exc.cause}); the call may or may not have been "
                "placed. Check your phone before dialling again.",
                cause=exc.cause,
                uncertain=True,
            ) from None
        call_uuid = body.strip()
        if not call_uuid:
            raise ServerError("The PBX accepted the call but returned no call id.")
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
                    raise RateLimited(
                        f"Recording links are limited to {limiter.describe()}; "
                        f"try again in {math.ceil(delay)} s.",
                        retry_after=delay,
                    )
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
                raise ServerError(
                    "The PBX returned no usable recording link.", detail=self._clean(body)
                )
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
        shown = self._clean(urlsplit(url).netloc) or "the PBX"
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
                            raise NotFound(
                                "The recording link has expired or does not exist.",
                                detail=self._clean(body),
                                status=404,
                            )
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
                        f"Download from {shown} stopped after {written} of {total} bytes.",
                        cause="incomplete",
                        uncertain=True,
                    )
                await asyncio.to_thread(_fsync_close, fh)
            finally:
                fh.close()
            await asyncio.to_thread(os.replace, tmp, dest)
            finished = True
        except PbxError:
            raise
        except TimeoutError as exc:
            raise self._network_error(exc, f"Download from {shown} failed") from None
        except aiohttp.ClientError as exc:  # before OSError: ClientOSError is both
            raise self._network_error(exc, f"Download from {shown} failed") from None
        except OSError as exc:
            raise self._disk_error(dest, exc) from None
        finally:
            if not finished:
                try:
                    tmp.unlink(missing_ok=True)
                except OSError:
                    log.warning("could not remove temporary file %s", tmp)
        log.debug("downloaded %d bytes to %s", written, dest)
        return written

    def _disk_error(self, dest: Path, exc: OSError) -> DownloadError:
        reason = exc.strerror or type(exc).__name__
        return DownloadError(self._clean(f"Could not save the recording to {dest}: {reason}."))

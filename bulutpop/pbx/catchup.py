"""Catching up from the PBX's call history (GET /cdrs, PBX-API.md §4).

Webhook events are lost while the receiver is unreachable or the app is not running; the
PBX's history still has every call. `CatchUp` fetches the calls since the last catch-up
(the first one: `history_days` back), turns each record into an event with the webhook's
field names (`cdr_event`) and feeds it to the tracker like any other event, so the same
missed-call rules apply whichever way a call arrived. The tracker folds a history event
below the webhook's own (see `tracker.HISTORY_EVENT`): a call seen both ways stays one
call, and a call known only from history is marked with the source "history".

Progress is saved after every page, so a failure (rate limit, network) loses nothing: the
next run resumes at the page that failed, in the same window, which keeps the pages stable.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime

from bulutpop.calls.events import CallEvent, party
from bulutpop.calls.tracker import HISTORY_EVENT, CallTracker
from bulutpop.errors import KeyRefused, PbxError, RateLimited, SetupMissing
from bulutpop.pbx.client import PbxClient

log = logging.getLogger(__name__)

SOURCE = "history"
META_KEY = "catchup"
DAY = 86400.0
# The PBX refuses more than 31 days at once; 30 keeps clear of however it counts them.
WINDOW = 30 * DAY
# Each run asks again for the last two hours: a call is only in the history once it has
# ended, so a call still going on at one run shows up at a later run with an earlier start
# (the overlap also absorbs a PC clock running behind the PBX's). Known calls cost nothing.
OVERLAP = 2 * 3600.0
PAGE_SIZE = 100
BACKOFF_START = 30.0


# --- history record -> event ---------------------------------------------------------------


def _direction(label: str) -> str:
    text = label.strip().casefold()
    if text in ("inbound", "outbound", "internal"):
        return text
    if text.startswith("gelen"):
        return "inbound"
    if text.startswith("giden"):  # Giden, Giden (API), Giden (IVR)
        return "outbound"
    if text.startswith("santral"):  # Santral içi
        return "internal"
    return ""


def _seconds(text: str) -> str:
    """`HH:MM:SS` (also `00:0:35`, `MM:SS` or bare seconds) as whole seconds; "" when
    unreadable."""
    total = 0
    for part in text.strip().split(":"):
        if not part.isdigit():
            return ""
        total = total * 60 + int(part)
    return str(total)


def cdr_event(cdr: Mapping[str, str]) -> CallEvent | None:
    """A history record as an event of type `cdr` with the webhook's field names; None
    without a call_uuid.

    The history keeps one record per extension rung, so a record is a leg: the extension it
    rang (in `dialed_user`) is its destination's, written bare (`1001`) or beside the
    company line (`902125550101 (1014)`); a queue's own number is not a leg. Empty values
    are left out, as the fold ignores them, except the fields that show whether the leg was
    answered: an empty answer time is evidence too (fold.shows_answer)."""
    record = CallEvent(dict(cdr))
    call_uuid = record.get("call_uuid")
    if not call_uuid:
        return None
    direction = _direction(record.get("direction"))
    queue = record.get("queue")
    rung = party(record.get("destination_number")).extension
    missed = record.flag("missed")
    fields = {
        "event_type": HISTORY_EVENT,
        "call_uuid": call_uuid,
        "direction": direction,
        "caller_id_number": record.get("caller_id_number"),
        "caller_id_name": record.get("caller_id_name"),
        "destination_number": record.get("destination_number"),
        "destination_name": record.get("destination_name"),
        "dialed_user": rung if direction != "outbound" and rung != queue else "",
        "start_stamp": record.get("start_stamp"),
        "end_stamp": record.get("end_stamp"),
        "answered": "" if missed is None else ("false" if missed else "true"),
        "recording_present": record.get("recording_present"),
        "queue": queue,
        "queue_wait_duration": _seconds(record.get("queue_wait_seconds")),
        "sip_hangup_disposition": record.get("sip_hangup_disposition"),
        "hangup_cause": record.get("hangup_cause"),
        "return_uuid": record.get("return_uuid"),
    }
    kept = {name: value for name, value in fields.items() if value}
    kept["answer_stamp"] = record.get("answer_stamp")
    kept["duration"] = _seconds(record.get("talk_duration"))
    kept["result"] = record.get("result")
    return CallEvent(kept)


# --- the service ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CatchUpResult:
    recovered: int  # calls the store did not have (the webhook never delivered them)
    fetched: int  # history records received
    pages: int  # requests made by this run
    since: float  # the span of start times covered
    until: float


@dataclass(frozen=True, slots=True)
class CatchUpStatus:
    """What the UI shows. Times are Unix timestamps."""

    running: bool = False
    last_run: float | None = None  # when the last complete catch-up finished
    last_recovered: int = 0
    last_fetched: int = 0
    error: BaseException | None = None  # why the last attempt failed
    next_run: float | None = None  # set by run_forever; None: waiting for a new API key
    progress: tuple[int, int] | None = None  # (page, pages) while running


@dataclass
class _Saved:
    """Progress kept in the store's meta table, so a restart resumes where it stopped."""

    cursor: float | None = None  # every call that started before this is in the store
    window: tuple[float, float] | None = None  # the window being fetched
    page: int = 1  # its next page
    recovered: int = 0  # counts of the catch-up in progress
    fetched: int = 0
    last_run: float | None = None
    last_recovered: int = 0
    last_fetched: int = 0

    @classmethod
    def load(cls, text: str | None) -> _Saved:
        try:
            data = json.loads(text or "{}")
            saved = cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (ValueError, TypeError):
            log.warning("catch-up progress unreadable; starting afresh")
            return cls()
        if saved.window is not None:
            saved.window = (float(saved.window[0]), float(saved.window[1]))
        return saved


StatusListener = Callable[[CatchUpStatus], None]


class CatchUp:
    """Recovers calls from the PBX's history into the store.

    `api` returns the client to use (the app's long-lived one, e.g. `Core.api`); it is
    called at every run, so a changed key or URL is picked up, and whatever it raises
    (no key stored) is reported in the status like any failure.
    """

    def __init__(
        self,
        tracker: CallTracker,
        api: Callable[[], PbxClient],
        *,
        history_days: int = 7,
        page_size: int = PAGE_SIZE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._tracker = tracker
        self._store = tracker.store
        self._api = api
        self.history_days = history_days
        self._page_size = page_size
        self._clock = clock
        self._saved = _Saved.load(self._store.meta(META_KEY))
        self._status = CatchUpStatus(
            last_run=self._saved.last_run,
            last_recovered=self._saved.last_recovered,
            last_fetched=self._saved.last_fetched,
        )
        self._listeners: list[StatusListener] = []
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._rejected: PbxClient | None = None  # the client whose key the PBX refused
        self._logged = ""

    @property
    def status(self) -> CatchUpStatus:
        return self._status

    def subscribe(self, listener: StatusListener) -> Callable[[], None]:
        """Call `listener(status)` on the loop thread whenever the status changes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def trigger(self) -> None:
        """Run `run_forever`'s next catch-up now: after the receiver was unreachable, the
        PC woke up or came back online, the API key changed, or the user asked."""
        self._wake.set()

    def _set(self, status: CatchUpStatus) -> None:
        self._status = status
        for listener in list(self._listeners):
            try:
                listener(self._status)
            except Exception:
                log.exception("a catch-up status listener failed")

    async def run_once(self) -> CatchUpResult:
        """Fetch every call since the last catch-up and store the new ones. Raises what
        stopped it (PbxError, or what `api` raised); the progress made is kept."""
        async with self._lock:
            self._set(replace(self._status, running=True))
            client: PbxClient | None = None
            try:
                client = self._api()
                result = await self._run(client)
            except Exception as exc:
                if isinstance(exc, KeyRefused):
                    self._rejected = client
                self._set(
                    replace(
                        self._status,
                        running=False,
                        progress=None,
                        error=exc,
                    )
                )
                raise
            self._set(
                replace(
                    self._status,
                    running=False,
                    progress=None,
                    error=None,
                    last_run=self._saved.last_run,
                    last_recovered=result.recovered,
                    last_fetched=result.fetched,
                )
            )
            return result

    async def run_forever(self, interval: float) -> None:
        """Catch up now, then every `interval` seconds or when triggered. Failures are
        retried with backoff (a 429's wait is honoured); a refused key waits for a new
        one. Never raises but CancelledError: cancel the task to stop."""
        failures = 0
        while True:
            delay: float | None = interval
            try:
                await self.run_once()
                failures = 0
                self._logged = ""
            except Exception as exc:
                failures += 1
                if isinstance(exc, (KeyRefused, SetupMissing)):
                    delay = None
                elif isinstance(exc, RateLimited):
                    delay = max(exc.retry_after, 1.0)
                else:
                    delay = min(interval, BACKOFF_START * 2 ** (failures - 1))
                self._log_failure(exc)
            next_run = None if delay is None else self._clock() + delay
            self._set(replace(self._status, next_run=next_run))
            await self._pause(delay, interval)

    async def _pause(self, delay: float | None, interval: float) -> None:
        """Until `delay` passes or `trigger()`; with None, until the API key changes."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval if delay is None else delay):
                    await self._wake.wait()
                break
            if delay is not None or self._key_changed():
                break
        self._wake.clear()

    async def look_up(self, since: float) -> int:
        """Fetch the history from `since` until now and store it, without moving the
        catch-up's place, then settle the undecided calls it has; returns how many. How a
        queue call nobody answered is missed seconds after it ends rather than
        `settle_seconds` later. Raises what stopped it."""
        async with self._lock:
            client = self._api()
            low, high, page = _moment(since), _moment(self._clock()), 1
            while True:
                reply = await client.cdrs(low, high, page=page, limit=self._page_size)
                await self._ingest(reply.items)
                if page >= reply.total_pages or not reply.items:
                    break
                page += 1
        return await self._tracker.settle_history()

    def _key_changed(self) -> bool:
        try:
            return self._api() is not self._rejected
        except Exception:
            return False

    def _log_failure(self, exc: Exception) -> None:
        message = str(exc) or type(exc).__name__
        if message == self._logged:
            return  # said once; the status keeps showing it
        self._logged = message
        if isinstance(exc, PbxError):
            log.warning("catch-up from the call history failed: %s", message)
        else:
            log.warning("catch-up from the call history failed: %s", message, exc_info=exc)

    # -- the work ---------------------------------------------------------------------------

    async def _run(self, client: PbxClient) -> CatchUpResult:
        saved = self._saved
        now = self._clock()
        if saved.window is None:
            start = (
                saved.cursor - OVERLAP
                if saved.cursor is not None
                else now - self.history_days * DAY
            )
            saved.window = (start, min(start + WINDOW, now))
            saved.page, saved.recovered, saved.fetched = 1, 0, 0
        since = saved.window[0]
        pages = 0
        while True:
            low, high = saved.window
            while True:
                reply = await client.cdrs(
                    _moment(low), _moment(high), page=saved.page, limit=self._page_size
                )
                pages += 1
                saved.recovered += await self._ingest(reply.items)
                saved.fetched += len(reply.items)
                progress = (saved.page, max(reply.total_pages, saved.page))
                self._set(replace(self._status, progress=progress))
                saved.page += 1
                if saved.page > reply.total_pages or not reply.items:
                    break
                await self._save()
            saved.cursor = high
            if high >= now:
                break
            saved.window, saved.page = (high, min(high + WINDOW, now)), 1
            await self._save()
        result = CatchUpResult(saved.recovered, saved.fetched, pages, since, high)
        # Every leg's record of every call in the windows is in now.
        await self._tracker.settle_history()
        saved.window, saved.recovered, saved.fetched = None, 0, 0
        saved.last_run = self._clock()
        saved.last_recovered, saved.last_fetched = result.recovered, result.fetched
        await self._save()
        return result

    async def _ingest(self, records: Sequence[Mapping[str, str]]) -> int:
        """Store one page; returns how many of its calls were new to the store."""
        pairs = [
            (event, json.dumps(record, ensure_ascii=False).encode())
            for record in records
            if (event := cdr_event(record)) is not None
        ]
        known = self._store.known_calls([event.call_uuid for event, _ in pairs])
        # A page is one transaction, and one round trip to the store's writer.
        changes = await self._tracker.ingest_batch(pairs, SOURCE)
        return len(
            {
                change.call.call_uuid
                for change in changes
                if change is not None
                and change.call is not None
                and change.call.source == SOURCE
                and change.call.call_uuid not in known
            }
        )

    async def _save(self) -> None:
        text = json.dumps(asdict(self._saved))
        await self._tracker.run_write(self._store.set_meta, META_KEY, text)


def _moment(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)

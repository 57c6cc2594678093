"""The call tracker: folds stored events into calls and keeps missed-call groups right.

`fold` (fold.py) is pure: the same events, in any order and with any duplicates, give the
same call. `CallTracker` is the one way events enter the store, whatever brought them (webhook, the
PBX's history, a relay): it stores the event and the refreshed call in one transaction,
then tells its subscribers what changed.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from bulutpop.calls.events import CallEvent
from bulutpop.calls.fold import FOLDED_TYPES, HISTORY_EVENT, SETTLE_EVENT, fold
from bulutpop.calls.model import Call
from bulutpop.storage.store import Forgotten, Store

log = logging.getLogger(__name__)
T = TypeVar("T")

__all__ = ["HISTORY_EVENT", "SETTLE_EVENT", "CallTracker", "Change", "fold"]

# A call with several legs whose every ending heard of was unanswered may still be answered
# by a colleague (fold.py). When nothing more about it is received for this long (the
# `settle_seconds` setting), it is settled as it stands: missed for the extensions it rang.
# Usually the PBX's history settles them first: a completed catch-up, or the runtime's
# look-up seconds after every leg has ended (app/runtime.py). One settled too early (a queue
# caller waiting this long in silence, then answered) shows missed until the answer comes.
SETTLE_SECONDS = 120.0
SETTLE_SOURCE = "settle"
# Telling the listeners of a batch's changes yields to the loop this often (seconds): in the
# tray app the loop is the UI's.
NOTIFY_SLICE = 0.01

# How long the writer goes on committing events that keep arriving before the other
# writes queued for it (address books, settling, "mark done") get their turn.
FLUSH_TURN = 0.05


def settle_event(call_uuid: str) -> CallEvent:
    """The marker that makes a call's outcome final. Its fields are the same wherever it is
    made (this PC, the team's relay), so a second one is a duplicate."""
    return CallEvent({"event_type": SETTLE_EVENT, "call_uuid": call_uuid})


@dataclass(frozen=True, slots=True)
class Change:
    """What changed: a call (None when only missed-call resolutions moved, e.g. after
    "mark done"), the event that changed it, and whether the missed list moved."""

    call: Call | None
    event: CallEvent | None
    missed_changed: bool


Listener = Callable[[Change], None]
# Runs inside an event's transaction once it is stored (not for duplicates): what it writes
# commits or rolls back with the event. The relay fills its outbox this way.
StoredHook = Callable[[sqlite3.Connection, CallEvent, "Change | None"], None]


@dataclass(slots=True)
class _Pending:
    event: CallEvent
    raw: bytes | None
    source: str
    future: asyncio.Future[Change | None]


_Result = tuple[_Pending, "Change | None", "BaseException | None"]


def _answer(results: list[_Result]) -> None:
    """On the loop: hand each event's outcome to its waiting `ingest`."""
    for item, change, error in results:
        if item.future.done():  # the waiting request went away (client disconnected)
            continue
        if error is not None:
            item.future.set_exception(error)
        else:
            item.future.set_result(change)


class CallTracker:
    def __init__(
        self, store: Store, mine: frozenset[str], settle_seconds: float = SETTLE_SECONDS
    ) -> None:
        self.store = store
        self.mine = mine
        self.settle_seconds = settle_seconds
        self._listeners: list[Listener] = []
        self._logged_disagreements: set[str] = set()
        self._pending: list[_Pending] = []
        self._pending_lock = threading.Lock()
        self._flush_scheduled = False
        self.on_stored: StoredHook | None = None

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _notify(self, change: Change) -> None:
        for listener in list(self._listeners):
            try:
                listener(change)
            except Exception:
                log.exception("a call listener failed")

    async def _write(self, fn: Callable[..., T], *args: object) -> T:
        return await self.store.write(fn, *args)

    async def ingest(self, event: CallEvent, raw: bytes | None, source: str) -> Change | None:
        """Store the event durably, then notify. None when it was a duplicate.

        Events arriving while the writer is busy are committed together (group commit):
        each caller still returns only after its own event is committed, but a burst costs
        one commit instead of one per event."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Change | None] = loop.create_future()
        with self._pending_lock:
            self._pending.append(_Pending(event, raw, source, future))
            schedule = not self._flush_scheduled
            self._flush_scheduled = True
        if schedule:
            self.store.submit(self._flush, loop)
        change = await future
        if change is not None:
            self._notify(change)
        return change

    def _flush(self, loop: asyncio.AbstractEventLoop) -> None:
        """Writer thread: commit the pending events together, answer each, and go on with
        what arrived meanwhile (no new hand-over per batch) for up to FLUSH_TURN seconds;
        then the other writes queued for the writer get their turn first."""
        turn_ends = time.monotonic() + FLUSH_TURN
        while True:
            with self._pending_lock:
                batch, self._pending = self._pending, []
                if not batch:
                    self._flush_scheduled = False
                    return
            # One wake-up of the loop for the whole batch.
            loop.call_soon_threadsafe(_answer, self._commit(batch))
            if time.monotonic() > turn_ends:
                try:
                    self.store.submit(self._flush, loop)
                except RuntimeError:  # the store is closing: no other write comes
                    continue
                return

    def _commit(self, batch: list[_Pending]) -> list[_Result]:
        """Store a batch in one transaction. Tried whole first (events rarely fail); when
        one does, again with a savepoint per event, so that it is refused alone."""
        try:
            with self.store.transaction() as conn:
                return [
                    (item, self._ingest_in(conn, item.event, item.raw, item.source), None)
                    for item in batch
                ]
        except Exception as exc:
            if len(batch) == 1:
                return [(batch[0], None, exc)]
        results: list[_Result] = []
        try:
            with self.store.transaction() as conn:
                for item in batch:
                    conn.execute("SAVEPOINT event")
                    try:
                        change = self._ingest_in(conn, item.event, item.raw, item.source)
                    except Exception as exc:
                        conn.execute("ROLLBACK TO event")
                        results.append((item, None, exc))
                    else:
                        results.append((item, change, None))
                    conn.execute("RELEASE event")
        except Exception as exc:  # the commit itself failed: nothing in the batch is stored
            return [(item, None, exc) for item in batch]
        return results

    async def ingest_batch(
        self, items: Sequence[tuple[CallEvent, bytes | None]], source: str
    ) -> list[Change | None]:
        """`ingest` for events that arrived together (a team PC's backlog): stored in one
        transaction, in order, with one round trip to the writer instead of one per event;
        then each change is told. Raises the first event's failure (the others are stored)."""
        results = await self._write(self._ingest_all, items, source)
        changes: list[Change | None] = []
        turn = time.perf_counter()
        for change, _error in results:
            if change is not None:
                self._notify(change)
                if time.perf_counter() - turn > NOTIFY_SLICE:  # let the loop (the UI) run
                    await asyncio.sleep(0)
                    turn = time.perf_counter()
            changes.append(change)
        error = next((e for _c, e in results if e is not None), None)
        if error is not None:
            raise error
        return changes

    def _ingest_all(
        self, items: Sequence[tuple[CallEvent, bytes | None]], source: str
    ) -> list[tuple[Change | None, BaseException | None]]:
        results: list[tuple[Change | None, BaseException | None]] = []
        with self.store.transaction() as conn:
            for event, raw in items:
                conn.execute("SAVEPOINT event")  # one that fails is refused alone
                try:
                    results.append((self._ingest_in(conn, event, raw, source), None))
                except Exception as exc:
                    conn.execute("ROLLBACK TO event")
                    results.append((None, exc))
                conn.execute("RELEASE event")
        return results

    async def run_write(self, fn: Callable[..., T], *args: object, missed: bool = False) -> T:
        """Run `fn` on the writer thread, for other writes to the store (address books,
        catch-up progress, team claims): they must never interleave with an event's
        transaction. `missed`: tell the subscribers the missed list moved."""
        result = await self._write(fn, *args)
        if missed:
            self._notify(Change(call=None, event=None, missed_changed=True))
        return result

    async def reject(self, raw: bytes, reason: str, content_type: str, source: str) -> None:
        await self._write(self.store.add_rejected, raw, reason, content_type, source)

    def ingest_sync(self, event: CallEvent, raw: bytes | None, source: str) -> Change | None:
        """The transaction behind `ingest` (no notification), for callers without a loop."""
        return self.store.run(self._ingest_tx, event, raw, source)

    def _ingest_tx(self, event: CallEvent, raw: bytes | None, source: str) -> Change | None:
        with self.store.transaction() as conn:
            return self._ingest_in(conn, event, raw, source)

    def _ingest_in(
        self, conn: sqlite3.Connection, event: CallEvent, raw: bytes | None, source: str
    ) -> Change | None:
        stored = self.store.add_event(conn, event, raw, source)
        if stored is None:
            return None
        change: Change | None = None
        if event.event_type in FOLDED_TYPES:
            change = self._refresh(conn, event, stored)
        else:
            log.info("kept an event of unknown type %r", event.event_type[:40])
        if self.on_stored is not None:
            self.on_stored(conn, event, change)
        return change

    def _refresh(self, conn: sqlite3.Connection, event: CallEvent, event_id: int) -> Change:
        call, was_missed = self._derive(conn, event.call_uuid, (event_id, event))
        resolved, call = self._apply_resolutions(conn, call)
        return Change(call=call, event=event, missed_changed=resolved or call.missed != was_missed)

    def _derive(
        self, conn: sqlite3.Connection, uuid: str, fresh: tuple[int, CallEvent] | None = None
    ) -> tuple[Call, bool]:
        """Fold the call again from its stored events and store it: the call as stored,
        and whether it was missed before. `fresh`: the event just stored (and its id)."""
        stored = self.store.call_events(conn, uuid, fresh)
        call, disagreement = fold(uuid, stored.events, self.mine, stored.first_source)
        if disagreement and uuid not in self._logged_disagreements:
            self._logged_disagreements.add(uuid)
            log.warning("call %s: %s; following the evidence", uuid, disagreement)
        pending_until = stored.last_received + self.settle_seconds if call.pending else None
        return self.store.put_call(conn, call, pending_until), stored.was_missed

    def _apply_resolutions(self, conn: sqlite3.Connection, call: Call) -> tuple[bool, Call]:
        """An answered call resolves its party's earlier missed calls; a missed call whose
        caller was already served (or dismissed) later is born resolved. Returns whether a
        resolution moved, and the call as stored now."""
        resolved = False
        if call.answered and call.party_key and call.start_ts is not None:
            by = "callback" if call.placed else "answered"
            # Earlier calls only: never this one.
            resolved = (
                self.store.resolve_earlier_missed(
                    conn, call.party_key, call.start_ts, by, call.call_uuid
                )
                > 0
            )
        if call.missed:
            own = self.store.resolve_if_later_answered(conn, call)
            own = self.store.resolve_returned(conn, call.call_uuid) or own
            if own:  # rare: read back the resolution it was born with
                return True, self.store.call_in(conn, call.call_uuid) or call
        return resolved, call

    async def mark_done(self, party_key: str) -> float:
        """Resolve a caller's open missed calls; returns the mark, for `undo_done`."""
        at = time.time()
        await self._write(self._dismiss, party_key, at)
        self._notify(Change(call=None, event=None, missed_changed=True))
        return at

    async def undo_done(self, party_key: str, at: float) -> None:
        await self._write(self._undismiss, party_key, at)
        self._notify(Change(call=None, event=None, missed_changed=True))

    async def forget(self, number_key: str) -> Forgotten:
        """Erase a number from the store (`Store.forget`); the lists are told."""
        forgotten = await self.store.forget_async(number_key)
        self._notify(Change(call=None, event=None, missed_changed=True))
        return forgotten

    def _dismiss(self, party_key: str, at: float) -> None:
        with self.store.transaction() as conn:
            self.store.dismiss(conn, party_key, at)

    def _undismiss(self, party_key: str, at: float) -> None:
        with self.store.transaction() as conn:
            self.store.undismiss(conn, party_key, at)

    async def settle_due(self, now: float | None = None) -> int:
        """Settle the calls whose outcome the events cannot tell and of which nothing was
        heard for `settle_seconds` (see SETTLE_SECONDS); returns how many."""
        due = self.store.pending_due(time.time() if now is None else now)
        return await self._settle(due)

    def quiet_pending(self, quiet_for: float, now: float | None = None) -> list[tuple[str, float]]:
        """Undecided calls whose every leg heard of has ended and of which nothing was heard
        for `quiet_for` seconds: (call_uuid, start time). The PBX's history can settle them
        long before `settle_seconds` does (the runtime looks them up)."""
        now = time.time() if now is None else now
        return self.store.pending_quiet(now - quiet_for + self.settle_seconds)

    async def settle_history(self) -> int:
        """Settle the undecided calls the PBX's history has: a completed catch-up has
        every leg's record of them (the history lists a call only once it has ended)."""
        return await self._settle(self.store.pending_with_history())

    async def _settle(self, call_uuids: list[str]) -> int:
        changes = await asyncio.gather(
            *(self.ingest(settle_event(uuid), None, SETTLE_SOURCE) for uuid in call_uuids)
        )
        return sum(1 for change in changes if change is not None)

    async def refold_if_needed(self) -> bool:
        """Derive every call again if the store asks for it (after a change of the rules)."""
        if self.store.meta("refold") is None:
            return False
        log.info("deriving the stored calls again with the current rules")
        await self.recompute(self.mine)
        await self.run_write(self._refolded)
        return True

    def _refolded(self) -> None:
        with self.store.transaction() as conn:
            conn.execute("DELETE FROM meta WHERE key = 'refold'")

    async def recompute(self, mine: frozenset[str]) -> None:
        """Re-derive every call after the user's extensions changed."""
        self.mine = mine
        await self._write(self._recompute)
        self._notify(Change(call=None, event=None, missed_changed=True))

    def _recompute(self) -> None:
        with self.store.transaction() as conn:
            rows = conn.execute("SELECT call_uuid FROM calls ORDER BY start_ts").fetchall()
            for (uuid,) in rows:
                self._apply_resolutions(conn, self._derive(conn, uuid)[0])

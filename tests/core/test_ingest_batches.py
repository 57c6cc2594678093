"""Group commit: events that arrive while the store's writer is busy are committed
together, each acknowledged only once its transaction has committed; one that fails is
refused alone; and what `ingest` reports is the call exactly as stored."""

from __future__ import annotations

import asyncio
import itertools
import random
import sqlite3
import threading

import pytest

from bulutpop.app.guard import Limits
from bulutpop.calls.events import CallEvent, parse_body
from bulutpop.calls.tracker import CallTracker, Change, settle_event
from bulutpop.storage.store import Store
from tests.conftest import scenario, until
from tests.core.conftest import Server, feed

SCENARIOS = ("01", "02", "03", "04", "05", "06", "08", "09", "10", "11")


def ringing(n: int) -> tuple[CallEvent, bytes]:
    body = (
        f"event_type=ringing&call_uuid=batch-{n}&dialed_user=1001&direction=inbound"
        f"&caller_id_number=05321234{n % 100:03d}&start_stamp=2026-12-02 10:00:00"
    ).encode()
    parsed = parse_body(body)
    assert parsed.event is not None
    return parsed.event, body


async def holding_the_writer(store: Store) -> tuple[threading.Event, asyncio.Future[bool]]:
    """Occupy the writer thread until the returned event is set: what is handed to it
    meanwhile queues up, as behind a slow commit."""
    gate, busy = threading.Event(), threading.Event()

    def hold() -> bool:
        busy.set()
        return gate.wait(30)

    held = asyncio.ensure_future(store.write(hold))
    await until(busy.is_set, 10, "the writer held")
    return gate, held


async def test_events_arriving_together_are_acknowledged_only_once_committed(
    tracker: CallTracker, store: Store
) -> None:
    gate, held = await holding_the_writer(store)
    events = [ringing(n) for n in range(40)]
    events.append(events[7])  # a redelivery inside the same batch
    waiting = [asyncio.ensure_future(tracker.ingest(e, b, "webhook")) for e, b in events]
    for _ in range(20):
        await asyncio.sleep(0)
    # Nothing is acknowledged, nor visible to readers, before the commit.
    assert not any(task.done() for task in waiting)
    assert store.event_count() == 0
    gate.set()
    assert await held
    changes = await asyncio.gather(*waiting)
    assert store.event_count() == 40 and store.count_calls() == 40
    assert changes[-1] is None  # the duplicate
    for change in changes[:-1]:
        assert change is not None and change.call is not None
        assert change.call == store.call(change.call.call_uuid)
        assert change.missed_changed is False  # still ringing


async def test_an_event_that_fails_in_a_batch_is_refused_alone(
    tracker: CallTracker, store: Store
) -> None:
    def fail_for_one(conn: sqlite3.Connection, event: CallEvent, change: Change | None) -> None:
        conn.execute("INSERT INTO meta (key, value) VALUES (?, 'x')", (event.call_uuid,))
        if event.call_uuid == "batch-3":
            raise sqlite3.OperationalError("disk I/O error")

    tracker.on_stored = fail_for_one
    gate, held = await holding_the_writer(store)
    events = [ringing(n) for n in range(6)]
    waiting = [asyncio.ensure_future(tracker.ingest(e, b, "webhook")) for e, b in events]
    for _ in range(20):
        await asyncio.sleep(0)
    gate.set()
    assert await held
    results = await asyncio.gather(*waiting, return_exceptions=True)
    assert isinstance(results[3], sqlite3.OperationalError)
    assert all(isinstance(r, Change) for i, r in enumerate(results) if i != 3)
    # Its event, its call and what its hook wrote are gone; the others' are all there.
    assert {raw for _, raw in store.raw_events()} == {
        b for i, (_, b) in enumerate(events) if i != 3
    }
    assert store.call("batch-3") is None and store.meta("batch-3") is None
    assert [store.meta(f"batch-{n}") for n in (0, 1, 2, 4, 5)] == ["x"] * 5
    # Sent again (the PBX retries after the 503), it is stored.
    tracker.on_stored = None
    assert await tracker.ingest(*ringing(3), "webhook") is not None
    assert store.call("batch-3") is not None


async def test_an_event_that_fails_alone_stores_nothing_and_the_next_one_is_stored(
    tracker: CallTracker, store: Store
) -> None:
    def fail(conn: sqlite3.Connection, event: CallEvent, change: Change | None) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    tracker.on_stored = fail
    with pytest.raises(sqlite3.OperationalError):
        await tracker.ingest(*ringing(1), "webhook")
    assert store.event_count() == 0 and store.call("batch-1") is None
    tracker.on_stored = None
    change = await tracker.ingest(*ringing(1), "webhook")
    assert change is not None and change.call == store.call("batch-1")


@pytest.mark.parametrize("seed", range(4))
def test_each_change_is_the_call_as_stored(tracker: CallTracker, store: Store, seed: int) -> None:
    """Every scenario's events (each call's in a shuffled order, callbacks before or after
    the calls they return): the call each event reports, and whether the missed list
    moved, are what the store then holds."""
    bodies = list(itertools.chain.from_iterable(scenario(name) for name in SCENARIOS))
    random.Random(seed).shuffle(bodies)
    open_missed = 0
    for body in bodies:
        parsed = parse_body(body)
        assert parsed.event is not None
        change = tracker.ingest_sync(parsed.event, body, "webhook")
        assert change is not None and change.call is not None
        assert change.call == store.call(parsed.event.call_uuid)
        now_open = len(store.missed_groups())
        if now_open != open_missed:
            assert change.missed_changed
        open_missed = now_open


async def test_concurrent_posts_are_all_stored_and_acknowledged(
    server: Server, store: Store
) -> None:
    bodies = [ringing(n)[1] for n in range(64)]
    answers = await asyncio.gather(*(server.post(body) for body in bodies))
    assert answers == [(200, "OK\n")] * 64
    assert {raw for _, raw in store.raw_events()} == set(bodies)
    assert store.count_calls() == 64


def test_a_resolved_call_refolded_reports_its_resolution_and_first_source(
    tracker: CallTracker, store: Store
) -> None:
    """A later event of a call the store resolved meanwhile: the fold knows nothing of the
    resolution nor of where the call was first heard of; the reported call does."""
    feed(tracker, "02", "05")  # missed, then called back
    (missed,) = [c for c in store.calls() if c.missed]
    assert missed.resolved_by == "callback"
    change = tracker.ingest_sync(settle_event(missed.call_uuid), None, "settle")
    assert change is not None and change.call is not None
    assert change.call == store.call(missed.call_uuid)
    assert change.call.resolved_by == "callback" and change.call.source == "webhook"


async def test_other_writes_get_their_turn_while_events_keep_coming(
    tracker: CallTracker, store: Store
) -> None:
    """The writer goes on with events that arrive while it commits, but not forever: a
    write queued meanwhile (an address book, "mark done") runs while the flood goes on."""
    flooding = True
    sent: list[asyncio.Future[Change | None]] = []

    # Events never stop arriving while the write waits, as many at once as the webhook's
    # connection cap lets in (unbounded, the backlog would outgrow any writer).
    in_flight = asyncio.Semaphore(Limits().connections)

    async def one(n: int) -> Change | None:
        try:
            return await tracker.ingest(*ringing(n), "webhook")
        finally:
            in_flight.release()

    async def flood() -> None:
        n = 0
        while flooding:
            n += 1
            await in_flight.acquire()
            sent.append(asyncio.ensure_future(one(n)))

    sender = asyncio.ensure_future(flood())
    try:
        await until(lambda: store.event_count() > 50, 20, "the flood under way")
        await asyncio.wait_for(tracker.run_write(store.set_meta, "turn", "taken"), 30)
    finally:
        flooding = False
        await sender
        await asyncio.gather(*sent)
    assert store.meta("turn") == "taken"
    assert store.event_count() == len(sent)

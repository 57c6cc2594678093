"""The tracker over a real SQLite file: folding, duplicates, order, missed groups."""

from __future__ import annotations

import itertools
import random

import pytest

from bulutpop.calls.events import CallEvent, parse_body
from bulutpop.calls.tracker import CallTracker, Change, fold
from bulutpop.storage.store import Store
from tests.conftest import scenario
from tests.core.conftest import events, feed

MINE = frozenset({"1001"})


@pytest.mark.parametrize(
    ("name", "missed", "answered", "connected"),
    [
        ("01", False, True, "1001"),
        ("02", True, False, ""),
        ("03", False, True, "1002"),
        ("04", False, True, "1003"),
        ("05", False, True, ""),
        ("06", True, False, ""),
    ],
)
def test_fold_scenarios(name: str, missed: bool, answered: bool, connected: str) -> None:
    evs = events(name)
    call, note = fold(evs[0].call_uuid, evs, MINE)
    assert (call.missed, call.answered, call.connected_user) == (missed, answered, connected)
    assert call.ended and note == ""


def test_fold_is_order_and_duplicate_independent() -> None:
    evs = events("03")
    reference, _ = fold(evs[0].call_uuid, evs, MINE)
    rng = random.Random(7)
    for perm in itertools.islice(itertools.permutations(evs + evs[:2]), 0, 200, 7):
        shuffled = list(perm)
        rng.shuffle(shuffled)
        call, _ = fold(evs[0].call_uuid, shuffled, MINE)
        assert call.missed == reference.missed
        assert call.connected_user == reference.connected_user
        assert set(call.dialed_users) == {"1001", "1002"}


def test_queue_call_rings_both_and_names_the_answerer() -> None:
    evs = events("03")
    call, _ = fold(evs[0].call_uuid, evs, MINE)
    assert call.queue == "200"
    assert call.dialed_users == ("1001", "1002")
    assert call.recording is True and call.duration == 285


def test_missed_only_for_the_rung_user() -> None:
    evs = events("02")
    call, _ = fold(evs[0].call_uuid, evs, frozenset({"1002"}))
    assert call.missed is False


def test_an_answered_flag_against_its_evidence_follows_the_evidence_and_is_reported() -> None:
    # An answer time and 211 s of talk cannot come from an unanswered call, whatever the flag.
    evs = events("01")
    hangup = CallEvent(dict(evs[-1].fields, answered="f"))
    call, note = fold(evs[0].call_uuid, [evs[0], hangup], MINE)
    assert call.answered is True and not call.missed and "answered='f'" in note
    # And the other way round: no answer time, no talk: unanswered, so missed.
    evs = events("02")
    hangup = CallEvent(dict(evs[-1].fields, answered="t"))
    call, note = fold(evs[0].call_uuid, [evs[0], hangup], MINE)
    assert call.answered is False and call.missed and "answered='t'" in note


def test_without_evidence_fields_the_answered_flag_decides() -> None:
    bare = {"call_uuid": "u", "direction": "inbound", "destination_number": "1001"}
    ringing = CallEvent({**bare, "event_type": "ringing", "dialed_user": "1001"})
    for flag, missed in (("f", True), ("t", False)):
        hangup = CallEvent({**bare, "event_type": "hangup", "answered": flag})
        call, note = fold("u", [ringing, hangup], MINE)
        assert (call.missed, note) == (missed, "")


def test_still_ringing_is_not_missed() -> None:
    evs = events("02")[:1]
    call, _ = fold(evs[0].call_uuid, evs, MINE)
    assert call.state == "ringing" and not call.missed


def test_duplicates_are_stored_once(tracker: CallTracker, store: Store) -> None:
    feed(tracker, "02", "02")
    assert store.event_count() == 2
    assert len(store.calls()) == 1


def test_missed_group_resolves_after_callback(tracker: CallTracker, store: Store) -> None:
    feed(tracker, "02")
    (group,) = store.missed_groups()
    assert (group.number, group.display, group.count) == ("+905321234567", "0532 123 45 67", 1)
    feed(tracker, "05")
    assert store.missed_groups() == []
    (resolved,) = store.missed_groups(include_resolved=True)
    assert resolved.resolved and resolved.resolved_by == "callback"


def test_callback_delivered_before_the_missed_call_still_resolves(
    tracker: CallTracker, store: Store
) -> None:
    feed(tracker, "05", "02")
    assert store.missed_groups() == []
    assert store.missed_groups(include_resolved=True)[0].resolved_by == "callback"


def test_groups_count_repeated_calls_however_written(tracker: CallTracker, store: Store) -> None:
    bodies = scenario("02")
    for n, written in enumerate(["05321234567", "+90 532 123 45 67", "905321234567"]):
        for body in bodies:
            changed = (
                body.replace(b"0b7f3d55", f"{n}b7f3d55".encode())
                .replace(b"caller_id_number=05321234567", f"caller_id_number={written}".encode())
                .replace(b"10:02:", f"1{n}:02:".encode())
            )
            parsed = parse_body(changed)
            assert parsed.event is not None
            tracker.ingest_sync(parsed.event, changed, "webhook")
    (group,) = store.missed_groups()
    assert group.count == 3
    assert group.first_ts < group.last_ts
    assert group.last_call_uuid.startswith("2b7f3d55")


def test_internal_missed_call_groups_by_extension(tracker: CallTracker, store: Store) -> None:
    feed(tracker, "06")
    (group,) = store.missed_groups()
    assert (group.number, group.display) == ("1002", "1002")


async def test_mark_done_and_undo_notify(tracker: CallTracker, store: Store) -> None:
    seen: list[Change] = []
    tracker.subscribe(seen.append)
    feed(tracker, "02")
    at = await tracker.mark_done("+905321234567")
    assert store.missed_groups() == [] and seen[-1].missed_changed
    await tracker.undo_done("+905321234567", at)
    assert len(store.missed_groups()) == 1


async def test_late_missed_call_before_a_dismissal_is_born_resolved(
    tracker: CallTracker, store: Store
) -> None:
    await tracker.mark_done("+905321234567")
    feed(tracker, "02")  # happened at 10:02 on 2026-11-20, long before the mark
    assert store.missed_groups() == []


async def test_ingest_notifies_listeners(tracker: CallTracker) -> None:
    seen: list[Change] = []
    tracker.subscribe(seen.append)
    (ringing, hangup) = events("02")
    await tracker.ingest(ringing, None, "webhook")
    await tracker.ingest(hangup, None, "webhook")
    await tracker.ingest(hangup, None, "webhook")  # duplicate: no notification
    assert [c.call.state for c in seen if c.call] == ["ringing", "ended"]
    assert seen[-1].missed_changed


async def test_recompute_after_extension_change(tracker: CallTracker, store: Store) -> None:
    feed(tracker, "02", "06")
    await tracker.recompute(frozenset({"1002"}))
    assert store.missed_groups() == []
    await tracker.recompute(MINE)
    assert len(store.missed_groups()) == 2


def test_unknown_event_type_is_kept_without_a_call(tracker: CallTracker, store: Store) -> None:
    event = CallEvent({"event_type": "transfer", "call_uuid": "x-1"})
    assert tracker.ingest_sync(event, b"event_type=transfer&call_uuid=x-1", "webhook") is None
    assert store.raw_events("x-1") == [("transfer", b"event_type=transfer&call_uuid=x-1")]
    assert store.calls() == []

"""Calls with legs (PBX-API.md, "Call legs"): queues, ring groups and `*8` pickups, their
webhook events and per-leg history records in any order, through the real tracker."""

from __future__ import annotations

import itertools
import logging
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Literal
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulutpop.calls.events import PBX_TZ, CallEvent, parse_body
from bulutpop.calls.model import Call
from bulutpop.calls.tracker import CallTracker, fold, settle_event
from bulutpop.devtools.fakepbx import history_records
from bulutpop.pbx.catchup import cdr_event
from bulutpop.storage.store import Store
from tests.conftest import scenario
from tests.core.conftest import feed

Kind = Literal["answered", "nobody", "pickup"]
START = datetime(2026, 11, 20, 9, 0, tzinfo=PBX_TZ)
DID = "902125550101"
QUEUE = "200"
PICKER = "1009"
MEMBERS = ("1001", "1002", "1003", "1004", "1005")


@dataclass(frozen=True)
class Spec:
    """A call as the PBX would carry it out."""

    uuid: str
    legs: tuple[str, ...]  # extensions rung, in ring order
    kind: Kind
    answerer: int  # index into legs (kind "answered")
    ring_all: bool  # all legs at once (losers get LOSE_RACE) or one after another
    via_did: bool  # reached through the company line, not the queue's own number
    queue: bool
    talk: int
    recording: bool

    @property
    def answered_by(self) -> str:
        return {"answered": self.legs[self.answerer], "pickup": PICKER, "nobody": ""}[self.kind]


def _stamp(seconds: int) -> str:
    return (START + timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def webhook_bodies(spec: Spec) -> list[bytes]:
    """The notifications the PBX sends for `spec`, in the order it would send them."""
    base = {
        "domain_id": "101",
        "direction": "inbound",
        "caller_id_number": "05321234567",
        "outbound_caller_id_number": "",
        "destination_number": DID if spec.via_did else (QUEUE if spec.queue else spec.legs[0]),
        "call_uuid": spec.uuid,
        "start_stamp": _stamp(0),
        "queue": QUEUE if spec.queue else "",
    }
    out: list[dict[str, str]] = []

    def ring(user: str, at: int) -> None:
        out.append(
            {**base, "event_type": "ringing", "dialed_user": user, "start_stamp": _stamp(at)}
        )

    def hangup(user: str, end: int, cause: str, connected: str = "", answered: bool = False,
               answer_at: int | None = None, talk: int = 0) -> None:  # fmt: skip
        out.append(
            {
                **base,
                "event_type": "hangup",
                "dialed_user": user,
                "connected_user": connected or user,
                "answer_stamp": _stamp(answer_at) if answer_at is not None else "",
                "end_stamp": _stamp(end),
                "duration": str(talk),
                "recording_present": "true" if spec.recording and answered else "false",
                "answered": "true" if answered else "false",
                "hangup_cause": cause,
            }
        )

    step = 0 if spec.ring_all else 15
    if spec.kind == "answered":
        k = spec.answerer
        rung = spec.legs if spec.ring_all else spec.legs[: k + 1]
        answer_at = (step * k) + 6
        for i, user in enumerate(rung):
            ring(user, step * i)
        for i, user in enumerate(rung):
            if i < k and not spec.ring_all:
                hangup(user, step * (i + 1), "NO_ANSWER")
        winner = spec.legs[k]
        out.append(
            {**base, "event_type": "answer", "dialed_user": winner, "connected_user": winner,
             "answer_stamp": _stamp(answer_at)}
        )  # fmt: skip
        if spec.ring_all:
            for user in rung:
                if user != winner:
                    hangup(user, answer_at, "LOSE_RACE")
        hangup(winner, answer_at + spec.talk, "NORMAL_CLEARING", winner, True, answer_at, spec.talk)
    elif spec.kind == "pickup":
        (user,) = spec.legs
        ring(user, 0)
        hangup(user, 9, "PICKED_OFF")
        out.append(
            {**base, "event_type": "answer", "dialed_user": user, "connected_user": PICKER,
             "answer_stamp": _stamp(9)}
        )  # fmt: skip
        hangup(user, 9 + spec.talk, "NORMAL_CLEARING", PICKER, True, 9, spec.talk)
    else:
        for i, user in enumerate(spec.legs):
            ring(user, step * i)
        end = step * len(spec.legs) + 20
        for i, user in enumerate(spec.legs):
            last = i == len(spec.legs) - 1
            timed_out = not spec.ring_all and not last
            hangup(user, step * (i + 1) if timed_out else end,
                   "NO_ANSWER" if timed_out else "ORIGINATOR_CANCEL")  # fmt: skip
        hangup(spec.legs[-1], end, "ORIGINATOR_CANCEL", connected="-")
        out[-1]["connected_user"] = ""
    return [urlencode(fields).encode() for fields in out]


def events_of(spec: Spec) -> tuple[list[CallEvent], list[CallEvent]]:
    """The call's webhook events and its history records (one per leg) as events."""
    bodies = webhook_bodies(spec)
    hooks = []
    for body in bodies:
        parsed = parse_body(body)
        assert parsed.event is not None
        hooks.append(parsed.event)
    texts = [{k: _text(v) for k, v in r.items()} for r in history_records(bodies)]
    history = [e for e in (cdr_event(record) for record in texts) if e is not None]
    return hooks, history


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


_CALLS = itertools.count()


def specs() -> st.SearchStrategy[Spec]:
    @st.composite
    def build(draw: st.DrawFn) -> Spec:
        n = draw(st.integers(1, 5))
        kind: Kind = draw(st.sampled_from(["answered", "nobody", "pickup"] if n == 1 else
                                          ["answered", "nobody"]))  # fmt: skip
        queue = n > 1 or (kind != "pickup" and draw(st.booleans()))
        return Spec(
            uuid=f"h-{next(_CALLS)}",  # new for every run: the stores outlive an example
            legs=MEMBERS[:n],
            kind=kind,
            answerer=draw(st.integers(0, n - 1)),
            ring_all=draw(st.booleans()),
            via_did=queue and draw(st.booleans()),
            queue=queue,
            talk=draw(st.integers(1, 600)),
            recording=draw(st.booleans()),
        )

    return build()


@pytest.fixture(scope="module")
def trackers() -> Iterator[dict[str, CallTracker]]:
    """One store and tracker per agent's PC (each extension), and one watching the queue."""
    with tempfile.TemporaryDirectory() as folder:
        made = {
            who: CallTracker(Store(Path(folder) / f"{who}.sqlite3"), frozenset({who}))
            for who in (*MEMBERS, PICKER, QUEUE)
        }
        yield made
        for tracker in made.values():
            tracker.store.close()


def _final(call: Call | None) -> Call:
    assert call is not None
    return replace(call, source="", resolved_ts=None, resolved_by="")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spec=specs(), order=st.randoms(use_true_random=False), data=st.data())
@pytest.mark.slow
def test_every_order_gives_one_call_and_no_prefix_misses_a_colleagues_call(
    trackers: dict[str, CallTracker], spec: Spec, order: object, data: st.DataObject
) -> None:
    hooks, history = events_of(spec)
    delivered = hooks + history
    delivered += data.draw(st.lists(st.sampled_from(delivered), max_size=4), label="again")
    order.shuffle(delivered)  # type: ignore[attr-defined]
    watchers = (QUEUE,) if spec.queue else ()
    concerned = {who: t for who, t in trackers.items() if who in (*spec.legs, *watchers)}
    if spec.kind == "pickup":
        concerned[PICKER] = trackers[PICKER]

    for event in delivered:
        for who, tracker in concerned.items():
            source = "history" if event.event_type == "cdr" else "webhook"
            change = tracker.ingest_sync(event, None, source)
            call = tracker.store.call(spec.uuid)
            assert call is not None
            assert change is None or change.call == call  # reported as stored
            if spec.kind != "nobody" or len(spec.legs) > 1 or spec.queue:
                # Someone took it, or it has legs: nothing so far tells it was missed.
                assert not call.missed, f"{who} sees it missed after {event.fields}"

    for who, tracker in concerned.items():
        tracker.ingest_sync(settle_event(spec.uuid), None, "settle")  # what a catch-up does
        call = _final(tracker.store.call(spec.uuid))
        # The same call whatever the order: the pure fold of the events as sent, settled.
        reference, _ = fold(spec.uuid, [*hooks, *history, settle_event(spec.uuid)],
                            frozenset({who}))  # fmt: skip
        assert call == _final(reference)
        assert call.ended and call.dialed_users == spec.legs[: len(call.dialed_users)]
        if spec.kind == "nobody":
            assert call.answered is False and call.missed, who
            assert call.connected_user == "" and not call.recording
        else:
            assert call.answered is True and not call.missed, who
            assert call.connected_user == spec.answered_by
            assert call.duration == spec.talk and call.recording is spec.recording
            assert call.hangup_cause == "NORMAL_CLEARING"
            assert call.end_ts is not None and call.answer_ts is not None
            assert call.end_ts - call.answer_ts == spec.talk
        assert call.party == "05321234567" and call.queue == (QUEUE if spec.queue else "")


def test_one_leg_ending_keeps_a_queue_call_open_until_it_is_settled() -> None:
    spec = Spec("q", ("1001", "1002"), "nobody", 0, True, True, True, 0, False)
    hooks, _ = events_of(spec)
    ringing, leg_end = hooks[0], hooks[2]
    call, _ = fold("q", [ringing, leg_end], frozenset({"1001"}))
    assert (call.state, call.missed, call.pending, call.ringing) == ("waiting", False, True, ())
    call, _ = fold("q", [ringing, hooks[1], leg_end], frozenset({"1002"}))
    assert (call.state, call.ringing, call.rings_now(frozenset({"1002"}))) == (
        "ringing",
        ("1002",),
        True,
    )
    assert not call.rings_now(frozenset({"1001"}))
    call, _ = fold("q", [*hooks, settle_event("q")], frozenset({"1001"}))
    assert call.missed and call.ended and not call.pending


def test_a_lost_leg_alone_says_a_colleague_answered() -> None:
    spec = Spec("q", ("1001", "1002"), "answered", 1, True, True, True, 60, False)
    hooks, _ = events_of(spec)
    lost = next(e for e in hooks if e.get("hangup_cause") == "LOSE_RACE")
    call, _ = fold("q", [lost], frozenset({"1001"}))
    assert call.answered is True and not call.missed and call.connected_user == ""
    assert not call.rings_now(frozenset({"1001"}))


# --- the shapes of the PBX's history ---------------------------------------------------------


def record(**fields: str) -> CallEvent:
    base = {
        "call_uuid": "c-1",
        "start_stamp": "2026-11-20 10:00:00 +0300",
        "end_stamp": "2026-11-20 10:00:30 +0300",
        "answer_stamp": "",
        "talk_duration": "00:0:00",
        "direction": "Gelen",
        "caller_id_number": "05321234567",
        "destination_number": "1001",
        "queue_wait_seconds": "0",
    }
    event = cdr_event({**base, **fields})
    assert event is not None
    return event


def test_the_extension_inside_did_ext_decides_whose_call_it_is() -> None:
    missed = record(destination_number="902125550101 (1014)", missed="true", result="Cevapsız")
    call, _ = fold("c-1", [missed], frozenset({"1014"}))
    assert call.missed and call.dialed_users == ("1014",) and call.destination == "1014"
    call, _ = fold("c-1", [missed], frozenset({"1001"}))
    assert not call.missed


def test_a_colleague_calling_on_a_line_groups_with_their_extension() -> None:
    internal = record(direction="Santral içi", caller_id_number="1021 (902127060510)",
                      missed="true")  # fmt: skip
    call, _ = fold("c-1", [internal], frozenset({"1001"}))
    assert (call.party, call.party_key, call.missed) == ("1021", "1021", True)
    plain = record(direction="Santral içi", caller_id_number="1021", missed="true")
    assert fold("c-2", [plain], frozenset({"1001"}))[0].party_key == call.party_key


def test_my_own_call_never_lists_me_as_the_other_party() -> None:
    out = record(
        direction="Santral içi",
        caller_id_number="1001 (902129510292)",
        destination_number="1002",
        missed="false",
        answer_stamp="2026-11-20 10:00:05 +0300",
        talk_duration="00:0:20",
        result="Cevaplandı",
    )
    call, _ = fold("c-1", [out], frozenset({"1001"}))
    assert (call.party, call.placed, call.missed, call.caller) == ("1002", True, False, "1001")


def test_a_queue_through_the_company_line_is_named_by_its_queue_field() -> None:
    leg = record(destination_number="902129876543 (1001)", queue="201", missed="true")
    for watch in ({"201"}, {"902129876543"}):
        call, _ = fold("c-1", [leg, settle_event("c-1")], frozenset(watch))
        assert call.missed and call.queue == "201"


@pytest.mark.parametrize("missed", ["true", True])
@pytest.mark.parametrize("wait", ["00:00:10", 10])
def test_the_vendors_own_contradicting_sample_is_answered(
    missed: object, wait: object, caplog: pytest.LogCaptureFixture, tracker: CallTracker
) -> None:
    # cdrs.md's sample: "missed":"true" beside "Cevaplandı", an answer time and 35 s of talk.
    sample = {
        "start_stamp": "2017-08-03 12:30:32 +0300",
        "direction": "Gelen",
        "caller_id_number": "03121234567",
        "caller_id_name": "Verimor Telekom",
        "destination_number": "902129876543",
        "destination_name": "Dahili 1",
        "duration": "00:01:05",
        "talk_duration": "00:0:35",
        "queue": "201",
        "queue_wait_seconds": wait,
        "result": "Cevaplandı",
        "missed": missed,
        "recording_present": "false",
        "sip_hangup_disposition": "caller",
        "call_uuid": "651f8a68-782e-11g7-a6b6-5bedc26e2ab3",
        "answer_stamp": "2017-08-03 12:30:32 +0300",
        "end_stamp": "017-08-03 12:30:52 +0300",
    }
    event = cdr_event({k: _text(v) for k, v in sample.items()})
    assert event is not None and event.fields["queue_wait_duration"] == "10"
    tracker.mine = frozenset({"201"})
    with caplog.at_level(logging.WARNING, logger="bulutpop.calls.tracker"):
        for _ in range(2):
            tracker.ingest_sync(event, None, "history")
            tracker.ingest_sync(
                CallEvent({**event.fields, "result": "Cevaplandı "}), None, "history"
            )
    call = tracker.store.call(sample["call_uuid"])  # type: ignore[arg-type]
    assert call is not None and call.answered and not call.missed and call.duration == 35
    notes = [r for r in caplog.records if "following the evidence" in r.getMessage()]
    assert len(notes) == 1


def test_stamps_before_september_2016_follow_the_seasons_of_istanbul() -> None:
    winter = record(start_stamp="2015-01-10 10:00:00")
    summer = record(start_stamp="2015-07-10 10:00:00")
    now = record(start_stamp="2026-01-10 10:00:00")
    offsets = [e.time("start_stamp").utcoffset() for e in (winter, summer, now)]  # type: ignore[union-attr]
    assert offsets == [timedelta(hours=2), timedelta(hours=3), timedelta(hours=3)]


# --- scenarios through the tracker -------------------------------------------------------------


def test_an_internal_callback_to_a_colleague_resolves_as_a_callback(
    tracker: CallTracker,
) -> None:
    feed(tracker, "06")
    (group,) = tracker.store.missed_groups()
    assert group.number == "1002"
    feed(tracker, "11")
    assert tracker.store.missed_groups() == []
    (resolved,) = tracker.store.missed_groups(include_resolved=True)
    assert resolved.resolved_by == "callback"


@pytest.mark.parametrize("name", ["08", "09"])
def test_leg_scenarios_are_never_missed_in_any_order(name: str, tracker: CallTracker) -> None:
    events = [e for e in map(lambda b: parse_body(b).event, scenario(name)) if e is not None]
    for order in itertools.permutations(events):
        for event in order:
            call = fold(event.call_uuid, list(order[: order.index(event) + 1]),
                        frozenset({"1001"}))[0]  # fmt: skip
            assert not call.missed
        final, _ = fold(events[0].call_uuid, list(order), frozenset({"1001"}))
        assert final.answered and final.connected_user in ("1002", "1003") and final.ended

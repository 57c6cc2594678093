"""Catch-up from the PBX's call history: the fake PBX over real HTTP, a real SQLite store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest

from bulutpop.calls.events import PBX_TZ
from bulutpop.calls.tracker import CallTracker, fold
from bulutpop.devtools.fakepbx import FakePbxState, history_record, start
from bulutpop.errors import KeyRefused, NetworkError, PbxRefused, RateLimited
from bulutpop.pbx.catchup import CatchUp, CatchUpStatus, cdr_event
from bulutpop.pbx.client import PbxClient
from bulutpop.storage.store import Store
from tests.conftest import TEST_KEY, closed_port
from tests.core.conftest import FakeClock, events, feed, run_cli_async

MINE = frozenset({"1001"})
# Scenario 02's call started 2026-11-20 10:02:11 (PBX time); "now" is an hour later.
NOW = datetime(2026, 11, 20, 11, 0, tzinfo=PBX_TZ).timestamp()
MISSED_UUID = "0b7f3d55-1e4a-4f0d-a6a2-5c7e9d3b2a02"
ANSWERED_UUID = "6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01"


@dataclass
class Pbx:
    state: FakePbxState
    base: str
    clock: FakeClock

    def client(self, key: str = TEST_KEY) -> PbxClient:
        return PbxClient(self.base, key, clock=self.clock, sleep=self.clock.sleep)

    def pages(self) -> list[str]:
        return [q["page"] for q in self.state.received.get("cdrs", [])]


@pytest.fixture
async def pbx() -> AsyncIterator[Pbx]:
    clock = FakeClock()
    state = FakePbxState(key=TEST_KEY, clock=clock)
    runner, base = await start(state)
    yield Pbx(state, base, clock)
    await runner.cleanup()


@pytest.fixture
async def client(pbx: Pbx) -> AsyncIterator[PbxClient]:
    async with pbx.client() as c:
        yield c


def record(name: str, **extra: Any) -> dict[str, Any]:
    """The history record the PBX keeps for a scenario's call."""
    return history_record(events(name)[-1].fields, **extra)


def many(count: int, before: float = NOW) -> list[dict[str, Any]]:
    """`count` missed calls from different callers, one a minute before `before`."""
    hangup = events("02")[-1].fields
    out = []
    for i in range(count):
        start_at = datetime.fromtimestamp(before - 60 * (i + 1), PBX_TZ)
        fields = {
            **hangup,
            "call_uuid": f"hist-{i:05d}",
            "caller_id_number": f"0532{i:07d}",
            "start_stamp": start_at.strftime("%Y-%m-%d %H:%M:%S"),
            "end_stamp": (start_at + timedelta(seconds=20)).strftime("%Y-%m-%d %H:%M:%S"),
        }
        out.append(history_record(fields))
    return out


def catchup(tracker: CallTracker, client: PbxClient, **kw: Any) -> CatchUp:
    return CatchUp(tracker, lambda: client, clock=lambda: NOW, **kw)


# --- history record -> event ---------------------------------------------------------------


def test_history_record_becomes_a_webhook_shaped_event() -> None:
    cdr = {
        "call_uuid": "u-1",
        "direction": "Santral içi",
        "caller_id_number": "1002",
        "caller_id_name": "Ayşe",
        "destination_number": "1001",
        "start_stamp": "2026-11-20 15:00:00 +0300",
        "answer_stamp": "",
        "talk_duration": "01:02:03",
        "missed": "true",
        "queue_wait_seconds": "0",
        "return_uuid": "",
    }
    event = cdr_event(cdr)
    assert event is not None
    assert event.event_type == "cdr"
    assert event.fields["direction"] == "internal"
    assert event.fields["dialed_user"] == "1001"
    assert event.fields["duration"] == "3723"
    assert event.fields["answered"] == "false"
    assert event.time("start_stamp") == datetime(2026, 11, 20, 15, 0, tzinfo=PBX_TZ)
    # Empty values are left out, but an empty answer time is evidence of no answer.
    assert "return_uuid" not in event.fields and event.fields["answer_stamp"] == ""
    labels = {"Gelen": "inbound", "Giden": "outbound", "Giden (API)": "outbound"}
    for label, direction in {**labels, "Giden (IVR)": "outbound"}.items():
        mapped = cdr_event({"call_uuid": "u", "direction": label})
        assert mapped is not None and mapped.fields["direction"] == direction
    assert cdr_event({"direction": "Gelen"}) is None


@pytest.mark.parametrize("name", ["01", "02", "03", "04", "05", "06"])
def test_missed_call_rules_agree_for_webhook_and_history(name: str) -> None:
    webhook = events(name)
    history = cdr_event({k: "" if v is None else str(v) for k, v in record(name).items()})
    assert history is not None
    by_webhook, _ = fold(webhook[0].call_uuid, webhook, MINE)
    by_history, note = fold(history.call_uuid, [history], MINE, "history")
    assert note == ""
    same = (
        *("direction", "party_key", "missed", "answered", "ended", "recording", "queue"),
        *("start_ts", "answer_ts", "end_ts", "duration"),
    )
    assert {f: getattr(by_history, f) for f in same} == {f: getattr(by_webhook, f) for f in same}


# --- catch-up against the fake PBX ---------------------------------------------------------


async def test_calls_only_in_the_history_are_stored_once_as_missed(
    pbx: Pbx, client: PbxClient, tracker: CallTracker, store: Store
) -> None:
    pbx.state.cdrs = [record("02"), record("01")]
    service = catchup(tracker, client)
    first = await service.run_once()
    assert (first.recovered, first.fetched, first.pages) == (2, 2, 1)
    second = await service.run_once()  # the overlap asks for both calls again
    assert (second.recovered, second.fetched) == (0, 2)

    assert len(store.calls()) == 2
    assert [kind for kind, _ in store.raw_events(MISSED_UUID)] == ["cdr"]
    missed = store.call(MISSED_UUID)
    assert missed is not None
    assert missed.missed and missed.source == "history" and missed.dialed_users == ("1001",)
    (group,) = store.missed_groups()
    assert (group.number, group.count, group.last_call_uuid) == ("+905321234567", 1, MISSED_UUID)
    status = service.status
    assert status.last_run == NOW and status.last_recovered == 0 and status.error is None


async def test_a_call_seen_by_webhook_and_history_is_one_call(
    pbx: Pbx, client: PbxClient, tracker: CallTracker, store: Store
) -> None:
    feed(tracker, "01")
    webhook_only = store.call(ANSWERED_UUID)
    # The history writes the caller differently and has a name the webhook lacks.
    pbx.state.cdrs = [record("01", caller_id_number="902123205062", caller_id_name="Ahmet Kaya")]
    result = await catchup(tracker, client).run_once()
    assert (result.recovered, result.fetched) == (0, 1)
    assert len(store.calls()) == 1
    both = store.call(ANSWERED_UUID)
    assert both is not None and webhook_only is not None
    assert both == replace(webhook_only, name="Ahmet Kaya")
    assert store.name_for("+902123205062") == ("Ahmet Kaya", "")


async def test_history_first_then_webhook_is_one_call(
    pbx: Pbx, client: PbxClient, tracker: CallTracker, store: Store
) -> None:
    pbx.state.cdrs = [record("01")]
    await catchup(tracker, client).run_once()
    feed(tracker, "01")  # a late redelivery of the webhook events
    (call,) = store.calls()
    assert call.source == "history"
    assert call.connected_user == "1001"  # what only the webhook knows is added
    assert call.answered and not call.missed


async def test_paging_across_three_pages(
    pbx: Pbx, client: PbxClient, tracker: CallTracker, store: Store
) -> None:
    pbx.state.cdrs = many(250)
    progress: list[tuple[int, int] | None] = []
    service = catchup(tracker, client)
    service.subscribe(lambda status: progress.append(status.progress))
    result = await service.run_once()
    assert (result.recovered, result.fetched, result.pages) == (250, 250, 3)
    assert pbx.pages() == ["1", "2", "3"]
    assert {q["limit"] for q in pbx.state.received["cdrs"]} == {"100"}
    assert store.count_calls() == 250 and store.count_calls(missed_only=True) == 250
    assert [p for p in progress if p] == [(1, 3), (2, 3), (3, 3)]


async def test_429_mid_catch_up_resumes_later_without_losing_the_page(
    pbx: Pbx, client: PbxClient, tracker: CallTracker, store: Store
) -> None:
    pbx.state.cdrs = many(250)
    pbx.state.fail_request("cdrs", 2, 429, "Rate limit exceeded", {"Retry-After": "30"})
    service = catchup(tracker, client)
    with pytest.raises(RateLimited):
        await service.run_once()
    error = service.status.error
    assert isinstance(error, RateLimited) and error.retry_after == 30
    assert store.count_calls() == 100

    # A restart in between: the progress is in the store, not in the object.
    result = await catchup(tracker, client).run_once()
    assert pbx.pages() == ["1", "2", "2", "3"]
    assert pbx.clock.slept == [pytest.approx(30)]  # the PBX's Retry-After was honoured
    windows = {(q["start_stamp_from"], q["start_stamp_to"]) for q in pbx.state.received["cdrs"]}
    assert len(windows) == 1  # resumed in the same window, so the pages did not shift
    assert (result.recovered, result.fetched) == (250, 250)
    assert store.count_calls() == 250


async def test_first_run_imports_history_days_in_windows_of_at_most_31_days(
    pbx: Pbx, client: PbxClient, tracker: CallTracker, store: Store
) -> None:
    days = [41, 39, 20, 0.5]
    pbx.state.cdrs = [many(1, NOW - d * 86400 + 60)[0] | {"call_uuid": f"d{d}"} for d in days]
    result = await catchup(tracker, client, history_days=40).run_once()
    assert result.fetched == 3 and store.call("d41") is None
    stamps = [
        (
            datetime.strptime(q["start_stamp_from"], "%Y-%m-%d %H:%M:%S %Z"),
            datetime.strptime(q["start_stamp_to"], "%Y-%m-%d %H:%M:%S %Z"),
        )
        for q in pbx.state.received["cdrs"]
    ]
    assert len(stamps) == 2
    assert all(high - low <= timedelta(days=31) for low, high in stamps)
    assert stamps[0][1] == stamps[1][0]  # contiguous


async def test_a_run_with_nothing_new_is_one_request(
    pbx: Pbx, client: PbxClient, tracker: CallTracker
) -> None:
    pbx.state.cdrs = many(30)
    service = catchup(tracker, client)
    await service.run_once()
    before = len(pbx.state.received["cdrs"])
    changes: list[object] = []
    tracker.subscribe(changes.append)
    result = await service.run_once()
    assert len(pbx.state.received["cdrs"]) == before + 1
    assert result.recovered == 0 and changes == []


async def test_return_uuid_marks_a_missed_call_returned(
    pbx: Pbx, client: PbxClient, tracker: CallTracker, store: Store
) -> None:
    feed(tracker, "02")
    assert len(store.missed_groups()) == 1
    # A colleague called back from another extension; the webhook never told us.
    pbx.state.cdrs = [record("02", return_uuid="cb-by-colleague")]
    await catchup(tracker, client).run_once()
    assert store.missed_groups() == []
    (group,) = store.missed_groups(include_resolved=True)
    assert group.resolved_by == "callback"
    end = datetime(2026, 11, 20, 10, 2, 35, tzinfo=PBX_TZ).timestamp()
    assert group.resolved_ts == end  # the PBX does not say when; no later than this


async def test_return_uuid_of_a_known_call_resolves_at_its_start(
    pbx: Pbx, client: PbxClient, tracker: CallTracker, store: Store
) -> None:
    callback = "358c20bc-fd86-11e5-87a2-157d41a07454"  # scenario 05, not answered this time
    unanswered = record("05", missed="true", answer_stamp=None, talk_duration="00:00:00")
    pbx.state.cdrs = [record("02", return_uuid=callback), unanswered]
    await catchup(tracker, client).run_once()
    (group,) = store.missed_groups(include_resolved=True)
    assert group.resolved_by == "callback"
    assert group.resolved_ts == datetime(2026, 11, 20, 10, 30, tzinfo=PBX_TZ).timestamp()


async def test_invalid_key_is_reported_without_the_key(pbx: Pbx, tracker: CallTracker) -> None:
    wrong = "K99999999-9999-9999-9999-999999999999"
    async with pbx.client(wrong) as bad:
        service = catchup(tracker, bad)
        with pytest.raises(KeyRefused):
            await service.run_once()
    assert isinstance(service.status.error, KeyRefused)
    assert wrong not in str(service.status.error) and wrong not in service.status.error.detail


async def wait_for(
    service: CatchUp, condition: Callable[[CatchUpStatus], bool], timeout: float = 10
) -> CatchUpStatus:
    done = asyncio.Event()

    def check(status: CatchUpStatus) -> None:
        if condition(status):
            done.set()

    unsubscribe = service.subscribe(check)
    try:
        if not condition(service.status):
            await asyncio.wait_for(done.wait(), timeout)
    finally:
        unsubscribe()
    return service.status


async def test_run_forever_backs_off_on_failure_and_runs_when_triggered(
    pbx: Pbx, client: PbxClient, tracker: CallTracker, store: Store
) -> None:
    pbx.state.cdrs = [record("02")]
    async with PbxClient(f"http://127.0.0.1:{closed_port()}", TEST_KEY) as offline:
        current = [offline]
        service = CatchUp(tracker, lambda: current[0], clock=lambda: NOW)
        task = asyncio.create_task(service.run_forever(600))
        try:
            failed = await wait_for(service, lambda s: s.next_run is not None)
            assert isinstance(failed.error, NetworkError) and "cannot connect" in failed.error.cause
            assert failed.next_run == NOW + 30  # backoff, not the full interval
            current[0] = client
            service.trigger()
            ok = await wait_for(service, lambda s: s.last_run is not None and not s.running)
            assert ok.error is None and ok.last_recovered == 1
            assert store.call(MISSED_UUID) is not None
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


async def test_a_refused_key_waits_for_another(
    pbx: Pbx, client: PbxClient, tracker: CallTracker
) -> None:
    async with pbx.client("K99999999-9999-9999-9999-999999999999") as bad:
        current = [bad]
        service = CatchUp(tracker, lambda: current[0], clock=lambda: NOW)
        task = asyncio.create_task(service.run_forever(0.05))
        try:
            stopped = await wait_for(service, lambda s: isinstance(s.error, KeyRefused))
            await asyncio.sleep(0.3)  # several intervals: the same key is not tried again
            assert len(pbx.state.received["cdrs"]) == 1 and stopped.next_run is None
            current[0] = client  # the user stored a new key
            await wait_for(service, lambda s: s.last_run is not None)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task


# --- the fake's /cdrs rules ----------------------------------------------------------------


async def test_fake_cdrs_enforces_window_limit_and_rate(pbx: Pbx, client: PbxClient) -> None:
    url = f"{pbx.base}/cdrs"
    base = {"key": TEST_KEY, "start_stamp_from": "2026-10-01 00:00:00 UTC"}
    async with aiohttp.ClientSession() as s:
        async with s.get(url, params={**base, "start_stamp_to": "2026-11-02 00:00:00 UTC"}) as r:
            assert r.status == 400 and "31 days" in await r.text()
        async with s.get(url, params={**base, "limit": "5"}) as r:
            assert r.status == 400
        async with s.get(url, params={"key": "Kwrong"}) as r:
            assert r.status == 400 and "Kwrong" in await r.text()
    with pytest.raises(ValueError, match="at most 31 days of history"):
        await client.cdrs(
            datetime(2026, 10, 1, tzinfo=PBX_TZ), datetime(2026, 11, 2, tzinfo=PBX_TZ)
        )
    low, high = datetime(2026, 11, 1, tzinfo=PBX_TZ), datetime(2026, 11, 2, tzinfo=PBX_TZ)
    with pytest.raises(PbxRefused):
        await client.cdrs(low, high, page=0)
    pbx.clock.now += 61  # the requests above leave the fake's window
    pbx.state.api_limits["cdrs"] = (2, 60.0)
    async with PbxClient(pbx.base, TEST_KEY, api_limits={"cdrs": (100, 60.0)}) as eager:
        await eager.cdrs(low, high)
        await eager.cdrs(low, high)
        with pytest.raises(RateLimited) as info:
            await eager.cdrs(low, high)
    assert info.value.status == 429


# --- the CLI -------------------------------------------------------------------------------


async def test_cli_catchup_prints_what_it_recovered(pbx: Pbx) -> None:
    pbx.state.cdrs = many(12, datetime.now(PBX_TZ).timestamp())

    async def run(*args: str) -> tuple[int, str, str]:
        return await run_cli_async(*args, api=pbx.base)

    assert (await run("config", "set", "extension", "1001"))[0] == 0
    code, out, err = await run("catchup")
    assert code == 0, err
    assert "recovered 12" in out
    code, out, _ = await run("calls", "--missed", "--json")
    assert code == 0 and out.count('"number"') == 12

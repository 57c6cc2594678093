"""Connections to a real receiver on 127.0.0.1: slow or idle clients are bounded (a request
deadline, a cap on open connections) and do not keep real events out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress

import aiohttp
import pytest

from bulutpop.app.guard import Limits
from bulutpop.calls.tracker import CallTracker
from bulutpop.pbx.receiver import Receiver
from bulutpop.storage.store import Store
from tests.conftest import scenario, until
from tests.core.conftest import TOKEN, Flood
from tests.core.teamrig import event

Start = Callable[..., Awaitable[Receiver]]
Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]

# Far above the deadlines the tests set, far below what aiohttp would wait on its own
# (15 s keep-alive, no limit on a body): a close before it is the deadline's doing.
CLOSED_WITHIN = 5.0


@pytest.fixture
async def start(tracker: CallTracker) -> AsyncIterator[Start]:
    started: list[Receiver] = []

    async def start(max_connections: int = 256, request_seconds: float = 10.0) -> Receiver:
        limits = Limits(connections=max_connections, request_seconds=request_seconds)
        receiver = Receiver(tracker, TOKEN, "127.0.0.1", 0, limits=limits)
        await receiver.start()
        started.append(receiver)
        return receiver

    yield start
    for receiver in started:
        await receiver.stop()


def head(body: bytes, length: int | None = None) -> bytes:
    return (
        f"POST /events/{TOKEN} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body) if length is None else length}\r\n\r\n"
    ).encode()


async def answer(reader: asyncio.StreamReader) -> int:
    """Reads one HTTP response off a keep-alive connection; returns its status."""
    status_line, *lines = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines if line)
    await reader.readexactly(int(headers["Content-Length"]))
    return int(status_line.split()[1])


async def dribble(writer: asyncio.StreamWriter, data: bytes) -> None:
    """A byte every 50 ms, until the data runs out or the server hangs up."""
    with suppress(ConnectionError):
        for i in range(len(data)):
            writer.write(data[i : i + 1])
            await writer.drain()
            await asyncio.sleep(0.05)


async def closed_by_server(reader: asyncio.StreamReader) -> bool:
    try:
        async with asyncio.timeout(CLOSED_WITHIN):
            return await reader.read() == b""  # everything up to EOF: no answer at all
    except ConnectionError:
        return True
    except TimeoutError:
        return False


@pytest.mark.parametrize("slow_part", ["head", "body", "next head"])
async def test_a_request_dribbled_byte_by_byte_is_cut_off_at_the_deadline(
    start: Start, store: Store, slow_part: str
) -> None:
    receiver = await start(request_seconds=0.5)
    first, second = scenario("01")[:2]
    reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
    if slow_part == "head":
        slow = asyncio.create_task(dribble(writer, head(first) + first))
    elif slow_part == "body":  # the head at once, so aiohttp hands the request on
        writer.write(head(first, length=len(first) * 100))
        slow = asyncio.create_task(dribble(writer, first * 100))
    else:  # the clock starts again after an answer
        writer.write(head(first) + first)
        assert await answer(reader) == 200
        slow = asyncio.create_task(dribble(writer, head(second) + second))
    try:
        assert await closed_by_server(reader)
    finally:
        slow.cancel()
        writer.close()
    assert store.event_count() == (1 if slow_part == "next head" else 0)
    assert receiver.connections == 0


async def test_idle_connections_past_the_cap_make_room_for_a_real_event(
    start: Start, store: Store
) -> None:
    receiver = await start(max_connections=20)
    idle: list[Stream] = []
    try:
        for _ in range(200):
            idle.append(await asyncio.open_connection("127.0.0.1", receiver.port))
        # Every connection the server accepts beyond the cap pushes out the oldest idle one.
        await until(
            lambda: sum(reader.at_eof() for reader, _ in idle) >= 180,
            CLOSED_WITHIN,
            "the server to close the oldest idle connections",
        )
        assert receiver.connections <= 20

        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{receiver.port}/events/{TOKEN}"
            async with session.post(url, data=scenario("01")[0]) as response:
                assert (response.status, await response.text()) == (200, "OK\n")
        assert store.event_count() == 1
        assert receiver.connections <= 20
        # The newest idle connections are the ones kept.
        assert not any(reader.at_eof() for reader, _ in idle[-10:])
    finally:
        for _, writer in idle:
            writer.close()


async def test_a_keep_alive_client_pausing_between_events_keeps_its_connection(
    start: Start, store: Store
) -> None:
    # Three pauses of 0.3 s: longer than the deadline put together, each shorter on its own.
    receiver = await start(request_seconds=0.5)
    reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
    try:
        for body in scenario("01"):
            await asyncio.sleep(0.3)
            writer.write(head(body) + body)
            assert await answer(reader) == 200
            assert receiver.connections == 1
    finally:
        writer.close()
    assert store.event_count() == len(scenario("01"))


async def test_a_slow_store_is_not_cut_off_by_the_deadline(
    start: Start, store: Store, tracker: CallTracker, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest = tracker.ingest

    async def slow_ingest(*args: object, **kwargs: object) -> object:
        await asyncio.sleep(0.8)  # longer than the request deadline below
        return await ingest(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(tracker, "ingest", slow_ingest)
    receiver = await start(request_seconds=0.3)
    reader, writer = await asyncio.open_connection("127.0.0.1", receiver.port)
    try:
        body = scenario("01")[0]
        writer.write(head(body) + body)
        assert await answer(reader) == 200
    finally:
        writer.close()
    assert store.event_count() == 1


# -- a flood from another address -----------------------------------------------------------
# Loopback is all of 127/8: the PBX posts from 127.0.0.1, the flood comes from 127.0.0.2.

PBX, FLOOD = "127.0.0.1", "127.0.0.2"


async def post_slowly(port: int, body: bytes) -> int:
    """POST from PBX the way a PBX on a slow link does: the head, a pause, then the body;
    returns the status, or 0 when the server hung up instead of answering."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port, local_addr=(PBX, 0))
    try:
        writer.write(head(body))
        await asyncio.sleep(0.03)
        writer.write(body)
        return await answer(reader)
    except (ConnectionError, asyncio.IncompleteReadError):
        return 0
    finally:
        writer.close()


@pytest.mark.parametrize("allow_from", [(f"{PBX}/32",), ()], ids=["allow_from", "open"])
async def test_a_flood_from_another_address_drops_none_of_the_pbx_events(
    tracker: CallTracker, store: Store, allow_from: tuple[str, ...]
) -> None:
    # With allow_from the flood is refused as it connects; without, it may take the idle
    # slots, but never one whose request has started to arrive.
    limits = Limits(connections=16, per_address=8)
    receiver = Receiver(tracker, TOKEN, "127.0.0.1", 0, allow_from, limits=limits)
    await receiver.start()
    bodies = [event(f"flooded-{n}") for n in range(88)]
    statuses: list[int] = []
    try:
        async with Flood(receiver.port, FLOOD):
            for start in range(0, len(bodies), 4):  # the PBX posts four at a time
                batch = bodies[start : start + 4]
                statuses += await asyncio.gather(*(post_slowly(receiver.port, b) for b in batch))
    finally:
        await receiver.stop()
    assert statuses == [200] * 88
    assert store.event_count() == 88


async def test_one_address_cannot_hold_every_connection(tracker: CallTracker, store: Store) -> None:
    # Connections that sent a byte are never dropped for room, so one address must not be
    # able to hold them all: past its own cap, its newcomers are refused.
    limits = Limits(connections=16, per_address=8)
    receiver = Receiver(tracker, TOKEN, "127.0.0.1", 0, limits=limits)
    await receiver.start()
    try:
        async with Flood(receiver.port, FLOOD, send=b"P", keep=50):
            await until(
                lambda: receiver.connections >= 8, CLOSED_WITHIN, "the flood to hold its cap"
            )
            assert await post_slowly(receiver.port, event("held-back")) == 200
            assert receiver.connections <= 9
    finally:
        await receiver.stop()
    assert store.event_count() == 1

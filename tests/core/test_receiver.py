"""The webhook receiver over real HTTP on 127.0.0.1, with a real SQLite store."""

from __future__ import annotations

import pytest

from bulutpop.calls.tracker import CallTracker
from bulutpop.storage.store import Store
from tests.conftest import scenario
from tests.core.conftest import TOKEN, Server, own_address


async def test_scenario_events_are_stored_and_acknowledged(server: Server, store: Store) -> None:
    for body in scenario("01"):
        assert await server.post(body) == (200, "OK\n")
    assert [raw for _, raw in store.raw_events()] == scenario("01")
    (call,) = store.calls()
    assert call.connected_user == "1001" and call.recording


@pytest.mark.parametrize("path", ["/events/" + "x" * 40, "/events/", "/events", "/events/t"])
async def test_wrong_or_missing_token_is_404_and_stores_nothing(
    server: Server, store: Store, path: str
) -> None:
    status, _ = await server.post(scenario("01")[0], url=server.base + path)
    assert status == 404
    assert store.event_count() == 0 and store.rejected() == []


@pytest.mark.parametrize("body", [b"{}", b"", b"  {}\n"])
async def test_validation_probe_gets_200_and_is_not_an_event(
    server: Server, store: Store, body: bytes
) -> None:
    assert (await server.post(body))[0] == 200
    assert store.event_count() == 0 and store.rejected() == []


async def test_duplicate_delivery_is_stored_once(server: Server, store: Store) -> None:
    body = scenario("02")[0]
    assert (await server.post(body))[0] == 200
    assert (await server.post(body))[0] == 200
    assert store.event_count() == 1


async def test_out_of_order_delivery_gives_the_same_call(server: Server, store: Store) -> None:
    for body in reversed(scenario("03")):
        assert (await server.post(body))[0] == 200
    (call,) = store.calls()
    assert call.connected_user == "1002" and not call.missed and call.state == "ended"


async def test_event_without_call_uuid_is_400_and_kept(server: Server, store: Store) -> None:
    body = b"event_type=ringing&caller_id_number=02123205062"
    status, text = await server.post(body)
    assert (status, text) == (400, "missing call_uuid\n")
    assert store.rejected() == [("missing call_uuid", body)]
    assert store.event_count() == 0


async def test_unknown_event_type_is_kept_and_acknowledged(server: Server, store: Store) -> None:
    body = b"event_type=park&call_uuid=abc&extra_field=1"
    assert (await server.post(body))[0] == 200
    assert store.raw_events("abc") == [("park", body)]


async def test_lenient_parsing_of_real_pbx_bodies(server: Server, store: Store) -> None:
    body = (
        "event_type=hangup&call_uuid=u-1&direction=inbound&caller_id_number=02123205062"
        "&dialed_user=1001&start_stamp=2026-11-20 09:15:02&answered=false&recording_present=true"
        "&caller_name=Çağrı Şükrü Öztürk&new_field=kept"
    ).encode()
    assert (await server.post(body))[0] == 200
    (call,) = store.calls()
    assert call.missed and call.recording and call.start_ts is not None
    assert store.raw_events("u-1") == [("hangup", body)]


async def test_oversized_body_is_413(server: Server, store: Store) -> None:
    body = b"event_type=ringing&call_uuid=big&pad=" + b"x" * (64 * 1024)
    assert (await server.post(body))[0] == 413
    assert store.event_count() == 0


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
async def test_other_methods_are_405(server: Server, method: str) -> None:
    async with server.session.request(method, server.url) as response:
        assert response.status == 405


async def test_health_reports_counts_without_secrets(server: Server) -> None:
    await server.post(scenario("02")[0])
    async with server.session.get(server.base + "/health") as response:
        assert response.status == 200
        data = await response.json()
        text = await response.text()
    assert data["status"] == "ok" and data["events_received"] == 1
    assert TOKEN not in text


async def test_allow_list_refuses_other_networks_as_they_connect(
    tracker: CallTracker, store: Store
) -> None:
    import aiohttp

    from bulutpop.pbx.receiver import Receiver

    receiver = Receiver(tracker, TOKEN, "127.0.0.1", 0, allow_from=("10.0.0.0/8",))
    await receiver.start()
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{receiver.port}/events/{TOKEN}"
            # Closed before a byte is read: no answer, and no connection slot taken.
            with pytest.raises(aiohttp.ClientConnectionError):
                await session.post(url, data=scenario("02")[0])
        assert receiver.connections == 0
    finally:
        await receiver.stop()
    assert store.event_count() == 0


async def test_port_in_use_names_the_port_and_the_setting(
    server: Server, tracker: CallTracker
) -> None:
    from bulutpop.cli import describe
    from bulutpop.errors import CannotListen
    from bulutpop.pbx.receiver import Receiver

    second = Receiver(tracker, TOKEN, "127.0.0.1", server.receiver.port)
    with pytest.raises(CannotListen) as info:
        await second.start()
    exc = info.value
    assert (exc.port, exc.problem, exc.setting) == (server.receiver.port, "in_use", "listen_port")
    message = describe(exc)[0]
    assert str(server.receiver.port) in message and "listen_port" in message


@pytest.mark.parametrize("allow_from", [(), ("{me}/32",)], ids=["open", "allowed"])
async def test_health_tells_others_only_that_it_runs(
    tracker: CallTracker, allow_from: tuple[str, ...]
) -> None:
    import aiohttp

    from bulutpop import __version__
    from bulutpop.pbx.receiver import Receiver

    me = own_address()
    allowed = tuple(n.format(me=me) for n in allow_from)
    receiver = Receiver(tracker, TOKEN, me, 0, allowed)
    await receiver.start()
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://{me}:{receiver.port}/health") as response,
        ):
            data = await response.json()
    finally:
        await receiver.stop()
    if allowed:  # the PBX's own network may see the counts
        assert data["version"] == __version__ and data["events_received"] == 0
    else:
        assert data == {"status": "ok"}

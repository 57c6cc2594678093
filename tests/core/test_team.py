"""Team mode end to end on loopback: fake PBX → relay → real Mosquitto → agents' PCs."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiomqtt
import keyring
import pytest

from bulutpop.cli import describe
from bulutpop.devtools.fakepbx import tone_wav
from bulutpop.errors import (
    CannotListen,
    InviteError,
    NotFound,
    PbxRefused,
    RateLimited,
    TeamError,
    TeamRemoved,
)
from bulutpop.team.link import Claim, claim, claims
from bulutpop.team.protocol import TEAM_TOPIC, TOPIC_ROOT, Address, Invite, ext_topic, payload
from bulutpop.team.relay.broker import (
    MAX_CONNECTIONS,
    BrokerFiles,
    BrokerUser,
    ManagedBroker,
    hash_password,
)
from bulutpop.team.relay.service import reload_broker
from tests.conftest import TEST_KEY, free_port, open_files, open_files_limit, until
from tests.core.conftest import certificates
from tests.core.teamrig import AgentPc, TeamRig, event, make_rig


async def test_an_event_for_1001_reaches_1001_and_not_1002(rig: TeamRig) -> None:
    ayse, mehmet = await rig.pc("1001"), await rig.pc("1002")
    await ayse.start()
    await mehmet.start()
    assert await rig.post(event("c-1")) == [200]
    await until(lambda: ayse.call_uuids() == ["c-1"], what="1001 to store the event")
    await rig.outbox_empty()
    assert mehmet.call_uuids() == []


async def test_a_pc_offline_for_200_events_gets_all_in_order(rig: TeamRig) -> None:
    pc = await rig.pc("1001")
    await pc.start()  # the broker learns the session, then the PC goes away
    await pc.stop()
    uuids = [f"off-{n:03d}" for n in range(200)]
    assert set(await rig.post(*(event(u) for u in uuids))) == {200}
    await rig.outbox_empty()
    await pc.start()
    await until(lambda: len(pc.call_uuids()) == 200, what="the backlog")
    assert pc.call_uuids() == uuids


async def test_broker_and_relay_restarts_lose_nothing(rig: TeamRig) -> None:
    pc = await rig.pc("1001")
    await pc.start()
    assert rig.relay is not None and rig.relay.broker is not None
    await rig.relay.broker.stop()  # the broker goes down; the PBX keeps posting
    assert await rig.post(event("while-broker-down-1"), event("while-broker-down-2")) == [200, 200]
    await rig.stop_relay()  # then the relay restarts too, with those events still unsent
    await rig.start_relay()
    await until(lambda: len(pc.call_uuids()) == 2, timeout=30, what="the events after restarts")
    assert pc.call_uuids() == ["while-broker-down-1", "while-broker-down-2"]

    assert rig.relay is not None and rig.relay.broker is not None
    await pc.stop()  # queued for an offline PC across a broker restart
    assert await rig.post(event("queued-1")) == [200]
    await rig.outbox_empty()
    await rig.relay.broker.stop()
    await rig.relay.broker.start()
    await pc.start()
    await until(lambda: "queued-1" in pc.call_uuids(), timeout=30, what="the queued event")


async def test_an_agent_can_read_only_its_own_topic_and_publish_nothing(rig: TeamRig) -> None:
    mehmet = await rig.pc("1002")
    await mehmet.start()
    _, text = rig.add_agent("1001")
    ayse = Invite.parse(text)
    address = Address.parse(ayse.broker)
    async with aiomqtt.Client(
        address.host,
        address.port,
        username=ayse.agent,
        password=ayse.secret,
        protocol=aiomqtt.ProtocolVersion.V5,
    ) as sneaky:
        # Mosquitto grants the subscription and filters at delivery: nothing must arrive.
        await sneaky.subscribe(ext_topic("1002"), qos=1)
        await sneaky.subscribe(f"{TOPIC_ROOT}/#", qos=1)
        forged = payload("event", fields={"event_type": "ringing", "call_uuid": "forged"})
        await sneaky.publish(ext_topic("1002"), forged, qos=1)
        assert await rig.post(event("for-1002", dialed_user="1002", destination_number="1002")) == [
            200
        ]
        await until(lambda: mehmet.call_uuids() == ["for-1002"], what="1002's own event")

        async def first_message() -> None:
            async for message in sneaky.messages:
                # The team topic is every agent's to read (the office's names, erasures).
                if message.topic.value != TEAM_TOPIC:
                    raise AssertionError(f"1001 received {message.topic}")

        with pytest.raises(TimeoutError):
            await asyncio.wait_for(first_message(), 0.5)
    assert "forged" not in mehmet.call_uuids()


async def test_agents_dial_only_from_their_extension_and_hear_only_their_calls(
    rig: TeamRig,
) -> None:
    ayse = await rig.pc("1001")
    await ayse.start()
    rig.pbx.recordings["mine"] = tone_wav(0.5)
    rig.pbx.recordings["theirs"] = tone_wav(0.5)
    await rig.post(
        event("mine", "hangup", answered="true", recording_present="true"),
        event(
            "theirs",
            "hangup",
            dialed_user="1002",
            destination_number="1002",
            answered="true",
            recording_present="true",
        ),
    )
    async with ayse.core.client() as relay:
        assert await relay.originate("1001", "905321234567") != ""
        with pytest.raises(PbxRefused, match="only from its own extension"):
            await relay.originate("1002", "905321234567")
        url = await relay.recording_url("mine")
        dest = rig.root / "mine.wav"
        assert await relay.download(url, dest) == len(rig.pbx.recordings["mine"])
        with pytest.raises(NotFound):
            await relay.recording_url("theirs")
        with pytest.raises(PbxRefused, match="not available to team agents"):
            await relay.cdrs(datetime.now(UTC) - timedelta(days=1), datetime.now(UTC))
    # The PBX saw one call, from 1001, placed with the relay's key.
    assert [(o["extension"], o["key"]) for o in rig.pbx.originates] == [("1001", TEST_KEY)]


async def test_wrong_and_removed_credentials_are_refused(rig: TeamRig) -> None:
    pc = await rig.pc("1001")
    await pc.start()
    connected = pc.statuses[-1]
    assert connected.state == "connected"
    await pc.stop()
    assert rig.relay is not None
    rig.relay.agents.remove(pc.invite.agent)
    reload_broker(rig.core.config, rig.relay.files)
    await pc.start()
    after_removal = pc.statuses[-1]
    assert after_removal.state == "removed"  # the relay knows the credential was removed
    async with pc.core.client() as relay:
        with pytest.raises(TeamRemoved) as refused:
            await relay.originate("1001", "905321234567")
    assert "removed this PC's agent from the team" in describe(refused.value)[0]
    wrong = replace(Invite.parse(rig.add_agent("1003")[1]), secret="not-the-secret")
    stranger = rig.join(wrong, "stranger")
    await stranger.start()
    assert stranger.statuses[-1].state == "refused"
    assert rig.pbx.originates == []


async def test_no_api_key_exists_on_an_agents_pc(rig: TeamRig) -> None:
    pc = await rig.pc("1001")
    await pc.start()
    await rig.post(event("c-1"))
    await until(lambda: pc.call_uuids() == ["c-1"])
    async with pc.core.client() as relay:
        await relay.originate("1001", "905321234567")
    assert pc.core.keys.get() is None
    home = pc.core.dirs.config.parent
    for path in home.rglob("*"):
        if path.is_file():
            assert TEST_KEY.encode() not in path.read_bytes(), path
    assert TEST_KEY not in str(keyring.get_keyring().__dict__)


def open_missed_count_is(pc: AgentPc, count: int) -> Callable[[], bool]:
    return lambda: pc.core.store.open_missed_count() == count


async def test_a_shared_missed_call_is_claimed_and_resolved_for_the_whole_queue(
    rig: TeamRig,
) -> None:
    ayse = await rig.pc("1001", queues=("200",), display="Ayşe")
    mehmet = await rig.pc("1002", queues=("200",), display="Mehmet")
    await ayse.start()
    await mehmet.start()
    queue_call = {"destination_number": "200", "queue": "200"}
    await rig.post(
        event("q-1", dialed_user="1001", **queue_call),
        event("q-1", dialed_user="1002", **queue_call),
        event("q-1", "hangup", dialed_user="1002", answered="false", **queue_call),
    )
    # A queue call's unanswered ending may be one leg's: the relay settles it once nothing
    # more is heard, and its settling reaches the members like any event.
    await rig.settle()
    for pc in (ayse, mehmet):
        await until(open_missed_count_is(pc, 1), what="shared missed")
    party = ayse.core.store.missed_groups()[0].number

    assert await claim(mehmet.core.config, mehmet.invite.secret, party) == "Mehmet (1002)"
    await until(
        lambda: claims(ayse.core.tracker, "agent1001") == {party: Claim("Mehmet (1002)")},
        what="the claim",
    )
    assert claims(mehmet.core.tracker, "agent1002") == {party: Claim("Mehmet (1002)", mine=True)}
    with pytest.raises(TeamError, match="Mehmet \\(1002\\) is already calling back") as info:
        await claim(ayse.core.config, ayse.invite.secret, party)
    assert info.value.status == 409

    callback = {
        "direction": "outbound",
        "caller_id_number": "1002",
        "destination_number": "905321234567",
        "dialed_user": "",
        "start_stamp": "2026-11-20 10:30:00",
    }
    await rig.post(
        event("cb-1", **callback),
        event("cb-1", "answer", answer_stamp="2026-11-20 10:30:05", **callback),
    )
    for pc in (ayse, mehmet):
        await until(open_missed_count_is(pc, 0), what="resolution")
    assert ayse.core.store.missed_groups(include_resolved=True)[0].resolved_by == "callback"


def test_a_damaged_or_foreign_invite_says_what_to_do() -> None:
    good = Invite("mqtt://relay:1883", "http://relay:8790", "agent1001", "s3cret-s3cret", "1001")
    assert Invite.parse(good.encode()) == good
    wrapped = good.encode()[:30] + "\n  " + good.encode()[30:]
    assert Invite.parse(wrapped) == good
    with pytest.raises(InviteError, match="copy the whole line again"):
        Invite.parse(good.encode()[:-10])
    with pytest.raises(InviteError, match="not a team invite"):
        Invite.parse("hello")
    assert "s3cret" not in repr(good)


async def test_two_managed_brokers_run_side_by_side(tmp_path: Path) -> None:
    # A listener option above the first `listener` line opens a default one on 1883; two
    # relays (or a relay next to a system Mosquitto) would then collide.
    brokers = []
    for name in ("one", "two"):
        files = BrokerFiles(tmp_path / name)
        files.write_users([])
        address = Address("127.0.0.1", free_port(), False)
        brokers.append(ManagedBroker(files.write_config(address), address))
    try:
        for broker in brokers:
            await broker.start()
    finally:
        for broker in brokers:
            await broker.stop()


async def test_the_pbx_rate_limits_hold_for_all_agents_together(rig: TeamRig) -> None:
    ayse, mehmet = await rig.pc("1001"), await rig.pc("1002")
    async with ayse.core.client() as one, mehmet.core.client() as two:
        await one.originate("1001", "905321234567")
        await two.originate("1002", "905321234568")
        await one.originate("1001", "905321234569")
        with pytest.raises(RateLimited) as info:
            await two.originate("1002", "905321234560")
    assert 0 < info.value.retry_after <= 1
    assert len(rig.pbx.originates) == 3


async def test_over_tls_the_invite_carries_the_certificate_to_trust(tmp_path: Path) -> None:
    ca, cert, key = certificates(tmp_path / "tls")
    broker, api = free_port(), free_port()
    team = await make_rig(
        tmp_path / "team",
        tls_cert=str(cert),
        tls_key=str(key),
        tls_ca=str(ca),
        relay_port=api,
        relay_url=f"https://127.0.0.1:{api}",
        broker_url=f"mqtts://127.0.0.1:{broker}",
        broker_public_url=f"mqtts://127.0.0.1:{broker}",
    )
    try:
        pc = await team.pc("1001")
        assert pc.core.config.team_ca == ca.read_text().strip()
        await pc.start()
        assert pc.statuses[-1].state == "connected"
        await team.post(event("tls-1"))
        await until(lambda: pc.call_uuids() == ["tls-1"], what="the event over TLS")
        async with pc.core.client() as relay:
            assert await relay.originate("1001", "905321234567")
    finally:
        await team.close()


async def test_a_relay_that_cannot_start_leaves_no_broker_behind(tmp_path: Path) -> None:
    taken = socket.socket()
    taken.bind(("127.0.0.1", free_port()))
    taken.listen()
    try:
        with pytest.raises(CannotListen) as info:
            await make_rig(tmp_path, relay_port=taken.getsockname()[1])
        assert (info.value.what, info.value.setting) == ("relay_api", "relay_port")
    finally:
        taken.close()
    # A process that read the failed relay's configuration must not run on.
    assert not [c for c in _command_lines() if b"mosquitto" in c and str(tmp_path).encode() in c]


def _command_lines() -> list[bytes]:
    lines = []
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):  # a process that ended meanwhile
            lines.append(path.read_bytes())
    return lines


async def _silent(port: int) -> socket.socket:
    """A connection that will never send a byte."""
    sock = socket.socket()
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port))
    return sock


@pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="reads /proc (Linux)")
async def test_an_agent_logs_in_while_the_broker_is_flooded_with_silent_connections(
    tmp_path: Path,
) -> None:
    # Started with a service's usual soft limit of 1,024 open files (which it would keep),
    # the broker gets 1,100 connections that never send CONNECT (each kept 90 s).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 2048:
        pytest.skip("the hard limit on open files is too low for the flood")
    files = BrokerFiles(tmp_path / "broker")
    files.write_users([BrokerUser("agent1001", hash_password("s3cret"), read=(ext_topic("1001"),))])
    address = Address("127.0.0.1", free_port(), False)
    broker = ManagedBroker(files.write_config(address), address)
    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, hard))
    try:
        await broker.start()
    finally:  # room for the flood on this side
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4096)), hard))
    try:
        assert broker.process is not None
        assert open_files_limit(broker.process.pid) > MAX_CONNECTIONS
        pid = broker.process.pid
        flood: list[socket.socket] = []
        try:
            async with asyncio.timeout(20):
                while len(flood) < 1100:  # 50 at a time, so that none waits out a full backlog
                    flood += await asyncio.gather(*(_silent(address.port) for _ in range(50)))
            # The broker has taken all it can (before, with 1,024: 1,020 of them).
            await until(lambda: open_files(pid) > 1000, 20, "the broker to take the flood")
            async with aiomqtt.Client(
                address.host, address.port, username="agent1001", password="s3cret", timeout=5
            ) as agent:
                await agent.subscribe(ext_topic("1001"), qos=1)
        finally:
            for sock in flood:
                sock.close()
    finally:
        await broker.stop()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

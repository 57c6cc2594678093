"""KVKK in team mode, on loopback with the real Mosquitto: a number forgotten on the relay
(`bulutpop relay forget`, run as the administrator runs it) is forgotten on every agent's
PC, one that was off included; the relay's audit of the recordings it served (`bulutpop
relay audit`); and the relay keeping neither delivered outbox rows nor old claims."""

from __future__ import annotations

import asyncio
import time

import pytest

from bulutpop.devtools.fakepbx import tone_wav
from bulutpop.storage.team import ClaimRow, TeamTables
from bulutpop.team.protocol import forget_message
from bulutpop.team.relay.publisher import REPUBLISH_SECONDS
from tests.conftest import until
from tests.core.conftest import run_cli
from tests.core.teamrig import AgentPc, TeamRig, event

NUMBER = "05321234567"
DIGITS = b"5321234567"  # in every written form of NUMBER


def store_bytes(pc: AgentPc) -> bytes:
    """The store's files as they are on disk: the database, its WAL and shared memory."""
    path = pc.core.store.path
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return b"".join(f.read_bytes() for f in files if f.exists())


async def test_a_number_forgotten_on_the_relay_is_forgotten_on_online_and_offline_pcs(
    rig: TeamRig,
) -> None:
    ayse, mehmet = await rig.pc("1001"), await rig.pc("1002")
    await ayse.start()
    await mehmet.start()
    to_mehmet = {"dialed_user": "1002", "destination_number": "1002"}
    other = {"caller_id_number": "05559876543"}
    assert (
        await rig.post(
            event("a-1"),
            event("a-2", **other),
            event("m-1", **to_mehmet),
            event("m-2", **to_mehmet, **other),
        )
        == [200] * 4
    )
    await until(lambda: ayse.call_uuids() == ["a-1", "a-2"], what="1001's calls")
    await until(lambda: mehmet.call_uuids() == ["m-1", "m-2"], what="1002's calls")
    assert DIGITS in store_bytes(mehmet)
    await mehmet.stop()  # Mehmet's PC is off when the request is made

    extension = await asyncio.to_thread(run_cli, "relay", "forget", "1001", "--yes", env=rig.env)
    assert extension.returncode == 2  # its digits are in too many other numbers
    unasked = await asyncio.to_thread(run_cli, "relay", "forget", NUMBER, env=rig.env)
    assert unasked.returncode == 2 and "--yes" in unasked.stderr  # no terminal to ask on

    forgot = await asyncio.to_thread(
        run_cli, "relay", "forget", "0532 123 45 67", "--yes", env=rig.env
    )
    assert forgot.returncode == 0, forgot.stderr
    assert "2 calls" in forgot.stdout and "PBX" in forgot.stdout
    assert sorted(c.call_uuid for c in rig.core.store.calls()) == ["a-2", "m-2"]

    await until(lambda: ayse.call_uuids() == ["a-2"], what="1001's PC to forget the number")
    # The rows go first; the files are scrubbed (checkpoint, WAL truncated) right after.
    await until(lambda: DIGITS not in store_bytes(ayse), what="1001's store files scrubbed")
    await mehmet.start()
    await until(lambda: mehmet.call_uuids() == ["m-2"], what="1002's PC to forget on reconnect")
    await until(lambda: DIGITS not in store_bytes(mehmet), what="1002's store files scrubbed")
    await rig.outbox_empty()


async def test_the_relay_audits_every_recording_it_serves(rig: TeamRig) -> None:
    ayse = await rig.pc("1001", display="Ayşe")
    await ayse.start()
    rig.pbx.recordings["rec-1"] = tone_wav(0.5)
    await rig.post(event("rec-1", "hangup", answered="true", recording_present="true"))
    await until(lambda: ayse.call_uuids() == ["rec-1"], what="the call")
    before = time.time()
    async with ayse.core.client() as relay:
        url = await relay.recording_url("rec-1")
        for copy in ("first.wav", "again.wav"):  # a link serves for its lifetime
            await relay.download(url, rig.root / copy)

    audit = await asyncio.to_thread(run_cli, "relay", "audit", "--csv", env=rig.env)
    assert audit.returncode == 0, audit.stderr
    lines = audit.stdout.splitlines()
    assert len(lines) == 3, audit.stdout  # the header, and each recording served
    for line in lines[1:]:
        assert "Ayşe (1001) [agent1001]" in line and "rec-1" in line and "download" in line
    accesses = rig.core.store.accesses(since=before)
    assert [(a.who, a.call_uuid, a.party) for a in accesses] == [
        ("Ayşe (1001) [agent1001]", "rec-1", "05321234567")
    ] * 2
    since_tomorrow = time.strftime("%Y-%m-%d", time.localtime(time.time() + 86400))
    later = await asyncio.to_thread(
        run_cli, "relay", "audit", "--since", since_tomorrow, env=rig.env
    )
    assert later.returncode == 0 and "rec-1" not in later.stdout


@pytest.mark.slow
async def test_the_relay_keeps_no_delivered_outbox_rows_nor_old_claims(rig: TeamRig) -> None:
    assert rig.runtime is not None and rig.runtime.running("retention")  # as on every PC
    assert rig.relay is not None and rig.relay.publisher is not None
    rig.relay.publisher.tidy_every = 0.2
    tables = TeamTables(rig.core.store)
    old = time.time() - 16 * 60
    await rig.core.store.write(tables.put_claim, ClaimRow("+905321234567", "agent1001", "", old))
    pc = await rig.pc("1001")
    await pc.start()
    assert await rig.post(event("c-1")) == [200]
    await until(lambda: pc.call_uuids() == ["c-1"], what="the event")

    def rows() -> int:
        return len(rig.core.store.read("SELECT seq FROM outbox"))

    # Nothing comes after this one: no later acknowledgement deletes it.
    await until(lambda: rows() == 0, timeout=REPUBLISH_SECONDS + 5, what="the delivered row to go")
    assert tables.claims_since(0) == []


async def test_a_request_to_forget_an_extension_is_kept_aside_not_retried(rig: TeamRig) -> None:
    pc = await rig.pc("1001")
    await pc.start()
    # As a relay of another version might send it: `relay forget` itself refuses extensions.
    await rig.core.store.write(TeamTables(rig.core.store).queue, [forget_message("1002")])
    assert await rig.post(event("after")) == [200]
    await until(lambda: pc.call_uuids() == ["after"], what="the next event")
    rejected = pc.core.store.read("SELECT reason FROM rejected")
    assert [r[0] for r in rejected] == ["team message: '1002' is not a phone number"]

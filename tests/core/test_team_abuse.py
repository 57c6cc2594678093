"""What an agent (or a caller) can try against the relay and the other agents, on loopback:
the fake PBX, the relay with its real Mosquitto, agents' PCs speaking real HTTP to it."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import replace

import aiohttp
import pytest

from bulutpop.devtools.fakepbx import tone_wav
from bulutpop.errors import NotFound, PbxRefused, TeamError
from bulutpop.storage.team import TeamTables
from bulutpop.team.link import claim, whoami
from bulutpop.team.protocol import Invite
from bulutpop.team.relay.service import reload_broker
from tests.conftest import until
from tests.core.teamrig import AgentPc, TeamRig, event


async def _claim_refusal(pc: AgentPc, party_key: str) -> TeamError:
    with pytest.raises(TeamError) as refused:
        await claim(pc.core.config, pc.invite.secret, party_key)
    return refused.value


async def test_an_agent_claims_only_callers_missed_in_its_own_queues(rig: TeamRig) -> None:
    ayse = await rig.pc("1001", queues=("200",), display="Ayşe")
    mallory = await rig.pc("1003", queues=("300",), display="Mallory")
    await ayse.start()
    queue_call = {"destination_number": "200", "queue": "200"}
    await rig.post(
        event("q-1", **queue_call),
        event("q-1", "hangup", answered="false", **queue_call),
    )
    await rig.settle()
    await until(lambda: ayse.core.store.open_missed_count() == 1, what="the shared missed call")
    party = ayse.core.store.missed_groups()[0].number

    # Queue 200's caller is none of Mallory's business: the same answer as for a caller
    # nobody missed, and no claim that would keep Ayşe from calling back.
    unknown = await _claim_refusal(mallory, "+905329999999")
    outside = await _claim_refusal(mallory, party)
    assert (outside.status, str(outside)) == (unknown.status, str(unknown)) == (404, str(unknown))
    assert TeamTables(rig.core.store).claims_since(0) == []
    assert await claim(ayse.core.config, ayse.invite.secret, party) == "Ayşe (1001)"
    # Nor does asking again tell Mallory who is calling that caller back.
    after = await _claim_refusal(mallory, party)
    assert (after.status, str(after)) == (404, str(unknown))


async def test_an_outside_caller_id_equal_to_an_extension_gives_that_agent_nothing(
    rig: TeamRig,
) -> None:
    ayse, mehmet = await rig.pc("1001"), await rig.pc("1002")
    await ayse.start()
    await mehmet.start()
    for uuid in ("spoofed", "out", "internal"):
        rig.pbx.recordings[uuid] = tone_wav(0.2)
    ended = {"answered": "true", "recording_present": "true"}
    await rig.post(
        # From outside, the caller ID "1002": a call to Ayşe, not Mehmet's.
        event("spoofed", caller_id_number="1002"),
        event("spoofed", "hangup", caller_id_number="1002", **ended),
        # Mehmet's own calls stay his: one out to a customer, one to Ayşe.
        event(
            "out",
            "hangup",
            direction="outbound",
            caller_id_number="1002",
            destination_number="905321234567",
            dialed_user="",
            **ended,
        ),
        event("internal", "hangup", direction="internal", caller_id_number="1002", **ended),
    )
    await until(lambda: {"spoofed", "internal"} <= set(ayse.call_uuids()), what="Ayşe's calls")
    await until(lambda: {"out", "internal"} <= set(mehmet.call_uuids()), what="Mehmet's calls")
    await rig.outbox_empty()
    assert set(ayse.call_uuids()) == {"spoofed", "internal"}
    assert set(mehmet.call_uuids()) == {"out", "internal"}
    async with mehmet.core.client() as relay:
        with pytest.raises(NotFound):
            await relay.recording_url("spoofed")
        assert await relay.recording_url("out")
        assert await relay.recording_url("internal")


async def test_a_recording_link_dies_with_the_credential_it_was_made_for(rig: TeamRig) -> None:
    ayse = await rig.pc("1001")
    rig.pbx.recordings["c-1"] = tone_wav(0.2)
    await rig.post(event("c-1", "hangup", answered="true", recording_present="true"))
    async with ayse.core.client() as relay:
        url = await relay.recording_url("c-1")
    assert rig.relay is not None
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert response.status == 200
        # Ayşe leaves; someone else gets her old agent name with a new invite.
        assert rig.relay.agents.remove(ayse.invite.agent)
        reload_broker(rig.core.config, rig.relay.files)
        rig.add_agent("1001", name=ayse.invite.agent)
        async with session.get(url) as response:
            assert response.status == 404


async def test_an_agent_dials_only_numbers_and_the_offices_caller_ids(rig: TeamRig) -> None:
    ayse = await rig.pc("1001")
    async with ayse.core.client() as relay:
        for code in ("*8", "*21*905321234567", "#31#05321234567", "905321234567*"):
            with pytest.raises(PbxRefused, match="not a phone number"):
                await relay.originate("1001", code)
        with pytest.raises(PbxRefused, match="caller ID"):
            await relay.originate("1001", "905321234567", caller_id="902125550199")
        assert await relay.originate("1001", "0532 123 45 67", caller_id="908505320000")
        # A colleague's extension: what the desktop's own dial window allows.
        assert await relay.originate("1001", "1002")
    sent = [(o["destination"], o.get("caller_id")) for o in rig.pbx.originates]
    assert sent == [("905321234567", "908505320000"), ("1002", None)]


class Tap:
    """A TCP forwarder between an agent's PC and the relay's API that keeps what the PC sends."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sent = bytearray()
        self._tasks: list[asyncio.Task[None]] = []

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def __aexit__(self, *_exc: object) -> None:
        self._server.close()
        await self._server.wait_closed()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.port)
        self._tasks.append(asyncio.create_task(self._pipe(reader, up_writer, self.sent)))
        self._tasks.append(asyncio.create_task(self._pipe(up_reader, writer, None)))

    @staticmethod
    async def _pipe(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, keep: bytearray | None
    ) -> None:
        try:
            while chunk := await reader.read(65536):
                if keep is not None:
                    keep += chunk
                writer.write(chunk)
                await writer.drain()
        finally:
            writer.close()


async def test_an_agents_credential_travels_only_in_a_header(rig: TeamRig) -> None:
    assert rig.relay is not None
    rig.pbx.recordings["c-1"] = tone_wav(0.2)
    await rig.post(event("c-1", "hangup", answered="true", recording_present="true"))
    invite = Invite.parse(rig.add_agent("1001")[1])
    secret = invite.secret.encode()
    tap = Tap(rig.relay.api_port)
    async with tap as tapped_url:
        pc = rig.join(replace(invite, relay=tapped_url), "pc")
        async with pc.core.client() as relay:
            await relay.originate("1001", "905321234567")
            await relay.caller_ids()
            await relay.recording_url("c-1")
        assert (await whoami(pc.core.config, invite.secret))["agent"] == invite.agent
        with pytest.raises(TeamError):
            await claim(pc.core.config, invite.secret, "+905321234567")
        # Never in a URL or a form a server might log; only in the header meant for it.
        lines = bytes(tap.sent).split(b"\r\n")
        auth = [line for line in lines if line.lower().startswith(b"authorization: bearer ")]
        assert len(auth) == 5
        assert all(secret in line for line in auth)
        assert bytes(tap.sent).count(secret) == 5

    credential = f"{invite.agent}:{invite.secret}"
    base = f"http://127.0.0.1:{rig.relay.api_port}"
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/team/whoami", params={"key": credential}) as response:
            assert response.status == 401
        form = {"key": credential, "call_uuid": "c-1"}
        async with session.post(f"{base}/pbx/recording_url", data=form) as response:
            assert response.status == 401
        bearer = {"Authorization": f"Bearer {credential}"}
        async with session.get(f"{base}/team/whoami", headers=bearer) as response:
            assert response.status == 200


async def test_a_pbx_refusal_reaches_the_agent_in_the_pbxs_own_words(rig: TeamRig) -> None:
    ayse = await rig.pc("1001")
    rig.pbx.extensions.discard("1001")  # the PBX no longer knows the agent's extension
    async with ayse.core.client() as relay:
        with pytest.raises(PbxRefused) as refused:
            await relay.originate("1001", "05321234567")
    assert refused.value.detail == "extension 1001 not found"
    assert str(refused.value).count("the PBX refused the request") == 1

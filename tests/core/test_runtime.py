"""The runtime every mode runs (serve, relay, the tray), without Qt: its services follow
the mode and the settings, and nothing on the loop waits for the keyring."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import keyring
import pytest

from bulutpop.app.core import Core
from bulutpop.app.runtime import Runtime, ServiceState
from bulutpop.calls.events import PBX_TZ
from bulutpop.devtools.demo import scenario_bodies
from bulutpop.devtools.fakepbx import FakePbxState, history_records, start
from bulutpop.errors import SetupMissing
from bulutpop.local.keys import MemoryKeyring
from bulutpop.team.protocol import Invite, leave
from tests.conftest import TEST_KEY, free_port, until
from tests.core.teamrig import TeamRig, make_rig


class ThreadCheckingKeyring(MemoryKeyring):
    """Records the thread of every call: the loop's thread must never wait for a keyring."""

    def __init__(self) -> None:
        super().__init__()
        self.threads: list[str] = []
        self.read: list[str] = []  # the entries read

    def get_password(self, service: str, username: str) -> str | None:
        self.threads.append(threading.current_thread().name)
        self.read.append(username)
        return super().get_password(service, username)

    def set_password(self, service: str, username: str, password: str) -> None:
        self.threads.append(threading.current_thread().name)
        super().set_password(service, username, password)


@dataclass
class Solo:
    core: Core
    pbx: FakePbxState
    keys: ThreadCheckingKeyring


@pytest.fixture
async def solo(tmp_path: Path) -> AsyncIterator[Solo]:
    pbx = FakePbxState(key=TEST_KEY)
    runner, base = await start(pbx)
    keys = ThreadCheckingKeyring()
    keyring.set_keyring(keys)
    keys.set_password("bulutpop", "api_key", TEST_KEY)
    keys.threads.clear()
    keys.read.clear()
    core = Core.open(
        {
            "BULUTPOP_CONFIG_DIR": str(tmp_path / "config"),
            "BULUTPOP_DATA_DIR": str(tmp_path / "data"),
            "BULUTPOP_API_URL": base,
        }
    )
    await core.update_config(
        core.config.with_value("extension", "1001").with_value("listen_port", free_port())
    )
    yield Solo(core, pbx, keys)
    core.close()
    await runner.cleanup()


def states(runtime: Runtime) -> dict[str, str]:
    return {name: s.state for name, s in runtime.states.items()}


async def test_solo_runs_the_receiver_catch_up_phonebook_and_settling(solo: Solo) -> None:
    runtime = Runtime(solo.core)
    seen: list[ServiceState] = []
    runtime.subscribe(seen.append)
    await runtime.start()
    try:
        assert runtime.mode == "solo" and runtime.receiver is not None
        await until(lambda: "cdrs" in solo.pbx.received, what="the catch-up at start")
        await until(lambda: "contacts" in solo.pbx.received, what="the phonebook sync")
        assert {"receiver", "catchup", "phonebook", "settle"} <= set(states(runtime))
        assert states(runtime)["receiver"] == "running" and runtime.problem() is None
        assert any(s.name == "receiver" and s.detail.startswith("127.0.0.1:") for s in seen)
    finally:
        await runtime.stop()
    assert runtime.receiver is None and not runtime.running("catchup")
    # The keyring was read once, never on the loop's thread, and never for a team secret.
    assert solo.keys.read == ["api_key"]
    assert threading.main_thread().name not in solo.keys.threads


async def test_without_a_key_the_pbx_services_wait_and_start_when_it_comes(solo: Solo) -> None:
    solo.keys.delete_password("bulutpop", "api_key")
    runtime = Runtime(solo.core)
    await runtime.start()
    try:
        waiting = runtime.states["catchup"]
        assert waiting.state == "waiting" and isinstance(waiting.error, SetupMissing)
        assert states(runtime)["receiver"] == "running"  # events are received meanwhile
        assert "cdrs" not in solo.pbx.received
        await asyncio.to_thread(solo.core.keys.set, TEST_KEY)  # as the settings window does
        await runtime.key_changed()
        await until(lambda: "cdrs" in solo.pbx.received, what="the catch-up once keyed")
    finally:
        await runtime.stop()
    assert threading.main_thread().name not in solo.keys.threads


async def test_joining_and_leaving_a_team_swaps_the_services(solo: Solo) -> None:
    runtime = Runtime(solo.core)
    await runtime.start()
    try:
        assert runtime.running("receiver") and runtime.running("catchup")
        invite = Invite("mqtt://127.0.0.1:1", "http://127.0.0.1:1", "agent1001", "s3cret", "1001")
        await asyncio.to_thread(solo.core.team_keys.set, invite.secret)
        await solo.core.update_config(invite.apply(solo.core.config))
        await until(lambda: runtime.mode == "team" and runtime.running("team"), what="team")
        assert not runtime.running("receiver") and not runtime.running("catchup")
        assert not runtime.running("phonebook") and runtime.receiver is None
        assert runtime.running("settle")  # undecided calls settle in every mode

        await solo.core.update_config(leave(solo.core.config))
        await until(lambda: runtime.running("receiver"), what="the receiver again")
        await until(lambda: runtime.running("catchup"), what="the catch-up again")
        assert not runtime.running("team") and runtime.link is None
    finally:
        await runtime.stop()


async def test_a_taken_port_is_the_receivers_problem_not_the_whole_runtimes(solo: Solo) -> None:
    first = Runtime(solo.core)
    await first.start()
    second = Runtime(solo.core)
    await second.start()
    try:
        problem = second.problem()
        assert problem is not None and problem.name == "receiver"
        assert second.running("catchup")  # the history still brings the calls in
    finally:
        await second.stop()
        await first.stop()


async def test_the_relay_catches_up_for_the_office_and_routes_what_it_recovers(
    tmp_path: Path,
) -> None:
    rig: TeamRig = await make_rig(tmp_path)
    try:
        ayse = await rig.pc("1001", queues=("200",))
        await ayse.start()
        # Calls the relay never heard (it was down): only the PBX's history has them, one
        # record per leg, the rung extension beside the company line.
        calls = scenario_bodies(1, datetime.now(PBX_TZ) - timedelta(minutes=10))
        wanted = ("0b7f3d55", "7c3d9a10")  # 02: a missed call; 08: a colleague answered
        bodies = [b for call in calls for b in call if any(w.encode() in b for w in wanted)]
        rig.pbx.cdrs = history_records(bodies)
        assert rig.runtime is not None
        await until(lambda: rig.runtime is not None and rig.runtime.running("catchup"))
        rig.runtime.trigger_catchup()
        await until(lambda: ayse.core.store.open_missed_count() == 1, what="the recovered miss")
        # Each call reaches the PC in its own time: the queue call may follow the miss.
        await until(
            lambda: any("7c3d9a10" in c.call_uuid for c in ayse.core.store.calls()),
            what="the recovered queue call",
        )
        (missed,) = ayse.core.store.missed_groups()
        assert missed.number == "+905321234567"
        (queue_call,) = [c for c in ayse.core.store.calls() if "7c3d9a10" in c.call_uuid]
        assert queue_call.connected_user == "1002" and not queue_call.missed
    finally:
        await rig.close()


async def test_a_queue_call_nobody_answered_is_settled_by_the_history_soon_after_it_ends(
    solo: Solo,
) -> None:
    # The settling timeout is an hour: only the history can make this call missed in time.
    await solo.core.update_config(solo.core.config.with_value("settle_seconds", "3600"))
    runtime = Runtime(solo.core)
    runtime.settle_check = runtime.history_lag = runtime.history_spacing = 0.1
    runtime.history_retry = 0.5
    (bodies,) = [
        c for c in scenario_bodies(1) if b"9a4f2e63" in c[0]
    ]  # 10: a queue call nobody answers, every leg ending before the final hangup
    await runtime.start()
    try:
        assert runtime.receiver is not None
        url = f"http://127.0.0.1:{runtime.receiver.port}{solo.core.config.webhook_path()}"
        await until(lambda: runtime.catchup.status.last_run is not None, what="the catch-up")
        asked = len(solo.pbx.received["cdrs"])
        async with aiohttp.ClientSession() as session:
            for body in bodies:
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                async with session.post(url, data=body, headers=headers) as reply:
                    assert reply.status == 200
        (call,) = solo.core.store.calls()
        assert call.pending and not call.missed  # the legs alone cannot tell
        # Quiet now: the history is asked, has no record yet (it can lag), and asked again.
        await until(lambda: len(solo.pbx.received["cdrs"]) >= asked + 2, what="two look-ups")
        assert solo.core.store.calls()[0].pending
        solo.pbx.cdrs = history_records(bodies)
        await until(lambda: solo.core.store.open_missed_count() == 1, what="the settled miss")
        (call,) = solo.core.store.calls()
        assert call.missed and not call.pending and call.queue == "200"
    finally:
        await runtime.stop()


async def test_the_relay_settles_a_queue_call_from_the_history_for_its_agents(
    tmp_path: Path,
) -> None:
    rig: TeamRig = await make_rig(tmp_path)
    try:
        ayse = await rig.pc("1001", queues=("200",))
        await ayse.start()
        assert rig.runtime is not None
        rig.runtime.settle_check = rig.runtime.history_lag = rig.runtime.history_spacing = 0.1
        (bodies,) = [c for c in scenario_bodies(1) if b"9a4f2e63" in c[0]]  # 10: nobody answers
        rig.pbx.cdrs = history_records(bodies)
        assert await rig.post(*bodies) == [200] * len(bodies)
        # Ayşe's PC cannot ask the PBX and would wait `settle_seconds` (120): the relay asks.
        await until(lambda: ayse.core.store.open_missed_count() == 1, 15, "the relay's settle")
        (call,) = ayse.core.store.calls()
        assert call.missed and not call.pending
    finally:
        await rig.close()


async def test_an_api_address_given_to_the_core_is_never_saved(tmp_path: Path) -> None:
    # The demo opens its core with the fake PBX's address in the environment it passes.
    env = {
        "BULUTPOP_CONFIG_DIR": str(tmp_path / "config"),
        "BULUTPOP_DATA_DIR": str(tmp_path / "data"),
        "BULUTPOP_API_URL": "http://127.0.0.1:9",
    }
    core = Core.open(env)
    try:
        assert core.config.api_url == "http://127.0.0.1:9"
        await core.update_config(core.config.with_value("extension", "1001"))
        saved = (tmp_path / "config" / "config.toml").read_text(encoding="utf-8")
        assert "127.0.0.1:9" not in saved and 'extension = "1001"' in saved
        assert core.config.api_url == "http://127.0.0.1:9"  # still, for this run
    finally:
        core.close()

"""A team on loopback for tests: the fake PBX, a relay running a real Mosquitto, and agents'
PCs (each its own config, store and keyring entry) linked through the broker."""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import aiohttp
from aiohttp import web

from bulutpop.app.core import Core
from bulutpop.app.runtime import Runtime
from bulutpop.calls.tracker import SETTLE_SECONDS
from bulutpop.devtools.fakepbx import FakePbxState, start
from bulutpop.local import config as config_mod
from bulutpop.local.config import Config, Dirs
from bulutpop.storage.team import TeamTables
from bulutpop.team.link import TeamLink, TeamStatus
from bulutpop.team.protocol import Invite
from bulutpop.team.relay.agents import Agent
from bulutpop.team.relay.service import Relay
from tests.conftest import TEST_KEY, free_port, until


def event(uuid: str, event_type: str = "ringing", **fields: str) -> bytes:
    values = {
        "event_type": event_type,
        "direction": "inbound",
        "caller_id_number": "05321234567",
        "destination_number": "1001",
        "dialed_user": "1001",
        "call_uuid": uuid,
        "start_stamp": "2026-11-20 10:00:00",
        **fields,
    }
    return "&".join(f"{k}={v}" for k, v in values.items()).encode()


@dataclass
class AgentPc:
    core: Core
    invite: Invite
    statuses: list[TeamStatus] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    @property
    def link(self) -> TeamLink:
        return TeamLink(
            self.core.tracker,
            self.core.config,
            self.invite.secret,
            self.statuses.append,
            forget=self.core.forget,
        )

    async def start(self) -> None:
        self.task = asyncio.create_task(self.link.run())
        await until(
            lambda: any(s.state in ("connected", "refused", "removed") for s in self.statuses),
            what=f"{self.invite.agent} to connect",
        )

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None
        self.statuses.clear()

    def call_uuids(self) -> list[str]:
        rows = self.core.store.read("SELECT call_uuid FROM events ORDER BY id")
        return [row[0] for row in rows]

    async def close(self) -> None:
        await self.stop()
        await self.core.aclose()
        self.core.close()


@dataclass
class TeamRig:
    root: Path
    pbx: FakePbxState
    pbx_url: str
    env: dict[str, str]
    runtime: Runtime | None = None  # `bulutpop relay`'s
    pcs: list[AgentPc] = field(default_factory=list)
    _pbx_runner: web.AppRunner | None = None

    @property
    def relay(self) -> Relay | None:
        return self.runtime.relay if self.runtime is not None else None

    @property
    def core(self) -> Core:
        assert self.runtime is not None
        return self.runtime.core

    @property
    def webhook(self) -> str:
        assert self.runtime is not None and self.runtime.receiver is not None
        port = self.runtime.receiver.port
        return f"http://127.0.0.1:{port}{self.core.config.webhook_path()}"

    async def start_relay(self) -> Relay:
        """What `bulutpop relay` runs; raises what it cannot start."""
        core = Core.open(self.env)
        runtime = Runtime(core, "relay")
        await runtime.start()
        problem = runtime.problem()
        if problem is not None:
            await runtime.stop()
            core.close()
            assert problem.error is not None
            raise problem.error
        self.runtime = runtime
        assert runtime.relay is not None
        return runtime.relay

    async def stop_relay(self) -> None:
        if self.runtime is not None:
            await self.runtime.stop()
            self.runtime.core.close()
            self.runtime = None

    async def settle(self) -> None:
        """Let the relay settle what it cannot decide yet, as it does after SETTLE_SECONDS
        of silence (a queue call whose every leg heard of ended unanswered)."""
        await self.core.tracker.settle_due(time.time() + SETTLE_SECONDS)

    async def post(self, *bodies: bytes) -> list[int]:
        statuses = []
        async with aiohttp.ClientSession() as session:
            for body in bodies:
                async with session.post(
                    self.webhook,
                    data=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                ) as response:
                    statuses.append(response.status)
        return statuses

    def add_agent(
        self, extension: str, queues: tuple[str, ...] = (), display: str = "", name: str = ""
    ) -> tuple[Agent, str]:
        from bulutpop.team.relay.service import invite_for, reload_broker

        assert self.relay is not None
        agent, secret = self.relay.agents.add(extension, name, queues, display)
        reload_broker(self.core.config, self.relay.files)
        return agent, invite_for(self.core.config, agent, secret).encode()

    async def pc(self, extension: str, queues: tuple[str, ...] = (), display: str = "") -> AgentPc:
        """An agent's PC joined with a fresh invite (not yet connected)."""
        _, text = self.add_agent(extension, queues, display)
        return self.join(Invite.parse(text), f"pc{len(self.pcs)}-{extension}")

    def join(self, invite: Invite, folder: str) -> AgentPc:
        home = self.root / folder
        env = {
            "BULUTPOP_CONFIG_DIR": str(home / "config"),
            "BULUTPOP_DATA_DIR": str(home / "data"),
            # Each PC its own keyring entry: the test process has one keyring for all.
            "BULUTPOP_TEAM_SECRET": invite.secret,
        }
        dirs = Dirs.from_env(env)
        config_mod.save(dirs, invite.apply(config_mod.load(dirs, env)))
        pc = AgentPc(Core.open(env), invite)
        self.pcs.append(pc)
        return pc

    async def outbox_empty(self, timeout: float = 10.0) -> None:
        await until(
            TeamTables(self.core.store).outbox_empty,
            timeout,
            "the relay's outbox to drain",
        )

    async def close(self) -> None:
        for pc in self.pcs:
            await pc.close()
        await self.stop_relay()
        if self._pbx_runner is not None:
            await self._pbx_runner.cleanup()


async def make_rig(root: Path, **settings: object) -> TeamRig:
    pbx = FakePbxState(key=TEST_KEY)
    runner, pbx_url = await start(pbx)
    env = {
        "BULUTPOP_CONFIG_DIR": str(root / "relay" / "config"),
        "BULUTPOP_DATA_DIR": str(root / "relay" / "data"),
        "BULUTPOP_API_KEY": TEST_KEY,
        "BULUTPOP_API_URL": pbx_url,
    }
    dirs = Dirs.from_env(env)
    broker_port, api_port = free_port(), free_port()
    config = replace(
        config_mod.load(dirs, env),
        listen_port=0,
        relay_host="127.0.0.1",
        relay_port=api_port,
        relay_url=f"http://127.0.0.1:{api_port}",
        broker_url=f"mqtt://127.0.0.1:{broker_port}",
        broker_public_url=f"mqtt://127.0.0.1:{broker_port}",
    )
    config = replace(config, **settings)  # type: ignore[arg-type]
    config_mod.save(dirs, config)
    rig = TeamRig(root, pbx, pbx_url, env, _pbx_runner=runner)
    await rig.start_relay()
    return rig


def relay_config(rig: TeamRig) -> Config:
    return rig.core.config

"""Pieces every benchmark uses (imported as `common`: the benchmarks run as scripts, with
this folder first on sys.path)."""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

HEARTBEAT_S = 0.005


def load_average() -> str:
    """The 1-minute load average: other work on these 2 cores skews every number here."""
    try:
        with open("/proc/loadavg") as fh:
            return fh.read().split()[0]
    except OSError:
        return "?"


def free_port() -> int:
    """A port nothing listens on, below Linux's ephemeral range (32768-60999) so that no
    outgoing connection of the benchmark takes it before the server binds it."""
    while True:
        port = random.randrange(20000, 32768)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


class Heartbeat:
    """A 5 ms asyncio sleep in a loop; lateness = how long the loop could not run it."""

    def __init__(self) -> None:
        self.late: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            before = time.perf_counter()
            await asyncio.sleep(HEARTBEAT_S)
            self.late.append((time.perf_counter() - before - HEARTBEAT_S) * 1000)

    def start(self) -> None:
        self.late = []
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> list[float]:
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        return self.late


@dataclass(frozen=True)
class RelaySetup:
    env: dict[str, str]  # the relay's environment (its own folders, the demo key)
    config: Any  # its saved Config (bulutpop is imported only once a benchmark runs)
    listen: int  # the webhook
    broker: int  # the managed Mosquitto


def relay_setup(home: Path) -> RelaySetup:
    """A relay's settings under `home`/relay on free loopback ports, saved as `bulutpop relay`
    will read them; nothing listens at its PBX address (no catch-up reaches a real PBX)."""
    from bulutpop.devtools.fakepbx import DEMO_KEY
    from bulutpop.local import config as config_mod
    from bulutpop.local.config import Dirs

    env = {
        **os.environ,
        "BULUTPOP_CONFIG_DIR": str(home / "relay" / "config"),
        "BULUTPOP_DATA_DIR": str(home / "relay" / "data"),
        "BULUTPOP_API_KEY": DEMO_KEY,
        "BULUTPOP_API_URL": f"http://127.0.0.1:{free_port()}",
    }
    listen, api, broker = free_port(), free_port(), free_port()
    dirs = Dirs.from_env(env)
    config = replace(
        config_mod.load(dirs, env),
        listen_host="127.0.0.1",
        listen_port=listen,
        relay_host="127.0.0.1",
        relay_port=api,
        relay_url=f"http://127.0.0.1:{api}",
        broker_url=f"mqtt://127.0.0.1:{broker}",
        broker_public_url=f"mqtt://127.0.0.1:{broker}",
    )
    config_mod.save(dirs, config)
    return RelaySetup(env, config, listen, broker)

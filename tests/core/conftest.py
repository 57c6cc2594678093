"""Fixtures and helpers of the core tests: a store and tracker in the test's folder, the
webhook receiver, the fake PBX, the command line run as a subprocess, and the bundled
scenarios parsed or fed through a tracker."""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import subprocess
import sys
import urllib.request
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bulutpop.calls.events import CallEvent, parse_body
from bulutpop.calls.tracker import CallTracker
from bulutpop.devtools.fakepbx import FakePbxState, start
from bulutpop.local.config import Config, Dirs
from bulutpop.pbx.receiver import Receiver
from bulutpop.storage.store import Store
from tests.conftest import TEST_KEY, scenario
from tests.core.teamrig import TeamRig, make_rig

TOKEN = "t" * 40


@pytest.fixture
def store(isolated: object) -> Iterator[Store]:
    s = Store(Dirs.from_env().store_file)
    yield s
    s.close()


@pytest.fixture
def tracker(store: Store) -> CallTracker:
    return CallTracker(store, frozenset({"1001"}))


@dataclass
class Server:
    receiver: Receiver
    url: str  # the webhook URL with the right token
    base: str
    session: aiohttp.ClientSession

    async def post(self, body: bytes, url: str | None = None) -> tuple[int, str]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        async with self.session.post(url or self.url, data=body, headers=headers) as r:
            return r.status, await r.text()


@pytest.fixture
async def server(tracker: CallTracker) -> AsyncIterator[Server]:
    receiver = Receiver(tracker, TOKEN, "127.0.0.1", 0)
    await receiver.start()
    base = f"http://127.0.0.1:{receiver.port}"
    async with aiohttp.ClientSession() as session:
        yield Server(receiver, f"{base}/events/{TOKEN}", base, session)
    await receiver.stop()


def config(**values: object) -> Config:
    c = Config()
    for k, v in values.items():
        c = c.with_value(k, v)
    return c


def own_address() -> str:
    """This machine's address on its network: a connection to it from here never leaves the
    machine, yet does not come from loopback. Skips the test where there is none."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # sends nothing: only picks the route's address
            address = str(probe.getsockname()[0])
        except OSError:
            address = ""
    if not address or ipaddress.ip_address(address).is_loopback:
        pytest.skip("this machine has no address besides loopback")
    return address


def certificates(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate it signed for 127.0.0.1 (openssl, as an admin would)."""
    folder.mkdir()
    ca, ca_key = folder / "ca.pem", folder / "ca.key"
    cert, key, csr = folder / "relay.pem", folder / "relay.key", folder / "relay.csr"
    ext = folder / "ext.cnf"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    for command in (
        f"req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=office-ca -keyout {ca_key} -out {ca}",
        f"req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout {key} -out {csr}",
        f"x509 -req -in {csr} -CA {ca} -CAkey {ca_key} -CAcreateserial -days 2"
        f" -extfile {ext} -out {cert}",
    ):
        subprocess.run(["openssl", *command.split()], check=True, capture_output=True)
    return ca, cert, key


# --- a flood of connections -----------------------------------------------------------------


class Flood:
    """Connections to 127.0.0.1:`port` from `source`, opened as fast as `workers` can until
    the block ends (or `total` are made), each sending `send` and then nothing; the newest
    `keep` are held open (the server may close them). `made` counts the connections made."""

    def __init__(
        self,
        port: int,
        source: str,
        send: bytes = b"",
        keep: int = 100,
        workers: int = 2,
        total: int | None = None,
    ) -> None:
        self.port, self.source, self.send, self.keep = port, source, send, keep
        self.total = total
        self.made = 0
        self._held: deque[asyncio.StreamWriter] = deque()
        self._tasks = [asyncio.create_task(self._connect()) for _ in range(workers)]

    async def _connect(self) -> None:
        while self.total is None or self.made < self.total:
            try:
                async with asyncio.timeout(1):  # a server that accepts nothing more
                    _, writer = await asyncio.open_connection(
                        "127.0.0.1", self.port, local_addr=(self.source, 0)
                    )
                writer.write(self.send)
            except (OSError, TimeoutError):
                await asyncio.sleep(0)  # refused, or reset as it connected
                continue
            self.made += 1
            self._held.append(writer)
            if len(self._held) > self.keep:
                self._held.popleft().close()

    async def __aenter__(self) -> Flood:
        return self

    async def __aexit__(self, *_: object) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for writer in self._held:
            writer.close()


# --- the fake PBX --------------------------------------------------------------------------

FakePbx = tuple[FakePbxState, str]
"""The fake PBX's state and its base URL."""


@pytest.fixture
async def fake_pbx() -> AsyncIterator[FakePbx]:
    """The fake PBX API on 127.0.0.1, taking the test key."""
    state = FakePbxState(key=TEST_KEY)
    runner, base = await start(state)
    yield state, base
    await runner.cleanup()


class FakeClock:
    """Shared by the fake PBX and the client, so tests move time instead of sleeping:
    `advance` moves it, and `sleep` (the client's sleep) moves it and notes how long."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


# --- the command line ----------------------------------------------------------------------


def run_cli(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`bulutpop ARGS` as a subprocess, with `env` on top of the test's environment."""
    return subprocess.run(
        [sys.executable, "-m", "bulutpop", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


async def run_cli_async(*args: str, key: str = TEST_KEY, api: str = "") -> tuple[int, str, str]:
    """`bulutpop ARGS` as a subprocess with this API key and PBX address, and no terminal
    on its standard input; returns its exit code, output and errors."""
    env = {**os.environ, "BULUTPOP_API_KEY": key, "BULUTPOP_API_URL": api}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bulutpop",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def post_form(url: str, body: bytes) -> int:
    """POST a webhook body the way the PBX does; returns the HTTP status."""
    request = urllib.request.Request(
        url, data=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return int(response.status)


# --- the bundled scenarios -----------------------------------------------------------------


def events(name: str) -> list[CallEvent]:
    """The events of a bundled scenario, parsed."""
    out = []
    for body in scenario(name):
        parsed = parse_body(body)
        assert parsed.event is not None
        out.append(parsed.event)
    return out


def feed(tracker: CallTracker, *names: str) -> None:
    """Scenarios through the tracker as the webhook delivers them (with their bodies)."""
    for name in names:
        for body in scenario(name):
            parsed = parse_body(body)
            assert parsed.event is not None
            tracker.ingest_sync(parsed.event, body, "webhook")


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[TeamRig]:
    """A relay (in this process, with its managed Mosquitto) and agents' PCs to add."""
    team = await make_rig(tmp_path)
    yield team
    await team.close()

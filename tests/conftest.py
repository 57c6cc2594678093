"""Fixtures shared by every test: each test gets its own config and data directories and
an in-memory keyring, so no test can touch the user's real settings or keychain."""

from __future__ import annotations

import asyncio
import inspect
import os
import random
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import keyring
import pytest

from bulutpop.devtools.replay import bundled_scenarios, read_scenario
from bulutpop.local.keys import MemoryKeyring

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

TEST_KEY = "K12345678-1234-5678-4321-123456789012"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("BULUTPOP_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("BULUTPOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BULUTPOP_API_KEY", raising=False)
    monkeypatch.delenv("BULUTPOP_API_URL", raising=False)
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield tmp_path
    keyring.set_keyring(previous)


def as_another_user(code: str) -> list[str]:
    """A command running Python `code` as the account `nobody`, as another local user would.
    The interpreter starts as this test (its own files may be out of nobody's reach, under
    /root) and drops to nobody before `code` runs, so `code` uses only json, os, socket and
    sys. Tests run as root, here and in CI."""
    import pwd

    nobody = pwd.getpwnam("nobody")
    prelude = (
        "import json, os, socket, sys\n"
        f"os.setgroups([]); os.setgid({nobody.pw_gid}); os.setuid({nobody.pw_uid})\n"
    )
    return [sys.executable, "-c", prelude + code]


def scenario(name: str) -> list[bytes]:
    """The bodies of a bundled scenario (bulutpop/devtools/scenarios, from the PBX fixtures)."""
    (path,) = [p for p in bundled_scenarios() if p.name.startswith(name)]
    return read_scenario(path)


def free_port() -> int:
    """A port to listen on that nothing listens on now. Taken below Linux's ephemeral range
    (32768-60999): a port from inside it can be handed to some outgoing connection (a
    broker client, an HTTP request) before the server binds it."""
    while True:
        port = random.randrange(20000, 32768)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


def closed_port() -> int:
    """A port nothing listens on: the system's pick, let go again at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def until(
    check: Callable[[], bool | Awaitable[bool]],
    timeout: float = 10.0,
    what: str = "",
    interval: float = 0.02,
) -> None:
    """Poll `check` (a plain or an async predicate) until it holds; fails the test once
    `timeout` seconds have passed. `interval` is the pause between two checks."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(interval)


def until_sync(
    check: Callable[[], bool], timeout: float = 10.0, what: str = "", interval: float = 0.05
) -> None:
    """`until` for tests without an event loop: blocks between two checks."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        time.sleep(interval)


def app_env(port: int) -> dict[str, str]:
    """The environment of a tray app started as a subprocess (offscreen, with a key), whose
    settings say extension 1001 and the webhook on `port`."""
    env = {**os.environ, "BULUTPOP_API_KEY": TEST_KEY, "QT_QPA_PLATFORM": "offscreen"}
    for key, value in (("extension", "1001"), ("listen_port", str(port))):
        subprocess.run(
            [sys.executable, "-m", "bulutpop", "config", "set", key, value],
            env=env,
            check=True,
            capture_output=True,
        )
    return env


def open_files_limit(pid: int) -> int:
    """A process's soft limit on open files (Linux: /proc)."""
    limits = Path(f"/proc/{pid}/limits").read_text().splitlines()
    (line,) = [x for x in limits if x.startswith("Max open files")]
    return int(line.split()[3])


def open_files(pid: int) -> int:
    """How many files a process has open (Linux: /proc)."""
    return len(os.listdir(f"/proc/{pid}/fd"))


def wait_for_http(url: str, process: subprocess.Popen[str], timeout: float = 20.0) -> None:
    """Poll `url` until it answers (with any HTTP status), while `process` (which serves
    it) is still running."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except urllib.error.HTTPError as answer:
            answer.close()
            return
        except OSError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline, f"{url} did not answer"
            time.sleep(0.05)

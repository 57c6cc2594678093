"""Team mode from the command line, as an administrator and an agent run it: `bulutpop
relay` (with the Mosquitto it runs), `relay agent add` printing an invite, `team join` on
another profile, and `bulutpop serve` there receiving through the broker."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bulutpop.local.config import Config
from bulutpop.team.link import whoami
from bulutpop.team.protocol import Invite
from tests.conftest import TEST_KEY, free_port, until, wait_for_http
from tests.core.conftest import Flood, post_form, run_cli
from tests.core.teamrig import event


def _stop(process: subprocess.Popen[str]) -> str:
    process.terminate()
    assert process.wait(timeout=15) == 0
    assert process.stderr is not None
    return process.stderr.read()


@dataclass
class RelayProcess:
    env: dict[str, str]  # its profile
    webhook: str  # the URL the PBX posts to
    api: int  # the agents' API port
    log_file: Path  # its standard error

    @property
    def log(self) -> str:
        return self.log_file.read_text()


BULUTPOP = (sys.executable, "-m", "bulutpop")


@contextlib.contextmanager
def running_relay(
    tmp_path: Path,
    open_files: int | None = None,
    command: Sequence[str] = BULUTPOP,
    settings: Sequence[tuple[str, object]] = (),
    pbx: str = "",
) -> Iterator[RelayProcess]:
    """`bulutpop relay` (`command`, then `relay --allow-root`: the tests run as root) in its
    own profile, with these settings, the PBX API at `pbx` (default: nothing there) and
    at most `open_files` descriptors if given; stopped on the way out (its log kept in a
    file)."""
    env = {
        "BULUTPOP_CONFIG_DIR": str(tmp_path / "relay-config"),
        "BULUTPOP_DATA_DIR": str(tmp_path / "relay-data"),
        "BULUTPOP_API_KEY": TEST_KEY,
        "BULUTPOP_API_URL": pbx or f"http://127.0.0.1:{free_port()}",
    }
    listen, api, broker = free_port(), free_port(), free_port()
    for key, value in (
        ("listen_port", listen),
        ("relay_host", "127.0.0.1"),
        ("relay_port", api),
        ("relay_url", f"http://127.0.0.1:{api}"),
        ("broker_url", f"mqtt://127.0.0.1:{broker}"),
        ("broker_public_url", f"mqtt://127.0.0.1:{broker}"),
        *settings,
    ):
        assert run_cli("config", "set", key, str(value), env=env).returncode == 0

    def limit() -> None:
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    # Its log to a file, not a pipe: a pipe nobody reads would stop it once full.
    log = tmp_path / "relay.log"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [*command, "relay", "--allow-root"],
            stderr=stderr,
            text=True,
            env={**os.environ, **env},
            preexec_fn=limit,
            start_new_session=True,  # its own group, with the broker it starts
        )
    try:
        wait_for_http(f"http://127.0.0.1:{api}/health", process)
        wait_for_http(f"http://127.0.0.1:{listen}/health", process)
        webhook = run_cli("webhook-url", env=env).stdout.strip()
        yield RelayProcess(env, webhook, api, log)
        process.terminate()
        assert process.wait(timeout=15) == 0
    finally:
        with contextlib.suppress(ProcessLookupError):  # a relay that failed: all of it
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    assert TEST_KEY not in log.read_text()


@pytest.fixture
def relay(tmp_path: Path) -> Iterator[tuple[dict[str, str], str]]:
    """`bulutpop relay` in its own profile; yields its environment and webhook URL."""
    with running_relay(tmp_path) as running:
        yield running.env, running.webhook


@pytest.mark.slow
def test_an_invited_agent_receives_through_the_relay(
    relay: tuple[dict[str, str], str], tmp_path: Path
) -> None:
    relay_env, webhook = relay
    added = run_cli("relay", "agent", "add", "1001", "--display", "Ayşe", env=relay_env)
    assert added.returncode == 0, added.stderr
    invite = added.stdout.strip()
    assert invite.startswith("bulutpop-team:") and "send it privately" in added.stderr
    listed = run_cli("relay", "agent", "list", env=relay_env).stdout
    assert "agent1001" in listed and "Ayşe" in listed

    agent_env = {
        "BULUTPOP_CONFIG_DIR": str(tmp_path / "pc-config"),
        "BULUTPOP_DATA_DIR": str(tmp_path / "pc-data"),
    }
    memory = {"PYTHON_KEYRING_BACKEND": "bulutpop.local.keys.MemoryKeyring"}
    joined = run_cli("team", "join", stdin=invite + "\n", env={**agent_env, **memory})
    assert joined.returncode == 0, joined.stderr
    # That keyring lived in that process only: later commands get the secret from the
    # environment, as a kiosk PC would.
    secret = Invite.parse(invite).secret
    agent_env["BULUTPOP_TEAM_SECRET"] = secret
    status = run_cli("team", "status", env=agent_env)
    assert status.returncode == 0 and "agent agent1001, extension 1001" in status.stdout
    config_text = (tmp_path / "pc-config" / "config.toml").read_text()
    assert secret not in config_text and "team_agent" in config_text

    # Sent before the PC ever connected: `agent add` opened its session, so it waits there.
    assert post_form(webhook, event("cli-1")) == 200
    serve = subprocess.Popen(
        [sys.executable, "-m", "bulutpop", "serve"],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **agent_env},
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            calls = run_cli("calls", "--json", env=agent_env)
            if [c["call_uuid"] for c in json.loads(calls.stdout)] == ["cli-1"]:
                break
            assert time.monotonic() < deadline, calls.stderr
            time.sleep(0.2)
    finally:
        log = _stop(serve)
    assert secret not in log

    removed = run_cli("relay", "agent", "remove", "agent1001", env=relay_env)
    assert removed.returncode == 0
    refused = run_cli("team", "status", env=agent_env)
    assert refused.returncode == 1 and "removed from the team" in refused.stderr


def test_team_commands_explain_bad_input() -> None:
    bad = run_cli("team", "join", "bulutpop-team:garbage")
    assert bad.returncode == 2 and "copy the whole line again" in bad.stderr
    missing = run_cli("relay", "agent", "add")
    assert missing.returncode == 2 and "usage: bulutpop relay agent add EXTENSION" in missing.stderr
    not_ext = run_cli("relay", "agent", "add", "12a")
    assert not_ext.returncode == 2 and "is not an extension" in not_ext.stderr


@pytest.mark.slow
def test_an_agents_credential_in_a_malformed_request_stays_out_of_the_relays_log(
    tmp_path: Path,
) -> None:
    """aiohttp logs a request it cannot parse with the line it stopped at (the request line,
    query string and all, or a header): an agent's credential there is masked by its shape
    (the relay knows only hashes)."""
    with running_relay(tmp_path) as relay:
        added = run_cli("relay", "agent", "add", "1001", env=relay.env)
        assert added.returncode == 0, added.stderr
        secret = Invite.parse(added.stdout).secret
        broken = secret[:9] + "\n" + secret[9:]
        for line in (
            f"GET /pbx/queues?key=agent1001:{secret}\x01 HTTP/1.1\r\n\r\n",
            f"GET /pbx/queues?key=agent1001%3A{secret} HTTP/1.1\r\nBad Header\r\n\r\n",
            f"GET /pbx/queues?key=agent1001:{broken} HTTP/1.1\r\n\r\n",
            f"GET /pbx/queues HTTP/1.1\r\nAuthorization: Bearer agent1001:{secret}\x01\r\n\r\n",
        ):
            with socket.create_connection(("127.0.0.1", relay.api), timeout=10) as sock:
                sock.sendall(line.encode())
                assert sock.recv(100).startswith(b"HTTP/1.0 400")
    flat = relay.log.replace("\\n", "")
    assert flat.count("Error handling request") == 4, relay.log
    assert secret not in flat and secret[:9] not in flat, relay.log


@pytest.mark.slow
async def test_a_flood_on_the_agents_port_starves_neither_the_webhook_nor_the_agents(
    tmp_path: Path,
) -> None:
    # A relay with few descriptors (a service often gets 1,024; 512 keeps the flood small)
    # and more idle connections to its agents' API than that: the PBX's event is still
    # stored and an agent still answered, while the flood goes on.
    with running_relay(tmp_path, open_files=512) as relay:
        env, webhook, api = relay.env, relay.webhook, relay.api
        added = run_cli("relay", "agent", "add", "1001", env=env)
        invite = Invite.parse(added.stdout.strip())
        config = invite.apply(Config())
        async with Flood(api, "127.0.0.1", keep=700) as flood:
            # More connections than the relay has descriptors in all.
            await until(lambda: flood.made > 560, 10, "the flood to connect")
            async with asyncio.timeout(5), aiohttp.ClientSession() as session:
                async with session.post(
                    webhook,
                    data=event("during-flood"),
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                ) as response:
                    assert response.status == 200
                assert (await whoami(config, invite.secret))["agent"] == "agent1001"
        calls = json.loads(run_cli("calls", "--json", env=env).stdout)
        assert [c["call_uuid"] for c in calls] == ["during-flood"]
    # Before, asyncio logged this thousands of times a second: its descriptors were gone.
    assert "out of system resource" not in relay.log

"""The relay as an admin runs it: as a service (never as root, the key from a systemd
credential, no Qt), watched through `bulutpop relay status`, its agents changed in place,
and next to an external Mosquitto configured from packaging/mosquitto/. Real processes:
`bulutpop relay`, Mosquitto, an agent's `bulutpop serve`."""

from __future__ import annotations

import contextlib
import getpass
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulutpop.local.keys import KeyStore, MemoryKeyring
from bulutpop.team.protocol import Invite
from tests.conftest import TEST_KEY, free_port, until_sync
from tests.core.conftest import post_form, run_cli
from tests.core.teamrig import event
from tests.core.test_team_cli import RelayProcess, running_relay

ROOT = Path(__file__).resolve().parents[2]
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="the check is for a relay run as root")

# `bulutpop` in a process where Qt cannot be imported (as on a host without it), and where
# any attempt says so on standard error.
HEADLESS = """
import importlib.abc, sys
class NoQt(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6", "qasync"):
            print("QT IMPORT ATTEMPTED: " + name, file=sys.stderr)
            raise ImportError("no Qt on this host: " + name)
        return None
sys.meta_path.insert(0, NoQt())
from bulutpop.cli import main
sys.exit(main(sys.argv[1:]))
"""


def headless_cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HEADLESS, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


def status_of(relay: RelayProcess) -> tuple[int, dict[str, object]]:
    shown = run_cli("relay", "status", "--json", env=relay.env)
    return shown.returncode, json.loads(shown.stdout)


def agents_problems(status: dict[str, object]) -> list[str]:
    problems = status["problems"]
    assert isinstance(problems, list)
    return [p for p in problems if p.startswith("agent")]


def agent_status(relay: RelayProcess, name: str) -> dict[str, object]:
    agents = status_of(relay)[1]["agents"]
    assert isinstance(agents, list)
    return next(a for a in agents if a["name"] == name)


@contextlib.contextmanager
def agent_pc(tmp_path: Path, invite: str) -> Iterator[dict[str, str]]:
    """An agent's PC joined with `invite`, running `bulutpop serve` until the block ends."""
    env = {
        "BULUTPOP_CONFIG_DIR": str(tmp_path / "pc-config"),
        "BULUTPOP_DATA_DIR": str(tmp_path / "pc-data"),
        "BULUTPOP_TEAM_SECRET": Invite.parse(invite).secret,
    }
    memory = {"PYTHON_KEYRING_BACKEND": "bulutpop.local.keys.MemoryKeyring"}
    joined = run_cli("team", "join", stdin=invite + "\n", env={**env, **memory})
    assert joined.returncode == 0, joined.stderr
    serve = subprocess.Popen(
        [sys.executable, "-m", "bulutpop", "serve"],
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    try:
        yield env
    finally:
        serve.terminate()
        serve.wait(timeout=15)


def stored_calls(env: dict[str, str]) -> list[str]:
    return [c["call_uuid"] for c in json.loads(run_cli("calls", "--json", env=env).stdout)]


# -- running it as a service -------------------------------------------------------------


@as_root
def test_the_relay_refuses_to_run_as_root_unless_told_to(tmp_path: Path) -> None:
    env = {"BULUTPOP_CONFIG_DIR": str(tmp_path / "c"), "BULUTPOP_DATA_DIR": str(tmp_path / "d")}
    refused = run_cli("relay", env=env)
    assert refused.returncode == 2
    assert "does not run as root" in refused.stderr and "--allow-root" in refused.stderr


@as_root
@pytest.mark.slow
def test_a_relay_run_as_root_runs_its_broker_unprivileged(tmp_path: Path) -> None:
    with running_relay(tmp_path) as relay:
        pid = int((tmp_path / "relay-data" / "broker" / "mosquitto.pid").read_text())
        status = Path(f"/proc/{pid}/status").read_text()
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)\s+(\d+)", status, re.MULTILINE)
        assert uids is not None and "0" not in uids.groups(), status
        # It still reads the files root writes for it: a new agent is let in (the broker
        # re-reads them on the relay's SIGHUP) and gets what the PBX sends.
        added = run_cli("relay", "agent", "add", "1001", env=relay.env)
        assert added.returncode == 0, added.stderr
        with agent_pc(tmp_path, added.stdout.strip()) as pc:
            assert post_form(relay.webhook, event("as-root")) == 200
            until_sync(lambda: stored_calls(pc) == ["as-root"], 20, "the agent's PC to store it")
    assert "Unable to open" not in relay.log, relay.log


@as_root
def test_root_does_not_manage_a_relay_that_belongs_to_its_service_user(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, 65534, 65534)  # nobody's, as /var/lib/bulutpop is bulutpop's
    env = {"BULUTPOP_CONFIG_DIR": str(tmp_path / "c"), "BULUTPOP_DATA_DIR": str(data)}
    listed = run_cli("relay", "agent", "list", env=env)
    assert listed.returncode == 2 and "belongs to nobody" in listed.stderr
    assert "sudo -u nobody -H bulutpop relay" in listed.stderr
    assert not (data / "bulutpop.sqlite3").exists()


def test_the_api_key_comes_from_a_systemd_credential(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "api_key").write_text(TEST_KEY + "\n")
    keys = KeyStore({"CREDENTIALS_DIRECTORY": str(credentials)}, backend=MemoryKeyring())
    assert keys.get() == TEST_KEY and keys.status().source == "credential"
    # Without the variable (a desktop PC), the folder means nothing.
    assert KeyStore({}, backend=MemoryKeyring()).get() is None
    env = {
        "CREDENTIALS_DIRECTORY": str(credentials),
        "BULUTPOP_CONFIG_DIR": str(tmp_path / "c"),
        "BULUTPOP_DATA_DIR": str(tmp_path / "d"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    status = run_cli("key", "status", env={k: v for k, v in env.items()})
    assert status.returncode == 0 and "systemd credential" in status.stdout
    assert TEST_KEY not in status.stdout + status.stderr


@pytest.mark.slow
def test_the_relay_never_loads_qt(tmp_path: Path) -> None:
    """The relay, its agent and status commands run where PySide6 cannot be imported."""
    with running_relay(tmp_path, command=(sys.executable, "-c", HEADLESS)) as relay:
        added = headless_cli("relay", "agent", "add", "1001", env=relay.env)
        assert added.returncode == 0, added.stderr
        shown = headless_cli("relay", "status", env=relay.env)
        assert "agent1001" in shown.stdout, shown.stderr
        assert "QT IMPORT ATTEMPTED" not in added.stderr + shown.stderr
    assert "QT IMPORT ATTEMPTED" not in relay.log, relay.log


# -- status ---------------------------------------------------------------------------


@contextlib.contextmanager
def fake_pbx(folder: Path) -> Iterator[str]:
    """`bulutpop fake-pbx` on a free port, its profile in `folder`; yields its API URL."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "BULUTPOP_CONFIG_DIR": str(folder / "config"),
        "BULUTPOP_DATA_DIR": str(folder / "data"),
        "BULUTPOP_API_KEY": TEST_KEY,
        "BULUTPOP_API_URL": url,
    }
    pbx = subprocess.Popen(
        [sys.executable, "-m", "bulutpop", "fake-pbx", "--port", str(port)],
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
    )
    try:
        until_sync(lambda: run_cli("pbx-webhook", "show", env=env).returncode == 0, 20)
        yield url
    finally:
        pbx.terminate()
        pbx.wait(timeout=15)


@pytest.mark.slow
def test_status_shows_an_offline_agents_backlog_and_who_is_connected(tmp_path: Path) -> None:
    # No PBX answers its catch-up: that problem is reported too, beside the agents'.
    with running_relay(tmp_path) as relay:
        added = run_cli("relay", "agent", "add", "1001", "--display", "Ayşe", env=relay.env)
        invite = added.stdout.strip()
        until_sync(lambda: status_of(relay)[1]["broker"]["relay_connected"] is True)  # type: ignore[index]
        code, status = status_of(relay)
        assert code == 1 and agents_problems(status) == [], status
        assert any("catch-up failed" in p for p in status["problems"])  # type: ignore[attr-defined]
        assert agent_status(relay, "agent1001")["connected"] is False

        # Two calls for Ayşe while her PC is off: flagged, with the count (the office's
        # names, sent when her display name joined them, may wait for her too).
        for uuid in ("away-1", "away-2"):
            assert post_form(relay.webhook, event(uuid)) == 200
        until_sync(lambda: agent_status(relay, "agent1001")["waiting"] in (2, 3))
        code, status = status_of(relay)
        agents = status["agents"]
        assert isinstance(agents, list) and len(agents) == 1
        waiting = agents[0]["waiting"]
        assert code == 1 and waiting in (2, 3)
        assert agents_problems(status) == [
            f"agent agent1001 (1001) is offline with {waiting} message(s) waiting"
        ]
        assert isinstance(status["pbx"], dict) and status["pbx"]["last_event"] is not None
        text = run_cli("relay", "status", env=relay.env)
        assert text.returncode == 1
        assert "OFFLINE" in text.stdout and "message(s) waiting" in text.stdout, text.stdout

        with agent_pc(tmp_path, invite) as pc:
            until_sync(lambda: agent_status(relay, "agent1001")["connected"] is True, 20)
            until_sync(lambda: stored_calls(pc) == ["away-1", "away-2"], 20)
            assert agents_problems(status_of(relay)[1]) == []
            assert "connected since" in run_cli("relay", "status", env=relay.env).stdout
        # Gone again, with nothing new for it: offline, not flagged.
        until_sync(lambda: agent_status(relay, "agent1001")["connected"] is False, 20)
        assert agents_problems(status_of(relay)[1]) == []

        # The endpoint answers only to the status token, and never shows a secret.
        url = f"http://127.0.0.1:{relay.api}/team/status"
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(url, timeout=10)
        assert refused.value.code == 401
        token = run_cli("relay", "status", "--token", env=relay.env).stdout.strip()
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            body = answer.read().decode()
        assert "agent1001" in body and Invite.parse(invite).secret not in body
        assert TEST_KEY not in body and token not in body
    stopped = run_cli("relay", "status", env=relay.env)
    assert stopped.returncode == 1 and "NOT RUNNING" in stopped.stdout
    assert "agent1001" in stopped.stdout


# -- admin -----------------------------------------------------------------------------


@pytest.mark.slow
def test_agents_are_named_by_extension_and_changed_without_a_new_invite(tmp_path: Path) -> None:
    with running_relay(tmp_path) as relay:
        added = run_cli("relay", "agent", "add", "1001", env=relay.env)
        invite = added.stdout.strip()
        # Where the invite sends the PC, and how to change it.
        assert "broker at mqtt://127.0.0.1:" in added.stderr
        assert f"relay at http://127.0.0.1:{relay.api}" in added.stderr

        changed = run_cli(
            "relay", "agent", "set", "1001", "--queues", "200", "--display", "Ayşe Y",
            env=relay.env,
        )  # fmt: skip
        assert changed.returncode == 0, changed.stderr
        listed = run_cli("relay", "agent", "list", env=relay.env).stdout
        assert re.search(r"agent1001\s+ext 1001\s+queues 200\s+Ayşe Y", listed), listed
        with agent_pc(tmp_path, invite) as pc:
            # A call missed in queue 200 reaches them through the old invite.
            missed = event("q-1", destination_number="200", dialed_user="1005")
            assert post_form(relay.webhook, missed) == 200
            until_sync(lambda: stored_calls(pc) == ["q-1"], 20)

        unknown = run_cli("relay", "agent", "set", "1009", "--display", "X", env=relay.env)
        assert unknown.returncode == 2 and "no agent named '1009'" in unknown.stderr
        removed = run_cli("relay", "agent", "remove", "1001", env=relay.env)
        assert removed.returncode == 0 and "agent1001 removed" in removed.stderr
        assert run_cli("relay", "agent", "list", env=relay.env).stdout == ""


def test_invites_say_where_the_machine_name_was_guessed(tmp_path: Path) -> None:
    env = {"BULUTPOP_CONFIG_DIR": str(tmp_path / "c"), "BULUTPOP_DATA_DIR": str(tmp_path / "d")}
    added = run_cli("relay", "agent", "add", "1001", env=env)
    assert added.returncode == 0, added.stderr
    assert "broker_public_url and relay_url is not set" in added.stderr
    assert "bulutpop config set broker_public_url" in added.stderr


def test_registering_the_webhook_before_the_receiver_runs_says_what_to_do(
    tmp_path: Path,
) -> None:
    with fake_pbx(tmp_path / "pbx") as pbx:
        env = {
            "BULUTPOP_CONFIG_DIR": str(tmp_path / "c"),
            "BULUTPOP_DATA_DIR": str(tmp_path / "d"),
            "BULUTPOP_API_KEY": TEST_KEY,
            "BULUTPOP_API_URL": pbx,
        }
        failed = run_cli("pbx-webhook", "register", "--yes", env=env)
    assert failed.returncode == 1
    assert "start what receives there first" in failed.stderr, failed.stderr
    # The URL's token is masked as what it is, not as an API key.
    assert "<webhook token>" in failed.stderr and "K********" not in failed.stderr


# -- an external broker ------------------------------------------------------------------


def external_mosquitto_conf(folder: Path, relay_data: Path, port: int) -> Path:
    """packaging/mosquitto/bulutpop.conf as an admin installs it, with this test's folders
    and port, and without the public TLS listener (its certificate is the admin's)."""
    text = (ROOT / "packaging" / "mosquitto" / "bulutpop.conf").read_text()
    text = text.split("\nlistener 8883")[0]
    for old, new in (
        ("/var/lib/bulutpop/broker/", f"{relay_data}/broker/"),
        ("persistence_location /var/lib/mosquitto/", f"persistence_location {folder}/db/"),
        ("listener 1883 127.0.0.1", f"listener {port} 127.0.0.1"),
        ("user bulutpop", f"user {getpass.getuser()}"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    (folder / "db").mkdir(parents=True)
    conf = folder / "mosquitto.conf"
    conf.write_text(f"pid_file {folder}/mosquitto.pid\nlog_dest stderr\n{text}")
    return conf


@pytest.mark.slow
def test_the_relay_works_with_an_external_mosquitto(tmp_path: Path) -> None:
    port = free_port()
    folder = tmp_path / "system-mosquitto"
    conf = external_mosquitto_conf(folder, tmp_path / "relay-data", port)
    settings = [
        ("broker_managed", "false"),
        ("broker_url", f"mqtt://127.0.0.1:{port}"),
        ("broker_public_url", f"mqtt://127.0.0.1:{port}"),
        ("broker_pid_file", str(folder / "mosquitto.pid")),
    ]
    mosquitto: subprocess.Popen[bytes] | None = None
    try:
        # The order docs/team.md gives: the relay first (it writes the broker's user and
        # ACL files), then the broker, which needs them.
        with running_relay(tmp_path, settings=settings) as relay:
            mosquitto = subprocess.Popen(
                ["/usr/sbin/mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL
            )
            until_sync(lambda: status_of(relay)[1]["broker"]["relay_connected"] is True, 30)  # type: ignore[index]
            added = run_cli("relay", "agent", "add", "1001", env=relay.env)
            assert added.returncode == 0 and "note:" not in added.stderr, added.stderr
            status = status_of(relay)[1]
            assert status["broker"]["managed"] is False  # type: ignore[index]
            assert agent_status(relay, "agent1001")["connected"] is None  # unknown
            with agent_pc(tmp_path, added.stdout.strip()) as pc:
                time.sleep(0)  # the session is open since `agent add`: no race to wait out
                assert post_form(relay.webhook, event("external-1")) == 200
                until_sync(lambda: stored_calls(pc) == ["external-1"], 20)
    finally:
        if mosquitto is not None:
            mosquitto.terminate()
            mosquitto.wait(timeout=15)


# -- the systemd unit ----------------------------------------------------------------------


def test_the_systemd_unit_is_sandboxed_and_verifies(tmp_path: Path) -> None:
    unit = (ROOT / "packaging" / "linux" / "bulutpop-relay.service").read_text()
    for line in (
        "User=bulutpop",
        "ExecStart=/opt/bulutpop/bin/bulutpop relay",
        "LoadCredential=api_key:/etc/bulutpop/api_key",
        "Restart=on-failure",
        "StateDirectory=bulutpop",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "NoNewPrivileges=yes",
        "LimitNOFILE=16384",
    ):
        assert f"\n{line}\n" in unit, line
    analyze = "/usr/bin/systemd-analyze"
    if not Path(analyze).exists():
        pytest.skip("systemd-analyze is not installed (Debian: systemd)")
    # As installed: ExecStart must exist, so point it at this environment's bulutpop.
    bulutpop = Path(sys.executable).parent / "bulutpop"
    assert bulutpop.exists(), bulutpop
    copy = tmp_path / "bulutpop-relay.service"
    copy.write_text(unit.replace("/opt/bulutpop/bin/bulutpop", str(bulutpop)))
    verified = subprocess.run(
        [analyze, "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert verified.returncode == 0, verified.stderr
    assert "bulutpop-relay.service" not in verified.stderr, verified.stderr

"""The command line as a user runs it: real subprocesses, real HTTP, a real store file."""

from __future__ import annotations

import asyncio
import json
import resource
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulutpop import __version__
from bulutpop.app.guard import OPEN_FILES
from bulutpop.cli import run_async
from bulutpop.local.config import Dirs
from tests.conftest import TEST_KEY, free_port, open_files_limit, scenario, wait_for_http
from tests.core.conftest import own_address, post_form, run_cli


@pytest.fixture
def serve() -> Iterator[str]:
    """`bulutpop serve` on a free port; yields the webhook URL."""
    port = free_port()
    assert run_cli("config", "set", "listen_port", str(port)).returncode == 0
    assert run_cli("config", "set", "extension", "1001").returncode == 0
    url = run_cli("webhook-url").stdout.strip()
    process = subprocess.Popen(
        [sys.executable, "-m", "bulutpop", "serve"],
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for_http(f"http://127.0.0.1:{port}/health", process)
    yield url
    process.terminate()
    assert process.wait(timeout=10) == 0
    assert process.stderr is not None
    log = process.stderr.read()
    assert "stopping" in log
    assert "allow_from" not in log  # on loopback, no one else can connect
    assert url.rsplit("/", 1)[1] not in log  # the token never reaches the log


def test_scenarios_end_as_the_right_calls_and_groups(serve: str) -> None:
    for name in ("01", "02", "03", "04", "06", "07"):
        for body in scenario(name):
            assert post_form(serve, body) == 200
    calls = json.loads(run_cli("calls", "--json").stdout)
    by_uuid = {c["call_uuid"][:8]: c for c in calls}
    assert set(by_uuid) == {"6f1c2b1e", "0b7f3d55", "a3e91c0d", "5d2a8e61", "c0ffee00"}
    assert {k for k, c in by_uuid.items() if c["missed"]} == {"0b7f3d55", "c0ffee00"}
    assert by_uuid["5d2a8e61"]["connected_user"] == "1003"
    assert by_uuid["6f1c2b1e"]["start"] == "2026-11-20T09:15:02+03:00"
    for field in (
        "direction",
        "caller",
        "destination",
        "dialed_user",
        "queue",
        "answered",
        "duration",
        "recording",
    ):
        assert all(field in c for c in calls)

    missed = json.loads(run_cli("calls", "--missed", "--json").stdout)
    assert [(g["number"], g["count"]) for g in missed] == [("1002", 1), ("+905321234567", 1)]
    assert missed[1]["display"] == "0532 123 45 67" and missed[1]["resolved"] is False

    for body in scenario("05"):
        assert post_form(serve, body) == 200
    missed = json.loads(run_cli("calls", "--missed", "--json").stdout)
    assert [g["number"] for g in missed] == ["1002"]
    everything = json.loads(run_cli("calls", "--missed", "--all", "--json").stdout)
    assert {g["number"]: g["resolved"] for g in everything} == {
        "1002": False,
        "+905321234567": True,
    }


def test_port_in_use_exits_1_naming_the_port() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    assert result.returncode == 1
    assert str(port) in result.stderr and "listen_port" in result.stderr


@pytest.mark.slow
def test_in_team_mode_the_invites_settings_are_not_changed_by_hand() -> None:
    assert run_cli("config", "set", "extension", "1001").returncode == 0
    for key, value in [
        ("team_broker", "mqtts://relay.example:8883"),
        ("team_relay", "https://relay.example:8443"),
        ("team_agent", "ayse"),
    ]:
        assert run_cli("config", "set", key, value).returncode == 0
    result = run_cli("config", "set", "extension", "1002")
    assert result.returncode == 2 and "team leave" in result.stderr
    assert run_cli("config", "set", "team_queues", "200").returncode == 2
    assert run_cli("config", "get", "extension").stdout.strip() == "1001"
    assert run_cli("config", "set", "ring_sound", "false").returncode == 0  # the PC's own


def test_config_set_refuses_bad_values_with_exit_2() -> None:
    before = run_cli("config", "get", "listen_port").stdout.strip()
    result = run_cli("config", "set", "listen_port", "99999")
    assert result.returncode == 2 and "listen_port" in result.stderr
    assert run_cli("config", "set", "nonsense", "1").returncode == 2
    assert run_cli("config", "get", "listen_port").stdout.strip() == before


def test_config_file_is_toml_with_a_token_and_no_key(isolated: Path) -> None:
    run_cli("key", "set", stdin=TEST_KEY + "\n")
    path = Path(run_cli("config", "path").stdout.strip())
    text = path.read_text()
    assert "token = " in text and TEST_KEY not in text
    show = run_cli("config", "show").stdout
    assert "listen_port = '" in show and "token" not in show


def test_key_set_from_stdin_and_status() -> None:
    # The test keyring lives in this process only, so the subprocess uses the environment.
    result = run_cli("key", "status", env={"BULUTPOP_API_KEY": TEST_KEY})
    assert result.returncode == 0 and "environment" in result.stdout
    assert TEST_KEY not in result.stdout + result.stderr


def test_dial_invalid_number_exits_2() -> None:
    result = run_cli("dial", "12ab", env={"BULUTPOP_API_KEY": TEST_KEY})
    assert result.returncode == 2 and "'12ab'" in result.stderr


def test_dial_without_key_says_what_to_do() -> None:
    run_cli("config", "set", "extension", "1001")
    result = run_cli(
        "dial", "05321234567", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
    )
    assert result.returncode == 1 and "bulutpop key set" in result.stderr


@pytest.mark.slow
def test_version_and_help() -> None:
    assert run_cli("--version").stdout.startswith("bulutpop ")
    for command in ("serve", "calls", "dial", "key", "config", "recording", "webhook-url"):
        assert run_cli(command, "--help").returncode == 0


# A windowed Windows program starts with no standard streams (the bundle's bulutpop.exe).
_WINDOWED = (
    "import sys; sys.stdin = sys.stdout = sys.stderr = None; "
    "from bulutpop.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (["--version"], 0, f"bulutpop {__version__}"),
        (["key", "set"], 2, "The API key is empty"),  # an empty input
        (["dial", "abc"], 2, "abc"),
    ],
)
def test_a_windowed_program_without_streams_writes_its_output_to_cli_log(
    isolated: Path, args: list[str], code: int, says: str
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WINDOWED, *args], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == code
    assert done.stdout == done.stderr == ""
    log = Dirs.from_env().data / "cli.log"
    assert says in log.read_text(encoding="utf-8")
    assert log.stat().st_mode & 0o777 == 0o600


# Uninstall's "delete my data" (packaging/windows/bulutpop.iss, install.sh --purge) runs
# `key delete --all`: with the program's own keyring code, in a process of its own.
_DELETE_ALL = """
import keyring, sys
from bulutpop.cli import main
from bulutpop.local.keys import MemoryKeyring
ring = MemoryKeyring()
keyring.set_keyring(ring)
ring.set_password("bulutpop", "api_key", sys.argv[1])
ring.set_password("bulutpop", "team_secret", "a-team-secret")
code = main(["key", "delete", "--all"])
left = [name for name in ("api_key", "team_secret") if ring.get_password("bulutpop", name)]
print("left:", left)
sys.exit(code)
"""


def test_deleting_all_secrets_removes_the_team_secret_too(isolated: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", _DELETE_ALL, TEST_KEY], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "left: []" in done.stdout
    assert "API key deleted." in done.stdout and "Team secret deleted." in done.stdout


class _ProactorStandIn(asyncio.SelectorEventLoop):
    """What Windows' default policy makes: a loop that is not the plain selector loop."""


class _WindowsLikePolicy(asyncio.DefaultEventLoopPolicy):
    def new_event_loop(self) -> asyncio.AbstractEventLoop:
        return _ProactorStandIn()


def test_commands_run_on_a_selector_loop_whatever_the_systems_default() -> None:
    async def loop_kind() -> type[asyncio.AbstractEventLoop]:
        return type(asyncio.get_running_loop())

    previous = asyncio.get_event_loop_policy()
    asyncio.set_event_loop_policy(_WindowsLikePolicy())
    try:
        assert run_async(loop_kind()) is asyncio.SelectorEventLoop
    finally:
        asyncio.set_event_loop_policy(previous)


def test_the_relay_says_where_it_runs_on_windows(isolated: Path) -> None:
    # In a process of its own: main() sets up the process's logging and umask.
    code = (
        "import sys; from bulutpop.cli import main; sys.platform = 'win32'; "
        "sys.exit(main(['relay']))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert "runs on Linux or macOS only" in done.stderr


@pytest.mark.skipif(not Path("/proc/self/limits").exists(), reason="reads /proc (Linux)")
def test_serve_raises_its_limit_on_open_files() -> None:
    # A service often starts with a soft limit of 1,024 (here 256) under a far higher hard one.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard <= 256:
        pytest.skip("the hard limit leaves nothing to raise")
    port = free_port()
    assert run_cli("config", "set", "listen_port", str(port)).returncode == 0
    process = subprocess.Popen(
        [sys.executable, "-m", "bulutpop", "serve"],
        stderr=subprocess.DEVNULL,
        text=True,
        preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard)),
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", process)
        assert open_files_limit(process.pid) == min(hard, OPEN_FILES)
    finally:
        process.terminate()
        process.wait(timeout=10)


@pytest.mark.parametrize("allow_from", ["", "{me}/32"], ids=["open", "allowed"])
def test_serve_open_to_the_network_warns_without_allow_from(allow_from: str) -> None:
    me = own_address()
    if allow_from:
        setting = run_cli("config", "set", "allow_from", allow_from.format(me=me))
        assert setting.returncode == 0
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "bulutpop", "serve", "--host", me, "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for_http(f"http://{me}:{port}/health", process)
    finally:
        process.terminate()
        _, log = process.communicate(timeout=10)
    warned = [line for line in log.splitlines() if "set allow_from" in line]
    assert len(warned) == (0 if allow_from else 1)
    assert not warned or me in warned[0]

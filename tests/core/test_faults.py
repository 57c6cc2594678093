"""Faults a call-centre PC meets: the process killed mid-burst, a damaged or read-only
store, a failing keyring, and the API key trying to leak through errors and crashes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from bulutpop.local.config import Dirs
from bulutpop.storage.store import Store
from tests.conftest import TEST_KEY, free_port, until_sync, wait_for_http
from tests.core.conftest import post_form, run_cli


def start_serve(port: int, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "bulutpop", "serve", "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )
    wait_for_http(f"http://127.0.0.1:{port}/health", process)
    return process


@pytest.mark.slow
def test_every_acknowledged_event_survives_sigkill_mid_burst() -> None:
    assert run_cli("config", "set", "extension", "1001").returncode == 0
    url = run_cli("webhook-url").stdout.strip()
    port = free_port()
    configured = run_cli("config", "get", "listen_port").stdout.strip()
    url = url.replace(f":{configured}/", f":{port}/")
    server = start_serve(port)
    acknowledged: list[bytes] = []
    lock = threading.Lock()
    stop = threading.Event()

    def sender(n: int) -> None:
        for i in range(100_000):
            if stop.is_set():
                return
            body = (
                f"event_type=ringing&call_uuid=kill-{n}-{i}&dialed_user=1001"
                f"&caller_id_number=0532123{n:02d}{i % 100:02d}&start_stamp=2026-11-20 10:00:00"
            ).encode()
            try:
                status = post_form(url, body)
            except (OSError, urllib.error.URLError):
                return
            if status == 200:
                with lock:
                    acknowledged.append(body)

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    # Killed in the middle of the burst: once it is well under way.
    until_sync(lambda: len(acknowledged) >= 200, 20, "a burst of acknowledged events")
    server.send_signal(signal.SIGKILL)
    server.wait(10)
    stop.set()
    for thread in threads:
        thread.join(20)
    assert len(acknowledged) > 50

    again = start_serve(port)  # the store opens cleanly after the kill
    again.terminate()
    assert again.wait(10) == 0
    store = Store(Dirs.from_env().store_file)
    try:
        stored = {raw for _, raw in store.raw_events()}
        assert [b for b in acknowledged if b not in stored] == []
        assert store.count_calls() == len(stored)
    finally:
        store.close()
    with sqlite3.connect(Dirs.from_env().store_file) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_corrupt_store_is_reported_and_left_for_the_user() -> None:
    path = Dirs.from_env().store_file
    path.parent.mkdir(parents=True)
    path.write_bytes(b"this is not a database" * 100)
    result = run_cli("calls")
    assert result.returncode == 1
    assert str(path) in result.stderr and "move it aside" in result.stderr
    assert path.read_bytes().startswith(b"this is not a database")  # nothing overwritten


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_read_only_store_is_reported() -> None:
    assert run_cli("calls").returncode == 0
    folder = Dirs.from_env().data
    for child in folder.iterdir():
        child.chmod(0o444)
    folder.chmod(0o555)
    try:
        result = run_cli("calls")
        assert result.returncode == 1 and "store" in result.stderr
    finally:
        folder.chmod(0o755)


def test_failing_keyring_says_what_to_do() -> None:
    result = run_cli(
        "key",
        "set",
        stdin=TEST_KEY,
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    assert result.returncode == 1
    assert "BULUTPOP_API_KEY" in result.stderr and TEST_KEY not in result.stderr + result.stdout


@pytest.mark.slow
def test_the_key_leaks_nowhere_in_a_full_session(isolated: Path) -> None:
    """Serve, dial against a PBX that echoes the key in its errors, a failing keyring, and a
    crash whose message carries the key: then grep every output and file for it."""
    outputs: list[str] = []
    env = {"BULUTPOP_API_KEY": TEST_KEY}
    fake = subprocess.Popen(
        [sys.executable, "-m", "bulutpop", "fake-pbx", "--port", str(pbx_port := free_port())],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BULUTPOP_API_KEY": "K00000000-0000-0000-0000-000000000000"},
    )
    try:
        wait_for_http(f"http://127.0.0.1:{pbx_port}/", fake)
        api = {"BULUTPOP_API_URL": f"http://127.0.0.1:{pbx_port}"}
        outputs += _texts(run_cli("config", "set", "extension", "1001", env=env))
        outputs += _texts(run_cli("key", "set", stdin=TEST_KEY, env={**env, **api}))
        # The fake PBX's own key differs, so it answers with the key echoed back.
        outputs += _texts(run_cli("dial", "05321234567", env={**env, **api}))
        outputs += _texts(run_cli("recording", "abc", env={**env, **api}))
        outputs += _texts(
            run_cli(
                "dial",
                "05321234567",
                env={**env, **api, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
            )
        )
        port = free_port()
        server = start_serve(port, env)
        server.terminate()
        server.wait(10)
        outputs += [server.stderr.read() if server.stderr else ""]
        crash = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; import bulutpop.cli as cli\n"
                "def boom(core, args):\n"
                f"    raise RuntimeError('while sending key={TEST_KEY}')\n"
                "cli.COMMANDS['calls'] = boom\n"
                "sys.exit(cli.main(['calls']))",
            ],
            capture_output=True,
            text=True,
            env={**os.environ, **env},
        )
        assert crash.returncode == 1 and "Traceback" in crash.stderr
        outputs += [crash.stdout, crash.stderr]
    finally:
        fake.terminate()
        fake.wait(10)
    assert any("Gecersiz" in o or "key" in o.lower() for o in outputs)
    for text in outputs:
        assert TEST_KEY not in text
    for path in isolated.rglob("*"):
        if path.is_file():
            assert TEST_KEY.encode() not in path.read_bytes(), path


def _texts(result: subprocess.CompletedProcess[str]) -> list[str]:
    return [result.stdout, result.stderr]

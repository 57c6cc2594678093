"""The hand-off socket is this user's alone: another account that takes its name first (in
the shared /tmp of old, or by a socket of theirs placed where ours goes) receives none of
the numbers handed over, and the app does not exit but becomes the instance itself."""

from __future__ import annotations

import getpass
import hashlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QDir
from pytestqt.qtbot import QtBot

from bulutpop.local.config import Dirs
from bulutpop.ui.handoff import InstanceServer, hand_over, server_name
from tests.conftest import app_env, as_another_user, free_port, wait_for_http
from tests.ui.conftest import hand_over_later

pytestmark = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0, reason="acts as another user: Unix, as root"
)

NUMBER = "tel:+905321234567"

# Another account's server: takes every hand-over it gets, says "ok" and prints it.
SQUATTER = """
path = sys.argv[1]
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(path)
os.chmod(path, 0o777)
server.listen(5)
print("listening", flush=True)
while True:
    conn, _ = server.accept()
    with conn:
        conn.settimeout(5)
        data = b""
        try:
            while not data.endswith(b"\\n"):
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
        if data:
            print(data.decode().strip(), flush=True)
            conn.sendall(b"ok\\n")
"""


@pytest.fixture
def no_runtime_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    """The socket goes into the data folder (as on a system without $XDG_RUNTIME_DIR)."""
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)


@pytest.fixture
def squatter_at() -> Iterator[list[tuple[subprocess.Popen[str], Path]]]:
    """Squatters started with `squat`; stopped, and their sockets removed, at the end."""
    started: list[tuple[subprocess.Popen[str], Path]] = []
    yield started
    for process, path in started:
        process.kill()
        process.wait()
        path.unlink(missing_ok=True)


def squat(started: list[tuple[subprocess.Popen[str], Path]], path: Path) -> None:
    process = subprocess.Popen(
        [*as_another_user(SQUATTER), str(path)], stdout=subprocess.PIPE, text=True
    )
    started.append((process, path))
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "listening"


def received(process: subprocess.Popen[str]) -> str:
    process.kill()
    out, _ = process.communicate()
    return out


def becomes_the_instance(qtbot: QtBot, name: str) -> None:
    """What a start does (`bulutpop.ui.app`): hand over, else listen; then a later start of
    the same user's hands over to it."""
    assert not hand_over(name, [NUMBER])  # nobody of ours is there: not handed over
    server = InstanceServer(name)
    assert server.listening
    with qtbot.waitSignal(server.received, timeout=10_000) as blocker:
        later = hand_over_later(name, ["later"])
    assert blocker.args == [["later"]]
    assert later.wait(timeout=10) == 0
    server.close()


def test_a_squatter_at_the_old_name_in_tmp_gets_no_number(
    qtbot: QtBot, no_runtime_dir: None, squatter_at: list[tuple[subprocess.Popen[str], Path]]
) -> None:
    data = Dirs.from_env().data
    digest = hashlib.sha256(str(data.resolve()).encode()).hexdigest()[:12]
    old = Path(QDir.tempPath(), f"bulutpop-{getpass.getuser()}-{digest}")
    squat(squatter_at, old)
    becomes_the_instance(qtbot, server_name(data))
    assert NUMBER not in received(squatter_at[0][0])


def test_with_a_squatter_in_tmp_the_app_starts_instead_of_exiting(
    isolated: Path, no_runtime_dir: None, squatter_at: list[tuple[subprocess.Popen[str], Path]]
) -> None:
    """The attack as it was seen: `bulutpop tel:…` handed its number to the squatter and
    exited; now it starts, and takes the call link itself."""
    data = Dirs.from_env().data
    digest = hashlib.sha256(str(data.resolve()).encode()).hexdigest()[:12]
    squat(squatter_at, Path(QDir.tempPath(), f"bulutpop-{getpass.getuser()}-{digest}"))
    port = free_port()
    env = app_env(port)
    app = subprocess.Popen(
        [sys.executable, "-m", "bulutpop", NUMBER], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", app, timeout=30)
    finally:
        app.send_signal(signal.SIGTERM)
        assert app.wait(timeout=20) == 0
    assert app.stderr is not None
    assert f"handed over: {NUMBER}" in app.stderr.read()
    assert NUMBER not in received(squatter_at[0][0])


def test_another_users_socket_in_our_place_is_not_handed_over(
    qtbot: QtBot, no_runtime_dir: None, squatter_at: list[tuple[subprocess.Popen[str], Path]]
) -> None:
    """Should their socket ever sit where ours goes, its owner is checked (SO_PEERCRED)."""
    name = server_name(Dirs.from_env().data)
    theirs = Path(tempfile.mkdtemp())  # a folder of nobody's, where they can make a socket
    try:
        shutil.chown(theirs, "nobody")
        squat(squatter_at, theirs / "s")
        place = Path(QDir.tempPath(), name)  # where Qt puts a name that is not a path
        os.rename(theirs / "s", place)
        squatter_at[0] = (squatter_at[0][0], place)
        becomes_the_instance(qtbot, name)
        assert NUMBER not in received(squatter_at[0][0])
    finally:
        shutil.rmtree(theirs)


def test_the_socket_is_in_the_private_runtime_folder_else_the_data_folder(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    run = tmp_path / "run"
    run.mkdir(mode=0o700)
    in_run = server_name(data, {"XDG_RUNTIME_DIR": str(run)})
    assert Path(in_run).parent == run
    run.chmod(0o755)  # a runtime folder others may enter is not used
    in_data = Path(server_name(data, {"XDG_RUNTIME_DIR": str(run)}))
    assert in_data.parent == data
    assert stat.S_IMODE(data.stat().st_mode) == 0o700

"""Another account on the same computer reads nothing of bulutpop's: not the relay's store
(its broker password and link-signing secret) or broker files, not the desktop's call
history, log, settings or recordings. Every folder the app makes is 0700 and every file it
writes 0600 from its first moment, whatever the umask; an older install is tightened."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bulutpop.app.core import Core, file_handler
from bulutpop.devtools.fakepbx import tone_wav
from bulutpop.local import config as config_mod
from bulutpop.local.config import Dirs
from tests.conftest import TEST_KEY, as_another_user, until
from tests.core.teamrig import event, make_rig

pytestmark = pytest.mark.skipif(
    os.name != "posix" or os.geteuid() != 0, reason="acts as another user: Unix, as root"
)


@pytest.fixture
def umask_zero() -> Iterator[None]:
    """No help from the umask: what is private is so by the mode it was made with."""
    previous = os.umask(0)
    yield
    os.umask(previous)


@contextlib.asynccontextmanager
async def a_session(root: Path) -> AsyncIterator[None]:
    """What a real session writes, still running (the stores' -wal and -shm, Mosquitto's pid
    file exist): the relay takes a call from the PBX and routes it through its broker to an
    agent's PC, which stores it, logs (enough to rotate its log) and downloads the call's
    recording through the relay, once into its cache and once more with `bulutpop
    recording` to a file of the user's."""
    rig = await make_rig(root)
    try:
        pc = await rig.pc("1001")
        await pc.start()
        rig.pbx.recordings["c-1"] = tone_wav(0.5)
        hangup = event("c-1", "hangup", answered="true", recording_present="true")
        assert await rig.post(event("c-1"), hangup) == [200, 200]
        await until(lambda: pc.call_uuids() == ["c-1", "c-1"], what="the agent's PC to store")
        await rig.outbox_empty()
        async with pc.core.client() as client:
            await pc.core.recordings.fetch(client, "c-1")
        data = pc.core.dirs.data
        proc = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bulutpop", "recording", "c-1", "-o", str(data / "saved.wav")],
            env={
                **os.environ,
                "BULUTPOP_CONFIG_DIR": str(pc.core.dirs.config),
                "BULUTPOP_DATA_DIR": str(data),
                "BULUTPOP_TEAM_SECRET": pc.invite.secret,
            },
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert proc.returncode == 0, proc.stderr
        logger = logging.getLogger("tests.private")
        logger.propagate = False
        handler = file_handler(data / "bulutpop.log")
        logger.addHandler(handler)
        try:
            for n in range(2_100):  # past 2 MB: the log rotates
                logger.warning("call %s from 05321234567 %s", n, "." * 1000)
        finally:
            logger.removeHandler(handler)
            handler.close()
        assert (data / "bulutpop.log.1").exists()
        yield
    finally:
        await rig.close()


def everything_in(root: Path) -> list[Path]:
    return sorted(
        Path(folder, name) for folder, dirs, files in os.walk(root) for name in dirs + files
    )


@pytest.fixture
def home() -> Iterator[Path]:
    """A folder other accounts may enter, as many home folders are (pytest's own temporary
    folders are private to root, which would hide what is inside)."""
    folder = Path(tempfile.mkdtemp(prefix="bulutpop-home-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder)


async def test_another_account_reads_nothing_of_the_relay_or_the_desktop(home: Path) -> None:
    # As nobody: open every file, list every folder the relay and the desktop made.
    attack = (
        "got = []\n"
        "for path in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        os.listdir(path) if os.path.isdir(path) else open(path, 'rb').read(1)\n"
        "    except OSError:\n"
        "        continue\n"
        "    got.append(path)\n"
        "print(json.dumps(got))\n"
    )
    async with a_session(home):
        written = everything_in(home)
        proc = await asyncio.to_thread(
            subprocess.run,
            [*as_another_user(attack), json.dumps([str(p) for p in [home, *written]])],
            capture_output=True,
            text=True,
            timeout=20,
            check=True,
        )
    names = {p.name for p in written}
    assert {"bulutpop.sqlite3", "bulutpop.sqlite3-wal", "passwd", "bulutpop.log"} <= names
    assert json.loads(proc.stdout) == [str(home)]  # nobody could look, and saw nothing


async def test_after_a_session_every_folder_is_0700_and_every_file_0600(
    tmp_path: Path, umask_zero: None
) -> None:
    def modes() -> dict[Path, int]:
        return {p: stat.S_IMODE(p.lstat().st_mode) for p in everything_in(tmp_path / "home")}

    async with a_session(tmp_path / "home"):
        running = modes()
    after = modes()  # Mosquitto saves its queued messages as it stops
    names = {p.name for p in (*running, *after)}
    assert {"bulutpop.sqlite3-wal", "mosquitto.pid", "mosquitto.db", "saved.wav"} <= names
    folders = {p for p in (*running, *after) if p.is_dir()}
    loose = {
        str(path): f"{mode:o}"
        for path, mode in (*running.items(), *after.items())
        if mode != (0o700 if path in folders else 0o600)
    }
    assert loose == {}


def test_an_older_install_is_tightened_at_start(tmp_path: Path) -> None:
    dirs = Dirs.from_env()
    config_mod.save(dirs, config_mod.Config().with_value("token", "t" * 40))
    old = [
        dirs.data / "bulutpop.sqlite3",
        dirs.data / "bulutpop.sqlite3-wal",
        dirs.data / "bulutpop.log",
        dirs.data / "bulutpop.log.3",
        dirs.data / "broker" / "passwd",
        dirs.data / "broker" / "db" / "mosquitto.db",
        dirs.cache / "recordings" / "c-1.wav",
    ]
    for path in old:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    for path in everything_in(tmp_path):
        path.chmod(0o755 if path.is_dir() else 0o644)
    elsewhere = tmp_path / "elsewhere.txt"  # a link in the data folder is not followed
    elsewhere.write_text("")
    elsewhere.chmod(0o644)
    (dirs.data / "link").symlink_to(elsewhere)

    core = Core.open({**os.environ, "BULUTPOP_API_KEY": TEST_KEY})
    core.close()
    for folder in (dirs.config, dirs.data):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        for path in everything_in(folder):
            if not path.is_symlink():
                wanted = 0o700 if path.is_dir() else 0o600
                assert stat.S_IMODE(path.stat().st_mode) == wanted, path
    assert stat.S_IMODE(elsewhere.stat().st_mode) == 0o644


def test_the_settings_file_is_private_from_its_first_byte(tmp_path: Path) -> None:
    """Saving the settings (the webhook token) never leaves a file others can read, not
    even for a moment: every file opened in the config folder is watched (an audit hook)
    from the moment it exists until it is renamed, with no umask to help."""
    watch = (
        "import json, os, stat, sys\n"
        "from pathlib import Path\n"
        "from bulutpop.local import config\n"
        "folder = sys.argv[1]\n"
        "opened, seen = set(), {}\n"
        "def hook(event, args):\n"
        "    if event == 'open' and isinstance(args[0], (str, os.PathLike)):\n"
        "        if os.fspath(args[0]).startswith(folder):\n"
        "            opened.add(os.fspath(args[0]))\n"
        "    for path in opened:\n"
        "        try:\n"
        "            seen.setdefault(path, set()).add(stat.S_IMODE(os.stat(path).st_mode))\n"
        "        except FileNotFoundError:\n"
        "            pass\n"
        "os.umask(0)\n"
        "dirs = config.Dirs(Path(folder), Path(folder), Path(folder))\n"
        "settings = config.Config().with_value('token', 't' * 40)\n"
        "sys.addaudithook(hook)\n"
        "config.save(dirs, settings)\n"
        "config.save(dirs, settings.with_value('extension', '1001'))\n"
        "print(json.dumps({path: sorted(oct(m) for m in modes) for path, modes in seen.items()}))\n"
    )
    folder = tmp_path / "config"
    proc = subprocess.run(
        [sys.executable, "-c", watch, str(folder)],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    seen: dict[str, list[str]] = json.loads(proc.stdout)
    assert any(".tmp" in path for path in seen), seen  # the temporary file was watched
    assert {path: modes for path, modes in seen.items() if modes != ["0o600"]} == {}
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700

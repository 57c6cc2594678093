"""Files only this user can read: the settings, the store (with the relay's broker password
and link secret), logs, recordings and the broker's files hold calls and secrets, so every
folder the app makes is 0700 and every file it writes 0600, from the moment it exists.

Files are created with their final mode, never open first and tightened after (a reader
could open them in between and keep reading); `restrict_umask` covers what libraries and
child processes create. SQLite's -wal and -shm take the database file's mode. On Windows a
mode only sets the read-only flag: the per-user profile folders are private already, so
the calls are kept (harmless) but nothing is tightened."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
UMASK = 0o077
_POSIX = os.name == "posix"


def restrict_umask() -> None:
    """Files made by libraries (SQLite, Qt) and by child processes (Mosquitto) are private
    too; called first by every entry point."""
    os.umask(UMASK)


def private_dir(path: Path) -> Path:
    """`path` as a folder only this user can enter: the folders missing on the way are made
    0700, and an existing `path` of this user's is tightened."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        folder.mkdir(mode=DIR_MODE, exist_ok=True)
    _tighten(path, DIR_MODE)
    return path


def open_private(path: Path, flags: int) -> int:
    """`os.open` for writing: a new file is created 0600, an existing one tightened."""
    fd = os.open(path, flags | os.O_CREAT, FILE_MODE)
    if _POSIX:
        try:
            if os.fstat(fd).st_uid == os.geteuid():
                os.fchmod(fd, FILE_MODE)
        except OSError:
            os.close(fd)
            raise
    return fd


def write_private(path: Path, data: bytes) -> None:
    """Replace `path` atomically with `data`, readable only by this user at every moment:
    the temporary file is created 0600 under a name nobody can take first."""
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(name)
        raise


def copy_private(source: Path, target: Path) -> int:
    """Copy `source` over `target`, which only this user can read; returns the size."""
    if target.exists() and source.samefile(target):  # opening it would truncate the source
        raise shutil.SameFileError(f"{source} and {target} are the same file")
    with (
        source.open("rb") as data,
        os.fdopen(open_private(target, os.O_WRONLY | os.O_TRUNC), "wb") as out,
    ):
        shutil.copyfileobj(data, out)
        return out.tell()


def tighten_tree(root: Path) -> None:
    """Make what an older version left in `root` private: every folder 0700, every file
    0600. Only this user's entries; symbolic links are neither followed nor changed."""
    if not _POSIX or not root.is_dir():
        return
    _tighten(root, DIR_MODE)
    for folder, dirnames, filenames in os.walk(root):
        for name in dirnames:
            _tighten(Path(folder, name), DIR_MODE)
        for name in filenames:
            _tighten(Path(folder, name), FILE_MODE)


def _tighten(path: Path, mode: int) -> None:
    if not _POSIX:
        return
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid():
        return
    current = stat.S_IMODE(info.st_mode)
    if current & ~mode:
        with contextlib.suppress(FileNotFoundError):
            path.chmod(current & mode)  # bits are only taken away

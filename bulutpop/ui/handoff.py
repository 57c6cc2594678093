"""One instance per user and data directory: a second start hands its arguments over a
local socket (QLocalServer: a Unix socket or a Windows named pipe) and exits.

The socket is this user's alone: on Unix it lives in a folder only the user can enter (in
the shared /tmp another account could take its name first, receive the numbers handed over
and make every start exit), and each end checks that the other runs as the same user. On
Windows the pipe admits this user only (UserAccessOption).

Only QtCore and QtNetwork are used here, so `bulutpop dial` can hand a number over without
a display."""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import socket as pysocket
import stat
import struct
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from bulutpop.local.private import private_dir

log = logging.getLogger(__name__)

TIMEOUT_MS = 2000


def server_name(data_dir: Path, env: Mapping[str, str] | None = None) -> str:
    """Per user and per data directory, so a demo runs beside the real app. On Unix a full
    path: in the user's runtime folder ($XDG_RUNTIME_DIR) when it is private, else in the
    data folder (made private)."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    if os.name != "posix":
        return f"bulutpop-{getpass.getuser()}-{digest}"
    runtime = (os.environ if env is None else env).get("XDG_RUNTIME_DIR", "")
    if runtime and Path(runtime).is_absolute() and _private(Path(runtime)):
        return str(Path(runtime, f"bulutpop-{digest}"))
    return str(private_dir(data_dir) / "instance")


def _private(folder: Path) -> bool:
    try:
        info = folder.lstat()
    except OSError:
        return False
    return (
        stat.S_ISDIR(info.st_mode)
        and info.st_uid == os.geteuid()
        and not stat.S_IMODE(info.st_mode) & 0o077
    )


def _peer_uid(sock: pysocket.socket) -> int | None:
    """The user id of the process at the other end of a connected Unix socket."""
    if hasattr(pysocket, "SO_PEERCRED"):  # Linux: struct ucred {pid, uid, gid}
        creds = sock.getsockopt(pysocket.SOL_SOCKET, pysocket.SO_PEERCRED, struct.calcsize("3i"))
        return int(struct.unpack("3i", creds)[1])
    # macOS and the BSDs (what getpeereid reads): struct xucred {u_int cr_version; uid_t cr_uid;
    # short cr_ngroups; gid_t cr_groups[16]} at level SOL_LOCAL (0), XUCRED_VERSION 0.
    option = getattr(pysocket, "LOCAL_PEERCRED", 1)
    creds = sock.getsockopt(0, option, struct.calcsize("2Ih16I"))
    version, uid = struct.unpack_from("2I", creds)
    return int(uid) if version == 0 else None


def _same_user(socket: QLocalSocket) -> bool:
    """Whether the other end of `socket` runs as this user; on Windows the pipe's access
    list already admits no one else."""
    if os.name != "posix":
        return True
    descriptor = int(socket.socketDescriptor())
    if descriptor < 0:
        return False
    try:
        with pysocket.fromfd(descriptor, pysocket.AF_UNIX, pysocket.SOCK_STREAM) as sock:
            uid = _peer_uid(sock)
    except OSError:
        return False
    if uid != os.geteuid():
        log.warning("refused a hand-over with another user's process (uid %s)", uid)
        return False
    return True


def hand_over(name: str, argv: Sequence[str]) -> bool:
    """Send argv to a running instance of this user's; False when none answers."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(TIMEOUT_MS):
        return False
    if not _same_user(socket):
        socket.abort()
        return False
    if sys.platform == "win32":
        _lend_the_foreground(socket)
    socket.write(json.dumps({"argv": list(argv)}).encode() + b"\n")
    socket.waitForBytesWritten(TIMEOUT_MS)
    answered = socket.waitForReadyRead(TIMEOUT_MS) and socket.readLine().data() == b"ok\n"
    socket.disconnectFromServer()
    return answered


def _lend_the_foreground(socket: QLocalSocket) -> None:
    """Windows lets a program bring a window to the front only while the user works with
    it. The running instance is in the background, so the start the user just caused (a
    tel: click in the browser) lends it that right; else its dial dialog opens behind the
    browser."""
    import ctypes
    from ctypes import wintypes

    asfw_any = 0xFFFFFFFF  # any process: when the pipe cannot name its server
    server = wintypes.ULONG(asfw_any)
    pipe = wintypes.HANDLE(int(socket.socketDescriptor()))
    windll = ctypes.windll  # type: ignore[attr-defined,unused-ignore]
    if not windll.kernel32.GetNamedPipeServerProcessId(pipe, ctypes.byref(server)):
        server.value = asfw_any
    if not windll.user32.AllowSetForegroundWindow(server.value):
        log.info("could not lend the foreground to the running instance")


class InstanceServer(QObject):
    """Listens for later starts; `received` carries their argv."""

    received = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        if not self._server.listen(name):
            # A socket file left behind by a crashed instance, or one of another user's
            # that hand_over refused: nobody of ours answered, so it is safe to take over.
            QLocalServer.removeServer(name)
            self._server.listen(name)

    @property
    def listening(self) -> bool:
        return self._server.isListening()

    def close(self) -> None:
        self._server.close()

    def _accept(self) -> None:
        while self._server.hasPendingConnections():
            socket = self._server.nextPendingConnection()
            if not _same_user(socket):
                socket.abort()
                socket.deleteLater()
                continue
            # Slots of this object's, not the socket's own deleteLater: the socket says
            # "disconnected" as it dies with the server, and its deleteLater then crashed.
            socket.readyRead.connect(self._read)
            socket.disconnected.connect(self._gone)

    @Slot()
    def _gone(self) -> None:
        self.sender().deleteLater()

    @Slot()
    def _read(self) -> None:
        socket = self.sender()
        assert isinstance(socket, QLocalSocket)
        if not socket.canReadLine():
            return
        try:
            message = json.loads(bytes(socket.readLine().data()))
            argv = [str(a) for a in message["argv"]]
        except (ValueError, KeyError, TypeError):
            socket.disconnectFromServer()
            return
        socket.write(b"ok\n")
        socket.flush()
        self.received.emit(argv)

"""One instance per user and data directory: a second start hands its arguments over a
local socket (QLocalServer: a Unix socket or a Windows named pipe) and exits.

Only QtCore and QtNetwork are used here, so `bulutpop dial` can hand a number over without
a display."""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

TIMEOUT_MS = 2000


def server_name(data_dir: Path) -> str:
    """Per user and per data directory, so a demo runs beside the real app."""
    digest = hashlib.sha256(str(data_dir.resolve()).encode()).hexdigest()[:12]
    return f"bulutpop-{getpass.getuser()}-{digest}"


def hand_over(name: str, argv: Sequence[str]) -> bool:
    """Send argv to a running instance; False when none answers."""
    socket = QLocalSocket()
    socket.connectToServer(name)
    if not socket.waitForConnected(TIMEOUT_MS):
        return False
    socket.write(json.dumps({"argv": list(argv)}).encode() + b"\n")
    socket.waitForBytesWritten(TIMEOUT_MS)
    answered = socket.waitForReadyRead(TIMEOUT_MS) and socket.readLine().data() == b"ok\n"
    socket.disconnectFromServer()
    return answered


class InstanceServer(QObject):
    """Listens for later starts; `received` carries their argv."""

    received = Signal(list)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._accept)
        if not self._server.listen(name):
            # A socket file left behind by a crashed instance: nobody answered hand_over,
            # so it is safe to take over.
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
            socket.readyRead.connect(lambda s=socket: self._read(s))
            socket.disconnected.connect(socket.deleteLater)

    def _read(self, socket: QLocalSocket) -> None:
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

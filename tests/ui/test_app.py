"""The tray app as a user starts it: one instance, hand-over of later starts, clean exit."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QUrl
from PySide6.QtGui import QDesktopServices, QFileOpenEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from bulutpop.local.config import Dirs
from bulutpop.ui.app import LinkEvents
from bulutpop.ui.handoff import InstanceServer, server_name
from tests.conftest import TEST_KEY, app_env, free_port, wait_for_http
from tests.ui.conftest import hand_over_later


def test_a_second_start_hands_its_arguments_over(qtbot: QtBot) -> None:
    name = server_name(Dirs.from_env().data)
    server = InstanceServer(name)
    assert server.listening
    with qtbot.waitSignal(server.received, timeout=10_000) as blocker:
        process = hand_over_later(name, ["tel:+905321234567"])
    assert blocker.args == [["tel:+905321234567"]]
    qtbot.waitUntil(lambda: process.poll() is not None, timeout=10_000)
    assert process.returncode == 0
    server.close()


def test_gui_starts_listens_takes_a_tel_link_and_quits_cleanly(isolated: Path) -> None:
    port = free_port()
    env = app_env(port)
    first = subprocess.Popen(
        [sys.executable, "-m", "bulutpop"], env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", first, timeout=30)
        second = subprocess.run(
            [sys.executable, "-m", "bulutpop", "tel:+905321234567"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 0, second.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        assert first.wait(timeout=20) == 0
    assert first.stderr is not None
    log = first.stderr.read()
    assert "handed over: tel:+905321234567" in log
    assert TEST_KEY not in log


# The app as a subprocess whose Qt quits by itself once the receiver listens, as at a macOS
# logout or Windows' WM_ENDSESSION: Qt posts QEvent.Quit to the application.
_QUIT_FROM_OUTSIDE = """
import socket, sys
from PySide6.QtCore import QCoreApplication, QEvent, QTimer
from PySide6.QtWidgets import QApplication
from bulutpop.ui.app import run

app = QApplication(sys.argv[:1])
port = int(sys.argv[1])

def quit_once_listening() -> None:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        QTimer.singleShot(50, quit_once_listening)
        return
    QCoreApplication.postEvent(app, QEvent(QEvent.Type.Quit))

QTimer.singleShot(0, quit_once_listening)
sys.exit(run([]))
"""


def test_qt_quitting_by_itself_stops_the_app_cleanly(isolated: Path) -> None:
    port = free_port()
    env = app_env(port)
    done = subprocess.run(
        [sys.executable, "-c", _QUIT_FROM_OUTSIDE, str(port)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "listening on" in done.stderr
    # The store was closed by the normal stop: its last connection folded the WAL back in.
    store = Dirs.from_env(env).store_file
    assert store.exists()
    assert not store.with_name(store.name + "-wal").exists()


def test_a_tel_link_given_to_qt_reaches_the_app(qapp: QApplication) -> None:
    # What macOS does with PySide6 6.8.1–6.8.2 (QTBUG-134316): the link goes to the URL
    # handler registered for its scheme, not to a QFileOpenEvent.
    links = LinkEvents(qapp, platform="darwin")
    got: list[list[str]] = []
    try:
        assert QDesktopServices.openUrl(QUrl("tel:+905321234567"))
        assert QDesktopServices.openUrl(QUrl("callto:05551112233"))
        links.deliver_to(lambda argv: got.append(list(argv)))
        assert got == [["tel:+905321234567"], ["callto:05551112233"]]
        QCoreApplication.sendEvent(qapp, QFileOpenEvent(QUrl("tel:+905321234568")))
        assert got[-1] == ["tel:+905321234568"]
    finally:
        links.close()
        links.deleteLater()


def test_only_macos_filters_every_event_for_links(qapp: QApplication) -> None:
    # Elsewhere links come through argv and the hand-off, and the filter would cost every
    # Qt event of the tray app a call into Python.
    links = LinkEvents(qapp, platform="linux")
    got: list[list[str]] = []
    try:
        links.deliver_to(lambda argv: got.append(list(argv)))
        QCoreApplication.sendEvent(qapp, QFileOpenEvent(QUrl("tel:+905321234568")))
        assert got == []
        assert QDesktopServices.openUrl(QUrl("tel:+905321234567"))
        assert got == [["tel:+905321234567"]]
    finally:
        links.close()
        links.deleteLater()


# A start caused by a tel: click on Windows, with user32 and kernel32 simulated: it lends the
# running instance (the pipe's server process, 4242 here) the right to take the foreground
# before handing its link over.
_WINDOWS_START = """
import ctypes, sys
from PySide6.QtCore import QCoreApplication
from bulutpop.ui.handoff import hand_over

calls = []

class Kernel32:
    def GetNamedPipeServerProcessId(self, pipe, server):
        server._obj.value = 4242
        return 1

class User32:
    def AllowSetForegroundWindow(self, process):
        calls.append(process)
        return 1

class WinDll:
    kernel32, user32 = Kernel32(), User32()

ctypes.windll = WinDll()
sys.platform = "win32"
app = QCoreApplication([])
handed = hand_over(sys.argv[1], ["tel:+905321234567"])
print(handed, calls)
"""


def test_a_windows_start_lets_the_running_app_take_the_foreground(qtbot: QtBot) -> None:
    name = server_name(Dirs.from_env().data)
    server = InstanceServer(name)
    with qtbot.waitSignal(server.received, timeout=10_000) as blocker:
        process = subprocess.Popen(
            [sys.executable, "-c", _WINDOWS_START, name], stdout=subprocess.PIPE, text=True
        )
    assert blocker.args == [["tel:+905321234567"]]
    qtbot.waitUntil(lambda: process.poll() is not None, timeout=10_000)
    assert process.stdout is not None
    assert process.stdout.read().strip() == "True [4242]"
    server.close()

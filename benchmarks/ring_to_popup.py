"""Ring-to-popup benchmark: webhook request arrival to the call popup being shown, in the
tray app's own pieces (DesktopApp without a tray: Core in a temporary directory, Receiver,
CoreBridge, PopupManager, ring sound) on the qasync loop, offscreen.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/ring_to_popup.py [--events 200]

A separate process (this script with --client) posts each call's `ringing` event, then its
`hangup` (a missed call: the missed list and tray state move too), `--interval` seconds
apart, over one keep-alive HTTP connection. Times:

- arrival -> shown: an aiohttp middleware added in front of the receiver's stamps the request
  (perf_counter) before any handler runs; the popup's showEvent stamps the show.
- arrival -> painted: the popup card's first paint has finished.
- sent -> shown: the client's time.time() just before sending vs time.time() at showEvent
  (two processes, one machine: the same clock).
- loop lateness: a 5 ms asyncio heartbeat; how late it wakes is how long the loop was
  blocked (plus timer slack, see the idle row).

The PBX API is a closed local port, so the app's start-up catch-up and phonebook sync fail
at once (before the calls start). Each popup is closed 30 ms after it is shown (as if the
user dismissed it), so the next call pops fresh instead of waiting behind "+N more".

Baseline, measured first in the same run on the same loop and with the same client: a
minimal aiohttp app whose handler reads the body and calls QLabel.setText (ENVIRONMENT.md
measured 0.13 ms median for arrival -> setText), with the label's repaint.

Targets: popup p99 <= 50 ms from arrival; the loop never blocked > 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")


import aiohttp
from aiohttp import web
from common import Heartbeat, load_average

from bulutpop.calls.events import PBX_TZ
from bulutpop.devtools.fakepbx import DEMO_KEY

TARGET_P99_MS = 50.0
TARGET_BLOCK_MS = 50.0
CLOSE_AFTER_MS = 30


# --- the client (its own process) ---------------------------------------------------------


def call_bodies(seq: int) -> tuple[bytes, bytes]:
    """A missed inbound call to 1001 (ringing, hangup), from one of 50 mobile callers so the
    popup's "Nth call" line has some history to count."""
    start = datetime.now(PBX_TZ)
    stamp = start.strftime("%Y-%m-%d %H:%M:%S")
    end = (start + timedelta(seconds=20)).strftime("%Y-%m-%d %H:%M:%S")
    common = {
        "domain_id": "101",
        "direction": "inbound",
        "caller_id_number": f"0532{1000000 + seq % 50:07d}",
        "outbound_caller_id_number": "",
        "destination_number": "1001",
        "dialed_user": "1001",
        "call_uuid": f"bench-{seq:06d}-{os.getpid()}",
        "start_stamp": stamp,
    }
    ringing = urlencode({"event_type": "ringing", **common}).encode()
    hangup = urlencode(
        {
            "event_type": "hangup",
            **common,
            "connected_user": "",
            "answer_stamp": "",
            "end_stamp": end,
            "duration": "0",
            "recording_present": "f",
            "answered": "f",
            "hangup_cause": "ORIGINATOR_CANCEL",
        }
    ).encode()
    return ringing, hangup


async def client(url: str, events: int, interval: float) -> None:
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession() as session:
        for seq in range(events):
            ringing, hangup = call_bodies(seq)
            headers = {**form, "X-Bench-Seq": str(seq), "X-Bench-Sent": repr(time.time())}
            async with session.post(url, data=ringing, headers=headers) as response:
                await response.read()
                assert response.status == 200, response.status
            await asyncio.sleep(interval)
            async with session.post(url, data=hangup, headers=form) as response:
                await response.read()
                assert response.status == 200, response.status
            await asyncio.sleep(interval)


# --- measuring (the app's process) --------------------------------------------------------


class Arrivals:
    """Request arrival stamps, by the client's sequence number."""

    def __init__(self) -> None:
        self.at: dict[int, float] = {}
        self.sent: dict[int, float] = {}

    def middleware(self) -> Any:
        @web.middleware
        async def stamp(
            request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            seq = request.headers.get("X-Bench-Seq")
            if seq is not None:
                self.at[int(seq)] = time.perf_counter()
                self.sent[int(seq)] = float(request.headers["X-Bench-Sent"])
            return await handler(request)

        return stamp


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


async def run_client(url: str, events: int, interval: float) -> None:
    # Popen does not block, and polling it keeps the Qt loop showing popups meanwhile.
    process = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, __file__, "--client", url, "--events", str(events),
         "--interval", str(interval)]
    )  # fmt: skip
    while process.poll() is None:  # noqa: ASYNC110
        await asyncio.sleep(0.05)
    if process.returncode:
        raise SystemExit(f"client failed with {process.returncode}")
    await asyncio.sleep(0.3)  # the last popup


class Result:
    def __init__(self, name: str) -> None:
        self.name = name
        self.shown: list[float] = []
        self.painted: list[float] = []
        self.sent_to_shown: list[float] = []
        self.late: list[float] = []
        self.events = 0

    def row(self, values: list[float]) -> str:
        if not values:
            return f"{'-':>7} {'-':>7} {'-':>7}"
        return f"{statistics.median(values):>7.2f} {pct(values, 0.99):>7.2f} {max(values):>7.2f}"


async def baseline_phase(events: int, interval: float) -> Result:
    from PySide6.QtGui import QPaintEvent
    from PySide6.QtWidgets import QLabel

    from bulutpop.calls.events import parse_body

    result = Result("baseline: aiohttp -> QLabel.setText")
    arrivals = Arrivals()
    set_at: dict[int, float] = {}
    set_wall: dict[int, float] = {}
    painted: dict[int, float] = {}
    loop = asyncio.get_running_loop()

    class Label(QLabel):
        seq: int | None = None

        def paintEvent(self, event: QPaintEvent) -> None:
            super().paintEvent(event)
            if self.seq is not None and self.seq not in painted:
                painted[self.seq] = time.perf_counter()

    label = Label()
    label.resize(360, 40)
    label.show()

    async def handle(request: web.Request) -> web.Response:
        parsed = parse_body(await request.read())
        seq = request.headers.get("X-Bench-Seq")
        if parsed.event is not None and seq is not None:
            label.seq = int(seq)
            label.setText(f"{parsed.event.get('caller_id_number')} ringing")
            set_at[int(seq)] = time.perf_counter()
            set_wall[int(seq)] = time.time()
        return web.Response(text="OK\n")

    app = web.Application(middlewares=[arrivals.middleware()])
    app.router.add_post("/events/{token}", handle)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    heartbeat = Heartbeat()
    heartbeat.start()
    try:
        await run_client(f"http://127.0.0.1:{port}/events/x", events, interval)
    finally:
        result.late = await heartbeat.stop()
        await runner.cleanup()
        label.close()
    del loop
    for seq, arrived in arrivals.at.items():
        if seq in set_at:
            result.shown.append((set_at[seq] - arrived) * 1000)
            result.sent_to_shown.append((set_wall[seq] - arrivals.sent[seq]) * 1000)
        if seq in painted:
            result.painted.append((painted[seq] - arrived) * 1000)
    result.events = len(arrivals.at)
    return result


async def bulutpop_phase(events: int, interval: float, home: Path) -> Result:
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtGui import QShowEvent

    import bulutpop.app.runtime as runtime_mod
    import bulutpop.ui.popup as popup_mod
    from bulutpop.app.core import Core
    from bulutpop.pbx.receiver import Receiver
    from bulutpop.ui.app import DesktopApp
    from bulutpop.ui.i18n import Translations

    result = Result("bulutpop: webhook -> CallPopup shown")
    arrivals = Arrivals()
    shown: dict[int, float] = {}
    shown_wall: dict[int, float] = {}
    painted: dict[int, float] = {}
    loop = asyncio.get_running_loop()

    def seq_of(call_uuid: str) -> int:
        return int(call_uuid.split("-")[1])

    class PaintWatch(QObject):
        def __init__(self, seq: int) -> None:
            super().__init__()
            self.seq = seq

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and self.seq not in painted:
                seq = self.seq
                # Runs once this paint event has been handled: the card is drawn.
                loop.call_soon(lambda: painted.setdefault(seq, time.perf_counter()))
            return False

    class TimedPopup(popup_mod.CallPopup):
        """The real popup, plus stamps; PopupManager creates these during the run."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._watch = PaintWatch(seq_of(self.call.call_uuid))
            self.card.installEventFilter(self._watch)

        def showEvent(self, event: QShowEvent) -> None:
            super().showEvent(event)
            seq = seq_of(self.call.call_uuid)
            if seq not in shown:
                shown[seq] = time.perf_counter()
                shown_wall[seq] = time.time()
                QTimer.singleShot(CLOSE_AFTER_MS, self, self.close)

    env = {
        "BULUTPOP_CONFIG_DIR": str(home / "config"),
        "BULUTPOP_DATA_DIR": str(home / "data"),
        "BULUTPOP_API_KEY": DEMO_KEY,
        "BULUTPOP_API_URL": "http://127.0.0.1:9",
    }
    os.environ.update(env)
    core = Core.open()
    await core.update_config(
        core.config.with_value("extension", "1001")
        .with_value("listen_port", "0")
        .with_value("listen_host", "127.0.0.1")
    )
    done = asyncio.Event()
    original = popup_mod.CallPopup
    popup_mod.CallPopup = TimedPopup  # type: ignore[misc]
    desktop = DesktopApp(core, Translations(), done.set, use_tray=False)

    class TimedReceiver(Receiver):
        """The runtime's receiver, with the arrival stamp in front of its middlewares."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.app.middlewares.insert(0, arrivals.middleware())

    runtime_mod.Receiver = TimedReceiver  # type: ignore[misc]
    await desktop.start()
    receiver = desktop.runtime.receiver
    assert receiver is not None
    url = f"http://127.0.0.1:{receiver.port}{core.config.webhook_path()}"
    heartbeat = Heartbeat()
    heartbeat.start()
    try:
        await run_client(url, events, interval)
    finally:
        result.late = await heartbeat.stop()
        popup_mod.CallPopup = original  # type: ignore[misc]
        runtime_mod.Receiver = Receiver  # type: ignore[misc]
        await desktop.stop()
        core.close()
    for seq, arrived in arrivals.at.items():
        if seq in shown:
            result.shown.append((shown[seq] - arrived) * 1000)
            result.sent_to_shown.append((shown_wall[seq] - arrivals.sent[seq]) * 1000)
        if seq in painted:
            result.painted.append((painted[seq] - arrived) * 1000)
    result.events = len(arrivals.at)
    return result


async def idle_phase(seconds: float) -> list[float]:
    heartbeat = Heartbeat()
    heartbeat.start()
    await asyncio.sleep(seconds)
    return await heartbeat.stop()


def quiet_offscreen_warnings() -> None:
    """The offscreen platform warns on every popup (no size hints, raise or opacity there)."""
    from PySide6.QtCore import QtMsgType, qInstallMessageHandler

    def handler(kind: QtMsgType, context: object, message: str) -> None:
        if not message.startswith("This plugin does not support"):
            sys.stderr.write(message + "\n")

    qInstallMessageHandler(handler)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=200, help="ringing events (calls)")
    parser.add_argument(
        "--interval", type=float, default=0.025, help="seconds between posted events"
    )
    parser.add_argument("--client", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        asyncio.run(client(args.client, args.events, args.interval))
        return

    import qasync
    from PySide6.QtWidgets import QApplication

    quiet_offscreen_warnings()
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QSelectorEventLoop(app)
    asyncio.set_event_loop(loop)

    async def everything() -> tuple[list[float], Result, Result]:
        idle = await idle_phase(1.0)
        base = await baseline_phase(args.events, args.interval)
        with tempfile.TemporaryDirectory(prefix="bulutpop-bench-") as home:
            ours = await bulutpop_phase(args.events, args.interval, Path(home))
        return idle, base, ours

    load_before = load_average()
    with loop:
        idle, base, ours = loop.run_until_complete(everything())

    print(
        f"ring to popup: {args.events} calls (ringing + hangup, {args.interval * 1000:.0f} ms"
        " apart) over HTTP from another process; offscreen;"
        f" load average {load_before} -> {load_average()}"
    )
    print(f"{'':<40} {'p50 ms':>7} {'p99 ms':>7} {'max ms':>7}")
    for result in (base, ours):
        print(f"{result.name} ({len(result.shown)}/{result.events} shown)")
        print(f"  {'arrival -> shown (setText for baseline)':<38} {result.row(result.shown)}")
        print(f"  {'arrival -> painted':<38} {result.row(result.painted)}")
        print(f"  {'client sent -> shown (cross-process)':<38} {result.row(result.sent_to_shown)}")
        print(f"  {'loop lateness (5 ms heartbeat)':<38} {result.row(result.late)}")
    print(f"idle loop, no events{'':<20} {Result('').row(idle)}")
    p99 = pct(ours.shown, 0.99) if ours.shown else float("inf")
    worst = max(ours.late) if ours.late else float("inf")
    missing = ours.events - len(ours.shown)
    print(
        f"target: popup p99 <= {TARGET_P99_MS:.0f} ms -> {p99:.2f} ms"
        f" {'MET' if p99 <= TARGET_P99_MS and not missing else 'MISSED'}"
        + (f" ({missing} popups never shown)" if missing else "")
    )
    print(
        f"target: loop never blocked > {TARGET_BLOCK_MS:.0f} ms -> worst {worst:.2f} ms"
        f" {'MET' if worst <= TARGET_BLOCK_MS else 'MISSED'}"
    )


if __name__ == "__main__":
    main()

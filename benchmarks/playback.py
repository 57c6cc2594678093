"""Playback benchmark: pressing Play on a recorded call (PlayerWindow.open_call) until audio
is under way, for a 5 MB WAV recording served over HTTP by the fake PBX in its own process.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/playback.py [--runs 5] [--mb 5]

Per run, from calling open_call (what the history's Play does) to:
- fetched: open_call has the file (recording link + download into the cache) and called play();
- Playing: QMediaPlayer.playbackState() is PlayingState;
- audio started: QMediaPlayer.position() > 0 (polled every 1 ms and on positionChanged).
Every run plays a different call, so each one downloads (the PBX allows 5 recording links a
minute, hence at most 5 runs); then the last call is played again from the cache ("cached").

Baseline, in the same process: a bare QMediaPlayer + QAudioOutput playing the same file from
local disk (setSource + play), measured to the same two points.

No sound card here: QtMultimedia's FFmpeg backend still advances playback in real time.
Also printed: the loop's worst lateness (5 ms heartbeat) while the downloads and playback
went on. There is no numeric target for this one; the baseline is the floor.
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
from pathlib import Path
from typing import Any

from common import Heartbeat, free_port, load_average

from bulutpop.devtools.fakepbx import DEMO_KEY

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia.*=false")

MAX_RUNS = 5  # the PBX's (and the client's) limit on recording links per minute

FAKE_PBX = """
import asyncio, sys
from pathlib import Path
from bulutpop.devtools.fakepbx import FakePbxState, start

async def main():
    audio = Path(sys.argv[2]).read_bytes()
    state = FakePbxState(key=sys.argv[3], recording_limit=1000)
    for uuid in sys.argv[4:]:
        state.recordings[uuid] = audio
    runner, base = await start(state, port=int(sys.argv[1]))
    print(base, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def hangup_body(call_uuid: str, seconds: int) -> bytes:
    from urllib.parse import urlencode

    return urlencode(
        {
            "event_type": "hangup",
            "direction": "inbound",
            "caller_id_number": "05321234567",
            "destination_number": "1001",
            "dialed_user": "1001",
            "connected_user": "1001",
            "call_uuid": call_uuid,
            "start_stamp": "2026-11-20 10:00:00",
            "answer_stamp": "2026-11-20 10:00:05",
            "end_stamp": "2026-11-20 10:05:33",
            "duration": str(seconds),
            "recording_present": "t",
            "answered": "t",
            "hangup_cause": "NORMAL_CLEARING",
        }
    ).encode()


LATE: list[float] = []  # loop lateness (ms) while the bulutpop runs went on


async def until_started(media: Any, began: float) -> tuple[float, float]:
    """ms from `began` to PlayingState, and to position > 0."""
    from PySide6.QtMultimedia import QMediaPlayer

    playing_at: float | None = None
    moved: list[float] = []
    connection = media.positionChanged.connect(
        lambda position: moved.append(time.perf_counter()) if position > 0 and not moved else None
    )
    deadline = time.perf_counter() + 30
    try:
        while time.perf_counter() < deadline:
            now = time.perf_counter()
            if (
                playing_at is None
                and media.playbackState() == QMediaPlayer.PlaybackState.PlayingState
            ):
                playing_at = now
            if not moved and media.position() > 0:
                moved.append(now)
            if playing_at is not None and moved:
                return (playing_at - began) * 1000, (moved[0] - began) * 1000
            await asyncio.sleep(0.001)
    finally:
        media.positionChanged.disconnect(connection)
    raise SystemExit(f"playback did not start within 30 s ({media.errorString()!r})")


async def baseline(path: Path, runs: int) -> list[tuple[float, float]]:
    from PySide6.QtCore import QUrl
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

    media = QMediaPlayer()
    audio = QAudioOutput()
    media.setAudioOutput(audio)
    results = []
    for _ in range(runs):
        media.stop()
        media.setSource(QUrl())
        began = time.perf_counter()
        media.setSource(QUrl.fromLocalFile(str(path)))
        media.play()
        results.append(await until_started(media, began))
    media.stop()
    return results


async def bulutpop_runs(
    home: Path, base_url: str, uuids: list[str], seconds: int
) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]:
    from bulutpop.app.core import Core
    from bulutpop.calls.events import parse_body
    from bulutpop.ui.bridge import CoreBridge
    from bulutpop.ui.player import PlayerWindow

    os.environ.update(
        {
            "BULUTPOP_CONFIG_DIR": str(home / "config"),
            "BULUTPOP_DATA_DIR": str(home / "data"),
            "BULUTPOP_API_KEY": DEMO_KEY,
            "BULUTPOP_API_URL": base_url,
        }
    )
    core = Core.open()
    await core.update_config(core.config.with_value("extension", "1001"))
    calls = []
    for uuid in uuids:
        body = hangup_body(uuid, seconds)
        event = parse_body(body).event
        assert event is not None
        core.tracker.ingest_sync(event, body, "webhook")
        call = core.store.call(uuid)
        assert call is not None and call.recording
        calls.append(call)
    bridge = CoreBridge(core)
    player = PlayerWindow(bridge)
    player.show()
    await asyncio.sleep(0.2)

    async def press_play(call: Any) -> tuple[float, float, float]:
        player.media.stop()
        began = time.perf_counter()
        task = asyncio.get_running_loop().create_task(player.open_call(call))
        await task
        fetched = (time.perf_counter() - began) * 1000
        if player.state != "ready":
            raise SystemExit(f"the recording was not fetched: {player.message.text()}")
        playing, started = await until_started(player.media, began)
        return fetched, playing, started

    heartbeat = Heartbeat()
    heartbeat.start()
    fresh = [await press_play(call) for call in calls]
    cached = [await press_play(calls[-1]) for _ in range(3)]
    LATE.extend(await heartbeat.stop())
    player.media.stop()
    player.close()
    bridge.detach()
    await core.aclose()
    core.close()
    return fresh, cached


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=MAX_RUNS, help=f"at most {MAX_RUNS}")
    parser.add_argument("--mb", type=float, default=5.0, help="recording size in MB")
    args = parser.parse_args()
    if not 1 <= args.runs <= MAX_RUNS:
        raise SystemExit(f"--runs must be 1..{MAX_RUNS} (recording links per minute)")

    from bulutpop.devtools.fakepbx import tone_wav

    rate = 8000  # a phone recording: 8 kHz mono 16-bit, 16,000 bytes a second
    seconds = int(args.mb * 2**20 / (2 * rate))
    wav = tone_wav(seconds, rate=rate)

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QSelectorEventLoop(app)
    asyncio.set_event_loop(loop)

    load_before = load_average()
    with tempfile.TemporaryDirectory(prefix="bulutpop-play-") as tmp:
        path = Path(tmp) / "recording.wav"
        path.write_bytes(wav)
        uuids = [f"play-{n}-{os.getpid()}" for n in range(args.runs)]
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-c", FAKE_PBX, str(port), str(path), DEMO_KEY, *uuids],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert server.stdout is not None
            base_url = server.stdout.readline().strip()
            if not base_url:
                raise SystemExit("the fake PBX did not start")

            async def both() -> tuple[Any, Any, Any]:
                base = await baseline(path, args.runs)
                fresh, cached = await bulutpop_runs(Path(tmp), base_url, uuids, seconds)
                return base, fresh, cached

            with loop:
                base, fresh, cached = loop.run_until_complete(both())
        finally:
            server.terminate()
            server.wait()

    print(
        f"playback: {len(wav) / 2**20:.1f} MB WAV ({seconds} s, 8 kHz mono), fake PBX over"
        f" HTTP in another process; offscreen, no sound card; {args.runs} runs;"
        f" load average {load_before} -> {load_average()}"
    )
    print(f"{'':<44} {'first':>7} {'p50':>7} {'max':>7}   (ms)")

    def row(name: str, values: list[float]) -> None:
        print(f"{name:<44} {values[0]:>7.1f} {statistics.median(values):>7.1f} {max(values):>7.1f}")

    row("baseline local file: play() -> Playing", [b[0] for b in base])
    row("baseline local file: play() -> position > 0", [b[1] for b in base])
    row("bulutpop Play (download): -> file fetched", [f[0] for f in fresh])
    row("bulutpop Play (download): -> Playing", [f[1] for f in fresh])
    row("bulutpop Play (download): -> position > 0", [f[2] for f in fresh])
    row("bulutpop Play (cached): -> Playing", [c[1] for c in cached])
    row("bulutpop Play (cached): -> position > 0", [c[2] for c in cached])
    late = sorted(LATE)
    print(
        "loop lateness during the bulutpop runs (5 ms heartbeat):"
        f" p50 {statistics.median(late):.1f} ms, p99 {late[int(len(late) * 0.99) - 1]:.1f} ms,"
        f" max {late[-1]:.1f} ms"
    )


if __name__ == "__main__":
    main()

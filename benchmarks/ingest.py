"""Ingest benchmark: `bulutpop serve` on loopback vs a bare aiohttp handler (baseline)
that parses the same form and answers 200 without storing; with `--tray`, the tray app
too (`python -m bulutpop`, offscreen: the same receiver inside the GUI process, on the
qasync loop, with its popups, ring and log file), against `serve` in the same run.

    .venv/bin/python benchmarks/ingest.py [--seconds 5] [--concurrency 1 16 64] [--tray]
        [--py-spy PATH]

Prints events/s and p50/p99 time to the 200 (for bulutpop: to "stored") per concurrency,
each server's rate as a share of the baseline's, and the load average before and after.
Both bulutpop servers get the same configuration (extension 1001, an API key, the PBX API
on a closed local port, so the start-up catch-up fails at once), each a fresh store.
Every event has a call id of its own (bundled scenarios' events), as in real traffic.

`--py-spy PATH`: sample each bulutpop server with py-spy (not a dependency: give its
binary) while it is loaded, and print where its threads spent the time (top functions by
own samples and by samples under them, per thread).

Targets (issue 16): serve >= 0.5x the baseline at concurrency 1 and 16, p99 <= 20 ms;
the tray app >= 0.7x serve.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp
from common import free_port, load_average

from bulutpop.devtools.fakepbx import DEMO_KEY
from bulutpop.devtools.replay import bundled_scenarios, read_scenario

BODIES = [b for p in bundled_scenarios() for b in read_scenario(p) if b != b"{}"]
TARGET_SHARE = 0.5
TARGET_P99_MS = 20.0
TARGET_TRAY_SHARE = 0.7


def baseline_server(port: int) -> tuple[subprocess.Popen[bytes], str]:
    code = f"""
from aiohttp import web
from bulutpop.calls.events import parse_body
async def handle(request):
    parse_body(await request.read())
    return web.Response(text="OK\\n")
app = web.Application()
app.router.add_post("/events/{{token}}", handle)
app.router.add_get("/health", lambda r: web.json_response({{}}))
web.run_app(app, host="127.0.0.1", port={port}, access_log=None, print=None)
"""
    return subprocess.Popen([sys.executable, "-c", code]), f"http://127.0.0.1:{port}/events/x"


def bulutpop_server(port: int, home: Path, tray: bool) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "BULUTPOP_CONFIG_DIR": str(home / "c"),
        "BULUTPOP_DATA_DIR": str(home / "d"),
        "BULUTPOP_API_KEY": DEMO_KEY,
        "BULUTPOP_API_URL": "http://127.0.0.1:9",
        "QT_QPA_PLATFORM": "offscreen",
        "QT_LOGGING_RULES": "qt.multimedia.*=false",
    }
    run = [sys.executable, "-m", "bulutpop"]
    for key, value in (("extension", "1001"), ("listen_port", str(port))):
        subprocess.run(
            [*run, "config", "set", key, value], env=env, check=True, capture_output=True
        )
    url = subprocess.run(
        [*run, "webhook-url"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    command = run if tray else [*run, "serve"]
    process = subprocess.Popen(command, env=env, stderr=subprocess.DEVNULL)
    return process, url


def wait_ready(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
            return
        except OSError:
            time.sleep(0.05)
    raise SystemExit("server did not start")


async def load(url: str, concurrency: int, seconds: float) -> tuple[int, float, float, float]:
    latencies: list[float] = []
    counter = 0
    stop_at = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with aiohttp.ClientSession(connector=connector) as session:

        async def sender(n: int) -> None:
            nonlocal counter
            while time.perf_counter() < stop_at:
                counter += 1
                # Unique call ids: every event is new to the store, as in real traffic.
                body = BODIES[counter % len(BODIES)].replace(
                    b"call_uuid=", f"call_uuid={n}-{counter}-".encode()
                )
                started = time.perf_counter()
                async with session.post(url, data=body, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - started)

        begun = time.perf_counter()
        await asyncio.gather(*(sender(n) for n in range(concurrency)))
        elapsed = time.perf_counter() - begun
    latencies.sort()
    p99 = latencies[int(len(latencies) * 0.99) - 1]
    rate = len(latencies) / elapsed
    return len(latencies), rate, statistics.median(latencies) * 1000, p99 * 1000


THREAD_ROLES = (
    ("Store._checkpoint_loop", "checkpoint thread"),
    ("_worker (concurrent", "store writer (executor)"),
    ("", "event loop"),
)


def cpu_seconds(pid: int) -> float:
    """CPU time the process has used (user + system, all threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def spy_summary(raw: Path, top: int = 12) -> str:
    """py-spy's raw stacks as the busiest functions of each thread: own samples (the
    function itself running) and samples under it (it and what it called; the frames every
    sample of the thread has are left out)."""
    own: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    under: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    totals: collections.Counter[str] = collections.Counter()
    frames_of: dict[str, set[str]] = collections.defaultdict(set)
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        thread, *frames = stack.split(";")
        n = int(count)
        totals[thread] += n
        frames_of[thread].update(frames)
        if frames:
            own[thread][frames[-1]] += n
            for frame in set(frames):
                under[thread][frame] += n
    grand = sum(totals.values()) or 1
    out = [f"  {grand} samples (threads not idle) at 250/s"]
    for thread, total in totals.most_common(3):
        text = " ".join(frames_of[thread])
        role = next(name for marker, name in THREAD_ROLES if marker in text)
        out.append(f"  {role} {thread}: {100 * total / grand:.0f}% of the samples")
        for frame, n in own[thread].most_common(top):
            out.append(f"    own   {100 * n / total:5.1f}%  {frame}")
        inner = [(f, n) for f, n in under[thread].most_common() if n < total]
        for frame, n in inner[:top]:
            out.append(f"    under {100 * n / total:5.1f}%  {frame}")
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--tray", action="store_true", help="the tray app too")
    parser.add_argument("--py-spy", metavar="PATH", help="profile bulutpop with this py-spy")
    args = parser.parse_args()
    print(f"load average before: {load_average()}")
    print(
        f"{'server':<10} {'conc':>4} {'events/s':>9} {'p50 ms':>7} {'p99 ms':>7} {'share':>6}"
        f" {'CPU µs/event':>12}"
    )
    rates: dict[tuple[str, int], tuple[float, float]] = {}
    profiles: list[tuple[str, int, str]] = []
    names = ["baseline", "bulutpop", *(["tray"] if args.tray else [])]
    with tempfile.TemporaryDirectory() as home:
        for name in names:
            port = free_port()
            if name == "baseline":
                process, url = baseline_server(port)
            else:
                process, url = bulutpop_server(port, Path(home) / name, tray=name == "tray")
            try:
                wait_ready(port)
                for concurrency in args.concurrency:
                    spy = None
                    if args.py_spy and name != "baseline":
                        raw = Path(home) / f"{name}-{concurrency}.txt"
                        spy = subprocess.Popen(
                            [args.py_spy, "record", "--pid", str(process.pid), "--format",
                             "raw", "--threads", "--nolineno", "--nonblocking", "--rate", "250",
                             "--output", str(raw)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                        )  # fmt: skip
                        time.sleep(0.5)
                    cpu = cpu_seconds(process.pid)
                    events, rate, p50, p99 = asyncio.run(load(url, concurrency, args.seconds))
                    # The server's CPU per event (its threads together; the client's apart).
                    cpu_us = (cpu_seconds(process.pid) - cpu) / events * 1e6
                    if spy is not None:
                        spy.send_signal(signal.SIGINT)
                        spy.wait()
                        profiles.append((name, concurrency, spy_summary(raw)))
                    rates[name, concurrency] = rate, p99
                    base = rates.get(("baseline", concurrency), (0.0, 0.0))[0]
                    share = f"{rate / base:.2f}x" if base else ""
                    print(
                        f"{name:<10} {concurrency:>4} {rate:>9.0f} {p50:>7.2f} {p99:>7.2f}"
                        f" {share:>6} {cpu_us:>12.0f}",
                        flush=True,
                    )
            finally:
                process.terminate()
                process.wait()
    print(f"load average after: {load_average()}")
    for concurrency in args.concurrency:
        if concurrency not in (1, 16):
            continue
        base = rates["baseline", concurrency][0]
        rate, p99 = rates["bulutpop", concurrency]
        met = rate >= TARGET_SHARE * base and p99 <= TARGET_P99_MS
        print(
            f"target c{concurrency}: serve >= {TARGET_SHARE}x baseline, p99 <= {TARGET_P99_MS:.0f}"
            f" ms -> {rate / base:.2f}x, {p99:.1f} ms {'MET' if met else 'MISSED'}"
        )
        if args.tray:
            tray = rates["tray", concurrency][0]
            met = tray >= TARGET_TRAY_SHARE * rate
            print(
                f"target c{concurrency}: tray >= {TARGET_TRAY_SHARE}x serve -> {tray / rate:.2f}x"
                f" {'MET' if met else 'MISSED'}"
            )
    for name, concurrency, summary in profiles:
        print(f"\nprofile: {name}, concurrency {concurrency}\n{summary}")


if __name__ == "__main__":
    main()

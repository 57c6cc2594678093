"""Ingest benchmark: `bulutpop serve` on loopback vs a bare aiohttp handler (baseline)
that parses the same form and answers 200 without storing.

    .venv/bin/python benchmarks/ingest.py [--seconds 5] [--concurrency 1 16 64]

Prints events/s and p50/p99 time to the 200 (for bulutpop: to "stored") per concurrency.
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
import urllib.request
from pathlib import Path

import aiohttp
from common import free_port

from bulutpop.devtools.replay import bundled_scenarios, read_scenario

BODIES = [b for p in bundled_scenarios() for b in read_scenario(p) if b != b"{}"]


def baseline_server(port: int) -> subprocess.Popen[bytes]:
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
    return subprocess.Popen([sys.executable, "-c", code])


def bulutpop_server(port: int, home: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {
        **os.environ,
        "BULUTPOP_CONFIG_DIR": str(home / "c"),
        "BULUTPOP_DATA_DIR": str(home / "d"),
    }
    run = [sys.executable, "-m", "bulutpop"]
    subprocess.run(
        [*run, "config", "set", "extension", "1001"], env=env, check=True, capture_output=True
    )
    subprocess.run(
        [*run, "config", "set", "listen_port", str(port)], env=env, check=True, capture_output=True
    )
    url = subprocess.run(
        [*run, "webhook-url"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    process = subprocess.Popen([*run, "serve"], env=env, stderr=subprocess.DEVNULL)
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


async def load(url: str, concurrency: int, seconds: float) -> tuple[float, float, float]:
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
    return len(latencies) / elapsed, statistics.median(latencies) * 1000, p99 * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    args = parser.parse_args()
    print(f"{'server':<10} {'conc':>4} {'events/s':>9} {'p50 ms':>7} {'p99 ms':>7}")
    with tempfile.TemporaryDirectory() as home:
        for name in ("baseline", "bulutpop"):
            port = free_port()
            if name == "baseline":
                process, url = baseline_server(port), f"http://127.0.0.1:{port}/events/x"
            else:
                process, url = bulutpop_server(port, Path(home))
            try:
                wait_ready(port)
                for concurrency in args.concurrency:
                    rate, p50, p99 = asyncio.run(load(url, concurrency, args.seconds))
                    print(
                        f"{name:<10} {concurrency:>4} {rate:>9.0f} {p50:>7.2f} {p99:>7.2f}",
                        flush=True,
                    )
            finally:
                process.terminate()
                process.wait()


if __name__ == "__main__":
    main()

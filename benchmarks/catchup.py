"""Catch-up benchmark: recovering N history calls from the fake PBX into a fresh store, vs a
baseline that only fetches and parses the same pages.

    .venv/bin/python benchmarks/catchup.py [--calls 10000]

The fake PBX runs in a process of its own (its memory is not counted) with its /cdrs rate
limit lifted; so is the client's: this measures bulutpop, not the PBX's 6 requests a minute
(which alone would stretch 100 pages to about 17 minutes). Each measured run is a fresh
process, so its peak RSS (getrusage) is its own. Prints seconds and peak RSS per run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bulutpop.calls.events import PBX_TZ
from bulutpop.devtools.fakepbx import DEMO_KEY

UNLIMITED = {"cdrs": (1_000_000, 60.0)}
DAYS = 7


def history(count: int) -> list[dict[str, Any]]:
    """`count` calls over the last six days: answered, missed and outbound ones, from a
    few thousand callers (so missed calls group and resolve as in real traffic)."""
    from bulutpop.devtools.fakepbx import history_record

    now = datetime.now(PBX_TZ)
    span = timedelta(days=6).total_seconds()
    records = []
    for i in range(count):
        start = now - timedelta(seconds=span * (i + 1) / count)
        kind = i % 20
        answered = kind < 12 or kind >= 17
        outbound = kind >= 17
        caller = f"0532{(i * 7919) % 3000:07d}"
        fields = {
            "call_uuid": f"bench-{i:06d}",
            "direction": "outbound" if outbound else "inbound",
            "caller_id_number": "1001" if outbound else caller,
            "destination_number": "9" + caller[1:] if outbound else "1001",
            "start_stamp": start.strftime("%Y-%m-%d %H:%M:%S"),
            "answer_stamp": (start + timedelta(seconds=8)).strftime("%Y-%m-%d %H:%M:%S")
            if answered
            else "",
            "end_stamp": (start + timedelta(seconds=95)).strftime("%Y-%m-%d %H:%M:%S"),
            "duration": "87" if answered else "0",
            "answered": "true" if answered else "false",
            "recording_present": "true" if answered else "false",
        }
        records.append(history_record(fields, caller_id_name=f"Arayan {i % 3000}"))
    return records


async def serve(count: int) -> None:
    from bulutpop.devtools.fakepbx import FakePbxState, start

    state = FakePbxState(key=DEMO_KEY)
    state.cdrs = history(count)
    state.api_limits = dict(UNLIMITED)
    runner, base = await start(state)
    print(base, flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)  # until closed
    await runner.cleanup()


async def fetch_only(base: str) -> dict[str, Any]:
    from bulutpop.pbx.client import PbxClient

    now = datetime.now(PBX_TZ)
    fetched = pages = 0
    async with PbxClient(base, DEMO_KEY, api_limits=UNLIMITED) as client:
        page, total = 1, 1
        while page <= total:
            reply = await client.cdrs(now - timedelta(days=DAYS), now, page=page, limit=100)
            fetched += len(reply.items)
            pages += 1
            page, total = page + 1, reply.total_pages
    return {"fetched": fetched, "pages": pages}


async def catch_up(base: str, data: Path) -> dict[str, Any]:
    from bulutpop.calls.tracker import CallTracker
    from bulutpop.pbx.catchup import CatchUp
    from bulutpop.pbx.client import PbxClient
    from bulutpop.storage.store import Store

    store = Store(data / "bench.sqlite3")
    tracker = CallTracker(store, frozenset({"1001"}))
    try:
        async with PbxClient(base, DEMO_KEY, api_limits=UNLIMITED) as client:
            service = CatchUp(tracker, lambda: client, history_days=DAYS)
            result = await service.run_once()
            again = time.perf_counter()
            second = await service.run_once()
            again = time.perf_counter() - again
        return {
            "fetched": result.fetched,
            "recovered": result.recovered,
            "pages": result.pages,
            "calls": store.count_calls(),
            "missed_groups": len(store.missed_groups()),
            "second_run_s": round(again, 3),
            "second_run_pages": second.pages,
        }
    finally:
        store.close()


def measured(mode: str, base: str, data: str) -> None:
    """Child process: one run, then its numbers as a JSON line."""
    before_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    if mode == "fetch":
        numbers = asyncio.run(fetch_only(base))
    else:
        numbers = asyncio.run(catch_up(base, Path(data)))
    numbers["seconds"] = round(time.perf_counter() - started, 3)
    numbers["rss_start_mib"] = round(before_kib / 1024, 1)  # Linux: KiB
    numbers["rss_peak_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(numbers))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--measure", choices=["fetch", "store"], help=argparse.SUPPRESS)
    parser.add_argument("--base", help=argparse.SUPPRESS)
    parser.add_argument("--data", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.calls))
        return
    if args.measure:
        measured(args.measure, args.base, args.data)
        return

    me = [sys.executable, __file__]
    server = subprocess.Popen(
        [*me, "--serve", "--calls", str(args.calls)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base = server.stdout.readline().strip()
        print(f"{args.calls} history calls from the fake PBX at {base}")
        for run in range(args.runs):
            for mode in ("fetch", "store"):
                with tempfile.TemporaryDirectory() as data:
                    out = subprocess.run(
                        [*me, "--measure", mode, "--base", base, "--data", data],
                        capture_output=True,
                        text=True,
                        check=True,
                    ).stdout
                label = "baseline (fetch+parse)" if mode == "fetch" else "catch-up (store)"
                print(f"run {run + 1} {label:<24} {out.strip()}", flush=True)
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

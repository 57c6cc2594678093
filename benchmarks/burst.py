"""Burst benchmark: the tray app taking a day's backlog at once, in two ways.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/burst.py [--events 10000] [--calls 10000]

1. team: an agent's PC back after a day off. `bulutpop relay` runs in a process of its own
   with its managed Mosquitto (as benchmarks/team.py starts it); agents 1001 and 1002.
   Each agent's persistent session is made (connect, subscribe, leave), then --events
   events for each (half `ringing`, half `hangup`: yesterday's calls from 1,000 callers,
   nobody answered) are posted to the relay's webhook and queued by the broker.
   Then the tray app's own pieces (`DesktopApp(use_tray=False)` over a Core in team mode:
   the runtime's TeamLink, CoreBridge, the popups, the tray's fallback window and the
   missed-call list, open) start on the qasync loop and take 1001's queue. Timed from the
   link's "connected" to the last event stored. A second into the drain a live call
   rings 1001 (posted to the relay, so it queues behind the backlog): its popup must
   appear, and none for the old ones.
   Baselines, same run: 1002's queue (as many events) drained by a bare aiomqtt client
   (no store) on the same loop; the same events' JSON inserted into a bare SQLite table,
   500 a transaction (raw store inserts); and the same events into a store through the
   tracker alone, 100 a batch, as the link hands them over (no MQTT, no UI).
2. catch-up: a solo PC whose catch-up brings --calls history calls (benchmarks/catchup.py's
   fake PBX, in a process of its own, rate limits lifted on both sides). Timed from the
   runtime's start to the catch-up's end. Baselines: fetching and parsing the same pages;
   the catch-up alone into a store (benchmarks/catchup.py's, no UI).

Both: a 5 ms heartbeat on the loop (the longest the Qt loop was blocked while events
arrived; target <= 50 ms), how often the tray and the missed list were refreshed (they must
not repaint per event), the tray count and the list against the store, and events/s
(target >= 2,000/s).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from common import Heartbeat, load_average, relay_setup
from team import Processes, wait_http, wait_listening

from bulutpop.calls.events import PBX_TZ
from bulutpop.devtools.fakepbx import DEMO_KEY

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

TARGET_RATE = 2000.0
TARGET_BLOCK_MS = 50.0
CALLERS = 1000
LIVE_AFTER_S = 1.0


def backlog(count: int, extension: str) -> list[bytes]:
    """`count` events of yesterday's calls to `extension` that nobody answered (ringing,
    then hangup) from 1,000 callers."""
    start = datetime.now(PBX_TZ) - timedelta(days=1)
    bodies = []
    for n in range(count // 2):
        began = start + timedelta(seconds=5 * n)
        stamp = began.strftime("%Y-%m-%d %H:%M:%S")
        base = (
            f"domain_id=101&direction=inbound&caller_id_number=0532{n % CALLERS:07d}"
            f"&destination_number={extension}&dialed_user={extension}"
            f"&call_uuid=burst-{extension}-{n:06d}&start_stamp={stamp}"
        )
        ended = (began + timedelta(seconds=20)).strftime("%Y-%m-%d %H:%M:%S")
        bodies.append(f"event_type=ringing&{base}".encode())
        bodies.append(
            f"event_type=hangup&{base}&end_stamp={ended}&duration=0&answered=false"
            f"&hangup_cause=NO_ANSWER".encode()
        )
    return bodies


def live_ring() -> bytes:
    stamp = datetime.now(PBX_TZ).strftime("%Y-%m-%d %H:%M:%S")
    return (
        f"event_type=ringing&domain_id=101&direction=inbound&caller_id_number=05559990000"
        f"&destination_number=1001&dialed_user=1001&call_uuid=live-call&start_stamp={stamp}"
    ).encode()


async def post_all(url: str, bodies: list[bytes], concurrency: int = 16) -> None:
    import aiohttp

    queue = list(reversed(bodies))
    headers = {"Content-Type": "application/x-www-form-urlencoded"}

    async def worker(session: aiohttp.ClientSession) -> None:
        while queue:
            body = queue.pop()
            async with session.post(url, data=body, headers=headers) as response:
                if response.status != 200:
                    raise SystemExit(f"the relay answered {response.status}")

    async with aiohttp.ClientSession() as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))


def outbox_left(relay_store: Path) -> int:
    with sqlite3.connect(f"file:{relay_store}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM outbox WHERE acked_ts IS NULL").fetchone()[0])


def raw_inserts(bodies: list[bytes], folder: Path) -> float:
    """Baseline: the events' JSON into a bare SQLite table, 500 a transaction; events/s."""
    conn = sqlite3.connect(folder / "raw.sqlite3", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, payload BLOB)")
    began = time.perf_counter()
    for start in range(0, len(bodies), 500):
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO events (payload) VALUES (?)",
            [
                (json.dumps({"kind": "event", "body": b.decode()}),)
                for b in bodies[start : start + 500]
            ],
        )
        conn.execute("COMMIT")
    took = time.perf_counter() - began
    conn.close()
    return len(bodies) / took


async def tracker_alone(bodies: list[bytes], folder: Path) -> tuple[float, float]:
    """Baseline: the same events into a store of their own through the tracker, as the
    team link hands them over; (events/s, events per CPU second of this process)."""
    from bulutpop.calls.events import CallEvent, decode_fields
    from bulutpop.calls.tracker import CallTracker
    from bulutpop.storage.store import Store

    store = Store(folder / "alone" / "store.sqlite3")
    tracker = CallTracker(store, frozenset({"1001"}))
    events: list[tuple[CallEvent, bytes | None]] = [
        (CallEvent(decode_fields(body)), body) for body in bodies
    ]
    cpu, began = time.process_time(), time.perf_counter()
    for start in range(0, len(events), 100):
        batch = events[start : start + 100]
        if hasattr(tracker, "ingest_batch"):
            await tracker.ingest_batch(batch, "team")
        else:  # the code before issue 16, for a before/after comparison
            await asyncio.gather(*(tracker.ingest(e, raw, "team") for e, raw in batch))
    took, cpu = time.perf_counter() - began, time.process_time() - cpu
    store.close()
    return len(events) / took, len(events) / cpu


class Watch:
    """What the app did while the burst arrived: refreshes of the tray and the missed list,
    popups and rings."""

    def __init__(self, desktop: Any) -> None:
        from bulutpop.ui.missed.window import MissedWindow

        self.missed_signals = 0
        self.tray_refreshes = 0
        self.list_resets = 0
        self.popups: dict[str, float] = {}
        self.rings = 0
        desktop.bridge.missedChanged.connect(self._missed)
        shell = desktop.shell
        refresh = shell.refresh

        def counted_refresh() -> None:
            self.tray_refreshes += 1
            refresh()

        shell.refresh = counted_refresh  # type: ignore[method-assign]
        desktop.bridge.missedChanged.disconnect(refresh)
        desktop.bridge.missedChanged.connect(counted_refresh)
        desktop.show_missed()
        window = desktop._windows["missed"]
        assert isinstance(window, MissedWindow)
        self.window = window
        window.model.modelReset.connect(self._reset)
        ring = desktop.popups._ring

        def counted_ring() -> None:
            self.rings += 1
            ring()

        desktop.popups._ring = counted_ring
        add = desktop.popups._add

        def counted_add(call: Any, state: Any) -> Any:
            self.popups[call.call_uuid] = time.perf_counter()
            return add(call, state)

        desktop.popups._add = counted_add

    def _missed(self) -> None:
        self.missed_signals += 1

    def _reset(self) -> None:
        self.list_resets += 1


def check_end(desktop: Any, watch: Watch) -> list[str]:
    """The tray count and the missed list against the store."""
    store = desktop.core.store
    open_count = store.open_missed_count()
    groups = store.missed_groups(limit=1000)
    problems = []
    if desktop.shell.count != open_count:
        problems.append(f"tray shows {desktop.shell.count}, the store has {open_count}")
    if watch.window.model.rowCount() != len(groups):
        problems.append(f"list shows {watch.window.model.rowCount()} rows of {len(groups)}")
    return problems


async def until(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def block_line(late: list[float]) -> str:
    late = sorted(late) or [0.0]
    p99 = late[min(len(late) - 1, int(len(late) * 0.99))]
    worst = late[-1]
    verdict = "MET" if worst <= TARGET_BLOCK_MS else "MISSED"
    return f"loop blocked: max {worst:.1f} ms, p99 {p99:.1f} ms (target <= 50 ms: {verdict})"


def rate_line(events: int, seconds: float) -> str:
    rate = events / seconds
    verdict = "MET" if rate >= TARGET_RATE else "MISSED"
    return (
        f"{events} events in {seconds:.2f} s = {rate:,.0f} events/s (target >= 2,000/s: {verdict})"
    )


async def team_phase(args: argparse.Namespace, home: Path, procs: Processes) -> None:
    from bulutpop.app.core import Core
    from bulutpop.local import config as config_mod
    from bulutpop.local.config import Dirs
    from bulutpop.team.link import session_client
    from bulutpop.team.protocol import Address, Invite, subscriptions
    from bulutpop.team.relay.agents import Agents
    from bulutpop.team.relay.service import broker_files, invite_for
    from bulutpop.ui.app import DesktopApp
    from bulutpop.ui.i18n import Translations

    relay = relay_setup(home)
    env, config, listen_port, broker_port = relay.env, relay.config, relay.listen, relay.broker
    core = Core.open(env)
    try:
        agents = Agents(core.store, broker_files(core))
        invites = {}
        for ext in ("1001", "1002"):
            agent, secret = agents.add(ext)
            invites[ext] = Invite.parse(invite_for(core.config, agent, secret).encode())
        relay_store = core.dirs.store_file
        procs.broker_pid_files.append(agents.files.pid_file)
    finally:
        core.close()
    procs.start("relay", [sys.executable, "-m", "bulutpop", "relay", "--allow-root"], env=env)
    wait_http(f"http://127.0.0.1:{listen_port}/health")
    wait_listening(broker_port)
    address = Address.parse(config.broker_public_url)
    for ext, invite in invites.items():  # the persistent sessions, then the PCs are off
        client = session_client(address, invite.agent, invite.secret, None)
        async with client:
            await client.subscribe(subscriptions(ext))

    bodies = backlog(args.events, "1001")
    webhook = f"http://127.0.0.1:{listen_port}{config.webhook_path()}"
    began = time.perf_counter()
    await post_all(webhook, [*bodies, *backlog(args.events, "1002")])
    await until(lambda: not outbox_left(relay_store), 120, "the relay's outbox")
    print(f"queued {len(bodies)} events for each PC in {time.perf_counter() - began:.1f} s")

    # Baseline: 1002's queue, drained by a bare aiomqtt client on this loop.
    heartbeat = Heartbeat()
    bare = session_client(address, invites["1002"].agent, invites["1002"].secret, None)
    got = 0
    async with bare:
        await bare.subscribe(subscriptions("1002"))
        heartbeat.start()
        began = time.perf_counter()
        async for _message in bare.messages:
            got += 1
            if got == len(bodies):
                break
        took = time.perf_counter() - began
    late = await heartbeat.stop()
    print(f"baseline, bare aiomqtt drain: {rate_line(got, took)}; {block_line(late)}")
    print(f"baseline, raw SQLite inserts: {raw_inserts(bodies, home):,.0f} events/s")
    rate, cpu = await tracker_alone(bodies, home)
    print(
        f"baseline, the store alone (CallTracker.ingest_batch, 100 a batch, no MQTT, no UI):"
        f" {rate:,.0f} events/s, {cpu:,.0f} events per CPU second"
    )

    # The tray app, as 1001's PC.
    invite = invites["1001"]
    pc_env = {
        "BULUTPOP_CONFIG_DIR": str(home / "pc" / "config"),
        "BULUTPOP_DATA_DIR": str(home / "pc" / "data"),
        "BULUTPOP_TEAM_SECRET": invite.secret,
    }
    pc_dirs = Dirs.from_env(pc_env)
    config_mod.save(
        pc_dirs, invite.apply(config_mod.load(pc_dirs, pc_env)).with_value("language", "en")
    )
    pc = Core.open(pc_env)
    done = asyncio.Event()
    desktop = DesktopApp(pc, Translations(), done.set, use_tray=False)
    watch = Watch(desktop)
    heartbeat.start()
    load = load_average()
    await desktop.start()
    link = desktop.runtime.link
    assert link is not None
    await until(lambda: link.status.state == "connected", 30, "the link to connect")
    began, cpu = time.perf_counter(), time.process_time()
    live_at = 0.0
    while link.received < len(bodies):
        if not live_at and time.perf_counter() - began > LIVE_AFTER_S:
            live_at = time.perf_counter()
            asyncio.get_running_loop().create_task(post_all(webhook, [live_ring()], 1))
        if time.perf_counter() - began > 300:
            raise SystemExit(f"only {link.received} of {len(bodies)} events after 300 s")
        await asyncio.sleep(0.02)
    took, cpu = time.perf_counter() - began, time.process_time() - cpu
    if not live_at:  # drained sooner: the live call comes after the backlog
        live_at = time.perf_counter()
        await post_all(webhook, [live_ring()], 1)
    total = len(bodies) + 1
    await until(lambda: "live-call" in watch.popups, 30, "the live call's popup")
    late = await heartbeat.stop()
    await watch.window.model.settled()
    stored = pc.store.event_count("team")
    print(f"load average {load} at the start of the drain, {load_average()} at its end")
    print(f"tray app: {rate_line(len(bodies), took)}; {block_line(late)}")
    print(f"tray app: {len(bodies) / cpu:,.0f} events per CPU second (all its threads)")
    print(f"stored {stored} of {total} events ({'nothing lost' if stored == total else 'LOST'})")
    print(
        f"refreshes: missedChanged {watch.missed_signals}, tray {watch.tray_refreshes},"
        f" missed list {watch.list_resets} (for {len(bodies)} events)"
    )
    old_popups = [u for u in watch.popups if u != "live-call"]
    live = watch.popups.get("live-call")
    live_text = f"{(live - live_at):.2f} s after it was posted" if live else "NEVER"
    print(
        f"popups: {len(old_popups)} for old calls, {watch.rings} rings;"
        f" the live call popped up {live_text} (behind the backlog in the broker's queue)"
    )
    problems = check_end(desktop, watch)
    print(
        f"at the end: tray {desktop.shell.count}, list {watch.window.model.rowCount()} rows"
        f" ({'correct' if not problems else '; '.join(problems)})"
    )
    await desktop.stop()
    pc.close()


async def catchup_phase(args: argparse.Namespace, home: Path) -> None:
    import catchup as bench

    from bulutpop.app.core import Core
    from bulutpop.pbx.client import PbxClient
    from bulutpop.ui.app import DesktopApp
    from bulutpop.ui.i18n import Translations

    server = subprocess.Popen(  # noqa: ASYNC220 - set-up, before anything is measured
        [sys.executable, bench.__file__, "--serve", "--calls", str(args.calls)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        base = server.stdout.readline().strip()
        heartbeat = Heartbeat()
        heartbeat.start()
        began = time.perf_counter()
        fetched = await bench.fetch_only(base)
        took = time.perf_counter() - began
        late = await heartbeat.stop()
        print(
            f"baseline, fetch and parse only: {rate_line(fetched['fetched'], took)};"
            f" {block_line(late)}"
        )

        (home / "alone").mkdir(parents=True)
        cpu, began = time.process_time(), time.perf_counter()
        alone = await bench.catch_up(base, home / "alone")
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
        print(
            f"baseline, the catch-up alone (CatchUp.run_once twice, no UI):"
            f" {alone['fetched']} records in {took:.2f} s, {alone['fetched'] / cpu:,.0f} per CPU"
            f" second; {alone['missed_groups']} missed groups"
        )

        env = {
            "BULUTPOP_CONFIG_DIR": str(home / "solo" / "config"),
            "BULUTPOP_DATA_DIR": str(home / "solo" / "data"),
            "BULUTPOP_API_KEY": DEMO_KEY,
            "BULUTPOP_API_URL": base,
        }
        core = Core.open(env)
        await core.update_config(
            core.config.with_value("extension", "1001")
            .with_value("listen_port", "0")
            .with_value("listen_host", "127.0.0.1")
            .with_value("language", "en")
            .with_value("history_days", str(bench.DAYS))
        )
        await core.load_secrets()
        # The app's client, with the PBX's rate limits lifted (as the fake PBX's are).
        core._api = PbxClient(base, DEMO_KEY, redactor=core.redactor, api_limits=bench.UNLIMITED)
        core._api_for = core._endpoint()
        done = asyncio.Event()
        desktop = DesktopApp(core, Translations(), done.set, use_tray=False)
        watch = Watch(desktop)
        catchup = desktop.bridge.catchup
        heartbeat.start()
        load = load_average()
        began, cpu = time.perf_counter(), time.process_time()
        await desktop.start()
        await until(lambda: catchup.status.last_run is not None, 300, "the catch-up")
        took, cpu = time.perf_counter() - began, time.process_time() - cpu
        late = await heartbeat.stop()
        await watch.window.model.settled()
        if catchup.status.error is not None:
            raise SystemExit(f"the catch-up failed: {catchup.status.error}")
        stored = core.store.event_count("history")
        print(f"load average {load} at the start of the catch-up, {load_average()} at its end")
        print(f"tray app catch-up: {rate_line(stored, took)}; {block_line(late)}")
        print(f"tray app catch-up: {stored / cpu:,.0f} events per CPU second (all its threads)")
        print(
            f"stored {stored} of {fetched['fetched']} history records"
            f" ({'nothing lost' if stored == fetched['fetched'] else 'LOST'})"
        )
        print(
            f"refreshes: missedChanged {watch.missed_signals}, tray {watch.tray_refreshes},"
            f" missed list {watch.list_resets}; popups {len(watch.popups)}, rings {watch.rings}"
        )
        problems = check_end(desktop, watch)
        print(
            f"at the end: tray {desktop.shell.count}, list {watch.window.model.rowCount()} rows"
            f" ({'correct' if not problems else '; '.join(problems)})"
        )
        await desktop.stop()
        core.close()
    finally:
        if server.stdin is not None:
            server.stdin.close()
        server.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000, help="queued team events")
    parser.add_argument("--calls", type=int, default=10_000, help="history calls caught up")
    parser.add_argument("--only", choices=["team", "catchup"], help="run one part")
    args = parser.parse_args()

    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    print(f"load average at the start: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="bulutpop-burst-") as tmp:
        home = Path(tmp)
        logs = home / "logs"
        logs.mkdir()
        procs = Processes(logs)

        async def run() -> None:
            if args.only in (None, "team"):
                print("== team: a PC back after a day off ==")
                await team_phase(args, home / "team", procs)
            if args.only in (None, "catchup"):
                print("== catch-up of the PBX's history ==")
                await catchup_phase(args, home / "catchup")

        try:
            qasync.run(run())
        finally:
            procs.stop_all()
    del app
    print(f"load average at the end: {load_average()}")


if __name__ == "__main__":
    main()

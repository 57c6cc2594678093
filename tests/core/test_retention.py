"""Retention (KVKK, issue 17): what is older than the settings keep goes, at start and
daily, in small batches that let incoming events through, and the file gives the space
back; cached recordings go by the age of their download."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from bulutpop.app.core import Core
from bulutpop.app.runtime import Runtime
from bulutpop.calls.events import PBX_TZ, parse_body
from bulutpop.calls.tracker import CallTracker
from bulutpop.errors import ConfigError
from bulutpop.local.config import Config, Dirs
from bulutpop.pbx.receiver import Receiver
from bulutpop.storage.store import MIGRATIONS, SCHEMA_VERSION, Store, _run_migration
from bulutpop.storage.team import ClaimRow, TeamTables
from tests.conftest import free_port, until, until_sync, wait_for_http
from tests.core.conftest import post_form, run_cli

DAY = 86400.0
PADDING = "x" * 2000  # a raw body of a realistic size, so purged calls free whole pages


def body(n: int, start: float, number: str = "05321234567") -> bytes:
    stamp = datetime.fromtimestamp(start, PBX_TZ).strftime("%Y-%m-%d %H:%M:%S")
    return (
        f"event_type=ringing&direction=inbound&caller_id_number={number}"
        f"&destination_number=1001&dialed_user=1001&call_uuid=call-{n:06d}"
        f"&start_stamp={stamp}&note={PADDING}"
    ).encode()


def fill(tracker: CallTracker, count: int, start: float, first: int = 0) -> None:
    """`count` calls (one event each) that started at `start`, as the webhook stores them."""

    for n in range(first, first + count):
        raw = body(n, start)
        parsed = parse_body(raw)
        assert parsed.event is not None
        tracker.ingest_sync(parsed.event, raw, "webhook")


def test_purge_goes_in_batches_and_takes_everything_older(
    store: Store, tracker: CallTracker
) -> None:
    now = time.time()
    fill(tracker, 30, now - 800 * DAY)
    fill(tracker, 5, now - DAY, first=100)
    old, new = now - 800 * DAY, now - DAY

    store.run(store.add_rejected, b"new junk", "bad", "", "webhook")
    store.run(store.add_rejected, b"old junk", "bad", "", "webhook")
    store.run(store.record_access, "call-000001", "play", "this PC", old)
    store.run(store.record_access, "call-000100", "download", "this PC", new)

    def age() -> None:
        with store.transaction() as conn:
            conn.execute("INSERT INTO dismissals VALUES ('+905321234567', ?)", (old,))
            conn.execute("INSERT INTO dismissals VALUES ('+905321234567', ?)", (new,))
            TeamTables.put_claim_in(conn, ClaimRow("+905551112233", "a", "A", old))
            conn.execute("UPDATE rejected SET received_ts = ? WHERE raw = ?", (old, b"old junk"))
            # A call that never got a start goes once its events are old.
            conn.execute("UPDATE calls SET start_ts = NULL WHERE call_uuid = 'call-000000'")
            conn.execute(
                "UPDATE events SET received_ts = ? WHERE call_uuid = 'call-000000'", (old,)
            )

    store.run(age)
    cutoff = now - 730 * DAY
    batches = []
    while removed := store.run(store.purge, cutoff, 10):
        batches.append(removed)
    # Each batch: at most 10 calls with their events, 10 stray events, the startless
    # calls, and 10 rows of each other kind.
    assert len(batches) >= 3 and max(batches) <= 10 * 2 + 10 + 1 + 4 * 10
    assert sorted(c.call_uuid for c in store.calls()) == [f"call-{n:06d}" for n in range(100, 105)]
    assert store.event_count() == 5
    assert [raw for _, raw in store.rejected()] == [b"new junk"]
    assert store.read("SELECT at_ts FROM dismissals")[0][0] == new
    assert store.read("SELECT COUNT(*) FROM claims")[0][0] == 0
    assert [a.call_uuid for a in store.accesses()] == ["call-000100"]  # the audit follows
    assert store.run(store.purge, cutoff, 10) == 0


def test_an_older_store_is_compacted_once_so_it_can_give_space_back(isolated: Path) -> None:
    path = Dirs.from_env().store_file
    path.parent.mkdir(parents=True)
    conn = sqlite3.connect(path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[:5], 1):
        _run_migration(conn, script, version)
    conn.execute("INSERT INTO meta VALUES ('kept', 'yes')")
    assert conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 0
    conn.close()
    store = Store(path)
    try:
        assert store.read("PRAGMA auto_vacuum")[0][0] == 2  # incremental
        assert store.read("PRAGMA user_version")[0][0] == SCHEMA_VERSION
        assert store.meta("kept") == "yes"
    finally:
        store.close()


def test_retention_settings_have_defaults_and_bounds() -> None:
    config = Config()
    assert (config.keep_calls_days, config.keep_recordings_days) == (730, 30)
    assert config.with_value("keep_calls_days", "90").keep_calls_days == 90
    for bad in ("0", "-1", "many"):
        with pytest.raises(ConfigError):
            config.with_value("keep_recordings_days", bad)


@pytest.mark.slow
async def test_purging_lets_incoming_events_through(isolated: Path) -> None:
    core = Core.open()
    fill(core.tracker, 3000, time.time() - 800 * DAY)
    receiver = Receiver(core.tracker, core.config.token, "127.0.0.1", 0)
    await receiver.start()
    url = f"http://127.0.0.1:{receiver.port}{core.config.webhook_path()}"
    store = core.store
    try:
        purge = asyncio.create_task(Runtime(core).purge())
        await until(lambda: store.event_count() < 3000, what="the first batch")
        async with aiohttp.ClientSession() as session:
            started = time.monotonic()
            async with session.post(url, data=body(999_999, time.time(), "05551112233")) as r:
                assert r.status == 200
            answered = time.monotonic() - started
        assert not purge.done()  # answered between two batches, not after the purge
        assert answered < 1.0
        assert await purge == 3000 * 2
    finally:
        await receiver.stop()
        core.close()
    store = Store(Dirs.from_env().store_file)
    try:
        assert [c.call_uuid for c in store.calls()] == ["call-999999"]
        assert store.read("PRAGMA freelist_count")[0][0] == 0  # the space went back
    finally:
        store.close()


@pytest.mark.slow
def test_serve_purges_at_start_and_gives_the_space_back(isolated: Path) -> None:
    data = Dirs.from_env()
    store = Store(data.store_file)
    tracker = CallTracker(store, frozenset({"1001"}))
    fill(tracker, 2000, time.time() - 100 * DAY)
    fill(tracker, 3, time.time() - DAY, first=5000)
    store.close()
    size_before = data.store_file.stat().st_size
    recordings = data.cache / "recordings"
    recordings.mkdir(parents=True)
    old, fresh = recordings / "call-000001.wav", recordings / "call-005000.wav"
    for path in (old, fresh):
        path.write_bytes(b"RIFF" + bytes(1000))
    os.utime(old, (time.time(), time.time() - 8 * DAY))  # downloaded 8 days ago
    port = free_port()
    for key, value in (
        ("listen_port", str(port)),
        ("keep_calls_days", "30"),
        ("keep_recordings_days", "7"),
    ):
        assert run_cli("config", "set", key, value).returncode == 0

    process = subprocess.Popen(
        [sys.executable, "-m", "bulutpop", "serve"], stderr=subprocess.PIPE, text=True
    )
    try:
        wait_for_http(f"http://127.0.0.1:{port}/health", process)
        url = run_cli("webhook-url").stdout.strip()
        assert post_form(url, body(9000, time.time())) == 200

        def calls() -> int:
            with sqlite3.connect(data.store_file) as conn:
                return int(conn.execute("SELECT COUNT(*) FROM calls").fetchone()[0])

        until_sync(lambda: calls() == 4, timeout=20, what="the old calls purged")
        until_sync(
            lambda: data.store_file.stat().st_size < size_before / 2,
            timeout=20,
            what="the file shrinking",
        )
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0
    assert process.stderr is not None
    assert "retention: 4000 old rows and 1 cached recordings removed" in process.stderr.read()
    assert not old.exists() and fresh.exists()

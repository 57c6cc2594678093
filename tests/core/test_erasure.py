"""Erasure on request (KVKK, issue 17): `bulutpop forget NUMBER` run as a user runs it,
while the app holds the store open, leaves no trace of the number in the store's files
(database, WAL, shared memory) nor in the recordings cache, nor in log lines written after.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

from bulutpop.app.core import ERASED, Core, file_handler
from bulutpop.calls.events import parse_body
from bulutpop.calls.phone import canonical_key
from bulutpop.calls.tracker import CallTracker
from bulutpop.devtools.fakepbx import tone_wav
from bulutpop.local.config import Dirs
from bulutpop.local.redact import Redactor, install
from bulutpop.storage.store import Contact, Store
from bulutpop.storage.team import ClaimRow, TeamTables
from tests.conftest import scenario
from tests.core.conftest import FakePbx, Server, feed, run_cli_async

UUID = "6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01"  # scenario 01: 0212 320 50 62, recorded
KEY = canonical_key("02123205062")
# Every way the number may sit in a file: its digits (in 02123205062, 902123205062,
# +902123205062, %2B902123205062) and as people write it ("0212 320 50 62", form-encoded).
TRACES = (b"2123205062", b"212 320 50 62", b"212+320+50+62", b"212%20320%2050%2062")
OTHER = b"5321234567"  # scenario 02's caller: kept, which shows the search would find one


def store_bytes(path: Path) -> bytes:
    files = [path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")]
    return b"".join(f.read_bytes() for f in files if f.exists())


def lines(*fields: str) -> bytes:
    return "&".join(fields).encode()


async def test_forget_leaves_no_trace_in_the_stores_files_or_the_cache(
    store: Store, tracker: CallTracker, server: Server, fake_pbx: FakePbx, tmp_path: Path
) -> None:
    state, base = fake_pbx
    state.recordings[UUID] = tone_wav(1.0)
    for name in ("01", "02", "06"):
        for body in scenario(name):
            assert (await server.post(body))[0] == 200
    # The number written as people write it, in another call (1001 calls them back) and
    # in a field of a colleague's call that only the raw body holds (a transfer target).
    stamp = "start_stamp=2026-11-20 10:00:00"
    outbound = [
        "event_type=ringing",
        "direction=outbound",
        "caller_id_number=1001",
        "destination_number=0212+320+50+62",
        "call_uuid=aaaa0000-0000-4000-8000-000000000001",
        stamp,
    ]
    transfer = [
        "event_type=ringing",
        "direction=inbound",
        "caller_id_number=05559876543",
        "destination_number=1002",
        "transfer_to=%2B90%20212%20320%2050%2062",
        "call_uuid=bbbb0000-0000-4000-8000-000000000002",
        stamp,
    ]
    for body in (lines(*outbound), lines(*transfer)):
        assert (await server.post(body))[0] == 200
    # A body refused (no call_uuid) is kept for inspection: with the number in it.
    assert (await server.post(lines("event_type=ringing", "caller_id_number=902123205062")))[0] in (
        200,
        400,
    )
    assert any(b"2123205062" in raw for _, raw in store.rejected())

    # What the user and the team added about the number.
    def extras() -> None:
        with store.transaction() as conn:
            store.set_local_name(conn, KEY, "Ahmet Kaya")
            store.replace_contacts(
                conn,
                "csv",
                "rehber.csv",
                [
                    Contact("1", "Ahmet Kaya", "Kaya Ltd", (("cep", "0212 320 50 62"),)),
                    Contact("2", "Büro", "", (("iş", "0212 320 50 62"), ("iş", "05321234567"))),
                ],
            )
            TeamTables.put_claim_in(conn, ClaimRow(KEY, "agent1002", "Ayşe", time.time()))

    store.run(extras)
    await tracker.mark_done(KEY)

    # The recording is fetched and saved by the command line: cached, and audited.
    saved = tmp_path / "out.wav"
    code, _, err = await run_cli_async("recording", UUID, "-o", str(saved), api=base)
    assert code == 0, err
    cache = Dirs.from_env().cache / "recordings"
    assert [p.stem for p in cache.iterdir()] == [UUID]
    assert [(a.action, a.party) for a in store.accesses()] == [("download", "02123205062")]
    assert any(t in store_bytes(store.path) for t in TRACES)

    code, out, err = await run_cli_async("forget", "+90 (212) 320-50-62", "--yes")
    assert code == 0, err
    assert out.strip() == "Erased: 3 calls, 6 events, 4 names, 1 missed groups, 1 claims."
    assert not any(t.decode() in out + err for t in TRACES)

    data = store_bytes(store.path)  # the app still holds the store open: WAL and all
    assert OTHER in data
    assert [t for t in TRACES if t in data] == []
    assert list(cache.iterdir()) == []
    assert saved.exists()  # a copy the user saved elsewhere is theirs to delete
    # The audit keeps who downloaded which call, without the number.
    assert [(a.action, a.call_uuid, a.party) for a in store.accesses()] == [("download", UUID, "")]
    assert store.call(UUID) is None and store.calls(search="320 50") == []
    assert store.name_for(KEY) is None
    assert [s.contacts for s in store.contact_sources()] == [1]  # "Büro" keeps its other number
    assert {g.number for g in store.missed_groups(include_resolved=True)} == {
        "+905321234567",
        "1002",
    }
    assert store.read("SELECT COUNT(*) FROM claims")[0][0] == 0
    assert store.read("SELECT COUNT(*) FROM dismissals")[0][0] == 0
    assert store.rejected() == []
    code, out, _ = await run_cli_async("audit")
    assert code == 0 and "(erased)" in out and UUID in out


async def test_log_lines_after_forget_show_the_number_masked(tmp_path: Path) -> None:
    redactor = Redactor()
    core = Core.open(redactor=redactor)
    logger = logging.getLogger("bulutpop.test.erasure")
    handler = file_handler(tmp_path / "logs" / "bulutpop.log")
    logger.addHandler(handler)
    install(redactor, logger)
    try:
        logger.warning("before: %s", "02123205062")
        await core.forget("0212 320 50 62")
        logger.warning("caller %s, %s, %s", "+902123205062", "0212 320 50 62", "902123205062")
    finally:
        logger.removeHandler(handler)
        handler.close()
        core.close()
    before, after = (tmp_path / "logs" / "bulutpop.log").read_text().splitlines()
    assert "02123205062" in before
    assert after.endswith(f"caller +90{ERASED}, {ERASED}, 90{ERASED}")


async def test_forget_refuses_an_extension_and_asks_before_erasing(
    tracker: CallTracker, store: Store
) -> None:
    feed(tracker, "01")
    code, _, err = await run_cli_async("forget", "1001", "--yes")
    assert code == 2 and "not a phone number" in err
    code, _, err = await run_cli_async("forget", "0212 320 50 62")  # no terminal, no --yes
    assert code == 2 and "--yes" in err
    assert store.call(UUID) is not None


def test_events_arriving_between_the_scan_and_the_erasure_go_too(
    store: Store, tracker: CallTracker
) -> None:
    feed(tracker, "01")
    scanned = store.scan_mentions(KEY)  # on a reader, while the writer takes events
    assert scanned.call_uuids == (UUID,)
    later = lines(
        "event_type=ringing",
        "direction=inbound",
        "caller_id_number=05559876543",
        "destination_number=1001",
        "forwarded_from=902123205062",
        "call_uuid=cccc0000-0000-4000-8000-000000000003",
        "start_stamp=2026-11-20 11:00:00",
    )
    parsed = parse_body(later)
    assert parsed.event is not None
    tracker.ingest_sync(parsed.event, later, "webhook")
    gone = store.run(store.forget, KEY, scanned)
    assert sorted(gone.call_uuids) == sorted((UUID, "cccc0000-0000-4000-8000-000000000003"))
    assert store.calls() == [] and store.event_count() == 0

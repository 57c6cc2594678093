"""The store's history search and missed list: the indexes of schema 3 (trigram search, the
covering missed-list index) give exactly what the plain LIKE / GROUP BY queries give."""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulutpop.calls.model import Call
from bulutpop.calls.phone import canonical_key
from bulutpop.calls.text import fold
from bulutpop.cli import describe
from bulutpop.errors import StorageError
from bulutpop.storage.store import (
    MIGRATIONS,
    SCHEMA_VERSION,
    Store,
    _run_migration,
    require_search,
)
from tests.conftest import until_sync

NAMES = (
    "",
    "İstanbul Şube",
    "ışık ILIK",
    "Şule Güneş",
    "ÇAĞRI öztürk",
    'Ahmet "Büyük" Yılmaz',
    "50% off_sale",
    "NEAR(a b) OR c* AND NOT d",
    "KELVİN \u212a ſs",
    "back\\slash",
    "Ali Veli",
)
PARTIES = ("05321234567", "905321234567", "02121234567", "0532 123 45 67", "1002", "+90 555")


def make_call(n: int, party: str, name: str, *, missed: bool, direction: str) -> Call:
    return Call(
        call_uuid=f"c-{n:05d}",
        direction=direction,
        caller=party,
        destination="1001",
        dialed_users=("1001",),
        connected_user="" if missed else "1001",
        queue="",
        start_ts=1_700_000_000.0 + n * 60,  # distinct: the orders compared have no ties
        answer_ts=None,
        end_ts=None,
        duration=0,
        answered=not missed,
        ended=True,
        recording=False,
        hangup_cause="",
        party=party,
        party_key=canonical_key(party) or party,
        missed=missed,
        name=name,
    )


def sample_calls(count: int, seed: int = 3) -> list[Call]:
    rng = random.Random(seed)
    calls = []
    for n in range(count):
        party = rng.choice(PARTIES) if n % 4 else f"0532{rng.randrange(10**7):07d}"
        calls.append(
            make_call(
                n,
                party,
                rng.choice(NAMES),
                missed=rng.random() < 0.3,
                direction=rng.choice(("inbound", "inbound", "outbound", "internal")),
            )
        )
    return calls


def fill(store: Store, calls: Sequence[Call]) -> None:
    def write() -> None:
        with store.transaction() as conn:
            for call in calls:
                store.put_call(conn, call)

    store.run(write)


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """4,000 calls: enough for "053" to take the many-matches path (> 2,000)."""
    store = Store(tmp_path_factory.mktemp("search") / "store.sqlite3")
    calls = sample_calls(4000)
    fill(store, calls)

    # Some resolved episodes, so the missed list has resolved groups as well as open ones.
    def resolve() -> None:
        with store.transaction() as conn:
            for call in calls[::97]:
                if call.start_ts is not None:
                    store.resolve_earlier_missed(
                        conn, call.party_key, call.start_ts, "answered", call.call_uuid
                    )

    store.run(resolve)
    yield store
    store.close()


def like_reference(
    store: Store, search: str, keys: Sequence[str], missed_only: bool, direction: str
) -> list[str]:
    """Call uuids, newest first, as a LIKE-only query finds them: numbers as written (ASCII
    letters in either case), names folded (calls/text.py)."""
    clauses: list[str] = []
    params: list[Any] = []
    if missed_only:
        clauses.append("missed = 1")
    if direction:
        clauses.append("direction = ?")
        params.append(direction)
    if search:
        like = "%" + search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        folded = "%" + fold(search).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        alternatives = [
            "party LIKE ? ESCAPE '\\'",
            "bulutpop_fold(name) LIKE ? ESCAPE '\\'",
            "party_key LIKE ? ESCAPE '\\'",
        ]
        params += [like, folded + "%", like]
        alternatives += ["party_key = ?"] * len(keys)
        params += keys
        clauses.append("(" + " OR ".join(alternatives) + ")")
    where = ("WHERE " + " AND ".join(clauses)) if clauses else ""
    rows = store.read(
        f"SELECT call_uuid FROM calls {where} ORDER BY start_ts DESC, call_uuid", params
    )
    return [str(r[0]) for r in rows]


def assert_same_as_like(
    store: Store,
    search: str,
    keys: Sequence[str] = (),
    missed_only: bool = False,
    direction: str = "",
) -> None:
    expected = like_reference(store, search, keys, missed_only, direction)
    query: dict[str, Any] = {
        "search": search,
        "search_keys": keys,
        "missed_only": missed_only,
        "direction": direction,
    }
    assert store.count_calls(**query) == len(expected), query
    assert [c.call_uuid for c in store.calls(limit=200, **query)] == expected[:200], query
    assert [c.call_uuid for c in store.calls(limit=50, offset=170, **query)] == expected[170:220]


TRICKY = [
    "053",  # > 2,000 matches: the page walks calls_by_start
    "0532 123",
    "05321234567",
    "+90 555",
    "1002",
    '"',
    '"Büyük"',
    'a"b',
    '""""',
    "*",
    "c* ",
    " OR ",
    "OR",
    "NEAR(",
    "NEAR(a b)",
    "AND NOT",
    "^ab",
    "a:b",
    "(((",
    "%",
    "50%",
    "% o",
    "_",
    "f_s",
    "___",
    "\\",
    "back\\",
    "İst",
    "ist",
    "IST",
    "ışı",
    "IŞI",
    "ILIK",
    "ilik",
    "Şul",
    "şul",
    "ŞULE",
    "güneş",
    "GÜNEŞ",
    "ğ",
    "çağ",
    "ÇAĞ",
    "kel",
    "KELVİN",
    "kelvin",
    "\u212a ſ",
    "ss",
    "k ſ",
    "ali",
    "ALİ",
    "0 5 3",
    "   ",
    "12 ",
    "a\0b",
    "\0\0\0",
]


@pytest.mark.parametrize("search", TRICKY)
@pytest.mark.parametrize(
    ("missed_only", "direction"), [(False, ""), (True, ""), (False, "inbound")]
)
def test_search_is_the_like_search(
    big: Store, search: str, missed_only: bool, direction: str
) -> None:
    assert big._matches("053") > 2000  # the many-matches path is among those tested
    assert_same_as_like(big, search, (), missed_only, direction)
    # With canonical keys the caller derived, found besides the text.
    assert_same_as_like(big, search, ("905321234567", "902121234567"), missed_only, direction)


@settings(max_examples=150, deadline=None)
@given(
    search=st.text(alphabet='05321 4+"*%_\\()ORNEA:^-İıIiŞşĞğÇçÜüKkſ\u212a', max_size=8),
    missed_only=st.booleans(),
)
def test_any_search_is_the_like_search(big: Store, search: str, missed_only: bool) -> None:
    assert_same_as_like(big, search, (), missed_only)
    assert_same_as_like(big, search, ("905321234567",), missed_only)


def test_missed_groups_are_the_grouped_missed_calls(big: Store) -> None:
    for include_resolved in (False, True):
        resolved = "" if include_resolved else " AND resolved_ts IS NULL"
        reference = big.read(
            "SELECT party_key, COUNT(*), MIN(start_ts), MAX(start_ts), resolved_ts FROM calls"
            f" WHERE missed = 1{resolved} GROUP BY party_key, COALESCE(resolved_ts, -1)"
            " ORDER BY resolved_ts IS NOT NULL, MAX(start_ts) DESC"
        )
        groups = big.missed_groups(include_resolved=include_resolved, limit=10_000)
        got = [(g.number, g.count, g.first_ts, g.last_ts, g.resolved_ts) for g in groups]
        assert got == [tuple(r) for r in reference]
        assert any(g.resolved_ts for g in groups) == include_resolved
        # The bare columns come from each group's latest call.
        latest = {
            (str(r[0]), r[1]): str(r[2])
            for r in big.read(
                "SELECT party_key, resolved_ts, call_uuid, MAX(start_ts) FROM calls"
                " WHERE missed = 1 GROUP BY party_key, resolved_ts"
            )
        }
        assert all(latest[(g.number, g.resolved_ts)] == g.last_call_uuid for g in groups)
    assert big.open_missed_count() == len(big.missed_groups(limit=10_000))
    # A limit keeps the first groups of that order: open ones, then the latest resolved.
    everything = big.missed_groups(include_resolved=True, limit=10_000)
    opened = big.open_missed_count()
    for limit in (opened // 2, opened + 3):
        assert big.missed_groups(include_resolved=True, limit=limit) == everything[:limit]


def test_a_schema_2_store_migrates_and_finds_its_old_calls(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    conn = sqlite3.connect(path, isolation_level=None)
    for version, script in enumerate(MIGRATIONS[:2], 1):
        _run_migration(conn, script, version)
    calls = sample_calls(300)
    columns = (
        "call_uuid, direction, caller, destination, dialed_users, connected_user, queue,"
        " start_ts, answer_ts, end_ts, duration, answered, ended, recording, hangup_cause,"
        " party, party_key, missed, source, name"
    )
    for c in calls:  # the columns a schema 2 store has
        conn.execute(
            f"INSERT INTO calls ({columns}) VALUES ({', '.join('?' * 20)})",
            (
                c.call_uuid, c.direction, c.caller, c.destination, json.dumps(c.dialed_users),
                c.connected_user, c.queue, c.start_ts, c.answer_ts, c.end_ts, c.duration,
                c.answered, c.ended, c.recording, c.hangup_cause, c.party, c.party_key,
                c.missed, c.source, c.name,
            ),
        )  # fmt: skip
    conn.close()

    store = Store(path)
    try:
        assert store.read("PRAGMA user_version")[0][0] == SCHEMA_VERSION
        for search in ("0532 123", "şule", "Şule", "BÜYÜK", "Büyük", '"B', "% off", "1002"):
            assert_same_as_like(store, search)
        assert store.count_calls(search="Şule") > 0
        # Names are found the Turkish way, whatever the case and the diacritics.
        assert store.count_calls(search="şule") == store.count_calls(search="SULE") > 0

        # The triggers keep the index in step with writes after the migration.
        party = calls[0].party
        fill(store, [make_call(0, party, "Zeynep Kaya", missed=False, direction="inbound")])
        fill(store, [make_call(9999, "0 850 000", "Yeni Arayan", missed=True, direction="inbound")])
        assert [c.call_uuid for c in store.calls(search="zeynep")] == ["c-00000"]
        assert [c.call_uuid for c in store.calls(search="ARAYAN")] == ["c-09999"]
        assert [c.call_uuid for c in store.calls(search="850 0")] == ["c-09999"]
        fill(store, [make_call(0, party, "Ayşe Demir", missed=False, direction="inbound")])
        assert store.calls(search="zeynep") == []
        assert [c.call_uuid for c in store.calls(search="ayşe")] == ["c-00000"]
    finally:
        store.close()


def test_commits_are_checkpointed_by_a_thread_of_their_own(tmp_path: Path) -> None:
    # The writer never checkpoints (a commit that did stalled every waiting event); the
    # store's own thread copies the WAL into the database file within about a second.
    store = Store(tmp_path / "store.sqlite3")
    try:
        before = store.path.stat().st_size
        fill(store, sample_calls(400))
        assert store.path.stat().st_size == before  # still only in the WAL
        until_sync(lambda: store.path.stat().st_size != before, 5, "a checkpoint")
    finally:
        store.close()


def test_a_sqlite_without_the_search_tokenizer_is_named_at_start(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    conn = sqlite3.connect(":memory:")
    require_search(conn, path)  # this machine's SQLite has it
    # A tokenizer this SQLite lacks, as the trigram one is lacking before SQLite 3.34.
    with pytest.raises(StorageError) as info:
        require_search(conn, path, tokenizer="no_such_tokenizer")
    assert info.value.problem == "unsupported"
    message, code = describe(info.value)
    assert "SQLite 3.34 or newer" in message and "no_such_tokenizer" in message and code == 1

"""Turkish-aware search (issue 13): the history, the missed list and `bulutpop calls
--search` find names whatever the Turkish case and the diacritics, and numbers however
they are written."""

from __future__ import annotations

import json

import pytest

from bulutpop.calls.tracker import CallTracker
from bulutpop.storage.history import HistoryFilter, TextMatch, history_terms
from bulutpop.storage.store import Store
from tests.core.conftest import feed, run_cli
from tests.core.test_store import fill, make_call

# (typed, what it must find)
TURKISH = [
    ("AYŞE", "Ayşe Kaya"),
    ("ayse", "Ayşe Kaya"),
    ("istanbul", "İstanbul Lojistik"),
    ("İSTANBUL", "İstanbul Lojistik"),
    ("ışık", "Işık Demir"),
    ("IŞIK", "Işık Demir"),
    ("isik", "Işık Demir"),
    ("sukru", "Şükrü Öztürk"),
    ("ŞÜKRÜ", "Şükrü Öztürk"),
    ("ozturk", "Şükrü Öztürk"),
]
NAMES = ["Ayşe Kaya", "İstanbul Lojistik", "Işık Demir", "Şükrü Öztürk", "Ali Veli"]
NUMBERS = ["05321000001", "02123000002", "05551000003", "904441000004", "+905061000005"]


def _fill_named(store: Store) -> None:
    fill(
        store,
        [
            make_call(n, number, name, missed=n % 2 == 0, direction="inbound")
            for n, (number, name) in enumerate(zip(NUMBERS, NAMES, strict=True))
        ],
    )


def _found(store: Store, text: str) -> list[str]:
    terms = history_terms(store, HistoryFilter(search=text))
    names = [c.name for c in store.calls(**terms)]
    assert store.count_calls(**terms) == len(names)
    return names


@pytest.mark.parametrize(("typed", "name"), TURKISH)
def test_history_finds_names_the_turkish_way(store: Store, typed: str, name: str) -> None:
    _fill_named(store)
    assert _found(store, typed) == [name]
    # Short prefixes (no trigram index) fold the same way.
    assert name in _found(store, typed[:2])


def test_names_from_address_books_and_own_edits_fold_too(
    store: Store, tracker: CallTracker
) -> None:
    feed(tracker, "02")  # 0532 123 45 67, no name from the PBX

    def name_it() -> None:
        with store.transaction() as conn:
            store.set_local_name(conn, "+905321234567", "Şükrü Işık")

    store.run(name_it)
    for typed in ("sukru", "IŞIK", "ışık", "ŞÜKRÜ ISIK"):
        assert [c.party_key for c in store.calls(**history_terms(store, HistoryFilter(typed)))] == [
            "+905321234567"
        ], typed


def test_numbers_in_any_written_form(store: Store) -> None:
    _fill_named(store)
    for typed in ("0532 100 00 01", "+90 532 100 0001", "532100", "905321000001"):
        assert _found(store, typed) == ["Ayşe Kaya"], typed


def test_rows_in_memory_match_as_the_store_does() -> None:
    for typed, name in TURKISH:
        assert TextMatch(typed).matches("+905321000001", ("05321000001",), (name,))
        assert not TextMatch(typed).matches("+905321000001", ("05321000001",), ("Ali Veli",))
    assert TextMatch("0532 100").matches("+905321000001", ("05321000001",), ())
    assert TextMatch("+90 532 100 00 01").matches("+905321000001", ("x",), ())
    assert TextMatch("").matches("1002", (), ())


@pytest.mark.slow
def test_the_command_line_searches_the_same_way(store: Store, tracker: CallTracker) -> None:
    _fill_named(store)
    feed(tracker, "02")

    def name_it() -> None:
        with store.transaction() as conn:
            store.set_local_name(conn, "+905321234567", "Işıl Çağlar")

    store.run(name_it)
    found = json.loads(run_cli("calls", "--search", "sukru", "--json").stdout)
    assert [c["name"] for c in found] == ["Şükrü Öztürk"]
    found = json.loads(run_cli("calls", "--search", "ISIL CAGLAR", "--json").stdout)
    assert [c["party"] for c in found] == ["05321234567"]
    plain = run_cli("calls", "--search", "istanbul")
    assert plain.returncode == 0 and "0212 300 00 02" in plain.stdout
    assert "No calls match." in run_cli("calls", "--search", "zeynep").stdout
    # The missed list's search: the same rules over its groups.
    missed = json.loads(run_cli("calls", "--missed", "--search", "ışıl", "--json").stdout)
    assert [g["number"] for g in missed] == ["+905321234567"]
    missed = json.loads(run_cli("calls", "--missed", "--search", "AYŞE", "--json").stdout)
    assert [g["number"] for g in missed] == ["+905321000001"]

"""Nothing may depend on the C locale: bulutpop's users run with LANG=tr_TR.UTF-8, where
"INSERT" does not lower to "insert", "I" lowers to "ı", and a piped Windows console cannot
write "←". The whole suite also runs under tr_TR.UTF-8 in CI (scripts/test)."""

from __future__ import annotations

import ast
import locale
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulutpop.calls.events import parse_body
from bulutpop.calls.text import fold
from bulutpop.calls.tracker import CallTracker
from bulutpop.local.config import Config
from bulutpop.storage.store import Store
from tests.conftest import scenario

PACKAGE = Path(__file__).resolve().parents[2] / "bulutpop"


@pytest.fixture
def turkish_c_locale() -> Iterator[None]:
    """The process's C locale set to Turkish, as Python and Qt do from LANG at start."""
    previous = locale.setlocale(locale.LC_ALL)
    try:
        locale.setlocale(locale.LC_ALL, "tr_TR.UTF-8")
    except locale.Error:
        pytest.skip("the tr_TR.UTF-8 locale is not generated here (scripts/setup --test)")
    try:
        yield
    finally:
        locale.setlocale(locale.LC_ALL, previous)


def test_events_become_calls_under_a_turkish_c_locale(
    turkish_c_locale: None, tmp_path: Path
) -> None:
    store = Store(tmp_path / "store.sqlite3")
    try:
        tracker = CallTracker(store, frozenset({"1001"}))
        bodies = scenario("02")
        for body in bodies:
            event = parse_body(body).event
            assert event is not None
            assert tracker.ingest_sync(event, body, "webhook") is not None  # not a dup
        assert store.open_missed_count() == 1
        last = parse_body(bodies[-1]).event
        assert last is not None
        assert tracker.ingest_sync(last, bodies[-1], "webhook") is None  # this one is
    finally:
        store.close()


def test_no_code_reads_cursor_rowcount() -> None:
    # Python < 3.12 decides whether a statement counts rows by lowering its first word with
    # the C locale: under Turkish rules rowcount is -1 for every INSERT (store.changed).
    offenders = [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
        for path in PACKAGE.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr == "rowcount"
    ]
    assert offenders == []


@pytest.mark.parametrize(("written", "value"), [("HAYIR", False), ("Hayır", False), ("EVET", True)])
def test_yes_and_no_in_turkish_whatever_the_case(written: str, value: bool) -> None:
    assert Config().with_value("ring_sound", written).ring_sound is value


def test_turkish_folding() -> None:
    assert fold("ŞÜKRÜ") == fold("Şükrü") == fold("sukru") == "sukru"
    assert fold("İSİM") == fold("isim") and fold("IŞIK") == "isik"


def test_the_command_line_writes_to_a_console_that_cannot_show_arrows(tmp_path: Path) -> None:
    # A Turkish Windows writes piped output in cp1254, which has no "←".
    env = {
        **os.environ,
        "BULUTPOP_CONFIG_DIR": str(tmp_path / "config"),
        "BULUTPOP_DATA_DIR": str(tmp_path / "data"),
    }
    store = Store(tmp_path / "data" / "bulutpop.sqlite3")
    try:
        tracker = CallTracker(store, frozenset({"1001"}))
        for body in scenario("01"):
            parsed = parse_body(body)
            assert parsed.event is not None
            tracker.ingest_sync(parsed.event, body, "webhook")
    finally:
        store.close()
    result = subprocess.run(
        [sys.executable, "-m", "bulutpop", "calls"],
        env={**env, "PYTHONIOENCODING": "cp1254"},
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert b"0212 320 50 62" in result.stdout

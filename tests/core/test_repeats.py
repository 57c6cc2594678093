"""A flood of one log line through the app's real logging set-up: held back to a few lines
with a count, while every other line still gets through, redacted."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from bulutpop.app.core import setup_logging
from bulutpop.local.redact import Redactor
from bulutpop.local.repeats import LIMIT, RepeatFilter
from tests.core.conftest import FakeClock

FLOOD = "socket.accept() out of system resource"


@pytest.fixture
def log_file(tmp_path: Path) -> Iterator[Path]:
    """The app's logging (stderr and a rotating file), undone afterwards."""
    root = logging.getLogger()
    before = (list(root.filters), root.level)
    path = tmp_path / "logs" / "bulutpop.log"
    setup_logging(Redactor(), log_file=path)
    yield path
    for handler in list(root.handlers):
        if any(isinstance(f, RepeatFilter) for f in handler.filters):
            root.removeHandler(handler)
            handler.close()
    root.filters[:] = before[0]
    root.setLevel(before[1])


@pytest.mark.slow
def test_a_flood_of_one_line_leaves_a_small_log_and_every_other_line(log_file: Path) -> None:
    flooding = logging.getLogger("asyncio")
    other = logging.getLogger("bulutpop.test")
    other.warning("before the flood")
    too_many = OSError(24, "Too many open files")
    for n in range(100_000):
        flooding.error(FLOOD, exc_info=too_many)
        if n % 10_000 == 0:
            other.warning("line %d of its own", n)
    other.warning("after the flood")
    # A credential in asyncio's lines is masked like any other.
    flooding.error("socket: key=agent1001:%s", "s" * 32)

    size = sum(p.stat().st_size for p in log_file.parent.iterdir())
    assert size < 50_000, size
    text = log_file.read_text(encoding="utf-8")
    assert text.count(f"asyncio: {FLOOD}\n") == LIMIT
    assert "before the flood" in text and "after the flood" in text
    assert all(f"line {n} of its own" in text for n in range(0, 100_000, 10_000))
    assert "s" * 32 not in text and "key=agent1001:K********" in text


def test_the_count_of_lines_held_back_comes_when_the_window_ends() -> None:
    clock = FakeClock()
    lines: list[str] = []

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Lines()
    handler.addFilter(RepeatFilter(handler, limit=2, window=10.0, clock=clock))
    logger = logging.getLogger("bulutpop.test_repeats")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for _ in range(5):
            logger.error("again\nwith details")
        logger.error("another")
        clock.advance(10.0)
        logger.error("again\nwith details")
    finally:
        logger.removeHandler(handler)
    assert lines == [
        "again\nwith details",
        "again\nwith details",
        "another",
        "again … repeated 3 more times",
        "again\nwith details",
    ]

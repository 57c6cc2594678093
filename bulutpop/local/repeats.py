"""Keeping one log line repeated thousands of times a second from filling the disk.

While the relay's port was flooded, asyncio logged "socket.accept() out of system resource"
about 10,000 times a second: 422 MB of log in two minutes, the lines around it rotated
away. A `RepeatFilter` on a handler lets the same message from the same logger through
`limit` times per `window` seconds and counts the rest; when that window has ended, one
line says how many were held back ("… repeated K more times"), written just before the
next line the handler gets (a filter has no timer of its own).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

LIMIT = 20
WINDOW = 60.0
# Distinct messages tracked at once; past it the oldest window ends early.
MAX_TRACKED = 1000

_Key = tuple[str, int, str]  # logger, level, message


@dataclass
class _Window:
    start: float
    seen: int = 0


class RepeatFilter(logging.Filter):
    """Rate-limits repeated records on one handler (each handler needs its own: a record
    passes every handler's filters)."""

    def __init__(
        self,
        handler: logging.Handler,
        limit: int = LIMIT,
        window: float = WINDOW,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._handler = handler
        self._limit = limit
        self._window = window
        self._clock = clock
        # In the order the windows started, so the ended ones are at the front.
        self._windows: dict[_Key, _Window] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        if hasattr(record, "repeated"):  # a summary of ours
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string: the record's own text is its identity
            message = str(record.msg)
        key = (record.name, record.levelno, message)
        now = self._clock()
        with self._lock:
            ended = self._end_windows(now)
            window = self._windows.get(key)
            if window is None:
                window = self._windows[key] = _Window(now)
            window.seen += 1
            passes = window.seen <= self._limit
        for ended_key, count in ended:
            self._handler.handle(_summary(ended_key, count))
        return passes

    def _end_windows(self, now: float) -> list[tuple[_Key, int]]:
        """Forget the windows that have ended; (key, records held back) for each that held
        some back."""
        ended = []
        while self._windows:
            key, window = next(iter(self._windows.items()))
            if now - window.start < self._window and len(self._windows) <= MAX_TRACKED:
                break
            del self._windows[key]
            if window.seen > self._limit:
                ended.append((key, window.seen - self._limit))
        return ended


def _summary(key: _Key, count: int) -> logging.LogRecord:
    name, level, message = key
    first_line = message.partition("\n")[0]
    record = logging.LogRecord(
        name, level, "", 0, "%s … repeated %d more times", (first_line, count), None
    )
    record.repeated = count
    return record

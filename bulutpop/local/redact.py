"""Keeping the PBX API key out of logs, error messages and tracebacks.

The key is account-wide (it can place calls and read every recording) and the PBX echoes it
back in error bodies (PBX-API.md), so every text that may leave the process through a log
line or an error dialog goes through a `Redactor` first.

Logging: `install()` puts a `RedactingFilter` on a logger (the root logger by default) and on
each handler it has *at that moment*. Handler filters are what count: a logger's own filters
only see records logged on that very logger, not those propagated from child loggers. A
handler added later is covered by wrapping it with `redacting_handler()` before adding it, or
by calling `install()` again (it never attaches the same redactor twice).
"""

from __future__ import annotations

import logging
import re
import traceback
from urllib.parse import quote, quote_plus

# K + 8 hex, then 4-4-4-12 hex groups: K12345678-1234-5678-4321-123456789012. No word
# boundaries on purpose: the key may follow `%3D` (URL-encoded '=') or run into other text.
KEY_PATTERN = re.compile(
    r"K[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.IGNORECASE
)
MASK = "K********"

# Shorter strings would mask innocent text everywhere (and are no real key anyway).
MIN_SECRET_LENGTH = 8


class Redactor:
    """Replaces registered secrets, and anything shaped like an API key, with `MASK`.

    Safe to share between threads: `add()` swaps in a new compiled pattern atomically.
    """

    def __init__(self, *secrets: str) -> None:
        self._masks: dict[str, str] = {}
        self._known: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def __repr__(self) -> str:
        return f"<Redactor with {len(self._masks)} secret form(s)>"

    def add(self, secret: str, mask: str = MASK) -> None:
        """Register a secret (or, with its own `mask`, an erased phone number); empty or
        short strings are ignored."""
        secret = secret.strip()
        if len(secret) < MIN_SECRET_LENGTH:
            return
        # The key travels in query strings and form bodies, so it may appear encoded.
        forms = {secret, quote(secret, safe=""), quote_plus(secret)}
        masks = self._masks | dict.fromkeys(forms, mask)
        # Longest first, so a secret that contains another is masked whole.
        ordered = sorted(masks, key=len, reverse=True)
        self._known = re.compile("|".join(re.escape(s) for s in ordered))
        self._masks = masks

    def redact(self, text: str) -> str:
        if not text:
            return text
        known, masks = self._known, self._masks
        if known is not None:
            text = known.sub(lambda found: masks.get(found.group(0), MASK), text)
        return KEY_PATTERN.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """Rewrites a record so that no handler can render a secret from it.

    The message is formatted here (so secrets passed as arguments are caught), tracebacks
    and stack info are rendered to text and redacted. The record keeps no reference to the
    exception (`exc_info` becomes None): its args may hold the secret, and the standard
    `Formatter` prints `exc_text` without needing `exc_info`. Never drops a record.
    Applying the filter twice is harmless.
    """

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        redact = self.redactor.redact
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not make the secret escape unredacted
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = ()
        if record.exc_info and record.exc_info[0] is not None:
            if not record.exc_text:
                record.exc_text = "".join(traceback.format_exception(*record.exc_info))
                record.exc_text = record.exc_text.rstrip("\n")
            record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def _has_filter(filterer: logging.Filterer, redactor: Redactor) -> bool:
    return any(isinstance(f, RedactingFilter) and f.redactor is redactor for f in filterer.filters)


def redacting_handler(handler: logging.Handler, redactor: Redactor) -> logging.Handler:
    """Attach a filter for `redactor` to `handler` (once) and return the handler.

    Use it for handlers added after `install()`: `logger.addHandler(redacting_handler(h, r))`.
    """
    if not _has_filter(handler, redactor):
        handler.addFilter(RedactingFilter(redactor))
    return handler


def install(redactor: Redactor, logger: logging.Logger | None = None) -> None:
    """Redact everything `logger` (default: root) and its current handlers emit.

    Idempotent; call it again after adding handlers, or add them via `redacting_handler()`.
    """
    target = logger if logger is not None else logging.getLogger()
    if not _has_filter(target, redactor):
        target.addFilter(RedactingFilter(redactor))
    for handler in target.handlers:
        redacting_handler(handler, redactor)

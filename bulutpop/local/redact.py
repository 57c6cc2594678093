"""Keeping the PBX API key and team credentials out of logs, error messages and tracebacks.

The key is account-wide (it can place calls and read every recording) and the PBX echoes it
back in error bodies (PBX-API.md), so every text that may leave the process through a log
line or an error dialog goes through a `Redactor` first. A secret is found however the
text carries it: wrapped over lines, percent-encoded, inside a repr.

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

# What may stand between two characters of a secret in a text without hiding it from a
# reader: whitespace (a wrapped line), whitespace written as an escape (`\n` in a bytes
# repr, a str repr or JSON, its backslash doubled in a repr of those), or percent-encoded.
_GAP = r"(?:\s|\\+(?:[nrtvf]|x0[9a-d]|u000[9a-d])|%(?:0[9a-d]|20))*"


def _unit(chars: str, encoded: str) -> str:
    """One character of a secret, from `chars` (a character class's content), as itself or
    percent-encoded (`encoded`: the hex of those characters, as a pattern)."""
    return f"(?:[{chars}]|%(?:{encoded}))"


_HEX = _unit("0-9a-f", "3[0-9]|[46][1-6]")
_URL_SAFE = _unit("0-9a-z_-", "3[0-9]|[46][1-9a-f]|[57][0-9a]|2d|5f")
_NEXT_HEX = _GAP + _HEX  # a character after the first: a gap may come before it
_NEXT_DASH = _GAP + _unit("-", "2d")

# The PBX's API key (PBX-API.md): K + 8 hex, then 4-4-4-12 hex groups,
# K12345678-1234-5678-4321-123456789012, however a text carries it (see `_GAP`; yarl and
# quote() write `%4B` or `%2D` for characters that need no encoding). No word boundaries
# on purpose: the key may follow `%3D` (URL-encoded '=') or run into other text.
KEY_PATTERN = re.compile(
    _unit("k", "4b|6b") + _NEXT_DASH.join(f"(?:{_NEXT_HEX}){{{n}}}" for n in (8, 4, 4, 4, 12)),
    re.IGNORECASE,
)
# A team credential, `agent:secret` (`team.protocol.credential`), whose secret the relay
# makes with `secrets.token_urlsafe(24)` (`team.relay.agents`): 32 URL-safe characters
# right after a colon. The relay knows no agent's secret (it keeps hashes), so a request
# line it logs is masked by this shape. Exactly 32: a call's UUID (36) stays readable.
CREDENTIAL_PATTERN = re.compile(
    f"(?:(?<=:)|(?<=%3a)){_URL_SAFE}(?:{_GAP}{_URL_SAFE}){{31}}(?![0-9a-z_-])", re.IGNORECASE
)
# What `Redactor.add` registers: a URL-safe token of 32 or more characters (an agent's team
# secret, the relay's own secrets, the webhook token), alone or as a credential's secret.
# Anything else is no secret of ours: a "key" of one character would mask every line.
_SECRET_SHAPE = re.compile(r"(?:[^:\s]+:)?([0-9A-Za-z_-]{32,})")
MASK = "K********"
# The webhook token, masked under a name of its own: it is in every webhook URL the user
# sees, and masked like an API key it sent them looking for a key in the URL.
TOKEN_MASK = "<webhook token>"
# What a log shows where a number erased on request was (KVKK): from the erasure on, no line
# written names it.
ERASED = "<erased number>"
# Fewer digits than a Turkish service number (444 1234) would mask innocent text.
_MIN_ERASED_DIGITS = 7


def _tolerant(secret: str) -> str:
    """A pattern for `secret` with each character also percent-encoded, and gaps."""
    return _GAP.join(_unit(re.escape(c), f"{ord(c):02x}") for c in secret)


class Redactor:
    """Replaces registered secrets, and anything shaped like an API key or a team
    credential, with `MASK`.

    Safe to share between threads: `add()` swaps in a new compiled pattern atomically.
    """

    def __init__(self, *secrets: str) -> None:
        self._secrets: dict[str, str] = {}  # each secret's mask
        self._known: tuple[tuple[re.Pattern[str], str], ...] = ()
        self._erased: frozenset[str] = frozenset()
        self._erased_pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def __repr__(self) -> str:
        return f"<Redactor with {len(self._secrets)} secret(s)>"

    def add(self, secret: str, mask: str = MASK) -> None:
        """Register a secret shaped like one of ours (a token of 32 or more URL-safe
        characters, or a credential `name:token`), shown as `mask`; anything else is
        ignored, and so is an API key, which its shape masks already."""
        shaped = _SECRET_SHAPE.fullmatch(secret.strip())
        if shaped is None:
            return
        secrets = {**self._secrets, shaped[1]: mask}
        known = []
        for each in dict.fromkeys(secrets.values()):
            # Longest first, so a secret that contains another is masked whole.
            ordered = sorted((s for s, m in secrets.items() if m == each), key=len, reverse=True)
            pattern = re.compile("|".join(_tolerant(s) for s in ordered), re.IGNORECASE)
            known.append((pattern, each))
        self._known = tuple(known)
        self._secrets = secrets

    def erase(self, digits: str) -> None:
        """Mask a phone number erased on request as `ERASED` from now on: `digits`, the
        digits every written form of it holds (0532…, +90 532…), however spaced or
        percent-encoded. Fewer than 7 digits are ignored."""
        if len(digits) < _MIN_ERASED_DIGITS or not digits.isdecimal():
            return
        erased = self._erased | {digits}
        ordered = sorted(erased, key=len, reverse=True)
        self._erased_pattern = re.compile("|".join(_tolerant(d) for d in ordered))
        self._erased = erased

    def redact(self, text: str) -> str:
        if not text:
            return text
        known, erased = self._known, self._erased_pattern
        for pattern, mask in known:
            text = pattern.sub(mask, text)
        if erased is not None:
            text = erased.sub(ERASED, text)
        text = KEY_PATTERN.sub(MASK, text)
        return CREDENTIAL_PATTERN.sub(MASK, text)


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

"""Parsing the PBX's call-event notifications (PBX-API.md §2).

The PBX posts HTML-form bodies that are not always well formed (raw spaces, `t`/`f` or
`true`/`false`, empty fields). Parsing is lenient; what cannot be used is reported with a
one-line reason so the receiver can keep the raw body for inspection.
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

# The PBX reports local time in Turkey: UTC+3 all year since September 2016, +02:00/+03:00
# by season before that, which a fixed offset would read an hour off.
PBX_TZ = ZoneInfo("Europe/Istanbul")

KNOWN_TYPES = frozenset({"ringing", "answer", "hangup", "user_hangup"})

_TRUE = frozenset({"t", "true", "1", "yes", "on"})
_FALSE = frozenset({"f", "false", "0", "no", "off"})


class BadEvent(ValueError):
    """An authenticated body that cannot be used as a call event."""


@dataclass(frozen=True, slots=True)
class CallEvent:
    """One notification, with every field as sent (unknown ones included)."""

    fields: dict[str, str]

    def get(self, name: str) -> str:
        return self.fields.get(name, "").strip()

    @property
    def event_type(self) -> str:
        return self.get("event_type").lower()

    @property
    def call_uuid(self) -> str:
        return self.get("call_uuid")

    @property
    def known_type(self) -> bool:
        return self.event_type in KNOWN_TYPES

    def flag(self, name: str) -> bool | None:
        """A boolean field: None when absent, empty or unrecognised."""
        value = self.get(name).lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        return None

    def time(self, name: str) -> datetime | None:
        return parse_stamp(self.get(name))

    def number(self, name: str) -> int | None:
        try:
            return int(self.get(name))
        except ValueError:
            return None

    def dedup_key(self) -> str:
        """Same fields, same key: a redelivered event is recognised whatever its field order."""
        canonical = json.dumps(sorted(self.fields.items()), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()

    def to_json(self) -> str:
        return json.dumps(self.fields, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> CallEvent:
        return cls(dict(json.loads(text)))


@dataclass(frozen=True, slots=True)
class Parsed:
    """Outcome of parsing one body: a probe, a usable event, or an unusable one."""

    event: CallEvent | None = None
    probe: bool = False
    problem: str = ""
    fields: dict[str, str] = field(default_factory=dict)


# The shapes the PBX writes: `2016-01-01 00:00:00` (events), `… +0300` (history),
# `2016-01-01T00:00:00+0300`. datetime.fromisoformat reads them ~15× faster than strptime,
# which the history's all-distinct stamps made most of a catch-up's cost.
_USUAL_STAMP = re.compile(
    r"\d{4}-\d\d-\d\d (?:\d\d:\d\d:\d\d|\d\d:\d\d:\d\d [+-]\d{4})"
    r"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}"
)
_STAMP_FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z")


@functools.lru_cache(maxsize=1024)
def parse_stamp(text: str) -> datetime | None:
    """`YYYY-MM-DD HH:MM:SS` in PBX time, or with an explicit offset/`UTC` suffix (the CDRs)."""
    text = text.strip().replace(" UTC", " +0000")
    if not text:
        return None
    stamp: datetime | None = None
    if _USUAL_STAMP.fullmatch(text):
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            return None  # e.g. month 13: strptime refuses it too
    else:  # what strptime also takes: single-digit fields, `%z` spelled `+03:00` or `Z`
        for fmt in _STAMP_FORMATS:
            try:
                stamp = datetime.strptime(text, fmt)
            except ValueError:
                continue
            break
    if stamp is None:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=PBX_TZ)


def decode_fields(body: bytes) -> dict[str, str]:
    """Form fields of a body; a JSON object is accepted too. First occurrence of a key wins."""
    text = body.decode("utf-8", errors="replace")
    stripped = text.strip()
    if stripped.startswith("{"):
        try:
            data = json.loads(stripped)
        except ValueError:
            data = None
        if isinstance(data, dict):
            return {str(k): "" if v is None else str(v) for k, v in data.items()}
    fields: dict[str, str] = {}
    # The seed's example sends `start_stamp=2016-01-01 00:00:00` with a raw space: parse_qsl
    # keeps it, and `+` still decodes to a space for bodies that are encoded properly.
    for key, value in parse_qsl(text, keep_blank_values=True):
        fields.setdefault(key.strip(), value)
    return fields


def parse_body(body: bytes) -> Parsed:
    fields = decode_fields(body)
    if not fields.get("event_type", "").strip() and not fields.get("call_uuid", "").strip():
        # The URL-validation probe posts `{}`; anything else without event fields is
        # treated the same way so that saving the URL in the PBX never fails.
        return Parsed(probe=True, fields=fields)
    event = CallEvent(fields)
    if not event.call_uuid:
        return Parsed(problem="missing call_uuid", fields=fields)
    if not event.event_type:
        return Parsed(problem="missing event_type", fields=fields)
    if len(event.call_uuid) > 200:
        return Parsed(problem="call_uuid longer than 200 characters", fields=fields)
    return Parsed(event=event, fields=fields)


# -- parties as the PBX's history writes them -------------------------------------------------

EXTENSION = re.compile(r"\d{2,6}")
# `902125550101 (1014)`: the company line rang extension 1014; `1014 (902129510292)`: 1014
# called out on that line.
_WITH_LINE = re.compile(r"([^()]*?)\s*\(\s*([^()]*?)\s*\)")


@dataclass(frozen=True, slots=True)
class Party:
    """One side of a call: its own number (the extension when one is named) and the
    company line written beside it, if any."""

    number: str
    line: str = ""

    @property
    def extension(self) -> str:
        """The extension this side is, or ""."""
        return self.number if EXTENSION.fullmatch(self.number) else ""


@functools.lru_cache(maxsize=4096)
def party(text: str) -> Party:
    """A caller or destination as sent: plain (`05321234567`, `1001`) or `DID (EXT)` /
    `EXT (DID)`, whichever way round. Anything else is kept as written."""
    text = text.strip()
    match = _WITH_LINE.fullmatch(text)
    if match is not None:
        outer, inner = match.group(1).strip(), match.group(2).strip()
        outer_ext, inner_ext = EXTENSION.fullmatch(outer), EXTENSION.fullmatch(inner)
        if inner_ext and not outer_ext:
            return Party(inner, outer)
        if outer_ext and not inner_ext:
            return Party(outer, inner)
    return Party(text)

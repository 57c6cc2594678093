"""What the rest of the app sees: calls and missed-call groups, derived from stored events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from bulutpop.calls.events import PBX_TZ


def iso(ts: float | None) -> str | None:
    """ISO 8601 with the PBX's offset, the zone the PBX itself speaks."""
    return None if ts is None else datetime.fromtimestamp(ts, PBX_TZ).isoformat()


# A call as one user sees it (`Call.seen_by`).
Outcome = Literal[
    "ringing",  # ringing them now
    "stopped",  # their leg stopped ringing; whether anyone answers is not known yet
    "answered_by_me",
    "answered_elsewhere",  # a colleague answered or picked it up
    "missed",
    "ended",  # over, unanswered, and not missed for them
]


@dataclass(frozen=True, slots=True)
class Call:
    call_uuid: str
    direction: str  # inbound | outbound | internal | "" when unknown
    caller: str
    destination: str
    dialed_users: tuple[str, ...]  # every extension rung, in the order they were rung
    connected_user: str
    queue: str
    start_ts: float | None
    answer_ts: float | None
    end_ts: float | None
    duration: int | None
    answered: bool | None  # None while the call is still ringing
    ended: bool
    recording: bool
    hangup_cause: str
    # The other side of the call as the user sees it, and its matching key.
    party: str
    party_key: str
    missed: bool  # missed for the user: rang one of their extensions and nobody answered
    placed: bool = False  # the user placed it (outbound, or internal from their extension)
    # Unanswered and a leg has ended, yet the outcome is not final (see fold.py).
    pending: bool = False
    ringing: tuple[str, ...] = ()  # extensions still ringing
    source: str = "webhook"
    name: str = ""
    resolved_ts: float | None = None
    resolved_by: str = ""

    @property
    def state(self) -> str:
        """ringing, answered, ended, or waiting: every leg heard of has stopped ringing but
        the outcome is not known yet (a queue caller may still be answered)."""
        if self.ended:
            return "ended"
        if self.answered:
            return "answered"
        return "waiting" if self.pending and not self.ringing else "ringing"

    def rings(self, mine: frozenset[str]) -> bool:
        """Whether the call is for the user: it rings one of their extensions, or comes in
        to a number or queue they watch; never a call they placed themselves."""
        if self.placed:
            return False
        return bool(mine.intersection(self.dialed_users)) or bool(
            mine.intersection((self.destination, self.queue))
        )

    def rings_now(self, mine: frozenset[str]) -> bool:
        """Whether it is ringing the user right now: their leg has not ended (a watched
        queue or number rings them until the call is answered or over)."""
        if self.ended or self.answered or not self.rings(mine):
            return False
        if mine.intersection(self.dialed_users):
            return bool(mine.intersection(self.ringing))
        return True

    def seen_by(self, mine: frozenset[str]) -> Outcome:
        """What this call is for the user with extensions `mine`."""
        if self.answered:
            return "answered_by_me" if self.connected_user in mine else "answered_elsewhere"
        if self.ended:
            return "missed" if self.missed else "ended"
        return "ringing" if self.rings_now(mine) else "stopped"

    def to_json(self) -> dict[str, Any]:
        return {
            "call_uuid": self.call_uuid,
            "direction": self.direction,
            "caller": self.caller,
            "destination": self.destination,
            "dialed_user": self.dialed_users[-1] if self.dialed_users else "",
            "dialed_users": list(self.dialed_users),
            "connected_user": self.connected_user,
            "queue": self.queue,
            "start": iso(self.start_ts),
            "answer": iso(self.answer_ts),
            "end": iso(self.end_ts),
            "answered": self.answered,
            "missed": self.missed,
            "placed": self.placed,
            "pending": self.pending,
            "ringing": list(self.ringing),
            "duration": self.duration,
            "recording": self.recording,
            "hangup_cause": self.hangup_cause,
            "party": self.party,
            "name": self.name,
            "state": self.state,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class MissedGroup:
    """Missed calls from one caller since they were last answered or marked done."""

    number: str  # canonical key
    party: str  # the number as last written by the PBX
    display: str
    count: int
    first_ts: float
    last_ts: float
    last_call_uuid: str
    queue: str
    resolved_ts: float | None = None
    resolved_by: str = ""  # "answered" | "callback" | "user"
    name: str = ""

    @property
    def resolved(self) -> bool:
        return self.resolved_ts is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "display": self.display,
            "name": self.name,
            "count": self.count,
            "first": iso(self.first_ts),
            "last": iso(self.last_ts),
            "last_call_uuid": self.last_call_uuid,
            "queue": self.queue,
            "resolved": self.resolved,
            "resolved_at": iso(self.resolved_ts),
            "resolved_by": self.resolved_by or None,
        }

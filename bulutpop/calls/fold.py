"""From a call's events to the call: the rules that decide what happened (PBX-API.md §2).

A call has legs. A queue, a ring group or a `*8` pickup rings several extensions under one
`call_uuid`, and each extension's leg can end with a notification of its own, before or
after the call's final hangup; the PBX's history (`GET /cdrs`) likewise keeps one record
per extension rung. Events and records arrive in any order, and by two routes. `fold` is
pure: the same set of events gives the same call whatever their order or repetitions.

The rules, each in one place below:

* Answered: an `answer` event, an ending (hangup or history record) that shows an answer,
  or a leg that lost to another extension (`LOSE_RACE`: "Diğer dahili cevapladı",
  `PICKED_OFF`: "Çağrısı çekildi") — someone took the call. `connected_user` alone is not
  evidence: it equals `dialed_user` except on a pickup.
* Whether an ending shows an answer (`shows_answer`): the evidence decides over the flag.
  An answer time, a talk time above zero or the result "Cevaplandı" make it answered; when
  those fields are present and say none of that, it is unanswered, whatever its `answered`
  (or, in the history, `missed`) flag says. Only an ending without them falls back to the
  flag. Why: the vendor's texts describe the flag both ways round (report_event.md reads
  "true if missed"), and its own /cdrs sample has `missed: "true"` beside "Cevaplandı", an
  answer time and 35 s of talk; an answer time with talk cannot come from a call nobody
  took. A disagreement is reported with the call (`fold`'s note).
* Who answered, when it ended, how long they talked and the hangup cause come from the
  answered leg's ending (the webhook's before the history's), never from whichever leg
  ended last. A recording exists if any ending says so.
* An unanswered call has ended when its final outcome is known: a call with one leg (no
  queue or ring group, one extension rung) ends with its hangup; a call with several legs
  only when `SETTLE_EVENT` says so, because a leg's ending, even one that looks final,
  may be followed by a colleague's answer. Until then it is `pending`: not missed, still
  in progress (the tracker settles it; see `tracker.SETTLE_SECONDS`).
* Parties written `DID (EXT)` / `EXT (DID)` (`events.party`): the extension decides whose
  call it is, and is the side's own number; the company line beside it is only shown.
* Missed for the user: ended, unanswered, not placed by the user, and it rang one of
  their extensions, or its queue, destination or company line is one they watch.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from bulutpop.calls.events import KNOWN_TYPES, CallEvent, party
from bulutpop.calls.model import Call
from bulutpop.calls.phone import canonical_key
from bulutpop.calls.text import fold as fold_text

# A call's record in the PBX's history (catchup.py), as an event: one per leg.
HISTORY_EVENT = "cdr"
# Written by the tracker, never by the PBX: the outcome of this call is final now.
SETTLE_EVENT = "settle"
FOLDED_TYPES = KNOWN_TYPES | {HISTORY_EVENT, SETTLE_EVENT}
ENDINGS = frozenset({"hangup", "user_hangup", HISTORY_EVENT})

# Leg endings that mean another extension took the call.
LOST_CAUSES = frozenset({"LOSE_RACE", "PICKED_OFF"})
_LOST_RESULTS = frozenset({fold_text("Diğer dahili cevapladı"), fold_text("Çağrısı çekildi")})
_ANSWERED_RESULTS = frozenset({fold_text("Cevaplandı")})
# Fields that carry an ending's answer evidence; with none of them the flag decides.
_EVIDENCE_FIELDS = frozenset({"answer_stamp", "duration", "result"})

# Descriptive fields are merged with later events winning: the history's records rank
# lowest, so the webhook's own words are kept where both speak.
_RANK = {HISTORY_EVENT: -1, "ringing": 0, "answer": 1, "user_hangup": 2, "hangup": 3}


def _canonical(events: Iterable[CallEvent]) -> list[tuple[str, CallEvent]]:
    """Events (with their type) in an order that depends on their content alone, not on
    their arrival."""
    typed = [(kind, e) for e in events if (kind := e.event_type) in FOLDED_TYPES]
    if len(typed) < 2:  # most folds: a call's first event
        return typed
    return sorted(typed, key=lambda t: (_RANK.get(t[0], -2), sorted(t[1].fields.items())))


def leg_user(event: CallEvent) -> str:
    """The extension whose leg this event is about ("" when it names none)."""
    return party(event.get("dialed_user")).extension


def lost(event: CallEvent) -> bool:
    """A leg that ended because another extension answered or picked the call up."""
    return (
        event.get("hangup_cause").upper() in LOST_CAUSES
        or fold_text(event.get("result")) in _LOST_RESULTS
    )


def shows_answer(event: CallEvent) -> tuple[bool, str]:
    """Whether an ending shows that its leg was answered, and a note when its flag says
    otherwise. The evidence decides over the flag (see the module's rules)."""
    flag = event.flag("answered")
    if _EVIDENCE_FIELDS.isdisjoint(event.fields):
        return bool(flag), ""
    evidence = (
        bool(event.get("answer_stamp"))
        or (event.number("duration") or 0) > 0
        or fold_text(event.get("result")) in _ANSWERED_RESULTS
    )
    if flag is not None and flag != evidence:
        said = event.get("answered")
        return (
            evidence,
            f"answered={said!r} but its answer time, talk time and result say {evidence}",
        )
    return evidence, ""


def _stamp(event: CallEvent, name: str) -> float | None:
    moment = event.time(name)
    return moment.timestamp() if moment else None


def _latest(events: Sequence[CallEvent]) -> CallEvent | None:
    """The ending that closed the call: the webhook's hangup before a history record or a
    leg's own end, then the latest end time (canonical order breaks ties)."""
    kind = {"hangup": 2, HISTORY_EVENT: 1, "user_hangup": 0}
    best: CallEvent | None = None
    best_key: tuple[int, float] | None = None
    for event in events:
        key = (kind.get(event.event_type, 0), _stamp(event, "end_stamp") or -math.inf)
        if best_key is None or key >= best_key:
            best, best_key = event, key
    return best


def fold(
    call_uuid: str, events: Sequence[CallEvent], mine: frozenset[str], source: str = "webhook"
) -> tuple[Call, str]:
    """The call these events describe, as the user with extensions `mine` sees it, and a
    note when an ending's `answered`/`missed` flag disagreed with its evidence."""
    typed = _canonical(events)
    ordered = [e for _, e in typed]
    merged: dict[str, str] = {}
    settled = False
    for kind, event in typed:
        if kind == SETTLE_EVENT:
            settled = True
            continue
        for name, value in event.fields.items():
            if value := value.strip():
                merged[name] = value

    # Who was rung, in the order they were rung.
    first_rung: dict[str, float] = {}
    for event in ordered:
        user = leg_user(event)
        if user:
            at = _stamp(event, "start_stamp")
            at = math.inf if at is None else at
            first_rung[user] = min(first_rung.get(user, math.inf), at)
    dialed = tuple(sorted(first_rung, key=lambda u: (first_rung[u], u)))

    endings = [e for kind, e in typed if kind in ENDINGS]
    answers = [e for kind, e in typed if kind == "answer"]
    answered_ends: list[CallEvent] = []
    ended_legs: set[str] = set()
    notes: list[str] = []
    lost_leg = False
    for event in endings:
        ended_legs.add(leg_user(event))
        if lost(event):
            lost_leg = True
            continue
        took, note = shows_answer(event)
        if note:
            notes.append(note)
        if took:
            answered_ends.append(event)
    answered = bool(answers or answered_ends or lost_leg)

    queue = merged.get("queue", "")
    one_leg = not queue and len(dialed) <= 1
    if answered:
        final = _latest(answered_ends)
        ended = final is not None or settled
    else:
        final = _latest(endings)
        whole = any(e.event_type != "user_hangup" for e in endings)
        ended = bool(endings) and (settled or (one_leg and whole))

    connected = ""
    answer_ts: float | None = None
    if answered:
        if final is not None:
            connected = party(final.get("connected_user")).extension or leg_user(final)
        elif answers:
            first = min(answers, key=lambda e: _stamp(e, "answer_stamp") or math.inf)
            connected = party(first.get("connected_user")).extension or leg_user(first)
        stamps = [_stamp(e, "answer_stamp") for e in (*answers, *answered_ends)]
        answer_ts = min((s for s in stamps if s is not None), default=None)

    direction = merged.get("direction", "").lower()
    caller = party(
        merged.get("caller_id_number", "") or merged.get("outbound_caller_id_number", "")
    )
    destination = party(merged.get("destination_number", ""))
    placed = direction == "outbound" or (direction == "internal" and caller.number in mine)
    if placed:
        other, other_name = destination, merged.get("destination_name", "")
    else:
        other, other_name = caller, merged.get("caller_id_name", "")
    # A watched number is a queue, an extension or a company line (the DID of `DID (EXT)`).
    rang_me = bool(mine.intersection(dialed)) or bool(
        mine.intersection((destination.number, destination.line, queue))
    )
    starts = [_stamp(e, "start_stamp") for e in ordered]
    if ended and final is not None:
        end_ts = _stamp(final, "end_stamp")
        if not answered:  # the caller's wait ends with the last leg to end
            ends = [_stamp(e, "end_stamp") for e in endings]
            end_ts = max((s for s in ends if s is not None), default=end_ts)
    else:
        end_ts = None
    call = Call(
        call_uuid=call_uuid,
        direction=direction,
        caller=caller.number,
        destination=destination.number,
        dialed_users=dialed,
        connected_user=connected,
        queue=queue,
        start_ts=min((s for s in starts if s is not None), default=None),
        answer_ts=answer_ts,
        end_ts=end_ts,
        duration=final.number("duration") if final is not None and ended else None,
        answered=answered if (answered or ended) else None,
        ended=ended,
        recording=any(e.flag("recording_present") for e in endings),
        hangup_cause=final.get("hangup_cause") if final is not None and ended else "",
        party=other.number,
        party_key=canonical_key(other.number) if other.number else "",
        missed=ended and not answered and not placed and rang_me,
        placed=placed,
        pending=not answered and not ended and bool(endings),
        ringing=() if answered or ended else tuple(u for u in dialed if u not in ended_legs),
        source=source,
        name=other_name,
    )
    return call, notes[0] if notes else ""

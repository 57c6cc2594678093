"""When a ringing call is news: the rule behind the popup and the ring sound.

A ring is worth a popup only while the user can still pick it up. Events do not always
arrive as they happen: an agent's PC back after a day off receives the broker's whole queue
at once, in order, so each old call's `ringing` is stored (and heard of) before its
`hangup`. Such a call must not pop up or ring; a call ringing now still does, even in the
middle of that burst.
"""

from __future__ import annotations

from bulutpop.calls.model import Call

# A call that began longer ago than this is not news (what arrives that late is a backlog).
# Two minutes covers clocks a little apart and a ring that lasts; real rings end sooner.
RING_NEWS_SECONDS = 120.0
# A queue call may ring an agent long after it began: the caller waits in line first. Its
# own limit is the longest wait a queue would plausibly keep a caller.
QUEUE_RING_NEWS_SECONDS = 1800.0


def ring_is_news(call: Call, latest: Call | None, mine: frozenset[str], now: float) -> bool:
    """Whether `call` (as a `ringing` event left it) should pop up and ring for the user with
    extensions `mine` at `now`. `latest` is the call as the store has it now: what arrived
    in the same burst (its answer, its hangup) may already be there. No for a call already
    answered or over, or one that began too long ago (RING_NEWS_SECONDS, or
    QUEUE_RING_NEWS_SECONDS for a queue call); a call without a start time is judged by its
    state alone."""
    current = latest if latest is not None else call
    if not (call.rings_now(mine) and current.rings_now(mine)):
        return False
    if call.start_ts is None:
        return True
    limit = QUEUE_RING_NEWS_SECONDS if call.queue else RING_NEWS_SECONDS
    return now - call.start_ts <= limit

"""The rule behind the popup and the ring sound (calls.alerts): only a ring that is news."""

from __future__ import annotations

from dataclasses import replace

from bulutpop.calls.alerts import QUEUE_RING_NEWS_SECONDS, RING_NEWS_SECONDS, ring_is_news
from bulutpop.calls.model import Call

MINE = frozenset({"1001"})
NOW = 1_800_000_000.0
RINGING = Call(
    call_uuid="c1",
    direction="inbound",
    caller="05321234567",
    destination="1001",
    dialed_users=("1001",),
    connected_user="",
    queue="",
    start_ts=NOW - 3,
    answer_ts=None,
    end_ts=None,
    duration=None,
    answered=None,
    ended=False,
    recording=False,
    hangup_cause="",
    party="05321234567",
    party_key="5321234567",
    missed=False,
    ringing=("1001",),
)
OVER = replace(RINGING, ended=True, answered=False, missed=True, ringing=())


def test_a_ring_that_just_began_is_news() -> None:
    assert ring_is_news(RINGING, RINGING, MINE, NOW)
    assert ring_is_news(RINGING, None, MINE, NOW)  # not stored yet: its own state decides


def test_a_ring_whose_call_is_already_over_is_not() -> None:
    assert not ring_is_news(RINGING, OVER, MINE, NOW)
    answered = replace(RINGING, answered=True, connected_user="1002", ringing=())
    assert not ring_is_news(RINGING, answered, MINE, NOW)


def test_a_ring_from_a_call_that_began_long_ago_is_not() -> None:
    limit = RINGING.start_ts + RING_NEWS_SECONDS  # type: ignore[operator]
    assert ring_is_news(RINGING, RINGING, MINE, limit)
    assert not ring_is_news(RINGING, RINGING, MINE, limit + 1)
    assert not ring_is_news(RINGING, RINGING, MINE, NOW + 86400)  # a day-old backlog


def test_a_queue_caller_may_wait_in_line_before_the_ring() -> None:
    queued = replace(RINGING, queue="200", start_ts=NOW - 600)
    assert ring_is_news(queued, queued, MINE, NOW)
    old = replace(queued, start_ts=NOW - QUEUE_RING_NEWS_SECONDS - 1)
    assert not ring_is_news(old, old, MINE, NOW)


def test_a_ring_for_someone_else_or_without_a_start_follows_its_state() -> None:
    assert not ring_is_news(RINGING, RINGING, frozenset({"1005"}), NOW)
    unknown_start = replace(RINGING, start_ts=None)
    assert ring_is_news(unknown_start, unknown_start, MINE, NOW)

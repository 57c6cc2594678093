"""Team mode for a real office, with real processes (fake PBX → relay → Mosquitto → PCs):
a joining PC gets its recent calls, recovered calls and the office's names reach the PCs,
"done" and claims are the team's, PCs come back quickly after a relay restart, and a
removed agent's PC says so."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bulutpop.app.runtime import Runtime
from bulutpop.calls.events import PBX_TZ
from bulutpop.calls.phone import canonical_key
from bulutpop.devtools.fakepbx import history_records
from bulutpop.errors import TeamError, TeamRemoved
from bulutpop.local.config import Config
from bulutpop.pbx.phonebook import PhoneBook
from bulutpop.storage.store import COLLEAGUES_KEY, Contact, Store
from bulutpop.team.link import (
    FAST_RETRY,
    SLOW_RETRY,
    claim,
    claims,
    retry_delay,
    share_done,
    sync,
)
from bulutpop.team.protocol import INVITE_PREFIX, Invite
from bulutpop.team.relay.service import reload_broker
from tests.conftest import until
from tests.core.teamrig import AgentPc, TeamRig, event


def ago(seconds: float) -> str:
    """A PBX time stamp `seconds` before now."""
    return (datetime.now(PBX_TZ) - timedelta(seconds=seconds)).strftime("%Y-%m-%d %H:%M:%S")


def call(uuid: str, start: str, caller: str, *, answered: bool, **fields: str) -> list[bytes]:
    """A call's ringing and hangup, as the PBX posts them."""
    base = {"start_stamp": start, "caller_id_number": caller, **fields}
    end = {"answered": "true" if answered else "false", "end_stamp": start}
    return [event(uuid, **base), event(uuid, "hangup", **base, **end)]


def queue_missed(uuid: str, start: str, caller: str, queue: str = "200") -> list[bytes]:
    legs = {"destination_number": queue, "queue": queue, "dialed_user": "1002"}
    return call(uuid, start, caller, answered=False, **legs)


def open_missed(pc: AgentPc, count: int) -> Callable[[], bool]:
    return lambda: pc.core.store.open_missed_count() == count


async def test_a_pc_joining_after_100_calls_gets_its_own_week_and_none_of_the_others(
    rig: TeamRig,
) -> None:
    rig.add_agent("1002", queues=("300",), display="Mehmet")
    _, text = rig.add_agent("1001", queues=("200",), display="Ayşe")
    bodies: list[bytes] = []
    mine: set[str] = set()
    for n in range(100):
        uuid, caller = f"h-{n:03d}", f"0532123{n:04d}"
        if n < 10:  # 1001's, but older than history_days
            bodies += call(uuid, ago(9 * 86400 + n), caller, answered=True)
            continue
        start = ago(86400 * (n % 6) + n)
        if n % 4 == 0:  # 1001's own
            bodies += call(uuid, start, caller, answered=True)
            mine.add(uuid)
        elif n % 4 == 1:  # 1002's own
            fields = {"destination_number": "1002", "dialed_user": "1002"}
            bodies += call(uuid, start, caller, answered=True, **fields)
        elif n % 4 == 2:  # missed in queue 200, which 1001 shares
            bodies += queue_missed(uuid, start, caller)
            mine.add(uuid)
        else:  # missed in queue 300, which 1001 does not
            bodies += queue_missed(uuid, start, caller, "300")
    assert set(await rig.post(*bodies)) == {200}
    await rig.settle()
    await rig.outbox_empty()

    ayse = rig.join(Invite.parse(text), "ayse")
    await ayse.start()
    await until(lambda: set(ayse.call_uuids()) == mine, 30, "1001's week of calls")
    shared_missed = sum(1 for u in mine if int(u[2:]) % 4 == 2)
    await until(open_missed(ayse, shared_missed), what="the shared missed calls")
    events = len(ayse.call_uuids())

    # Asked again at once, the relay declines (it would only fill its outbox)...
    with pytest.raises(TeamError) as again:
        await sync(ayse.core.config, ayse.invite.secret)
    assert again.value.status == 429
    # ...and joining again later duplicates nothing.
    assert rig.relay is not None
    rig.relay.api.sync_spacing = 0
    assert await sync(ayse.core.config, ayse.invite.secret) > 0
    await rig.post(event("after-join"))
    await until(lambda: "after-join" in ayse.call_uuids(), what="an event after the sync")
    assert len(ayse.call_uuids()) == events + 1
    assert ayse.core.store.open_missed_count() == shared_missed
    assert set(ayse.call_uuids()) == mine | {"after-join"}


async def test_a_missed_call_recovered_by_the_relays_catchup_reaches_the_queue_once(
    rig: TeamRig,
) -> None:
    ayse = await rig.pc("1001", queues=("200",))
    mehmet = await rig.pc("1002", queues=("200",))
    outsider = await rig.pc("1003")
    for pc in (ayse, mehmet, outsider):
        await pc.start()
    # The relay never received the webhook (it was down): only the PBX's history has it.
    start = ago(600)
    legs = {"destination_number": "200", "queue": "200", "end_stamp": start}
    lost = [
        event("lost-1", "hangup", answered="false", start_stamp=start, dialed_user=ext, **legs)
        for ext in ("1001", "1002")
    ]
    rig.pbx.cdrs.extend(history_records(lost))
    assert rig.runtime is not None
    for _ in range(2):  # caught up twice: still one missed call
        await rig.runtime.catchup.run_once()
        await rig.outbox_empty()
    for pc in (ayse, mehmet):
        await until(open_missed(pc, 1), what="the recovered missed call")
        groups = pc.core.store.missed_groups()
        assert [(g.count, g.last_call_uuid) for g in groups] == [(1, "lost-1")]
    assert outsider.call_uuids() == []


async def test_the_offices_names_reach_the_pcs_and_follow_the_pbx(rig: TeamRig) -> None:
    rig.pbx.contacts = [
        {"id": "7", "name": "Ahmet", "surname": "Yılmaz", "phone": "05321234567"},
        {"id": "8", "name": "Zeynep", "surname": "Kaya", "phone": "05329876543"},
    ]
    rig.pbx.queues = {"200": "Satış"}
    ayse = await rig.pc("1001", queues=("200",), display="Ayşe")
    await rig.pc("1002", display="Mehmet")
    await ayse.start()
    assert rig.runtime is not None
    await rig.runtime.phonebook.sync_pbx()
    await rig.runtime.phonebook.sync_queues()
    ahmet, zeynep = canonical_key("05321234567"), canonical_key("05329876543")
    store = ayse.core.store
    await until(lambda: store.name_for(ahmet) == ("Ahmet Yılmaz", ""), what="the phonebook")
    await until(lambda: store.colleague_name("1002") == "Mehmet", what="colleagues' names")
    await until(lambda: ayse.core.store.meta("pbx.queues") == '{"200": "Satış"}', what="queues")
    # The agent's own name for a number still wins on their PC.
    await PhoneBook(ayse.core.tracker, ayse.core.api).set_local_name("05329876543", "Z. Hanım")

    rig.pbx.contacts[0]["name"] = "Ahmet Can"
    rig.pbx.contacts[1]["name"] = "Zehra"
    await rig.runtime.phonebook.sync_pbx()
    await until(lambda: store.name_for(ahmet) == ("Ahmet Can Yılmaz", ""), what="the new name")
    assert store.name_for(zeynep) == ("Z. Hanım", "")


async def shared_missed_call(rig: TeamRig) -> tuple[AgentPc, AgentPc, str]:
    """Ayşe's and Mehmet's PCs, both in queue 200, each listing the queue's missed caller
    (whose party key comes last)."""
    ayse = await rig.pc("1001", queues=("200",), display="Ayşe")
    mehmet = await rig.pc("1002", queues=("200",), display="Mehmet")
    await ayse.start()
    await mehmet.start()
    await rig.post(*queue_missed("q-1", ago(60), "05321234567"))
    await rig.settle()
    for pc in (ayse, mehmet):
        await until(open_missed(pc, 1), what="the shared missed call")
    return ayse, mehmet, ayse.core.store.missed_groups()[0].number


async def test_done_and_undo_on_a_shared_missed_call_reach_the_colleague(rig: TeamRig) -> None:
    ayse, mehmet, party = await shared_missed_call(rig)

    at = await ayse.core.tracker.mark_done(party)
    assert await share_done(ayse.core.config, ayse.invite.secret, party, at)
    await until(open_missed(mehmet, 0), what="the colleague's list to follow")
    assert mehmet.core.store.missed_groups(include_resolved=True)[0].resolved_by == "user"

    await ayse.core.tracker.undo_done(party, at)
    assert await share_done(ayse.core.config, ayse.invite.secret, party, at, undo=True)
    await until(open_missed(mehmet, 1), what="the undo to reopen it everywhere")
    await rig.outbox_empty()
    assert ayse.core.store.open_missed_count() == 1

    # A caller of the agent's own (no shared queue) stays a mark on their PC.
    await rig.post(*call("own-1", ago(30), "05329999999", answered=False))
    await until(open_missed(ayse, 2), what="an own missed call")
    own = canonical_key("05329999999")
    at = await ayse.core.tracker.mark_done(own)
    assert not await share_done(ayse.core.config, ayse.invite.secret, own, at)


async def test_a_colleague_takes_a_claim_over_and_everyone_sees_who_and_since_when(
    rig: TeamRig,
) -> None:
    ayse, mehmet, party = await shared_missed_call(rig)
    await claim(mehmet.core.config, mehmet.invite.secret, party)
    await until(lambda: party in claims(ayse.core.tracker, "agent1001"), what="the claim")
    held = claims(ayse.core.tracker, "agent1001")[party]
    assert held.display == "Mehmet (1002)" and held.at > 0

    with pytest.raises(TeamError) as refused:
        await claim(ayse.core.config, ayse.invite.secret, party)
    assert refused.value.status == 409
    taken = await claim(ayse.core.config, ayse.invite.secret, party, takeover=True)
    assert taken == "Ayşe (1001)"
    await until(
        lambda: claims(mehmet.core.tracker, "agent1002")[party].display == "Ayşe (1001)",
        what="the takeover on the colleague's PC",
    )
    assert claims(ayse.core.tracker, "agent1001")[party].mine


def test_retries_stay_quick_while_the_broker_was_recently_there() -> None:
    for failures in range(12):
        assert 0 < retry_delay(failures, since_connected=30.0) <= FAST_RETRY
    assert retry_delay(0, since_connected=1.0) <= 1.0  # right after a clean disconnect
    assert max(retry_delay(20, None) for _ in range(50)) > FAST_RETRY
    assert max(retry_delay(20, None) for _ in range(50)) <= SLOW_RETRY


@pytest.mark.slow
async def test_pcs_are_back_soon_after_a_relay_restart(rig: TeamRig) -> None:
    pc = await rig.pc("1001")
    await pc.start()
    # Down long enough for several failed tries: the old backoff was at 8 s and rising.
    await rig.stop_relay()
    await until(lambda: pc.statuses[-1].state == "reconnecting", what="the link to notice")
    await until(lambda: sum(s.state == "reconnecting" for s in pc.statuses) >= 4, 30)
    await rig.start_relay()
    await until(lambda: pc.statuses[-1].state == "connected", 15, "the PC to reconnect")
    await rig.post(event("after-restart"))
    await until(lambda: "after-restart" in pc.call_uuids(), what="events again")


async def test_a_removed_agents_pc_says_so_and_drops_the_shared_calls(rig: TeamRig) -> None:
    ayse = await rig.pc("1001", queues=("200",))
    runtime = Runtime(ayse.core)
    await runtime.start()
    try:
        await until(lambda: runtime.states["team"].state == "running", what="the link")
        await rig.post(*queue_missed("q-1", ago(60), "05321234567"))
        await rig.settle()
        await until(open_missed(ayse, 1), what="the shared missed call")
    finally:
        await runtime.stop()
    assert rig.relay is not None
    rig.relay.agents.remove(ayse.invite.agent)
    reload_broker(rig.core.config, rig.relay.files)

    runtime = Runtime(ayse.core)
    await runtime.start()
    try:
        await until(lambda: runtime.states["team"].state == "failed", what="the refusal")
        assert isinstance(runtime.states["team"].error, TeamRemoved)
        assert runtime.link is not None and runtime.link.status.state == "removed"
        await until(open_missed(ayse, 0), what="the team's shared calls to go")
        assert ayse.core.config.team_queues == ()
    finally:
        await runtime.stop()


def test_the_invite_carries_the_display_name_and_old_invites_still_parse() -> None:
    invite = Invite(
        "mqtt://relay:1883", "http://relay:8788", "agent1001", "s3cret-s3cret", "1001", ("200",)
    )
    named = Invite.parse(replace(invite, display="Ayşe").encode())
    assert (named.display, named.queues) == ("Ayşe", ("200",))
    assert named.apply(Config()).team_display == "Ayşe"
    packed = invite.encode()[len(INVITE_PREFIX) :]
    data = json.loads(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)))
    del data["display"]  # as invites made before it had one
    old = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    assert Invite.parse(INVITE_PREFIX + old) == invite


def test_colleague_names_come_from_the_phonebook_outside_a_team(tmp_path: Path) -> None:
    store = Store(tmp_path / "bulutpop.sqlite3")
    try:
        contacts = [
            Contact("1", "Mehmet Kaya", numbers=(("phone", "1002"),)),
            Contact("2", "Ahmet Yılmaz", numbers=(("phone", "05321234567"),)),
        ]

        def put() -> None:
            with store.transaction() as conn:
                Store.put_contacts(conn, "pbx", "", contacts, 1.0)

        store.run(put)
        assert store.colleague_name("1002") == "Mehmet Kaya"
        assert store.colleague_name("1003") is None
        # In a team, the relay's display name wins.
        store.run(store.set_meta, COLLEAGUES_KEY, '{"1002": "Mehmet"}')
        assert store.colleague_name("1002") == "Mehmet"
    finally:
        store.close()

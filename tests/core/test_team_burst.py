"""A PC back after a while away: the broker's queue arrives at once and is stored in
batches (team/link.py), in the order it was sent, nothing lost, nothing taken twice."""

from __future__ import annotations

from bulutpop.calls import phone
from bulutpop.storage.team import TeamTables
from bulutpop.team.protocol import forget_message, payload
from tests.conftest import until
from tests.core.teamrig import TeamRig, event

OTHER = {"caller_id_number": "05559876543"}


async def test_a_backlog_keeps_its_order_around_a_request_to_forget(rig: TeamRig) -> None:
    pc = await rig.pc("1001")
    await pc.start()  # the broker learns the session, then the PC is off for a while
    await pc.stop()
    before = [event(f"b-{n:03d}") for n in range(150)]
    others = [event(f"o-{n:03d}", **OTHER) for n in range(150)]
    after = [event("after-forget")]
    assert set(await rig.post(*before, *others)) == {200}
    await rig.outbox_empty()
    tables = TeamTables(rig.core.store)
    forget = forget_message(phone.canonical_key("05321234567"))
    damaged = ("bulutpop/ext/1001", payload("event", fields={"call_uuid": ""}))
    await rig.core.store.write(tables.queue, [forget, damaged])
    await rig.outbox_empty()
    assert await rig.post(*after) == [200]
    await rig.outbox_empty()

    await pc.start()
    await until(lambda: "after-forget" in pc.call_uuids(), timeout=30, what="the backlog")
    # What came before the request is forgotten; what came after it stays.
    assert pc.call_uuids() == [f"o-{n:03d}" for n in range(150)] + ["after-forget"]
    assert len(pc.core.store.rejected()) == 1  # the damaged one, kept aside once

    await pc.stop()  # everything was acknowledged: nothing comes again
    await pc.start()
    assert await rig.post(event("live")) == [200]
    await until(lambda: "live" in pc.call_uuids(), what="a live event")
    assert len(pc.call_uuids()) == 152 and len(pc.core.store.rejected()) == 1

"""Caller notes in a team (issue 13): a note one agent writes reaches every colleague's PC
through the relay and its broker; the latest write wins; the relay's erasure takes it."""

from __future__ import annotations

from functools import partial

from bulutpop.app.core import Core
from bulutpop.team.link import note
from tests.conftest import until
from tests.core.teamrig import TeamRig

NUMBER = "+905321234567"


def note_text(core: Core) -> str:
    found = core.store.note_for(NUMBER)
    return found.text if found is not None else ""


def has_note(core: Core, text: str) -> bool:
    return note_text(core) == text


async def test_a_note_reaches_every_colleague_and_the_latest_wins(rig: TeamRig) -> None:
    ayse = await rig.pc("1001", display="Ayşe")
    mehmet = await rig.pc("1002", display="Mehmet")
    await ayse.start()
    await mehmet.start()

    await note(ayse.core.config, ayse.invite.secret, "0532 123 45 67", "Faturayı yeniden istiyor")
    for core in (ayse.core, mehmet.core):
        await until(partial(has_note, core, "Faturayı yeniden istiyor"), what="the note")
    written = mehmet.core.store.note_for(NUMBER)
    assert written is not None and written.author == "Ayşe (1001)"
    assert note_text(rig.core) == "Faturayı yeniden istiyor"  # the relay keeps it too

    # Mehmet changes it; an older copy arriving late changes nothing.
    await note(mehmet.core.config, mehmet.invite.secret, NUMBER, "Geri aranacak, 15:00")
    await until(lambda: note_text(ayse.core) == "Geri aranacak, 15:00", what="the change")
    stale = ayse.core.store.run(ayse.core.store.write_note, NUMBER, "eski", "", 1.0)
    assert stale is False and note_text(ayse.core) == "Geri aranacak, 15:00"

    # Emptied by one agent: gone on every PC.
    await note(ayse.core.config, ayse.invite.secret, NUMBER, "")
    for core in (ayse.core, mehmet.core):
        await until(partial(has_note, core, ""), what="the removal")


async def test_a_pc_that_was_off_gets_the_note_and_the_relay_forgets_it(rig: TeamRig) -> None:
    ayse = await rig.pc("1001", display="Ayşe")
    mehmet = await rig.pc("1002", display="Mehmet")
    await ayse.start()
    await mehmet.start()
    await mehmet.stop()  # a session the broker keeps
    await note(ayse.core.config, ayse.invite.secret, NUMBER, "VIP müşteri")
    await rig.outbox_empty()
    await mehmet.start()
    await until(lambda: note_text(mehmet.core) == "VIP müşteri", what="the note after reconnecting")

    assert rig.relay is not None
    await rig.core.forget(NUMBER)
    assert note_text(rig.core) == ""

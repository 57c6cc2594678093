"""Team mode's shared list and details as the agent sees them: taking a colleague's claim
over after a confirmation, a claim's refusal that goes once the caller is resolved, the
team's details in Settings → Team, an extension that only a new invite changes, and a PC
removed from the team."""

from __future__ import annotations

import time
from pathlib import Path

from pytestqt.qtbot import QtBot

from bulutpop.app.core import Core
from bulutpop.team import link as team
from bulutpop.team.link import Claim, TeamStatus
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.missed.window import MissedWindow, TakeoverConfirmation
from bulutpop.ui.tray import describe_team
from tests.conftest import until
from tests.core.teamrig import TeamRig, event
from tests.ui.conftest import Loop, MakeDialog
from tests.ui.test_team_ui import (
    QUEUE_CALL,
    desktop_for,
    invite,
    join,
    no_quit,  # noqa: F401  (a fixture)
    note,
    with_rig,
)


def test_the_takeover_box_says_who_holds_the_claim_and_since_when(
    qtbot: QtBot, core: Core, bridge: CoreBridge
) -> None:
    window = MissedWindow(bridge)
    qtbot.addWidget(window)
    box = TakeoverConfirmation(window, Claim("Mehmet (1002)", at=time.time() - 300))
    assert box.text() == "Mehmet (1002) claimed this callback 5 min ago."
    assert box.take_button.text() == "Take over and call"
    assert box.defaultButton() is not box.take_button  # Enter does not take it over
    box.deleteLater()


def test_a_colleague_takes_a_claim_over_after_confirming(
    qloop: Loop,
    tmp_path: Path,
    no_quit: None,  # noqa: F811
) -> None:
    asked: list[Claim | None] = []
    answers: list[bool] = []

    async def confirm(claim: Claim | None) -> bool:
        asked.append(claim)
        return answers.pop(0)

    async def scenario(rig: TeamRig) -> None:
        ayse = await rig.pc("1001", queues=("200",), display="Ayşe")
        mehmet = await rig.pc("1002", queues=("200",), display="Mehmet")
        desktop = desktop_for(ayse.core)
        try:
            await desktop.start()
            await mehmet.start()
            await until(lambda: "Team: connected" in desktop.shell.tooltip, what="the link")
            await rig.post(
                event("q-1", dialed_user="1002", **QUEUE_CALL),
                event("q-1", "hangup", dialed_user="1002", answered="false", **QUEUE_CALL),
            )
            await rig.settle()
            await until(lambda: ayse.core.store.open_missed_count() == 1, what="the missed call")
            desktop.show_missed()
            window = desktop._windows["missed"]
            assert isinstance(window, MissedWindow)
            window._confirm_takeover = confirm
            await until(lambda: window.model.rowCount() == 1, what="the row")
            party = window.model.group(0).number
            await team.claim(mehmet.core.config, mehmet.invite.secret, party)
            await until(lambda: "Mehmet (1002) is calling back" in note(window), what="claim")
            assert "(claimed just now)" in note(window)

            # Declined: nobody is rung, and the refusal stays until the caller is resolved.
            answers.append(False)
            await window.call_back(0)
            assert asked[-1] is not None and asked[-1].display == "Mehmet (1002)"
            assert window.status_text() == "Mehmet (1002) is already calling back."
            assert rig.pbx.originates == []

            # Confirmed: the claim is Ayşe's on Mehmet's PC too, and the call is placed.
            answers.append(True)
            await window.call_back(0)
            assert len(rig.pbx.originates) == 1
            await until(
                lambda: team.claims(mehmet.core.tracker)[party].display == "Ayşe (1001)",
                what="the takeover on Mehmet's PC",
            )

            # Another refusal, then Mehmet's callback is answered: the refusal goes.
            await team.claim(mehmet.core.config, mehmet.invite.secret, party, takeover=True)
            await until(lambda: "Mehmet (1002) is calling back" in note(window), what="back")
            answers.append(False)
            await window.call_back(0)
            assert "already calling back" in window.status_text()
            callback = {
                "direction": "outbound",
                "caller_id_number": "1002",
                "destination_number": "905321234567",
                "dialed_user": "",
                "start_stamp": "2026-11-20 10:30:00",
            }
            await rig.post(
                event("cb-1", **callback),
                event("cb-1", "answer", answer_stamp="2026-11-20 10:30:05", **callback),
            )
            await until(lambda: window.model.rowCount() == 0, what="the resolution")
            await until(lambda: window.status_text() == "", what="the refusal to go")
        finally:
            await desktop.stop()

    with_rig(qloop, tmp_path, scenario)


def test_done_on_a_shared_caller_clears_the_colleagues_list_and_undo_reopens_it(
    qloop: Loop,
    tmp_path: Path,
    no_quit: None,  # noqa: F811
) -> None:
    async def scenario(rig: TeamRig) -> None:
        ayse = await rig.pc("1001", queues=("200",), display="Ayşe")
        mehmet = await rig.pc("1002", queues=("200",), display="Mehmet")
        desktop = desktop_for(ayse.core)
        try:
            await desktop.start()
            await mehmet.start()
            await rig.post(
                event("q-1", dialed_user="1002", **QUEUE_CALL),
                event("q-1", "hangup", dialed_user="1002", answered="false", **QUEUE_CALL),
            )
            await rig.settle()
            await until(lambda: mehmet.core.store.open_missed_count() == 1, what="shared")
            await until(lambda: ayse.core.store.open_missed_count() == 1, what="shared")
            desktop.show_missed()
            window = desktop._windows["missed"]
            assert isinstance(window, MissedWindow)
            await until(lambda: window.model.rowCount() == 1, what="the row")
            await window.mark_done(0)
            await until(lambda: mehmet.core.store.open_missed_count() == 0, what="done there")
            await window.undo()
            await until(lambda: mehmet.core.store.open_missed_count() == 1, what="reopened")
        finally:
            await desktop.stop()

    with_rig(qloop, tmp_path, scenario)


def test_settings_show_the_team_details_and_keep_the_invites_extension(
    qloop: Loop, core: Core, bridge: CoreBridge, make_dialog: MakeDialog
) -> None:
    join(qloop, core, invite(display="Ayşe Demir", queues=("200", "300")))
    qloop.run(core.tracker.run_write(core.store.set_meta, "pbx.queues", '{"200": "Satış"}'))
    bridge._on_names()
    dialog = make_dialog()
    dialog.show()
    tab = dialog.team_tab
    assert tab.team_display_label.text() == "Ayşe Demir"
    assert tab.team_queues_label.text() == "200 (Satış), 300"
    account = dialog.account_tab
    assert not account.extension_edit.isEnabled()
    assert "Set by your team invite" in account.fields["extension"].hint.text()
    assert account.extension_edit.text() == "1001"


def test_a_removed_pc_says_so_in_the_tray_and_settings(
    qloop: Loop, core: Core, bridge: CoreBridge, make_dialog: MakeDialog
) -> None:
    join(qloop, core, invite())
    removed = TeamStatus("removed", time.time(), "this agent was removed from the team")
    assert describe_team(removed) == "Team: this PC was removed from the team"
    dialog = make_dialog()
    bridge.set_team_status(removed)
    text = dialog.team_tab.team_link_state.text.text()
    assert "removed from the team" in text and "refused" not in text

"""Team mode as the agent sees it: the link's state in the tray, joining and leaving in the
settings (the secret in the keyring only), a colleague's claim in the missed list and a
callback that does not ring a caller a colleague is already calling, and an app that takes
its events from the team server instead of a webhook of its own. The end-to-end tests run
the real relay and Mosquitto on loopback (tests/core/teamrig.py)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from bulutpop.app.core import Core
from bulutpop.calls.tracker import SETTLE_SECONDS
from bulutpop.errors import TeamError
from bulutpop.local.config import load
from bulutpop.local.keys import SERVICE, TEAM_SECRET, KeyStore
from bulutpop.storage.team import TeamTables
from bulutpop.team import link as team
from bulutpop.team.link import TeamStatus, claim_message
from bulutpop.team.protocol import Invite, leave
from bulutpop.ui import i18n
from bulutpop.ui.app import DesktopApp
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.history.window import HistoryWindow
from bulutpop.ui.missed.model import Column
from bulutpop.ui.missed.window import MissedWindow
from bulutpop.ui.tray import Shell
from tests.conftest import free_port, until
from tests.core.conftest import run_cli
from tests.core.teamrig import TeamRig, event, make_rig
from tests.ui.conftest import Loop, MakeDialog, Webhook, make_shell

SECRET = "t3am-s3cret-0f-ayse-7c1d9a"
QUEUE_CALL = {"destination_number": "200", "queue": "200"}


def invite(broker: str = "mqtt://127.0.0.1:1883", **changes: Any) -> Invite:
    values: dict[str, Any] = {
        "broker": broker,
        "relay": "http://127.0.0.1:8790",
        "agent": "ayse",
        "secret": SECRET,
        "extension": "1001",
        "queues": ("200",),
    }
    return Invite(**{**values, **changes})


def join(qloop: Loop, core: Core, joined: Invite) -> None:
    """What `bulutpop team join` does: the secret to the keyring, the rest to the config."""
    core.team_keys.set(joined.secret)
    qloop.run(core.update_config(joined.apply(core.config)))


def tooltip_lines(shell: Shell) -> list[str]:
    return shell.tooltip.removeprefix("bulutpop — ").splitlines()


def menu_texts(shell: Shell) -> list[str]:
    shell._rebuild_menu()
    return [action.text() for action in shell._menu.actions() if action.text()]


def today_at(hour: int, minute: int) -> float:
    return datetime.now().replace(hour=hour, minute=minute, second=0).timestamp()


# --- the tray ---------------------------------------------------------------------------------


def with_rig(qloop: Loop, tmp_path: Path, scenario: Callable[[TeamRig], Awaitable[None]]) -> None:
    """Run `scenario` against a team rig (relay, Mosquitto, fake PBX), closed after."""

    async def main() -> None:
        rig = await make_rig(tmp_path / "team")
        try:
            await scenario(rig)
        finally:
            await rig.close()

    qloop.run(main())


def test_the_tray_tells_the_team_link_state(
    qtbot: QtBot, qloop: Loop, core: Core, bridge: CoreBridge
) -> None:
    join(qloop, core, invite())
    shell = make_shell(bridge)
    assert shell.window is not None
    qtbot.addWidget(shell.window)
    expected = [
        (TeamStatus("connected", time.time()), "listening", "Team: connected"),
        (
            TeamStatus("reconnecting", today_at(10, 42), "connection lost"),
            "problem",
            "Team: reconnecting since 10:42",
        ),
        (
            TeamStatus("refused", time.time()),
            "problem",
            "Team: credential refused — ask for a new invite",
        ),
    ]
    for status, state, line in expected:
        bridge.set_team_status(status)
        assert line in tooltip_lines(shell), shell.tooltip
        assert shell.state == state
        assert menu_texts(shell)[0] == line
        assert line in shell.window.state.text()
    # Outside team mode there is no team line.
    qloop.run(core.update_config(leave(core.config)))
    assert "Team" not in shell.tooltip
    assert not menu_texts(shell)[0].startswith("Team")
    shell.close()


def test_the_tray_says_it_in_turkish(
    qtbot: QtBot, qloop: Loop, core: Core, bridge: CoreBridge, turkish: None
) -> None:
    join(qloop, core, invite())
    shell = make_shell(bridge)
    assert shell.window is not None
    qtbot.addWidget(shell.window)
    lines = {
        "Ekip: bağlı": TeamStatus("connected", time.time()),
        "Ekip: yeniden bağlanıyor (10:42'den beri)": TeamStatus("reconnecting", today_at(10, 42)),
        "Ekip: yeniden bağlanıyor (10:40'tan beri)": TeamStatus("reconnecting", today_at(10, 40)),
        "Ekip: yeniden bağlanıyor (09:00'dan beri)": TeamStatus("reconnecting", today_at(9, 0)),
        "Ekip: kimlik reddedildi — yeni davet isteyin": TeamStatus("refused", time.time()),
    }
    for line, status in lines.items():
        bridge.set_team_status(status)
        assert line in tooltip_lines(shell), shell.tooltip
    shell.close()


# --- settings ---------------------------------------------------------------------------------


def stored_secret() -> str | None:
    return keyring.get_password(SERVICE, TEAM_SECRET.entry)


def config_files(core: Core) -> str:
    return "".join(
        path.read_text(encoding="utf-8", errors="replace")
        for path in core.dirs.config.rglob("*")
        if path.is_file()
    )


def test_the_team_tab_refuses_a_damaged_invite_and_joins_with_a_good_one(
    qloop: Loop, core: Core, make_dialog: MakeDialog
) -> None:
    answers: list[bool] = [True]

    async def confirm() -> bool:
        return answers.pop()

    dialog = make_dialog(confirm_leave=confirm)
    dialog.show()
    dialog.tabs.setCurrentWidget(dialog.team_tab)
    good = invite(extension="1002").encode()
    assert not dialog.team_tab.team_info.isVisible()
    assert dialog.account_tab.fields["api_key"].isVisible() is False  # another tab
    dialog.tabs.setCurrentIndex(0)
    assert dialog.account_tab.fields["api_key"].isVisible()
    dialog.tabs.setCurrentWidget(dialog.team_tab)

    dialog.team_tab.invite_edit.setPlainText(good[:-12])  # cut short in a chat window
    assert "The invite is incomplete or damaged" in dialog.team_tab.invite_error()
    assert "incomplete or damaged" in dialog.team_tab.invite_error()
    assert not dialog.team_tab.join_button.isEnabled()
    qloop.run(dialog.team_tab.join_team())
    assert stored_secret() is None
    assert not core.config.team_mode

    # Wrapped over lines by a mail client: still one invite.
    dialog.team_tab.invite_edit.setPlainText(good[:40] + "\n" + good[40:])
    assert dialog.team_tab.invite_error() == ""
    assert "agent ayse, extension 1002" in dialog.team_tab.invite_result.text.text()
    assert dialog.team_tab.join_button.isEnabled()
    text = qloop.run(dialog.team_tab.join_team())
    assert "Joined the team as ayse (extension 1002)" in text

    assert stored_secret() == SECRET
    assert SECRET not in config_files(core)
    saved = load(core.dirs)
    assert saved.team_mode and saved.extension == "1002" and saved.team_agent == "ayse"
    assert dialog.team_tab.invite_edit.toPlainText() == ""  # the secret is not left in the field
    assert dialog.team_tab.team_info.isVisible()
    assert dialog.team_tab.team_agent_label.text() == "ayse"
    assert dialog.team_tab.team_relay_label.text() == "http://127.0.0.1:8790"
    # What needs the API key gives way to one line saying why.
    dialog.tabs.setCurrentIndex(0)
    assert not dialog.account_tab.fields["api_key"].isVisible()
    assert any(notice.isVisible() for notice in dialog.account_tab._team_notices)
    # OK keeps the invite's extension (the field was updated, not left at 1001).
    assert dialog.account_tab.extension_edit.text() == "1002"
    assert qloop.run(dialog.save())
    assert load(core.dirs).extension == "1002"

    # Leaving asks first, then forgets the secret.
    answers.append(False)
    assert qloop.run(dialog.team_tab.leave_team()) == ""
    assert stored_secret() == SECRET
    answers.append(True)
    assert "You left the team" in qloop.run(dialog.team_tab.leave_team())
    assert stored_secret() is None
    assert not load(core.dirs).team_mode
    assert dialog.account_tab.fields["api_key"].isVisible()


def test_the_wizard_does_not_ask_for_an_api_key_after_joining(
    qloop: Loop, core: Core, make_dialog: MakeDialog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BULUTPOP_API_KEY", raising=False)
    monkeypatch.setattr(core, "keys", KeyStore({}))
    dialog = make_dialog(first_run=True)
    dialog.show()
    dialog.start_page.solo_choice.setChecked(True)
    assert dialog.next()
    assert not dialog.next()  # no key, no team: the key is asked for
    assert dialog.error_text("api_key")
    dialog.back()
    dialog.start_page.team_choice.setChecked(True)
    dialog.team_tab.invite_edit.setPlainText(invite(extension="1003").encode())
    qloop.run(dialog.team_tab.join_team())
    assert dialog.next()
    assert dialog.page == dialog.FINISH  # the invite was the whole setup
    assert dialog.error_text("api_key") == ""
    assert dialog.account_tab.extension_edit.text() == "1003"


# --- the missed list ---------------------------------------------------------------------------


def missed_queue_call(webhook: Webhook, core: Core, uuid: str = "q-1") -> None:
    assert webhook.post(
        event(uuid, dialed_user="1001", **QUEUE_CALL),
        event(uuid, "hangup", dialed_user="1001", answered="false", **QUEUE_CALL),
    ) == [200, 200]
    # A queue leg's unanswered end may be followed by a colleague's answer: the call is
    # missed once it is settled (SETTLE_SECONDS of silence).
    webhook.loop.run(core.tracker.settle_due(time.time() + SETTLE_SECONDS))


def note(window: MissedWindow, row: int = 0) -> str:
    return str(window.model.index(row, Column.CALLER).data(window.model.NoteRole))


def test_a_colleagues_claim_shows_in_the_missed_list(
    qtbot: QtBot, qloop: Loop, core: Core, bridge: CoreBridge, webhook: Webhook
) -> None:
    join(qloop, core, invite())
    missed_queue_call(webhook, core)
    window = MissedWindow(bridge)
    qtbot.addWidget(window)
    qloop.run(window.model.settled())
    assert window.model.rowCount() == 1
    assert "calling back" not in note(window)
    party = window.model.group(0).number

    claim = {"party_key": party, "agent": "mehmet", "display": "Mehmet (1002)", "at": time.time()}
    tables = TeamTables(core.store)
    qloop.run(core.tracker.run_write(tables.put_claim, claim_message(claim), missed=True))
    qloop.run(window.model.settled())
    assert "Mehmet (1002) is calling back" in note(window)

    mine = {**claim, "agent": core.config.team_agent, "display": "Ayşe (1001)", "at": time.time()}
    qloop.run(core.tracker.run_write(tables.put_claim, claim_message(mine), missed=True))
    qloop.run(window.model.settled())
    assert "You are calling back" in note(window)
    qloop.run(window.tasks.drain())


# --- the app ---------------------------------------------------------------------------------
#
# Each test runs as one coroutine: the qasync loop must keep running while the app's
# background tasks (the team link, a mode switch) make progress, and the app is stopped
# before the loop is left.


@pytest.fixture
def no_quit(qapp: QApplication) -> Iterator[None]:
    """As `bulutpop.ui.app.run` sets it: closing the windows at the end is not quitting."""
    quits = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    yield
    qapp.setQuitOnLastWindowClosed(quits)


def desktop_for(core: Core) -> DesktopApp:
    return DesktopApp(core, i18n.Translations(), lambda: None, use_tray=False)


def running(desktop: DesktopApp) -> set[str]:
    """The runtime's services that run now."""
    return {name for name in desktop.runtime.states if desktop.runtime.running(name)}


def test_in_team_mode_events_come_from_the_team_server_and_claims_prevent_double_calls(
    qloop: Loop, tmp_path: Path, no_quit: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refused(_party: str) -> str:
        raise TeamError("no open shared missed call from this number", 404)

    async def declined(_claim: object) -> bool:
        return False

    async def scenario(rig: TeamRig) -> None:
        ayse = await rig.pc("1001", queues=("200",), display="Ayşe")
        mehmet = await rig.pc("1002", queues=("200",), display="Mehmet")
        desktop = desktop_for(ayse.core)
        try:
            await desktop.start()
            # No webhook of its own, no catch-up or phonebook sync (they need the API key),
            # and no first-run wizard asking for one.
            assert desktop.runtime.receiver is None
            assert "settings" not in desktop._windows
            assert desktop.runtime.running("team")
            assert not {"catchup", "phonebook"} & running(desktop)
            await until(lambda: "Team: connected" in desktop.shell.tooltip, what="the link")
            assert desktop.shell.state == "listening"

            await mehmet.start()
            assert await rig.post(
                event("q-1", dialed_user="1001", **QUEUE_CALL),
                event("q-1", dialed_user="1002", **QUEUE_CALL),
                event("q-1", "hangup", dialed_user="1002", answered="false", **QUEUE_CALL),
            ) == [200, 200, 200]
            await rig.settle()
            await until(lambda: ayse.core.store.open_missed_count() == 1, what="the missed call")
            desktop.show_missed()
            window = desktop._windows["missed"]
            assert isinstance(window, MissedWindow)
            await until(lambda: window.model.rowCount() == 1, what="the row")
            party = window.model.group(0).number

            # Mehmet calls the customer back: Ayşe's list says so, and her "Call back"
            # rings nobody.
            label = await team.claim(mehmet.core.config, mehmet.invite.secret, party)
            assert label == "Mehmet (1002)"
            await until(
                lambda: "Mehmet (1002) is calling back" in note(window),
                what=f"the claim: {team.claims(ayse.core.tracker)} {note(window)!r}",
            )
            window._confirm_takeover = declined  # asked whether to take it over: no
            await window.call_back(0)
            assert window.status_text() == "Mehmet (1002) is already calling back."
            assert rig.pbx.originates == []

            # Any other refusal of the claim does not stop the call (through the relay).
            monkeypatch.setattr(desktop.bridge, "claim", refused)
            await window.call_back(0)
            assert len(rig.pbx.originates) == 1
            assert "Your team was not told: The team server: no open shared" in window.status_text()
        finally:
            await desktop.stop()

    with_rig(qloop, tmp_path, scenario)


def test_a_number_the_relay_forgets_leaves_the_open_lists(
    qloop: Loop, tmp_path: Path, no_quit: None
) -> None:
    async def scenario(rig: TeamRig) -> None:
        ayse = await rig.pc("1001")
        desktop = desktop_for(ayse.core)
        try:
            await desktop.start()
            await until(lambda: "Team: connected" in desktop.shell.tooltip, what="the link")
            assert await rig.post(
                event("f-1"),
                event("f-1", "hangup", answered="false"),
                event("k-1", caller_id_number="05559876543"),
            ) == [200, 200, 200]
            desktop.show_history()
            desktop.show_missed()
            history, missed = desktop._windows["history"], desktop._windows["missed"]
            assert isinstance(history, HistoryWindow) and isinstance(missed, MissedWindow)
            await until(lambda: history.model.rowCount() == 2, what="the calls")
            await until(lambda: missed.model.rowCount() == 1, what="the missed call")

            forgot = await asyncio.to_thread(
                run_cli, "relay", "forget", "0532 123 45 67", "--yes", env=rig.env
            )
            assert forgot.returncode == 0, forgot.stderr
            await until(lambda: missed.model.rowCount() == 0, what="the missed list to drop it")
            await until(lambda: history.model.rowCount() == 1, what="the history to drop it")
        finally:
            await desktop.stop()

    with_rig(qloop, tmp_path, scenario)


def test_a_team_pc_without_its_secret_says_so_and_listens_to_nothing(
    qloop: Loop, core: Core, no_quit: None
) -> None:
    qloop.run(core.update_config(invite().apply(core.config)))  # the secret is missing
    shown: list[str] = []
    desktop = desktop_for(core)
    desktop._warn = lambda title, text: shown.append(text)  # type: ignore[method-assign]

    async def scenario() -> None:
        try:
            await desktop.start()
            assert desktop.runtime.receiver is None
            assert not desktop.runtime.running("team")
            assert "team secret is missing" in desktop.shell.problem
            assert desktop.shell.state == "problem"
            assert len(shown) == 1 and "team secret is missing" in shown[0]
        finally:
            await desktop.stop()

    qloop.run(scenario())


def test_joining_and_leaving_while_running_swaps_the_receiver_for_the_team_link(
    qloop: Loop, core: Core, no_quit: None
) -> None:
    qloop.run(core.update_config(core.config.with_value("listen_port", 0)))
    desktop = desktop_for(core)
    # A broker nobody listens on: the link keeps trying, and the tray says since when.
    joined = invite(broker=f"mqtt://127.0.0.1:{free_port()}")

    async def scenario() -> None:
        try:
            await desktop.start()
            assert desktop.runtime.receiver is not None and not desktop.runtime.running("team")
            assert "catchup" in running(desktop)
            await desktop.bridge.join_team(joined)
            await until(
                lambda: desktop.runtime.receiver is None and desktop.runtime.running("team")
            )
            await until(lambda: "Team: reconnecting since" in desktop.shell.tooltip)
            assert desktop.shell.state == "problem"
            assert not {"catchup", "phonebook"} & running(desktop)

            await desktop.bridge.leave_team()
            await until(
                lambda: desktop.runtime.receiver is not None and not desktop.runtime.running("team")
            )
            await until(lambda: "catchup" in running(desktop), what="the catch-up")
            assert "Team" not in desktop.shell.tooltip
            assert stored_secret() is None
        finally:
            await desktop.stop()

    qloop.run(scenario())

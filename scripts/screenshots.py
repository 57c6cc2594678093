"""README screenshots, taken from the real screen of an X server (run by scripts/screenshots
under Xvfb): the popup, the missed-calls window, the dial dialog, the player, the first
start's wizard and team mode (docs/team.md), in Turkish, with sample calls from the
bundled scenarios sent over HTTP to the real receiver."""

from __future__ import annotations

import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")

import qasync
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication, QWidget

from bulutpop.app.core import Core
from bulutpop.devtools.demo import scenario_bodies
from bulutpop.devtools.fakepbx import DEMO_KEY, FakePbxState, start, tone_wav
from bulutpop.devtools.replay import post_bodies
from bulutpop.pbx.receiver import Receiver
from bulutpop.storage.team import TeamTables
from bulutpop.team.link import TeamStatus, claim_message
from bulutpop.team.protocol import Invite
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.dial import DialDialog
from bulutpop.ui.history.window import HistoryWindow
from bulutpop.ui.i18n import Translations
from bulutpop.ui.missed.window import MissedWindow
from bulutpop.ui.player import PlayerWindow
from bulutpop.ui.popup import PopupManager
from bulutpop.ui.settings.dialog import SettingsDialog

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
MARGIN = 12


async def settle(seconds: float = 0.6) -> None:
    await asyncio.sleep(seconds)
    QApplication.processEvents()


def shoot(widgets: list[QWidget], name: str) -> None:
    """Grab the screen around the widgets, as a user would see them."""
    screen = QGuiApplication.primaryScreen()
    rects = [w.frameGeometry() for w in widgets if w.isVisible()]
    box = rects[0]
    for rect in rects[1:]:
        box = box.united(rect)
    box = box.adjusted(-MARGIN, -MARGIN, MARGIN, MARGIN).intersected(screen.geometry())
    pixmap = screen.grabWindow(0, box.x(), box.y(), box.width(), box.height())
    OUT.mkdir(parents=True, exist_ok=True)
    pixmap.save(str(OUT / f"{name}.png"))
    print(f"wrote {OUT / name}.png {box.width()}x{box.height()}")


async def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="bulutpop-shots-"))
    state = FakePbxState(key=DEMO_KEY)
    runner, api = await start(state)
    os.environ.update(
        BULUTPOP_CONFIG_DIR=str(home / "config"),
        BULUTPOP_DATA_DIR=str(home / "data"),
        BULUTPOP_API_KEY=DEMO_KEY,
        BULUTPOP_API_URL=api,
    )
    core = Core.open()
    await core.update_config(
        core.config.with_value("extension", "1001")
        .with_value("listen_port", 0)
        .with_value("crm_url", "https://crm.example.com/ara?tel={number}")
        .with_value("ring_sound", False)
    )
    Translations().apply("tr")
    bridge = CoreBridge(core)
    popups = PopupManager(bridge)
    receiver = Receiver(core.tracker, core.config.token, "127.0.0.1", 0)
    await receiver.start()
    url = f"http://127.0.0.1:{receiver.port}{core.config.webhook_path()}"

    # Yesterday's and this morning's calls, so the lists have history.
    for round_number in (1, 2):
        for bodies in scenario_bodies(round_number):
            for body in bodies:
                if b"recording_present=t" in body:
                    uuid = body.split(b"call_uuid=")[1].split(b"&")[0].decode()
                    state.recordings[uuid] = tone_wav(95.0)
            await post_bodies(url, bodies)
    await settle()
    popups.close_all()
    await settle()

    # A call ringing now, and a queue call a colleague is about to take.
    live = scenario_bodies(3)
    await post_bodies(url, live[2][:2])  # queue 200 rings 1001 and 1002
    await post_bodies(url, live[0][:1])  # 0212 320 50 62 rings 1001 (called before)
    await settle(1.0)
    shoot([*popups.popups().values(), popups.overflow], "popup")
    popups.close_all()
    await settle()

    # Queue calls have legs: a colleague answers one (named as the user knows them), and
    # this PC's leg of another stops ringing while the caller still waits in the queue.
    await bridge.set_local_name("1002", "Mehmet")
    calls = scenario_bodies(4)
    # Scenario 08 (a colleague answers) and 10 (nobody answers), by their call ids.
    taken, waiting = (next(c for c in calls if part in c[0]) for part in (b"7c3d9a10", b"9a4f2e63"))
    await post_bodies(url, taken[:2])  # the company line's queue rings 1001 and 1002
    await post_bodies(url, waiting[:2])  # another caller, the same queue
    await settle()
    await post_bodies(url, taken[2:3])  # 1002 answers the first
    await post_bodies(url, waiting[2:3])  # 1001's leg of the second ends (caller gave up)
    await settle()
    shoot([*popups.popups().values(), popups.overflow], "popup-queue-legs")
    popups.close_all()

    # A missed call's popup stays until seen, with "Call back" and the caller's note.
    await bridge.set_note("+905321234567", "Faturayı yeniden istiyor; öğleden sonra arayın")
    await post_bodies(url, [b.replace(b"0b7f3d55", b"0b7f3d77") for b in scenario_bodies(1)[1]])
    await settle(1.0)
    shoot([*popups.popups().values(), popups.overflow], "popup-missed")
    popups.close_all()

    missed = MissedWindow(bridge)
    missed.resize(880, 380)
    missed.move(40, 40)
    missed.show()
    await settle(1.0)
    shoot([missed], "missed-calls")
    # New callers wait while the pointer rests on the list ("1 yeni arayan — göster").
    missed.model.held = True
    await post_bodies(
        url,
        [
            b.replace(b"05321234567", b"05551112233").replace(b"0b7f3d55", b"0b7f3d88")
            for b in scenario_bodies(1)[1]
        ],
    )
    await settle(1.0)
    shoot([missed], "missed-calls-held")
    missed.model.held = False
    missed.close()

    await bridge.set_local_name("0212 320 50 62", "Işık Lojistik")
    history = HistoryWindow(bridge)
    history.move(40, 40)
    history.show()
    history.search.setText("ISIK")
    history.apply_filter()
    await settle(1.0)
    shoot([history], "history-search")
    history.search.clear()
    history.apply_filter()
    await settle()
    shoot([history], "history")
    history.close()

    dial = DialDialog(bridge, "0532 123 45 67")
    dial.move(40, 40)
    dial.show()
    await settle()
    shoot([dial], "dial")
    # The recent numbers open below the "Aranacak: …" preview, never over it.
    dial.field.setEditText("")
    dial.field.showPopup()
    await settle()
    view = dial.field.view()
    shoot([dial, view.window()] if view is not None else [dial], "dial-recent")
    dial.field.hidePopup()
    dial.close()

    player = PlayerWindow(bridge)
    player.move(40, 40)
    player.show()
    recorded = next(c for c in core.store.calls(limit=50) if c.recording)
    await player.open_call(recorded)
    await settle(3.0)
    shoot([player], "player")
    player.close()

    # The first start: the wizard asks for the team's invite first.
    wizard = SettingsDialog(bridge, first_run=True)
    wizard.move(40, 40)
    wizard.show()
    await settle(1.0)
    shoot([wizard], "wizard")
    wizard.tasks.cancel()
    await wizard.tasks.drain()
    wizard.close()

    # Team mode: this PC joined to the office's relay (no relay runs for a screenshot: the
    # link's state and a colleague's claim are set as the relay would).
    invite = Invite(
        broker="mqtts://ekip.ofis.local:8883",
        relay="https://ekip.ofis.local:8788",
        agent="ayse",
        secret="screenshot-secret",
        extension="1001",
        queues=("200",),
        display="Ayşe Yılmaz",
    )
    os.environ["BULUTPOP_TEAM_SECRET"] = invite.secret
    await core.update_config(invite.apply(core.config))
    bridge.set_team_status(TeamStatus("connected", time.time()))
    claimed = core.store.missed_groups()[0].number
    colleague = {"party_key": claimed, "agent": "mehmet", "display": "Mehmet (1002)"}
    tables = TeamTables(core.store)
    await core.tracker.run_write(
        tables.put_claim, claim_message({**colleague, "at": time.time()}), missed=True
    )
    missed = MissedWindow(bridge)
    missed.resize(760, 360)
    missed.move(40, 40)
    missed.show()
    await settle(1.0)
    shoot([missed], "team-missed-calls")
    missed.close()

    settings = SettingsDialog(bridge)
    settings.tabs.setCurrentWidget(settings.team_tab)
    settings.move(40, 40)
    settings.show()
    await settle(1.0)
    shoot([settings], "team-settings")
    settings.tasks.cancel()
    await settings.tasks.drain()
    settings.close()

    await receiver.stop()
    await core.aclose()
    bridge.detach()
    core.close()
    await runner.cleanup()


if __name__ == "__main__":
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QSelectorEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        loop.run_until_complete(main())

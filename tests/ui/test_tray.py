"""Tray state at a glance, the menu's live count, and the window shown where there is no
tray (the app never runs invisibly)."""

from __future__ import annotations

from collections.abc import Callable

from pytestqt.qtbot import QtBot

from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.tray import Shell, ShellActions
from tests.conftest import scenario
from tests.ui.conftest import Webhook


def shell(bridge: CoreBridge, use_tray: bool, opened: list[str]) -> Shell:
    def record(name: str) -> Callable[..., None]:
        return lambda *_: opened.append(name)

    actions = ShellActions(
        missed=record("missed"),
        history=record("history"),
        dial=record("dial"),
        settings=record("settings"),
        about=record("about"),
        quit=record("quit"),
        toggle_pause=record("pause"),
    )
    return Shell(bridge, actions, use_tray=use_tray)


def test_tray_counts_missed_calls_and_menu_follows(
    qtbot: QtBot, bridge: CoreBridge, webhook: Webhook
) -> None:
    opened: list[str] = []
    tray = shell(bridge, True, opened)
    assert tray.state == "listening" and "Listening" in tray.tooltip
    webhook.post(*scenario("02"))
    assert tray.state == "missed" and "1 missed call" in tray.tooltip
    menu = tray._menu
    menu.aboutToShow.emit()
    texts = [a.text() for a in menu.actions() if not a.isSeparator()]
    assert texts[0] == "Missed calls (1)" and "Pause popups" in texts and texts[-1] == "Quit"
    menu.actions()[0].trigger()
    assert opened == ["missed"]
    tray.set_problem("port 8787 is already in use")
    assert tray.state == "problem" and "8787" in tray.tooltip
    tray.close()


def test_without_a_tray_a_window_offers_the_same_actions(
    qtbot: QtBot, bridge: CoreBridge, webhook: Webhook
) -> None:
    opened: list[str] = []
    fallback = shell(bridge, False, opened)
    window = fallback.window
    assert window is not None and window.isVisible()
    webhook.post(*scenario("02"))
    assert window.buttons[0].text() == "Missed calls (1)"
    assert "1 missed call" in window.state.text()
    window.buttons[1].click()
    assert opened == ["history"]
    window.close()
    assert opened[-1] == "quit"

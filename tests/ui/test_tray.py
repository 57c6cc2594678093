"""Tray state at a glance, the menu's live count, and the window shown where there is no
tray (the app never runs invisibly)."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest
from pytestqt.qtbot import QtBot

from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.tray import WINDOWS_TIP, Shell, ShellActions, fit_tip
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


def test_windows_tooltip_shows_what_is_wrong_first_and_the_menu_all_of_it(
    qtbot: QtBot, bridge: CoreBridge, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "win32")  # the shell reads it when made
    tray = shell(bridge, True, [])
    problem = (
        "Port 8787 is already in use (is bulutpop already running?): choose another in "
        "Settings. The PBX's events wait for it."
    )
    tray.set_problem(problem)
    assert tray.tray is not None
    tip = tray.tray.toolTip()
    assert len(tip.encode("utf-16-le")) // 2 <= WINDOWS_TIP
    assert tip.startswith("bulutpop — Port 8787 is already in use")
    assert problem in tray.tooltip  # the whole text where there is room: the fallback window
    tray._menu.aboutToShow.emit()
    assert tray._menu.actions()[0].text() == problem
    assert not tray._menu.actions()[0].isEnabled()
    tray.close()


def test_a_tip_keeps_whole_lines_that_fit() -> None:
    lines = ["bulutpop — Listening for calls", "Receiver: 127.0.0.1:8787", "x" * 200]
    assert fit_tip(lines, 127) == "bulutpop — Listening for calls\nReceiver: 127.0.0.1:8787"
    assert fit_tip(lines, None) == "\n".join(lines)
    assert fit_tip(["ş" * 300], 127) == "ş" * 126 + "…"

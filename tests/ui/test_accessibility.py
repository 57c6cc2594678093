"""Accessibility: every action reachable by keyboard alone, and every control, row and
popup named for a screen reader, in English and in Turkish."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QEvent, QPoint, QRect, Qt
from PySide6.QtGui import QAccessible, QContextMenuEvent, QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QMenu,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QWidget,
)
from pytestqt.qtbot import QtBot

from bulutpop.devtools.fakepbx import FakePbxState
from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.access import INPUTS
from bulutpop.ui.dial import DialDialog
from bulutpop.ui.history.model import Column as HistoryColumn
from bulutpop.ui.history.window import HistoryWindow
from bulutpop.ui.missed.model import Column
from bulutpop.ui.missed.window import MissedWindow
from bulutpop.ui.player import PlayerWindow
from bulutpop.ui.popup import CloseDelays, PopupManager
from bulutpop.ui.tray import Shell
from tests.conftest import scenario
from tests.ui.conftest import Loop, MakeDialog, Webhook, drain, make_shell

SCREEN = QRect(0, 0, 1280, 800)


def accessible_name(widget: QWidget) -> str:
    """What a screen reader announces for `widget`: its name as Qt's accessibility bridge
    reports it (the accessible name, else its text, else its label's)."""
    interface = QAccessible.queryAccessibleInterface(widget)
    assert interface is not None, widget
    return interface.text(QAccessible.Text.Name).strip()


def pages(window: QWidget) -> Iterator[None]:
    """Show each tab and wizard page of `window` in turn (the first when it has none)."""
    yield
    containers: list[QTabWidget | QStackedWidget] = [*window.findChildren(QTabWidget)]
    containers += window.findChildren(QStackedWidget)
    for container in containers:
        if not container.isVisibleTo(window):
            continue
        for index in range(container.count()):
            container.setCurrentIndex(index)
            yield


def controls(window: QWidget) -> list[QWidget]:
    """The interactive widgets of `window` on the page shown now."""
    found: list[QWidget] = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, INPUTS) or not widget.isVisibleTo(window):
            continue
        if widget.focusPolicy() == Qt.FocusPolicy.NoFocus and not isinstance(
            widget, QAbstractButton
        ):
            continue  # a part of a control (a spin box's line edit, a scroll bar)
        found.append(widget)
    return found


def unnamed(window: QWidget) -> list[str]:
    """The interactive widgets of `window`, on any of its pages, a screen reader could not
    name."""
    missing = []
    for _ in pages(window):
        for widget in controls(window):
            if not accessible_name(widget):
                missing.append(f"{type(widget).__name__} {widget.toolTip()!r}")
    return missing


def mouse_only(window: QWidget) -> list[str]:
    """The enabled interactive widgets of `window` that Tab never reaches."""
    missing = []
    for _ in pages(window):
        for widget in controls(window):
            if widget.isEnabled() and not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
                missing.append(f"{type(widget).__name__} {accessible_name(widget)!r}")
    return missing


def keyboard_menu(view: QTableView) -> list[str]:
    """The selected row's menu, opened by the menu key and by Shift+F10: its first section,
    as its entries read; both must open at the selected row, even far from the current cell."""
    texts = []
    for open_menu in (
        # What the platform sends for the menu key: a keyboard context-menu event whose
        # position is near the current cell, in the view's coordinates.
        lambda: QApplication.sendEvent(
            view,
            QContextMenuEvent(
                QContextMenuEvent.Reason.Keyboard, QPoint(1, 1), view.mapToGlobal(QPoint(1, 1))
            ),
        ),
        lambda: QTest.keyClick(view, Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier),
    ):
        open_menu()
        menu = view.findChild(QMenu)
        assert menu is not None and menu.isVisible()
        row = view.rowAt(view.viewport().mapFromGlobal(menu.pos()).y())
        assert row == view.selectionModel().selectedRows()[0].row()
        entries = [action.text() for action in menu.actions()]
        menu.close()
        menu.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        texts.append(entries[: entries.index("")] if "" in entries else entries)
        # The offscreen platform does not hand the focus back from a closed menu; a desktop does.
        view.window().activateWindow()
        view.setFocus()
    assert texts[0] == texts[1]
    return texts[0]


@pytest.fixture(params=["en", "tr"])
def language(request: pytest.FixtureRequest) -> str:
    if request.param == "tr":
        request.getfixturevalue("turkish")
    return str(request.param)


def shell_with_popups(bridge: CoreBridge, manager: PopupManager) -> Shell:
    return make_shell(
        bridge, has_popup=lambda: bool(manager.popups()), latest_call=manager.focus_latest
    )


@pytest.fixture
def manager(bridge: CoreBridge) -> Iterator[PopupManager]:
    m = PopupManager(bridge, area=lambda: SCREEN, delays=CloseDelays(60_000, 60_000, 60_000))
    yield m
    m.close_all()
    m.overflow.deleteLater()


def test_every_control_of_every_window_has_a_name(
    qtbot: QtBot,
    qloop: Loop,
    bridge: CoreBridge,
    webhook: Webhook,
    make_dialog: MakeDialog,
    manager: PopupManager,
    language: str,
) -> None:
    webhook.post(*scenario("01"))  # answered, recorded: history and player have a call
    webhook.post(*scenario("02"))  # missed: the list has a row
    webhook.post(scenario("01")[0].replace(b"6f1c2b1e", b"00000042"))  # ringing: a popup
    call = bridge.core.store.call("6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01")
    assert call is not None
    missed, history = MissedWindow(bridge), HistoryWindow(bridge)
    player = PlayerWindow(bridge)
    windows: list[QWidget] = [
        missed,
        history,
        DialDialog(bridge, ""),
        player,
        make_dialog(),
        make_dialog(first_run=True),
        shell_with_popups(bridge, manager).window or QWidget(),
        *manager.popups().values(),
    ]
    for window in windows:
        qtbot.addWidget(window)
        window.show()
    qloop.run(missed.model.settled())
    qloop.run(player.open_call(call))
    try:
        for window in windows:
            assert unnamed(window) == [], type(window).__name__
            assert window.windowTitle() or window.accessibleName(), type(window).__name__
        assert missed.model.rowCount() and history.model.rowCount()
    finally:
        for window in (missed, history, player):
            drain(qloop, window.tasks)


def test_every_control_outside_popups_is_reached_by_tab(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, webhook: Webhook, make_dialog: MakeDialog
) -> None:
    webhook.post(*scenario("02"))
    windows: list[QWidget] = [
        MissedWindow(bridge),
        HistoryWindow(bridge),
        DialDialog(bridge, ""),
        PlayerWindow(bridge),
        make_dialog(),
        make_dialog(first_run=True),
    ]
    for window in windows:
        qtbot.addWidget(window)
        window.show()
        assert mouse_only(window) == [], type(window).__name__
    for window in windows:
        tasks = getattr(window, "tasks", None)
        if tasks is not None:
            drain(qloop, tasks)


def test_missed_rows_read_as_a_sentence(
    qloop: Loop, missed_window: MissedWindow, webhook: Webhook, language: str
) -> None:
    webhook.post(*scenario("02"))
    qloop.run(missed_window.model.settled())
    caller = missed_window.model.index(0, Column.CALLER)
    text = caller.data(Qt.ItemDataRole.AccessibleTextRole)
    when = missed_window.model.index(0, Column.LAST).data()
    if language == "tr":
        assert text == f"Cevapsız çağrı, 0532 123 45 67, 1 kez, son {when}"
        keys = "Enter geri arar, Delete tamamlandı olarak işaretler, Ctrl+C numarayı kopyalar"
    else:
        assert text == f"Missed call, 0532 123 45 67, 1 time, last {when}"
        keys = "Enter calls back, Delete marks done, Ctrl+C copies the number"
    actions = missed_window.model.index(0, Column.ACTIONS)
    assert actions.data(Qt.ItemDataRole.AccessibleTextRole) == keys
    # What the screen reader gets: Qt's table cell reports the row's sentence.
    view = QAccessible.queryAccessibleInterface(missed_window.view)
    assert view is not None
    cells = [view.child(i) for i in range(view.childCount())]
    assert any(cell is not None and cell.text(QAccessible.Text.Name) == text for cell in cells)


def test_history_rows_read_as_a_sentence(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, webhook: Webhook, language: str
) -> None:
    webhook.post(*scenario("01"))
    window = HistoryWindow(bridge)
    qtbot.addWidget(window)
    model = window.model
    qtbot.waitUntil(lambda: model.rowCount() == 1)
    first = model.index(0, HistoryColumn.TIME).data(Qt.ItemDataRole.AccessibleTextRole)
    party = model.index(0, HistoryColumn.PARTY).data()
    when = model.index(0, HistoryColumn.TIME).data()
    result = model.index(0, HistoryColumn.RESULT).data()
    recorded = "Ses kaydı var" if language == "tr" else "Has a recording"
    assert first.startswith(f"{model.index(0, HistoryColumn.DIRECTION).data()}, {party}, {when}")
    assert result in first and first.endswith(recorded)
    recording = model.index(0, HistoryColumn.RECORDING)
    assert recording.data(Qt.ItemDataRole.AccessibleTextRole) == recorded
    description = model.index(0, HistoryColumn.TIME).data(Qt.ItemDataRole.AccessibleDescriptionRole)
    assert description.startswith("Boşluk" if language == "tr" else "Space plays")
    drain(qloop, window.tasks)


def test_a_popup_says_who_calls_and_what_happened(
    manager: PopupManager, webhook: Webhook, language: str
) -> None:
    webhook.post(scenario("01")[0])
    (popup,) = manager.popups().values()
    incoming = "Gelen arama" if language == "tr" else "Incoming call"
    ringing = "Çalıyor" if language == "tr" else "Ringing"
    assert popup.accessibleName() == f"{incoming}: 0212 320 50 62"
    assert popup.accessibleDescription().startswith(ringing)
    assert accessible_name(popup.close_button) in ("Kapat", "Close")


def test_the_tray_menu_gives_the_keyboard_the_latest_popup(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, manager: PopupManager, webhook: Webhook
) -> None:
    shell = shell_with_popups(bridge, manager)
    menu: QMenu = shell._menu
    menu.aboutToShow.emit()
    assert "Latest call…" not in [action.text() for action in menu.actions()]
    webhook.post(scenario("01")[0])
    webhook.post(scenario("01")[0].replace(b"6f1c2b1e", b"00000042"))
    first, latest = manager.popups().values()
    # Appearing gave no button the focus, and none can take it: the user's typing is safe
    # (that the window is not activated is test_popup's, under a real display).
    for popup in (first, latest):
        assert not any(button.hasFocus() for button in popup.findChildren(QAbstractButton))
        assert popup.copy_button.focusPolicy() == Qt.FocusPolicy.NoFocus
    menu.aboutToShow.emit()
    entry = next(action for action in menu.actions() if action.text() == "Latest call…")
    with qtbot.waitActive(latest):
        entry.trigger()
    assert QApplication.focusWidget() is latest.copy_button
    QTest.keyClick(latest.copy_button, Qt.Key.Key_Space)  # Space presses the focused button
    assert QGuiApplication.clipboard().text() == "0212 320 50 62"
    QTest.keyClick(latest.copy_button, Qt.Key.Key_Tab)  # on to the note button
    assert QApplication.focusWidget() is latest.note_button
    QTest.keyClick(latest.note_button, Qt.Key.Key_Tab)  # and the close button
    assert QApplication.focusWidget() is latest.close_button
    QTest.keyClick(latest, Qt.Key.Key_Escape)
    assert list(manager.popups().values()) == [first]
    shell.close()


def test_keys_reach_every_action_of_the_missed_list(
    qtbot: QtBot, qloop: Loop, missed_window: MissedWindow, webhook: Webhook, fake_pbx: FakePbxState
) -> None:
    window = missed_window
    webhook.post(*scenario("02"))
    qloop.run(window.model.settled())
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    # Tab from the toggle reaches the list, and selects its first row to act on.
    window.show_resolved.setFocus()
    QTest.keyClick(window.show_resolved, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is window.view
    window.view.selectRow(0)
    # The menu key (as the platform delivers it) and Shift+F10 open the row's menu.
    assert keyboard_menu(window.view) == ["Call back", "Done", "Copy number"]
    QTest.keyClick(window.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.search
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_Return)
    qloop.run(window.tasks.drain())
    assert len(fake_pbx.originates) == 1
    QTest.keyClick(window.view, Qt.Key.Key_Delete)
    qloop.run(window.tasks.drain())
    qloop.run(window.model.settled())
    assert window.count() == 0


def test_keys_reach_every_action_of_the_history(
    qtbot: QtBot, qloop: Loop, bridge: CoreBridge, webhook: Webhook
) -> None:
    webhook.post(*scenario("01"))
    window = HistoryWindow(bridge)
    qtbot.addWidget(window)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    qtbot.waitUntil(lambda: window.model.rowCount() == 1)
    window.view.setFocus()
    QTest.keyClick(window.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert QApplication.focusWidget() is window.search
    window.view.setFocus()
    window.view.selectRow(0)
    assert keyboard_menu(window.view)[:2] == ["Play recording", "Call"]
    drain(qloop, window.tasks)

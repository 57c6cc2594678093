"""The app follows the system's palette: dark and high-contrast themes give every text a
colour from the palette, readable at the WCAG AA contrast (4.5:1), and a theme switch while
windows are open recolours them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QColor, QImage, QPalette
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from bulutpop.ui.bridge import CoreBridge
from bulutpop.ui.common.theme import TEXT_CONTRAST, Tone, badge, colour, contrast, muted, over
from bulutpop.ui.common.widgets import StatusLine
from bulutpop.ui.history.model import Column as HistoryColumn
from bulutpop.ui.history.window import HistoryWindow
from bulutpop.ui.missed.model import Column
from bulutpop.ui.missed.window import MissedWindow
from bulutpop.ui.popup import CallPopup, CloseDelays, PopupManager, PopupState
from tests.conftest import scenario
from tests.ui.conftest import Loop, Webhook, drain

SCREEN = QRect(0, 0, 1280, 800)


def make_palette(window: str, text: str, base: str, highlight: str, link: str) -> QPalette:
    palette = QPalette()
    roles = QPalette.ColorRole
    for role, value in (
        (roles.Window, window),
        (roles.Base, base),
        (roles.AlternateBase, base),
        (roles.Button, window),
        (roles.WindowText, text),
        (roles.Text, text),
        (roles.ButtonText, text),
        (roles.PlaceholderText, text),
        (roles.Highlight, highlight),
        (roles.HighlightedText, base),
        (roles.Link, link),
        (roles.Mid, text),
    ):
        palette.setColor(role, QColor(value))
    return palette


DARK = make_palette("#202124", "#e8eaed", "#292a2d", "#8ab4f8", "#8ab4f8")
# Windows' "High contrast black": white text on black, yellow selection and links.
HIGH_CONTRAST = make_palette("#000000", "#ffffff", "#000000", "#ffff00", "#ffff00")
LIGHT = make_palette("#f0f0f0", "#000000", "#ffffff", "#308cc6", "#0000ff")


@pytest.fixture(params=["dark", "high contrast"])
def palette(request: pytest.FixtureRequest, qapp: QApplication) -> Iterator[QPalette]:
    previous = QPalette(qapp.palette())
    chosen = DARK if request.param == "dark" else HIGH_CONTRAST
    qapp.setPalette(chosen)
    yield chosen
    qapp.setPalette(previous)


def css_colour(style: str, prop: str) -> QColor:
    """A colour property of a style sheet: "color: #aabbcc" or "background: rgba(…)"."""
    match = re.search(rf"(?<![-\w]){prop}:\s*(#[0-9a-fA-F]{{6}}|rgba\(([^)]*)\))", style)
    assert match, (prop, style)
    if match.group(2):
        r, g, b, a = (int(part) for part in match.group(2).split(","))
        return QColor(r, g, b, a)
    return QColor(match.group(1))


def wanted(palette: QPalette) -> float:
    """WCAG AA (4.5:1) for text; AAA (7:1) in a high-contrast theme."""
    return 7.0 if palette is HIGH_CONTRAST else TEXT_CONTRAST


def test_meanings_stay_readable_on_any_palette(palette: QPalette) -> None:
    for tone in Tone:
        for role in (QPalette.ColorRole.Window, QPalette.ColorRole.Base):
            assert contrast(colour(tone, palette, role), palette.color(role)) >= wanted(palette)
    assert contrast(muted(palette), palette.color(QPalette.ColorRole.Base)) >= wanted(palette)
    for tone in (Tone.MISSED, Tone.NEUTRAL):
        fill, text = badge(tone, palette)
        assert contrast(fill, text) >= wanted(palette)


def test_the_light_theme_keeps_its_colours() -> None:
    # On white the hues already read well: the light theme looks as it did.
    assert colour(Tone.MISSED, LIGHT, QPalette.ColorRole.Base) == QColor(Tone.MISSED.value)
    assert colour(Tone.ERROR, LIGHT) == QColor(Tone.ERROR.value)


def test_a_popup_takes_its_colours_from_the_palette(
    bridge: CoreBridge, webhook: Webhook, palette: QPalette
) -> None:
    manager = PopupManager(bridge, area=lambda: SCREEN, delays=CloseDelays(60_000, 60_000, 60_000))
    try:
        webhook.post(scenario("01")[0])
        (popup,) = manager.popups().values()
        base = palette.color(QPalette.ColorRole.Base)
        assert popup.card.background == base
        assert popup.title.colour == palette.color(QPalette.ColorRole.Text)
        assert contrast(popup.meta.colour, base) >= wanted(palette)
        for state in PopupState:
            popup.show_call(popup.call, state)
            assert_pill_readable(popup, base, wanted(palette))
        image = popup.grab().toImage()
        # The rendered card is the palette's base, not a light theme's white.
        centre = image.pixelColor(image.width() // 2, image.height() - 20)
        assert contrast(centre, base) < 1.1
    finally:
        manager.close_all()
        manager.overflow.deleteLater()


def assert_pill_readable(popup: CallPopup, base: QColor, minimum: float) -> None:
    style = popup.status.styleSheet()
    text = css_colour(style, "color")
    tint = css_colour(style, "background")
    assert contrast(text, over(tint, base)) >= minimum, (popup.state, style)


def test_a_theme_switch_recolours_an_open_popup(
    qapp: QApplication, bridge: CoreBridge, webhook: Webhook
) -> None:
    previous = QPalette(qapp.palette())
    manager = PopupManager(bridge, area=lambda: SCREEN, delays=CloseDelays(60_000, 60_000, 60_000))
    try:
        qapp.setPalette(LIGHT)
        webhook.post(scenario("01")[0])
        (popup,) = manager.popups().values()
        assert popup.card.background == QColor("#ffffff")
        qapp.setPalette(HIGH_CONTRAST)
        qapp.processEvents()  # the palette change is posted to each widget
        assert popup.card.background == QColor("#000000")
        assert popup.title.colour == QColor("#ffffff")
        assert css_colour(popup.card.styleSheet(), "color") == QColor("#ffffff")
        assert_pill_readable(popup, QColor("#000000"), 7.0)
    finally:
        qapp.setPalette(previous)
        manager.close_all()
        manager.overflow.deleteLater()


def test_list_colours_come_from_the_palette(
    qtbot: QtBot,
    qloop: Loop,
    bridge: CoreBridge,
    webhook: Webhook,
    missed_window: MissedWindow,
    palette: QPalette,
) -> None:
    webhook.post(*scenario("02"))
    qloop.run(missed_window.model.settled())
    missed_window.show()
    base = palette.color(QPalette.ColorRole.Base)
    # The count badge as drawn: its number readable on its fill.
    view = missed_window.view
    rect = view.visualRect(missed_window.model.index(0, Column.COUNT))
    image: QImage = view.viewport().grab(rect).toImage()
    fill, text = badge(Tone.MISSED, palette)
    colours = {
        image.pixelColor(x, y).name() for x in range(image.width()) for y in range(image.height())
    }
    assert fill.name() in colours and text.name() in colours
    # The history's "Missed" result, in the palette's missed colour.
    history = HistoryWindow(bridge)
    qtbot.addWidget(history)
    qtbot.waitUntil(lambda: history.model.rowCount() == 1)
    result = history.model.index(0, HistoryColumn.RESULT)
    shown = result.data(Qt.ItemDataRole.ForegroundRole)
    assert shown == colour(Tone.MISSED, palette, QPalette.ColorRole.Base)
    assert contrast(shown, base) >= wanted(palette)
    drain(qloop, history.tasks)


def test_an_error_line_follows_a_theme_switch(qtbot: QtBot, qapp: QApplication) -> None:
    previous = QPalette(qapp.palette())
    try:
        qapp.setPalette(LIGHT)
        status = StatusLine()
        qtbot.addWidget(status)
        status.show_error("The PBX refused the call")
        label = status.findChild(type(status._label))
        assert label is not None
        assert label.palette().color(QPalette.ColorRole.WindowText) == QColor(Tone.ERROR.value)
        qapp.setPalette(HIGH_CONTRAST)
        qapp.processEvents()
        shown = label.palette().color(QPalette.ColorRole.WindowText)
        assert shown != QColor(Tone.ERROR.value)
        assert contrast(shown, QColor("#000000")) >= 7.0
    finally:
        qapp.setPalette(previous)

"""The app's colours, all derived from the palette the system gives (light, dark or high
contrast), so no window carries a light theme's colour into a dark one.

A meaning (an error, a missed call, success, the ringing accent) has a hue; `colour` moves
that hue's lightness away from the background until text in it reaches the WCAG AA contrast
(4.5:1; 7:1 in a high-contrast theme), so "#d93025" stays itself on white, turns a lighter
red on a dark grey, and a pale red on a high-contrast black. Widgets that cache a colour
re-read it on a palette change (`is_palette_change`).
"""

from __future__ import annotations

from enum import Enum

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette

TEXT_CONTRAST = 4.5  # WCAG AA for normal text
HIGH_TEXT_CONTRAST = 7.0  # WCAG AAA: what a high-contrast theme's user asked for
SHAPE_CONTRAST = 3.0  # WCAG AA for graphics that carry meaning (a state strip, a badge)


class Tone(Enum):
    """What a colour means; its value is the hue it starts from."""

    ERROR = "#c62828"
    MISSED = "#d93025"
    SUCCESS = "#2e7d32"
    WARNING = "#9a6700"
    RINGING = "#2563eb"
    NEUTRAL = "#9ca3af"


def luminance(colour: QColor) -> float:
    """Relative luminance (WCAG 2.x) of an opaque colour."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    rgb = colour.toRgb()
    return (
        0.2126 * channel(rgb.redF())
        + 0.7152 * channel(rgb.greenF())
        + 0.0722 * channel(rgb.blueF())
    )


def contrast(a: QColor, b: QColor) -> float:
    """The WCAG contrast ratio of two opaque colours, 1 to 21."""
    light, dark = sorted((luminance(a), luminance(b)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def over(top: QColor, bottom: QColor) -> QColor:
    """`top` (maybe translucent) painted over the opaque `bottom`: what the eye sees."""
    alpha = top.alphaF()
    return QColor.fromRgbF(
        top.redF() * alpha + bottom.redF() * (1 - alpha),
        top.greenF() * alpha + bottom.greenF() * (1 - alpha),
        top.blueF() * alpha + bottom.blueF() * (1 - alpha),
    )


def is_dark(palette: QPalette) -> bool:
    """Whether the palette draws light text on a dark window."""
    return luminance(palette.color(QPalette.ColorRole.Window)) < luminance(
        palette.color(QPalette.ColorRole.WindowText)
    )


def is_high_contrast(palette: QPalette) -> bool:
    """A high-contrast theme: the system says the user asked for one, or the palette is
    white on black (an ordinary light theme is black on white too, so only the dark one
    tells by its colours)."""
    hints = QGuiApplication.styleHints()  # held: the accessibility hints are its child
    if hints.accessibility().contrastPreference() == Qt.ContrastPreference.HighContrast:
        return True
    text, base = palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base)
    return luminance(base) < luminance(text) and contrast(text, base) >= 19


def text_contrast(palette: QPalette) -> float:
    """The contrast text must reach on `palette`."""
    return HIGH_TEXT_CONTRAST if is_high_contrast(palette) else TEXT_CONTRAST


def readable(colour: QColor, background: QColor, minimum: float = TEXT_CONTRAST) -> QColor:
    """`colour`, its hue kept, made just light or dark enough to stand `minimum`:1 against
    `background` (unchanged when it already does)."""
    if contrast(colour, background) >= minimum:
        return QColor(colour)
    hsl = colour.toHsl()
    hue, saturation, lightness = hsl.hslHueF(), hsl.hslSaturationF(), hsl.lightnessF()
    towards_white = luminance(background) < 0.18
    low, high = (lightness, 1.0) if towards_white else (0.0, lightness)

    def shade(value: float) -> QColor:
        # In 8 bits a channel, as style sheets write it: the contrast holds once rounded.
        return QColor(QColor.fromHslF(max(hue, 0.0), saturation, value).name())

    best = shade(high if towards_white else low)
    for _ in range(24):  # bisection on lightness: the nearest shade that still passes
        middle = (low + high) / 2
        candidate = shade(middle)
        if contrast(candidate, background) >= minimum:
            best = candidate
            if towards_white:
                high = middle
            else:
                low = middle
        elif towards_white:
            low = middle
        else:
            high = middle
    return best


def palette_or_app(palette: QPalette | None) -> QPalette:
    return palette if palette is not None else QGuiApplication.palette()


def colour(
    tone: Tone,
    palette: QPalette | None = None,
    background: QPalette.ColorRole = QPalette.ColorRole.Window,
    minimum: float | None = None,
) -> QColor:
    """The colour of `tone` for text (by default: at the palette's `text_contrast`) or,
    with `minimum` SHAPE_CONTRAST, a shape, on the palette's `background` role."""
    palette = palette_or_app(palette)
    if tone is Tone.NEUTRAL:
        return muted(palette, background=background)
    wanted = text_contrast(palette) if minimum is None else minimum
    return readable(QColor(tone.value), palette.color(background), wanted)


def muted(
    palette: QPalette | None = None,
    selected: bool = False,
    background: QPalette.ColorRole = QPalette.ColorRole.Base,
) -> QColor:
    """Secondary text: the text colour faded towards the background, but never below the
    palette's text contrast (a high-contrast theme fades it much less)."""
    palette = palette_or_app(palette)
    text_role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
    back_role = QPalette.ColorRole.Highlight if selected else background
    text, back = palette.color(text_role), palette.color(back_role)
    wanted = text_contrast(palette)
    for amount in (0.4, 0.3, 0.2, 0.1, 0.0):
        faded = blend(text, back, amount)
        if contrast(faded, back) >= wanted:
            return faded
    return QColor(text)


def blend(a: QColor, b: QColor, amount: float) -> QColor:
    """`a` moved towards `b` by `amount` (0..1)."""
    return QColor.fromRgbF(
        a.redF() + (b.redF() - a.redF()) * amount,
        a.greenF() + (b.greenF() - a.greenF()) * amount,
        a.blueF() + (b.blueF() - a.blueF()) * amount,
    )


def on(fill: QColor) -> QColor:
    """Black or white, whichever reads better on `fill` (a badge's number)."""
    black, white = QColor("black"), QColor("white")
    return white if contrast(white, fill) >= contrast(black, fill) else black


def badge(tone: Tone, palette: QPalette | None = None) -> tuple[QColor, QColor]:
    """A count badge's fill and text: the tone as a shape on the list's base, the text in
    black or white on it, at the text contrast (the fill gives way when neither reaches it)."""
    palette = palette_or_app(palette)
    if tone is Tone.NEUTRAL:
        fill = blend(
            palette.color(QPalette.ColorRole.Text), palette.color(QPalette.ColorRole.Base), 0.5
        )
    else:
        fill = colour(tone, palette, QPalette.ColorRole.Base, SHAPE_CONTRAST)
    text = on(fill)
    return readable(fill, text, text_contrast(palette)), text


def is_palette_change(event: QEvent) -> bool:
    """For `changeEvent`: the widget's palette changed. A new application palette (the
    system switched to dark or high contrast; Qt follows QStyleHints.colorScheme by itself)
    reaches every widget that way too."""
    return event.type() == QEvent.Type.PaletteChange

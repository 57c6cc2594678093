"""Phone numbers as the PBX, the user and the call history write them.

One caller reaches us as `05321234567`, `905321234567` (the API's domestic format),
`+90 532 123 45 67` or `tel:+905321234567`; `parse` turns each into the same `PhoneNumber`
so history can group them under one `key`, show one Turkish `display` form and dial one
`destination`. Real numbers go through `phonenumbers` (region TR); only extensions are
recognised before it, because it would read `1001` as the invalid `+901001`.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Final, Literal
from urllib.parse import unquote

from bulutpop.errors import NumberError

__all__ = [
    "NumberError",
    "PhoneNumber",
    "canonical_key",
    "dialable",
    "display",
    "parse",
    "withheld",
]

Kind = Literal["extension", "service", "number"]

REGION: Final = "TR"
TR_COUNTRY_CODE: Final = 90

# Extensions are short internal numbers; real Turkish numbers have at least 7 digits.
_EXTENSION_DIGITS: Final = range(2, 6)
# Turkish national significant numbers are 10 digits; shorter valid ones (444 xxxx) have no
# area code and are dialled bare, so they are service numbers rather than domestic numbers.
_DOMESTIC_LENGTH: Final = 10

_URL_SCHEME = re.compile(r"(?i)(?:tel|callto):(?://)?")
# What may appear in a written number. Letters are refused outright: phonenumbers would
# otherwise read them as vanity digits (0800 FLOWERS) or an "ext." suffix.
_NUMBER_CHARS = re.compile(r"\+?[0-9\s().\-/\u2010-\u2015]+")


@dataclass(frozen=True, slots=True)
class PhoneNumber:
    raw: str
    """The text as given."""
    kind: Kind
    key: str
    """Matching key: E.164 for real numbers, the bare digits for extensions and services."""
    display: str
    """Turkish display form: national for TR, international for foreign numbers."""
    destination: str
    """PBX originate format: `90` + 10 digits, `00` + country code + number, or digits."""
    e164: str
    """E.164 form, or "" for extensions."""


# The same few numbers recur in every event of a call and across calls; phonenumbers'
# parse is the most expensive step of ingesting an event.
@functools.lru_cache(maxsize=4096)
def parse(text: str) -> PhoneNumber:
    """Parse a number written any usual way; raise `NumberError` if it is not one."""
    cleaned = _clean(text)
    if cleaned is None:
        raise NumberError(text)
    digits = _ascii_digits(cleaned)
    if not cleaned.startswith("+") and len(digits) in _EXTENSION_DIGITS:
        return PhoneNumber(text, "extension", digits, digits, digits, "")

    # Imported on the first real number, not at start: the app listens sooner without it.
    import phonenumbers
    from phonenumbers import NumberParseException, PhoneNumberFormat

    try:
        number = phonenumbers.parse(cleaned, REGION)
    except NumberParseException:
        raise NumberError(text) from None
    if not phonenumbers.is_valid_number(number):
        raise NumberError(text)

    e164 = phonenumbers.format_number(number, PhoneNumberFormat.E164)
    national = phonenumbers.national_significant_number(number)
    if number.country_code != TR_COUNTRY_CODE:
        shown = phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
        return PhoneNumber(text, "number", e164, shown, f"00{number.country_code}{national}", e164)

    # phonenumbers brackets area codes, "(0212) 320 50 62"; Turkish offices write them
    # without: "0212 320 50 62", like mobiles ("0532 123 45 67").
    shown = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    shown = shown.replace("(", "").replace(")", "")
    if len(national) < _DOMESTIC_LENGTH:
        return PhoneNumber(text, "service", national, shown, national, e164)
    return PhoneNumber(text, "number", e164, shown, f"{TR_COUNTRY_CODE}{national}", e164)


def canonical_key(text: str) -> str:
    """`parse(text).key`, or for junk its digits (keeping a leading +) or the stripped text.

    Never raises, so call history can group whatever the PBX sent.
    """
    try:
        return parse(text).key
    except NumberError:
        stripped = text.strip()
        digits = _ascii_digits(stripped)
        if not digits:
            return stripped
        return f"+{digits}" if stripped.startswith("+") else digits


def dialable(text: str) -> bool:
    """Whether `text` holds a number at all: a withheld caller reaches us as "" or a word
    ("anonymous"), which nobody can call back."""
    return any(c.isdigit() for c in text)


# What PBXs and carriers write for a caller who withheld their number.
_WITHHELD = frozenset(
    {"anonymous", "private", "unknown", "restricted", "unavailable", "withheld", "gizli"}
)


def withheld(text: str) -> bool:
    """Whether the caller withheld their number ("" or a word such as "anonymous")."""
    stripped = text.strip().casefold()
    return not stripped or stripped in _WITHHELD


def display(text: str) -> str:
    """`parse(text).display`, or the stripped text when it is not a number. Never raises."""
    try:
        return parse(text).display
    except NumberError:
        return text.strip()


def _clean(text: str) -> str | None:
    """The number part of `text` with URL wrapping removed, or None if it cannot be one."""
    cleaned = text.strip()
    scheme = _URL_SCHEME.match(cleaned)
    if scheme:
        # tel:/callto: links may be URL-encoded (tel:%2B90...) and carry parameters
        # (;phone-context=..., ?call) that are not part of the number.
        cleaned = unquote(cleaned[scheme.end() :])
        cleaned = re.split(r"[;?]", cleaned, maxsplit=1)[0]
    # NFKC turns no-break spaces and full-width digits pasted from web pages into ASCII.
    cleaned = unicodedata.normalize("NFKC", cleaned).strip()
    if not _NUMBER_CHARS.fullmatch(cleaned):
        return None
    return cleaned


def _ascii_digits(text: str) -> str:
    # Not str.isdigit(): that also accepts superscripts and other scripts' digits.
    return "".join(c for c in text if "0" <= c <= "9")

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bulutpop.calls.phone import PhoneNumber, canonical_key, display, parse
from bulutpop.errors import InvalidInput, NumberError

MOBILE = PhoneNumber(
    raw="",
    kind="number",
    key="+905321234567",
    display="0532 123 45 67",
    destination="905321234567",
    e164="+905321234567",
)
ISTANBUL = PhoneNumber(
    raw="",
    kind="number",
    key="+902123205062",
    display="0212 320 50 62",
    destination="902123205062",
    e164="+902123205062",
)
BERLIN = PhoneNumber(
    raw="",
    kind="number",
    key="+493027590915",
    display="+49 30 27590915",
    destination="00493027590915",
    e164="+493027590915",
)
NON_GEOGRAPHIC = PhoneNumber(
    raw="",
    kind="number",
    key="+908505320000",
    # phonenumbers groups 0850 numbers as 3-3-4.
    display="0850 532 0000",
    destination="908505320000",
    e164="+908505320000",
)
SERVICE = PhoneNumber(
    raw="",
    kind="service",
    key="4441234",
    display="444 1 234",
    destination="4441234",
    e164="+904441234",
)


def extension(digits: str) -> PhoneNumber:
    return PhoneNumber(
        raw="", kind="extension", key=digits, display=digits, destination=digits, e164=""
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0532 123 45 67", MOBILE),
        ("+90 (532) 123-45-67", MOBILE),
        ("05321234567", MOBILE),
        # The API's domestic format: 90 is the country code, not a national 9...
        ("905321234567", MOBILE),
        ("+905321234567", MOBILE),
        ("+90 532 123 45 67", MOBILE),
        ("0 (532) 123 45 67", MOBILE),
        ("0090 532 123 45 67", MOBILE),
        ("  0532 123 45 67\n", MOBILE),
        ("0532\u00a0123\u00a045\u00a067", MOBILE),
        ("０５３２１２３４５６７", MOBILE),
        ("tel:+905321234567", MOBILE),
        ("TEL:+905321234567", MOBILE),
        ("tel://+905321234567", MOBILE),
        ("tel:%2B905321234567", MOBILE),
        ("tel:+90-532-123-45-67;phone-context=example.com", MOBILE),
        ("callto:+905321234567", MOBILE),
        ("callto://+90%20532%20123%2045%2067", MOBILE),
        ("callto:05321234567?call", MOBILE),
        ("02123205062", ISTANBUL),
        ("(0212) 320 50 62", ISTANBUL),
        ("902123205062", ISTANBUL),
        ("00493027590915", BERLIN),
        ("+49 30 27590915", BERLIN),
        ("tel:+49-30-27590915", BERLIN),
        ("0850 532 00 00", NON_GEOGRAPHIC),
        ("08505320000", NON_GEOGRAPHIC),
        ("444 1 234", SERVICE),
        ("4441234", SERVICE),
        ("444 12 34", SERVICE),
        ("+90 444 1234", SERVICE),
        ("1001", extension("1001")),
        ("tel:1001", extension("1001")),
        ("12", extension("12")),
        ("112", extension("112")),
        ("12345", extension("12345")),
        # Any 2–5 digits are an extension, even when they look like an area code.
        ("0532", extension("0532")),
    ],
)
def test_parse(text: str, expected: PhoneNumber) -> None:
    got = parse(text)
    assert got.raw == text
    assert got == PhoneNumber(
        raw=text,
        kind=expected.kind,
        key=expected.key,
        display=expected.display,
        destination=expected.destination,
        e164=expected.e164,
    )


def test_same_person_same_key() -> None:
    forms = ["0532 123 45 67", "05321234567", "905321234567", "+905321234567", "tel:+905321234567"]
    assert {canonical_key(f) for f in forms} == {"+905321234567"}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "12ab",
        "abc",
        "0800 FLOWERS",
        "0532 123 45 67 ext 12",
        "1",
        "123456",
        "+1001",
        "0532 123 45 67 89 00 11 22",
        "1" * 300,
        "++905321234567",
        "0532+1234567",
        "tel:",
        "callto:someone",
        "+999 1234567",
        "0000000000",
        "1234567890",
    ],
)
def test_parse_rejects(text: str) -> None:
    with pytest.raises(NumberError) as info:
        parse(text)
    assert isinstance(info.value, InvalidInput)
    assert text[:20] in str(info.value)


def test_error_message_is_short_and_names_input() -> None:
    with pytest.raises(NumberError, match=r"^'12ab' is not a phone number$"):
        parse("12ab")
    with pytest.raises(NumberError) as info:
        parse("9" * 500)
    assert len(str(info.value)) < 80


@pytest.mark.parametrize(
    ("text", "key", "shown"),
    [
        ("12ab", "12", "12ab"),
        ("  +999 12 ", "+99912", "+999 12"),
        ("unknown", "unknown", "unknown"),
        ("  ", "", ""),
        ("0532 123 45 67", "+905321234567", "0532 123 45 67"),
        ("444 1 234", "4441234", "444 1 234"),
    ],
)
def test_fallbacks(text: str, key: str, shown: str) -> None:
    assert canonical_key(text) == key
    assert display(text) == shown


# Valid Turkish mobile and landline area codes; the subscriber part is random and the
# whole number is then checked with phonenumbers so the test never relies on guesses.
TR_PREFIXES = [
    "501", "505", "506", "507", "530", "532", "533", "535", "538", "539",
    "541", "542", "543", "544", "545", "546", "549", "551", "552", "553", "555", "559",
    "212", "216", "224", "232", "242", "312", "322", "332", "342", "352", "462",
]  # fmt: skip


def _valid_tr(national: str) -> bool:
    return bool(phonenumbers.is_valid_number(phonenumbers.parse("0" + national, "TR")))


tr_national = st.builds(
    lambda prefix, rest: prefix + rest,
    st.sampled_from(TR_PREFIXES),
    st.text(alphabet="0123456789", min_size=7, max_size=7),
).filter(_valid_tr)


def written_forms(n: str) -> list[str]:
    spaced = f"{n[:3]} {n[3:6]} {n[6:8]} {n[8:]}"
    return [
        "0" + n,
        "0" + spaced,
        f"0 ({n[:3]}) {n[3:6]} {n[6:8]} {n[8:]}",
        f"({'0' + n[:3]}) {n[3:6]}-{n[6:8]}-{n[8:]}",
        "+90" + n,
        "+90 " + spaced,
        "90" + n,
        "0090" + n,
        "tel:+90" + n,
        "tel:%2B90" + n,
        "callto://+90" + n,
    ]


@settings(max_examples=60, deadline=None)
@given(tr_national)
def test_every_written_form_is_the_same_number(national: str) -> None:
    parsed = [parse(form) for form in written_forms(national)]
    assert {p.key for p in parsed} == {"+90" + national}
    assert {p.e164 for p in parsed} == {"+90" + national}
    assert {p.kind for p in parsed} == {"number"}
    assert {p.destination for p in parsed} == {"90" + national}
    (shown,) = {p.display for p in parsed}
    assert shown.startswith(("0", "(0"))
    assert parse(shown).key == "+90" + national


@pytest.mark.parametrize("region", ["DE", "GB", "US", "FR", "NL", "AE", "AZ", "IT"])
def test_foreign_examples_round_trip(region: str) -> None:
    example = phonenumbers.example_number(region)
    assert example is not None
    e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
    got = parse(e164)
    assert got.key == e164
    assert got.display.startswith(f"+{example.country_code} ")
    assert got.destination == "00" + e164[1:]
    assert parse(got.display) == PhoneNumber(
        raw=got.display,
        kind="number",
        key=got.key,
        display=got.display,
        destination=got.destination,
        e164=got.e164,
    )
    assert parse(got.destination).key == e164


@settings(max_examples=40, deadline=None)
@given(st.text(alphabet="0123456789", min_size=2, max_size=5))
def test_short_digit_strings_are_extensions(digits: str) -> None:
    got = parse(digits)
    assert (got.kind, got.key, got.display, got.destination, got.e164) == (
        "extension",
        digits,
        digits,
        digits,
        "",
    )


@settings(max_examples=300, deadline=None)
@given(st.text() | st.text(alphabet="0123456789 +()-./:%tel", max_size=20))
def test_never_raise_on_arbitrary_text(text: str) -> None:
    key = canonical_key(text)
    shown = display(text)
    assert isinstance(key, str)
    assert isinstance(shown, str)
    try:
        got = parse(text)
    except NumberError as exc:
        # Not pytest.raises: arbitrary text may parse or not.
        assert str(exc).endswith("is not a phone number")  # noqa: PT017
    else:
        # Whatever parses keeps its identity through its own display form.
        assert key == got.key
        assert parse(got.display).key == got.key

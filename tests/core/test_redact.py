from __future__ import annotations

import io
import json
import logging
import re
import string
from collections.abc import Callable, Iterator
from urllib.parse import unquote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bulutpop.local.redact import (
    KEY_PATTERN,
    MASK,
    RedactingFilter,
    Redactor,
    install,
    redacting_handler,
)

KEY = "K12345678-1234-5678-4321-123456789012"
TOKEN = "plain-text-secret-of-32-url-safe-chars"
URL_SAFE = string.ascii_letters + string.digits + "-_"


def test_key_pattern_matches_key_shapes() -> None:
    assert KEY_PATTERN.fullmatch(KEY)
    assert KEY_PATTERN.fullmatch("kabcdef01-ABCD-ef01-2345-6789abcdef01")
    assert KEY_PATTERN.search(f"key%3D{KEY}&x=1")  # right after an encoded '='
    assert not KEY_PATTERN.search("358c20bc-fd86-11e5-87a2-157d41a07454")  # a call_uuid


def test_redacts_known_secrets_and_key_shapes() -> None:
    r = Redactor(TOKEN)
    encoded = "".join(f"%{ord(c):02X}" for c in TOKEN)
    out = r.redact(f"a {TOKEN} b {encoded} c agent:{TOKEN}& d {KEY}")
    assert out == f"a {MASK} b {MASK} c agent:{MASK}& d {MASK}"
    assert r.redact("") == ""


def test_only_secrets_shaped_like_ours_are_registered() -> None:
    """A "key" of one character, or any text that is no key, token or credential of ours,
    would mask innocent text in every line: it is not registered."""
    r = Redactor()
    for not_ours in ("", "a", "abc", "password", "s3cret/value+x=y", "x" * 31, "a b" * 20):
        r.add(not_ours)
    line = "a password abc s3cret/value+x=y " + "x" * 31
    assert r.redact(line) == line
    assert repr(r) == "<Redactor with 0 secret(s)>"
    r.add(f"agent1001:{TOKEN}")  # a credential: its secret part
    assert r.redact(f"secret {TOKEN}") == f"secret {MASK}"


def test_a_call_uuid_after_a_colon_is_no_credential() -> None:
    text = "call:358c20bc-fd86-11e5-87a2-157d41a07454 queue:" + "a" * 33
    assert Redactor().redact(text) == text


# --- every form a secret can take in a text ---------------------------------------------------

# How a secret gets broken or encoded on its way into a log line: whitespace or an escaped
# line break between two characters, any character percent-encoded (yarl writes `%3B` for
# ';', quote() `%2D`, in upper or lower case), and the whole line a bytes or str repr, or
# JSON (which escape the whitespace).
_GAPS = st.sampled_from(["", "", "", " ", "\n", "\r\n", "\t", "\x0b", "\\n", "%0A", "%20"])
_WRAPS: list[Callable[[str], str]] = [lambda t: t, lambda t: repr(t.encode()), repr, json.dumps]
_AROUND = st.text(string.ascii_letters + string.digits + " =&?/", max_size=20)


@st.composite
def carried(draw: st.DrawFn, secret: str, lead: str | None = None) -> str:
    """`secret` as some text might carry it, right after `lead` (else after any text)."""
    out = [lead if lead is not None else draw(_AROUND)]
    for n, char in enumerate(secret):
        if n:
            out.append(draw(_GAPS))
        encode = draw(st.sampled_from(["", "", "%%%02X", "%%%02x"]))
        out.append(encode % ord(char) if encode else char)
    out.append(draw(st.sampled_from([" ", "&", "'", "\n"])) + draw(_AROUND))
    return draw(st.sampled_from(_WRAPS))("".join(out))


def reader_view(text: str) -> str:
    """What a person reading `text` could put together: escapes (however often escaped)
    and percent-encoding undone, whitespace dropped."""
    text = re.sub(r"\\+", r"\\", text)
    for escape in ("\\n", "\\r", "\\t", "\\x0b", "\\x0c", "\\u000b", "\\f"):
        text = text.replace(escape, "")
    return "".join(unquote(text).split()).lower()


def hex_text(size: int) -> st.SearchStrategy[str]:
    return st.text("0123456789abcdefABCDEF", min_size=size, max_size=size)


@st.composite
def api_keys(draw: st.DrawFn) -> str:
    return draw(st.sampled_from("Kk")) + "-".join(draw(hex_text(n)) for n in (8, 4, 4, 4, 12))


@given(st.data())
def test_an_api_key_never_survives_in_any_form(data: st.DataObject) -> None:
    key = data.draw(api_keys())
    text = data.draw(carried(key))
    assert key.lower() not in reader_view(Redactor().redact(text)), text


@given(st.data())
def test_a_registered_token_never_survives_in_any_form(data: st.DataObject) -> None:
    token = data.draw(st.text(URL_SAFE, min_size=32, max_size=48))
    text = data.draw(carried(token))
    assert token.lower() not in reader_view(Redactor(token).redact(text)), text


@given(st.data())
def test_a_team_credential_never_survives_in_any_form(data: st.DataObject) -> None:
    """The relay keeps only hashes of its agents' secrets: their shape alone masks them."""
    secret = data.draw(st.text(URL_SAFE, min_size=32, max_size=32))
    separator = data.draw(st.sampled_from([":", "%3A", "%3a"]))
    text = data.draw(carried(secret, f"GET /pbx/queues?key=agent1001{separator}"))
    assert secret.lower() not in reader_view(Redactor().redact(text)), text


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO, Redactor]]:
    logger = logging.getLogger("bulutpop.test_redact")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    redactor = Redactor(TOKEN)
    install(redactor, logger)
    yield logger, stream, redactor
    logger.removeHandler(handler)
    logger.filters.clear()


def test_filter_redacts_message_and_args(
    logged: tuple[logging.Logger, io.StringIO, Redactor],
) -> None:
    logger, stream, _ = logged
    logger.info("key=%s other=%s", KEY, TOKEN)
    assert stream.getvalue() == f"key={MASK} other={MASK}\n"


def test_filter_redacts_tracebacks_and_stack(
    logged: tuple[logging.Logger, io.StringIO, Redactor],
) -> None:
    logger, stream, _ = logged
    try:
        raise RuntimeError(f"Gecersiz anahtar: {KEY}")
    except RuntimeError:
        logger.exception("failed with %s", TOKEN)
    logger.warning("here", stack_info=True, extra={"unused": KEY})
    out = stream.getvalue()
    assert "Traceback" in out and "RuntimeError: Gecersiz anahtar: K********" in out
    assert KEY not in out and TOKEN not in out


def test_child_loggers_and_later_handlers_are_covered(
    logged: tuple[logging.Logger, io.StringIO, Redactor],
) -> None:
    logger, stream, redactor = logged
    logging.getLogger("bulutpop.test_redact.child").error("sent %s", KEY)
    install(redactor, logger)  # idempotent
    assert sum(isinstance(f, RedactingFilter) for f in logger.handlers[0].filters) == 1

    late = io.StringIO()
    handler = redacting_handler(logging.StreamHandler(late), redactor)
    logger.addHandler(handler)
    try:
        logging.getLogger("bulutpop.test_redact.child").error("again %s", KEY)
    finally:
        logger.removeHandler(handler)
    assert KEY not in stream.getvalue() + late.getvalue()
    assert late.getvalue() == f"again {MASK}\n"


def test_bad_format_string_is_still_redacted() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "%d %s", (KEY,), None)
    assert RedactingFilter(Redactor()).filter(record)
    assert KEY not in record.getMessage()
    assert record.args == ()

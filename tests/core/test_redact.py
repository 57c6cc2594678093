from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from bulutpop.local.redact import (
    KEY_PATTERN,
    MASK,
    RedactingFilter,
    Redactor,
    install,
    redacting_handler,
)

KEY = "K12345678-1234-5678-4321-123456789012"


def test_key_pattern_matches_key_shapes() -> None:
    assert KEY_PATTERN.fullmatch(KEY)
    assert KEY_PATTERN.fullmatch("kabcdef01-ABCD-ef01-2345-6789abcdef01")
    assert KEY_PATTERN.search(f"key%3D{KEY}&x=1")  # right after an encoded '='
    assert not KEY_PATTERN.search("358c20bc-fd86-11e5-87a2-157d41a07454")  # a call_uuid


def test_redacts_known_secrets_and_key_shapes() -> None:
    r = Redactor("s3cret/value+x=y")
    text = f"a s3cret/value+x=y b s3cret%2Fvalue%2Bx%3Dy c s3cret%2Fvalue%2Bx%3Dy d {KEY}"
    out = r.redact(text)
    assert out == f"a {MASK} b {MASK} c {MASK} d {MASK}"
    assert r.redact("") == ""


def test_short_or_empty_secrets_are_ignored() -> None:
    r = Redactor()
    r.add("")
    r.add("abc")
    assert r.redact("abc abc") == "abc abc"
    assert "abc" not in repr(r)


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO, Redactor]]:
    logger = logging.getLogger("bulutpop.test_redact")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    redactor = Redactor("plain-text-secret")
    install(redactor, logger)
    yield logger, stream, redactor
    logger.removeHandler(handler)
    logger.filters.clear()


def test_filter_redacts_message_and_args(
    logged: tuple[logging.Logger, io.StringIO, Redactor],
) -> None:
    logger, stream, _ = logged
    logger.info("key=%s other=%s", KEY, "plain-text-secret")
    assert stream.getvalue() == f"key={MASK} other={MASK}\n"


def test_filter_redacts_tracebacks_and_stack(
    logged: tuple[logging.Logger, io.StringIO, Redactor],
) -> None:
    logger, stream, _ = logged
    try:
        raise RuntimeError(f"Gecersiz anahtar: {KEY}")
    except RuntimeError:
        logger.exception("failed with %s", "plain-text-secret")
    logger.warning("here", stack_info=True, extra={"unused": KEY})
    out = stream.getvalue()
    assert "Traceback" in out and "RuntimeError: Gecersiz anahtar: K********" in out
    assert KEY not in out and "plain-text-secret" not in out


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

"""What went wrong, in the user's words: `describe_error` turns the core's exceptions into a
status line, `missing_setup` says what setup is missing ("no API key is stored")."""

from __future__ import annotations

import math

from PySide6.QtCore import QCoreApplication

from bulutpop.app.core import MissingSetup
from bulutpop.calls import phone
from bulutpop.calls.phone import NumberError
from bulutpop.pbx.client import BadRequest, CredentialRefused, InvalidKey, PbxError, RateLimited
from bulutpop.pbx.dialer import DialRefused

# Failures a user can cause or fix; anything else is a bug and is logged with its traceback.
EXPECTED = (NumberError, MissingSetup, DialRefused, PbxError)


def describe_error(exc: BaseException) -> str:
    """What went wrong, in words for the status line of any window that dials."""
    if isinstance(exc, NumberError):
        return QCoreApplication.translate("describe_error", "“%1” is not a phone number.").replace(
            "%1", exc.text
        )
    if isinstance(exc, DialRefused):
        if exc.reason == "busy":
            text = QCoreApplication.translate("describe_error", "Not dialled: already calling %1.")
        else:
            text = QCoreApplication.translate(
                "describe_error", "Not dialled: %1 was dialled a moment ago."
            )
        return text.replace("%1", phone.display(exc.number))
    if isinstance(exc, MissingSetup):
        # Not the core's message: it is English, and its advice names CLI commands.
        return QCoreApplication.translate(
            "describe_error", "Setup needed: %1. Open Settings to finish it."
        ).replace("%1", missing_setup(exc))
    if isinstance(exc, CredentialRefused):
        return QCoreApplication.translate(
            "describe_error",
            "The team server refused this PC: ask your administrator for a new invite.",
        )
    if isinstance(exc, InvalidKey):
        return QCoreApplication.translate(
            "describe_error", "The API key was refused: check it in Settings."
        )
    if isinstance(exc, RateLimited):
        seconds = str(math.ceil(exc.retry_after))
        return QCoreApplication.translate(
            "describe_error", "Too many requests: try again in %1 s."
        ).replace("%1", seconds)
    if isinstance(exc, BadRequest) and exc.detail:
        return QCoreApplication.translate("describe_error", "The PBX refused the call: %1").replace(
            "%1", exc.detail
        )
    if isinstance(exc, PbxError):
        return exc.message
    return QCoreApplication.translate("describe_error", "Something went wrong: %1").replace(
        "%1", str(exc) or type(exc).__name__
    )


def missing_setup(exc: MissingSetup) -> str:
    """What is missing, as a clause for "Setup needed: …" ("no API key is stored")."""
    if exc.what == "api_key":
        return QCoreApplication.translate("missing_setup", "no API key is stored")
    if exc.what == "extension":
        return QCoreApplication.translate("missing_setup", "no extension is configured")
    return QCoreApplication.translate("missing_setup", "this PC's team secret is missing")

"""What went wrong, in the user's language: `describe_error` is the one place the Qt shell
turns an error (`bulutpop.errors`, which carry data, not sentences) into words, through Qt's
translations. The command line has its own twin, `bulutpop.cli.describe`."""

from __future__ import annotations

import math
from typing import Literal

from PySide6.QtCore import QCoreApplication

from bulutpop.calls import phone
from bulutpop.errors import (
    AutostartError,
    BrokerError,
    BulutpopError,
    CannotListen,
    CredentialRefused,
    DialRefused,
    DownloadError,
    InvalidInput,
    InviteError,
    KeyRefused,
    KeyringUnavailable,
    NetworkError,
    NotFound,
    NumberError,
    PbxFailed,
    PbxRefused,
    RateLimited,
    SetupMissing,
    StorageError,
    TeamError,
    TeamRemoved,
)

# What the user was doing, where the words depend on it ("the call was not placed").
Action = Literal["", "dial", "play"]


def _tr(text: str) -> str:
    return QCoreApplication.translate("describe_error", text)


def describe_error(exc: BaseException, action: Action = "") -> str:
    """What went wrong, in the user's language, for a status line or a message box."""
    match exc:
        case NumberError():
            return _tr("“%1” is not a phone number.").replace("%1", exc.text)
        case DialRefused(reason="busy"):
            return _tr("Not dialled: already calling %1.").replace("%1", phone.display(exc.number))
        case DialRefused():
            return _tr("Not dialled: %1 was dialled a moment ago.").replace(
                "%1", phone.display(exc.number)
            )
        case SetupMissing():
            return _tr("Setup needed: %1. Open Settings to finish it.").replace(
                "%1", missing_setup(exc)
            )
        case InviteError(problem="foreign"):
            return _tr("This is not a team invite: ask your administrator for one.")
        case InviteError(problem="damaged"):
            return _tr("The invite is incomplete or damaged: copy the whole line again.")
        case InvalidInput():  # a setting's value or an invite's: its own English words
            return _tr("This cannot be used: %1").replace("%1", str(exc))
        case KeyringUnavailable():
            return _keyring(exc)
        case TeamRemoved():
            return _tr(
                "This PC was removed from the team. To join again, ask your administrator "
                "for a new invite."
            )
        case CredentialRefused():
            return _tr("The team server refused this PC: ask your administrator for a new invite.")
        case KeyRefused():
            return _tr("The API key was refused: check it in Settings.")
        case RateLimited():
            return _tr("Too many requests: try again in %1 s.").replace(
                "%1", str(math.ceil(exc.retry_after))
            )
        case NotFound(what="call") if action == "play":
            return _tr("This recording is not available (it may have expired).")
        case NotFound(what="call"):
            return _tr("The PBX does not know this call.")
        case NotFound(what="recording_link"):
            return _tr("The recording link has expired: try again.")
        case NotFound():
            return _tr("The PBX answered “not found”: check the API address in Settings.")
        case PbxRefused() if action == "dial":
            return _with_reply(_tr("The PBX refused the call."), exc.detail)
        case PbxRefused():
            return _with_reply(_tr("The PBX refused the request."), exc.detail)
        case PbxFailed():
            return _with_reply(_tr("The PBX had a problem; try again in a moment."), exc.detail)
        case NetworkError() if exc.local_network_refused:
            return _tr(
                "macOS may be blocking local network access: System Settings → Privacy and "
                "Security → Local Network → allow bulutpop."
            )
        case NetworkError(uncertain=True) if action == "dial":
            return _tr(
                "No answer from the PBX: the call may or may not have been placed. "
                "Check your phone before dialling again."
            )
        case NetworkError() if action == "dial":
            return _tr("Could not reach the PBX; the call was not placed (%1).").replace(
                "%1", exc.cause
            )
        case NetworkError():
            return _tr("Could not reach the server (%1).").replace("%1", exc.cause)
        case DownloadError():
            return _tr("Could not save the recording: %1").replace("%1", exc.reason)
        case StorageError(problem="damaged"):
            return _tr(
                "The call history file cannot be read (%1). Move it aside and start "
                "bulutpop again: a new one is made."
            ).replace("%1", exc.path)
        case StorageError(problem="unsupported"):
            return _tr(
                "This copy of bulutpop cannot search the call history (its SQLite has no "
                "FTS5 trigram search: %1). Install the official build of bulutpop."
            ).replace("%1", exc.detail)
        case StorageError(problem="newer"):
            return _tr("The call history was written by a newer bulutpop: update the app.")
        case StorageError():
            return _tr("The call history cannot be saved: %1").replace("%1", exc.detail)
        case CannotListen(problem="in_use"):
            return _tr(
                "Port %1 is already in use (is bulutpop already running?): choose another "
                "in Settings."
            ).replace("%1", str(exc.port))
        case CannotListen():
            return (
                _tr("Cannot listen on %1 (%2): check the address in Settings.")
                .replace("%1", f"{exc.host}:{exc.port}")
                .replace("%2", exc.detail or exc.problem)
            )
        case BrokerError():
            return _tr("The team's message broker: %1").replace("%1", str(exc))
        case TeamError():
            return _tr("The team server: %1").replace("%1", str(exc))
        case AutostartError(problem="translocated"):
            return _tr(
                "macOS runs bulutpop from a temporary copy of the download, which will not be "
                "there at the next login: move bulutpop.app into Applications, open it from "
                "there and try again."
            )
        case AutostartError():
            return _tr("Starting at login could not be changed: %1").replace("%1", str(exc))
        case OSError():
            return _tr("Something went wrong: %1").replace("%1", exc.strerror or str(exc))
        case BulutpopError():
            return _tr("Something went wrong: %1").replace("%1", str(exc))
    return _tr("Something went wrong: %1").replace("%1", str(exc) or type(exc).__name__)


def _with_reply(sentence: str, reply: str) -> str:
    """A sentence in the user's language, then on a line of its own what the PBX said, in
    its own words (English): useful to whoever looks into it, never mixed into the sentence."""
    if not reply:
        return sentence
    return sentence + "\n" + _tr("The PBX's reply: %1").replace("%1", reply)


def _keyring(exc: KeyringUnavailable) -> str:
    secret = _secret(exc.secret)
    match exc.problem, exc.system:
        case "locked", "macos":
            return _tr("The login keychain is locked: unlock it in Keychain Access and try again.")
        case "locked", _:
            return _tr("The system keyring is locked: unlock it (log in again) and try again.")
        case "unavailable", "windows":
            text = _tr(
                "Windows Credential Manager cannot be reached, so the %1 cannot be kept: "
                "sign out and in again."
            )
        case "unavailable", "macos":
            text = _tr(
                "The macOS Keychain cannot be reached, so the %1 cannot be kept: sign "
                "out and in again."
            )
        case "unavailable", _:
            text = _tr(
                "No system keyring is available, so the %1 cannot be kept safely: install and "
                "start one (for example GNOME Keyring)."
            )
        case "insecure", _:
            return (
                _tr("The keyring %1 would keep the %2 unencrypted, so it was not stored there.")
                .replace("%1", exc.backend)
                .replace("%2", secret)
            )
        case _, "windows":
            return _tr("Windows Credential Manager failed (%1): try again.").replace(
                "%1", exc.detail
            )
        case _, "macos":
            return _tr("The macOS Keychain failed (%1): try again.").replace("%1", exc.detail)
        case _:
            return _tr(
                "The system keyring failed (%1): check that it runs and is unlocked."
            ).replace("%1", exc.detail)
    return text.replace("%1", secret)


def _secret(what: str) -> str:
    if what == "team secret":
        return QCoreApplication.translate("describe_error", "team secret")
    return QCoreApplication.translate("describe_error", "API key")


def missing_setup(exc: SetupMissing) -> str:
    """What is missing, as a clause for "Setup needed: …" ("no API key is stored")."""
    if exc.what == "api_key":
        return QCoreApplication.translate("missing_setup", "no API key is stored")
    if exc.what == "extension":
        return QCoreApplication.translate("missing_setup", "no extension is configured")
    return QCoreApplication.translate("missing_setup", "this PC's team secret is missing")

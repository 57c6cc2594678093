"""One vocabulary of errors for the whole project.

Every error bulutpop raises on purpose is a `BulutpopError`. Its class says what kind of
trouble it is, its attributes carry the data (which setting, which port, how long to wait,
the PBX's own words), and `str()` is a short English statement for logs. None of them holds
advice for one front end: the front ends put the error in words, each in one place —
`bulutpop.cli.describe` (the command line's message and exit code) and
`bulutpop.ui.common.errors.describe_error` (the user's language, through Qt's translations).
"""

from __future__ import annotations

import errno as errno_codes
import ipaddress
import sys
from typing import Literal


class BulutpopError(Exception):
    """Something bulutpop could not do, for a reason it knows."""


# -- the user's setup and input ---------------------------------------------------------------

# What the user has yet to set: the PBX API key, their extension, or (team mode) this PC's
# team secret.
SetupItem = Literal["api_key", "extension", "team_secret"]


class SetupMissing(BulutpopError):
    """Something the user must set first."""

    def __init__(self, what: SetupItem) -> None:
        super().__init__(f"not set up yet: no {what.replace('_', ' ')}")
        self.what: SetupItem = what


class InvalidInput(BulutpopError):
    """What the user gave cannot be used; `str()` says what is wrong with it."""


class ConfigError(InvalidInput):
    """A setting (from the settings file, the command line or the settings window)."""


class NumberError(InvalidInput):
    """The text is not a phone number."""

    def __init__(self, text: str) -> None:
        shown = text if len(text) <= 40 else text[:39] + "…"
        super().__init__(f"{shown!r} is not a phone number")
        self.text = text


class InviteError(InvalidInput):
    """The pasted text is not a usable team invite: not one at all ("foreign"), cut short
    or garbled ("damaged"), or holding a value this version cannot use ("unusable")."""

    def __init__(
        self, problem: Literal["foreign", "damaged", "unusable"], detail: str = ""
    ) -> None:
        words = {
            "foreign": "this is not a team invite",
            "damaged": "the invite is incomplete or damaged: copy the whole line again",
            "unusable": f"the invite holds an unusable value: {detail}",
        }[problem]
        super().__init__(words)
        self.problem = problem
        self.detail = detail


# Why an address book file cannot be imported: it cannot be opened ("unreadable", `detail`
# says why), is over the size limit, is empty, has no column of phone numbers (`detail`:
# the headers it has), holds a CSV field over the csv module's limit (`detail`), vCards
# nested too deep, or is not a readable CSV or vCard file ("damaged", `detail` says where).
AddressBookProblem = Literal[
    "unreadable", "too_large", "empty", "no_phone_column", "long_field", "deep_nesting", "damaged"
]


class AddressBookError(InvalidInput):
    """An address book file (`path`) cannot be imported; `str()` says what is wrong with
    it, without the path."""

    def __init__(self, path: str, problem: AddressBookProblem, detail: str = "") -> None:
        words = {
            "unreadable": f"the file cannot be read ({detail})",
            "too_large": "the file is too large for an address book",
            "empty": "the file is empty",
            "no_phone_column": f"no phone number column among the headers ({detail})",
            "long_field": f"a field is longer than {detail} characters",
            "deep_nesting": "vCards are nested too deeply",
            "damaged": f"not a readable CSV or vCard file ({detail})",
        }[problem]
        super().__init__(words)
        self.path = path
        self.problem: AddressBookProblem = problem
        self.detail = detail


KeyringProblem = Literal["locked", "unavailable", "insecure", "failed"]
# Whose keyring it is: the advice differs (Credential Manager, the Keychain, a Secret Service).
KeyringSystem = Literal["windows", "macos", "linux"]


def keyring_system(platform: str) -> KeyringSystem:
    """The keyring family of `platform` (a `sys.platform` value)."""
    if platform == "win32":
        return "windows"
    return "macos" if platform == "darwin" else "linux"


class KeyringUnavailable(BulutpopError):
    """The system keyring cannot keep or give a secret: it is locked, there is none, it
    would store the secret in plain text, or it failed (`detail`). `secret` names what was
    asked for ("API key", "team secret"); `env_var` can hold it instead; `system` is the
    operating system whose keyring it is."""

    def __init__(
        self,
        problem: KeyringProblem,
        secret: str,
        env_var: str,
        *,
        backend: str = "",
        detail: str = "",
        system: KeyringSystem = "linux",
    ) -> None:
        words = {
            "locked": "the system keyring is locked",
            "unavailable": "no system keyring is available",
            "insecure": f"the keyring backend {backend} would keep the {secret} in plain text",
            "failed": f"the system keyring failed ({detail})",
        }[problem]
        super().__init__(words)
        self.problem: KeyringProblem = problem
        self.secret = secret
        self.env_var = env_var
        self.backend = backend
        self.detail = detail
        self.system: KeyringSystem = system


class StorageError(BulutpopError):
    """The call store cannot be opened or written."""

    def __init__(
        self,
        path: str,
        problem: Literal["damaged", "newer", "unwritable", "unsupported", "busy"],
        detail: str = "",
    ) -> None:
        words = {
            "unsupported": f"this SQLite cannot search the call store {path} ({detail})",
            "damaged": f"the call store {path} cannot be read ({detail})",
            "newer": f"the call store {path} was written by a newer bulutpop ({detail})",
            "unwritable": f"the call store {path} cannot be created ({detail})",
            "busy": f"the call store {path} is held by another reader ({detail})",
        }[problem]
        super().__init__(words)
        self.path = path
        self.problem = problem
        self.detail = detail


class CannotListen(BulutpopError):
    """A server of ours cannot listen: the webhook receiver, the relay's API or its broker.
    `setting` names the setting that chooses the address."""

    def __init__(
        self,
        what: Literal["receiver", "relay_api", "broker"],
        host: str,
        port: int,
        problem: Literal["in_use", "not_allowed", "bad_address"],
        setting: str,
        detail: str = "",
    ) -> None:
        super().__init__(f"the {what.replace('_', ' ')} cannot listen on {host}:{port} ({problem})")
        self.what = what
        self.host = host
        self.port = port
        self.problem = problem
        self.setting = setting
        self.detail = detail


class DialRefused(BulutpopError):
    """Not dialled, on purpose: a call to `number` (its matching key) is being placed
    ("busy"), or it was dialled a moment ago ("repeat")."""

    def __init__(self, reason: Literal["busy", "repeat"], number: str) -> None:
        super().__init__(f"not dialled ({reason}): {number}")
        self.reason = reason
        self.number = number


class AutostartError(BulutpopError):
    """Start at login could not be changed: writing or removing the login item failed
    (`str()` says where and why), or ("translocated") macOS runs the app from a temporary
    copy (Gatekeeper's App Translocation, until the app is moved out of Downloads), which a
    login item could not find at the next login."""

    def __init__(
        self, detail: str, *, problem: Literal["failed", "translocated"] = "failed"
    ) -> None:
        super().__init__(detail)
        self.problem = problem


class NotOnThisSystem(BulutpopError):
    """`feature` does not run on this operating system; it runs on `runs_on`."""

    def __init__(self, feature: str, runs_on: str) -> None:
        super().__init__(f"{feature} runs on {runs_on} only")
        self.feature = feature
        self.runs_on = runs_on


# -- the PBX (and the team's relay, which answers for it) --------------------------------------


class PbxError(BulutpopError):
    """A PBX request failed. `detail` is the PBX's own reply (redacted: it echoes the API
    key), `status` the HTTP status when one came."""

    def __init__(self, summary: str, *, detail: str = "", status: int | None = None) -> None:
        super().__init__(summary + (f": {detail}" if detail else ""))
        self.detail = detail
        self.status = status


class KeyRefused(PbxError):
    """The PBX refused the API key."""

    def __init__(self, *, detail: str = "", status: int | None = None) -> None:
        super().__init__("the PBX refused the API key", detail=detail, status=status)


class CredentialRefused(KeyRefused):
    """The team's relay refused this PC's team credential (team mode holds no API key)."""


class TeamRemoved(CredentialRefused):
    """The relay's administrator removed this PC's agent from the team."""


class NotFound(PbxError):
    """The PBX does not know it: a call, a recording link, or (a bare 404) its address."""

    def __init__(
        self,
        what: Literal["call", "recording_link", "address"],
        *,
        detail: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(f"not found ({what})", detail=detail, status=status)
        self.what = what


class RateLimited(PbxError):
    """Too many requests: try again after `retry_after` seconds. `limit` is the known
    limit ("5 per minute") when this PC held the request back itself."""

    def __init__(
        self,
        retry_after: float,
        *,
        limit: str = "",
        detail: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(f"rate limited for {retry_after:.0f} s", detail=detail, status=status)
        self.retry_after = retry_after
        self.limit = limit


class PbxRefused(PbxError):
    """The PBX refused the request (a 4xx); `detail` says why, e.g. `extension 1005 not
    found`."""

    def __init__(self, *, detail: str = "", status: int | None = None) -> None:
        super().__init__("the PBX refused the request", detail=detail, status=status)


class PbxFailed(PbxError):
    """The PBX failed (5xx) or answered something unusable."""

    def __init__(self, what: str, *, detail: str = "", status: int | None = None) -> None:
        super().__init__(f"the PBX failed: {what}", detail=detail, status=status)


class NetworkError(PbxError):
    """No usable reply. `uncertain`: the request may have reached the PBX (a timeout, a
    dropped connection), so a call may have been placed; False when it surely did not.
    When the connection itself failed: its `errno` and the `host` asked for, on `platform`
    (``sys.platform`` values; where it happened)."""

    def __init__(
        self,
        cause: str,
        *,
        uncertain: bool,
        errno: int | None = None,
        host: str = "",
        platform: str = sys.platform,
    ) -> None:
        super().__init__(f"no answer from the server ({cause})")
        self.cause = cause
        self.uncertain = uncertain
        self.errno = errno
        self.host = host
        self.platform = platform

    @property
    def local_network_refused(self) -> bool:
        """Whether macOS' Local Network privacy setting probably refused the connection:
        until the user allows the app, connecting to the local network fails as "no route
        to host" (a team relay in the office is there)."""
        return (
            self.platform == "darwin"
            and self.errno == errno_codes.EHOSTUNREACH
            and _on_local_network(self.host)
        )


# What macOS counts as the local network: private (RFC 1918, and IPv6 unique local) and
# link-local addresses, and .local names (Bonjour).
_LOCAL_NETWORKS = [
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.0.0/16")
] + [ipaddress.ip_network(net) for net in ("fc00::/7", "fe80::/10")]


def _on_local_network(host: str) -> bool:
    host = host.strip("[]").split("%")[0]  # an IPv6 literal, its zone
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host.lower().rstrip(".").endswith(".local")
    return any(address in net for net in _LOCAL_NETWORKS)


class DownloadError(PbxError):
    """A recording could not be written to disk."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"cannot save the recording to {path} ({reason})")
        self.path = path
        self.reason = reason


# -- team mode ----------------------------------------------------------------------------------


class TeamError(BulutpopError):
    """The team's relay or broker cannot do what was asked. `status` is the relay's HTTP
    status when it answered (409: a colleague already claimed the caller)."""

    def __init__(self, summary: str, status: int | None = None) -> None:
        super().__init__(summary)
        self.status = status


class BrokerError(TeamError):
    """The relay's broker cannot be run, reached or told of a change."""

"""Where the Bulutsantralim API key lives: the operating system's keyring, never a file.

`KeyStore` is the only code that talks to `keyring`. It

* prefers ``BULUTPOP_API_KEY`` from the environment (for CI, kiosks and headless boxes),
  then a systemd credential of the entry's name (``LoadCredential=api_key:FILE``: the file
  ``$CREDENTIALS_DIRECTORY/api_key``, which only the service can read), otherwise reads
  the keyring entry service ``"bulutpop"`` / username ``"api_key"``;
* turns every keyring failure (locked collection, no backend, D-Bus gone, …) into one
  `KeyringUnavailable` whose message tells the user what to do and never contains the key;
* treats ``None`` as "not stored" and guards ``delete_password``, which raises when the
  entry is absent;
* refuses to store the key in a backend that would not protect it (plaintext files,
  ``keyrings.alt``, the fail and null backends) instead of falling back silently;
* can say which backend holds the key, with a warning when that backend is weak
  (`KeyStore.status`, in the spirit of Vorta's ``get_backend_warning``).

Keyring calls block (D-Bus round trips, a possible unlock prompt): the UI runs them through
``loop.run_in_executor``.

Insecure-backend heuristic (see `_assess`): a backend is refused for storing when it is
``keyring.backends.fail.Keyring`` (no keyring at all), ``keyring.backends.null.Keyring``
(silently stores nothing), a chainer with no usable backend or whose first backend (the one
``set_password`` writes to) is refused, any class from the ``keyrings.alt`` distribution
(module name ``keyrings.alt.*``; its own README says its backends "may have security risks"),
or any class whose name contains ``Plaintext``. Backends are recognised by module and class
name so that ``keyrings.alt`` need not be importable.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import keyring
import keyring.backend
import keyring.core
import keyring.errors
from keyring.backends import chainer, fail, null

from bulutpop.errors import InvalidInput, KeyringProblem, KeyringUnavailable, keyring_system

SERVICE = "bulutpop"


@dataclass(frozen=True)
class Secret:
    """One secret bulutpop keeps: its keyring entry, the environment variable that overrides
    it, and what the user calls it."""

    entry: str
    env_var: str
    what: str


API_KEY = Secret("api_key", "BULUTPOP_API_KEY", "API key")
# A team agent's credential for the relay and its broker (team mode); never the API key.
TEAM_SECRET = Secret("team_secret", "BULUTPOP_TEAM_SECRET", "team secret")
USERNAME = API_KEY.entry
ENV_VAR = API_KEY.env_var

KeySource = Literal["env", "credential", "keyring", "none"]

MIN_KEY_LENGTH = 8
MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class KeyStatus:
    """Where `KeyStore.get` finds the key and which keyring backend is in use.

    ``source`` is ``"env"``, ``"keyring"`` or ``"none"``; ``backend`` is a human name of the
    keyring backend; ``problem`` is why the keyring cannot keep the key (weak backend,
    locked, missing, failing), None when it can; ``memory_only``: the backend keeps it only
    until the app exits (the demo's, the tests').
    """

    source: KeySource
    backend: str
    problem: KeyringUnavailable | None = None
    memory_only: bool = False


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that keeps passwords in this process only; they are gone at exit.

    Used by the tests and by ``bulutpop demo`` (``keyring.set_keyring(MemoryKeyring())``).
    Its negative priority keeps keyring's auto-detection and the chainer from ever choosing
    it: it is only used when selected explicitly (or via ``PYTHON_KEYRING_BACKEND``).
    Like the real backends, ``delete_password`` raises `PasswordDeleteError` when absent.
    """

    priority = -10.0

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated
        self._lock = threading.Lock()
        self._passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        with self._lock:
            return self._passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        with self._lock:
            self._passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        with self._lock:
            try:
                del self._passwords[(service, username)]
            except KeyError:
                raise keyring.errors.PasswordDeleteError("No such password") from None


@dataclass(frozen=True)
class _Assessment:
    name: str
    problem: KeyringUnavailable | None = None
    memory_only: bool = False


_FRIENDLY_NAMES = {
    "keyring.backends.SecretService.Keyring": "Secret Service",
    "keyring.backends.libsecret.Keyring": "Secret Service (libsecret)",
    "keyring.backends.kwallet.DBusKeyring": "KWallet",
    "keyring.backends.kwallet.DBusKeyringKWallet4": "KWallet 4",
    "keyring.backends.macOS.Keyring": "macOS Keychain",
    "keyring.backends.Windows.WinVaultKeyring": "Windows Credential Manager",
    "keyring.backends.fail.Keyring": "none",
    "keyring.backends.null.Keyring": "null (stores nothing)",
    f"{__name__}.MemoryKeyring": "in memory (forgotten at exit)",
}


def _qualified_name(backend: keyring.backend.KeyringBackend) -> str:
    cls = type(backend)
    return f"{cls.__module__}.{cls.__qualname__}"


def _friendly_name(backend: keyring.backend.KeyringBackend) -> str:
    known = _FRIENDLY_NAMES.get(_qualified_name(backend))
    if known is not None:
        return known
    cls = type(backend)
    if cls.__module__.startswith("keyrings.alt."):
        return f"{cls.__name__} (keyrings.alt)"
    return str(backend.name)


def _unavailable(
    problem: KeyringProblem, secret: Secret, backend: str = "", detail: str = ""
) -> KeyringUnavailable:
    return KeyringUnavailable(
        problem,
        secret.what,
        secret.env_var,
        backend=backend,
        detail=detail,
        system=keyring_system(sys.platform),
    )


def _assess(backend: keyring.backend.KeyringBackend, secret: Secret = API_KEY) -> _Assessment:
    """Name the backend, and say why the secret may not be stored in it."""
    name = _friendly_name(backend)
    cls = type(backend)
    if isinstance(backend, fail.Keyring):
        return _Assessment(name, _unavailable("unavailable", secret, name))
    if isinstance(backend, null.Keyring):  # PYTHON_KEYRING_BACKEND may select it: it keeps nothing
        return _Assessment(name, _unavailable("unavailable", secret, name, "the null keyring"))
    if isinstance(backend, chainer.ChainerBackend):
        chained: list[keyring.backend.KeyringBackend] = list(backend.backends)
        if not chained:
            return _Assessment("none", _unavailable("unavailable", secret))
        first = _assess(chained[0], secret)  # set_password writes to the first one
        more = f" (+{len(chained) - 1} more)" if len(chained) > 1 else ""
        return _Assessment(first.name + more, first.problem, first.memory_only)
    # Plaintext files, or keyrings.alt (its own README: "may have security risks").
    if "plaintext" in cls.__name__.lower() or cls.__module__.startswith("keyrings.alt."):
        return _Assessment(name, _unavailable("insecure", secret, name))
    return _Assessment(name, memory_only=isinstance(backend, MemoryKeyring))


def _error_for(exc: BaseException, doing: str, secret: Secret = API_KEY) -> KeyringUnavailable:
    """The error for a failed keyring call; uses only the exception's type (its arguments
    may hold the secret)."""
    if isinstance(exc, keyring.errors.KeyringLocked):
        return _unavailable("locked", secret)
    if isinstance(exc, keyring.errors.NoKeyringError):
        return _unavailable("unavailable", secret)
    return _unavailable("failed", secret, detail=f"{type(exc).__name__} while {doing}")


def validate_key(key: str) -> str:
    """Return the key without surrounding whitespace, or raise InvalidInput saying what's wrong.

    The check is loose (the PBX is the judge); it catches empty pastes, pasted sentences and
    stray line breaks. Messages describe the problem, never the key itself.
    """
    key = key.strip()
    if not key:
        raise InvalidInput("The API key is empty")
    if any(ch.isspace() for ch in key):
        raise InvalidInput("The API key must not contain spaces or line breaks")
    if not key.isprintable():
        raise InvalidInput("The API key contains invisible control characters")
    if not MIN_KEY_LENGTH <= len(key) <= MAX_KEY_LENGTH:
        raise InvalidInput(
            f"The API key should be {MIN_KEY_LENGTH} to {MAX_KEY_LENGTH} characters long, "
            f"this one has {len(key)}"
        )
    return key


class KeyStore:
    """Read, store and forget the API key.

    ``env`` defaults to ``os.environ``; ``backend`` defaults to the process-wide keyring
    (``keyring.get_keyring()``, looked up on every call so ``keyring.set_keyring`` applies).

    Keyring calls block (a D-Bus round trip, an unlock prompt). An app with an event loop
    reads the secret once, on a worker thread (`load`), then uses `cached`; `set` and
    `delete` keep the cache in step, and `load` again picks up a change made elsewhere
    (the command line). A command-line run just calls `get`.
    """

    def __init__(
        self,
        env: Mapping[str, str] | None = None,
        *,
        backend: keyring.backend.KeyringBackend | None = None,
        secret: Secret = API_KEY,
    ) -> None:
        self._env: Mapping[str, str] = os.environ if env is None else env
        self._backend = backend
        self.secret = secret
        self._loaded = False
        self._value: str | None = None
        self._error: KeyringUnavailable | None = None  # why the last `load` failed

    def _keyring(self) -> keyring.backend.KeyringBackend:
        if self._backend is not None:
            return self._backend
        try:
            return keyring.get_keyring()
        except Exception as exc:  # backend detection/loading failed (bad config, D-Bus)
            raise _error_for(exc, "loading the keyring backend", self.secret) from exc

    def _env_key(self) -> str | None:
        value = self._env.get(self.secret.env_var, "").strip()
        return value or None

    def _credential(self) -> str | None:
        """The secret systemd handed this service (`LoadCredential=`), if it did."""
        folder = self._env.get("CREDENTIALS_DIRECTORY", "")
        if not folder:
            return None
        try:
            value = (Path(folder) / self.secret.entry).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeError):  # not given this one
            return None
        return value or None

    def _keyring_get(self) -> str | None:
        backend = self._keyring()
        try:
            return backend.get_password(SERVICE, self.secret.entry)
        # Backends raise their own errors too (secretstorage, jeepney, win32): all of them
        # mean "the keyring can't be used right now" to the user.
        except Exception as exc:
            raise _error_for(exc, f"reading the {self.secret.what}", self.secret) from exc

    def get(self) -> str | None:
        """The key from ``BULUTPOP_API_KEY`` if set, else from the keyring; None if not stored.

        Raises `KeyringUnavailable` when the keyring is locked, missing or failing.
        """
        value = self._env_key() or self._credential() or self._keyring_get()
        self._loaded, self._value, self._error = True, value, None
        return value

    async def load(self) -> str | None:
        """`get` on a worker thread: the loop (the UI) never waits for the keyring. A
        failure is kept too, and raised again by `cached`."""
        try:
            return await asyncio.to_thread(self.get)
        except KeyringUnavailable as exc:
            self._loaded, self._value, self._error = True, None, exc
            raise

    @property
    def loaded(self) -> bool:
        return self._loaded

    def cached(self) -> str | None:
        """The secret as last read or written here (raising what the last read raised);
        `get` when never read yet."""
        if not self._loaded:
            return self.get()
        if self._error is not None:
            raise self._error
        return self._value

    def set(self, key: str) -> None:
        """Store the key (surrounding whitespace removed) in the keyring.

        Raises InvalidInput when the key is obviously malformed, `KeyringUnavailable` when
        the backend would not protect it (plaintext, fail, null) or the keyring fails.
        """
        key = validate_key(key) if self.secret == API_KEY else key.strip()
        backend = self._keyring()
        assessment = _assess(backend, self.secret)
        if assessment.problem is not None:
            raise assessment.problem
        try:
            backend.set_password(SERVICE, self.secret.entry, key)
        except Exception as exc:
            # `from None`: the backend's exception was raised with the key in its arguments.
            raise _error_for(exc, f"storing the {self.secret.what}", self.secret) from None
        self._loaded, self._value, self._error = True, self._env_key() or key, None

    def delete(self) -> bool:
        """Forget the key stored in the keyring; False if there was none.

        ``BULUTPOP_API_KEY`` is not touched (it is not ours to change).
        """
        if self._keyring_get() is None:
            return False
        backend = self._keyring()
        try:
            backend.delete_password(SERVICE, self.secret.entry)
        except keyring.errors.PasswordDeleteError as exc:
            if self._keyring_get() is None:  # someone else deleted it meanwhile
                return False
            raise _error_for(exc, f"deleting the {self.secret.what}", self.secret) from exc
        except Exception as exc:
            raise _error_for(exc, f"deleting the {self.secret.what}", self.secret) from exc
        self._loaded, self._value, self._error = True, self._env_key(), None
        return True

    def rediscover(self) -> None:
        """Look for a keyring again when there was none: keyring picks its backend once per
        process, so one installed or started after the app would otherwise never count."""
        if self._backend is None and isinstance(keyring.get_keyring(), fail.Keyring):
            keyring.core.init_backend()

    def status(self) -> KeyStatus:
        """Where the key comes from and how well the backend protects it. Never raises.

        Reads the keyring (to tell ``"keyring"`` from ``"none"``) unless the environment
        variable is set; a keyring failure is reported in ``warning`` with source ``"none"``.
        """
        given: KeySource | None = (
            "env" if self._env_key() else "credential" if self._credential() else None
        )
        try:
            backend = self._keyring()
        except KeyringUnavailable as exc:
            return KeyStatus(given or "none", "none", exc)
        assessment = _assess(backend, self.secret)
        if given is not None:
            # With the key given to the process, a missing keyring is no problem.
            problem = assessment.problem
            if problem is not None and problem.problem == "unavailable":
                problem = None
            return KeyStatus(given, assessment.name, problem, assessment.memory_only)
        try:
            stored = self._keyring_get() is not None
        except KeyringUnavailable as exc:
            return KeyStatus("none", assessment.name, exc)
        return KeyStatus(
            "keyring" if stored else "none",
            assessment.name,
            assessment.problem,
            assessment.memory_only,
        )

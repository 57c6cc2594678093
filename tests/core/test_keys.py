"""KeyStore against small real keyring backends (in memory, locked, plaintext-like, chained).

No test touches the user's keychain; the one marked ``secret_service`` runs only when
``PYTHON_KEYRING_BACKEND=keyring.backends.SecretService.Keyring`` points it at a throwaway
gnome-keyring (see ENVIRONMENT.md, "keyring").
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator

import keyring
import keyring.backend
import keyring.errors
import pytest
from keyring.backends import chainer, fail, null

from bulutpop.cli import describe
from bulutpop.errors import InvalidInput, KeyringUnavailable
from bulutpop.local.keys import ENV_VAR, SERVICE, USERNAME, KeyStatus, KeyStore, MemoryKeyring

KEY = "K1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"  # the PBX key shape; never in a message


class LockedKeyring(keyring.backend.KeyringBackend):
    """Like Secret Service when the user dismisses the unlock prompt."""

    priority = -10.0

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated

    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.KeyringLocked(f"Failed to unlock the collection! ({password})")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringLocked("Failed to unlock the collection!")


class BrokenBusKeyring(keyring.backend.KeyringBackend):
    """A backend whose transport fails with its own (non-keyring) exception type."""

    priority = -10.0

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated

    def get_password(self, service: str, username: str) -> str | None:
        raise ConnectionResetError("D-Bus connection lost")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise ConnectionResetError("D-Bus connection lost")


class UndeletableKeyring(MemoryKeyring):
    """Holds the key but refuses to delete it (e.g. a read-only collection)."""

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.PasswordDeleteError("read-only collection")


class PlaintextKeyring(MemoryKeyring):
    """Stands in for keyrings.alt.file.PlaintextKeyring, recognised by module and name."""

    __module__ = "keyrings.alt.file"


class AltEncryptedKeyring(MemoryKeyring):
    """Any other keyrings.alt backend is not a system keyring either."""

    __module__ = "keyrings.alt.file"


class EmptyChainer(chainer.ChainerBackend):
    backends: list[keyring.backend.KeyringBackend] = []  # noqa: RUF012
    priority = -10.0  # never picked by keyring's auto-detection

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated


def make_chainer(*backends: keyring.backend.KeyringBackend) -> chainer.ChainerBackend:
    """A chainer over exactly these backends (the real one discovers them globally)."""
    chained = list(backends)

    class FixedChainer(chainer.ChainerBackend):
        priority = -10.0
        backends = chained

        def __init__(self) -> None:
            super().__init__()  # type: ignore[no-untyped-call]  # keyring leaves it unannotated

    return FixedChainer()


SelectKeyring = Callable[[keyring.backend.KeyringBackend], None]


@pytest.fixture
def select_keyring() -> Iterator[SelectKeyring]:
    """Selects a process-wide keyring for one test and restores the previous one after."""
    previous = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(previous)


@pytest.fixture
def memory(select_keyring: SelectKeyring) -> MemoryKeyring:
    backend = MemoryKeyring()
    select_keyring(backend)
    return backend


def test_set_get_delete_roundtrip(memory: MemoryKeyring) -> None:
    store = KeyStore(env={})
    assert store.get() is None
    store.set(KEY)
    assert store.get() == KEY
    assert memory.get_password(SERVICE, USERNAME) == KEY
    assert (SERVICE, USERNAME) == ("bulutpop", "api_key")
    assert store.delete() is True
    assert store.get() is None
    assert memory.get_password(SERVICE, USERNAME) is None


def test_delete_when_absent_returns_false(memory: MemoryKeyring) -> None:
    store = KeyStore(env={})
    assert store.delete() is False
    store.set(KEY)
    assert store.delete() is True
    assert store.delete() is False


def test_set_strips_surrounding_whitespace(memory: MemoryKeyring) -> None:
    KeyStore(env={}).set(f"  {KEY}\n")
    assert memory.get_password(SERVICE, USERNAME) == KEY


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        ("", "empty"),
        ("  \n", "empty"),
        ("bs_live 7fQ2xK9p", "spaces"),
        ("bs_live\n7fQ2xK9p", "line breaks"),
        ("bs_live\x007fQ2xK9p", "control"),
        ("short", "8 to 200"),
        ("k" * 201, "this one has 201"),
    ],
)
def test_set_rejects_malformed_keys_without_echoing_them(
    memory: MemoryKeyring, bad: str, words: str
) -> None:
    with pytest.raises(InvalidInput, match=words) as info:
        KeyStore(env={}).set(bad)
    if bad.strip():
        assert bad.strip() not in str(info.value)
    assert memory.get_password(SERVICE, USERNAME) is None


def test_environment_variable_wins_over_keyring(memory: MemoryKeyring) -> None:
    memory.set_password(SERVICE, USERNAME, "keyring-key-123")
    store = KeyStore(env={ENV_VAR: f" {KEY} "})
    assert store.get() == KEY
    assert store.status().source == "env"
    assert store.status().backend == "in memory (forgotten at exit)"


def test_empty_environment_variable_is_ignored(memory: MemoryKeyring) -> None:
    memory.set_password(SERVICE, USERNAME, KEY)
    assert KeyStore(env={ENV_VAR: "  "}).get() == KEY


def test_env_defaults_to_os_environ(memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ENV_VAR, KEY)
    assert KeyStore().get() == KEY
    monkeypatch.delenv(ENV_VAR)
    assert KeyStore().get() is None


def test_status_reports_source_and_backend(memory: MemoryKeyring) -> None:
    store = KeyStore(env={})
    before = store.status()
    assert before.source == "none"
    assert before.backend == "in memory (forgotten at exit)"
    assert before.memory_only and before.problem is None
    store.set(KEY)
    assert store.status().source == "keyring"


def test_locked_keyring_gives_helpful_error_without_key(select_keyring: SelectKeyring) -> None:
    select_keyring(LockedKeyring())
    store = KeyStore(env={})
    with pytest.raises(KeyringUnavailable) as info:
        store.get()
    assert info.value.problem == "locked"
    assert "locked: unlock it" in describe(info.value)[0]
    assert KEY not in str(info.value)
    assert isinstance(info.value.__cause__, keyring.errors.KeyringLocked)

    with pytest.raises(KeyringUnavailable, match="locked") as info:
        store.set(KEY)
    # The backend's exception carries the key in its message: it must not be chained.
    assert KEY not in str(info.value)
    assert info.value.__cause__ is None
    assert info.value.__suppress_context__

    with pytest.raises(KeyringUnavailable, match="locked"):
        store.delete()

    status = store.status()  # never raises
    assert status.source == "none"
    assert status.problem is not None and status.problem.problem == "locked"


def test_locked_keyring_does_not_matter_when_env_is_set(select_keyring: SelectKeyring) -> None:
    select_keyring(LockedKeyring())
    assert KeyStore(env={ENV_VAR: KEY}).get() == KEY


def test_foreign_backend_exceptions_become_keystore_errors(select_keyring: SelectKeyring) -> None:
    select_keyring(BrokenBusKeyring())
    store = KeyStore(env={})
    with pytest.raises(KeyringUnavailable, match="ConnectionResetError"):
        store.get()
    with pytest.raises(KeyringUnavailable) as info:
        store.set(KEY)
    assert KEY not in str(info.value)
    problem = store.status().problem
    assert problem is not None and "ConnectionResetError" in problem.detail


def test_no_keyring_at_all(select_keyring: SelectKeyring) -> None:
    select_keyring(fail.Keyring())  # type: ignore[no-untyped-call]  # keyring's own class
    store = KeyStore(env={})
    with pytest.raises(KeyringUnavailable) as info:
        store.get()
    assert info.value.problem == "unavailable"
    assert re.search(f"no system keyring is available.*{ENV_VAR}", describe(info.value)[0])
    with pytest.raises(KeyringUnavailable, match="no system keyring"):
        store.set(KEY)
    status = store.status()
    assert (status.source, status.backend) == ("none", "none")
    assert status.problem is not None and "GNOME Keyring" in describe(status.problem)[0]
    # With the variable set there is nothing to warn about.
    assert KeyStore(env={ENV_VAR: KEY}).status() == KeyStatus("env", "none")


def test_a_keyring_started_after_the_app_is_found_again(
    select_keyring: SelectKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    # keyring chose "none" when the process began; the user then installed one.
    select_keyring(fail.Keyring())  # type: ignore[no-untyped-call]  # keyring's own class
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "bulutpop.local.keys.MemoryKeyring")
    store = KeyStore(env={})
    assert store.status().problem is not None
    store.rediscover()
    store.set(KEY)
    assert isinstance(keyring.get_keyring(), MemoryKeyring)
    status = store.status()
    assert (status.source, status.problem) == ("keyring", None)
    # A working keyring is never swapped for another one.
    store.rediscover()
    assert store.get() == KEY


def test_null_keyring_is_refused(select_keyring: SelectKeyring) -> None:
    select_keyring(null.Keyring())  # type: ignore[no-untyped-call]  # keyring's own class
    store = KeyStore(env={})
    with pytest.raises(KeyringUnavailable, match="no system keyring") as info:
        store.set(KEY)
    assert info.value.detail == "the null keyring"
    assert store.get() is None
    assert store.delete() is False
    assert store.status().problem is not None


@pytest.mark.parametrize("backend_class", [PlaintextKeyring, AltEncryptedKeyring])
def test_plaintext_and_keyrings_alt_backends_are_refused(
    select_keyring: SelectKeyring,
    backend_class: type[MemoryKeyring],
) -> None:
    backend = backend_class()
    select_keyring(backend)
    store = KeyStore(env={})
    with pytest.raises(KeyringUnavailable) as info:
        store.set(KEY)
    assert info.value.problem == "insecure"
    assert re.search(f"will not store it there.*{ENV_VAR}", describe(info.value)[0])
    assert KEY not in str(info.value)
    assert backend.get_password(SERVICE, USERNAME) is None
    status = store.status()
    assert status.backend == f"{backend_class.__name__} (keyrings.alt)"
    assert status.problem is not None
    # A key someone stored there earlier is still readable (and the warning says why it's weak).
    backend.set_password(SERVICE, USERNAME, KEY)
    assert store.get() == KEY
    assert store.status().source == "keyring"


def test_plaintext_warning_names_the_problem(select_keyring: SelectKeyring) -> None:
    select_keyring(PlaintextKeyring())
    problem = KeyStore(env={}).status().problem
    assert problem is not None and "unencrypted" in describe(problem)[0]


def test_chainer_without_backends_is_no_keyring(select_keyring: SelectKeyring) -> None:
    select_keyring(EmptyChainer())
    store = KeyStore(env={})
    with pytest.raises(KeyringUnavailable, match="no system keyring"):
        store.set(KEY)
    assert store.status().backend == "none"


def test_chainer_writes_to_first_backend_and_warns_about_weak_ones() -> None:
    good, weak = MemoryKeyring(), PlaintextKeyring()
    store = KeyStore(env={}, backend=make_chainer(good, weak))
    store.set(KEY)
    assert good.get_password(SERVICE, USERNAME) == KEY
    status = store.status()
    assert status.backend == "in memory (forgotten at exit) (+1 more)"
    assert status.source == "keyring"

    refusing = KeyStore(env={}, backend=make_chainer(PlaintextKeyring(), MemoryKeyring()))
    with pytest.raises(KeyringUnavailable, match="plain text"):
        refusing.set(KEY)


def test_backend_can_be_injected_without_touching_the_global(memory: MemoryKeyring) -> None:
    own = MemoryKeyring()
    KeyStore(env={}, backend=own).set(KEY)
    assert own.get_password(SERVICE, USERNAME) == KEY
    assert memory.get_password(SERVICE, USERNAME) is None


def test_delete_failure_is_reported(select_keyring: SelectKeyring) -> None:
    backend = UndeletableKeyring()
    backend.set_password(SERVICE, USERNAME, KEY)
    select_keyring(backend)
    with pytest.raises(KeyringUnavailable, match="deleting"):
        KeyStore(env={}).delete()


def test_repr_does_not_show_the_key(memory: MemoryKeyring) -> None:
    store = KeyStore(env={ENV_VAR: KEY})
    store.set("another-key-4567")
    assert KEY not in repr(store)
    assert "another-key-4567" not in repr(store)


def test_memory_keyring_behaves_like_a_real_backend() -> None:
    backend = MemoryKeyring()
    with pytest.raises(keyring.errors.PasswordDeleteError):
        backend.delete_password(SERVICE, USERNAME)
    backend.set_password(SERVICE, USERNAME, KEY)
    assert backend.get_password(SERVICE, USERNAME) == KEY
    assert backend.get_password(SERVICE, "other") is None
    # Never chosen by keyring's auto-detection, which would lose the key at exit.
    assert MemoryKeyring.priority < fail.Keyring.priority


@pytest.mark.secret_service
@pytest.mark.skipif(
    os.environ.get("PYTHON_KEYRING_BACKEND") != "keyring.backends.SecretService.Keyring",
    reason="needs a throwaway Secret Service: see ENVIRONMENT.md, keyring",
)
def test_real_secret_service_roundtrip() -> None:
    store = KeyStore(env={}, backend=keyring.core.load_env())
    assert store.status().backend == "Secret Service"
    assert store.status().problem is None
    store.delete()
    try:
        store.set(KEY)
        assert store.get() == KEY
        assert store.status().source == "keyring"
    finally:
        assert store.delete() is True
    assert store.get() is None
    assert store.delete() is False


@pytest.mark.parametrize(
    ("platform", "says", "never"),
    [
        ("win32", "Windows Credential Manager cannot be reached", "GNOME"),
        ("darwin", "the macOS Keychain cannot be reached", "Secret Service"),
        ("linux", "install and start a Secret Service (GNOME Keyring", "Credential Manager"),
    ],
)
def test_keyring_advice_names_this_systems_keyring(
    select_keyring: SelectKeyring,
    monkeypatch: pytest.MonkeyPatch,
    platform: str,
    says: str,
    never: str,
) -> None:
    monkeypatch.setattr(sys, "platform", platform)
    select_keyring(fail.Keyring())  # type: ignore[no-untyped-call]  # keyring's own class
    with pytest.raises(KeyringUnavailable) as info:
        KeyStore(env={}).get()
    words = describe(info.value)[0]
    assert says in words and never not in words


def test_a_locked_keychain_is_unlocked_in_keychain_access(
    select_keyring: SelectKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    select_keyring(LockedKeyring())
    with pytest.raises(KeyringUnavailable) as info:
        KeyStore(env={}).get()
    assert "unlock it in Keychain Access" in describe(info.value)[0]

"""The core services, assembled once per process and handed to the CLI or the tray app."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import logging
import logging.handlers
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from bulutpop.calls import phone
from bulutpop.calls.tracker import CallTracker
from bulutpop.errors import KeyringUnavailable, SetupMissing
from bulutpop.local import config as config_mod
from bulutpop.local.config import Config, Dirs
from bulutpop.local.keys import TEAM_SECRET, KeyStore
from bulutpop.local.private import copy_private, open_private, private_dir
from bulutpop.local.redact import TOKEN_MASK, Redactor, install
from bulutpop.local.repeats import RepeatFilter
from bulutpop.pbx.client import PbxClient
from bulutpop.pbx.recordings import RecordingCache
from bulutpop.storage.store import Forgotten, Store, erasable_digits

ConfigListener = Callable[[Config, Config], None]
Progress = Callable[[int, int | None], None]
# Who played a recording, in the audit, on a PC outside a team.
THIS_PC = "this PC"


@dataclass
class Core:
    dirs: Dirs
    config: Config
    store: Store
    tracker: CallTracker
    keys: KeyStore
    redactor: Redactor
    team_keys: KeyStore = field(default_factory=lambda: KeyStore(secret=TEAM_SECRET))
    # Settings the environment overrides for this run; they are never written to the file.
    overrides: frozenset[str] = frozenset()
    _config_listeners: list[ConfigListener] = field(default_factory=list, repr=False)
    _api: PbxClient | None = field(default=None, repr=False)
    _api_for: tuple[str, str] | None = field(default=None, repr=False)
    _stale: list[PbxClient] = field(default_factory=list, repr=False)

    @classmethod
    def open(cls, env: Mapping[str, str] | None = None, redactor: Redactor | None = None) -> Core:
        env = dict(os.environ if env is None else env)
        dirs = Dirs.from_env(env)
        dirs.make_private()
        config = config_mod.load(dirs, env)
        store = Store(dirs.store_file)
        redactor = redactor or Redactor()
        redactor.add(config.token, TOKEN_MASK)
        return cls(
            dirs=dirs,
            config=config,
            store=store,
            tracker=CallTracker(store, config.my_extensions, config.settle_seconds),
            keys=KeyStore(env),
            redactor=redactor,
            team_keys=KeyStore(env, secret=TEAM_SECRET),
            overrides=config_mod.overridden(env),
        )

    @functools.cached_property
    def recordings(self) -> RecordingCache:
        """Recordings fetched once, for the app and the command line alike."""
        return RecordingCache(self.dirs.cache / "recordings")

    def close(self) -> None:
        self.store.close()

    async def recording(
        self,
        client: PbxClient,
        call_uuid: str,
        progress: Progress | None = None,
        *,
        wait: bool = False,
    ) -> Path:
        """A call's recording to play (fetched once into the cache), added to the audit."""
        return await self._fetched(client, call_uuid, "play", progress, wait)

    async def save_recording(
        self,
        client: PbxClient,
        call_uuid: str,
        target: Path,
        progress: Progress | None = None,
        *,
        wait: bool = False,
    ) -> int:
        """Save a copy of a call's recording at `target` (from the cache when there), added
        to the audit as a download; returns its size."""
        path = await self._fetched(client, call_uuid, "download", progress, wait)
        return await asyncio.to_thread(copy_private, path, target)

    async def _fetched(
        self,
        client: PbxClient,
        call_uuid: str,
        action: Literal["play", "download"],
        progress: Progress | None,
        wait: bool,
    ) -> Path:
        """The recording from the cache (fetched once), its use written to the audit: who
        (the agent in team mode, else this PC), which call, now."""
        path = await self.recordings.fetch(client, call_uuid, progress, wait=wait)
        who = self.config.team_agent if self.config.team_mode else THIS_PC
        await self.store.write(self.store.record_access, call_uuid, action, who)
        return path

    async def forget(self, number: str) -> Forgotten:
        """Erase a number, written any way, from this PC: the store (`Store.forget`) and
        its calls' cached recordings; from now on the log shows it masked. Raises
        NumberError for an extension."""
        key = phone.canonical_key(number)
        self.redactor.erase(erasable_digits(key))
        forgotten = await self.tracker.forget(key)
        await asyncio.to_thread(self.recordings.remove, forgotten.call_uuids)
        return forgotten

    def api_key(self) -> str:
        """The API key (registered with the redactor first); raises SetupMissing or
        KeyringUnavailable. Read from the keyring only until `load_secrets` has run."""
        key = self.keys.cached()
        if not key:
            raise SetupMissing("api_key")
        self.redactor.add(key)
        return key

    def team_secret(self) -> str:
        """This PC's team credential (team mode); raises SetupMissing."""
        secret = self.team_keys.cached()
        if not secret:
            raise SetupMissing("team_secret")
        self.redactor.add(secret)
        return secret

    def _endpoint(self) -> tuple[str, str]:
        """Where PBX API calls go and with which key: the PBX itself, or in team mode the
        relay, which places them for the agent with a key this PC never holds."""
        config = self.config
        if config.team_mode:
            from bulutpop.team.protocol import credential

            secret = credential(config, self.team_secret())
            self.redactor.add(secret)
            return config.team_relay + "/pbx", secret
        return config.api_url, self.api_key()

    def _new_client(self, url: str, key: str) -> PbxClient:
        context = None
        if self.config.team_mode and self.config.team_ca:
            from bulutpop.team.link import tls_context

            context = tls_context(self.config)
        return PbxClient(
            url,
            key,
            redactor=self.redactor,
            ssl_context=context,
            relay=self.config.team_mode,
        )

    def client(self) -> PbxClient:
        """A client of its own for one command; close it when done."""
        return self._new_client(*self._endpoint())

    def api(self) -> PbxClient:
        """The long-lived client of the app (one HTTP session, one rate limiter), made anew
        when the key or the API URL changes. `aclose` closes it."""
        wanted = self._endpoint()
        if self._api is None or self._api_for != wanted:
            if self._api is not None:
                self._stale.append(self._api)
            self._api = self._new_client(*wanted)
            self._api_for = wanted
        return self._api

    async def aclose(self) -> None:
        for client in [*self._stale, *([self._api] if self._api else [])]:
            await client.close()
        self._stale.clear()
        self._api = None

    def extension(self) -> str:
        if not self.config.extension:
            raise SetupMissing("extension")
        return self.config.extension

    async def load_secrets(self, *, again: bool = False) -> None:
        """Read the secret the settings' mode uses (the team credential in team mode, else
        the API key) on a worker thread, unless it was read already (`again`: read it anew),
        so that nothing on the loop (the UI thread, in the tray app) waits for the keyring,
        and the keyring is not asked for a secret this mode never uses. A keyring failure
        is kept, and raised by `api_key`/`team_secret` until the next load."""
        store = self.team_keys if self.config.team_mode else self.keys
        if store.loaded and not again:
            return
        with contextlib.suppress(KeyringUnavailable):
            await store.load()

    def subscribe_config(self, listener: ConfigListener) -> Callable[[], None]:
        """Call `listener(old, new)` after every saved change of the settings."""
        self._config_listeners.append(listener)
        return lambda: self._config_listeners.remove(listener)

    async def update_config(self, config: Config) -> None:
        """Save new settings; calls are re-derived when the user's extensions changed."""
        config_mod.save(self.dirs, config, self.overrides)
        old = self.config
        self.config = replace(config)
        self.tracker.settle_seconds = config.settle_seconds
        if old.my_extensions != config.my_extensions:
            await self.tracker.recompute(config.my_extensions)
        for listener in list(self._config_listeners):
            listener(old, self.config)


class _PrivateLog(logging.handlers.RotatingFileHandler):
    """A log only the user can read: the call history passes through it. Rotated files
    keep the mode (a rename)."""

    def _open(self) -> io.TextIOWrapper:
        fd = open_private(Path(self.baseFilename), os.O_WRONLY | os.O_APPEND)
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


def file_handler(log_file: Path) -> logging.Handler:
    """The app's log file, rotated, in a private folder."""
    private_dir(log_file.parent)
    return _PrivateLog(log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8")


def setup_logging(
    redactor: Redactor, level: int = logging.INFO, log_file: Path | None = None
) -> None:
    """Log to stderr (and a rotating file) through the redactor: no handler ever sees the
    API key, the webhook token or a team credential (asyncio's and aiohttp's records reach
    these handlers: those loggers have none of their own), and a line repeated in a flood
    is written a few times a minute (`RepeatFilter`)."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        handlers.append(file_handler(log_file))
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        # Before the redacting filter: a line held back costs no redaction.
        handler.addFilter(RepeatFilter(handler))
        root.addHandler(handler)
    root.setLevel(level)
    install(redactor, root)

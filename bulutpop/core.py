"""The core services, assembled once per process and handed to the CLI or the tray app."""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from bulutpop import config as config_mod
from bulutpop.config import Config, Dirs
from bulutpop.keys import KeyStore
from bulutpop.pbxapi import PbxClient
from bulutpop.redact import Redactor, install
from bulutpop.store import Store
from bulutpop.tracker import CallTracker


class MissingSetup(Exception):
    """Something the user must set first; the message says how."""


@dataclass
class Core:
    dirs: Dirs
    config: Config
    store: Store
    tracker: CallTracker
    keys: KeyStore
    redactor: Redactor
    _api: PbxClient | None = field(default=None, repr=False)
    _api_for: tuple[str, str] | None = field(default=None, repr=False)
    _stale: list[PbxClient] = field(default_factory=list, repr=False)

    @classmethod
    def open(cls, env: Mapping[str, str] | None = None, redactor: Redactor | None = None) -> Core:
        env = dict(os.environ if env is None else env)
        dirs = Dirs.from_env(env)
        config = config_mod.load(dirs, env)
        store = Store(dirs.store_file)
        redactor = redactor or Redactor()
        redactor.add(config.token)
        return cls(
            dirs=dirs,
            config=config,
            store=store,
            tracker=CallTracker(store, config.my_extensions),
            keys=KeyStore(env),
            redactor=redactor,
        )

    def close(self) -> None:
        self.tracker.close()
        self.store.close()

    def api_key(self) -> str:
        """The API key (registered with the redactor first); raises MissingSetup."""
        key = self.keys.get()
        if not key:
            raise MissingSetup(
                "no API key is stored: run `bulutpop key set` (the key is in the PBX web "
                "portal, settings page) or set BULUTPOP_API_KEY"
            )
        self.redactor.add(key)
        return key

    def client(self) -> PbxClient:
        """A client of its own for one command; close it when done."""
        return PbxClient(self.config.api_url, self.api_key(), redactor=self.redactor)

    def api(self) -> PbxClient:
        """The long-lived client of the app (one HTTP session, one rate limiter), made anew
        when the key or the API URL changes. `aclose` closes it."""
        wanted = (self.config.api_url, self.api_key())
        if self._api is None or self._api_for != wanted:
            if self._api is not None:
                self._stale.append(self._api)
            self._api = PbxClient(wanted[0], wanted[1], redactor=self.redactor)
            self._api_for = wanted
        return self._api

    async def aclose(self) -> None:
        for client in [*self._stale, *([self._api] if self._api else [])]:
            await client.close()
        self._stale.clear()
        self._api = None

    def extension(self) -> str:
        if not self.config.extension:
            raise MissingSetup(
                "no extension is configured: run `bulutpop config set extension 1001` "
                "with your own extension number"
            )
        return self.config.extension

    async def update_config(self, config: Config) -> None:
        """Save new settings; calls are re-derived when the user's extensions changed."""
        config_mod.save(self.dirs, config)
        old = self.config
        self.config = replace(config)
        if old.my_extensions != config.my_extensions:
            await self.tracker.recompute(config.my_extensions)


def setup_logging(
    redactor: Redactor, level: int = logging.INFO, log_file: Path | None = None
) -> None:
    """Log to stderr (and a rotating file) through the redactor: no handler ever sees the
    API key or the webhook token."""
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(
            logging.handlers.RotatingFileHandler(
                log_file, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
            )
        )
    root = logging.getLogger()
    for handler in handlers:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root.addHandler(handler)
    root.setLevel(level)
    install(redactor, root)

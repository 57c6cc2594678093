"""The core services, assembled once per process and handed to the CLI or the tray app."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, replace

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
        return PbxClient(self.config.api_url, self.api_key())

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


def setup_logging(redactor: Redactor, level: int = logging.INFO) -> None:
    """Log to stderr through the redactor; nothing reaches a handler unredacted."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    install(redactor, root)

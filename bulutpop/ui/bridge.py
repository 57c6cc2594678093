"""The core as the Qt shell sees it: tracker changes as Qt signals, and the services widgets
call. Widgets receive a bridge (never reach for globals), so a test hands them one built
over a real core in a temporary directory."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from bulutpop.config import Config
from bulutpop.core import Core
from bulutpop.dialer import Dialer
from bulutpop.recordings import RecordingCache
from bulutpop.tracker import Change


class CoreBridge(QObject):
    # A call changed (Change: .call, .event, .missed_changed).
    changed = Signal(object)
    # The missed-call list moved: a new missed call, a resolution, a "done" or its undo.
    missedChanged = Signal()
    # Settings were saved (the new Config).
    configChanged = Signal(object)

    def __init__(self, core: Core, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.core = core
        self.dialer = Dialer(core)
        self.recordings = RecordingCache(core.dirs.cache / "recordings")
        self._unsubscribe = core.tracker.subscribe(self._on_change)

    @property
    def config(self) -> Config:
        return self.core.config

    def name_for(self, party_key: str) -> str:
        """The caller's name when known; the phonebook fills this in later ("" for now)."""
        return ""

    def detach(self) -> None:
        self._unsubscribe()

    def _on_change(self, change: Change) -> None:
        # Listeners run on the loop thread, which under qasync is the Qt main thread.
        if change.call is not None:
            self.changed.emit(change)
        if change.missed_changed:
            self.missedChanged.emit()

    async def save_config(self, config: Config) -> None:
        await self.core.update_config(config)
        self.configChanged.emit(config)

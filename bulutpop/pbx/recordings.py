"""Recordings on disk: fetched once through the PBX API into a cache limited in size and age.

A file's modification time is when it was downloaded (the age the retention goes by); its
access time is when it was last used (the order the size limit evicts in)."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Iterable
from pathlib import Path

from bulutpop.local.private import private_dir
from bulutpop.pbx.client import PbxClient

DEFAULT_LIMIT = 500 * 1024 * 1024
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]")


def _suffix(head: bytes) -> str:
    if head.startswith(b"RIFF"):
        return ".wav"
    if head.startswith((b"ID3", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")):
        return ".mp3"
    if head.startswith(b"OggS"):
        return ".ogg"
    return ".audio"


class RecordingCache:
    def __init__(self, folder: Path, limit_bytes: int = DEFAULT_LIMIT) -> None:
        self.folder = folder
        self.limit_bytes = limit_bytes

    def _stem(self, call_uuid: str) -> str:
        return _UNSAFE.sub("_", call_uuid)[:120]

    def cached(self, call_uuid: str) -> Path | None:
        stem = self._stem(call_uuid)
        if not self.folder.is_dir():
            return None
        for path in self.folder.glob(stem + ".*"):
            if path.suffix != ".part" and not path.name.startswith("."):
                # Most recently used: evicted last (its download time stays).
                os.utime(path, (time.time(), path.stat().st_mtime))
                return path
        return None

    async def fetch(
        self,
        client: PbxClient,
        call_uuid: str,
        progress: Callable[[int, int | None], None] | None = None,
        *,
        wait: bool = False,
    ) -> Path:
        """The recording's file, downloading it when not cached. PbxError subclasses
        (RateLimited with retry_after, NotFound, DownloadError…) reach the caller; with
        `wait`, the link's rate limit is waited out instead."""
        found = self.cached(call_uuid)
        if found is not None:
            return found
        private_dir(self.folder)  # the downloads themselves are made 0600 (mkstemp)
        part = self.folder / (self._stem(call_uuid) + ".part")
        url = await client.recording_url(call_uuid, wait=wait)
        await client.download(url, part, progress=progress)
        with part.open("rb") as fh:
            final = part.with_suffix(_suffix(fh.read(12)))
        part.replace(final)
        self.evict(keep=final)
        return final

    def evict(self, keep: Path | None = None) -> None:
        """Delete least recently used recordings until the cache fits its limit."""
        files = [p for p in self.folder.glob("*") if p.is_file() and p.suffix != ".part"]
        files.sort(key=lambda p: p.stat().st_atime)
        total = sum(p.stat().st_size for p in files)
        for path in files:
            if total <= self.limit_bytes:
                break
            if path == keep:
                continue
            total -= path.stat().st_size
            path.unlink(missing_ok=True)

    def expire(self, max_age: float, now: float | None = None) -> int:
        """Delete recordings downloaded more than `max_age` seconds ago (the retention);
        returns how many."""
        if not self.folder.is_dir():
            return 0
        cutoff = (time.time() if now is None else now) - max_age
        expired = [p for p in self.folder.iterdir() if p.is_file() and p.stat().st_mtime < cutoff]
        for path in expired:
            path.unlink(missing_ok=True)
        return len(expired)

    def remove(self, call_uuids: Iterable[str]) -> int:
        """Delete these calls' recordings (an erased number's); returns how many files."""
        if not self.folder.is_dir():
            return 0
        removed = 0
        for call_uuid in call_uuids:
            for path in self.folder.glob(self._stem(call_uuid) + ".*"):
                path.unlink(missing_ok=True)
                removed += 1
        return removed

"""Recordings on disk: fetched once through the PBX API into a size-limited cache."""

from __future__ import annotations

import re
from collections.abc import Callable
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
                path.touch()  # most recently used: evicted last
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
        files.sort(key=lambda p: p.stat().st_mtime)
        total = sum(p.stat().st_size for p in files)
        for path in files:
            if total <= self.limit_bytes:
                break
            if path == keep:
                continue
            total -= path.stat().st_size
            path.unlink(missing_ok=True)

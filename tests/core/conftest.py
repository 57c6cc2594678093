from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import aiohttp
import pytest

from bulutpop.calls.tracker import CallTracker
from bulutpop.local.config import Config, Dirs
from bulutpop.pbx.receiver import Receiver
from bulutpop.storage.store import Store

TOKEN = "t" * 40


@pytest.fixture
def store(isolated: object) -> Iterator[Store]:
    s = Store(Dirs.from_env().store_file)
    yield s
    s.close()


@pytest.fixture
def tracker(store: Store) -> CallTracker:
    return CallTracker(store, frozenset({"1001"}))


@dataclass
class Server:
    receiver: Receiver
    url: str  # the webhook URL with the right token
    base: str
    session: aiohttp.ClientSession

    async def post(self, body: bytes, url: str | None = None, **kw: object) -> tuple[int, str]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        async with self.session.post(url or self.url, data=body, headers=headers, **kw) as r:
            return r.status, await r.text()


@pytest.fixture
async def server(tracker: CallTracker) -> AsyncIterator[Server]:
    receiver = Receiver(tracker, TOKEN, "127.0.0.1", 0)
    await receiver.start()
    base = f"http://127.0.0.1:{receiver.port}"
    async with aiohttp.ClientSession() as session:
        yield Server(receiver, f"{base}/events/{TOKEN}", base, session)
    await receiver.stop()


def config(**values: object) -> Config:
    c = Config()
    for k, v in values.items():
        c = c.with_value(k, v)
    return c

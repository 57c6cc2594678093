"""Publishing: the outbox sent to the broker in order, QoS 1, a row acknowledged only
after the broker's PUBACK; a broker outage or restart only delays it. Rows are kept a few
seconds after the PUBACK and sent again on every reconnect, because a broker killed hard
loses what arrived since its last autosave (agents drop the duplicates). While idle, it
deletes what no one needs any more (`TeamTables.tidy`): delivered rows, expired claims."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from dataclasses import dataclass

import aiomqtt

from bulutpop.app.core import Core
from bulutpop.storage.team import TeamTables
from bulutpop.team.protocol import CLAIM_SECONDS, Address

log = logging.getLogger(__name__)


REPUBLISH_SECONDS = 5.0  # longer than the broker's autosave interval (1 s)
TIDY_SECONDS = 60.0  # how often an idle relay tidies the outbox and the claims

_BATCH = 100


@dataclass(frozen=True, slots=True)
class BrokerLink:
    """How to reach the broker as one user."""

    address: Address
    username: str
    password: str
    tls: ssl.SSLContext | None = None


def _marked(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        # The rows stay unacknowledged and go out again after the next reconnect.
        log.warning("could not mark outbox rows as sent: %s", task.exception())


class Publisher:
    """Sends the outbox to the broker in order until each message is acknowledged."""

    def __init__(self, core: Core, link: BrokerLink) -> None:
        self.core = core
        self.link = link
        self.connected = False
        self._wake = asyncio.Event()
        self._unsubscribe = core.tracker.subscribe(lambda _change: self._wake.set())
        self.tables = TeamTables(core.store)
        self.tidy_every = TIDY_SECONDS  # a test may shorten it
        self._next_tidy = 0.0

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        delay = 1.0
        while True:
            try:
                async with aiomqtt.Client(
                    self.link.address.host,
                    self.link.address.port,
                    username=self.link.username,
                    password=self.link.password,
                    identifier=self.link.username,
                    tls_context=self.link.tls,
                    max_inflight_messages=_BATCH,
                    timeout=10,
                ) as client:
                    self.connected = True
                    delay = 1.0
                    log.info("connected to the broker")
                    await self._republish(client)
                    await self._drain(client)
            except aiomqtt.MqttError as exc:
                log.warning("broker connection: %s; retrying in %.0f s", exc, delay)
            except Exception:  # e.g. the store could not be read: retried, never given up
                log.exception("publishing to the broker failed; retrying in %.0f s", delay)
            finally:
                self.connected = False
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)

    async def _republish(self, client: aiomqtt.Client) -> None:
        rows = self.tables.acked_since(time.time() - REPUBLISH_SECONDS)
        for start in range(0, len(rows), _BATCH):
            batch = rows[start : start + _BATCH]
            await asyncio.gather(*(client.publish(r[0], r[1], qos=1) for r in batch))

    async def _drain(self, client: aiomqtt.Client) -> None:
        # Rows up to `sent` went out on this connection; marking them acknowledged in the
        # store runs behind, so a commit (or a WAL checkpoint) never holds the next batch.
        sent = 0
        marking: set[asyncio.Task[None]] = set()
        while True:
            self._wake.clear()
            rows = self.tables.unsent(sent, _BATCH)
            if not rows:
                await self._tidy()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), 1.0)
                continue
            # One connection keeps the broker's order; awaiting the batch together lets
            # PUBACKs overlap instead of one round trip per message.
            results = await asyncio.gather(
                *(client.publish(r[1], r[2], qos=1) for r in rows), return_exceptions=True
            )
            acked: list[int] = []
            for row, result in zip(rows, results, strict=True):
                if isinstance(result, BaseException):
                    break
                acked.append(row[0])
            if acked:
                sent = acked[-1]
                task = asyncio.create_task(
                    self.core.store.write(self.tables.ack, acked, time.time(), REPUBLISH_SECONDS)
                )
                marking.add(task)
                task.add_done_callback(_marked)
                task.add_done_callback(marking.discard)
            failed = next((r for r in results if isinstance(r, BaseException)), None)
            if failed is not None:
                raise failed

    async def _tidy(self) -> None:
        if time.monotonic() < self._next_tidy:
            return
        self._next_tidy = time.monotonic() + self.tidy_every
        now = time.time()
        await self.core.store.write(self.tables.tidy, now - REPUBLISH_SECONDS, now - CLAIM_SECONDS)

    def close(self) -> None:
        self._unsubscribe()

"""Soak: the desktop app with its windows open takes 50,000 events over HTTP and stays up,
answers every one, and its memory stops growing after warm-up. This is the test that
catches binding-level leaks and refcount bugs (PySide6 6.12.0 on Python 3.11 aborted after
a few thousand events)."""

from __future__ import annotations

import asyncio
import itertools
import os

import aiohttp
import pytest
from pytestqt.qtbot import QtBot

from bulutpop.app.core import Core
from bulutpop.devtools.demo import scenario_bodies
from bulutpop.ui.app import DesktopApp
from bulutpop.ui.i18n import Translations
from tests.ui.conftest import Loop

TOTAL = int(os.environ.get("BULUTPOP_SOAK_EVENTS", "50000"))
SENDERS = 8


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.mark.soak
def test_soak_with_windows_open(qtbot: QtBot, qloop: Loop, core: Core) -> None:
    qloop.run(core.update_config(core.config.with_value("listen_port", 0)))
    desktop = DesktopApp(core, Translations(), lambda: None, use_tray=False)
    qloop.run(desktop.start())
    assert not desktop.shell.problem
    desktop.show_missed()
    desktop.show_history()
    assert desktop.runtime.receiver is not None
    url = f"http://127.0.0.1:{desktop.runtime.receiver.port}{core.config.webhook_path()}"
    calls = itertools.chain.from_iterable(scenario_bodies(n) for n in itertools.count(1))
    events = iter(itertools.chain.from_iterable(calls))
    statuses: dict[int, int] = {}
    sent = 0
    samples: dict[int, float] = {}

    async def sender(session: aiohttp.ClientSession) -> None:
        nonlocal sent
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        while sent < TOTAL:
            sent += 1
            if sent in (TOTAL // 5, TOTAL):
                samples[sent] = rss_mb()
            async with session.post(url, data=next(events), headers=headers) as response:
                await response.read()
                statuses[response.status] = statuses.get(response.status, 0) + 1

    async def soak() -> None:
        # No client timeouts: their timer handles would sit in this same process's loop.
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout()) as session:
            await asyncio.gather(*(sender(session) for _ in range(SENDERS)))

    try:
        qloop.run(soak())
    finally:
        qloop.run(desktop.stop())
    assert statuses == {200: TOTAL}
    # Besides, queue calls nobody answered were settled meanwhile (a marker each).
    assert core.store.event_count("webhook") == TOTAL
    warm, end = samples[TOTAL // 5], samples[TOTAL]
    print(f"\nRSS after {TOTAL // 5} events: {warm:.0f} MB, after {TOTAL}: {end:.0f} MB")
    # The store's page cache and Qt's caches are bounded; a per-event leak of even 1 KB
    # would add ~40 MB here.
    assert end - warm < 40, (warm, end)

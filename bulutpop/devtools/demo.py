"""Demo data: the bundled scenarios replayed as if they were happening now.

Each round gets fresh call ids (the store would rightly ignore a repeated event) and its
times moved to the present, so the popups, missed list and history look alive."""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bulutpop.calls.events import PBX_TZ, decode_fields, parse_stamp
from bulutpop.devtools.fakepbx import DEMO_KEY, FakePbxState, history_records, tone_wav
from bulutpop.devtools.fakepbx import start as start_fake_pbx
from bulutpop.devtools.replay import bundled_scenarios, post_bodies, read_scenario

log = logging.getLogger(__name__)

STAMPS = ("start_stamp", "answer_stamp", "end_stamp")


def scenario_bodies(round_number: int, now: datetime | None = None) -> list[list[bytes]]:
    """Every bundled call scenario (the URL probe left out) as bodies for one round."""
    now = (now or datetime.now(PBX_TZ)).astimezone(PBX_TZ)
    calls = []
    for path in bundled_scenarios():
        bodies = [b for b in read_scenario(path) if b.strip() != b"{}"]
        if not bodies:
            continue
        first = parse_stamp(decode_fields(bodies[0]).get("start_stamp", ""))
        shift = (now - first) if first else timedelta()
        calls.append([_rewrite(body, round_number, shift) for body in bodies])
    return calls


def _rewrite(body: bytes, round_number: int, shift: timedelta) -> bytes:
    fields = decode_fields(body)
    fields["call_uuid"] = f"demo{round_number}-{fields.get('call_uuid', '')}"
    for name in STAMPS:
        stamp = parse_stamp(fields.get(name, ""))
        if stamp:
            fields[name] = (stamp + shift).strftime("%Y-%m-%d %H:%M:%S")
    return "&".join(f"{k}={quote(v, safe=' :')}" for k, v in fields.items()).encode()


class DemoBackend:
    """The fake PBX plus a player that posts the scenarios to the app's own receiver."""

    def __init__(self, base_dir: Path) -> None:
        self.base_dir = base_dir
        self.state = FakePbxState(key=DEMO_KEY)
        self._runner: web.AppRunner | None = None
        self.api_url = ""

    def env(self) -> dict[str, str]:
        """The environment the demo's core opens with: its own directories and key."""
        return {
            **os.environ,
            "BULUTPOP_CONFIG_DIR": str(self.base_dir / "config"),
            "BULUTPOP_DATA_DIR": str(self.base_dir / "data"),
            "BULUTPOP_API_KEY": DEMO_KEY,
            "BULUTPOP_API_URL": self.api_url,
        }

    async def start(self) -> None:
        self._runner, self.api_url = await start_fake_pbx(self.state)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def play(self, webhook_url: str, pause: float = 6.0, step: float = 1.5) -> None:
        """Replay the scenarios forever, a call every `pause` seconds."""
        async with aiohttp.ClientSession() as session:
            # Round numbers unique across runs: a restarted demo's calls must not be
            # taken for redeliveries of the last run's.
            for round_number in itertools.count(int(time.time())):
                for bodies in scenario_bodies(round_number):
                    for body in bodies:
                        fields = decode_fields(body)
                        if fields.get("recording_present") in ("t", "true"):
                            self.state.recordings[fields["call_uuid"]] = tone_wav(12.0)
                        try:
                            await post_bodies(webhook_url, [body], session)
                        except aiohttp.ClientError:
                            log.warning("demo: the receiver did not answer")
                        await asyncio.sleep(step)
                    # The PBX's history has the call once it is over, one record per leg.
                    self.state.cdrs.extend(history_records(bodies))
                    await asyncio.sleep(pause)

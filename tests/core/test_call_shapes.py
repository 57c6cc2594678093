"""The PBX's real call shapes (PBX-API.md, "Call legs") end to end, as a user runs the
app: webhook events over real HTTP into `bulutpop serve`, and the PBX's per-leg history
through `bulutpop catchup` and `serve`'s own catch-up, checked with `bulutpop calls`."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from bulutpop.devtools.fakepbx import history_records
from tests.conftest import TEST_KEY, free_port, scenario, until
from tests.core.conftest import FakePbx, run_cli_async

# The scenarios' call ids, by the first part: 06 a colleague's missed internal call, 08 a
# queue call through the company line a colleague answered (the loser's LOSE_RACE leg last),
# 09 a *8 pickup, 10 a queue call nobody answered, 11 the internal callback of 06.
INTERNAL, QUEUE_TAKEN, PICKUP, QUEUE_MISSED, CALLBACK = (
    "c0ffee00-1234-4abc-9def-000000000006",
    "7c3d9a10-2b4e-4f61-9a0c-5d8e7f6a1b08",
    "5e0b8c21-9d3f-4a72-8e16-3f2a4c6b9d09",
    "9a4f2e63-1c7b-4d85-b2a9-6e1d0c3f8a10",
    "c0ffee00-1234-4abc-9def-000000000011",
)
SHAPES = ("06", "08", "09", "10", "11")


async def calls(api: str, *args: str) -> Any:
    code, out, err = await run_cli_async("calls", "--json", "--limit", "500", *args, api=api)
    assert code == 0, err
    return json.loads(out)


def check_shapes(by_uuid: dict[str, Any], groups: list[Any]) -> None:
    """What every route must end with, for the user at extension 1001."""
    taken, pickup, nobody = by_uuid[QUEUE_TAKEN], by_uuid[PICKUP], by_uuid[QUEUE_MISSED]
    assert (taken["answered"], taken["missed"], taken["connected_user"]) == (True, False, "1002")
    assert taken["queue"] == "200" and taken["dialed_users"] == ["1001", "1002"]
    assert (pickup["answered"], pickup["missed"]) == (True, False)  # for 1001, who was rung
    assert (nobody["answered"], nobody["missed"], nobody["state"]) == (False, True, "ended")
    assert by_uuid[CALLBACK]["placed"] and by_uuid[CALLBACK]["party"] == "1002"
    # Missed: the queue call nobody answered, once; the colleague's internal call is
    # resolved by the callback, as a callback.
    open_groups = [g for g in groups if not g["resolved"]]
    assert [(g["number"], g["count"]) for g in open_groups] == [("+905327778899", 1)]
    (internal,) = [g for g in groups if g["number"] == "1002"]
    assert internal["resolved_by"] == "callback"


@asynccontextmanager
async def serving(api: str, port: int) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {**os.environ, "BULUTPOP_API_KEY": TEST_KEY, "BULUTPOP_API_URL": api}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bulutpop", "serve", env=env, stderr=asyncio.subprocess.PIPE
    )

    async def listening() -> bool:
        assert process.returncode is None, "serve exited"
        try:
            async with aiohttp.ClientSession() as session:
                await session.get(f"http://127.0.0.1:{port}/health")
        except aiohttp.ClientError:
            return False
        return True

    await until(listening, 20, "serve to listen", interval=0.2)
    try:
        yield process
    finally:
        process.terminate()
        _, err = await asyncio.wait_for(process.communicate(), 20)
        assert process.returncode == 0, err.decode()


async def configure(api: str, **settings: str) -> None:
    for key, value in {"extension": "1001", "history_days": "30", **settings}.items():
        assert (await run_cli_async("config", "set", key, value, api=api))[0] == 0


@pytest.mark.slow
async def test_the_shapes_posted_to_serve(fake_pbx: FakePbx) -> None:
    _, api = fake_pbx
    port = free_port()
    await configure(api, listen_port=str(port), settle_seconds="1")
    code, url, _ = await run_cli_async("webhook-url", api=api)
    assert code == 0
    async with serving(api, port), aiohttp.ClientSession() as session:
        for name in SHAPES:
            for body in scenario(name):
                headers = {"Content-Type": "application/x-www-form-urlencoded"}
                async with session.post(url.strip(), data=body, headers=headers) as response:
                    assert response.status == 200

        async def settled() -> bool:  # 10's legs alone cannot tell that nobody answered
            return any(c["missed"] for c in await calls(api) if c["call_uuid"] == QUEUE_MISSED)

        await until(settled, 20, "the queue call nobody answered to settle", interval=0.2)
        by_uuid = {c["call_uuid"]: c for c in await calls(api)}
        check_shapes(by_uuid, await calls(api, "--missed", "--all"))
        assert by_uuid[PICKUP]["connected_user"] == "1003"


@pytest.mark.slow
async def test_the_shapes_from_the_history_by_catchup(fake_pbx: FakePbx) -> None:
    state, api = fake_pbx
    state.cdrs = history_records([b for name in SHAPES for b in scenario(name)])
    await configure(api)
    code, out, err = await run_cli_async("catchup", api=api)
    assert code == 0, err
    assert "recovered 5" in out
    by_uuid = {c["call_uuid"]: c for c in await calls(api)}
    assert all(c["source"] == "history" for c in by_uuid.values())
    # The history writes parties `DID (EXT)`: the extension inside is the one rung.
    check_shapes(by_uuid, await calls(api, "--missed", "--all"))
    assert by_uuid[QUEUE_MISSED]["destination"] == "1002"
    # Who picked the call up is not in the history: its one record names the rung leg.
    assert by_uuid[PICKUP]["connected_user"] == "1001"


@pytest.mark.slow
async def test_serve_catches_up_at_start_and_once_after_a_restart(
    fake_pbx: FakePbx,
) -> None:
    state, api = fake_pbx
    state.cdrs = history_records(scenario("02"))  # a call only the PBX's history knows
    port = free_port()
    await configure(api, listen_port=str(port))

    async def recovered() -> bool:
        return len(await calls(api)) == 1

    started = time.monotonic()
    async with serving(api, port):
        await until(recovered, 20, "the call from the history", interval=0.2)
    assert time.monotonic() - started < 15
    async with serving(api, port):
        await until(lambda: len(state.received["cdrs"]) >= 2, 20, "a second run")
    (call,) = await calls(api)
    assert call["missed"] and call["source"] == "history"
    (group,) = await calls(api, "--missed")
    assert group["count"] == 1

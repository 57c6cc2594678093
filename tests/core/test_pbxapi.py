"""PbxClient against the fake PBX over real HTTP on 127.0.0.1 (no mocks of our code)."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import shutil
import socket
import stat
import sys
import wave
from collections.abc import AsyncIterator
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

from bulutpop.cli import describe
from bulutpop.devtools.fakepbx import FakePbxState, start, tone_wav
from bulutpop.errors import (
    DownloadError,
    KeyRefused,
    NetworkError,
    NotFound,
    PbxError,
    PbxRefused,
    RateLimited,
)
from bulutpop.local.redact import MASK
from bulutpop.pbx.client import PbxClient
from tests.core.conftest import FakeClock

pytestmark = pytest.mark.asyncio

KEY = "K12345678-1234-5678-4321-123456789012"
WRONG_KEY = "Kabcdef01-abcd-ef01-2345-6789abcdef01"
CALL = "358c20bc-fd86-11e5-87a2-157d41a07454"


@dataclass
class Pbx:
    state: FakePbxState
    base: str
    clock: FakeClock

    def client(self, key: str = KEY, **kwargs: Any) -> PbxClient:
        return PbxClient(self.base, key, clock=self.clock, **kwargs)


@pytest_asyncio.fixture
async def pbx() -> AsyncIterator[Pbx]:
    clock = FakeClock()
    state = FakePbxState(key=KEY, clock=clock)
    state.recordings[CALL] = tone_wav(1.0)
    runner, base = await start(state)
    try:
        yield Pbx(state, base, clock)
    finally:
        await runner.cleanup()


@pytest_asyncio.fixture
async def client(pbx: Pbx) -> AsyncIterator[PbxClient]:
    async with pbx.client() as c:
        yield c


def assert_no_key(exc: BaseException, *keys: str) -> None:
    for key in keys or (KEY,):
        assert key not in str(exc)
        assert key not in repr(exc)
        if isinstance(exc, PbxError):
            assert key not in exc.detail
            assert key not in describe(exc)[0]


# --- originate ----------------------------------------------------------------------------


async def test_originate_sends_params_and_returns_uuid(pbx: Pbx, client: PbxClient) -> None:
    call_uuid = await client.originate(
        "1001", "908505320000", caller_id="902123205062", manual_answer=True, timeout=20
    )
    assert len(call_uuid) == 36
    assert pbx.state.originates == [
        {
            "key": KEY,
            "extension": "1001",
            "destination": "908505320000",
            "caller_id": "902123205062",
            "manual_answer": "true",
            "timeout": "20",
        }
    ]


# A key with a character missing is no key shape, but still one of 32 URL-safe characters
# or more, the least a secret of ours has (a shorter "key" is not masked: see test_redact).
@pytest.mark.parametrize("wrong", [WRONG_KEY, WRONG_KEY[:-1]])
async def test_invalid_key_error_never_shows_the_key(pbx: Pbx, wrong: str) -> None:
    async with pbx.client(wrong) as c:
        with pytest.raises(KeyRefused) as info:
            await c.originate("1001", "908505320000")
    assert info.value.status == 400
    assert_no_key(info.value, wrong, KEY)
    assert MASK in info.value.detail  # the echoed key was there, and was masked


async def test_unknown_extension(client: PbxClient) -> None:
    with pytest.raises(PbxRefused) as info:
        await client.originate("1005", "908505320000")
    assert info.value.detail == "extension 1005 not found"
    assert describe(info.value, "dial")[0] == "the PBX refused the call: extension 1005 not found"


async def test_invalid_destination(client: PbxClient) -> None:
    with pytest.raises(PbxRefused, match="invalid destination: 1234"):
        await client.originate("1001", "1234")


async def test_timeout_is_validated_locally(pbx: Pbx, client: PbxClient) -> None:
    for bad in (9, 61):
        with pytest.raises(ValueError, match=rf"timeout must be 10\.\.60 seconds, not {bad}"):
            await client.originate("1001", "908505320000", timeout=bad)
    assert pbx.state.originates == []


async def test_originate_timeout_is_never_retried(pbx: Pbx) -> None:
    pbx.state.originate_delay = 0.6
    async with pbx.client(total_timeout=0.2) as c:
        with pytest.raises(NetworkError) as info:
            await c.originate("1001", "908505320000")
    assert info.value.uncertain
    assert "may or may not have been placed" in describe(info.value, "dial")[0]
    assert len(pbx.state.originates) == 1
    assert_no_key(info.value)


async def test_connection_refused() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with PbxClient(f"http://127.0.0.1:{port}", KEY) as c:
        with pytest.raises(NetworkError) as info:
            await c.originate("1001", "908505320000")
    assert not info.value.uncertain
    assert (info.value.errno, info.value.host) == (errno.ECONNREFUSED, "127.0.0.1")
    assert "the call was not placed" in describe(info.value, "dial")[0]
    assert_no_key(info.value)


# In a network namespace of its own where 192.168.77.0/24 is unreachable, as macOS makes
# the LAN look to an app the user has not allowed on the local network.
_NO_ROUTE = """
import asyncio, sys
from bulutpop.errors import NetworkError
from bulutpop.pbx.client import PbxClient

async def main():
    async with PbxClient("http://192.168.77.7:8788/api", sys.argv[1], relay=True) as client:
        try:
            await client.originate("1001", "908505320000")
        except NetworkError as exc:
            print(exc.errno, exc.host, exc.uncertain, exc.cause, sep="|")

asyncio.run(main())
"""


async def test_no_route_to_a_lan_address_is_told_apart() -> None:
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("needs unshare(1) and root for a network namespace")
    setup = "ip link set lo up && ip route add unreachable 192.168.77.0/24"
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
    process = await asyncio.create_subprocess_exec(
        *[unshare, "--net", "sh", "-c", f'{setup} && exec "$0" -c "$1" "$2"'],
        *[sys.executable, _NO_ROUTE, KEY],
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, err.decode()
    code, host, uncertain, cause = out.decode().strip().split("|")
    assert (int(code), host, uncertain) == (errno.EHOSTUNREACH, "192.168.77.7", "False")
    assert KEY not in cause

    error = NetworkError(cause, uncertain=False, errno=int(code), host=host, platform="darwin")
    assert error.local_network_refused  # what a Mac would say
    assert not NetworkError(
        cause, uncertain=False, errno=int(code), host=host
    ).local_network_refused


@pytest.mark.parametrize(
    ("host", "local"),
    [
        ("192.168.1.20", True),
        ("10.0.0.5", True),
        ("172.20.3.4", True),
        ("169.254.10.1", True),
        ("fd12:3456::1", True),
        ("fe80::1%en0", True),
        ("[fe80::1]", True),
        ("ofis-relay.local", True),
        ("172.32.0.1", False),  # outside 172.16.0.0/12
        ("8.8.8.8", False),
        ("127.0.0.1", False),  # loopback needs no permission
        ("relay.example.com", False),
        ("", False),
    ],
)
async def test_local_network_refusal_needs_macos_no_route_and_a_lan_address(
    host: str, local: bool
) -> None:
    def error(code: int, platform: str) -> NetworkError:
        return NetworkError("x", uncertain=False, errno=code, host=host, platform=platform)

    assert error(errno.EHOSTUNREACH, "darwin").local_network_refused is local
    assert not error(errno.ECONNREFUSED, "darwin").local_network_refused
    assert not error(errno.EHOSTUNREACH, "linux").local_network_refused
    assert not error(errno.EHOSTUNREACH, "win32").local_network_refused


async def test_server_error(pbx: Pbx, client: PbxClient) -> None:
    pbx.state.fail(503, f"backend down for {KEY}")
    with pytest.raises(PbxError) as info:
        await client.originate("1001", "908505320000")
    assert info.value.status == 503
    assert_no_key(info.value)


# --- recordings ---------------------------------------------------------------------------


async def test_recording_url_and_download_with_progress(
    pbx: Pbx, client: PbxClient, tmp_path: Path
) -> None:
    url = await client.recording_url(CALL)
    assert url.startswith(f"{pbx.base}/recording/R")
    seen: list[tuple[int, int | None]] = []
    dest = tmp_path / "call.wav"
    written = await client.download(
        url, dest, progress=lambda d, t: seen.append((d, t)), chunk_size=4096
    )
    data = pbx.state.recordings[CALL]
    assert written == len(data)
    assert dest.read_bytes() == data
    assert len(seen) > 2
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert seen[-1] == (len(data), len(data))
    assert os.listdir(tmp_path) == ["call.wav"]  # no temp file left behind


async def test_fake_accepts_get_for_recording_url(pbx: Pbx) -> None:
    async with (
        aiohttp.ClientSession() as s,
        s.get(f"{pbx.base}/recording_url", params={"key": KEY, "call_uuid": CALL}) as r,
    ):
        assert r.status == 200
        assert "/recording/R" in await r.text()


async def test_cache_hit_does_not_count_against_limit(pbx: Pbx, client: PbxClient) -> None:
    first = await client.recording_url(CALL)
    for _ in range(10):
        assert await client.recording_url(CALL) == first
    assert pbx.state.recording_requests == 1


async def test_concurrent_requests_for_one_call_share_a_link(pbx: Pbx, client: PbxClient) -> None:
    first, second = await asyncio.gather(client.recording_url(CALL), client.recording_url(CALL))
    assert first == second
    assert pbx.state.recording_requests == 1


async def test_sixth_call_within_a_minute_is_limited(pbx: Pbx, client: PbxClient) -> None:
    calls = [f"call-{i}" for i in range(6)]
    for c in calls:
        pbx.state.recordings[c] = b"RIFF"
    for c in calls[:5]:
        await client.recording_url(c)
        pbx.clock.advance(10)  # requests at t=0,10,20,30,40
    pbx.clock.advance(-5)  # now t=45
    with pytest.raises(RateLimited) as info:
        await client.recording_url(calls[5])
    assert info.value.retry_after == pytest.approx(15)
    assert pbx.state.recording_requests == 5  # refused locally, the PBX never saw it
    assert await client.recording_url(calls[0])  # cached links still work when limited
    pbx.clock.advance(15)
    assert await client.recording_url(calls[5])
    assert pbx.state.recording_requests == 6


async def test_wait_true_sleeps_until_a_slot_frees(pbx: Pbx) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        pbx.clock.advance(seconds)

    async with pbx.client(sleep=sleep) as c:
        for i in range(6):
            pbx.state.recordings[f"c{i}"] = b"RIFF"
            await c.recording_url(f"c{i}", wait=True)
    assert slept == [pytest.approx(60)]
    assert pbx.state.recording_requests == 6


async def test_cached_url_expires_after_50_minutes(pbx: Pbx, client: PbxClient) -> None:
    first = await client.recording_url(CALL)
    pbx.clock.advance(49 * 60)
    assert await client.recording_url(CALL) == first
    pbx.clock.advance(60)
    assert await client.recording_url(CALL) != first
    assert pbx.state.recording_requests == 2


async def test_pbx_side_429_uses_retry_after(pbx: Pbx, client: PbxClient) -> None:
    pbx.state.fail(429, "Rate limit exceeded", {"Retry-After": "7"})
    with pytest.raises(RateLimited) as info:
        await client.recording_url(CALL)
    assert info.value.status == 429
    assert info.value.retry_after == pytest.approx(7)
    # The client now holds back instead of hammering the PBX.
    with pytest.raises(RateLimited):
        await client.recording_url(CALL)
    assert pbx.state.recording_requests == 1
    pbx.clock.advance(7)
    assert await client.recording_url(CALL)


async def test_pbx_side_429_without_header_uses_own_estimate(pbx: Pbx, client: PbxClient) -> None:
    # Someone else is using the key: the PBX's limit is reached before ours.
    pbx.state.recording_limit = 1
    pbx.state.recordings["other"] = b"RIFF"
    await client.recording_url(CALL)
    pbx.clock.advance(20)
    with pytest.raises(RateLimited) as info:
        await client.recording_url("other")
    assert info.value.status == 429
    assert info.value.retry_after == pytest.approx(40)  # oldest request leaves the window


async def test_unknown_call_is_not_found(client: PbxClient) -> None:
    with pytest.raises(NotFound) as info:
        await client.recording_url("no-such-call")
    assert "no-such-call" in info.value.detail


async def test_expired_link_is_not_found(pbx: Pbx, client: PbxClient, tmp_path: Path) -> None:
    url = await client.recording_url(CALL)
    pbx.clock.advance(3600)
    with pytest.raises(NotFound):
        await client.download(url, tmp_path / "x.wav")
    assert os.listdir(tmp_path) == []


async def test_disk_error_leaves_no_partial_file(client: PbxClient, tmp_path: Path) -> None:
    url = await client.recording_url(CALL)
    dest = tmp_path / "taken"
    dest.mkdir()  # the final rename cannot replace a directory
    with pytest.raises(DownloadError) as info:
        await client.download(url, dest)
    assert info.value.path == str(dest) and "could not save" in describe(info.value)[0]
    assert dest.is_dir()
    assert os.listdir(tmp_path) == ["taken"]

    with pytest.raises(DownloadError):
        await client.download(url, tmp_path / "missing" / "x.wav")


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores modes")
async def test_read_only_directory(client: PbxClient, tmp_path: Path) -> None:
    url = await client.recording_url(CALL)
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(DownloadError):
            await client.download(url, folder / "x.wav")
        assert os.listdir(folder) == []
    finally:
        folder.chmod(stat.S_IRWXU)


async def test_dropped_download_leaves_no_partial_file(
    pbx: Pbx, client: PbxClient, tmp_path: Path
) -> None:
    url = await client.recording_url(CALL)
    pbx.state.truncate_downloads_at = 5000
    with pytest.raises(NetworkError):
        await client.download(url, tmp_path / "x.wav", chunk_size=1024)
    assert os.listdir(tmp_path) == []


# --- the fake's recording endpoint --------------------------------------------------------


async def test_fake_serves_byte_ranges(pbx: Pbx, client: PbxClient) -> None:
    url = await client.recording_url(CALL)
    data = pbx.state.recordings[CALL]
    size = len(data)
    async with aiohttp.ClientSession() as s:
        async with s.get(url) as r:
            assert r.status == 200
            assert r.headers["Content-Type"] == "audio/wav"
            assert r.headers["Accept-Ranges"] == "bytes"
            assert await r.read() == data
        async with s.get(url, headers={"Range": "bytes=10-19"}) as r:
            assert r.status == 206
            assert r.headers["Content-Range"] == f"bytes 10-19/{size}"
            assert await r.read() == data[10:20]
        async with s.get(url, headers={"Range": "bytes=-100"}) as r:
            assert r.status == 206
            assert await r.read() == data[-100:]
        async with s.get(url, headers={"Range": f"bytes={size}-"}) as r:
            assert r.status == 416
            assert r.headers["Content-Range"] == f"bytes */{size}"
        async with s.get(f"{pbx.base}/recording/Rnope") as r:
            assert r.status == 404


async def test_tone_wav_is_valid() -> None:
    with wave.open(BytesIO(tone_wav(0.5, 8000))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 8000)
        assert w.getnframes() == 4000


# --- secrecy ------------------------------------------------------------------------------


async def test_repr_has_no_key(pbx: Pbx, client: PbxClient) -> None:
    assert KEY not in repr(client)
    assert KEY not in repr(pbx.state)


async def test_logs_never_contain_the_key(
    pbx: Pbx, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG)
    async with pbx.client() as c:
        await c.originate("1001", "908505320000")
        url = await c.recording_url(CALL)
        await c.download(url, tmp_path / "x.wav")
    async with pbx.client(WRONG_KEY) as c:
        with pytest.raises(KeyRefused):
            await c.originate("1001", "908505320000")
    assert "/originate" in caplog.text  # the access log and our debug lines did run
    assert KEY not in caplog.text
    assert WRONG_KEY not in caplog.text


async def test_session_ownership(pbx: Pbx) -> None:
    async with aiohttp.ClientSession() as session:
        async with pbx.client(session=session) as c:
            await c.originate("1001", "908505320000")
        assert not session.closed  # a session passed in belongs to the caller


async def test_requests_go_through_the_systems_proxy(
    pbx: Pbx, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The office's proxy is the only way out: the PBX's name does not even resolve here, and
    # the fake PBX plays the proxy (it answers the proxy-form request for its own paths).
    monkeypatch.setenv("HTTP_PROXY", pbx.base)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    pbx.state.caller_ids = ["908505551234"]
    async with PbxClient("http://pbx.invalid", KEY, clock=pbx.clock) as client:
        assert await client.caller_ids() == ["908505551234"]


async def test_the_command_line_names_the_local_network_setting() -> None:
    refused = NetworkError(
        "x", uncertain=False, errno=errno.EHOSTUNREACH, host="10.0.0.5", platform="darwin"
    )
    message, code = describe(refused, "dial")
    assert "Privacy & Security → Local Network" in message and code == 1

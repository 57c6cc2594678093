"""The guard in front of our servers, over TLS (the relay's agents' API with tls_cert): a
client that never finishes its handshake is counted and timed like any other."""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bulutpop.app.guard import GuardedServer, Limits, request_deadline
from tests.conftest import until
from tests.core.conftest import certificates


async def _hello(_request: web.Request) -> web.Response:
    return web.Response(text="hello")


async def _silent(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A TCP connection that never starts its TLS handshake."""
    return await asyncio.open_connection("127.0.0.1", port)


async def test_silent_connections_to_a_tls_server_are_cut_and_make_room(tmp_path: Path) -> None:
    ca, cert, key = certificates(tmp_path / "tls")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    app = web.Application(middlewares=[request_deadline])
    app.router.add_get("/", _hello)
    limits = Limits(connections=8, per_address=8, request_seconds=0.5)
    server = GuardedServer(app, limits, tls=server_tls)
    await server.start("127.0.0.1", 0)
    try:
        first = await _silent(server.port)
        # Past the cap, the newest silent ones push out the oldest.
        silent = [await _silent(server.port) for _ in range(50)]
        await until(lambda: first[0].at_eof(), 5, "the oldest silent connection to be dropped")
        assert server.connections <= 8
        client_tls = ssl.create_default_context(cafile=str(ca))
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"https://127.0.0.1:{server.port}/", ssl=client_tls) as response,
        ):
            assert await response.text() == "hello"
        # Those left are cut at the deadline, handshake or not.
        await until(lambda: server.connections == 0, 5, "the deadline to close the rest")
        assert all(reader.at_eof() for reader, _ in silent[-5:])
    finally:
        await server.stop()


async def test_on_windows_the_port_is_bound_exclusively(monkeypatch: pytest.MonkeyPatch) -> None:
    # Windows' SO_EXCLUSIVEADDRUSE does not exist here: an option asyncio never sets on a
    # listening socket (SO_KEEPALIVE) stands in for it, to be read back from the socket.
    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(socket, "SO_EXCLUSIVEADDRUSE", socket.SO_KEEPALIVE, raising=False)
    app = web.Application()
    app.router.add_get("/", _hello)
    server = GuardedServer(app, Limits())
    await server.start("127.0.0.1", 0)
    try:
        assert server._server is not None
        (listening,) = server._server.sockets
        assert listening.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE) == 1
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{server.port}/") as response,
        ):
            assert await response.text() == "hello"
    finally:
        await server.stop()

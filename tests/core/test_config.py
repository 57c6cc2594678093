"""The settings file's first start: the receiver's port is this user's own when the default
is taken (a terminal server or a Mac where another user's bulutpop already listens)."""

from __future__ import annotations

import getpass
import socket
from pathlib import Path

import pytest

from bulutpop.local.config import Config, Dirs, load, own_port

DEFAULT = Config().listen_port


def dirs(base: Path) -> Dirs:
    return Dirs(config=base / "config", data=base / "data", cache=base / "cache")


@pytest.fixture
def default_taken() -> socket.socket | None:
    """The default port held as another user's app would hold it (None: something already
    holds it)."""
    try:
        holder = socket.create_server(("127.0.0.1", DEFAULT))
    except OSError:
        return None
    return holder


def test_a_first_start_beside_another_users_app_takes_a_port_of_its_own(
    default_taken: socket.socket | None, tmp_path: Path
) -> None:
    try:
        first = load(dirs(tmp_path / "one"), env={})
        assert first.listen_port != DEFAULT
        assert first.listen_port == own_port("127.0.0.1", DEFAULT, getpass.getuser())
        assert load(dirs(tmp_path / "one"), env={}).listen_port == first.listen_port  # saved
        # Another first start of the same user's lands on the same port: the PBX's URL holds.
        assert load(dirs(tmp_path / "two"), env={}).listen_port == first.listen_port
        # A port the user chose is kept, taken or not.
        chosen = dirs(tmp_path / "three")
        chosen.config.mkdir(parents=True)
        chosen.config_file.write_text(f"listen_port = {DEFAULT}\n", encoding="utf-8")
        assert load(chosen, env={}).listen_port == DEFAULT
    finally:
        if default_taken is not None:
            default_taken.close()


def test_other_users_get_other_ports(default_taken: socket.socket | None) -> None:
    try:
        ports = {own_port("127.0.0.1", DEFAULT, user) for user in ("ayse", "mehmet", "zeynep")}
        assert len(ports) == 3 and DEFAULT not in ports
    finally:
        if default_taken is not None:
            default_taken.close()

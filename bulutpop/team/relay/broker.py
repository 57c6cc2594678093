"""The team's message broker (Mosquitto): its user and ACL files, its configuration, and
running it for the relay.

The relay owns the broker's password and ACL files: they are regenerated from the agents in
its store and the broker reloads them (SIGHUP). Traps this design avoids, all seen with
Mosquitto 2.0:

* an ACL `pattern … %u` rule matches across topic prefixes, so every user gets explicit
  `user` rules naming full topics;
* without `use_username_as_clientid`, another user could connect with an agent's client id
  and wipe its queued messages;
* `max_queued_messages` (default 1000) silently drops a long offline backlog;
* queued messages live in memory until the next autosave: a hard kill loses what arrived
  since, so autosave runs every second;
* Nagle's algorithm is on by default (`set_tcp_nodelay false`): QoS 1 traffic then stalls
  ~40 ms per burst.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import errno
import getpass
import hashlib
import logging
import os
import secrets
import shutil
import signal
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

TOPIC_ROOT = "bulutpop"
TEAM_TOPIC = f"{TOPIC_ROOT}/team"
RELAY_USER = "bulutpop-relay"
# An agent offline for a long holiday still gets every event (see module docstring).
MAX_QUEUED_MESSAGES = 1_000_000
SESSION_EXPIRY_DAYS = 60
_PBKDF2_ITERATIONS = 101  # mosquitto_passwd's own choice for its $7$ hashes


class BrokerError(Exception):
    """The broker cannot be set up or reached; the message says what to do."""


def ext_topic(extension: str) -> str:
    """The topic an extension's events are published to."""
    return f"{TOPIC_ROOT}/ext/{extension}"


def hash_password(password: str, salt: bytes | None = None) -> str:
    """A Mosquitto 2 password-file hash ($7$: PBKDF2-SHA512)."""
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _PBKDF2_ITERATIONS)
    encoded = (base64.b64encode(part).decode() for part in (salt, digest))
    return f"$7${_PBKDF2_ITERATIONS}$" + "$".join(encoded)


def check_password(password: str, hashed: str) -> bool:
    try:
        _, kind, iterations, salt, digest = hashed.split("$")
        if kind != "7":
            return False
        computed = hashlib.pbkdf2_hmac(
            "sha512", password.encode(), base64.b64decode(salt), int(iterations)
        )
    except ValueError:
        return False
    return secrets.compare_digest(computed, base64.b64decode(digest))


@dataclass(frozen=True, slots=True)
class BrokerUser:
    name: str
    password_hash: str
    read: tuple[str, ...] = ()
    readwrite: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Address:
    host: str
    port: int
    tls: bool

    @classmethod
    def parse(cls, url: str) -> Address:
        parts = urlsplit(url)
        tls = parts.scheme == "mqtts"
        return cls(parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883), tls)


def _write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with a file only its owner can read."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    tmp.replace(path)


class BrokerFiles:
    """The files the broker reads, in one folder of the relay's data directory."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def passwd(self) -> Path:
        return self.folder / "passwd"

    @property
    def acl(self) -> Path:
        return self.folder / "acl"

    @property
    def conf(self) -> Path:
        return self.folder / "mosquitto.conf"

    @property
    def pid_file(self) -> Path:
        return self.folder / "mosquitto.pid"

    def write_users(self, users: Iterable[BrokerUser]) -> None:
        users = sorted(users, key=lambda u: u.name)
        _write_private(self.passwd, "".join(f"{u.name}:{u.password_hash}\n" for u in users))
        lines = ["# Written by bulutpop relay; changes here are overwritten.\n"]
        for user in users:
            lines.append(f"\nuser {user.name}\n")
            lines.extend(f"topic read {topic}\n" for topic in user.read)
            lines.extend(f"topic readwrite {topic}\n" for topic in user.readwrite)
        _write_private(self.acl, "".join(lines))

    def write_config(
        self, listen: Address, cert: str = "", key: str = "", persistence: Path | None = None
    ) -> Path:
        """The configuration of a broker the relay runs itself (`broker_managed`)."""
        store = persistence or self.folder / "db"
        store.mkdir(parents=True, exist_ok=True)
        lines = [
            "# Written by bulutpop relay for the broker it runs; see docs/team.md.",
            f"pid_file {self.pid_file}",
            # Started as root, Mosquitto would switch to user "mosquitto", who cannot read
            # the relay's files: stay the relay's user.
            f"user {getpass.getuser()}",
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {self.passwd}",
            f"acl_file {self.acl}",
            "persistence true",
            f"persistence_location {store}/",
            "autosave_interval 1",
            f"persistent_client_expiration {SESSION_EXPIRY_DAYS}d",
            f"max_queued_messages {MAX_QUEUED_MESSAGES}",
            "max_inflight_messages 100",
            # Without it, back-to-back PUBACKs and deliveries wait ~40 ms each for the
            # peer's delayed ACK (Nagle): the relay's p99 went from 62 to 19 ms with it.
            "set_tcp_nodelay true",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            f"listener {listen.port} {listen.host}",
            # A listener option: written before any `listener`, it would open a second,
            # default listener on port 1883.
            "use_username_as_clientid true",
        ]
        if cert and key:
            lines += [f"certfile {cert}", f"keyfile {key}"]
        _write_private(self.conf, "\n".join(lines) + "\n")
        return self.conf


def reload(pid_file: Path) -> None:
    """Ask the broker to re-read its password and ACL files."""
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGHUP)
    except FileNotFoundError:
        raise BrokerError(
            f"the broker's pid file {pid_file} does not exist: is the broker running? "
            "(set broker_pid_file to where your Mosquitto writes it)"
        ) from None
    except ValueError:
        raise BrokerError(f"the broker's pid file {pid_file} holds no process id") from None
    except ProcessLookupError:
        raise BrokerError(
            f"the broker named in {pid_file} is not running; start it, the new agent "
            "files are already written"
        ) from None
    except PermissionError:
        raise BrokerError(
            f"not allowed to signal the broker named in {pid_file}: run this as the "
            "user the broker runs as, or reload it yourself (systemctl reload mosquitto)"
        ) from None


async def wait_listening(address: Address, timeout: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            _, writer = await asyncio.open_connection(address.host, address.port)
        except OSError:
            if loop.time() > deadline:
                raise BrokerError(
                    f"the broker did not start listening on {address.host}:{address.port}"
                ) from None
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return


class ManagedBroker:
    """A Mosquitto process the relay starts with `BrokerFiles.write_config`, and stops."""

    def __init__(self, conf: Path, listen: Address, executable: str = "mosquitto") -> None:
        self.conf = conf
        self.listen = listen
        self.executable = executable
        self.process: asyncio.subprocess.Process | None = None

    async def start(self, timeout: float = 10.0) -> None:
        found = shutil.which(self.executable) or shutil.which(
            self.executable, path="/usr/sbin:/usr/local/sbin"
        )
        if found is None:
            raise BrokerError(
                "Mosquitto is not installed: install it (Debian/Ubuntu: apt install "
                "mosquitto) or point the relay at a running broker with "
                "`bulutpop config set broker_managed false`"
            )
        self.process = await asyncio.create_subprocess_exec(
            found, "-c", str(self.conf), stdin=asyncio.subprocess.DEVNULL
        )
        listening = asyncio.ensure_future(wait_listening(self.listen, timeout))
        exited = asyncio.ensure_future(self.process.wait())
        await asyncio.wait({listening, exited}, return_when=asyncio.FIRST_COMPLETED)
        exited.cancel()
        try:
            if not listening.done():  # it exited first: the port is taken or the config bad
                listening.cancel()
                raise BrokerError("exited")
            listening.result()
        except BrokerError:
            await self.stop()
            raise BrokerError(
                f"Mosquitto did not start listening on port {self.listen.port} (is the port "
                "in use? see the broker's messages above, or choose another with "
                "`bulutpop config set broker_url mqtt://127.0.0.1:PORT`)"
            ) from None
        log.info("broker listening on %s:%s", self.listen.host, self.listen.port)

    async def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.returncode is not None:
            return
        try:
            process.terminate()  # SIGTERM: Mosquitto saves its queued messages first
        except ProcessLookupError:
            return
        try:
            await asyncio.wait_for(process.wait(), 10)
        except TimeoutError:
            process.kill()
            await process.wait()


def port_in_use(exc: OSError) -> bool:
    return exc.errno == errno.EADDRINUSE

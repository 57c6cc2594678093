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
* started as root, Mosquitto keeps root unless its `user` option names another account,
  and that account must read its files on every reload (SIGHUP: the configuration, the
  password and ACL files) and write its persistence: a relay running as root hands the
  broker's folder to an unprivileged account (`broker_account`) and the broker uses paths
  relative to that folder, its working directory, so no private folder above it needs
  opening to it;
* Nagle's algorithm is on by default (`set_tcp_nodelay false`): QoS 1 traffic then stalls
  ~40 ms per burst;
* a connection that never sends CONNECT is kept for 90 s, each with a file descriptor:
  with the 1,024 a service often gets, 1,100 of them kept every agent out. The broker
  inherits the relay's raised limit (`raise_open_files`) and caps its listener at
  MAX_CONNECTIONS, below that limit, so that a flood is refused before it takes the
  descriptors the broker needs for its store and files.
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
import pwd
import re
import secrets
import shutil
import signal
import socket
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bulutpop.app.guard import raise_open_files
from bulutpop.errors import BrokerError, CannotListen
from bulutpop.local.private import UMASK, private_dir, write_private
from bulutpop.team.protocol import SESSION_EXPIRY_DAYS, Address

log = logging.getLogger(__name__)

RELAY_USER = "bulutpop-relay"
# An agent offline for a long holiday still gets every event (see module docstring).
MAX_QUEUED_MESSAGES = 1_000_000
# Connections at once on the broker's listener: a large office many times over, and room
# for a flood of silent connections (see the module docstring). Mosquitto's own: unlimited.
MAX_CONNECTIONS = 10_000
# Descriptors the broker needs besides its connections: its store, files, log, listener.
_SPARE_FILES = 64
_PBKDF2_ITERATIONS = 101  # mosquitto_passwd's own choice for its $7$ hashes


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


def running_as_root() -> bool:
    return os.name == "posix" and os.geteuid() == 0


def broker_account(data: Path) -> pwd.struct_passwd:
    """The account a broker started by root runs as: the owner of the relay's data folder
    when that is not root (the relay's service user), else `nobody`."""
    owner = data.stat().st_uid if data.exists() else 0
    if owner != 0:
        with contextlib.suppress(KeyError):
            return pwd.getpwuid(owner)
    try:
        return pwd.getpwnam("nobody")
    except KeyError:
        raise BrokerError(
            "running as root, the relay would leave Mosquitto running as root too, and there "
            "is no 'nobody' account to give it: run the relay as its own user (docs/team.md)"
        ) from None


@dataclass(frozen=True, slots=True)
class BrokerUser:
    name: str
    password_hash: str
    read: tuple[str, ...] = ()
    readwrite: tuple[str, ...] = ()


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

    def _write(self, path: Path, data: bytes) -> None:
        """`write_private`, the file then given to the folder's owner: a root process (the
        relay, `relay agent add`) writes for a broker that runs unprivileged."""
        write_private(path, data)
        if running_as_root():
            folder = self.folder.stat()
            os.chown(path, folder.st_uid, folder.st_gid)

    def write_users(self, users: Iterable[BrokerUser]) -> None:
        users = sorted(users, key=lambda u: u.name)
        private_dir(self.folder)
        passwd = "".join(f"{u.name}:{u.password_hash}\n" for u in users)
        self._write(self.passwd, passwd.encode())
        lines = ["# Written by bulutpop relay; changes here are overwritten.\n"]
        for user in users:
            lines.append(f"\nuser {user.name}\n")
            lines.extend(f"topic read {topic}\n" for topic in user.read)
            lines.extend(f"topic readwrite {topic}\n" for topic in user.readwrite)
        self._write(self.acl, "".join(lines).encode())

    def _hand_over(self, account: pwd.struct_passwd, store: Path) -> None:
        """The folder, its files and the persistence store to `account` (see the module
        docstring); the relay, as root, can still write them."""
        for path in (self.folder, store, *self.folder.iterdir(), *store.iterdir()):
            os.chown(path, account.pw_uid, account.pw_gid, follow_symlinks=False)

    def write_config(
        self, listen: Address, cert: str = "", key: str = "", persistence: Path | None = None
    ) -> Path:
        """The configuration of a broker the relay runs itself (`broker_managed`)."""
        private_dir(self.folder)
        store = private_dir(persistence or self.folder / "db")
        account = broker_account(self.folder.parent) if running_as_root() else None
        # Paths relative to the folder, the broker's working directory (`ManagedBroker`).
        lines = [
            "# Written by bulutpop relay for the broker it runs; see docs/team.md.",
            f"pid_file {self.pid_file.name}",
            # Started as root, Mosquitto switches to this account (else to "mosquitto", who
            # cannot read the relay's files); otherwise it stays the relay's user.
            f"user {account.pw_name if account is not None else getpass.getuser()}",
            "per_listener_settings false",
            "allow_anonymous false",
            f"password_file {self.passwd.name}",
            f"acl_file {self.acl.name}",
            "persistence true",
            f"persistence_location {os.path.relpath(store, self.folder)}/",
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
            # Says when it runs (`ManagedBroker.start` waits for that line).
            "log_type information",
            # Clients connecting and leaving: which agents are connected (`Presence`).
            "log_type notice",
            f"listener {listen.port} {listen.host}",
            f"max_connections {MAX_CONNECTIONS}",
            # A listener option: written before any `listener`, it would open a second,
            # default listener on port 1883.
            "use_username_as_clientid true",
        ]
        if cert and key and account is not None:
            # Mosquitto reads them once unprivileged, which the originals may not allow
            # (/etc/letsencrypt, a private folder): private copies, handed over below.
            for source, copy in ((cert, "tls-cert.pem"), (key, "tls-key.pem")):
                write_private(self.folder / copy, Path(source).read_bytes())
            lines += ["certfile tls-cert.pem", "keyfile tls-key.pem"]
        elif cert and key:
            lines += [f"certfile {Path(cert).resolve()}", f"keyfile {Path(key).resolve()}"]
        write_private(self.conf, ("\n".join(lines) + "\n").encode())
        if account is not None:
            self._hand_over(account, store)
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


# Mosquitto's notices of its clients (`log_type notice`), all naming the client id, which
# is the username (`use_username_as_clientid`): the agent.
_CONNECTED = re.compile(r"New client connected from \S+ as (\S+) \(")
_DISCONNECTED = re.compile(
    r"Client (\S+) (?:disconnected|closed its connection|has exceeded timeout)"
    r"|Socket error on client (\S+), disconnecting"
)


@dataclass(frozen=True, slots=True)
class Seen:
    connected: bool
    at: float  # since when (Unix time)


class Presence:
    """Which of the broker's clients are connected, and since when, from the log of the
    broker the relay runs (an external broker's clients are not known)."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clients: dict[str, Seen] = {}
        self._clock = clock
        self.listeners: list[Callable[[str, Seen], None]] = []

    def read(self, line: str) -> None:
        if (match := _CONNECTED.search(line)) is not None:
            self._set(match[1], True)
        elif (match := _DISCONNECTED.search(line)) is not None:
            self._set(match[1] or match[2], False)

    def _set(self, client: str, connected: bool) -> None:
        seen = Seen(connected, self._clock())
        self.clients[client] = seen
        for listener in self.listeners:
            listener(client, seen)


def _port_taken(address: Address) -> bool:
    """Whether something already listens on the broker's port (a system Mosquitto, another
    relay): then a broker we start would exit at once, and a client would reach that one."""
    with socket.socket(socket.AF_INET6 if ":" in address.host else socket.AF_INET) as probe:
        if os.name != "nt":  # as Mosquitto binds: a port left in TIME_WAIT is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((address.host, address.port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


class ManagedBroker:
    """A Mosquitto process the relay starts with `BrokerFiles.write_config`, and stops.

    `start` returns only once this process says it is running (its own "running" line on
    its log, which comes after its listeners are open); a port that answers is no proof,
    since another broker may hold it."""

    def __init__(self, conf: Path, listen: Address, executable: str = "mosquitto") -> None:
        self.conf = conf
        self.listen = listen
        self.executable = executable
        self.process: asyncio.subprocess.Process | None = None
        self._log_task: asyncio.Task[None] | None = None
        self.presence = Presence()

    async def start(self, timeout: float = 10.0) -> None:
        found = shutil.which(self.executable) or shutil.which(
            self.executable, path="/usr/sbin:/usr/local/sbin"
        )
        if found is None:
            raise BrokerError(
                "Mosquitto is not installed (Debian/Ubuntu: apt install mosquitto); or run "
                "the relay with a broker of its own (broker_managed false)"
            )
        host, port = self.listen.host, self.listen.port
        if _port_taken(self.listen):
            raise CannotListen("broker", host, port, "in_use", "broker_url")
        # Mosquitto never raises its limit on open files: it runs with this process's.
        open_files = raise_open_files()
        if open_files is not None and open_files < MAX_CONNECTIONS + _SPARE_FILES:
            log.warning(
                "the broker can keep only about %d connections open (a limit of %d open "
                "files): raise the relay's hard limit (systemd: LimitNOFILE=)",
                open_files - _SPARE_FILES,
                open_files,
            )
        self.process = await asyncio.create_subprocess_exec(
            found,
            "-c",
            self.conf.name,  # read again on every reload, maybe by an unprivileged account
            cwd=self.conf.parent,  # its paths are relative to its folder
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            umask=UMASK,  # its persistence and pid files are the relay's, private too
        )
        running = asyncio.get_running_loop().create_future()
        self._log_task = asyncio.create_task(self._read_log(self.process, running, self.presence))
        try:
            async with asyncio.timeout(timeout):
                last_error = await running
        except TimeoutError:
            last_error = "did not say it was running"
        if last_error is not None:
            await self.stop()
            if "address already in use" in last_error.lower():
                raise CannotListen("broker", host, port, "in_use", "broker_url")
            raise BrokerError(f"Mosquitto did not start: {last_error}")
        log.info("broker listening on %s:%s", host, port)

    @staticmethod
    async def _read_log(
        process: asyncio.subprocess.Process,
        running: asyncio.Future[str | None],
        presence: Presence,
    ) -> None:
        """Pass Mosquitto's log on to ours, and settle `running`: None once it runs, or its
        last error line if it exits first."""
        assert process.stderr is not None
        last_error = "it exited"
        async for raw in process.stderr:
            # "1796192399: mosquitto version 2.0.11 running": drop the time stamp.
            line = raw.decode("utf-8", "replace").strip().partition(": ")[2]
            if line.startswith("Error"):
                last_error = line
                log.error("mosquitto: %s", line)
            elif line.startswith("Warning"):
                log.warning("mosquitto: %s", line)
            else:
                presence.read(line)
                log.debug("mosquitto: %s", line)
            said_running = line.startswith("mosquitto version") and line.endswith(" running")
            if said_running and not running.done():
                running.set_result(None)
        if not running.done():
            running.set_result(last_error)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.returncode is None

    async def stop(self) -> None:
        process, self.process = self.process, None
        log_task, self._log_task = self._log_task, None
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()  # SIGTERM: Mosquitto saves its queued messages first
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        if log_task is not None:
            await log_task  # ends with the process's log

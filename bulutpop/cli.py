"""The `bulutpop` command line.

Exit codes: 0 success, 1 a runtime failure (message on stderr, secrets redacted), 2 usage or
invalid input. Without a subcommand (or with a tel:/callto: URL) the tray app starts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import getpass
import io
import json
import logging
import math
import os
import signal
import socket
import ssl
import sys
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar

from bulutpop import __version__
from bulutpop.app.core import Core, setup_logging
from bulutpop.app.runtime import Runtime, ServiceState
from bulutpop.calls import phone
from bulutpop.calls.events import CallEvent, decode_fields
from bulutpop.calls.model import Call
from bulutpop.errors import (
    AddressBookError,
    BrokerError,
    BulutpopError,
    CannotListen,
    CredentialRefused,
    DialRefused,
    DownloadError,
    InvalidInput,
    InviteError,
    KeyRefused,
    KeyringUnavailable,
    NetworkError,
    NotFound,
    NotOnThisSystem,
    PbxError,
    PbxRefused,
    RateLimited,
    SetupMissing,
    StorageError,
    TeamRemoved,
)
from bulutpop.local.config import SETTINGS, Dirs
from bulutpop.local.private import open_private, private_dir, restrict_umask
from bulutpop.local.redact import Redactor
from bulutpop.pbx.catchup import CatchUp, CatchUpStatus
from bulutpop.pbx.client import CrmSettings, register_webhook
from bulutpop.pbx.phonebook import PhoneBook
from bulutpop.storage.history import HistoryFilter, TextMatch, history_terms
from bulutpop.storage.store import erasable_digits
from bulutpop.team.protocol import INVITE_PREFIX

log = logging.getLogger("bulutpop")

T = TypeVar("T")

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2


class UsageError(InvalidInput):
    """The command was written wrongly: exit code 2, like every `InvalidInput`."""


def _out(text: str = "", stream: TextIO | None = None) -> None:
    print(text, file=stream or sys.stdout)


async def _until_signalled() -> None:
    """Wait for SIGINT or SIGTERM (on Windows, Ctrl+C raises KeyboardInterrupt instead)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    await stop.wait()


# -- commands ---------------------------------------------------------------------------


async def _serve(core: Core, args: argparse.Namespace) -> int:
    """The receiver (or, in team mode, the link to the relay), the catch-up, the phonebook
    sync and the settling of calls: the tray app's background, without its windows."""
    config = core.config
    listen = None
    if args.host or args.port is not None:
        port = config.listen_port if args.port is None else args.port
        listen = (args.host or config.listen_host, port)
    return await _run(Runtime(core, listen=listen), core)


async def _relay(core: Core, args: argparse.Namespace) -> int:
    if sys.platform == "win32":  # the broker is reloaded with SIGHUP, a relay is a server
        raise NotOnThisSystem("the team relay", "Linux or macOS")
    if args.relay_command is None:
        return await _run(Runtime(core, "relay"), core)
    if args.relay_command == "status":
        return await _relay_status(core, args)
    if args.relay_command == "agent":
        return await _relay_agent(core, args)
    if args.relay_command == "forget":
        return await _relay_forget(core, args)
    return _audit(core, args)  # the relay's store: the recordings it served agents


def _relay_as_root(args: argparse.Namespace) -> None:
    """Before the relay's store is opened: the relay never runs as root unless told to
    (`refuse_root`), and root never manages a relay whose folder is its service user's,
    which would leave files the service cannot open (SQLite's -wal and -shm, the broker's
    files)."""
    if sys.platform == "win32":  # no relay there: `_relay` says so
        return
    if args.relay_command is None:
        from bulutpop.team.relay.service import refuse_root

        refuse_root(args.allow_root)
        return
    data = Dirs.from_env().data
    if os.name != "posix" or os.geteuid() != 0 or not data.exists():
        return
    owner = data.stat().st_uid
    if owner != 0:
        import pwd

        with contextlib.suppress(KeyError):
            name = pwd.getpwuid(owner).pw_name
            raise UsageError(
                f"the relay's data folder {data} belongs to {name}: run this as that user "
                f"(sudo -u {name} -H bulutpop relay ...)"
            )


async def _relay_status(core: Core, args: argparse.Namespace) -> int:
    """The running relay's status (its `/team/status`), or, when nothing answers, what its
    store says. Exit 1 when it is not running or reports a problem: for monitoring."""
    import aiohttp

    from bulutpop.team.relay.service import local_api_url, status_token, stored_status

    token = status_token(core)
    if args.token:
        _out(token)
        return EXIT_OK
    url = local_api_url(core.config) + "/team/status"
    # Its own certificate, on this machine: the name in it is the public one, not 127.0.0.1.
    context = None
    if url.startswith("https:"):
        context = ssl.create_default_context(cafile=core.config.tls_ca or None)
        context.check_hostname = False
    status: dict[str, Any] | None = None
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session,
            session.get(
                url, headers={"Authorization": f"Bearer {token}"}, ssl=context or True
            ) as response,
        ):
            if response.status != 200:
                # The relay is there but failing (or a proxy in front of it): not bad input.
                raise BulutpopError(
                    f"{url} answered HTTP {response.status}: {await response.text()}"
                )
            status = await response.json()
    except (aiohttp.ClientConnectionError, TimeoutError) as exc:
        reason = str(exc) or type(exc).__name__
        stored = stored_status(core)
        stored["running"] = False
        stored["problems"] = [f"the relay is not running (nothing answers at {url}: {reason})"]
        status = stored
    assert status is not None
    if args.json:
        _out(json.dumps(status, indent=2, ensure_ascii=False))
    else:
        for line in _status_lines(status):
            _out(line)
    return EXIT_FAILURE if status.get("problems") else EXIT_OK


def _ago(ts: float | None, now: float) -> str:
    if ts is None:
        return "never"
    seconds = max(0, int(now - ts))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return f"{_local(ts)}"


def _status_lines(status: dict[str, Any]) -> list[str]:
    now = float(status["now"])
    lines = []
    if status.get("running") is False:
        lines.append("relay: NOT RUNNING (below: what its store says)")
    else:
        lines.append(
            f"relay: running since {_local(status['started'])}, version {status['version']}"
        )
    broker = status.get("broker")
    if broker is not None:
        managed = "managed" if broker["managed"] else "external"
        state = "connected" if broker["relay_connected"] else "NOT CONNECTED"
        lines.append(f"broker: {broker['url']} ({managed}), relay {state}")
    lines.append(f"last event from the PBX: {_ago(status['pbx']['last_event'], now)}")
    catch_up = status["catchup"]
    result = (
        f"failed: {catch_up['error']}"
        if catch_up.get("error")
        else f"{catch_up['recovered']} recovered of {catch_up['fetched']} fetched"
    )
    lines.append(f"last catch-up: {_ago(catch_up['last_run'], now)} ({result})")
    lines.append(f"outbox not yet acknowledged by the broker: {status['outbox']['unsent']}")
    lines.append("agents:")
    for agent in status["agents"]:
        name = f"  {agent['name']:<16} ext {agent['extension']:<6} {agent['display']:<12}"
        connected = agent.get("connected")
        if connected is None and status.get("running") is not False:
            presence = "connection unknown (external broker)"
        elif connected is None:
            presence = ""
        elif connected:
            presence = f"connected since {_ago(agent['since'], now)}"
        else:
            presence = f"OFFLINE, last seen {_ago(agent['since'], now)}"
            if agent.get("waiting"):
                presence += f", {agent['waiting']} message(s) waiting"
        unsent = f", {agent['unsent']} unsent" if agent["unsent"] else ""
        lines.append(f"{name} {presence}{unsent}".rstrip())
    if not status["agents"]:
        lines.append("  none yet: bulutpop relay agent add EXTENSION")
    lines.extend(f"problem: {problem}" for problem in status.get("problems", []))
    return lines


async def _relay_forget(core: Core, args: argparse.Namespace) -> int:
    from bulutpop.team.relay.service import tell_agents_to_forget

    if not args.yes and sys.stdin.isatty():
        _out("This is the relay: it erases the number here, then tells every agent's PC to.")
    if (erased := await _forget(core, args)) != EXIT_OK:
        return erased
    agents = await tell_agents_to_forget(core, args.number)
    _out(
        f"Every agent's PC ({agents}) is told to erase it too, by the relay while it runs; a "
        "PC that is off does it when it next connects. The PBX keeps its own copies: erase "
        "them there (see docs/kvkk.md)."
    )
    return EXIT_OK


async def _run(runtime: Runtime, core: Core) -> int:
    """Run until SIGINT/SIGTERM; a service the mode cannot do without failing to start
    ends the command (exit 1, saying why)."""
    runtime.subscribe(_log_state)
    await runtime.start()
    try:
        problem = runtime.problem()
        if problem is not None and problem.error is not None:
            raise problem.error
        if runtime.mode == "team":
            log.info("team mode: receiving events for %s through the relay", core.config.extension)
        elif runtime.mode == "relay":
            log.info("relay running; add agents with: bulutpop relay agent add EXTENSION")
        else:
            log.info("receiving events; the URL to paste in the PBX: `bulutpop webhook-url`")
            if not core.config.extension:
                log.warning("no extension configured: missed calls cannot be told apart")
        await _until_signalled()
    finally:
        log.info("stopping")
        await runtime.stop()
    return EXIT_OK


def _log_state(state: ServiceState) -> None:
    """The services' changes, as the command line's log lines."""
    if state.state == "stopped":
        return
    text = f"{state.name}: {state.state}"
    if state.detail:
        text += f" ({state.detail})"
    if state.error is not None:
        text += f": {describe(state.error)[0]}"
    level = logging.WARNING if state.state == "failed" else logging.INFO
    log.log(level, "%s", text)


async def _relay_agent(core: Core, args: argparse.Namespace) -> int:
    from bulutpop.team.relay.agents import Agents, agent_lines
    from bulutpop.team.relay.service import broker_files, reload_broker

    files = broker_files(core)
    agents = Agents(core.store, files)
    if args.action == "list":
        listed = agents.all()
        for line in agent_lines(listed):
            _out(line)
        if not listed:
            _out("No agents yet: bulutpop relay agent add EXTENSION", sys.stderr)
        return EXIT_OK
    if args.target is None:
        what = "EXTENSION" if args.action == "add" else "NAME|EXTENSION"
        raise UsageError(f"usage: bulutpop relay agent {args.action} {what}")
    if args.action == "add":
        await _relay_agent_add(core, agents, args)
        return EXIT_OK
    agent = agents.find(args.target)
    if args.action == "set":
        if args.queues is None and args.display is None:
            raise UsageError(
                "usage: bulutpop relay agent set NAME|EXTENSION --queues … --display …"
            )
        queues = None if args.queues is None else SETTINGS["watch"].parse(args.queues)
        agent = agents.change(agent.name, queues, args.display)
        _out(agent_lines([agent])[0])
        _out(
            f"Agent {agent.name} changed; their invite stays valid. The relay routes by the "
            "new queues from the next call on.",
            sys.stderr,
        )
        return EXIT_OK
    agents.remove(agent.name)
    _out(f"Agent {agent.name} removed; their PC can no longer connect.", sys.stderr)
    try:
        reload_broker(core.config, files)
    except BrokerError as exc:
        _out(f"note: {exc}. The broker reads the change when it starts.", sys.stderr)
    return EXIT_OK


async def _relay_agent_add(core: Core, agents: Any, args: argparse.Namespace) -> None:
    from bulutpop.team.relay.service import invite_for, open_session, public_urls, reload_broker

    extension = SETTINGS["extension"].parse(args.target)
    queues = SETTINGS["watch"].parse(args.queues or "")
    name = SETTINGS["team_agent"].parse(args.name or "")
    if any(a.name == (name or f"agent{extension}") for a in agents.all()):
        taken = name or f"agent{extension}"
        raise UsageError(
            f"an agent named {taken!r} exists: remove it first "
            f"(bulutpop relay agent remove {taken}) or choose --name"
        )
    agent, secret = agents.add(extension, name, queues, args.display or "")
    core.redactor.add(secret)
    _out(invite_for(core.config, agent, secret).encode())
    config = core.config
    broker, relay = public_urls(config)
    guessed = [
        setting
        for setting, value in (
            ("broker_public_url", config.broker_public_url),
            ("relay_url", config.relay_url),
        )
        if not value
    ]
    _out(
        f"Agent {agent.name} (extension {agent.extension}) added. Paste the line above "
        "into bulutpop on their PC (Settings → Team, or `bulutpop team join`). It holds "
        "their secret: send it privately; it is not shown again.\n"
        f"The invite sends their PC to the broker at {broker} and the relay at {relay}.",
        sys.stderr,
    )
    if guessed:
        _out(
            f"Those use this machine's name ({socket.getfqdn()}) where {' and '.join(guessed)} "
            "is not set. If agents reach the relay by another name, set it (`bulutpop config "
            f"set {guessed[0]} …`), then remove this agent and add them again.",
            sys.stderr,
        )
    try:
        reload_broker(core.config, agents.files)
        await open_session(core.config, agent, secret)
    except BrokerError as exc:
        _out(f"note: {exc}. The broker reads the change when it starts.", sys.stderr)


async def _team(core: Core, args: argparse.Namespace) -> int:
    from bulutpop.team.link import whoami
    from bulutpop.team.protocol import Invite, leave

    if args.action == "join":
        text = args.invite
        if not text:
            text = getpass.getpass("Invite: ") if sys.stdin.isatty() else sys.stdin.read()
        invite = Invite.parse(text)
        core.redactor.add(invite.secret)
        if core.team_keys.status().source != "env":  # a kiosk's secret comes from there
            core.team_keys.set(invite.secret)
        await core.update_config(invite.apply(core.config))
        _out(
            f"Joined the team as {invite.agent} (extension {invite.extension}); events now "
            f"come from {invite.relay}. Restart bulutpop if it is running.",
            sys.stderr,
        )
    elif args.action == "leave":
        core.team_keys.delete()
        await core.update_config(leave(core.config))
        _out("Left the team; this PC uses its own webhook and API key again.", sys.stderr)
    else:
        config = core.config
        if not config.team_mode:
            _out("Not in a team (bulutpop team join INVITE).")
            return EXIT_FAILURE
        who = await whoami(config, core.team_secret())
        _out(
            f"team: agent {who['agent']}, extension {who['extension']}, relay "
            f"{config.team_relay}, broker {config.team_broker}"
        )
    return EXIT_OK


def _webhook_url(core: Core, args: argparse.Namespace) -> int:
    _out(core.config.webhook_url())
    return EXIT_OK


def _key(core: Core, args: argparse.Namespace) -> int:
    if args.action == "set":
        if sys.stdin.isatty():
            key = getpass.getpass("API key (input hidden): ")
        else:
            key = sys.stdin.readline()
        key = key.strip()
        core.redactor.add(key)
        core.keys.set(key)
        _out("API key stored in the system keyring.")
    elif args.action == "delete":
        _out("API key deleted." if core.keys.delete() else "No API key was stored.")
        if args.all and core.team_keys.delete():
            _out("Team secret deleted.")
    else:
        status = core.keys.status()
        where = {
            "env": "from the BULUTPOP_API_KEY environment variable",
            "credential": "from the service's systemd credential (LoadCredential=api_key:…)",
            "keyring": f"stored in {status.backend}",
            "none": "not stored",
        }[status.source]
        _out(f"API key: {where}")
        if status.problem is not None:
            _out(f"warning: {describe(status.problem)[0]}", sys.stderr)
        elif status.memory_only:
            _out("warning: the API key is kept in memory only and is forgotten at exit", sys.stderr)
        if status.source == "none":
            return EXIT_FAILURE
    return EXIT_OK


# What `team join` takes from the invite and the relay relies on.
INVITE_SETTINGS = frozenset(
    ("extension", "team_broker", "team_relay", "team_agent", "team_queues", "team_display")
)


def _config(core: Core, args: argparse.Namespace) -> int:
    config = core.config
    if args.action == "path":
        _out(str(core.dirs.config_file))
    elif args.action == "show":
        for key, setting in SETTINGS.items():
            if key == "token":
                continue  # a secret; `bulutpop webhook-url` shows it where it belongs
            _out(f"{key} = {config.value_text(key)!r}    # {setting.help}")
    elif args.action == "get":
        if args.key not in SETTINGS:
            raise UsageError(f"unknown setting {args.key!r}; known: {', '.join(SETTINGS)}")
        _out(config.value_text(args.key))
    else:
        if args.key is None or args.value is None:
            raise UsageError("usage: bulutpop config set KEY VALUE")
        if config.team_mode and args.key in INVITE_SETTINGS:
            # The relay routes calls by the invite's extension and queues: a PC that
            # changed them would silently stop popping up.
            raise UsageError(
                f"in team mode {args.key} comes from the team's invite: leave the team "
                "(`bulutpop team leave`) and join with a new invite from the admin"
            )
        updated = config.with_value(args.key, args.value)
        run_async(core.update_config(updated))
        _out(f"{args.key} = {updated.value_text(args.key)!r}")
    return EXIT_OK


async def _dial(core: Core, args: argparse.Namespace) -> int:
    number = phone.parse(args.number)
    extension = core.extension()
    caller_id = args.caller_id or core.config.caller_id or None
    if caller_id:
        try:
            caller_id = phone.parse(caller_id).destination
        except phone.NumberError as exc:
            raise UsageError(f"--caller-id: {exc}") from None
    async with core.client() as client:
        uuid = await client.originate(
            extension,
            number.destination,
            caller_id=caller_id,
            manual_answer=args.manual_answer or core.config.manual_answer,
        )
    _out(uuid)
    _out(
        f"Calling {number.display} from extension {extension}: your phone rings first.", sys.stderr
    )
    return EXIT_OK


def _calls(core: Core, args: argparse.Namespace) -> int:
    if args.missed:
        groups = core.store.missed_groups(include_resolved=args.all, limit=args.limit or 100)
        if args.search:  # as the missed-calls window's search finds them
            found = TextMatch(args.search)
            names = core.store.names_for([g.number for g in groups])
            groups = [
                g
                for g in groups
                if found.matches(g.number, (g.party, g.display), (g.name, *names.get(g.number, ())))
            ]
        if args.json:
            _out(json.dumps([g.to_json() for g in groups], ensure_ascii=False, indent=2))
            return EXIT_OK
        if not groups:
            _out("No missed calls.")
        for g in groups:
            state = f"  resolved ({g.resolved_by})" if g.resolved else ""
            _out(f"{_local(g.last_ts)}  {g.display:<18} {g.count}×{state}")
        return EXIT_OK
    # The history window's filters: what the user types, the direction, missed only.
    wanted = HistoryFilter(args.search or "", args.direction or "", args.missed_only)
    terms = history_terms(core.store, wanted)
    if args.csv:
        write_csv(_CALL_HEADER, _call_rows(core, terms, args.limit))
        return EXIT_OK
    calls = core.store.calls(limit=args.limit or 100, **terms)
    if args.json:
        _out(json.dumps([c.to_json() for c in calls], ensure_ascii=False, indent=2))
        return EXIT_OK
    if not calls:
        _out("No calls yet." if not wanted.active else "No calls match.")
    for c in calls:
        _out(f"{_local(c.start_ts)}  {_arrow(c)} {phone.display(c.party):<18} {_outcome(c)}")
    return EXIT_OK


_CALL_HEADER = (
    "start",
    "direction",
    "number",
    "name",
    "company",
    "outcome",
    "answered_by",
    "queue",
    "duration",
    "recording",
    "call_uuid",
    "note",
)
_CSV_PAGE = 2000


def _call_rows(core: Core, terms: dict[str, Any], limit: int | None) -> Iterator[list[str]]:
    """The history's calls as CSV rows, newest first, a page at a time (a whole store
    would not fit in memory as calls); names as the history shows them."""
    done = 0
    while limit is None or done < limit:
        size = _CSV_PAGE if limit is None else min(_CSV_PAGE, limit - done)
        page = core.store.calls(limit=size, offset=done, **terms)
        names = core.store.names_for([c.party_key for c in page])
        notes = core.store.notes_for([c.party_key for c in page])
        for c in page:
            name, company = names.get(c.party_key, (c.name, ""))
            note = notes.get(c.party_key)
            yield [
                _iso_local(c.start_ts),
                c.direction,
                phone.display(c.party),
                name,
                company,
                _outcome(c),
                c.connected_user,
                c.queue,
                "" if c.duration is None else str(c.duration),
                "yes" if c.recording else "no",
                c.call_uuid,
                note.text if note else "",
            ]
        done += len(page)
        if len(page) < size:
            return


def csv_cell(text: str) -> str:
    """A cell a spreadsheet shows as text: one starting with = + - @ (or a tab or carriage
    return, which some strip first) would run as a formula, so it gets a leading '."""
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def write_csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> None:
    """CSV on standard output, every cell neutralised (`csv_cell`). Lines end in "\\n":
    standard output, a text stream, writes the system's own line ending for it."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])


def parse_since(text: str) -> float:
    """`--since DATE`: 2026-11-30 or 2026-11-30T14:00 (or with a space), this PC's time."""
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise UsageError(
            f"--since: {text!r} is not a date (2026-11-30 or 2026-11-30T14:00)"
        ) from None


def _iso_local(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).isoformat(sep=" ", timespec="seconds") if ts else ""


async def _forget(core: Core, args: argparse.Namespace) -> int:
    key = phone.canonical_key(args.number)
    erasable_digits(key)  # an extension or junk is refused before anything is asked
    shown = phone.display(key)
    warning = [
        f"This erases everything bulutpop keeps on this PC about {shown}: every call with "
        "that number, the raw events and rejected bodies that mention it, its search "
        "entries, the names and address-book entries for it, its missed calls and "
        "claims, and the cached recordings of those calls. It cannot be undone.",
        "The PBX keeps its own copies: delete the calls' history and recordings in the "
        "PBX's web portal too, and the number from its phonebook (else the next sync "
        "brings the name back). In a team, the relay's administrator runs "
        "`bulutpop relay forget NUMBER` for every PC.",
    ]
    if not await _confirmed(args.yes, "erase", warning, "Erase?"):
        _out("Nothing was erased.")
        return EXIT_FAILURE
    gone = await core.forget(args.number)
    # Not the number: in a windowed program this output goes to a log file (cli.log).
    _out(
        f"Erased: {gone.calls} calls, {gone.events} events, {gone.names} names, "
        f"{gone.groups} missed groups, {gone.claims} claims."
    )
    return EXIT_OK


async def _confirmed(yes: bool, action: str, lines: Sequence[str], prompt: str) -> bool:
    """Whether the user agrees, after `lines`, at `prompt` ([y/N]; Turkish e/evet too).
    `--yes` (`yes`) agrees without asking; without a terminal nothing is asked: a
    UsageError says to add --yes to `action`."""
    if yes:
        return True
    if not sys.stdin.isatty():
        raise UsageError(f"not asking without a terminal: add --yes to {action}")
    for line in lines:
        _out(line)
    answer = await asyncio.to_thread(input, f"{prompt} [y/N] ")
    return answer.strip().lower() in ("y", "yes", "e", "evet")


def _audit(core: Core, args: argparse.Namespace) -> int:
    since = parse_since(args.since) if args.since else None
    accesses = core.store.accesses(since)
    rows = (
        [_iso_local(a.at), a.who, a.action, phone.display(a.party) if a.party else "", a.call_uuid]
        for a in accesses
    )
    if args.csv:
        write_csv(("at", "who", "action", "number", "call_uuid"), rows)
        return EXIT_OK
    if not accesses:
        _out("No recording was played or saved" + (" since then." if since else "."))
    for at, who, action, number, call_uuid in rows:
        _out(f"{at}  {who:<12} {action:<8} {number or '(erased)':<18} {call_uuid}")
    return EXIT_OK


def _local(ts: float | None) -> str:
    return datetime.fromtimestamp(ts).strftime("%d.%m.%Y %H:%M") if ts else "-" * 16


def _arrow(call: Call) -> str:
    return {"inbound": "←", "outbound": "→", "internal": "↔"}.get(call.direction, "?")


def _outcome(call: Call) -> str:
    if call.missed:
        return "missed"
    if not call.ended:
        return call.state
    who = f" by {call.connected_user}" if call.connected_user else ""
    return f"answered{who}" if call.answered else "not answered"


async def _recording(core: Core, args: argparse.Namespace) -> int:
    dest = Path(args.output or f"{args.call_uuid}.wav")
    show = sys.stderr.isatty()

    def progress(done: int, total: int | None) -> None:
        if show:
            if total:
                width = 30
                filled = width * done // total
                text = f"[{'#' * filled}{'.' * (width - filled)}] {done * 100 // total:3d}%"
            else:
                text = f"{done // 1024} KiB"
            print(f"\r{text}", end="", file=sys.stderr, flush=True)

    # The app's own cache: a recording played or saved within its lifetime is copied from
    # there, with no new link asked of the PBX (5 a minute).
    async with core.client() as client:
        size = await core.save_recording(client, args.call_uuid, dest, progress, wait=True)
    if show:
        print(file=sys.stderr)
    _out(f"Saved {size} bytes to {dest}", sys.stderr)
    return EXIT_OK


async def _replay(core: Core, args: argparse.Namespace) -> int:
    from bulutpop.devtools.replay import bundled_scenarios, post_bodies, read_scenario

    url = args.url or core.config.local_webhook_url()
    paths = [Path(p) for p in args.files] or bundled_scenarios()
    failures = 0
    for path in paths:
        statuses = await post_bodies(url, read_scenario(path))
        failures += sum(1 for s in statuses if s >= 300)
        _out(f"{path.name}: {' '.join(map(str, statuses))}")
    return EXIT_FAILURE if failures else EXIT_OK


async def _fake_pbx(core: Core, args: argparse.Namespace) -> int:
    from bulutpop.devtools.demo import scenario_bodies
    from bulutpop.devtools.fakepbx import DEMO_KEY, FakePbxState, history_records, start, tone_wav

    key = core.keys.get() or DEMO_KEY
    core.redactor.add(key)
    state = FakePbxState(key=key)
    # The sample calls as if they had just happened: their history (one record per leg),
    # and a recording for those that have one.
    bodies = [body for call in scenario_bodies(int(time.time())) for body in call]
    state.cdrs = history_records(bodies)
    for body in bodies:
        event = CallEvent(decode_fields(body))
        if event.flag("recording_present"):
            state.recordings[event.call_uuid] = tone_wav(3.0)
    runner, base = await start(state, port=args.port)
    _out(f"fake PBX API at {base}  (BULUTPOP_API_URL={base})")
    try:
        await _until_signalled()
    finally:
        await runner.cleanup()
    return EXIT_OK


async def _catchup(core: Core, args: argparse.Namespace) -> int:
    def progress(status: CatchUpStatus) -> None:
        if status.progress and sys.stderr.isatty():
            page, pages = status.progress
            print(f"\rpage {page} of {pages}", end="", file=sys.stderr, flush=True)

    async with core.client() as client:
        service = CatchUp(core.tracker, lambda: client, history_days=core.config.history_days)
        service.subscribe(progress)
        result = await service.run_once()
    if sys.stderr.isatty():
        print(file=sys.stderr)
    _out(
        f"Fetched {result.fetched} calls from the PBX's history in {result.pages} requests; "
        f"recovered {result.recovered} that the webhook never delivered."
    )
    return EXIT_OK


async def _contacts(core: Core, args: argparse.Namespace) -> int:
    if args.action == "sync":
        async with core.client() as client:
            count = await PhoneBook(core.tracker, lambda: client).sync_pbx()
        _out(f"{count} contacts from the PBX's phonebook.")
        return EXIT_OK
    if not args.file:
        raise UsageError("usage: bulutpop contacts import FILE")
    result = await PhoneBook(core.tracker, core.client).import_file(Path(args.file))
    _out(f"{result.contacts} contacts with {result.numbers} numbers from {args.file}.")
    return EXIT_OK


def _crm_lines(settings: CrmSettings, ours: str) -> list[str]:
    events = [
        name
        for name, on in (
            ("ringing", settings.ringing),
            ("answered", settings.answered),
            ("hangup", settings.hangup),
        )
        if on
    ]
    whose = "this app" if settings.sends_to(ours) else "not this app"
    return [
        f"notification URL: {settings.notification_url or '(none)'}  ({whose})",
        f"events sent: {', '.join(events) or 'none'}",
    ]


async def _pbx_webhook(core: Core, args: argparse.Namespace) -> int:
    url = core.config.webhook_url()
    async with core.client() as client:
        if args.action == "show":
            for line in _crm_lines(await client.crm_integrations(), url):
                _out(line)
            return EXIT_OK

        async def confirm(current: CrmSettings) -> bool:
            return await _confirmed(
                args.yes,
                "replace the URL",
                [
                    *_crm_lines(current, url),
                    f"Replace it with {url} (ringing, answered, hangup)?",
                    "The PBX has one notification URL: a tool using the old one stops getting "
                    "events.",
                ],
                "Replace?",
            )

        if not core.config.public_url:
            _out("warning: no public_url is set; the PBX must reach " + url, sys.stderr)
        try:
            outcome = await register_webhook(client, url, confirm)
        except PbxRefused as exc:
            # The PBX tests a new URL with a request of its own: nothing answered it.
            exc.detail = (
                f"{exc.detail or f'HTTP {exc.status}'}. The PBX tests the URL by posting to "
                f"it: start what receives there first (`bulutpop relay`, its service, or "
                f"`bulutpop serve`), check that {core.config.public_url or url} reaches it "
                "from the internet, then register again"
            )
            raise
    _out(
        {
            "registered": "The PBX now sends ringing, answered and hangup events to this app.",
            "unchanged": "The PBX already sends every event to this app.",
            "declined": "Nothing was changed.",
        }[outcome]
    )
    return EXIT_OK


async def _dnd(core: Core, args: argparse.Namespace) -> int:
    extension = core.extension()
    async with core.client() as client:
        _out(await client.dnd(extension, args.state == "on"))
    return EXIT_OK


# -- parser -----------------------------------------------------------------------------


def _forget_arguments(parser: argparse.ArgumentParser) -> None:
    """What `_forget` reads, on this PC and on the relay."""
    parser.add_argument("number", help="any written form, e.g. '0532 123 45 67'")
    parser.add_argument("--yes", action="store_true", help="erase without asking")


def _audit_arguments(parser: argparse.ArgumentParser) -> None:
    """What `_audit` reads, on this PC and on the relay."""
    parser.add_argument("--since", help="from this date on: 2026-11-30 or 2026-11-30T14:00")
    parser.add_argument("--csv", action="store_true", help="print CSV for a spreadsheet")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bulutpop",
        description="Bulutsantralim desktop companion: screen pop, missed calls, click-to-dial.",
        epilog="Without a command, the tray app starts. A tel: or callto: URL dials it.",
    )
    parser.add_argument("--version", action="version", version=f"bulutpop {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log more")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    serve = sub.add_parser("serve", help="run the webhook receiver headless")
    serve.add_argument("--host", help="listen address (default: listen_host setting)")
    serve.add_argument("--port", type=int, help="listen port (default: listen_port setting)")

    sub.add_parser("webhook-url", help="print the URL to paste into the PBX settings")

    key = sub.add_parser("key", help="manage the API key in the system keyring")
    key.add_argument("action", choices=["set", "status", "delete"])
    key.add_argument(
        "--all",
        action="store_true",
        help="with delete: every secret bulutpop keeps, the team secret too (uninstall)",
    )

    config = sub.add_parser("config", help="show or change settings")
    config.add_argument("action", choices=["show", "get", "set", "path"])
    config.add_argument("key", nargs="?", help="setting name")
    config.add_argument("value", nargs="?", help="new value")

    dial = sub.add_parser("dial", help="call a number: your phone rings, then theirs")
    dial.add_argument("number", help="any written form, e.g. '0532 123 45 67' or tel:+90…")
    dial.add_argument("--caller-id", help="outbound number to present")
    dial.add_argument("--manual-answer", action="store_true", help="wait for you to pick up")

    calls = sub.add_parser("calls", help="call history, newest first")
    calls.add_argument("--missed", action="store_true", help="missed-call groups instead")
    calls.add_argument("--all", action="store_true", help="with --missed: resolved ones too")
    calls.add_argument(
        "--search",
        help="a number (any way written) or a name, as in the history window: Turkish"
        " upper/lower case and letters without their marks match ('sukru' finds 'Şükrü')",
    )
    calls.add_argument("--direction", choices=["inbound", "outbound", "internal"])
    calls.add_argument("--missed-only", action="store_true", help="only missed calls")
    shape = calls.add_mutually_exclusive_group()
    shape.add_argument("--json", action="store_true", help="print JSON")
    shape.add_argument("--csv", action="store_true", help="print CSV for a spreadsheet (all)")
    calls.add_argument("--limit", type=int, help="at most this many (100; with --csv: every call)")

    _forget_arguments(
        sub.add_parser(
            "forget", help="erase everything kept about a phone number (KVKK erasure request)"
        )
    )
    _audit_arguments(sub.add_parser("audit", help="who played or saved which recording, and when"))

    rec = sub.add_parser("recording", help="download a call's recording")
    rec.add_argument("call_uuid")
    rec.add_argument("-o", "--output", help="file to write (default: CALL_UUID.wav)")

    replay = sub.add_parser("replay", help="post scenario files to a running receiver")
    replay.add_argument("files", nargs="*", help="*.form files (default: the bundled ones)")
    replay.add_argument("--url", help="webhook URL (default: this PC's receiver)")

    fake = sub.add_parser("fake-pbx", help="run the built-in fake PBX API (for trying out)")
    fake.add_argument("--port", type=int, default=8790)

    sub.add_parser("demo", help="the tray app against the fake PBX, replaying scenarios")

    sub.add_parser("catchup", help="fetch the calls the webhook missed from the PBX's history")

    contacts = sub.add_parser("contacts", help="sync the PBX's phonebook or import a file")
    contacts.add_argument("action", choices=["sync", "import"])
    contacts.add_argument("file", nargs="?", help="with import: CSV (header row) or vCard")

    webhook = sub.add_parser("pbx-webhook", help="show or set where the PBX sends call events")
    webhook.add_argument("action", choices=["show", "register"])
    webhook.add_argument("--yes", action="store_true", help="replace the URL without asking")

    dnd = sub.add_parser("dnd", help="do-not-disturb on or off for your extension")
    dnd.add_argument("state", choices=["on", "off"])

    relay = sub.add_parser("relay", help="team mode: run the office's relay, or manage its agents")
    relay_sub = relay.add_subparsers(dest="relay_command", metavar="agent|status|forget|audit")
    relay.add_argument(
        "--allow-root", action="store_true", help="run the relay as root anyway (a container)"
    )
    agent = relay_sub.add_parser(
        "agent", help="add, list, change or remove agents (add prints an invite)"
    )
    agent.add_argument("action", choices=["add", "list", "set", "remove"])
    agent.add_argument(
        "target", nargs="?", help="add: the extension; set, remove: the agent's name or extension"
    )
    agent.add_argument("--name", help="add: agent name (default agentEXTENSION)")
    agent.add_argument(
        "--queues", help="add, set: queues whose missed calls they share, '200 201' ('' for none)"
    )
    agent.add_argument("--display", help="add, set: name colleagues see, e.g. 'Ayşe'")
    status = relay_sub.add_parser(
        "status", help="the running relay's agents, backlog, PBX events, catch-up and broker"
    )
    status.add_argument("--json", action="store_true", help="print JSON (for monitoring)")
    status.add_argument(
        "--token", action="store_true", help="print the token GET /team/status asks for"
    )
    _forget_arguments(
        relay_sub.add_parser(
            "forget", help="erase a phone number on the relay and every agent's PC (KVKK)"
        )
    )
    _audit_arguments(
        relay_sub.add_parser("audit", help="which agent fetched which recording, when")
    )

    team = sub.add_parser("team", help="team mode on this PC: join with an invite, leave")
    team.add_argument("action", choices=["join", "leave", "status"])
    team.add_argument("invite", nargs="?", help="join: the invite line (default: asked)")
    return parser


Command = Callable[[Core, argparse.Namespace], Any]

COMMANDS: dict[str, Command] = {
    "serve": _serve,
    "webhook-url": _webhook_url,
    "key": _key,
    "config": _config,
    "dial": _dial,
    "calls": _calls,
    "forget": _forget,
    "audit": _audit,
    "recording": _recording,
    "replay": _replay,
    "fake-pbx": _fake_pbx,
    "catchup": _catchup,
    "contacts": _contacts,
    "pbx-webhook": _pbx_webhook,
    "dnd": _dnd,
    "relay": _relay,
    "team": _team,
}


def _gui(argv: Sequence[str], demo: bool) -> int:
    try:
        from bulutpop.ui.app import run
    except ImportError as exc:
        _out(f"bulutpop: the desktop app cannot start: {exc}", sys.stderr)
        return EXIT_FAILURE
    return int(run(list(argv), demo=demo))


def _tolerant_streams() -> None:
    """A character the console cannot show (cp1254 or cp857 on a Turkish Windows when the
    output is piped: "←", "→") is replaced instead of ending the command."""
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a command's coroutine on a selector loop on every system: Windows' default, the
    proactor loop, has no add_reader, which the MQTT client (team mode) needs."""
    with asyncio.Runner(loop_factory=asyncio.SelectorEventLoop) as runner:
        return runner.run(coroutine)


def _windowed_streams() -> None:
    """A windowed Windows program (the bundle's bulutpop.exe, pythonw) starts without
    standard streams: sys.stdin, sys.stdout and sys.stderr are None, and every command would
    end silently. It writes into the console it was started from when there is one, else
    into cli.log in the data folder, and reads an empty input. (The bundle also ships
    bulutpop-cli.exe, a console program, for the command line.)"""
    if sys.stdin is not None and sys.stdout is not None and sys.stderr is not None:
        return
    if sys.platform == "win32" and _attach_parent_console():
        return
    log_file = private_dir(Dirs.from_env().data) / "cli.log"
    fd = open_private(log_file, os.O_WRONLY | os.O_APPEND)
    out = open(fd, "a", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
    sys.stdout = sys.stdout or out
    sys.stderr = sys.stderr or out
    sys.stdin = sys.stdin or io.StringIO()


def _attach_parent_console() -> bool:
    """Windows: borrow the console of the program that started this one (cmd, PowerShell)."""
    import ctypes

    attach_parent_process = -1
    if not ctypes.windll.kernel32.AttachConsole(attach_parent_process):  # type: ignore[attr-defined,unused-ignore]
        return False
    sys.stdout = sys.stdout or open("CONOUT$", "w", encoding="utf-8", errors="replace")  # noqa: SIM115
    sys.stderr = sys.stderr or open("CONOUT$", "w", encoding="utf-8", errors="replace")  # noqa: SIM115
    sys.stdin = sys.stdin or open("CONIN$", encoding="utf-8", errors="replace")  # noqa: SIM115
    return True


def main(argv: Sequence[str] | None = None) -> int:
    restrict_umask()
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0].lower().startswith(("tel:", "callto:")):
        return _gui(argv, demo=False)
    _windowed_streams()
    _tolerant_streams()
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        return _gui([], demo=False)
    if args.command == "demo":
        return _gui([], demo=True)
    redactor = Redactor()
    setup_logging(redactor, logging.DEBUG if args.verbose else logging.INFO)
    try:
        if args.command == "relay":
            _relay_as_root(args)
        core = Core.open(redactor=redactor)
    except BulutpopError as exc:
        return _fail(exc, redactor, args.command)
    try:
        result = COMMANDS[args.command](core, args)
        if asyncio.iscoroutine(result):
            result = run_async(result)
        return int(result)
    except (BulutpopError, OSError) as exc:
        return _fail(exc, redactor, args.command)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: logged with its traceback, redacted like every line
        log.exception("unexpected error")
        _out(f"bulutpop: unexpected error: {redactor.redact(str(exc))[:300]}", sys.stderr)
        return EXIT_FAILURE
    finally:
        core.close()


def _fail(exc: BaseException, redactor: Redactor, command: str) -> int:
    message, code = describe(exc, command)
    _out(f"bulutpop: {redactor.redact(message)}", sys.stderr)
    return code


_KEYRINGS = {
    "windows": "Windows Credential Manager",
    "macos": "the macOS Keychain",
    "linux": "a Secret Service (GNOME Keyring, KWallet)",
}


def _keyring_words(exc: KeyringUnavailable) -> str:
    keyring = _KEYRINGS[exc.system]
    match exc.problem:
        case "locked" if exc.system == "macos":
            return "the login keychain is locked: unlock it in Keychain Access and try again"
        case "locked":
            return "the system keyring is locked: unlock it (log in to your desktop) and try again"
        case "unavailable" if exc.system == "linux":
            return (
                f"no system keyring is available: install and start {keyring} or set {exc.env_var}"
            )
        case "unavailable":
            return f"{keyring} cannot be reached: sign out and in again, or set {exc.env_var}"
        case "insecure":
            return (
                f"the keyring backend {exc.backend} would keep the {exc.secret} unencrypted, so "
                f"bulutpop will not store it there: use {keyring} or set {exc.env_var}"
            )
        case _ if exc.system == "linux":
            return (
                f"the system keyring failed ({exc.detail}): check that it runs and is "
                f"unlocked, or set {exc.env_var}"
            )
        case _:
            return f"{keyring} failed ({exc.detail}): try again, or set {exc.env_var}"


def describe(exc: BaseException, command: str = "") -> tuple[str, int]:
    """The command line's words for an error, and its exit code: 2 for input the user gave
    (a number, a setting, an invite, the command itself), 1 for the rest. The error carries
    what happened; the advice (which command to run) is the command line's own."""
    if isinstance(exc, InviteError) and exc.problem == "foreign":
        return (
            f"this is not a team invite (one starts with {INVITE_PREFIX!r}): ask the relay's "
            "administrator for one (bulutpop relay agent add EXTENSION)",
            EXIT_USAGE,
        )
    if isinstance(exc, AddressBookError):
        return f"cannot import {exc.path}: {exc}", EXIT_USAGE
    if isinstance(exc, InvalidInput):
        return str(exc), EXIT_USAGE
    return _words(exc, command), EXIT_FAILURE


def _words(exc: BaseException, command: str) -> str:
    detail = f" ({exc.detail})" if isinstance(exc, PbxError) and exc.detail else ""
    match exc:
        case SetupMissing(what="api_key"):
            return (
                "no API key is stored: run `bulutpop key set` (the key is in the PBX web "
                "portal, settings page) or set BULUTPOP_API_KEY"
            )
        case SetupMissing(what="extension"):
            return (
                "no extension is configured: run `bulutpop config set extension 1001` with "
                "your own extension number"
            )
        case SetupMissing():
            return (
                "team mode is set up but this PC's team secret is missing: paste the invite "
                "again (bulutpop team join INVITE)"
            )
        case KeyringUnavailable():
            return _keyring_words(exc)
        case TeamRemoved():
            return (
                "the relay's administrator removed this PC's agent from the team: leave it "
                "(`bulutpop team leave`) or ask for a new invite"
            )
        case CredentialRefused():
            return (
                "the team's relay refused this PC's team credential: ask the relay's "
                "administrator for a new invite, then run `bulutpop team join`"
            )
        case KeyRefused():
            return (
                f"the PBX refused the API key{detail}: store the right one with "
                "`bulutpop key set` (PBX web portal, settings page)"
            )
        case NotOnThisSystem():
            return (
                f"{exc.feature} runs on {exc.runs_on} only: run it on the office's server; "
                "this PC joins it with `bulutpop team join`"
            )
        case RateLimited():
            limit = f" (the PBX allows {exc.limit})" if exc.limit else ""
            return f"too many requests{limit}: try again in {math.ceil(exc.retry_after)} s"
        case NotFound(what="call"):
            return f"the PBX does not know this call{detail}"
        case NotFound(what="recording_link"):
            return "the recording link has expired or does not exist: ask for it again"
        case NotFound():
            return (
                f"the PBX answered 'not found' (HTTP 404){detail}: check the API address "
                "(bulutpop config get api_url)"
            )
        case PbxRefused():
            refused = "the call" if command == "dial" else "the request"
            return f"the PBX refused {refused}: {exc.detail or f'HTTP {exc.status}'}"
        case NetworkError() if exc.local_network_refused:
            return (
                "macOS may be blocking local network access: System Settings → Privacy & "
                "Security → Local Network → allow bulutpop"
            )
        case NetworkError(uncertain=True) if command == "dial":
            return (
                f"no answer from the PBX ({exc.cause}); the call may or may not have been "
                "placed: check your phone before dialling again"
            )
        case NetworkError() if command == "dial":
            return f"could not reach the PBX; the call was not placed ({exc.cause})"
        case NetworkError():
            return f"no answer from the server ({exc.cause})"
        case DownloadError():
            return f"could not save the recording to {exc.path}: {exc.reason}"
        case StorageError(problem="damaged"):
            return (
                f"cannot open the call store {exc.path} ({exc.detail}): if the file is "
                "damaged, move it aside and start again; a new store will be created"
            )
        case StorageError(problem="unsupported"):
            return (
                f"the SQLite library this Python uses has no FTS5 full-text search with the "
                f"trigram tokenizer ({exc.detail}), which bulutpop's history needs: use a "
                "Python built with SQLite 3.34 or newer (python.org's, Debian 12's and "
                "newer have it)"
            )
        case StorageError(problem="busy"):
            return (
                f"another program is reading the call store {exc.path} ({exc.detail}): "
                "close it (or stop bulutpop) and try again"
            )
        case StorageError(problem="newer"):
            return f"{exc.path} was written by a newer bulutpop ({exc.detail}): update the app"
        case StorageError():
            return f"cannot create the call store {exc.path}: {exc.detail}"
        case CannotListen(problem="in_use"):
            return (
                f"port {exc.port} on {exc.host} is already in use (is bulutpop already "
                f"running?): choose another with `bulutpop config set {exc.setting} ...`"
            )
        case CannotListen():
            return (
                f"cannot listen on {exc.host}:{exc.port} ({exc.detail or exc.problem}): "
                f"check `bulutpop config get {exc.setting}`"
            )
        case DialRefused(reason="busy"):
            return f"not dialled: already calling {phone.display(exc.number)}"
        case DialRefused():
            return f"not dialled: {phone.display(exc.number)} was dialled a moment ago"
        case OSError():
            return exc.strerror or str(exc)
    return str(exc) or type(exc).__name__

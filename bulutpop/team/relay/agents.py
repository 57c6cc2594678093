"""The agents a relay serves: who they are (`Agent`), their credentials (only a hash
kept) and the broker's users and ACL made from them."""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace

from bulutpop.errors import (
    InvalidInput,
)
from bulutpop.storage.store import Store
from bulutpop.storage.team import AgentRow, TeamTables
from bulutpop.team.protocol import (
    TEAM_TOPIC,
    TOPIC_ROOT,
    ext_topic,
)
from bulutpop.team.relay.broker import (
    RELAY_USER,
    BrokerFiles,
    BrokerUser,
    check_password,
    hash_password,
)


@dataclass(frozen=True, slots=True)
class Agent:
    name: str
    extension: str
    queues: tuple[str, ...] = ()
    display: str = ""

    @property
    def label(self) -> str:
        """How other agents see this one, e.g. "Ayşe (1002)"."""
        return f"{self.display} ({self.extension})" if self.display else self.extension

    @property
    def audit_name(self) -> str:
        """Who fetched a recording, as the audit shows it: "Ayşe (1002) [agent1002]", which
        still says who after the agent is removed or the name is given to someone else."""
        return f"{self.label} [{self.name}]"

    @property
    def topics(self) -> tuple[str, ...]:
        return (ext_topic(self.extension), TEAM_TOPIC)


def agent_of(row: AgentRow) -> Agent:
    return Agent(row.name, row.extension, row.queues, row.display)


class Agents:
    """The agents a relay serves (in its store), and the broker files made from them."""

    def __init__(self, store: Store, files: BrokerFiles) -> None:
        self.store = store
        self.tables = TeamTables(store)
        self.files = files
        self._relay_password: str | None = None
        # Told after this process changed the agents (the running relay's router reads them
        # again); other processes' changes it notices by itself.
        self.on_change: Callable[[], None] | None = None

    def all(self) -> list[Agent]:
        return [agent_of(row) for row in self.tables.agents()]

    def add(
        self, extension: str, name: str = "", queues: Sequence[str] = (), display: str = ""
    ) -> tuple[Agent, str]:
        """A new agent and its secret (shown once, in the invite; only a hash is kept)."""
        agent = Agent(name or f"agent{extension}", extension, tuple(queues), display.strip())
        if agent.name == RELAY_USER:
            raise InvalidInput(f"{RELAY_USER!r} is the relay's own broker user")
        secret = secrets.token_urlsafe(24)
        row = AgentRow(agent.name, agent.extension, agent.queues, agent.display, "")
        row = replace(row, secret_hash=hash_password(secret))
        if not self.store.run(self.tables.add_agent, row):
            raise InvalidInput(f"an agent named {agent.name!r} exists")
        if self.on_change is not None:
            self.on_change()
        self.write_broker_files()
        return agent, secret

    def remove(self, name: str) -> bool:
        removed = self.store.run(self.tables.remove_agent, name)
        if removed:
            if self.on_change is not None:
                self.on_change()
            self.write_broker_files()
        return removed

    def find(self, target: str) -> Agent:
        """The agent named `target`, else the one whose extension it is; raises InvalidInput
        saying which exist when there is none (or several on one extension)."""
        agent = self.named(target)
        if agent is not None:
            return agent
        on_extension = [a for a in self.all() if a.extension == target]
        if len(on_extension) == 1:
            return on_extension[0]
        if on_extension:
            names = ", ".join(a.name for a in on_extension)
            raise InvalidInput(f"extension {target} has several agents ({names}): name one")
        raise InvalidInput(
            f"no agent named {target!r} or on extension {target} (see: bulutpop relay agent list)"
        )

    def change(self, name: str, queues: Sequence[str] | None, display: str | None) -> Agent:
        """New queues and/or display name (None: unchanged) for an agent, whose invite stays
        valid: their extension and topics, and so the broker's files, stay as they were."""
        display = None if display is None else display.strip()
        if not self.store.run(self.tables.change_agent, name, queues, display):
            raise InvalidInput(f"no agent named {name!r} (see: bulutpop relay agent list)")
        changed = self.named(name)
        assert changed is not None
        return changed

    def named(self, name: str) -> Agent | None:
        row = self.tables.agent(name)
        return agent_of(row) if row is not None else None

    def verify(self, credential: str) -> Agent | None:
        """The agent whose `name:secret` this is, or None."""
        name, _, secret = credential.partition(":")
        row = self.tables.agent(name)
        if row is None or not secret or not check_password(secret, row.secret_hash):
            return None
        return agent_of(row)

    def removed(self, credential: str) -> bool:
        """Whether `name:secret` was the credential of an agent since removed."""
        name, _, secret = credential.partition(":")
        return bool(secret) and any(
            check_password(secret, h) for h in self.tables.removed_hashes(name)
        )

    def link_key(self, name: str) -> str | None:
        """What an agent's recording links are bound to: the hash of their credential, salted
        anew by every invite, so a link dies with the credential it was made for even when
        the name is given to someone else. None when there is no such agent."""
        row = self.tables.agent(name)
        return row.secret_hash if row is not None else None

    def relay_password(self) -> str:
        """The relay's own broker password, made on first use, kept in its store."""
        if self._relay_password is None:
            self._relay_password = secret_in(self.store, "relay_broker_password", 24)
        return self._relay_password

    def write_broker_files(self) -> None:
        users = [
            BrokerUser(
                RELAY_USER, hash_password(self.relay_password()), readwrite=(f"{TOPIC_ROOT}/#",)
            )
        ]
        users += [
            BrokerUser(row.name, row.secret_hash, read=agent_of(row).topics)
            for row in self.tables.agents()
        ]
        self.files.write_users(users)


def secret_in(store: Store, name: str, size: int) -> str:
    """A secret of the relay's own, made on first use and kept in its store."""
    value = store.meta(name)
    if value is None:
        value = secrets.token_urlsafe(size)
        store.run(store.set_meta, name, value)
    return value


def members_of(agents: Iterable[Agent], queues: set[str]) -> set[str]:
    return {a.extension for a in agents if queues.intersection(a.queues)}


def agent_lines(agents: Sequence[Agent]) -> list[str]:
    return [
        f"{a.name:<16} ext {a.extension:<6} queues {' '.join(a.queues) or '-':<12} {a.display}"
        for a in agents
    ]

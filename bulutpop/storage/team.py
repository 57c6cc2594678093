"""The tables of team mode (schema 4), and every query on them.

On the relay: its agents (a hash of each secret, never the secret) and the outbox of
messages for the broker, written in the same transaction as the event they carry. On the
relay and on agents' PCs: the claims ("I'm calling this caller back").

Reads run on any thread through `Store.read`; writes run on the store's writer thread: the
methods ending in `_in` take the transaction's connection (the relay's router runs inside
an event's transaction), the others open one of their own and are called through
`Store.run` or `Store.write`.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bulutpop.storage.store import Store, changed

_AGENT_COLUMNS = "name, extension, queues, display, secret_hash"


@dataclass(frozen=True, slots=True)
class AgentRow:
    name: str
    extension: str
    queues: tuple[str, ...]
    display: str
    secret_hash: str


def _agent(row: sqlite3.Row | tuple[str, ...]) -> AgentRow:
    return AgentRow(row[0], row[1], tuple(q for q in row[2].split() if q), row[3], row[4])


@dataclass(frozen=True, slots=True)
class ClaimRow:
    party_key: str
    agent: str
    display: str
    at_ts: float


class TeamTables:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- agents (the relay) -------------------------------------------------------------------

    def agents(self) -> list[AgentRow]:
        rows = self.store.read(f"SELECT {_AGENT_COLUMNS} FROM agents ORDER BY name")
        return [_agent(row) for row in rows]

    @staticmethod
    def agents_in(conn: sqlite3.Connection) -> list[AgentRow]:
        rows = conn.execute(f"SELECT {_AGENT_COLUMNS} FROM agents ORDER BY name").fetchall()
        return [_agent(row) for row in rows]

    def agent(self, name: str) -> AgentRow | None:
        rows = self.store.read(f"SELECT {_AGENT_COLUMNS} FROM agents WHERE name = ?", (name,))
        return _agent(rows[0]) if rows else None

    def add_agent(self, agent: AgentRow) -> bool:
        """Store a new agent; False when one of that name exists."""
        try:
            with self.store.transaction() as conn:
                conn.execute(
                    f"INSERT INTO agents ({_AGENT_COLUMNS}, created_ts) VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        agent.name,
                        agent.extension,
                        " ".join(agent.queues),
                        agent.display,
                        agent.secret_hash,
                        time.time(),
                    ),
                )
        except sqlite3.IntegrityError:
            return False
        return True

    def change_agent(self, name: str, queues: Sequence[str] | None, display: str | None) -> bool:
        """Change an agent's queues and/or display name (None: keep); False when there is
        no such agent. Their secret, and so their PC's invite, stays valid."""
        with self.store.transaction() as conn:
            return (
                changed(
                    conn,
                    "UPDATE agents SET queues = coalesce(?, queues), display = coalesce(?, display)"
                    " WHERE name = ?",
                    (None if queues is None else " ".join(queues), display, name),
                )
                > 0
            )

    def remove_agent(self, name: str) -> bool:
        with self.store.transaction() as conn:
            return changed(conn, "DELETE FROM agents WHERE name = ?", (name,)) > 0

    # -- the outbox (the relay) ---------------------------------------------------------------

    @staticmethod
    def queue_in(conn: sqlite3.Connection, messages: Iterable[tuple[str, bytes]]) -> None:
        """Messages (topic, payload) for the broker, in this transaction."""
        conn.executemany("INSERT INTO outbox (topic, payload) VALUES (?, ?)", messages)

    def queue(self, messages: Iterable[tuple[str, bytes]]) -> None:
        with self.store.transaction() as conn:
            self.queue_in(conn, messages)

    def unsent(self, after: int, limit: int) -> list[tuple[int, str, bytes]]:
        rows = self.store.read(
            "SELECT seq, topic, payload FROM outbox WHERE acked_ts IS NULL AND seq > ?"
            " ORDER BY seq LIMIT ?",
            (after, limit),
        )
        return [(int(r[0]), str(r[1]), bytes(r[2])) for r in rows]

    def acked_since(self, since: float) -> list[tuple[str, bytes]]:
        rows = self.store.read(
            "SELECT topic, payload FROM outbox WHERE acked_ts >= ? ORDER BY seq", (since,)
        )
        return [(str(r[0]), bytes(r[1])) for r in rows]

    def ack(self, seqs: Sequence[int], now: float, keep_seconds: float) -> None:
        """The broker acknowledged these; rows acknowledged `keep_seconds` ago go."""
        with self.store.transaction() as conn:
            conn.executemany(
                "UPDATE outbox SET acked_ts = ? WHERE seq = ?", [(now, seq) for seq in seqs]
            )
            self._drop_acked(conn, now - keep_seconds)

    @staticmethod
    def _drop_acked(conn: sqlite3.Connection, before: float) -> int:
        return changed(conn, "DELETE FROM outbox WHERE acked_ts < ?", (before,))

    def tidy(self, acked_before: float, claimed_before: float) -> int:
        """Delete what team mode no longer needs, all naming callers: outbox rows the broker
        acknowledged before `acked_before` (`ack` does it only as the next ones arrive, so
        an idle relay would keep the last ones) and claims made before `claimed_before`.
        Returns how many rows went."""
        with self.store.transaction() as conn:
            gone = self._drop_acked(conn, acked_before)
            return gone + changed(conn, "DELETE FROM claims WHERE at_ts < ?", (claimed_before,))

    def unsent_by_topic(self) -> dict[str, int]:
        """Outbox rows the broker has not acknowledged yet, per topic (`bulutpop relay
        status`)."""
        rows = self.store.read(
            "SELECT topic, count(*) FROM outbox WHERE acked_ts IS NULL GROUP BY topic"
        )
        return {str(r[0]): int(r[1]) for r in rows}

    @staticmethod
    def queued_since_in(conn: sqlite3.Connection, after: int) -> tuple[int, dict[str, int]]:
        """The outbox rows after `after` (seq), per topic, and the last seq: what the
        router has just queued, in its transaction."""
        rows = conn.execute(
            "SELECT topic, count(*), max(seq) FROM outbox WHERE seq > ? GROUP BY topic", (after,)
        ).fetchall()
        last = max((int(r[2]) for r in rows), default=after)
        return last, {str(r[0]): int(r[1]) for r in rows}

    def last_seq(self) -> int:
        rows = self.store.read("SELECT max(seq) FROM outbox")
        return int(rows[0][0] or 0) if rows else 0

    def outbox_empty(self) -> bool:
        return not self.store.read("SELECT 1 FROM outbox WHERE acked_ts IS NULL LIMIT 1")

    # -- shared missed calls and claims -------------------------------------------------------

    @staticmethod
    def missed_queues_in(
        conn: sqlite3.Connection, party_key: str, resolved_by: str | None = None
    ) -> set[str]:
        """The queues of a caller's open missed calls (and, with `resolved_by`, of those
        that call has just resolved)."""
        sql = "SELECT DISTINCT queue FROM calls WHERE party_key = ? AND missed = 1 AND queue <> ''"
        if resolved_by is None:
            rows = conn.execute(sql + " AND resolved_ts IS NULL", (party_key,)).fetchall()
        else:
            rows = conn.execute(
                sql + " AND (resolved_ts IS NULL OR resolved_call = ?)", (party_key, resolved_by)
            ).fetchall()
        return {str(row[0]) for row in rows}

    @staticmethod
    def claim_held_in(conn: sqlite3.Connection, party_key: str, since: float) -> ClaimRow | None:
        row = conn.execute(
            "SELECT party_key, agent, display, at_ts FROM claims WHERE party_key = ? AND at_ts > ?",
            (party_key, since),
        ).fetchone()
        return ClaimRow(*row) if row is not None else None

    @staticmethod
    def put_claim_in(conn: sqlite3.Connection, claim: ClaimRow) -> None:
        """Record a claim; an older one never replaces a newer (messages may cross)."""
        conn.execute(
            "INSERT INTO claims (party_key, agent, display, at_ts) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (party_key) DO UPDATE SET agent = excluded.agent,"
            " display = excluded.display, at_ts = excluded.at_ts"
            " WHERE excluded.at_ts >= claims.at_ts",
            (claim.party_key, claim.agent, claim.display, claim.at_ts),
        )

    def put_claim(self, claim: ClaimRow) -> None:
        with self.store.transaction() as conn:
            self.put_claim_in(conn, claim)

    def claims_since(self, since: float) -> list[ClaimRow]:
        rows = self.store.read(
            "SELECT party_key, agent, display, at_ts FROM claims WHERE at_ts > ?", (since,)
        )
        return [ClaimRow(*row) for row in rows]

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

import json
import sqlite3
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bulutpop.storage.store import COLLEAGUES_KEY, Contact, Store, changed

__all__ = ["COLLEAGUES_KEY", "TEAM_BOOK", "AgentRow", "ClaimRow", "TeamTables"]

_AGENT_COLUMNS = "name, extension, queues, display, secret_hash"
_REMOVED_KEY = "team.removed"  # meta: agent name -> hashes of its removed credentials
_REMOVED_KEPT = 5


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

    @staticmethod
    def agents_fingerprint_in(conn: sqlite3.Connection) -> tuple[object, ...]:
        """Changes when the agents may have: another process committed (`relay agent`
        commands: SQLite's data_version), or this one added or removed one (their count,
        last rowid and the length of what they hold; `Agents.on_change` tells the rest).
        Cheap: no row is read out."""
        version = conn.execute("PRAGMA data_version").fetchone()[0]
        shape = conn.execute(
            "SELECT count(*), max(rowid), total(length(name) + length(extension)"
            " + length(queues) + length(display) + length(secret_hash)) FROM agents"
        ).fetchone()
        return (version, *shape)

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
        """Remove an agent; the hash of its credential is kept (`removed_hashes`), so its
        PC can be told it was removed rather than that its credential is wrong."""
        with self.store.transaction() as conn:
            row = conn.execute("SELECT secret_hash FROM agents WHERE name = ?", (name,)).fetchone()
            if row is None:
                return False
            conn.execute("DELETE FROM agents WHERE name = ?", (name,))
            removed = self._removed_in(conn)
            removed[name] = [*removed.get(name, [])[-(_REMOVED_KEPT - 1) :], str(row[0])]
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (_REMOVED_KEY, json.dumps(removed)),
            )
            return True

    @staticmethod
    def _removed_in(conn: sqlite3.Connection) -> dict[str, list[str]]:
        row = conn.execute("SELECT value FROM meta WHERE key = ?", (_REMOVED_KEY,)).fetchone()
        data = json.loads(row[0]) if row is not None else {}
        return {str(k): [str(h) for h in v] for k, v in data.items()}

    def removed_hashes(self, name: str) -> list[str]:
        """The credential hashes of removed agents of that name (the last few)."""
        rows = self.store.read("SELECT value FROM meta WHERE key = ?", (_REMOVED_KEY,))
        data = json.loads(rows[0][0]) if rows else {}
        return [str(h) for h in data.get(name, [])]

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

    # -- shared "done" marks ------------------------------------------------------------------

    @staticmethod
    def done_in(conn: sqlite3.Connection, party_key: str, at: float) -> int:
        """Apply a team member's "done" on a caller, once: the same mark arriving again (the
        sender's own, a redelivery, a PC's history on join) changes nothing."""
        seen = conn.execute(
            "SELECT 1 FROM dismissals WHERE party_key = ? AND at_ts = ?", (party_key, at)
        ).fetchone()
        return 0 if seen is not None else Store.dismiss(conn, party_key, at)

    @staticmethod
    def undone_in(conn: sqlite3.Connection, party_key: str, at: float) -> int:
        return Store.undismiss(conn, party_key, at)

    def apply_done(self, party_key: str, at: float, undo: bool) -> int:
        with self.store.transaction() as conn:
            if undo:
                return self.undone_in(conn, party_key, at)
            return self.done_in(conn, party_key, at)

    @staticmethod
    def done_queues_in(conn: sqlite3.Connection, party_key: str, at: float) -> set[str]:
        """The queues of the missed calls a "done" at `at` resolved (what an undo reopens)."""
        rows = conn.execute(
            "SELECT DISTINCT queue FROM calls WHERE party_key = ? AND missed = 1 AND queue <> ''"
            " AND resolved_by = 'user' AND resolved_ts = ?",
            (party_key, at),
        ).fetchall()
        return {str(row[0]) for row in rows}

    # -- what a joining PC is sent (the relay) ------------------------------------------------

    @staticmethod
    def calls_since_in(conn: sqlite3.Connection, since: float) -> list[sqlite3.Row]:
        """Calls that started since `since`, with what tells whose they are."""
        cursor = conn.execute(
            "SELECT call_uuid, direction, caller, destination, dialed_users, connected_user,"
            " queue, party_key, missed, resolved_call FROM calls WHERE start_ts >= ?"
            " ORDER BY start_ts",
            (since,),
        )
        cursor.row_factory = sqlite3.Row
        return cursor.fetchall()

    @staticmethod
    def events_of_in(conn: sqlite3.Connection, call_uuids: Sequence[str]) -> list[str]:
        """The stored events (their fields as JSON) of these calls, in the order received."""
        found: list[str] = []
        for start in range(0, len(call_uuids), 500):
            chunk = list(call_uuids[start : start + 500])
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT fields FROM events WHERE call_uuid IN ({marks}) ORDER BY id", chunk
            ).fetchall()
            found += [str(row[0]) for row in rows]
        return found

    @staticmethod
    def dismissals_in(
        conn: sqlite3.Connection, party_keys: Iterable[str], since: float
    ) -> list[tuple[str, float]]:
        keys = sorted(set(party_keys))
        found: list[tuple[str, float]] = []
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = conn.execute(
                f"SELECT party_key, at_ts FROM dismissals WHERE party_key IN ({marks})"
                " AND at_ts >= ? ORDER BY at_ts",
                (*chunk, since),
            ).fetchall()
            found += [(str(r[0]), float(r[1])) for r in rows]
        return found

    # -- the office's names (relay -> agents' PCs) --------------------------------------------

    def book(self) -> list[Contact]:
        """Every contact of every address book on the relay, the one whose name wins for a
        number first (the PBX's phonebook, then the earliest import: `Store.names_for`)."""
        rows = self.store.read(
            "SELECT c.id, c.name, c.company, n.label, n.number FROM contacts c"
            " JOIN contact_numbers n ON n.contact_id = c.id"
            " ORDER BY c.source = 'pbx' DESC, c.id, n.number_key"
        )
        contacts: dict[int, Contact] = {}
        for contact_id, name, company, label, number in rows:
            known = contacts.get(contact_id)
            numbers = (*known.numbers, (label, number)) if known else ((label, number),)
            contacts[contact_id] = Contact(str(contact_id), name, company, numbers)
        return list(contacts.values())

    def put_book(self, contacts: Sequence[Contact], stamp: float) -> None:
        """Make `contacts` the whole of the team's address book on this PC (one transaction:
        a name is never missing meanwhile)."""
        with self.store.transaction() as conn:
            Store.put_contacts(conn, TEAM_BOOK, "", contacts, stamp)
            while Store.drop_contacts(conn, TEAM_BOOK, "", stamp, 1000):
                pass


TEAM_BOOK = "team"  # the source of the relay's address books on an agent's PC

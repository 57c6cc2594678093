"""The durable store: one SQLite file (WAL) holding every event as received and the calls
derived from them.

Raw events are the source of truth; the `calls` table is a projection the tracker keeps
up to date in the same transaction, so a crash can never leave one without the other.
One thread writes (the store's writer thread, enforced by `Store.transaction`); reads may
come from any thread, each on its own connection.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import sqlite3
import string
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import unquote_to_bytes

from bulutpop.calls.events import CallEvent
from bulutpop.calls.model import Call, MissedGroup
from bulutpop.calls.phone import canonical_key, display
from bulutpop.calls.text import fold
from bulutpop.errors import NumberError, StorageError
from bulutpop.local.private import open_private, private_dir

log = logging.getLogger(__name__)
T = TypeVar("T")

COLLEAGUES_KEY = "team.colleagues"  # meta: extension -> display name, sent by the relay

# Each entry moves the schema one version up; never edit a released one, append.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        received_ts REAL NOT NULL,
        source TEXT NOT NULL,
        dedup_key TEXT NOT NULL UNIQUE,
        call_uuid TEXT NOT NULL,
        event_type TEXT NOT NULL,
        fields TEXT NOT NULL,
        raw BLOB
    );
    CREATE INDEX events_by_call ON events (call_uuid, id);

    CREATE TABLE rejected (
        id INTEGER PRIMARY KEY,
        received_ts REAL NOT NULL,
        source TEXT NOT NULL,
        reason TEXT NOT NULL,
        content_type TEXT NOT NULL DEFAULT '',
        raw BLOB NOT NULL
    );

    CREATE TABLE calls (
        call_uuid TEXT PRIMARY KEY,
        direction TEXT NOT NULL,
        caller TEXT NOT NULL,
        destination TEXT NOT NULL,
        dialed_users TEXT NOT NULL,
        connected_user TEXT NOT NULL,
        queue TEXT NOT NULL,
        start_ts REAL,
        answer_ts REAL,
        end_ts REAL,
        duration INTEGER,
        answered INTEGER,
        ended INTEGER NOT NULL,
        recording INTEGER NOT NULL,
        hangup_cause TEXT NOT NULL,
        party TEXT NOT NULL,
        party_key TEXT NOT NULL,
        missed INTEGER NOT NULL,
        source TEXT NOT NULL,
        name TEXT NOT NULL DEFAULT '',
        resolved_ts REAL,
        resolved_by TEXT NOT NULL DEFAULT '',
        resolved_call TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX calls_by_start ON calls (start_ts DESC);
    CREATE INDEX calls_by_party ON calls (party_key, start_ts);
    CREATE INDEX calls_open_missed ON calls (party_key, start_ts)
        WHERE missed = 1 AND resolved_ts IS NULL;
    CREATE INDEX calls_answered_by_party ON calls (party_key, start_ts) WHERE answered = 1;

    -- "Mark done" for a caller: missed calls from them that started earlier are resolved,
    -- including ones that only arrive later (out of order, or recovered from history).
    CREATE TABLE dismissals (
        party_key TEXT NOT NULL,
        at_ts REAL NOT NULL
    );
    CREATE INDEX dismissals_by_party ON dismissals (party_key, at_ts);

    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    """,
    """
    -- Names for numbers: address books (the PBX's phonebook, files the user imported), one
    -- row per contact, and each of its numbers under its canonical key.
    CREATE TABLE contacts (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        origin TEXT NOT NULL,
        external_id TEXT NOT NULL,
        name TEXT NOT NULL,
        company TEXT NOT NULL DEFAULT '',
        updated_ts REAL NOT NULL,
        UNIQUE (source, origin, external_id)
    );
    CREATE TABLE contact_numbers (
        contact_id INTEGER NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
        number_key TEXT NOT NULL,
        number TEXT NOT NULL,
        label TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (contact_id, number_key)
    );
    CREATE INDEX contact_numbers_by_key ON contact_numbers (number_key);

    -- The name the user typed for a number; it wins over every address book.
    CREATE TABLE local_names (
        number_key TEXT PRIMARY KEY,
        name TEXT NOT NULL,
        updated_ts REAL NOT NULL
    );
    """,
    """
    -- The missed-call list (open callers, and resolved episodes with "Show resolved") reads
    -- this index alone, never the calls table: every missed call, with each column the
    -- list shows, in the order it groups them.
    CREATE INDEX calls_missed_list ON calls
        (party_key, resolved_ts, start_ts, party, call_uuid, queue, name, resolved_by, missed)
        WHERE missed = 1;

    -- History search. 3 or more characters: a trigram index over the number as sent, its
    -- canonical key and the name, kept in step with `calls` by the triggers below. It holds
    -- lower() of each (ASCII only) and matches case-sensitively, so it finds exactly what
    -- LIKE does: the trigram tokenizer's own folding is Unicode-wide ("şul" would find
    -- "Şule"). Contentless: `calls` has the text, the index only needs rowids.
    CREATE VIRTUAL TABLE calls_search USING fts5(
        party, name, party_key, content='', tokenize='trigram case_sensitive 1'
    );
    INSERT INTO calls_search (rowid, party, name, party_key)
        SELECT rowid, lower(party), lower(name), lower(party_key) FROM calls;
    CREATE TRIGGER calls_search_insert AFTER INSERT ON calls BEGIN
        INSERT INTO calls_search (rowid, party, name, party_key)
        VALUES (new.rowid, lower(new.party), lower(new.name), lower(new.party_key));
    END;
    -- A contentless index forgets a row only when told the values it indexed.
    CREATE TRIGGER calls_search_delete AFTER DELETE ON calls BEGIN
        INSERT INTO calls_search (calls_search, rowid, party, name, party_key)
        VALUES ('delete', old.rowid, lower(old.party), lower(old.name), lower(old.party_key));
    END;
    CREATE TRIGGER calls_search_update AFTER UPDATE OF party, name, party_key ON calls
    WHEN old.party IS NOT new.party OR old.name IS NOT new.name
        OR old.party_key IS NOT new.party_key
    BEGIN
        INSERT INTO calls_search (calls_search, rowid, party, name, party_key)
        VALUES ('delete', old.rowid, lower(old.party), lower(old.name), lower(old.party_key));
        INSERT INTO calls_search (rowid, party, name, party_key)
        VALUES (new.rowid, lower(new.party), lower(new.name), lower(new.party_key));
    END;
    -- 1 or 2 characters match most calls: counting them scans this, a third of the table.
    CREATE INDEX calls_search_columns ON calls (party, party_key, name);
    """,
    """
    -- Team mode. On the relay: the agents it serves, and the outbox of messages for the
    -- broker, written in the same transaction as the event they carry, deleted some seconds
    -- after the broker acknowledged them.
    CREATE TABLE agents (
        name TEXT PRIMARY KEY,
        extension TEXT NOT NULL,
        queues TEXT NOT NULL DEFAULT '',
        display TEXT NOT NULL DEFAULT '',
        secret_hash TEXT NOT NULL,
        created_ts REAL NOT NULL
    );
    CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        topic TEXT NOT NULL,
        payload BLOB NOT NULL,
        acked_ts REAL
    );
    CREATE INDEX outbox_unacked ON outbox (seq) WHERE acked_ts IS NULL;
    -- On the relay and on agents' PCs: who said "I'm calling back" to a shared missed caller.
    CREATE TABLE claims (
        party_key TEXT PRIMARY KEY,
        agent TEXT NOT NULL,
        display TEXT NOT NULL,
        at_ts REAL NOT NULL
    );
    """,
    """
    -- Call legs (fold.py). Whether the user placed the call (a callback resolves their
    -- missed calls as "callback"), the extensions still ringing, and for a call whose
    -- outcome is not final yet, when the tracker settles it if nothing more is heard.
    ALTER TABLE calls ADD COLUMN placed INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE calls ADD COLUMN ringing TEXT NOT NULL DEFAULT '';
    ALTER TABLE calls ADD COLUMN pending_until REAL;
    CREATE INDEX calls_pending ON calls (pending_until) WHERE pending_until IS NOT NULL;
    -- Calls stored before were folded without legs: the tracker derives them again.
    INSERT OR REPLACE INTO meta (key, value)
        SELECT 'refold', '1' WHERE EXISTS (SELECT 1 FROM calls);
    """,
    """
    -- Retention (KVKK): what is older than the kept period is purged oldest first, in
    -- small batches; these find it without scanning.
    CREATE INDEX events_by_received ON events (received_ts);
    CREATE INDEX rejected_by_received ON rejected (received_ts);
    -- Who played or saved which call's recording, and when (`bulutpop audit`). The number
    -- is kept with it, so the audit outlives neither the call's retention nor an erasure.
    CREATE TABLE accesses (
        id INTEGER PRIMARY KEY,
        at_ts REAL NOT NULL,
        who TEXT NOT NULL,
        action TEXT NOT NULL,
        call_uuid TEXT NOT NULL,
        party TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX accesses_by_time ON accesses (at_ts);
    CREATE INDEX accesses_by_call ON accesses (call_uuid);
    """,
    """
    -- Turkish-aware search (calls/text.py `fold`): "AYŞE", "ayse" and "Ayşe" find each
    -- other, "istanbul" finds "İstanbul". The name is searched folded, kept beside it (put_call
    -- writes both); numbers are searched as before (ASCII lower case).
    ALTER TABLE calls ADD COLUMN name_folded TEXT NOT NULL DEFAULT '';
    UPDATE calls SET name_folded = bulutpop_fold(name) WHERE name <> '';
    DROP TRIGGER calls_search_insert;
    DROP TRIGGER calls_search_delete;
    DROP TRIGGER calls_search_update;
    DROP TABLE calls_search;
    CREATE VIRTUAL TABLE calls_search USING fts5(
        party, name, party_key, content='', tokenize='trigram case_sensitive 1'
    );
    INSERT INTO calls_search (rowid, party, name, party_key)
        SELECT rowid, lower(party), name_folded, lower(party_key) FROM calls;
    CREATE TRIGGER calls_search_insert AFTER INSERT ON calls BEGIN
        INSERT INTO calls_search (rowid, party, name, party_key)
        VALUES (new.rowid, lower(new.party), new.name_folded, lower(new.party_key));
    END;
    CREATE TRIGGER calls_search_delete AFTER DELETE ON calls BEGIN
        INSERT INTO calls_search (calls_search, rowid, party, name, party_key)
        VALUES ('delete', old.rowid, lower(old.party), old.name_folded, lower(old.party_key));
    END;
    CREATE TRIGGER calls_search_update AFTER UPDATE OF party, name_folded, party_key ON calls
    WHEN old.party IS NOT new.party OR old.name_folded IS NOT new.name_folded
        OR old.party_key IS NOT new.party_key
    BEGIN
        INSERT INTO calls_search (calls_search, rowid, party, name, party_key)
        VALUES ('delete', old.rowid, lower(old.party), old.name_folded, lower(old.party_key));
        INSERT INTO calls_search (rowid, party, name, party_key)
        VALUES (new.rowid, lower(new.party), new.name_folded, lower(new.party_key));
    END;
    DROP INDEX calls_search_columns;
    CREATE INDEX calls_search_columns ON calls (party, party_key, name_folded);
    """,
    """
    -- A short note per caller ("wants the invoice resent"), shown on their next popup and
    -- in the lists; in a team, shared: the latest write wins (`at_ts`), by whoever wrote it.
    CREATE TABLE notes (
        number_key TEXT PRIMARY KEY,
        text TEXT NOT NULL,
        author TEXT NOT NULL DEFAULT '',
        at_ts REAL NOT NULL
    );
    CREATE INDEX notes_by_time ON notes (at_ts);
    """,
)

# A note is a line or two, not a file: longer text is cut (the popup shows one line).
NOTE_LIMIT = 500


def clean_note(text: str) -> str:
    """A note as stored: one line, spaces collapsed, at most NOTE_LIMIT characters."""
    return " ".join(text.split())[:NOTE_LIMIT]


SCHEMA_VERSION = len(MIGRATIONS)

_CALL_COLUMNS = (
    "call_uuid, direction, caller, destination, dialed_users, connected_user, queue, start_ts,"
    " answer_ts, end_ts, duration, answered, ended, recording, hangup_cause, party, party_key,"
    " missed, placed, pending_until IS NOT NULL AS pending, ringing, source, name,"
    " resolved_ts, resolved_by"
)


# Up to this many index matches, a page reads them by rowid; past it, it walks the calls
# newest first and keeps the matching ones (a page fills long before the end).
_FEW_MATCHES = 2000
_MATCHING = "SELECT rowid FROM calls_search WHERE calls_search MATCH ?"


CHECKPOINT_SECONDS = 1.0

# Free pages handed back to the file system per step of the retention (1 MiB of 4 KiB
# pages): each step is one short write on the writer thread (~10 ms; 4 MiB took ~20-30).
RECLAIM_PAGES = 256


def changed(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> int:
    """Run a write and return how many rows it changed.

    Not `cursor.rowcount`: Python < 3.12 finds a statement's kind by lowering its first word
    with the C library's locale, and under Turkish rules "INSERT" does not lower to
    "insert", so rowcount is -1 for every INSERT on a PC set to Turkish."""
    conn.execute(sql, params)
    return int(conn.execute("SELECT changes()").fetchone()[0])


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=10)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a committed event survives the process being killed; only a power
    # loss can take the last commits, and fsync per event would cost every webhook ~ms.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.create_function("bulutpop_mentions", 2, _mentions, deterministic=True)
    conn.create_function("bulutpop_fold", 1, _fold, deterministic=True)
    return conn


def require_search(conn: sqlite3.Connection, path: Path, tokenizer: str = "trigram") -> None:
    """The history search needs SQLite's FTS5 with its trigram tokenizer (SQLite 3.34 or
    newer, built with FTS5): say so at start, not at the first search or migration."""
    try:
        conn.execute(
            f"CREATE VIRTUAL TABLE temp.search_probe USING fts5(x, tokenize='{tokenizer}')"
        )
        conn.execute("DROP TABLE temp.search_probe")
    except sqlite3.OperationalError as exc:
        raise StorageError(
            str(path), "unsupported", f"SQLite {sqlite3.sqlite_version}: {exc}"
        ) from None


class Store:
    """The store. One thread writes: the store's own writer thread, the only one on which
    `transaction()` opens; everyone else hands it their write (`write` from the event loop,
    `run` from code without one), so writes never interleave and the loop never waits for
    a commit. Readers use a connection of their own per thread (`read`): a query of the UI
    never queues behind a slow query of a worker thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="bulutpop-store", initializer=self._mark_writer
        )
        self._writer_ident: int | None = None
        self._readers: list[tuple[sqlite3.Connection, threading.Lock]] = []
        self._readers_lock = threading.Lock()
        self._local = threading.local()
        self._closed = False
        self._written = threading.Event()  # a commit since the last checkpoint
        try:
            private_dir(path.parent)
            # Made 0600 before SQLite opens it: its -wal and -shm take the same mode.
            os.close(open_private(path, os.O_WRONLY))
            self._write = _connect(path)
            # Deleted rows are overwritten with zeros, not left in free pages: an erased
            # number must not be readable from the file (KVKK).
            self._write.execute("PRAGMA secure_delete=ON")
            require_search(self._write, path)
            self.run(self._migrate)
        except sqlite3.DatabaseError as exc:
            self._writer.shutdown()
            raise StorageError(str(path), "damaged", str(exc)) from None
        except OSError as exc:
            self._writer.shutdown()
            raise StorageError(str(path), "unwritable", exc.strerror or str(exc)) from None
        # Checkpoints copy the WAL into the database and fsync it: done by the commit that
        # crosses the threshold, they stalled that commit (and the 200 of every event
        # waiting on it) for up to ~200 ms. A thread of their own does them instead, in
        # PASSIVE mode, which never blocks the writer or readers.
        self._write.execute("PRAGMA wal_autocheckpoint=0")
        self._stopping = threading.Event()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="bulutpop-checkpoint", daemon=True
        )
        self._checkpointer.start()

    def _mark_writer(self) -> None:
        self._writer_ident = threading.get_ident()

    def _checkpoint_loop(self) -> None:
        conn = _connect(self.path)
        try:
            # After writes only, at most every CHECKPOINT_SECONDS: an idle app sleeps.
            while self._written.wait() and not self._stopping.wait(CHECKPOINT_SECONDS):
                self._written.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                except sqlite3.Error as exc:  # e.g. the disk is full: the WAL keeps the data
                    log.warning("store checkpoint failed: %s", exc)
        finally:
            conn.close()

    def close(self) -> None:
        self._stopping.set()
        self._written.set()  # wakes the checkpointer to stop
        self._checkpointer.join()
        self._writer.shutdown(wait=True)  # what was handed to the writer is committed
        # A window may still be querying from a worker thread: closing a connection under a
        # running statement crashes SQLite, so wait for it (later queries raise instead).
        with self._readers_lock:
            self._closed = True
            for conn, lock in self._readers:
                with lock:
                    conn.close()
        # The last checkpoint, so the database file is whole without its WAL.
        with suppress(sqlite3.Error):
            self._write.execute("PRAGMA wal_checkpoint(PASSIVE)")
        self._write.close()

    def _migrate(self) -> None:
        (version,) = self._write.execute("PRAGMA user_version").fetchone()
        if version > SCHEMA_VERSION:
            raise StorageError(str(self.path), "newer", f"schema {version}")
        # The retention's purges give space back to the file system page by page
        # (`reclaim`). Only VACUUM changes the mode once the file exists (WAL mode wrote
        # its header): instant for a new store, once for an older one.
        if self._write.execute("PRAGMA auto_vacuum").fetchone()[0] != 2:
            self._write.execute("PRAGMA auto_vacuum=INCREMENTAL")
            if version > 0:
                log.info("compacting the store once, so that it can shrink later")
            self._write.execute("VACUUM")
        for number in range(version, SCHEMA_VERSION):
            with self.transaction() as conn:
                _run_migration(conn, MIGRATIONS[number], number + 1)

    # -- the writer -------------------------------------------------------------------------

    @property
    def on_writer(self) -> bool:
        return threading.get_ident() == self._writer_ident

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One committed write transaction on the writer connection; on the writer thread
        only (`write`, `run`, `submit` get there)."""
        if not self.on_writer:
            raise RuntimeError("the store is written on its writer thread: use write or run")
        conn = self._write
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        self._written.set()

    async def write(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` on the writer thread; the loop goes on meanwhile."""
        return await asyncio.get_running_loop().run_in_executor(self._writer, fn, *args)

    def run(self, fn: Callable[..., T], *args: object) -> T:
        """Run `fn(*args)` on the writer thread and wait for it (code without a loop: the
        command line, start-up); on the writer thread itself, just call it."""
        if self.on_writer:
            return fn(*args)
        return self._writer.submit(fn, *args).result()

    def submit(self, fn: Callable[..., object], *args: object) -> None:
        """Queue `fn(*args)` for the writer thread without waiting (the tracker's group
        commit answers its callers itself)."""
        self._writer.submit(fn, *args)

    # -- reading ----------------------------------------------------------------------------

    def _reader(self) -> tuple[sqlite3.Connection, threading.Lock]:
        reader: tuple[sqlite3.Connection, threading.Lock] | None = getattr(
            self._local, "reader", None
        )
        if reader is None:
            with self._readers_lock:
                if self._closed:
                    raise sqlite3.ProgrammingError("the store is closed")
                reader = (_connect(self.path), threading.Lock())
                self._readers.append(reader)
            self._local.reader = reader
        return reader

    def read(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        """A query on this thread's read connection (any thread; never waits for the
        writer, nor for another thread's query)."""
        conn, lock = self._reader()
        with lock:  # held only against `close`
            cursor = conn.execute(sql, params)
            cursor.row_factory = sqlite3.Row
            return cursor.fetchall()

    # -- writes (inside `transaction()`) ------------------------------------------------

    @staticmethod
    def add_event(
        conn: sqlite3.Connection, event: CallEvent, raw: bytes | None, source: str
    ) -> int | None:
        """Store an event; its id, None when the same event was stored before."""
        # RETURNING says whether it was inserted without a second statement (`changed`).
        row = conn.execute(
            "INSERT OR IGNORE INTO events"
            " (received_ts, source, dedup_key, call_uuid, event_type, fields, raw)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                time.time(),
                source,
                event.dedup_key(),
                event.call_uuid,
                event.event_type,
                event.to_json(),
                raw,
            ),
        ).fetchone()
        return None if row is None else int(row[0])

    @staticmethod
    def call_events(
        conn: sqlite3.Connection, call_uuid: str, fresh: tuple[int, CallEvent] | None = None
    ) -> CallEvents:
        """What the tracker folds a call from, in one read: its events, and what the row
        stored for it says before the fold replaces it. `fresh`: an event of the call
        just stored, with its id (it is not decoded again)."""
        fresh_id, fresh_event = fresh or (None, None)
        rows = conn.execute(
            "SELECT e.id, e.fields, e.received_ts, e.source, c.missed FROM events e"
            " LEFT JOIN calls c ON c.call_uuid = e.call_uuid"
            " WHERE e.call_uuid = ? ORDER BY e.id",
            (call_uuid,),
        ).fetchall()
        return CallEvents(
            events=[
                fresh_event
                if fresh_event is not None and r[0] == fresh_id
                else CallEvent.from_json(r[1])
                for r in rows
            ],
            last_received=max((r[2] for r in rows), default=0.0),
            first_source=str(rows[0][3]) if rows else "webhook",
            was_missed=bool(rows and rows[0][4]),
        )

    @staticmethod
    def call_in(conn: sqlite3.Connection, call_uuid: str) -> Call | None:
        """A call as the writer sees it, inside its transaction."""
        cursor = conn.execute(
            f"SELECT {_CALL_COLUMNS} FROM calls WHERE call_uuid = ?", (call_uuid,)
        )
        cursor.row_factory = sqlite3.Row
        row = cursor.fetchone()
        return _call(row) if row else None

    @staticmethod
    def put_call(conn: sqlite3.Connection, call: Call, pending_until: float | None = None) -> Call:
        """Insert or refresh a call's derived columns, keeping its resolution, and its name
        unless the events now carry one (the PBX's history does). Returns the call as
        stored: the columns the row keeps come back from the same statement."""
        stored = conn.execute(
            "INSERT INTO calls (call_uuid, direction, caller, destination, dialed_users,"
            " connected_user, queue, start_ts, answer_ts, end_ts, duration, answered, ended,"
            " recording, hangup_cause, party, party_key, missed, placed, pending_until,"
            " ringing, source, name, name_folded)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (call_uuid) DO UPDATE SET direction = excluded.direction,"
            " caller = excluded.caller, destination = excluded.destination,"
            " dialed_users = excluded.dialed_users, connected_user = excluded.connected_user,"
            " queue = excluded.queue, start_ts = excluded.start_ts,"
            " answer_ts = excluded.answer_ts, end_ts = excluded.end_ts,"
            " duration = excluded.duration, answered = excluded.answered,"
            " ended = excluded.ended, recording = excluded.recording,"
            " hangup_cause = excluded.hangup_cause, party = excluded.party,"
            " party_key = excluded.party_key, missed = excluded.missed,"
            " placed = excluded.placed, pending_until = excluded.pending_until,"
            " ringing = excluded.ringing,"
            " name = CASE WHEN excluded.name <> '' THEN excluded.name ELSE calls.name END,"
            " name_folded = CASE WHEN excluded.name <> '' THEN excluded.name_folded"
            " ELSE calls.name_folded END"
            " RETURNING name, source, resolved_ts, resolved_by",
            (
                call.call_uuid,
                call.direction,
                call.caller,
                call.destination,
                json.dumps(list(call.dialed_users)),
                call.connected_user,
                call.queue,
                call.start_ts,
                call.answer_ts,
                call.end_ts,
                call.duration,
                None if call.answered is None else int(call.answered),
                int(call.ended),
                int(call.recording),
                call.hangup_cause,
                call.party,
                call.party_key,
                int(call.missed),
                int(call.placed),
                pending_until,
                " ".join(call.ringing),
                call.source,
                call.name,
                fold(call.name),
            ),
        ).fetchone()
        if tuple(stored) == (call.name, call.source, call.resolved_ts, call.resolved_by):
            return call
        return replace(
            call, name=stored[0], source=stored[1], resolved_ts=stored[2], resolved_by=stored[3]
        )

    @staticmethod
    def resolve_earlier_missed(
        conn: sqlite3.Connection, party_key: str, before_ts: float, by: str, call_uuid: str
    ) -> int:
        """Resolve open missed calls from `party_key` that started before an answered call."""
        return changed(
            conn,
            "UPDATE calls SET resolved_ts = ?, resolved_by = ?, resolved_call = ?"
            " WHERE missed = 1 AND resolved_ts IS NULL AND party_key = ? AND start_ts < ?",
            (before_ts, by, call_uuid, party_key, before_ts),
        )

    @staticmethod
    def resolve_if_later_answered(conn: sqlite3.Connection, call: Call) -> bool:
        """A missed call that arrives after its caller was already served is born resolved."""
        if call.start_ts is None:
            return False
        answered = conn.execute(
            "SELECT start_ts, call_uuid, placed FROM calls WHERE party_key = ?"
            " AND answered = 1 AND start_ts > ? ORDER BY start_ts LIMIT 1",
            (call.party_key, call.start_ts),
        ).fetchone()
        dismissed = conn.execute(
            "SELECT MIN(at_ts) FROM dismissals WHERE party_key = ? AND at_ts > ?",
            (call.party_key, call.start_ts),
        ).fetchone()[0]
        candidates: list[tuple[float, str, str]] = []
        if answered:
            by = "callback" if answered[2] else "answered"
            candidates.append((answered[0], by, answered[1]))
        if dismissed is not None:
            candidates.append((dismissed, "user", ""))
        if not candidates:
            return False
        at, by, resolver = min(candidates)
        conn.execute(
            "UPDATE calls SET resolved_ts = ?, resolved_by = ?, resolved_call = ?"
            " WHERE call_uuid = ? AND resolved_ts IS NULL",
            (at, by, resolver, call.call_uuid),
        )
        return True

    @staticmethod
    def dismiss(conn: sqlite3.Connection, party_key: str, at_ts: float) -> int:
        conn.execute("INSERT INTO dismissals (party_key, at_ts) VALUES (?, ?)", (party_key, at_ts))
        return changed(
            conn,
            "UPDATE calls SET resolved_ts = ?, resolved_by = 'user', resolved_call = ''"
            " WHERE missed = 1 AND resolved_ts IS NULL AND party_key = ? AND start_ts <= ?",
            (at_ts, party_key, at_ts),
        )

    @staticmethod
    def undismiss(conn: sqlite3.Connection, party_key: str, at_ts: float) -> int:
        conn.execute("DELETE FROM dismissals WHERE party_key = ? AND at_ts = ?", (party_key, at_ts))
        return changed(
            conn,
            "UPDATE calls SET resolved_ts = NULL, resolved_by = '', resolved_call = ''"
            " WHERE missed = 1 AND resolved_by = 'user' AND party_key = ? AND resolved_ts = ?",
            (party_key, at_ts),
        )

    @staticmethod
    def _remove_calls(conn: sqlite3.Connection, call_uuids: Sequence[str]) -> int:
        """Delete calls and their events; returns how many rows went."""
        removed = 0
        for start in range(0, len(call_uuids), _IN_CHUNK):
            chunk = list(call_uuids[start : start + _IN_CHUNK])
            marks = ",".join("?" * len(chunk))
            removed += changed(conn, f"DELETE FROM events WHERE call_uuid IN ({marks})", chunk)
            removed += changed(conn, f"DELETE FROM calls WHERE call_uuid IN ({marks})", chunk)
        return removed

    def add_rejected(self, raw: bytes, reason: str, content_type: str, source: str) -> None:
        """Keep a body that could not be used (on the writer thread: see `run`)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO rejected (received_ts, source, reason, content_type, raw)"
                " VALUES (?, ?, ?, ?, ?)",
                (time.time(), source, reason, content_type, raw),
            )

    def set_meta(self, key: str, value: str) -> None:
        """(On the writer thread: see `run`.)"""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    # -- retention, erasure and the audit (KVKK) ---------------------------------------------

    def purge(self, before_ts: float, batch: int = 500) -> int:
        """Remove one small batch of what is older than `before_ts`: calls (by their start)
        with their events, stray events, rejected bodies, dismissals, claims, the audit and
        notes not written since.
        Returns how many rows went; 0 when nothing older is left. On the writer thread
        (`run`, `write`): each batch is one short transaction, so events wait little."""
        with self.transaction() as conn:
            uuids = [
                str(r[0])
                for r in conn.execute(
                    "SELECT call_uuid FROM calls WHERE start_ts < ? ORDER BY start_ts LIMIT ?",
                    (before_ts, batch),
                )
            ]
            removed = self._remove_calls(conn, uuids)
            # Events of no call kept (and calls that never got a start, once their events
            # are gone).
            removed += changed(
                conn,
                "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE received_ts < ?"
                " AND NOT EXISTS (SELECT 1 FROM calls WHERE calls.call_uuid = events.call_uuid"
                " AND calls.start_ts >= ?) ORDER BY received_ts LIMIT ?)",
                (before_ts, before_ts, batch),
            )
            removed += changed(
                conn,
                "DELETE FROM calls WHERE start_ts IS NULL AND NOT EXISTS"
                " (SELECT 1 FROM events WHERE events.call_uuid = calls.call_uuid)",
            )
            for table, column in (
                ("rejected", "received_ts"),
                ("dismissals", "at_ts"),
                ("claims", "at_ts"),
                ("accesses", "at_ts"),
                ("notes", "at_ts"),
            ):
                removed += changed(
                    conn,
                    f"DELETE FROM {table} WHERE rowid IN (SELECT rowid FROM {table}"
                    f" WHERE {column} < ? ORDER BY {column} LIMIT ?)",
                    (before_ts, batch),
                )
        return removed

    def reclaim(self, pages: int = RECLAIM_PAGES) -> int:
        """Give up to `pages` free pages back to the file system; returns how many free
        pages are left. On the writer thread."""
        # Run to its end: each step of the statement frees one page, and `execute` takes
        # only the first step of a statement without result columns.
        self._write.executescript(f"PRAGMA incremental_vacuum({int(pages)});")
        return int(self._write.execute("PRAGMA freelist_count").fetchone()[0])

    def scan_mentions(self, number_key: str) -> Scanned:
        """The calls of every event that mentions the number: the slow part of `forget`
        (a Python function per event), read on this thread's reader, so that the writer
        (and every event waiting for it) only waits for what arrives meanwhile."""
        needle = erasable_digits(number_key)
        since = time.time()
        last = int(self.read("SELECT IFNULL(MAX(id), 0) FROM events")[0][0])
        rows = self.read(
            "SELECT DISTINCT call_uuid FROM events WHERE id <= ?"
            " AND (bulutpop_mentions(raw, ?2) OR bulutpop_mentions(fields, ?2))",
            (last, needle),
        )
        return Scanned(last, since, tuple(str(r[0]) for r in rows))

    def forget(self, number_key: str, scanned: Scanned | None = None) -> Forgotten:
        """Erase everything the store holds about one number (a canonical key): its calls
        and every call an event of which mentions it, those calls' events, rejected bodies
        and relay messages that mention it, its names, address-book numbers, dismissals
        and claims; the audit keeps who played which call, without the number. Then the
        WAL is emptied, so no copy of the removed pages stays in it. On the writer thread
        (`forget_async` from the loop, which scans the events beforehand: `scanned`).
        Raises NumberError for an extension: its digits are in too many other numbers to
        be erased safely."""
        needle = erasable_digits(number_key)
        scanned = scanned or Scanned(0, -math.inf, ())
        gone = "SELECT call_uuid FROM temp.forgetting"
        with self.transaction() as conn:
            conn.execute("CREATE TEMP TABLE IF NOT EXISTS forgetting (call_uuid TEXT PRIMARY KEY)")
            conn.executemany(
                "INSERT OR IGNORE INTO temp.forgetting VALUES (?)",
                [(uuid,) for uuid in scanned.call_uuids],
            )
            # Calls whose columns hold the number have events that do (they are derived
            # from them); calls filed under its key may have written it otherwise.
            conn.execute(
                "INSERT OR IGNORE INTO temp.forgetting SELECT call_uuid FROM calls"
                " WHERE party_key = ?1 UNION SELECT call_uuid FROM events"
                " WHERE (id > ?2 OR received_ts >= ?3)"
                " AND (bulutpop_mentions(raw, ?4) OR bulutpop_mentions(fields, ?4))",
                (number_key, scanned.last_id, scanned.since, needle),
            )
            uuids = tuple(str(r[0]) for r in conn.execute(gone))
            groups = int(
                conn.execute(
                    "SELECT COUNT(DISTINCT IFNULL(resolved_ts, -1)) FROM calls"
                    f" WHERE missed = 1 AND call_uuid IN ({gone})"
                ).fetchone()[0]
            )
            conn.execute(
                "UPDATE accesses SET party = '' WHERE party <> ''"
                f" AND (call_uuid IN ({gone}) OR bulutpop_mentions(party, ?))",
                (needle,),
            )
            events = changed(conn, f"DELETE FROM events WHERE call_uuid IN ({gone})")
            calls = changed(conn, f"DELETE FROM calls WHERE call_uuid IN ({gone})")
            conn.execute("DELETE FROM temp.forgetting")
            events += changed(
                conn, "DELETE FROM rejected WHERE bulutpop_mentions(raw, ?)", (needle,)
            )
            events += changed(
                conn, "DELETE FROM outbox WHERE bulutpop_mentions(payload, ?)", (needle,)
            )
            names = changed(conn, "DELETE FROM local_names WHERE number_key = ?", (number_key,))
            names += changed(conn, "DELETE FROM notes WHERE number_key = ?", (number_key,))
            names += changed(
                conn, "DELETE FROM contact_numbers WHERE number_key = ?", (number_key,)
            )
            # A contact left without a number was this person's entry: its name goes too.
            names += changed(
                conn,
                "DELETE FROM contacts WHERE NOT EXISTS"
                " (SELECT 1 FROM contact_numbers WHERE contact_id = contacts.id)",
            )
            groups += changed(conn, "DELETE FROM dismissals WHERE party_key = ?", (number_key,))
            claims = changed(conn, "DELETE FROM claims WHERE party_key = ?", (number_key,))
        self._empty_wal()
        return Forgotten(calls, events, names, groups, claims, uuids)

    async def forget_async(self, number_key: str) -> Forgotten:
        scanned = await asyncio.to_thread(self.scan_mentions, number_key)
        return await self.write(self.forget, number_key, scanned)

    def _empty_wal(self) -> None:
        """Copy the WAL into the database and truncate it to nothing, so no earlier version
        of a page stays in it. Each try waits for readers (the busy timeout); a reader that
        never lets go (another program) is an error: the erasure is committed, but its
        old copy stays in the -wal file until that reader closes."""
        for _ in range(3):
            busy = self._write.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                return
        raise StorageError(
            str(self.path), "busy", "erased, but an old copy stays in its -wal file until it closes"
        )

    def record_access(
        self,
        call_uuid: str,
        action: Literal["play", "download"],
        who: str,
        at: float | None = None,
    ) -> None:
        """Add a recording's play or download to the audit, with the call's number as it
        is now. On the writer thread (`run`, `write`)."""
        with self.transaction() as conn:
            conn.execute(
                "INSERT INTO accesses (at_ts, who, action, call_uuid, party) VALUES (?, ?, ?, ?,"
                " IFNULL((SELECT party FROM calls WHERE call_uuid = ?), ''))",
                (time.time() if at is None else at, who, action, call_uuid, call_uuid),
            )

    def accesses(self, since: float | None = None) -> list[Access]:
        """The audit of recordings played and saved, oldest first."""
        rows = self.read(
            "SELECT at_ts, who, action, call_uuid, party FROM accesses WHERE at_ts >= ?"
            " ORDER BY at_ts, id",
            (-math.inf if since is None else since,),
        )
        return [Access(float(r[0]), str(r[1]), str(r[2]), str(r[3]), str(r[4])) for r in rows]

    # -- reads ----------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        rows = self.read("SELECT value FROM meta WHERE key = ?", (key,))
        return str(rows[0][0]) if rows else None

    def event_count(self, source: str | None = None) -> int:
        """Events stored (from one source: "webhook", "history", "team", "settle")."""
        if source is None:
            return int(self.read("SELECT COUNT(*) FROM events")[0][0])
        return int(self.read("SELECT COUNT(*) FROM events WHERE source = ?", (source,))[0][0])

    def raw_events(self, call_uuid: str | None = None) -> list[tuple[str, bytes | None]]:
        """(event_type, raw body) of stored events, oldest first."""
        if call_uuid is None:
            rows = self.read("SELECT event_type, raw FROM events ORDER BY id")
        else:
            rows = self.read(
                "SELECT event_type, raw FROM events WHERE call_uuid = ? ORDER BY id",
                (call_uuid,),
            )
        return [(str(r[0]), r[1]) for r in rows]

    def rejected(self) -> list[tuple[str, bytes]]:
        return [(str(r[0]), r[1]) for r in self.read("SELECT reason, raw FROM rejected")]

    def call(self, call_uuid: str) -> Call | None:
        rows = self.read(f"SELECT {_CALL_COLUMNS} FROM calls WHERE call_uuid = ?", (call_uuid,))
        return _call(rows[0]) if rows else None

    def calls(
        self,
        *,
        limit: int = 100,
        offset: int = 0,
        missed_only: bool = False,
        direction: str = "",
        search: str = "",
        search_keys: Sequence[str] = (),
    ) -> list[Call]:
        """History, newest first. `search` matches the number as written or a name;
        `search_keys` are canonical keys the caller derived from the same text."""
        dense = _indexed(search) and self._matches(search) > _FEW_MATCHES
        where, params = self._history_filter(missed_only, direction, search, search_keys, dense)
        rows = self.read(
            f"SELECT {_CALL_COLUMNS} FROM calls {where}"
            " ORDER BY start_ts DESC, call_uuid LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_call(row) for row in rows]

    def count_calls(
        self,
        *,
        missed_only: bool = False,
        direction: str = "",
        search: str = "",
        search_keys: Sequence[str] = (),
    ) -> int:
        if _indexed(search) and not missed_only and not direction:
            # The index counts its own matches; calls found only by key are added.
            extra = 0
            if search_keys:
                marks = ",".join("?" * len(search_keys))
                extra = int(
                    self.read(
                        f"SELECT COUNT(*) FROM calls WHERE party_key IN ({marks}) AND NOT EXISTS"
                        " (SELECT 1 FROM calls_search WHERE calls_search MATCH ?"
                        " AND calls_search.rowid = calls.rowid)",
                        (*search_keys, _match_query(search)),
                    )[0][0]
                )
            return self._matches(search) + extra
        where, params = self._history_filter(missed_only, direction, search, search_keys)
        return int(self.read(f"SELECT COUNT(*) FROM calls {where}", params)[0][0])

    def _matches(self, search: str) -> int:
        """How many calls the trigram index finds for `search` (3 characters or more)."""
        rows = self.read(
            "SELECT COUNT(*) FROM calls_search WHERE calls_search MATCH ?",
            (_match_query(search),),
        )
        return int(rows[0][0])

    @staticmethod
    def _history_filter(
        missed_only: bool,
        direction: str,
        search: str,
        search_keys: Sequence[str],
        dense: bool = False,
    ) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        params: list[Any] = []
        if missed_only:
            clauses.append("missed = 1")
        if direction:
            clauses.append("direction = ?")
            params.append(direction)
        if search:
            if _indexed(search):
                # `+rowid` (many matches) keeps SQLite walking calls_by_start and testing
                # each call against the matches, instead of fetching them all to sort.
                alternatives = [f"{'+rowid' if dense else 'rowid'} IN ({_MATCHING})"]
                params.append(_match_query(search))
            else:
                like = _like(search)
                alternatives = [
                    "party LIKE ? ESCAPE '\\'",
                    "name_folded LIKE ? ESCAPE '\\'",
                    "party_key LIKE ? ESCAPE '\\'",
                ]
                params.extend([like, _like(fold(search)), like])
            for key in search_keys:
                alternatives.append("party_key = ?")
                params.append(key)
            clauses.append("(" + " OR ".join(alternatives) + ")")
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def missed_groups(
        self, *, include_resolved: bool = False, limit: int = 1000
    ) -> list[MissedGroup]:
        """One row per caller's open missed calls (and, optionally, per resolved episode),
        most recent first: open ones first, then resolved ones, up to `limit` rows."""
        groups = self._missed_groups("resolved_ts IS NULL", limit)
        # Resolved episodes come after every open group: read only when there is room.
        if include_resolved and len(groups) < limit:
            groups += self._missed_groups("resolved_ts IS NOT NULL", limit - len(groups))
        return groups

    def _missed_groups(self, which: str, limit: int) -> list[MissedGroup]:
        # The groups come from the covering index alone; each shown group's latest call is
        # then looked up by key (SQLite's bare columns are undefined next to both MIN and
        # MAX, so they cannot be trusted to come from the latest call).
        rows = self.read(
            "WITH groups AS (SELECT party_key, resolved_ts, COUNT(*) AS n,"
            " MIN(start_ts) AS first, MAX(start_ts) AS last FROM calls"
            f" WHERE missed = 1 AND {which}"
            # NULLs group together: open calls form one group per caller, in index order.
            " GROUP BY party_key, resolved_ts ORDER BY last DESC LIMIT ?)"
            " SELECT g.party_key, c.party, g.n, g.first, g.last, c.call_uuid, c.queue,"
            " g.resolved_ts, c.resolved_by, c.name FROM groups AS g"
            " JOIN calls AS c ON c.rowid = (SELECT rowid FROM calls WHERE missed = 1"
            " AND party_key = g.party_key AND resolved_ts IS g.resolved_ts"
            " AND start_ts = g.last ORDER BY rowid DESC LIMIT 1)"
            " ORDER BY g.last DESC",
            (limit,),
        )
        return [
            MissedGroup(
                number=row[0],
                party=row[1],
                display=display(row[1]),
                count=row[2],
                first_ts=row[3],
                last_ts=row[4],
                last_call_uuid=row[5],
                queue=row[6],
                resolved_ts=row[7],
                resolved_by=row[8],
                name=row[9],
            )
            for row in rows
        ]

    def pending_due(self, now: float, limit: int = 500) -> list[str]:
        """Calls whose outcome is not final and whose settling time has come."""
        rows = self.read(
            "SELECT call_uuid FROM calls WHERE pending_until <= ? ORDER BY pending_until LIMIT ?",
            (now, limit),
        )
        return [str(r[0]) for r in rows]

    def pending_quiet(self, until_before: float, limit: int = 100) -> list[tuple[str, float]]:
        """Undecided calls no extension is still being rung for, whose settling time is
        before `until_before`: (call_uuid, start time), oldest first."""
        rows = self.read(
            "SELECT call_uuid, start_ts FROM calls WHERE pending_until <= ? AND ringing = ''"
            " ORDER BY start_ts LIMIT ?",
            (until_before, limit),
        )
        return [(str(r[0]), float(r[1] if r[1] is not None else 0.0)) for r in rows]

    def pending_with_history(self) -> list[str]:
        """Calls whose outcome is not final although the PBX's history has them."""
        rows = self.read(
            "SELECT call_uuid FROM calls WHERE pending_until IS NOT NULL AND EXISTS"
            " (SELECT 1 FROM events WHERE events.call_uuid = calls.call_uuid"
            " AND events.event_type = 'cdr')"
        )
        return [str(r[0]) for r in rows]

    def open_missed_count(self) -> int:
        rows = self.read(
            "SELECT COUNT(DISTINCT party_key) FROM calls WHERE missed = 1 AND resolved_ts IS NULL"
        )
        return int(rows[0][0])

    def history_for(self, party_key: str, before_ts: float | None) -> tuple[int, float | None]:
        """How many earlier calls this party made or received, and when the last one was."""
        rows = self.read(
            "SELECT COUNT(*), MAX(start_ts) FROM calls WHERE party_key = ? AND start_ts < ?",
            (party_key, before_ts if before_ts is not None else time.time()),
        )
        return int(rows[0][0]), rows[0][1]

    # -- names, address books, catch-up (schema 2) -----------------------------------------

    @staticmethod
    def resolve_returned(conn: sqlite3.Connection, call_uuid: str) -> bool:
        """A missed call whose history names the call that returned it (`return_uuid`) is
        resolved as called back: at that call's start when the store knows it, else at the
        missed call's end (the PBX does not say when)."""
        row = conn.execute(
            "SELECT json_extract(fields, '$.return_uuid') AS returned FROM events"
            " WHERE call_uuid = ? AND returned <> '' ORDER BY id DESC LIMIT 1",
            (call_uuid,),
        ).fetchone()
        if row is None:
            return False
        return (
            changed(
                conn,
                "UPDATE calls SET resolved_ts = COALESCE("
                "(SELECT start_ts FROM calls WHERE call_uuid = ?), end_ts, start_ts),"
                " resolved_by = 'callback', resolved_call = ?"
                " WHERE call_uuid = ? AND missed = 1 AND resolved_ts IS NULL",
                (row[0], row[0], call_uuid),
            )
            > 0
        )

    @staticmethod
    def put_contacts(
        conn: sqlite3.Connection,
        source: str,
        origin: str,
        contacts: Sequence[Contact],
        stamp: float,
    ) -> int:
        """Write part of a new version of one address book (a sync or a re-import), every
        contact stamped `stamp`: one that an earlier version had is updated in place, its
        numbers replaced, so its name is never missing meanwhile. `drop_contacts` then
        removes the contacts the new version no longer has. Returns how many numbers the
        contacts written here give names to."""
        numbers = 0
        for contact in contacts:
            conn.execute(
                "DELETE FROM contact_numbers WHERE contact_id = (SELECT id FROM contacts"
                " WHERE source = ? AND origin = ? AND external_id = ? AND updated_ts <> ?)",
                (source, origin, contact.external_id, stamp),
            )
            contact_id = conn.execute(
                "INSERT INTO contacts (source, origin, external_id, name, company, updated_ts)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, origin, external_id)"
                " DO UPDATE SET name = excluded.name, company = excluded.company,"
                " updated_ts = excluded.updated_ts RETURNING id",
                (source, origin, contact.external_id, contact.name, contact.company, stamp),
            ).fetchone()[0]
            for label, number in contact.numbers:
                key = canonical_key(number)
                if key:
                    numbers += changed(
                        conn,
                        "INSERT OR IGNORE INTO contact_numbers"
                        " (contact_id, number_key, number, label) VALUES (?, ?, ?, ?)",
                        (contact_id, key, number, label),
                    )
        return numbers

    @staticmethod
    def drop_contacts(
        conn: sqlite3.Connection, source: str, origin: str, keep: float | None, limit: int
    ) -> int:
        """Remove up to `limit` contacts of one address book, all but those stamped `keep`
        (None: all); returns how many went, 0 when none is left to remove."""
        return changed(
            conn,
            "DELETE FROM contacts WHERE id IN (SELECT id FROM contacts"
            " WHERE source = ? AND origin = ? AND updated_ts IS NOT ? LIMIT ?)",
            (source, origin, keep, limit),
        )

    @staticmethod
    def set_local_name(conn: sqlite3.Connection, number_key: str, name: str) -> None:
        """The name the user wants shown for a number; an empty name removes the edit."""
        name = name.strip()
        if not name:
            conn.execute("DELETE FROM local_names WHERE number_key = ?", (number_key,))
            return
        conn.execute(
            "INSERT INTO local_names (number_key, name, updated_ts) VALUES (?, ?, ?)"
            " ON CONFLICT (number_key) DO UPDATE SET name = excluded.name,"
            " updated_ts = excluded.updated_ts",
            (number_key, name, time.time()),
        )

    def name_for(self, number_key: str) -> tuple[str, str] | None:
        """(name, company) for a canonical key: the user's own edit, else an address book,
        else the name the PBX's history gave the caller; None when nothing is known."""
        return self.names_for([number_key]).get(number_key)

    def names_for(self, number_keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        """`name_for` for many keys at once (a page of a list); unknown keys are left out."""
        names: dict[str, tuple[str, str]] = {}
        keys = list(dict.fromkeys(k for k in number_keys if k))
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            history = self.read(
                "SELECT party_key, name, MAX(start_ts) FROM calls"
                f" WHERE party_key IN ({marks}) AND name <> '' GROUP BY party_key",
                chunk,
            )
            names.update((str(r[0]), (str(r[1]), "")) for r in history)
            # Later rows win: the PBX's phonebook over the user's files, those over the
            # team's books (the relay's, on an agent's PC), an earlier import over a later one.
            books = self.read(
                "SELECT n.number_key, c.name, c.company FROM contact_numbers n"
                " JOIN contacts c ON c.id = n.contact_id"
                f" WHERE n.number_key IN ({marks})"
                " ORDER BY c.source = 'pbx', c.source <> 'team', c.id DESC",
                chunk,
            )
            names.update((str(r[0]), (str(r[1]), str(r[2]))) for r in books)
            local = self.read(
                f"SELECT number_key, name FROM local_names WHERE number_key IN ({marks})", chunk
            )
            for key, name in local:
                names[key] = (name, names.get(key, ("", ""))[1])
        return names

    def local_name(self, number_key: str) -> str:
        rows = self.read("SELECT name FROM local_names WHERE number_key = ?", (number_key,))
        return str(rows[0][0]) if rows else ""

    def keys_named(self, text: str, limit: int = 200) -> list[str]:
        """Canonical keys whose name (or company) contains `text`, compared folded (Turkish
        case, no diacritics: "sukru" finds "Şükrü"), for `calls(search_keys=)`."""
        like = _like(fold(text))
        rows = self.read(
            "SELECT number_key FROM local_names WHERE bulutpop_fold(name) LIKE ?1 ESCAPE '\\'"
            " UNION SELECT n.number_key FROM contact_numbers n"
            " JOIN contacts c ON c.id = n.contact_id WHERE bulutpop_fold(c.name) LIKE ?1"
            " ESCAPE '\\' OR bulutpop_fold(c.company) LIKE ?1 ESCAPE '\\' LIMIT ?2",
            (like, limit),
        )
        return [str(r[0]) for r in rows]

    def colleague_name(self, extension: str) -> str | None:
        """A colleague's name for their extension ("Mehmet" for 1002): the user's own edit;
        in a team, the relay's list of its agents; else an address book entry (the PBX's
        phonebook first, as it lists the staff) whose number is that extension."""
        key = extension.strip()
        if not key.isdigit():
            return None
        own = self.local_name(key)
        if own:
            return own
        team = _json_object(self.meta(COLLEAGUES_KEY)).get(key)
        if team:
            return str(team)
        rows = self.read(
            "SELECT c.name FROM contact_numbers n JOIN contacts c ON c.id = n.contact_id"
            " WHERE n.number_key = ? ORDER BY c.source <> 'pbx', c.id LIMIT 1",
            (key,),
        )
        return str(rows[0][0]) if rows and rows[0][0] else None

    # -- caller notes (schema 8) ---------------------------------------------------------

    @staticmethod
    def put_note(
        conn: sqlite3.Connection, number_key: str, text: str, author: str, at_ts: float
    ) -> bool:
        """Write a caller's note ("" removes it) unless a later one is stored (a team's
        notes arrive in any order: the latest write wins). True when it changed."""
        text = clean_note(text)
        stored = conn.execute(
            "SELECT text, at_ts FROM notes WHERE number_key = ?", (number_key,)
        ).fetchone()
        if stored is not None and (stored[1] > at_ts or (stored[1] == at_ts and stored[0] == text)):
            return False
        if not text:
            conn.execute("DELETE FROM notes WHERE number_key = ?", (number_key,))
            return stored is not None
        conn.execute(
            "INSERT INTO notes (number_key, text, author, at_ts) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (number_key) DO UPDATE SET text = excluded.text,"
            " author = excluded.author, at_ts = excluded.at_ts",
            (number_key, text, author, at_ts),
        )
        return True

    def write_note(self, number_key: str, text: str, author: str, at_ts: float) -> bool:
        """`put_note` in a transaction of its own (on the writer thread: `run`, `write`)."""
        with self.transaction() as conn:
            return self.put_note(conn, number_key, text, author, at_ts)

    def note_for(self, number_key: str) -> Note | None:
        return self.notes_for([number_key]).get(number_key)

    def notes_for(self, number_keys: Sequence[str]) -> dict[str, Note]:
        """The notes of these callers (a page of a list); callers without one left out."""
        notes: dict[str, Note] = {}
        keys = list(dict.fromkeys(k for k in number_keys if k))
        for start in range(0, len(keys), _IN_CHUNK):
            chunk = keys[start : start + _IN_CHUNK]
            marks = ",".join("?" * len(chunk))
            for r in self.read(
                f"SELECT number_key, text, author, at_ts FROM notes WHERE number_key IN ({marks})",
                chunk,
            ):
                notes[str(r[0])] = Note(str(r[1]), str(r[2]), float(r[3]))
        return notes

    def contact_sources(self) -> list[ContactSource]:
        """Each address book in the store: where it came from, its size, when it was read."""
        rows = self.read(
            "SELECT source, origin, COUNT(*), MAX(updated_ts) FROM contacts"
            " GROUP BY source, origin ORDER BY source, origin"
        )
        return [ContactSource(str(r[0]), str(r[1]), int(r[2]), float(r[3])) for r in rows]

    def known_calls(self, call_uuids: Sequence[str]) -> set[str]:
        """The ones among `call_uuids` that the store already has a call for."""
        known: set[str] = set()
        for start in range(0, len(call_uuids), _IN_CHUNK):
            chunk = list(call_uuids[start : start + _IN_CHUNK])
            marks = ",".join("?" * len(chunk))
            rows = self.read(f"SELECT call_uuid FROM calls WHERE call_uuid IN ({marks})", chunk)
            known.update(str(r[0]) for r in rows)
        return known


def _json_object(text: str | None) -> dict[str, Any]:
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _indexed(search: str) -> bool:
    """Whether calls_search can answer `search`: trigrams need 3 characters (as written for
    numbers, folded for names), and FTS5 reads a query only up to a NUL (such a search
    keeps to LIKE, whatever LIKE makes of it)."""
    return len(search) >= 3 and len(fold(search)) >= 3 and "\0" not in search


def _like(text: str) -> str:
    """A LIKE pattern finding `text` anywhere, its wildcards taken literally."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _fold(value: str | None) -> str:
    """SQL `bulutpop_fold(text)`: `fold` (Turkish-aware lower case, no diacritics)."""
    return fold(value) if isinstance(value, str) else ""


# LIKE folds ASCII letters only, and so does SQLite's lower(), which fills calls_search.
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _phrase(search: str) -> str:
    """`search` as one FTS5 phrase: matched as written (quotes, `*`, `OR` are text)."""
    return '"' + search.replace('"', '""') + '"'


def _match_query(search: str) -> str:
    """The calls_search query for `search`: the numbers with ASCII letters lowered, as the
    index holds them, the name folded (Turkish-aware, without diacritics)."""
    lowered, folded = search.translate(_ASCII_LOWER), fold(search)
    if lowered == folded:  # digits, plain ASCII: one phrase for every column, as fast as ever
        return _phrase(lowered)
    return f"{{party party_key}} : {_phrase(lowered)} OR name : {_phrase(folded)}"


def _run_migration(conn: sqlite3.Connection, script: str, version: int) -> None:
    for statement in _statements(script):
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")


def _statements(script: str) -> list[str]:
    """Split a migration into statements (sqlite3.complete_statement knows where they end)."""
    statements, current = [], ""
    for line in script.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        current += line
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    return [s for s in statements if s.rstrip(";").strip()]


def _call(row: sqlite3.Row) -> Call:
    return Call(
        call_uuid=row["call_uuid"],
        direction=row["direction"],
        caller=row["caller"],
        destination=row["destination"],
        dialed_users=tuple(json.loads(row["dialed_users"])),
        connected_user=row["connected_user"],
        queue=row["queue"],
        start_ts=row["start_ts"],
        answer_ts=row["answer_ts"],
        end_ts=row["end_ts"],
        duration=row["duration"],
        answered=None if row["answered"] is None else bool(row["answered"]),
        ended=bool(row["ended"]),
        recording=bool(row["recording"]),
        hangup_cause=row["hangup_cause"],
        party=row["party"],
        party_key=row["party_key"],
        missed=bool(row["missed"]),
        placed=bool(row["placed"]),
        pending=bool(row["pending"]),
        ringing=tuple(row["ringing"].split()),
        source=row["source"],
        name=row["name"],
        resolved_ts=row["resolved_ts"],
        resolved_by=row["resolved_by"],
    )


# SQLite's limit on bound parameters is far above this; chunks keep statements small.
_IN_CHUNK = 500


@dataclass(frozen=True, slots=True)
class CallEvents:
    """A call's stored events (in the order stored) and its row before a new fold."""

    events: list[CallEvent]
    last_received: float  # when the last of them was received
    first_source: str  # what brought the first of them
    was_missed: bool  # the stored call was missed (False when there is none yet)


@dataclass(frozen=True, slots=True)
class Contact:
    """One entry of an address book, as `Store.put_contacts` takes it."""

    external_id: str  # the PBX's id, a vCard UID or the row in a file
    name: str
    company: str = ""
    numbers: tuple[tuple[str, str], ...] = ()  # (label, number as written)


@dataclass(frozen=True, slots=True)
class Note:
    """A caller's note: what it says, who wrote it ("" on this PC, else the colleague's
    name), and when."""

    text: str
    author: str
    at: float


@dataclass(frozen=True, slots=True)
class ContactSource:
    source: str  # "pbx" | "csv" | "vcard"
    origin: str  # the file for imported books, "" for the PBX's
    contacts: int
    updated_ts: float


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What `Store.forget` removed, for the confirmation and the command line."""

    calls: int  # calls with that number (as the other party, or in any of their events)
    events: int  # raw events (and rejected bodies, relay messages) that went with them
    names: int  # local names, notes, address-book numbers and contacts for it
    groups: int  # missed groups (and dismissals) for it
    claims: int  # team claims for it (relay, agents)
    call_uuids: tuple[str, ...]  # whose cached recordings must go too


@dataclass(frozen=True, slots=True)
class Scanned:
    """What `Store.scan_mentions` read: the events up to `last_id` (and received before
    `since`), and the calls of those that mention the number."""

    last_id: int
    since: float
    call_uuids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Access:
    """One recording played or saved: when, by whom ("this PC" or the agent), which call,
    and its number ("" once erased)."""

    at: float
    who: str
    action: str  # "play" | "download"
    call_uuid: str
    party: str


# Digits of a number written any way: in a body as sent, a form's %-escapes decoded first.
_NON_DIGITS = bytes(b for b in range(256) if not 0x30 <= b <= 0x39)
# Fewer digits than a Turkish service number (444 1234) match inside too much else.
_MIN_NEEDLE = 7


def erasable_digits(number_key: str) -> str:
    """The digits every written form of the number contains: the national number for a
    Turkish one (0532…, 90532…, +90 532…), the international digits for a foreign one.
    Raises NumberError for an extension (or junk): too short to be told from other text."""
    digits = number_key.translate(str.maketrans("", "", "+"))
    if number_key.startswith("+90"):
        digits = digits[2:]
    if len(digits) < _MIN_NEEDLE or not digits.isdecimal() or not digits.isascii():
        raise NumberError(number_key)
    return digits


def _mentions(value: bytes | str | None, needle: str) -> int:
    """SQL `bulutpop_mentions(value, needle)`: whether the digits of `value` contain the
    number's digits, however spaced, punctuated or %-encoded."""
    if value is None:
        return 0
    data = value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
    if b"%" in data:
        data = unquote_to_bytes(data)
    return int(needle.encode() in data.translate(None, _NON_DIGITS))

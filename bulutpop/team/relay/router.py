"""Routing: which agents' PCs an event (or a claim) goes to, written into the outbox in
the event's own transaction, so the PBX's 200 means "stored and queued"."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable

from bulutpop.calls.events import CallEvent, party
from bulutpop.calls.tracker import Change
from bulutpop.storage.team import ClaimRow, TeamTables
from bulutpop.team.protocol import (
    CLAIM_SECONDS,
    done_message,
    ext_topic,
    payload,
)
from bulutpop.team.relay.agents import Agent, agent_of, members_of


def parties(direction: str, caller: str, destination: str, users: Iterable[str]) -> set[str]:
    """The numbers whose call this is: those rung or connected (`users`), and the caller and
    destination only as far as the PBX's `direction` vouches for them. An outside caller
    sends any caller ID it likes, "1002" included, so the caller is a party only of a call
    placed from inside (outbound or internal); the destination only of an internal call
    (an outbound call's is outside, an inbound call's extension is among the rung)."""
    direction = direction.lower()
    found = set(users)
    if direction in ("outbound", "internal"):
        found.add(caller)
    if direction == "internal":
        found.add(destination)
    return found - {""}


class Router:
    """The tracker's `on_stored` hook: outbox rows for every extension an event concerns.

    Concerned are the agents who are the call's `parties`; every member of the call's
    queue; and, while a caller has an unresolved missed queue call (or this call just
    resolved it), the members of that queue, so a colleague's answered callback resolves the
    shared missed call on every member's PC too."""

    def __init__(self) -> None:
        self.mine: frozenset[str] = frozenset()
        self._agents: list[Agent] = []
        self._members: dict[str, set[str]] = {}  # queue -> its members' extensions
        self._extensions: frozenset[str] = frozenset()
        self._seen: tuple[object, ...] | None = None

    def forget(self) -> None:
        """The agents changed: read them again at the next event."""
        self._seen = None

    def _load(self, conn: sqlite3.Connection) -> None:
        """The agents, read again only when they changed (any process may change them):
        with a thousand agents, building them for every event cost more than the event."""
        seen = TeamTables.agents_fingerprint_in(conn)
        if seen == self._seen:
            return
        self._agents = [agent_of(row) for row in TeamTables.agents_in(conn)]
        self._members = {}
        for a in self._agents:
            for queue in a.queues:
                self._members.setdefault(queue, set()).add(a.extension)
        self._extensions = frozenset(a.extension for a in self._agents)
        # Read by the relay, which keeps the tracker's `mine` in step.
        self.mine = frozenset(x for a in self._agents for x in (a.extension, *a.queues))
        self._seen = seen

    def __call__(self, conn: sqlite3.Connection, event: CallEvent, change: Change | None) -> None:
        self._load(conn)
        # The parties as the call has them: `DID (EXT)` written by the history names EXT.
        call = change.call if change is not None else None
        direction = (call.direction if call is not None else "") or event.get("direction")
        caller, destination, dialed, connected = (
            party(event.get(f)).number
            for f in ("caller_id_number", "destination_number", "dialed_user", "connected_user")
        )
        sides = parties(direction, caller, destination, (dialed, connected))
        queues = {event.get("queue"), destination} - {""}
        if call is not None:
            users = (call.connected_user, *call.dialed_users)
            sides |= parties(direction, call.caller, call.destination, users)
            queues.update(q for q in (call.queue, call.destination) if q)
            if call.party_key:
                queues |= TeamTables.missed_queues_in(conn, call.party_key, call.call_uuid)
        concerned = (sides & self._extensions) | {
            e for q in queues for e in self._members.get(q, ())
        }
        if not concerned:
            return
        body = payload("event", fields=event.fields, received=time.time())
        TeamTables.queue_in(conn, [(ext_topic(ext), body) for ext in sorted(concerned)])


def claim_in(
    conn: sqlite3.Connection, agent: Agent, party_key: str, now: float, takeover: bool = False
) -> tuple[str, str]:
    """Record `agent`'s claim on a caller's shared missed calls and queue it for the members.
    Returns ("ok", label) or ("none" | "taken", text for the agent). With `takeover` (the
    agent confirmed taking a colleague's callback over) a colleague's claim is replaced.

    Only a caller missed in one of the agent's own queues can be claimed; any other caller
    gets the answer of one nobody missed, so a claim neither blocks another queue's members
    nor tells whom that queue missed or who calls them back."""
    queues = TeamTables.missed_queues_in(conn, party_key)
    if not queues.intersection(agent.queues):
        return "none", "no open shared missed call from this number"
    held = TeamTables.claim_held_in(conn, party_key, now - CLAIM_SECONDS)
    if held is not None and held.agent != agent.name and not takeover:
        return "taken", f"{held.display} is already calling back"
    TeamTables.put_claim_in(conn, ClaimRow(party_key, agent.name, agent.label, now))
    body = payload("claim", party_key=party_key, agent=agent.name, display=agent.label, at=now)
    agents = [agent_of(row) for row in TeamTables.agents_in(conn)]
    members = members_of(agents, queues) | {agent.extension}
    TeamTables.queue_in(conn, [(ext_topic(ext), body) for ext in sorted(members)])
    return "ok", agent.label


def done_in(
    conn: sqlite3.Connection, agent: Agent, party_key: str, at: float, undo: bool = False
) -> bool:
    """Apply `agent`'s "done" on a caller (or its undo) to the relay's store and queue it
    for every member of the queues concerned, so the caller leaves (or comes back to) each
    member's list. False, changing nothing, when none of them is the agent's: a mark on a
    call of its own stays on the agent's PC."""
    if undo:
        queues = TeamTables.done_queues_in(conn, party_key, at)
    else:
        queues = TeamTables.missed_queues_in(conn, party_key)
    if not queues.intersection(agent.queues):
        return False
    if undo:
        TeamTables.undone_in(conn, party_key, at)
    else:
        TeamTables.done_in(conn, party_key, at)
    agents = [agent_of(row) for row in TeamTables.agents_in(conn)]
    members = members_of(agents, queues) | {agent.extension}
    TeamTables.queue_in(
        conn, [done_message(ext_topic(ext), party_key, at, undo) for ext in sorted(members)]
    )
    return True


def history_in(conn: sqlite3.Connection, agent: Agent, since: float, now: float) -> int:
    """Queue for a PC joining as `agent` what it would have received since `since`: the
    events of every call that concerns the agent (as `Router` decides, with the call as
    stored) and of the calls that resolved its queues' missed calls, then the team's "done"
    marks and claims on those callers. Its PC drops what it has already, so joining twice
    duplicates nothing. Returns how many messages were queued."""
    topic = ext_topic(agent.extension)
    wanted: list[str] = []
    resolvers: set[str] = set()
    callers: set[str] = set()
    for row in TeamTables.calls_since_in(conn, since):
        users = (row["connected_user"], *json.loads(row["dialed_users"]))
        sides = parties(row["direction"], row["caller"], row["destination"], users)
        shared = {row["queue"], row["destination"]} & set(agent.queues)
        if agent.extension in sides or shared:
            wanted.append(row["call_uuid"])
            if shared and row["missed"]:
                callers.add(row["party_key"])
                if row["resolved_call"]:
                    resolvers.add(row["resolved_call"])
    uuids = list(dict.fromkeys([*wanted, *sorted(resolvers - set(wanted))]))
    messages = [
        (topic, payload("event", fields=json.loads(fields), received=now))
        for fields in TeamTables.events_of_in(conn, uuids)
    ]
    messages += [
        done_message(topic, key, at) for key, at in TeamTables.dismissals_in(conn, callers, since)
    ]
    for key in sorted(callers):
        held = TeamTables.claim_held_in(conn, key, now - CLAIM_SECONDS)
        if held is not None:
            fields = {"party_key": key, "agent": held.agent, "display": held.display}
            messages.append((topic, payload("claim", **fields, at=held.at_ts)))
    TeamTables.queue_in(conn, messages)
    return len(messages)

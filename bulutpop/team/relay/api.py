"""The agents' API: the PBX API's own paths and errors, so the desktop's `PbxClient` works
against it with the agent's credential (in a header) in place of the API key. It dials only
from the agent's own extension and serves only recordings of calls that involved the
agent or their queues, under the PBX's rate limits shared by everyone. Every recording it
serves goes into the audit first (`bulutpop relay audit`): which agent, which call, when."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import math
import time
from collections.abc import Callable
from typing import Any

import aiohttp
from aiohttp import web

from bulutpop import __version__
from bulutpop.app.core import Core
from bulutpop.app.guard import request_deadline, trusted
from bulutpop.calls import phone
from bulutpop.errors import (
    KeyRefused,
    NetworkError,
    NotFound,
    NumberError,
    PbxError,
    RateLimited,
)
from bulutpop.local.net import client_session
from bulutpop.pbx.client import SlidingWindow
from bulutpop.storage.store import clean_note
from bulutpop.storage.team import TeamTables
from bulutpop.team.protocol import ext_topic, note_message, presented
from bulutpop.team.relay.agents import Agent, Agents
from bulutpop.team.relay.router import claim_in, done_in, history_in, parties

log = logging.getLogger(__name__)


ORIGINATE_LIMIT = (3, 1.0)  # the PBX's reported originate limit, for all agents together

SYNC_SPACING = 60.0  # seconds between two history syncs of one agent

LINK_SECONDS = 50 * 60  # a recording link from the relay lives as long as the PBX's

_CREDENTIAL_REFUSED = "unknown or removed team credential"
REMOVED = "this agent was removed from the team"  # HTTP 410, to a removed agent's PC


class RelayApi:
    """PBX API paths for agents, answered with the relay's key on their behalf."""

    def __init__(self, core: Core, agents: Agents, public_url: str) -> None:
        self.core = core
        self.agents = agents
        self.public_url = public_url.rstrip("/")
        self._originate = SlidingWindow(*ORIGINATE_LIMIT, time.monotonic)
        self._downloads: aiohttp.ClientSession | None = None
        self.link_secret = ""  # signs recording links; set by `Relay.start`
        # `GET /team/status` (monitoring): the token it asks for and what it answers; set
        # by `Relay.start`.
        self.status_token = ""
        self.status: Callable[[], dict[str, Any]] | None = None
        # The office's names as a message for agents (set by `Relay`; read on the writer).
        self.names: Callable[[], bytes] | None = None
        self._synced: dict[str, float] = {}  # agent -> when its last sync was queued
        self.sync_spacing = SYNC_SPACING  # a test may shorten it

    def app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024, middlewares=[request_deadline])
        app.router.add_get("/pbx/originate", self._dial)
        app.router.add_post("/pbx/recording_url/", self._recording_url)
        app.router.add_post("/pbx/recording_url", self._recording_url)
        app.router.add_get("/pbx/recording/{call_uuid}", self._recording)
        app.router.add_get("/pbx/caller_ids", self._caller_ids)
        app.router.add_get("/pbx/queues", self._queues)
        app.router.add_get("/pbx/dnd/{extension}", self._dnd)
        app.router.add_get("/pbx/user_statuses", self._user_statuses)
        app.router.add_post("/team/claim", self._claim)
        app.router.add_post("/team/note", self._note)
        app.router.add_get("/team/whoami", self._whoami)
        app.router.add_get("/team/status", self._status)
        app.router.add_post("/team/done", self._done)
        app.router.add_post("/team/sync", self._sync)
        app.router.add_get("/health", self._health)
        app.router.add_route("*", "/pbx/{rest:.*}", self._not_for_agents)
        app.on_cleanup.append(self._cleanup)
        return app

    async def _cleanup(self, _app: web.Application) -> None:
        if self._downloads is not None:
            await self._downloads.close()

    async def _agent_for(self, request: web.Request) -> Agent:
        credential = presented(request.headers.get("Authorization", ""))
        agent = await asyncio.to_thread(self.agents.verify, credential)
        if agent is None:
            if await asyncio.to_thread(self.agents.removed, credential):
                raise web.HTTPGone(text=REMOVED)
            raise web.HTTPUnauthorized(text=_CREDENTIAL_REFUSED)
        return agent

    def _failure(self, exc: PbxError) -> web.Response:
        """A PBX error passed on in the PBX's own shape: its own words where it gave some
        (the agent's client words them as the PBX's), the relay's key redacted."""
        text = self.core.redactor.redact(exc.detail or str(exc))
        if isinstance(exc, RateLimited):
            return web.Response(
                status=429,
                text=text,
                headers={"Retry-After": str(max(1, round(exc.retry_after)))},
            )
        if isinstance(exc, KeyRefused):
            return web.Response(
                status=502, text="the relay's API key was refused by the PBX; tell its admin"
            )
        if isinstance(exc, NotFound):
            return web.Response(status=404, text=text)
        if isinstance(exc, NetworkError):
            return web.Response(status=504, text=text)
        return web.Response(status=exc.status or 502, text=text)

    async def _dial(self, request: web.Request) -> web.Response:
        agent = await self._agent_for(request)
        query = request.query
        extension = query.get("extension", "")
        if extension != agent.extension:
            raise web.HTTPForbidden(
                text=f"a team agent dials only from its own extension ({agent.extension})"
            )
        # A number or an extension, as the desktop dials: never a feature code (`*8`
        # picks up a colleague's ringing call, others divert or listen in).
        try:
            destination = phone.parse(query.get("destination", "")).destination
        except NumberError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        caller_id = query.get("caller_id") or None
        if caller_id is not None:
            try:
                caller_id = await self._offered_caller_id(caller_id)
            except PbxError as exc:
                return self._failure(exc)
        if (delay := self._originate.wait_time()) > 0:
            return web.Response(
                status=429,
                text="too many calls are being placed at once; try again in a moment",
                headers={"Retry-After": str(max(1, round(delay)))},
            )
        self._originate.take()
        try:
            call_uuid = await self.core.api().originate(
                extension,
                destination,
                caller_id=caller_id,
                manual_answer=query.get("manual_answer") == "true",
            )
        except PbxError as exc:
            return self._failure(exc)
        log.info("agent %s dialled from %s", agent.name, extension)
        return web.Response(text=call_uuid)

    async def _offered_caller_id(self, wanted: str) -> str:
        """`wanted` as the PBX's caller-ID list spells it; 403 when the list lacks it."""
        key = phone.canonical_key(wanted)
        for number in await self.core.api().caller_ids():
            if phone.canonical_key(number) == key:
                return number
        raise web.HTTPForbidden(
            text=f"caller ID {wanted[:40]} is not one of the office's (see /pbx/caller_ids)"
        )

    def _involved(self, agent: Agent, call_uuid: str) -> bool:
        call = self.core.store.call(call_uuid)
        if call is None:
            return False
        users = (call.connected_user, *call.dialed_users)
        sides = parties(call.direction, call.caller, call.destination, users)
        return agent.extension in sides or bool(call.queue and call.queue in agent.queues)

    def _signature(self, agent: str, call_uuid: str, expires: int) -> str | None:
        """The signature of an agent's link to a recording; None when there is no such agent."""
        if not self.link_secret:
            raise RuntimeError("the relay's API signs links only once it has started")
        bound_to = self.agents.link_key(agent)
        if bound_to is None:
            return None
        message = f"{agent}\n{bound_to}\n{call_uuid}\n{expires}".encode()
        return hmac.new(self.link_secret.encode(), message, hashlib.sha256).hexdigest()

    async def _recording_url(self, request: web.Request) -> web.Response:
        agent = await self._agent_for(request)
        call_uuid = str((await request.post()).get("call_uuid", "")).strip()
        if not call_uuid or not self._involved(agent, call_uuid):
            # The PBX's own wording for an unknown call, so the desktop shows "not found".
            raise web.HTTPNotFound(text=f"cannot find call with call_uuid {call_uuid[:80]}")
        try:
            await self.core.api().recording_url(call_uuid)
        except PbxError as exc:
            return self._failure(exc)
        expires = int(time.time() + LINK_SECONDS)
        signature = self._signature(agent.name, call_uuid, expires)
        if signature is None:  # removed meanwhile
            raise web.HTTPUnauthorized(text=_CREDENTIAL_REFUSED)
        return web.Response(
            text=f"{self.public_url}/pbx/recording/{call_uuid}"
            f"?agent={agent.name}&expires={expires}&sig={signature}"
        )

    async def _recording(self, request: web.Request) -> web.StreamResponse:
        call_uuid = request.match_info["call_uuid"]
        agent_name = request.query.get("agent", "")
        try:
            expires = int(request.query.get("expires", "0"))
        except ValueError:
            expires = 0
        expected = self._signature(agent_name, call_uuid, expires)
        signed = expected is not None and hmac.compare_digest(
            expected, request.query.get("sig", "")
        )
        if not signed or expires < time.time():
            # Also a link of a removed agent, or one made for an earlier holder of the name.
            raise web.HTTPNotFound(text="this recording link has expired")
        try:
            url = await self.core.api().recording_url(call_uuid)
        except PbxError as exc:
            return self._failure(exc)
        if self._downloads is None:
            self._downloads = client_session()
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=30)
        async with self._downloads.get(url, timeout=timeout) as upstream:
            if upstream.status != 200:
                return web.Response(status=upstream.status, text="the PBX refused the recording")
            agent = self.agents.named(agent_name)
            who = agent.audit_name if agent is not None else agent_name
            store = self.core.store
            await store.write(store.record_access, call_uuid, "download", who)
            response = web.StreamResponse(
                headers={"Content-Type": upstream.content_type or "application/octet-stream"}
            )
            if upstream.content_length is not None:
                response.content_length = upstream.content_length
            await response.prepare(request)
            async for chunk in upstream.content.iter_chunked(64 * 1024):
                await response.write(chunk)
            await response.write_eof()
            return response

    async def _caller_ids(self, request: web.Request) -> web.Response:
        await self._agent_for(request)
        try:
            numbers = await self.core.api().caller_ids()
        except PbxError as exc:
            return self._failure(exc)
        return web.json_response(numbers)

    async def _queues(self, request: web.Request) -> web.Response:
        await self._agent_for(request)
        try:
            names = await self.core.api().queues()
        except PbxError as exc:
            return self._failure(exc)
        return web.json_response([{"number": k, "name": v} for k, v in names.items()])

    async def _dnd(self, request: web.Request) -> web.Response:
        agent = await self._agent_for(request)
        if request.match_info["extension"] != agent.extension:
            raise web.HTTPForbidden(text="a team agent changes only its own extension")
        try:
            text = await self.core.api().dnd(agent.extension, request.query.get("state") == "on")
        except PbxError as exc:
            return self._failure(exc)
        return web.Response(text=text)

    async def _user_statuses(self, request: web.Request) -> web.Response:
        agent = await self._agent_for(request)
        try:
            statuses = await self.core.api().user_statuses(user=agent.extension)
        except PbxError as exc:
            return self._failure(exc)
        return web.json_response([{"user": s.user, "status": s.status} for s in statuses])

    async def _claim(self, request: web.Request) -> web.Response:
        agent = await self._agent_for(request)
        form = await request.post()
        party_key = str(form.get("party_key", "")).strip()
        takeover = form.get("takeover") == "1"
        outcome, text = await self.core.tracker.run_write(
            self._claim_in, agent, party_key, time.time(), takeover
        )
        if outcome == "none":
            raise web.HTTPNotFound(text=text)
        if outcome == "taken":
            raise web.HTTPConflict(text=text)
        return web.json_response({"claimed_by": text})

    def _claim_in(
        self, agent: Agent, party_key: str, now: float, takeover: bool
    ) -> tuple[str, str]:
        with self.core.store.transaction() as conn:  # on the writer: run_write
            return claim_in(conn, agent, party_key, now, takeover)

    async def _done(self, request: web.Request) -> web.Response:
        """A member marked a shared missed caller done (or undid it): every member's PC
        follows. {"shared": false} for a caller none of the agent's queues missed."""
        agent = await self._agent_for(request)
        form = await request.post()
        party_key = str(form.get("party_key", "")).strip()
        try:
            at = float(str(form.get("at", "")))
        except ValueError:
            raise web.HTTPBadRequest(text="no time for the mark") from None
        shared = await self.core.tracker.run_write(
            self._done_in, agent, party_key, at, form.get("undo") == "1", missed=True
        )
        return web.json_response({"shared": shared})

    def _done_in(self, agent: Agent, party_key: str, at: float, undo: bool) -> bool:
        with self.core.store.transaction() as conn:
            return done_in(conn, agent, party_key, at, undo)

    async def _sync(self, request: web.Request) -> web.Response:
        """A PC joined as this agent: the last `history_days` of its calls, and the
        office's names, go to it through the broker."""
        agent = await self._agent_for(request)
        # A PC asks once per invite; more often, it would only fill the outbox.
        last = self._synced.get(agent.name, -math.inf)
        if (wait := last + self.sync_spacing - time.monotonic()) > 0:
            raise web.HTTPTooManyRequests(
                text="this agent's recent calls were sent moments ago",
                headers={"Retry-After": str(math.ceil(wait))},
            )
        self._synced[agent.name] = time.monotonic()
        since = time.time() - self.core.config.history_days * 86400.0
        queued = await self.core.tracker.run_write(self._sync_in, agent, since, missed=True)
        return web.json_response({"queued": queued})

    def _sync_in(self, agent: Agent, since: float) -> int:
        names = self.names() if self.names is not None else None
        with self.core.store.transaction() as conn:
            queued = history_in(conn, agent, since, time.time())
            if names is not None:
                TeamTables.queue_in(conn, [(ext_topic(agent.extension), names)])
                queued += 1
            return queued

    async def _note(self, request: web.Request) -> web.Response:
        """An agent's note on a caller: stored here and sent to every agent's PC."""
        agent = await self._agent_for(request)
        form = await request.post()
        try:
            number_key = phone.parse(str(form.get("number", ""))).key
        except NumberError as exc:
            raise web.HTTPBadRequest(text=str(exc)) from None
        text = str(form.get("text", ""))
        now = time.time()
        tracker = self.core.tracker  # `missed`: the publisher wakes for the outbox row now
        await tracker.run_write(self._note_in, number_key, text, agent.label, now, missed=True)
        return web.json_response({"at": now, "author": agent.label})

    def _note_in(self, number_key: str, text: str, author: str, now: float) -> None:
        store = self.core.store
        with store.transaction() as conn:  # on the writer: run_write
            if store.put_note(conn, number_key, text, author, now):
                TeamTables.queue_in(conn, [note_message(number_key, clean_note(text), author, now)])

    async def _whoami(self, request: web.Request) -> web.Response:
        agent = await self._agent_for(request)
        return web.json_response(
            {
                "agent": agent.name,
                "extension": agent.extension,
                "queues": list(agent.queues),
                "display": agent.display,
            }
        )

    async def _status(self, request: web.Request) -> web.Response:
        """The relay's state for its admin and monitoring (`Relay.status`), to whoever
        presents the status token, from anywhere: a reverse proxy in front makes every
        request local, so where a request comes from proves nothing."""
        presented_token = presented(request.headers.get("Authorization", ""))
        if not self.status_token or not hmac.compare_digest(
            presented_token.encode(), self.status_token.encode()
        ):
            raise web.HTTPUnauthorized(
                text="the relay's status needs its status token (bulutpop relay status --token)"
            )
        if self.status is None:
            raise web.HTTPServiceUnavailable(text="the relay is starting")
        return web.json_response(await asyncio.to_thread(self.status))

    async def _health(self, request: web.Request) -> web.Response:
        if not trusted(request):  # the version is for the admin, on this machine
            return web.json_response({"status": "ok"})
        return web.json_response({"status": "ok", "version": __version__})

    async def _not_for_agents(self, request: web.Request) -> web.Response:
        await self._agent_for(request)
        raise web.HTTPForbidden(text="not available to team agents; ask the relay's admin")

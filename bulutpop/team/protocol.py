"""Team mode's protocol, the part both sides share: the broker's topics and address, the
messages the relay sends agents, the invite, and the credential an agent's PC presents to
the relay's API. Nothing here speaks MQTT or HTTP (`link` is the agent's side, `relay/`
the office's)."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import urlsplit

from bulutpop.errors import ConfigError, InviteError
from bulutpop.local.config import Config

INVITE_PREFIX = "bulutpop-team:"
PAYLOAD_VERSION = 1
CLAIM_SECONDS = 15 * 60  # as long as the relay holds a claim
TOPIC_ROOT = "bulutpop"
TEAM_TOPIC = f"{TOPIC_ROOT}/team"  # every agent's PC reads it: the relay's "forget" requests
SESSION_EXPIRY_DAYS = 60


def payload(kind: str, **data: Any) -> bytes:
    """A message for agents: JSON with a version and a kind ("event", "claim", "forget",
    "note", "done", "undo", "names")."""
    return json.dumps({"v": PAYLOAD_VERSION, "kind": kind, **data}, ensure_ascii=False).encode()


@dataclass(frozen=True)
class Invite:
    """What an agent's PC needs to join the team, as one line to paste."""

    broker: str
    relay: str
    agent: str
    secret: str = field(repr=False)
    extension: str
    queues: tuple[str, ...] = ()
    ca: str = ""  # PEM of the certificate to trust, when the relay's isn't publicly signed
    display: str = ""  # the agent's name as colleagues see it (older invites have none)

    def encode(self) -> str:
        data = {
            "broker": self.broker,
            "relay": self.relay,
            "agent": self.agent,
            "secret": self.secret,
            "extension": self.extension,
            "queues": list(self.queues),
            "ca": self.ca,
            "display": self.display,
        }
        packed = base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=")
        return INVITE_PREFIX + packed.decode()

    @classmethod
    def parse(cls, text: str) -> Invite:
        # Mail clients and chat apps wrap long lines: whitespace is never part of an invite.
        text = "".join(text.split())
        if not text.startswith(INVITE_PREFIX):
            raise InviteError("foreign")
        packed = text[len(INVITE_PREFIX) :]
        try:
            data = json.loads(base64.urlsafe_b64decode(packed + "=" * (-len(packed) % 4)))
            invite = cls(
                broker=str(data["broker"]),
                relay=str(data["relay"]),
                agent=str(data["agent"]),
                secret=str(data["secret"]),
                extension=str(data["extension"]),
                queues=tuple(str(q) for q in data.get("queues", ())),
                ca=str(data.get("ca", "")),
                display=str(data.get("display", "")),
            )
        except (binascii.Error, ValueError, KeyError, TypeError):
            raise InviteError("damaged") from None
        try:
            invite.apply(Config())
        except ConfigError as exc:
            raise InviteError("unusable", str(exc)) from None
        if not invite.secret:
            raise InviteError("damaged")
        return invite

    def apply(self, config: Config) -> Config:
        """`config` in team mode with this invite (the secret goes to the keyring)."""
        for key, value in (
            ("team_broker", self.broker),
            ("team_relay", self.relay),
            ("team_agent", self.agent),
            ("team_queues", list(self.queues)),
            ("team_ca", self.ca),
            ("team_display", self.display),
            ("extension", self.extension),
        ):
            config = config.with_value(key, value)
        return config


def leave(config: Config) -> Config:
    return replace(
        config,
        team_broker="",
        team_relay="",
        team_agent="",
        team_queues=(),
        team_ca="",
        team_display="",
    )


def credential(config: Config, secret: str) -> str:
    """What the relay's API takes in place of the API key."""
    return f"{config.team_agent}:{secret}"


# The credential goes in a header, never in a query string or form that proxies, access
# logs and servers' messages about malformed requests write down.
AUTH_SCHEME = "Bearer"


def authorization(credential: str) -> dict[str, str]:
    """The header presenting `credential` to the relay's API."""
    return {"Authorization": f"{AUTH_SCHEME} {credential}"}


def presented(header: str) -> str:
    """The credential in an Authorization header's value, or ""."""
    scheme, _, value = header.strip().partition(" ")
    return value.strip() if scheme.lower() == AUTH_SCHEME.lower() else ""


def forget_message(number_key: str) -> tuple[str, bytes]:
    """The relay's request that every agent's PC forget a number (KVKK erasure): on the
    topic all of them read, kept by the broker for a PC that is off until it connects."""
    return TEAM_TOPIC, payload("forget", number=number_key)


def note_message(number_key: str, text: str, author: str, at: float) -> tuple[str, bytes]:
    """A caller's note (or its removal: "") for every agent's PC, on the topic all read."""
    return TEAM_TOPIC, payload("note", number=number_key, text=text, author=author, at=at)


def done_message(topic: str, party_key: str, at: float, undo: bool = False) -> tuple[str, bytes]:
    """A colleague marked a shared missed caller done at `at` (or took that back): every
    member's PC applies the same mark, so an undo finds it by its time everywhere."""
    return topic, payload("undo" if undo else "done", party_key=party_key, at=at)


def subscriptions(extension: str) -> list[tuple[str, int]]:
    return [(ext_topic(extension), 1), (TEAM_TOPIC, 1)]


def ext_topic(extension: str) -> str:
    """The topic an extension's events are published to."""
    return f"{TOPIC_ROOT}/ext/{extension}"


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

"""The user's settings: a human-editable TOML file in the platform config directory.

Every key is declared once in `SETTINGS` with its default, its parser and a line of help;
the CLI, the settings dialog and the file loader all go through it, so a value is refused
the same way wherever it comes from. The API key is never part of it (see `keys`).
"""

from __future__ import annotations

import getpass
import hashlib
import ipaddress
import os
import secrets
import socket
import tomllib
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import platformdirs

from bulutpop.calls.text import fold
from bulutpop.errors import ConfigError
from bulutpop.local.private import private_dir, tighten_tree, write_private

APP_NAME = "bulutpop"
DEFAULT_API_URL = "https://api.bulutsantralim.com"
CONFIG_FILE = "config.toml"


@dataclass(frozen=True)
class Dirs:
    config: Path
    data: Path
    cache: Path

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Dirs:
        env = dict(os.environ) if env is None else env
        config = env.get("BULUTPOP_CONFIG_DIR") or platformdirs.user_config_dir(APP_NAME)
        data = env.get("BULUTPOP_DATA_DIR") or platformdirs.user_data_dir(APP_NAME)
        # A relocated data directory takes its cache along, so a demo or a test never
        # writes into the user's real cache.
        cache = (
            str(Path(data) / "cache")
            if env.get("BULUTPOP_DATA_DIR")
            else platformdirs.user_cache_dir(APP_NAME)
        )
        return cls(Path(config), Path(data), Path(cache))

    def make_private(self) -> None:
        """Make the config and data folders (0700), and tighten what an older version left
        in them and in the cache."""
        for folder in (self.config, self.data):
            private_dir(folder)
        for folder in (self.config, self.data, self.cache):
            if self.data not in folder.parents:  # a relocated cache is in the data folder
                tighten_tree(folder)

    @property
    def config_file(self) -> Path:
        return self.config / CONFIG_FILE

    @property
    def store_file(self) -> Path:
        return self.data / "bulutpop.sqlite3"


def _extension(value: str) -> str:
    value = value.strip()
    if value and not (value.isdigit() and 2 <= len(value) <= 6):
        raise ConfigError(f"{value!r} is not an extension (2 to 6 digits, e.g. 1001)")
    return value


def _extensions(value: str | list[str]) -> tuple[str, ...]:
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    return tuple(_extension(str(item)) for item in items if str(item).strip())


def _host(value: str) -> str:
    value = value.strip()
    if not value:
        raise ConfigError("listen_host cannot be empty (use 127.0.0.1 or 0.0.0.0)")
    return value


def _port(value: str | int) -> int:
    try:
        port = int(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{value!r} is not a port number") from None
    if not 0 <= port <= 65535:
        raise ConfigError(f"port {port} is outside 0..65535")
    return port


def _url(value: str, *, allow_empty: bool) -> str:
    value = value.strip().rstrip("/")
    if not value and allow_empty:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{value!r} is not an http(s) URL")
    return value


def _broker_url(value: str, *, allow_empty: bool) -> str:
    value = value.strip().rstrip("/")
    if not value and allow_empty:
        return ""
    parts = urlsplit(value)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError(f"{value!r} is not a broker address (mqtt://host:1883, mqtts://…)")
    try:
        parts.port  # noqa: B018  # raises on a malformed port
    except ValueError:
        raise ConfigError(f"{value!r} has a malformed port") from None
    return value


def _certificate(value: str) -> str:
    value = value.strip()
    if value and not value.startswith("-----BEGIN CERTIFICATE-----"):
        raise ConfigError("must be a PEM certificate (-----BEGIN CERTIFICATE-----…)")
    return value


def _path(value: str) -> str:
    return str(Path(value.strip()).expanduser()) if value.strip() else ""


def _agent(value: str) -> str:
    value = value.strip()
    if value and not (
        len(value) <= 64 and all(c.isascii() and (c.isalnum() or c in "-_.") for c in value)
    ):
        raise ConfigError(f"{value!r} is not an agent name (letters, digits, - _ .)")
    return value


def _networks(value: str | list[str]) -> tuple[str, ...]:
    items = value.replace(",", " ").split() if isinstance(value, str) else value
    out = []
    for item in items:
        try:
            out.append(str(ipaddress.ip_network(str(item).strip(), strict=False)))
        except ValueError:
            raise ConfigError(f"{item!r} is not a network (CIDR such as 10.0.0.0/8)") from None
    return tuple(out)


def _bool(value: str | bool) -> bool:
    if isinstance(value, bool):
        return value
    folded = fold(value)  # "HAYIR" is "hayır", not "hayir", whatever the PC's locale
    if folded in ("1", "true", "yes", "on", "evet"):
        return True
    if folded in ("0", "false", "no", "off", "hayir", ""):
        return False
    raise ConfigError(f"{value!r} is not true or false")


def _choice(*allowed: str) -> Callable[[str], str]:
    def parse(value: str) -> str:
        value = value.strip()
        if value not in allowed:
            raise ConfigError(f"{value!r} is not one of: {', '.join(allowed)}")
        return value

    return parse


def _token(value: str) -> str:
    value = value.strip()
    if len(value) < 32 or not all(c.isalnum() or c in "-_" for c in value):
        raise ConfigError("must be at least 32 URL-safe characters (letters, digits, - and _)")
    return value


def _crm_template(value: str) -> str:
    value = value.strip()
    if value:
        filled = value.replace("{number}", "0").replace("{e164}", "0").replace("{call_uuid}", "0")
        try:
            _url(filled, allow_empty=False)
        except ConfigError:
            raise ConfigError(f"{value!r} is not an http(s) URL") from None
    return value


def _whole(low: int, high: int) -> Callable[[str | int], int]:
    def parse(value: str | int) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise ConfigError(f"{number} is outside {low}..{high}")
        return number

    return parse


@dataclass(frozen=True)
class Setting:
    parse: Callable[[Any], Any]
    help: str


SETTINGS: dict[str, Setting] = {
    "extension": Setting(_extension, "your PBX extension, e.g. 1001"),
    "watch": Setting(_extensions, "more extensions or queues to pop up for, e.g. '200 1005'"),
    "listen_host": Setting(_host, "address the webhook receiver listens on"),
    "listen_port": Setting(_port, "port the webhook receiver listens on"),
    "public_url": Setting(
        lambda v: _url(v, allow_empty=True),
        "URL the PBX reaches this PC at (your tunnel or LAN address)",
    ),
    "api_url": Setting(lambda v: _url(v, allow_empty=False), "PBX API base URL"),
    "allow_from": Setting(_networks, "networks allowed to post events (CIDR), empty: all"),
    "token": Setting(_token, "secret path segment of the webhook URL"),
    "caller_id": Setting(str.strip, "outbound number to present when dialling (empty: default)"),
    "manual_answer": Setting(_bool, "wait for you to lift the handset before dialling"),
    "popup_corner": Setting(
        _choice("bottom-right", "bottom-left", "top-right", "top-left"), "where popups appear"
    ),
    "ring_sound": Setting(_bool, "play a sound when a popup appears"),
    "missed_popup_stays": Setting(_bool, "a missed call's popup stays until you close it"),
    "crm_url": Setting(
        _crm_template, "CRM link with {number}, {e164} or {call_uuid}, empty: no CRM button"
    ),
    "language": Setting(_choice("system", "tr", "en"), "interface language"),
    "popups_paused": Setting(_bool, "popups paused"),
    "history_days": Setting(
        _whole(0, 365), "days of the PBX's call history the first catch-up imports"
    ),
    "catchup_minutes": Setting(
        _whole(1, 1440), "minutes between catch-ups from the PBX's call history"
    ),
    "settle_seconds": Setting(
        _whole(1, 3600),
        "seconds of silence after which a queue call whose every leg ended unanswered is missed",
    ),
    # Retention (KVKK): personal data is kept no longer than the office needs it.
    "keep_calls_days": Setting(
        _whole(1, 3650), "days calls, their events and the recordings' audit are kept"
    ),
    "keep_recordings_days": Setting(
        _whole(1, 3650), "days a played or saved recording stays in this PC's cache"
    ),
    # Team mode, on an agent's PC (filled in by `bulutpop team join INVITE`).
    "team_broker": Setting(
        lambda v: _broker_url(v, allow_empty=True), "team mode: the broker (mqtt[s]://host:port)"
    ),
    "team_relay": Setting(lambda v: _url(v, allow_empty=True), "team mode: the relay's URL"),
    "team_agent": Setting(_agent, "team mode: this PC's agent name"),
    "team_queues": Setting(_extensions, "team mode: queues whose missed calls are shared"),
    "team_ca": Setting(_certificate, "team mode: certificate to trust for TLS (PEM)"),
    "team_display": Setting(str.strip, "team mode: this agent's name as colleagues see it"),
    # The relay (`bulutpop relay`), on the team's server.
    "relay_host": Setting(_host, "relay: address the agents' API listens on"),
    "relay_port": Setting(_port, "relay: port of the agents' API"),
    "relay_url": Setting(
        lambda v: _url(v, allow_empty=True), "relay: URL agents reach the relay at (invites)"
    ),
    "broker_url": Setting(
        lambda v: _broker_url(v, allow_empty=False), "relay: how the relay reaches the broker"
    ),
    "broker_public_url": Setting(
        lambda v: _broker_url(v, allow_empty=True), "relay: broker address for agents (invites)"
    ),
    "broker_managed": Setting(_bool, "relay: run Mosquitto itself with generated settings"),
    "broker_pid_file": Setting(_path, "relay: external Mosquitto's pid file (for reloads)"),
    "tls_cert": Setting(_path, "relay: TLS certificate file (PEM) for the API and broker"),
    "tls_key": Setting(_path, "relay: TLS private key file (PEM)"),
    "tls_ca": Setting(_path, "relay: CA certificate agents must trust (PEM), for invites"),
}


@dataclass(frozen=True)
class Config:
    extension: str = ""
    watch: tuple[str, ...] = ()
    listen_host: str = "127.0.0.1"
    listen_port: int = 8787
    public_url: str = ""
    api_url: str = DEFAULT_API_URL
    allow_from: tuple[str, ...] = ()
    token: str = field(default="", repr=False)
    caller_id: str = ""
    manual_answer: bool = False
    popup_corner: str = "bottom-right"
    ring_sound: bool = True
    missed_popup_stays: bool = True
    crm_url: str = ""
    language: str = "system"
    popups_paused: bool = False
    history_days: int = 7
    catchup_minutes: int = 10
    settle_seconds: int = 120
    keep_calls_days: int = 730
    keep_recordings_days: int = 30
    team_broker: str = ""
    team_relay: str = ""
    team_agent: str = ""
    team_queues: tuple[str, ...] = ()
    team_ca: str = ""
    team_display: str = ""
    relay_host: str = "0.0.0.0"
    relay_port: int = 8788
    relay_url: str = ""
    broker_url: str = "mqtt://127.0.0.1:1883"
    broker_public_url: str = ""
    broker_managed: bool = True
    broker_pid_file: str = ""
    tls_cert: str = ""
    tls_key: str = ""
    tls_ca: str = ""

    @property
    def my_extensions(self) -> frozenset[str]:
        """Extensions whose calls are the user's (own extension, watched ones and, in team
        mode, the queues the team shares with this agent)."""
        team = self.team_queues if self.team_mode else ()
        return frozenset(x for x in (self.extension, *self.watch, *team) if x)

    @property
    def team_mode(self) -> bool:
        """Events come from the team's relay, not from a webhook of this PC's own."""
        return bool(self.team_broker and self.team_relay and self.team_agent)

    def with_value(self, key: str, value: Any) -> Config:
        if key not in SETTINGS:
            raise ConfigError(f"unknown setting {key!r}; known: {', '.join(SETTINGS)}")
        try:
            parsed = SETTINGS[key].parse(value)
        except ConfigError as exc:
            raise ConfigError(f"{key}: {exc}") from None
        except (TypeError, AttributeError):
            raise ConfigError(f"{key}: {value!r} has the wrong type") from None
        return replace(self, **{key: parsed})

    def value_text(self, key: str) -> str:
        value = getattr(self, key)
        if isinstance(value, tuple):
            return " ".join(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def to_toml(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            out[f.name] = list(value) if isinstance(value, tuple) else value
        return out

    def webhook_path(self) -> str:
        return f"/events/{self.token}"

    def webhook_url(self) -> str:
        """The URL to paste into the PBX: through the user's tunnel when one is set."""
        if self.public_url:
            return self.public_url + self.webhook_path()
        return self.local_webhook_url()

    def local_webhook_url(self) -> str:
        host = self.listen_host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.listen_port}{self.webhook_path()}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def bindable(host: str, port: int) -> bool:
    """Whether a server could listen on host:port now."""
    try:
        with socket.create_server((host, port)):
            return True
    except OSError:
        return False


def own_port(host: str, default: int, user: str) -> int:
    """`default` when it is free, else a port of this user's own: on a terminal server
    (Windows RDS, Citrix) or a Mac with several users signed in, every user's app wants the
    same default. The same user gets the same port, so the URL given to the PBX holds."""
    if bindable(host, default):
        return default
    first = 20000 + int(hashlib.sha256(user.encode()).hexdigest(), 16) % 20000
    for port in range(first, first + 50):  # the next one when someone took it
        if bindable(host, port):
            return port
    return default  # the receiver then says that the port is in use


def load(dirs: Dirs, env: dict[str, str] | None = None) -> Config:
    """Read the config file (creating it with a fresh token on first run)."""
    env = dict(os.environ) if env is None else env
    path = dirs.config_file
    config = Config()
    data: dict[str, Any] = {}
    if path.exists():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path} is not valid TOML ({exc}); fix or delete it") from None
        for key, value in data.items():
            if key not in SETTINGS:
                continue  # settings from a newer version are kept in the file, ignored here
            try:
                config = config.with_value(key, value)
            except ConfigError as exc:
                raise ConfigError(f"{path}: {exc}") from None
    if not config.token:
        config = replace(config, token=new_token())
        if "listen_port" not in data:  # a first start: this user's port from now on
            port = own_port(config.listen_host, config.listen_port, getpass.getuser())
            config = replace(config, listen_port=port)
        save(dirs, config, overridden(env))
    if env.get("BULUTPOP_API_URL"):
        config = config.with_value("api_url", env["BULUTPOP_API_URL"])
    return config


def overridden(env: Mapping[str, str]) -> frozenset[str]:
    """Settings the environment sets for this run only (and that are never saved)."""
    return frozenset({"api_url"} if env.get("BULUTPOP_API_URL") else ())


def save(dirs: Dirs, config: Config, keep: Collection[str] = ()) -> None:
    """Write atomically, keeping keys this version does not know, readable only by the user.
    The settings in `keep` (those the environment overrides) keep the file's own value."""
    path = dirs.config_file
    existing: dict[str, Any] = {}
    if path.exists():
        try:
            existing = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            existing = {}
    data = {k: v for k, v in config.to_toml().items() if k not in keep}
    existing.update(data)
    import tomli_w  # only to save: a start reads the settings and need not load it

    write_private(private_dir(path.parent) / path.name, tomli_w.dumps(existing).encode())

"""How this PC reaches the network: through the system's proxy, trusting the system's
certificate authorities.

An office often sends the web through a proxy (set in Windows' or macOS' settings, or
`HTTPS_PROXY`), and may inspect TLS with a root certificate of its own that only the
operating system's store holds. A frozen app's default TLS context instead points at the
certificate paths of the machine it was built on, where nothing may be.
"""

from __future__ import annotations

import functools
import ipaddress
import ssl
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import truststore


@functools.cache
def system_tls() -> ssl.SSLContext:
    """Certificates checked by the operating system: Windows' and macOS' own verifiers, the
    distribution's CA bundle on Linux (wherever that distribution keeps it)."""
    return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def tls_for(cadata: str = "") -> ssl.SSLContext:
    """The system's authorities, or only `cadata`'s (a team relay's private CA)."""
    return ssl.create_default_context(cadata=cadata) if cadata else system_tls()


def client_session(*, tls: ssl.SSLContext | None = None, **kwargs: Any) -> aiohttp.ClientSession:
    """An HTTP client session that goes through the system's proxy (`trust_env`: the
    environment's, Windows' registry, macOS' settings) and trusts `tls` or the system."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=tls or system_tls()), trust_env=True, **kwargs
    )


# Names only a local network knows (RFC 6762's .local, RFC 8375's home.arpa, and the
# suffixes routers and Active Directory use): the PBX on the internet cannot resolve them.
_LOCAL_SUFFIXES = (".local", ".localhost", ".lan", ".home", ".internal", ".home.arpa", ".corp")


def reachable_from_internet(url: str) -> bool:
    """Whether a server on the internet (the cloud PBX) could reach `url` at all: not a
    loopback, private, link-local or unspecified address (127.0.0.1, 192.168.x.x, 0.0.0.0),
    nor a name without a dot or one only a local network knows. A public name may still
    lead nowhere: only a request through it (`bulutpop.pbx.receiver.probe`) tells."""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    try:
        return ipaddress.ip_address(host).is_global
    except ValueError:
        pass
    return "." in host and host != "localhost" and not host.endswith(_LOCAL_SUFFIXES)

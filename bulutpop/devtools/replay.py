"""Replaying scenario files (one raw POST body per line) against a running receiver."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import aiohttp

FORM = "application/x-www-form-urlencoded"


def bundled_scenarios() -> list[Path]:
    """The scenario files shipped inside the package, in name order."""
    folder = resources.files("bulutpop.devtools") / "scenarios"
    return sorted(Path(str(p)) for p in folder.iterdir() if p.name.endswith(".form"))


def read_scenario(path: Path) -> list[bytes]:
    """The bodies of a scenario file, exactly as they are to be sent."""
    bodies = []
    for line in path.read_bytes().splitlines():
        if line.strip() and not line.lstrip().startswith(b"#"):
            bodies.append(line)
    return bodies


async def post_bodies(
    url: str, bodies: Iterable[bytes], session: aiohttp.ClientSession | None = None
) -> list[int]:
    """POST each body in order and return the status codes; stops at nothing."""
    own = session is None
    session = session or aiohttp.ClientSession()
    statuses = []
    try:
        for body in bodies:
            async with session.post(url, data=body, headers={"Content-Type": FORM}) as response:
                await response.read()
                statuses.append(response.status)
    finally:
        if own:
            await session.close()
    return statuses

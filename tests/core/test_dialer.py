"""The dialer's refusals and the core's missing-setup errors carry a reason a program can
read (the app words them in the user's language) and keep their English message (the
command line prints it)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bulutpop.app.core import Core
from bulutpop.cli import describe
from bulutpop.devtools.fakepbx import FakePbxState, start
from bulutpop.errors import DialRefused, SetupMissing
from bulutpop.pbx.dialer import Dialer
from tests.conftest import TEST_KEY


@pytest.fixture
async def core(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Core]:
    state = FakePbxState(key=TEST_KEY)
    state.originate_delay = 0.05
    runner, base = await start(state)
    monkeypatch.setenv("BULUTPOP_API_URL", base)
    monkeypatch.setenv("BULUTPOP_API_KEY", TEST_KEY)
    c = Core.open()
    await c.update_config(c.config.with_value("extension", "1001"))
    yield c
    await c.aclose()
    c.close()
    await runner.cleanup()


async def test_a_second_dial_while_one_is_placed_is_refused_as_busy(core: Core) -> None:
    dialer = Dialer(core)
    first, second = await asyncio.gather(
        dialer.dial("0532 123 45 67"), dialer.dial("0212 320 50 62"), return_exceptions=True
    )
    assert not isinstance(first, BaseException)
    assert isinstance(second, DialRefused)
    assert (second.reason, second.number) == ("busy", "+905321234567")
    assert describe(second)[0] == "not dialled: already calling 0532 123 45 67"


async def test_the_same_number_again_at_once_is_refused_as_a_repeat(core: Core) -> None:
    dialer = Dialer(core)
    await dialer.dial("05321234567")
    with pytest.raises(DialRefused) as refused:
        await dialer.dial("+90 532 123 45 67")
    assert (refused.value.reason, refused.value.number) == ("repeat", "+905321234567")
    assert describe(refused.value)[0] == "not dialled: 0532 123 45 67 was dialled a moment ago"


def test_missing_setup_names_what_is_missing() -> None:
    core = Core.open()  # a fresh PC: no API key, no extension, no team secret
    try:
        for ask, what, start_of_message in (
            (core.api_key, "api_key", "no API key is stored: run `bulutpop key set`"),
            (core.extension, "extension", "no extension is configured: run `bulutpop config"),
            (core.team_secret, "team_secret", "team mode is set up but this PC's team secret"),
        ):
            with pytest.raises(SetupMissing) as missing:
                ask()
            assert missing.value.what == what
            assert describe(missing.value)[0].startswith(start_of_message)
    finally:
        core.close()

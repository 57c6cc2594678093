"""`bulutpop dial` and `bulutpop recording` as subprocesses against the fake PBX."""

from __future__ import annotations

from pathlib import Path

import pytest

from bulutpop.devtools.fakepbx import tone_wav
from tests.conftest import TEST_KEY
from tests.core.conftest import FakePbx, run_cli_async

UUID = "6f1c2b1e-8a1d-4c57-9f0e-2d4b1c9e0a01"


@pytest.fixture
def pbx(fake_pbx: FakePbx) -> FakePbx:
    """The fake PBX with a recording of call UUID."""
    fake_pbx[0].recordings[UUID] = tone_wav(1.0)
    return fake_pbx


async def configure(api: str) -> None:
    assert (await run_cli_async("config", "set", "extension", "1001", api=api))[0] == 0


async def test_dial_sends_one_originate_and_prints_the_uuid(pbx: FakePbx) -> None:
    state, api = pbx
    await configure(api)
    code, out, err = await run_cli_async("dial", "0532 123 45 67", "--manual-answer", api=api)
    assert code == 0, err
    assert len(out.strip()) == 36
    (request,) = state.originates
    assert request["extension"] == "1001" and request["destination"] == "905321234567"
    assert request["manual_answer"] == "true" and request["key"] == TEST_KEY


async def test_dial_with_a_wrong_key_exits_1_without_showing_it(
    pbx: FakePbx,
) -> None:
    _, api = pbx
    await configure(api)
    wrong = "K99999999-9999-9999-9999-999999999999"
    code, out, err = await run_cli_async("dial", "05321234567", key=wrong, api=api)
    assert code == 1 and "key" in err.lower()
    assert wrong not in out + err


async def test_dial_unknown_extension_shows_the_pbx_message(
    pbx: FakePbx,
) -> None:
    _, api = pbx
    assert (await run_cli_async("config", "set", "extension", "1005", api=api))[0] == 0
    code, _, err = await run_cli_async("dial", "05321234567", api=api)
    assert code == 1 and "extension 1005 not found" in err


async def test_recording_is_saved(pbx: FakePbx, tmp_path: Path) -> None:
    _, api = pbx
    target = tmp_path / "rec.wav"
    code, _, err = await run_cli_async("recording", UUID, "-o", str(target), api=api)
    assert code == 0, err
    assert target.read_bytes() == tone_wav(1.0)


async def test_recording_of_an_unknown_call_exits_1(pbx: FakePbx) -> None:
    _, api = pbx
    code, _, err = await run_cli_async("recording", "no-such-call", api=api)
    assert code == 1 and "no-such-call" in err


async def test_a_second_download_asks_the_pbx_for_no_new_link(pbx: FakePbx, tmp_path: Path) -> None:
    # Links are limited to 5 a minute: the app's recording cache serves the command too.
    state, api = pbx
    for name in ("one.wav", "two.wav"):
        code, _, err = await run_cli_async("recording", UUID, "-o", str(tmp_path / name), api=api)
        assert code == 0, err
        assert (tmp_path / name).read_bytes() == tone_wav(1.0)
    assert state.recording_requests == 1

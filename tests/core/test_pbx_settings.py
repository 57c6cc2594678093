"""PBX-side settings and small endpoints: CRM integration (the notification URL), DND,
caller ids, user statuses, queues, one history record. Fake PBX over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from bulutpop.devtools.fakepbx import FakePbxState, start
from bulutpop.errors import NotFound, PbxFailed, PbxRefused, RateLimited
from bulutpop.pbx.client import CrmSettings, PbxClient, register_webhook
from tests.conftest import TEST_KEY
from tests.core.conftest import Server, run_cli_async

OTHER_TOOL = "https://crm.example.com.tr/bulutsantralim/hook"


@dataclass
class Pbx:
    state: FakePbxState
    base: str


@pytest.fixture
async def pbx() -> AsyncIterator[Pbx]:
    state = FakePbxState(key=TEST_KEY)
    state.crm = {"ringing": "on", "answered": "off", "hangup": "on", "notification_url": OTHER_TOOL}
    runner, base = await start(state)
    yield Pbx(state, base)
    await runner.cleanup()


@pytest.fixture
async def client(pbx: Pbx) -> AsyncIterator[PbxClient]:
    async with PbxClient(pbx.base, TEST_KEY) as c:
        yield c


def posts(pbx: Pbx) -> list[dict[str, str]]:
    return [q for q in pbx.state.received.get("crm_integrations", []) if "notification_url" in q]


async def test_settings_show_where_events_go_and_whether_it_is_us(
    client: PbxClient, server: Server
) -> None:
    settings = await client.crm_integrations()
    assert settings == CrmSettings(OTHER_TOOL, ringing=True, answered=False, hangup=True)
    assert not settings.sends_to(server.url)
    assert settings.sends_to(OTHER_TOOL.replace("https://crm", "HTTPS://CRM") + "/")


async def test_register_asks_first_and_sends_nothing_when_declined(
    pbx: Pbx, client: PbxClient, server: Server
) -> None:
    shown: list[CrmSettings] = []

    async def decline(current: CrmSettings) -> bool:
        shown.append(current)
        return False

    assert await register_webhook(client, server.url, decline) == "declined"
    assert [s.notification_url for s in shown] == [OTHER_TOOL]  # the URL it would replace
    assert posts(pbx) == []
    assert pbx.state.crm["notification_url"] == OTHER_TOOL


async def test_register_after_confirmation_sends_the_right_fields(
    pbx: Pbx, client: PbxClient, server: Server
) -> None:
    async def accept(current: CrmSettings) -> bool:
        assert posts(pbx) == []  # nothing is sent before the user said yes
        return True

    assert await register_webhook(client, server.url, accept) == "registered"
    assert posts(pbx) == [
        {
            "key": TEST_KEY,
            "notification_url": server.url,
            "ringing": "on",
            "answered": "on",
            "hangup": "on",
        }
    ]
    # The fake PBX checked the URL the way the real one does: our receiver answered `{}`.
    assert (await client.crm_integrations()).registered(server.url)

    async def never(current: CrmSettings) -> bool:
        raise AssertionError("already registered: nothing to confirm")

    assert await register_webhook(client, server.url, never) == "unchanged"
    assert len(posts(pbx)) == 1


async def test_the_pbx_refuses_a_url_that_does_not_answer(pbx: Pbx, client: PbxClient) -> None:
    unreachable = "http://127.0.0.1:9/events/x"
    with pytest.raises(PbxRefused, match="did not answer"):
        await client.set_crm_integrations(unreachable)
    assert pbx.state.crm["notification_url"] == OTHER_TOOL


async def test_dnd_and_user_statuses(pbx: Pbx, client: PbxClient) -> None:
    assert await client.dnd("1001", True) == "Changed DND of 1001 to on."
    assert pbx.state.dnd == {"1001": True}
    statuses = await client.user_statuses()
    assert {s.user: s.status for s in statuses} == {
        "1001": "SS_DND",
        "1002": "AVAILABLE",
        "1003": "AVAILABLE",
    }
    await client.dnd("1001", False)
    assert [s.status for s in await client.user_statuses(user="1001")] == ["AVAILABLE"]
    # Two a minute: the third is refused here, before it reaches the PBX.
    with pytest.raises(RateLimited) as info:
        await client.user_statuses()
    assert 0 < info.value.retry_after <= 60
    assert len(pbx.state.received["user_statuses"]) == 2
    with pytest.raises(PbxRefused, match="extension 1009 not found"):
        await client.dnd("1009", True)
    with pytest.raises(ValueError, match="is not an extension"):
        await client.dnd("../originate", True)


async def test_caller_ids_queues_and_one_record(pbx: Pbx, client: PbxClient) -> None:
    pbx.state.caller_ids = ["908505320000", "902123205062"]
    assert await client.caller_ids() == ["908505320000", "902123205062"]
    assert await client.queues() == {"200": "Kuyruk 1"}
    pbx.state.cdrs = [{"call_uuid": "c-1", "direction": "Gelen", "return_uuid": None}]
    pbx.state.call_flows["c-1"] = [{"destination_number": 1001, "result": "Cevapsız"}]
    record, flow = await client.cdr("c-1")
    assert record == {"call_uuid": "c-1", "direction": "Gelen", "return_uuid": ""}
    assert flow == ({"destination_number": "1001", "result": "Cevapsız"},)
    with pytest.raises(NotFound):
        await client.cdr("c-2")


async def test_unreadable_replies_are_server_errors(pbx: Pbx, client: PbxClient) -> None:
    pbx.state.fail(200, "<html>maintenance</html>")
    with pytest.raises(PbxFailed, match="unreadable"):
        await client.caller_ids()
    pbx.state.fail(200, '{"unexpected": true}')
    with pytest.raises(PbxFailed):
        await client.contacts()


# --- the CLI -------------------------------------------------------------------------------


async def test_cli_register_needs_a_terminal_or_yes(pbx: Pbx) -> None:
    pbx.state.check_notification_url = False  # no receiver runs behind the CLI's URL
    code, out, _ = await run_cli_async("pbx-webhook", "show", api=pbx.base)
    assert code == 0 and OTHER_TOOL in out and "not this app" in out
    code, _, err = await run_cli_async("pbx-webhook", "register", api=pbx.base)
    assert code == 2 and "--yes" in err
    assert posts(pbx) == []
    code, out, err = await run_cli_async("pbx-webhook", "register", "--yes", api=pbx.base)
    assert code == 0, err
    assert "now sends" in out
    (sent,) = posts(pbx)
    ours = (await run_cli_async("webhook-url", api=pbx.base))[1].strip()
    assert sent["notification_url"] == ours and "/events/" in ours
    code, out, _ = await run_cli_async("pbx-webhook", "show", api=pbx.base)
    assert "(this app)" in out and "ringing, answered, hangup" in out


async def test_cli_dnd(pbx: Pbx) -> None:
    assert (await run_cli_async("config", "set", "extension", "1002", api=pbx.base))[0] == 0
    code, out, err = await run_cli_async("dnd", "on", api=pbx.base)
    assert code == 0, err
    assert out.strip() == "Changed DND of 1002 to on." and pbx.state.dnd == {"1002": True}

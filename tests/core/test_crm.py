"""The CRM link of a call, from the template in the settings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bulutpop.calls.crm import crm_link
from bulutpop.calls.events import parse_body
from bulutpop.calls.fold import fold
from bulutpop.calls.model import Call
from tests.conftest import scenario

TEMPLATE = "https://crm.example/find?n={number}&e={e164}&id={call_uuid}"


def call_from(party: str) -> Call:
    events = [e for e in (parse_body(b).event for b in scenario("01")) if e is not None]
    call, _ = fold(events[0].call_uuid, events, frozenset({"1001"}))
    return replace(call, party=party, call_uuid="id/1 2")


@pytest.mark.parametrize(
    ("party", "number", "e164"),
    [
        ("02123205062", "02123205062", "%2B902123205062"),  # as dialled at home
        ("905321234567", "05321234567", "%2B905321234567"),
        ("00493027590915", "00493027590915", "%2B493027590915"),  # foreign: as written
        ("1002", "1002", ""),  # an extension has no E.164 form
        ("gizli numara", "gizli%20numara", ""),  # not a number: as sent, encoded
    ],
)
def test_the_template_gets_each_value_encoded(party: str, number: str, e164: str) -> None:
    link = crm_link(TEMPLATE, call_from(party))
    assert link == f"https://crm.example/find?n={number}&e={e164}&id=id%2F1%202"

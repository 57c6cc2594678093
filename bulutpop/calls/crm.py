"""The link to the caller's record in the office's CRM, from the template in the settings
(`crm_url`): {number} is the number as dialled at home (national digits for Turkish numbers,
as written for foreign ones), {e164} its E.164 form ("" for extensions) and {call_uuid} the
PBX's call id. Every value is percent-encoded."""

from __future__ import annotations

from urllib.parse import quote

from bulutpop.calls import phone
from bulutpop.calls.model import Call
from bulutpop.errors import NumberError


def crm_link(template: str, call: Call) -> str:
    try:
        parsed = phone.parse(call.party)
    except NumberError:
        number, e164 = call.party.strip(), ""
    else:
        foreign = parsed.kind == "number" and not parsed.e164.startswith("+90")
        number = (
            parsed.raw.strip() if foreign else "".join(c for c in parsed.display if c.isdigit())
        )
        e164 = parsed.e164
    text = template
    for name, value in (("{number}", number), ("{e164}", e164), ("{call_uuid}", call.call_uuid)):
        text = text.replace(name, quote(value, safe=""))
    return text

"""The call history as the user filters it: what they type, the direction, "missed only",
turned into the store's terms (`Store.calls`, `Store.count_calls`)."""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from typing import Any

from bulutpop.calls import phone
from bulutpop.errors import NumberError
from bulutpop.storage.store import Store

# Text that can only be a number being typed: searched by its digits, so "532 123" finds
# "05321234567" as well as "+905321234567".
NUMBERISH = re.compile(r"\+?[0-9\s().\-/]+")


@dataclass(frozen=True)
class HistoryFilter:
    search: str = ""
    direction: str = ""  # "" (all) | inbound | outbound | internal
    missed_only: bool = False

    @property
    def active(self) -> bool:
        return bool(self.search.strip() or self.direction or self.missed_only)


def history_terms(store: Store, wanted: HistoryFilter) -> dict[str, Any]:
    """Keyword arguments for Store.calls / Store.count_calls. A typed number also finds
    its calls however the PBX wrote it (its key), and a name the numbers an address book
    or the user's own edit gives it (the calls table holds only the name the PBX gave)."""
    text = wanted.search.strip()
    search = text
    keys: tuple[str, ...] = ()
    if text:
        with contextlib.suppress(NumberError):  # not a number: a name, or part of one
            keys = (phone.parse(text).key,)
        if NUMBERISH.fullmatch(text):
            search = "".join(c for c in text if c.isdigit()) or text
        else:
            keys += tuple(store.keys_named(text))
    return {
        "missed_only": wanted.missed_only,
        "direction": wanted.direction,
        "search": search,
        "search_keys": keys,
    }

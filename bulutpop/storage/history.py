"""The call history as the user filters it: what they type, the direction, "missed only",
turned into the store's terms (`Store.calls`, `Store.count_calls`)."""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bulutpop.calls import phone
from bulutpop.calls.text import fold
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


@dataclass(frozen=True)
class TextMatch:
    """What the user typed, tested against rows already read (the missed-call list) with
    the history search's rules: a number by its digits however written, or its key; a name
    or company folded ("sukru" finds "Şükrü", "istanbul" "İstanbul", "IŞIK" "Işık")."""

    text: str

    @functools.cached_property
    def _key(self) -> str:
        try:
            return phone.parse(self.text).key
        except NumberError:
            return ""

    @functools.cached_property
    def _digits(self) -> str:
        if not NUMBERISH.fullmatch(self.text.strip()):
            return ""
        return "".join(c for c in self.text if c.isdigit())

    def matches(self, number_key: str, numbers: Sequence[str], names: Sequence[str]) -> bool:
        """Whether a row with this canonical key, numbers (as written and shown) and names
        (and companies) is one the text finds; an empty text finds every row."""
        text = self.text.strip()
        if not text or (self._key and self._key == number_key):
            return True
        if self._digits:
            return any(
                self._digits in "".join(c for c in n if c.isdigit()) for n in (number_key, *numbers)
            )
        folded = fold(text)
        return any(folded in fold(value) for value in (number_key, *numbers, *names) if value)

"""Comparing words as Turkish users write them, independent of the process locale.

Python's `str.lower` follows Unicode, not the locale, which is right for a program but
wrong for Turkish words: "HAYIR".lower() is "hayir" and "İ".lower() is "i̇" (with a
combining dot). `fold` maps both Turkish i's, drops diacritics and lowers, so "Şükrü",
"ŞÜKRÜ" and "sukru" compare equal, whatever the user's or the PC's language.
"""

from __future__ import annotations

import functools
import unicodedata

_TURKISH_I = str.maketrans({"I": "ı", "İ": "i"})


@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """`text` for comparison: Turkish-aware lower case, no diacritics, spaces collapsed."""
    lowered = text.translate(_TURKISH_I).lower().replace("ı", "i")
    bare = "".join(
        c for c in unicodedata.normalize("NFKD", lowered) if not unicodedata.combining(c)
    )
    # Lowered again: a compatibility form (NFKD) may bring capitals of its own ("㎒").
    return " ".join(bare.lower().split())

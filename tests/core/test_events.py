"""Event timestamps: the fast path (datetime.fromisoformat) reads exactly what strptime did."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bulutpop.calls.events import PBX_TZ, parse_stamp

FORMATS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z")


def strptime_reference(text: str) -> datetime | None:
    """How stamps were read before the fast path."""
    text = text.strip()
    if not text:
        return None
    for fmt in FORMATS:
        try:
            stamp = datetime.strptime(text.replace(" UTC", " +0000"), fmt)
        except ValueError:
            continue
        return stamp if stamp.tzinfo else stamp.replace(tzinfo=PBX_TZ)
    return None


def two(low: int, high: int) -> st.SearchStrategy[str]:
    return st.integers(low, high).map(lambda n: f"{n:02d}")


stamps = st.builds(
    lambda y, mo, d, sep, h, mi, s, zone: f"{y}-{mo}-{d}{sep}{h}:{mi}:{s}{zone}",
    st.integers(1990, 2100).map(str),
    two(0, 13),
    two(0, 32),
    st.sampled_from([" ", "T"]),
    two(0, 25),
    two(0, 61),
    two(0, 61),
    st.sampled_from(["", " +0300", " -0130", "+0300", " UTC", " +03:00", " Z", "+2400"]),
)


@given(stamps)
def test_the_fast_path_reads_what_strptime_read(text: str) -> None:
    assert parse_stamp.__wrapped__(text) == strptime_reference(text)


def test_the_pbx_shapes() -> None:
    assert parse_stamp("2016-01-01 00:00:00") == datetime(2016, 1, 1, tzinfo=PBX_TZ)
    assert parse_stamp("2017-08-03 12:30:32 +0300") == datetime(2017, 8, 3, 9, 30, 32, tzinfo=UTC)
    assert parse_stamp("2017-08-03 12:30:32 UTC") == datetime(2017, 8, 3, 12, 30, 32, tzinfo=UTC)
    assert parse_stamp("2016-1-1 0:0:0") == datetime(2016, 1, 1, tzinfo=PBX_TZ)  # strptime's
    assert parse_stamp("not a time") is None

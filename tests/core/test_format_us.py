"""`format_us` (integer arithmetic, used for every wire timestamp held as microseconds) reads
exactly like `format_ts` of the same instant."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from missiond.core.events import format_ts, format_us, to_us

EDGES = [
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2028, 2, 29, 23, 59, 59, 999_999, tzinfo=UTC),
    datetime(2031, 3, 3, 9, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
]


@given(
    st.one_of(
        st.sampled_from(EDGES),
        st.datetimes(
            min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31), timezones=st.just(UTC)
        ),
    )
)
def test_a_stamp_from_micros_reads_as_the_wire_timestamp_of_the_same_instant(moment: datetime) -> None:
    assert format_us(to_us(moment)) == format_ts(moment)

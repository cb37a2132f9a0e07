"""The store's encoding of times: aware UTC in, aware UTC out, sortable as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from bot.store.rows import from_db_time, to_db_time


def test_times_are_stored_as_fixed_width_utc_text():
    moment = datetime(2025, 1, 31, 21, 0, 0, 5, tzinfo=timezone(timedelta(hours=9)))
    assert to_db_time(moment) == "2025-01-31T12:00:00.000005+00:00"


def test_stored_times_sort_as_text_in_time_order():
    base = datetime(2025, 1, 31, 12, tzinfo=UTC)
    moments = [base + timedelta(microseconds=n) for n in (0, 1, 999_999, 1_000_000)]
    assert sorted(moments, key=to_db_time) == moments
    assert sorted(to_db_time(m) for m in reversed(moments)) == [to_db_time(m) for m in moments]


def test_times_come_back_aware_in_utc():
    moment = datetime(2025, 1, 31, 12, 30, tzinfo=UTC)
    decoded = from_db_time(to_db_time(moment))
    assert decoded == moment
    assert decoded.tzinfo is UTC


def test_a_stored_time_without_offset_is_read_as_utc():
    assert from_db_time("2025-01-31T12:00:00") == datetime(2025, 1, 31, 12, tzinfo=UTC)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="naive datetime"):
        to_db_time(datetime(2025, 1, 31, 12))  # noqa: DTZ001

"""Business-hours seconds on the profile's wall clock, including across DST changes."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from responsegap.domain.business_hours import business_seconds, in_business_hours, local_weekday_hour
from responsegap.domain.model import BusinessHours, ConfigError

LONDON = "Europe/London"
NINE_TO_FIVE = BusinessHours()


def ts(text: str, tz: str = LONDON) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp())


def test_inside_one_day():
    assert business_seconds(ts("2023-10-24T10:00"), ts("2023-10-24T11:30"), LONDON, NINE_TO_FIVE) == 5400


def test_overnight_counts_only_open_hours():
    # Tue 16:00 -> Wed 10:00: one hour on Tuesday, one on Wednesday.
    assert business_seconds(ts("2023-10-24T16:00"), ts("2023-10-25T10:00"), LONDON, NINE_TO_FIVE) == 7200


def test_weekend_with_dst_change_inside_the_window():
    # Clocks go back on Sunday 2023-10-29. Fri 16:00 BST -> Mon 10:00 GMT: 1h + 1h of business time,
    # although the wall-clock gap is 67 hours (66 + the repeated hour).
    start, end = ts("2023-10-27T16:00"), ts("2023-10-30T10:00")
    assert end - start == 67 * 3600
    assert business_seconds(start, end, LONDON, NINE_TO_FIVE) == 7200


def test_hours_spanning_the_repeated_hour_are_four_real_hours():
    night = BusinessHours.parse({"sun": "00:00-03:00"})
    start, end = ts("2023-10-28T12:00"), ts("2023-10-29T12:00")
    assert business_seconds(start, end, LONDON, night) == 4 * 3600


def test_hours_spanning_the_missing_hour_are_two_real_hours():
    night = BusinessHours.parse({"sun": "00:00-03:00"})
    start, end = ts("2023-03-25T12:00"), ts("2023-03-26T12:00")
    assert business_seconds(start, end, LONDON, night) == 2 * 3600


def test_closed_profile_has_no_business_seconds():
    closed = BusinessHours.parse({})
    assert closed.is_empty
    assert business_seconds(ts("2023-10-24T10:00"), ts("2023-10-31T10:00"), LONDON, closed) == 0


def test_open_until_midnight_and_local_weekday():
    late = BusinessHours.parse({"tue": "20:00-24:00"})
    assert in_business_hours(ts("2023-10-24T23:59"), LONDON, late)
    assert not in_business_hours(ts("2023-10-25T00:00"), LONDON, late)
    assert local_weekday_hour(ts("2023-10-24T23:59"), LONDON) == (1, 23)


@pytest.mark.parametrize(
    "spec",
    [
        {"mon": "17:00-09:00"},
        {"mon": "9-5"},
        {"funday": "09:00-10:00"},
        {"mon": ["09:00-12:00", "11:00-13:00"]},
    ],
)
def test_bad_business_hours_are_refused_with_the_day_named(spec):
    with pytest.raises(ConfigError) as error:
        BusinessHours.parse(spec)
    assert "business_hours" in str(error.value)

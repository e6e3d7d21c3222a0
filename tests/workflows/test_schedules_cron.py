"""Fire times of cron schedules in a time zone: aliases, daylight-saving days, missed-fire policies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from switchboard.workflows.schedules import InvalidSchedule, due_fire_times, fire_times, next_fire, parse

BERLIN = "Europe/Berlin"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_a_daily_0230_in_berlin_runs_once_on_the_spring_forward_day():
    daily = parse("30 2 * * *", BERLIN)
    fires = fire_times(daily, utc(2027, 3, 26, 12), 4)
    # 02:30 does not exist on 28 March 2027: it runs once, at 03:30 CEST (01:30 UTC)
    assert fires == [utc(2027, 3, 27, 1, 30), utc(2027, 3, 28, 1, 30), utc(2027, 3, 29, 0, 30), utc(2027, 3, 30, 0, 30)]
    assert sum(1 for f in fires if f.date() == datetime(2027, 3, 28).date()) == 1


def test_a_daily_0230_in_berlin_runs_once_not_twice_on_the_fall_back_day():
    daily = parse("30 2 * * *", BERLIN)
    fires = fire_times(daily, utc(2027, 10, 29, 12), 4)
    # 02:30 happens twice on 31 October 2027: only the first (CEST, 00:30 UTC) fires
    assert fires == [
        utc(2027, 10, 30, 0, 30),
        utc(2027, 10, 31, 0, 30),
        utc(2027, 11, 1, 1, 30),
        utc(2027, 11, 2, 1, 30),
    ]
    # asked again just after the first 02:30, the repeated hour does not bring it back
    assert next_fire(daily, utc(2027, 10, 31, 1, 10)) == utc(2027, 11, 1, 1, 30)


def test_hourly_schedules_never_repeat_an_instant_across_both_changes():
    hourly = parse("30 * * * *", BERLIN)
    spring = fire_times(hourly, utc(2027, 3, 27, 23), 4)
    assert [f.hour for f in spring] == [23, 0, 1, 2]  # 02:30 and 03:30 CEST are one instant: one run
    autumn = fire_times(hourly, utc(2027, 10, 30, 22), 6)
    assert len(set(autumn)) == 6 and autumn == sorted(autumn)
    assert utc(2027, 10, 31, 1, 30) not in autumn  # the repeated 02:30 (CET)


def test_a_schedule_made_just_after_the_jump_still_fires_the_skipped_time():
    daily = parse("30 2 * * *", BERLIN)
    # 03:15 CEST: the clock already reads past 02:30, but 02:30 fires at 03:30 CEST, still ahead
    assert next_fire(daily, utc(2027, 3, 28, 1, 15)) == utc(2027, 3, 28, 1, 30)


def test_aliases_and_new_york_time():
    assert fire_times(parse("@hourly", "UTC"), utc(2027, 1, 1, 10, 5), 2) == [utc(2027, 1, 1, 11), utc(2027, 1, 1, 12)]
    weekly = parse("@weekly", "America/New_York")
    assert next_fire(weekly, utc(2027, 1, 1)) == utc(2027, 1, 3, 5)  # Sunday 00:00 EST


@pytest.mark.parametrize(
    ("cron", "zone", "field"),
    [
        ("61 * * * *", "UTC", "cron"),
        ("* * * *", "UTC", "cron"),
        ("* * * * * *", "UTC", "cron"),
        ("@sometimes", "UTC", "cron"),
        ("0 0 30 2 *", "UTC", "cron"),  # 30 February: parses, never fires
        ("* * * * *", "Mars/Olympus", "timezone"),
        ("* * * * *", "", "timezone"),
    ],
)
def test_bad_expressions_and_zones_name_their_field(cron: str, zone: str, field: str):
    with pytest.raises(InvalidSchedule) as caught:
        parse(cron, zone)
    assert caught.value.field == field


def test_missed_fire_policies_after_downtime():
    every_minute = parse("* * * * *", "UTC")
    down_since = utc(2027, 5, 1, 12, 0)
    back = utc(2027, 5, 1, 12, 10, 5)  # ten minutes of fire times passed while nothing ticked

    skip = due_fire_times(every_minute, down_since, back, missed_policy="skip", catch_up_limit=3)
    assert skip.run == [utc(2027, 5, 1, 12, 10)]  # only the one on time
    assert skip.missed == 10
    once = due_fire_times(every_minute, down_since, back, missed_policy="run_once", catch_up_limit=3)
    assert once.run == [utc(2027, 5, 1, 12, 9), utc(2027, 5, 1, 12, 10)]
    assert once.missed == 9
    catch_up = due_fire_times(every_minute, down_since, back, missed_policy="catch_up", catch_up_limit=3)
    assert catch_up.run == [utc(2027, 5, 1, 12, m) for m in (7, 8, 9, 10)]
    assert catch_up.missed == 7
    assert skip.next_fire_at == once.next_fire_at == catch_up.next_fire_at == utc(2027, 5, 1, 12, 11)


def test_a_long_downtime_is_counted_without_listing_every_fire():
    every_minute = parse("* * * * *", "UTC")
    due = due_fire_times(
        every_minute, utc(2027, 5, 1), utc(2027, 5, 2) + timedelta(seconds=1), missed_policy="catch_up",
        catch_up_limit=2,
    )  # fmt: skip
    assert len(due.run) == 3 and due.missed == 24 * 60 + 1 - 3


def test_years_of_downtime_end_at_the_right_next_fire_time():
    every_minute = parse("* * * * *", "UTC")
    due = due_fire_times(
        every_minute, utc(2027, 1, 1), utc(2031, 6, 1, 12, 0, 30), missed_policy="catch_up", catch_up_limit=2
    )
    assert due.run == [utc(2031, 6, 1, 11, 58), utc(2031, 6, 1, 11, 59), utc(2031, 6, 1, 12, 0)]
    assert due.next_fire_at == utc(2031, 6, 1, 12, 1) and due.missed > 1000

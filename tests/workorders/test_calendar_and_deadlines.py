"""Deadlines on the official working-day calendar (RULES.md: categories, conventions)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from minhu.calendar_source import build_calendar, coverage, parse_schedule
from workorders.calendar import WorkingCalendar, YearSchedule
from workorders.enums import Category, Channel
from workorders.errors import CalendarError, InvalidInput, PolicyError
from workorders.lifecycle import handling_deadline
from workorders.periods import Period, period_end

from .conftest import SH, t


def test_worked_example_b_received_wednesday_before_national_day_is_due_end_of_tuesday_oct_13(
    calendar, policy
):
    # Oct 1-7 are holidays, Sat Oct 10 is a make-up working day: Oct 8, 9, 10, 12, 13.
    due = handling_deadline(Category.B, Channel.PHONE, t("2026-09-30 10:00"), policy, calendar)
    assert due.due_at == t("2026-10-14 00:00")
    assert due.due_at.astimezone(SH) - timedelta(microseconds=1) < t("2026-10-14 00:00")
    assert not due.estimated


def test_the_day_the_period_starts_on_is_not_counted_even_late_at_night(calendar, policy):
    # Received Monday 23:59: day 1 is Tuesday, day 5 is the next Monday.
    due = handling_deadline(Category.B, Channel.WECHAT, t("2026-11-23 23:59"), policy, calendar)
    assert due.due_at == t("2026-12-01 00:00")


def test_make_up_working_day_on_a_weekend_counts_and_holiday_on_a_weekday_does_not(calendar):
    assert calendar.is_working_day(date(2026, 10, 10))  # Saturday 调休
    assert calendar.is_working_day(date(2026, 9, 20))  # Sunday 调休
    assert not calendar.is_working_day(date(2026, 10, 5))  # Monday, National Day
    assert not calendar.is_working_day(date(2026, 11, 22))  # ordinary Sunday


def test_a_class_is_four_wall_clock_hours_from_assignment_even_across_midnight_and_holidays(calendar, policy):
    due = handling_deadline(Category.A, Channel.PHONE, t("2026-09-30 22:30"), policy, calendar)
    assert due.due_at == t("2026-10-01 02:30")


def test_c_class_report_period_is_five_working_days(calendar, policy):
    due = handling_deadline(Category.C, Channel.PHONE, t("2026-09-30 10:00"), policy, calendar)
    assert due.due_at == t("2026-10-14 00:00")


def test_mayors_mailbox_items_get_ten_working_days(calendar, policy):
    due = handling_deadline(Category.B, Channel.MAYOR_MAILBOX, t("2026-11-02 09:00"), policy, calendar)
    assert due.due_at == t("2026-11-17 00:00")


def test_uncovered_year_falls_back_to_weekends_and_says_so(calendar, policy):
    assert not calendar.covers(2027)
    due = handling_deadline(Category.B, Channel.PHONE, t("2026-12-29 10:00"), policy, calendar)
    # Dec 30, Dec 31 (2026, covered), then Jan 1 2027 is a Friday: weekends-only counts it.
    assert due.due_at == t("2027-01-06 00:00")
    assert due.estimated
    report = coverage(calendar, [2026, 2027])
    assert report.missing_years == (2027,)
    assert report.warning_zh is not None and "2027" in report.warning_zh


def test_a_loaded_year_replaces_the_fallback(policy):
    schedule = parse_schedule(
        "date,kind\n2027-01-01,休\n2027-01-02,休\n2027-01-03,休\n2027-01-04,holiday\n2027-01-09,班\n",
        "2027.csv",
    )
    cal = build_calendar([schedule])
    due = handling_deadline(Category.B, Channel.PHONE, t("2026-12-29 10:00"), policy, cal)
    # Dec 30, Dec 31, Jan 5, Jan 6, Jan 7 (Jan 1-4 off).
    assert due.due_at == t("2027-01-08 00:00")
    assert not due.estimated


def test_loaded_json_schedule_and_its_errors():
    ok = parse_schedule('{"year": 2027, "holidays": ["2027-10-01"], "workdays": ["2027-09-26"]}', "y.json")
    assert ok.year == 2027 and date(2027, 9, 26) in ok.workdays
    with pytest.raises(CalendarError) as bad_date:
        parse_schedule('{"year": 2027, "holidays": ["2027-13-01"]}', "y.json")
    assert "无法识别的日期" in bad_date.value.message
    with pytest.raises(CalendarError):
        parse_schedule("not json", "y.json")
    with pytest.raises(CalendarError) as mixed:
        parse_schedule("2027-01-01,休\n2028-01-01,休\n", "y.csv")
    assert mixed.value.code == "calendar-bad-file"
    with pytest.raises(CalendarError) as wrong_kind:
        parse_schedule("2027-01-01,maybe\n", "y.csv")
    assert "类型" in wrong_kind.value.message


def test_a_day_cannot_be_both_holiday_and_workday():
    with pytest.raises(CalendarError):
        YearSchedule(2027, frozenset({date(2027, 1, 1)}), frozenset({date(2027, 1, 1)}))


def test_naive_times_are_refused(calendar, policy):
    from datetime import datetime

    with pytest.raises(InvalidInput) as err:
        period_end(datetime(2026, 9, 30, 10, 0), Period.working_days(5), calendar, policy.tz)
    assert err.value.code == "naive-datetime"


def test_period_parsing():
    assert Period.parse("4h") == Period.hours(4)
    assert Period.parse("10wd") == Period.working_days(10)
    with pytest.raises(PolicyError):
        Period.parse("five days")
    with pytest.raises(PolicyError):
        Period.parse("0wd")


def test_working_days_between_counts_only_working_days():
    cal = WorkingCalendar()
    assert cal.working_days_between(date(2027, 3, 5), date(2027, 3, 12)) == 5
    assert cal.working_days_between(date(2027, 3, 12), date(2027, 3, 5)) == 0

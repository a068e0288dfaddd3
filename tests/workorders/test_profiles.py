"""Policy profiles are data: each differs from the default by the numbers its seed gives."""

from __future__ import annotations

from decimal import Decimal

import pytest

from minhu.policy import available_profiles, load_profile
from workorders.enums import AssessmentGroup, Category, Channel, ContactPurpose
from workorders.errors import PolicyError
from workorders.lifecycle import handling_deadline
from workorders.periods import Period

from .conftest import t


def test_all_four_profiles_exist():
    assert set(available_profiles()) >= {"pingdingshan-2022", "pingdingshan-2021", "hedong-2021", "zibo"}


def test_pingdingshan_2022_numbers():
    p = load_profile("pingdingshan-2022")
    assert (p.a_period, p.b_period, p.c_report_period) == (
        Period.hours(4),
        Period.working_days(5),
        Period.working_days(5),
    )
    assert p.mailbox_period == Period.working_days(10)
    assert p.return_period == Period.hours(24)
    assert p.max_extensions == 1 and p.extension_categories == {Category.B, Category.C}
    assert p.revisit_period == Period.working_days(2)
    assert p.deemed_satisfied_after_rang_out == 2 and p.revisit_min_gap_minutes == 180
    assert p.revisit_daily_attempt_cap == 4 and p.revisit_citizen_daily_call_cap == 6
    assert p.revisit_on_non_working_days is True  # a 365-day centre
    rules = {r.group: r for r in p.interview_rules}
    assert rules[AssessmentGroup.COUNTY].below_fraction_of_top == Decimal("0.85")
    assert rules[AssessmentGroup.STREET].last_n == 2
    assert rules[AssessmentGroup.STREET].below_fraction_of_top == Decimal("0.80")


def test_pingdingshan_2021_interview_thresholds_are_90_and_85_percent():
    rules = {r.group: r for r in load_profile("pingdingshan-2021").interview_rules}
    assert rules[AssessmentGroup.DISTRICT].below_fraction_of_top == Decimal("0.90")
    assert rules[AssessmentGroup.DEPARTMENT].below_fraction_of_top == Decimal("0.85")


def test_hedong_reports_in_four_working_days_returns_in_one_and_needs_two_contacts(calendar):
    p = load_profile("hedong-2021")
    assert p.b_period == Period.working_days(4)
    assert p.return_period == Period.working_days(1)
    assert p.required_contacts == (ContactPurpose.FIRST_CONTACT, ContactPurpose.RESULT_FEEDBACK)
    due = handling_deadline(Category.B, Channel.PHONE, t("2026-09-30 10:00"), p, calendar)
    assert due.due_at == t("2026-10-13 00:00")


def test_zibo_dispatches_within_four_hours_and_urgent_at_once():
    p = load_profile("zibo")
    assert p.dispatch_period == Period.hours(4)
    assert p.urgent_dispatch_period == Period.hours(0)
    assert p.b_period == Period.working_days(5)


def test_a_deployment_may_override_any_number():
    p = load_profile("pingdingshan-2022", {"b_period": "7wd", "revisit_calling_end": "21:00"})
    assert p.b_period == Period.working_days(7)
    assert p.revisit_calling_end.hour == 21
    again = p.with_overrides({"max_extensions": 2})
    assert again.max_extensions == 2 and again.b_period == Period.working_days(7)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"no_such_setting": 1}, "policy-unknown-setting"),
        ({"b_period": "soon"}, "policy-bad-period"),
        ({"max_extensions": "one"}, "policy-bad-value"),
        ({"timezone": "Mars/Olympus"}, "policy-bad-timezone"),
        ({"revisit_calling_start": "21:00"}, "policy-bad-value"),
        ({"revisit_on_non_working_days": "no"}, "policy-bad-value"),
        ({"revisit_citizen_daily_call_cap": 0}, "policy-bad-value"),
        ({"revisit_daily_attempt_cap": 0}, "policy-bad-value"),
    ],
)
def test_bad_overrides_are_refused_with_a_reason(overrides, code):
    with pytest.raises(PolicyError) as err:
        load_profile("pingdingshan-2022", overrides)
    assert err.value.code == code


def test_every_profile_inherits_the_revisit_day_settings():
    for name in available_profiles():
        p = load_profile(name)
        assert p.revisit_on_non_working_days is True
        assert p.revisit_citizen_daily_call_cap == 6
    off = load_profile("zibo", {"revisit_on_non_working_days": False})
    assert off.revisit_on_non_working_days is False
    assert off.to_mapping()["revisit_on_non_working_days"] is False


def test_unknown_profile_names_the_choices():
    with pytest.raises(PolicyError) as err:
        load_profile("beijing")
    assert "pingdingshan-2022" in err.value.message


def test_profile_round_trips_through_plain_data():
    p = load_profile("hedong-2021")
    assert p.with_overrides({}) == p

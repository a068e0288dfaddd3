"""Policy profiles: every number of the rules as a setting (RULES.md; the seeds win).

A profile is data (see ``minhu/policy_profiles/*.toml``); this module only gives it a type and
checks it. A deployment picks a profile and may override any value with
:meth:`PolicyProfile.with_overrides`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from workorders.enums import AssessmentGroup, Category, Channel, ContactPurpose
from workorders.errors import PolicyError
from workorders.periods import Period


@dataclass(frozen=True, slots=True)
class InterviewRule:
    """通报约谈 trigger for one ranking group (Art. 28(4)).

    The ``last_n`` lowest-ranked units of ``group`` are interviewed when their score is below
    ``below_fraction_of_top`` of the group's top score; ``None`` means being last is enough.
    """

    group: AssessmentGroup
    last_n: int
    below_fraction_of_top: Decimal | None


@dataclass(frozen=True, slots=True)
class EscalationRule:
    """Escalation after repeated interviews within a rolling year (Art. 28(5), 29(2))."""

    consequence: str  # "main_leader_interview" | "public_statement"
    consecutive: int
    total_in_year: int | None  # None: only consecutive interviews count (Hedong)


@dataclass(frozen=True)
class PolicyProfile:
    """A complete set of policy settings. Every field is given by the profile's data file."""

    name: str
    title_zh: str
    timezone: str

    # Art. 8: handling periods, counted from the assignment to the unit (A 4h, B 5wd, C report 5wd).
    a_period: Period
    b_period: Period
    c_report_period: Period
    # The seeds give D no number ("立即", "第一时间"); a deadline keeps late D orders visible.
    d_period: Period
    # Art. 14: mayor's mailbox and leaders' message board items.
    mailbox_period: Period
    mailbox_channels: frozenset[Channel]
    # Zibo: ordinary requests dispatched within 4 hours of registration, urgent ones at once.
    dispatch_period: Period | None
    urgent_dispatch_period: Period | None

    # Art. 9: extensions.
    extension_categories: frozenset[Category]
    max_extensions: int
    extension_requires_citizen_notice: bool

    # Art. 11: returns, counted from the unit's check-in (Hedong: 1 working day).
    return_period: Period

    # Art. 13 (Hedong: two effective contacts); replies name the handler and phone.
    required_contacts: tuple[ContactPurpose, ...]
    reply_requires_handler: bool
    written_reply_categories: frozenset[Category]

    # Art. 16-17: revisits.
    revisit_period: Period
    deemed_satisfied_after_rang_out: int
    revisit_min_gap_minutes: int
    revisit_calling_start: time
    revisit_calling_end: time
    half_day_boundary: time
    revisit_retry_after_failure_minutes: int
    revisit_daily_attempt_cap: int
    # Calls to one citizen's number per local day, all of their orders together: how often the
    # centre may ring one person (a service rule like calling hours), not a capacity limit.
    revisit_citizen_daily_call_cap: int
    # False: no revisit calls on weekends, public holidays (调休 working days are called). The
    # window is counted in working days either way; the default calls on every day (365-day centre).
    revisit_on_non_working_days: bool
    rehandle_on_dissatisfied: bool

    # Art. 22: units keep the knowledge base current. An article not reviewed (or changed) for
    # longer than the interval is flagged; an approaching valid_to is flagged this many days ahead.
    kb_review_interval_days: int
    kb_expiry_warning_days: int

    # Art. 26-29: assessment.
    deemed_satisfied_counts_as_satisfied: bool
    interview_rules: tuple[InterviewRule, ...]
    escalation_rules: tuple[EscalationRule, ...]
    indicator_weights: Mapping[str, Decimal]

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise PolicyError("policy-bad-timezone", f"未知时区“{self.timezone}”") from exc
        if self.max_extensions < 0:
            raise PolicyError("policy-bad-value", "max_extensions 不能为负数")
        if self.deemed_satisfied_after_rang_out < 1:
            raise PolicyError("policy-bad-value", "deemed_satisfied_after_rang_out 至少为1")
        if self.revisit_min_gap_minutes < 0:
            raise PolicyError("policy-bad-value", "revisit_min_gap_minutes 不能为负数")
        for key in ("kb_review_interval_days", "kb_expiry_warning_days"):
            if getattr(self, key) < 0:
                raise PolicyError("policy-bad-value", f"{key} 不能为负数")
        for key in ("revisit_daily_attempt_cap", "revisit_citizen_daily_call_cap"):
            if getattr(self, key) < 1:
                raise PolicyError("policy-bad-value", f"{key} 至少为1")
        if not self.revisit_calling_start < self.revisit_calling_end:
            raise PolicyError("policy-bad-value", "回访呼叫时段的开始须早于结束")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def handling_period(self, category: Category, channel: Channel) -> Period:
        """The period a unit has for an order of this category from this channel (Art. 8, 14)."""
        if channel in self.mailbox_channels and category in (Category.B, Category.C):
            return self.mailbox_period
        return {
            Category.A: self.a_period,
            Category.B: self.b_period,
            Category.C: self.c_report_period,
            Category.D: self.d_period,
        }[category]

    # -- data in and out -------------------------------------------------------------------

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PolicyProfile:
        """Build a profile from plain data (a parsed TOML file); unknown keys are errors."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - set(names))
        if unknown:
            raise PolicyError("policy-unknown-setting", f"未知的政策设置项：{', '.join(unknown)}")
        kwargs: dict[str, Any] = {}
        for key, raw in data.items():
            kwargs[key] = _convert(key, raw)
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise PolicyError("policy-missing-setting", f"政策配置不完整：{exc}") from exc

    def with_overrides(self, overrides: Mapping[str, Any]) -> PolicyProfile:
        """A copy with some settings replaced, given as plain data like in a profile file."""
        base = self.to_mapping()
        base.update(overrides)
        return PolicyProfile.from_mapping(base)

    def to_mapping(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            out[f.name] = _export(getattr(self, f.name))
        return out


def _export(value: Any) -> Any:
    if isinstance(value, Period):
        return str(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, frozenset):
        return sorted(str(v) for v in value)
    if isinstance(value, InterviewRule):
        return {
            "group": str(value.group),
            "last_n": value.last_n,
            "below_fraction_of_top": None
            if value.below_fraction_of_top is None
            else str(value.below_fraction_of_top),
        }
    if isinstance(value, EscalationRule):
        return {k: v for k, v in dataclasses.asdict(value).items() if v is not None}
    if isinstance(value, tuple):
        return [_export(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _export(v) for k, v in value.items()}
    return value


_PERIODS = {
    "a_period",
    "b_period",
    "c_report_period",
    "d_period",
    "mailbox_period",
    "return_period",
    "revisit_period",
}
_OPTIONAL_PERIODS = {"dispatch_period", "urgent_dispatch_period"}
_TIMES = {"revisit_calling_start", "revisit_calling_end", "half_day_boundary"}
_INTS = {
    "max_extensions",
    "deemed_satisfied_after_rang_out",
    "revisit_min_gap_minutes",
    "revisit_retry_after_failure_minutes",
    "revisit_daily_attempt_cap",
    "revisit_citizen_daily_call_cap",
    "kb_review_interval_days",
    "kb_expiry_warning_days",
}
_BOOLS = {
    "extension_requires_citizen_notice",
    "reply_requires_handler",
    "rehandle_on_dissatisfied",
    "deemed_satisfied_counts_as_satisfied",
    "revisit_on_non_working_days",
}


def _convert(key: str, raw: Any) -> Any:
    try:
        if key in _PERIODS:
            return Period.parse(str(raw))
        if key in _OPTIONAL_PERIODS:
            return None if raw in (None, "", "none") else Period.parse(str(raw))
        if key in _TIMES:
            return time.fromisoformat(str(raw))
        if key in _INTS:
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise ValueError(f"expected a whole number, got {raw!r}")
            return raw
        if key in _BOOLS:
            if not isinstance(raw, bool):
                raise ValueError(f"expected true or false, got {raw!r}")
            return raw
        if key == "mailbox_channels":
            return frozenset(Channel(v) for v in raw)
        if key in ("extension_categories", "written_reply_categories"):
            return frozenset(Category(v) for v in raw)
        if key == "required_contacts":
            return tuple(ContactPurpose(v) for v in raw)
        if key == "interview_rules":
            return tuple(
                InterviewRule(
                    AssessmentGroup(r["group"]),
                    int(r["last_n"]),
                    None
                    if r.get("below_fraction_of_top") in (None, "")
                    else Decimal(str(r["below_fraction_of_top"])),
                )
                for r in raw
            )
        if key == "escalation_rules":
            return tuple(
                EscalationRule(
                    str(r["consequence"]),
                    int(r["consecutive"]),
                    None if r.get("total_in_year") is None else int(r["total_in_year"]),
                )
                for r in raw
            )
        if key == "indicator_weights":
            return {str(k): Decimal(str(v)) for k, v in dict(raw).items()}
        if key in ("name", "title_zh", "timezone"):
            return str(raw)
    except (ValueError, KeyError, TypeError, InvalidOperation) as exc:
        raise PolicyError("policy-bad-value", f"政策设置项 {key} 的值无效：{exc}") from exc
    raise PolicyError("policy-unknown-setting", f"未知的政策设置项：{key}")

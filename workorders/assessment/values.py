"""The values the assessment is made of: months, periods, units, indicators, exact numbers.

Every figure is an exact :class:`~fractions.Fraction` of integer counts; nothing is a float.
Rounding happens only when a figure is shown (:func:`present`): ``ROUND_HALF_UP`` to two places.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from itertools import compress
from zoneinfo import ZoneInfo

from workorders.enums import AssessmentGroup
from workorders.errors import InvalidInput
from workorders.periods import require_aware

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, slots=True, order=True)
class Month:
    """A calendar month of the monthly bulletin (月通报), e.g. ``Month(2026, 11)``."""

    year: int
    month: int

    def __post_init__(self) -> None:
        if not 1 <= self.month <= 12:
            raise InvalidInput("bad-month", f"月份须在1到12之间：{self.month}")

    @classmethod
    def parse(cls, text: str) -> Month:
        """``"2026-11"``."""
        match = _MONTH.match(text.strip())
        if match is None:
            raise InvalidInput("bad-month", f"无法识别的月份“{text}”，应写作如 2026-11")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def index(self) -> int:
        """Months since year 0: consecutive months differ by exactly 1."""
        return self.year * 12 + self.month - 1

    def shift(self, months: int) -> Month:
        i = self.index + months
        return Month(i // 12, i % 12 + 1)

    def period(self, tz: ZoneInfo) -> AssessmentPeriod:
        """[00:00 of the 1st, 00:00 of the next month's 1st) in the deployment's timezone."""
        nxt = self.shift(1)
        return AssessmentPeriod(
            datetime.combine(date(self.year, self.month, 1), time(0), tzinfo=tz),
            datetime.combine(date(nxt.year, nxt.month, 1), time(0), tzinfo=tz),
        )


@dataclass(frozen=True, slots=True)
class AssessmentPeriod:
    """A half-open interval [start, end) of aware datetimes."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        require_aware(self.start, "start")
        require_aware(self.end, "end")
        if not self.start < self.end:
            raise InvalidInput("bad-period", "考核期间的开始须早于结束")

    def __contains__(self, at: object) -> bool:
        return isinstance(at, datetime) and self.start <= at < self.end


@dataclass(frozen=True, slots=True)
class UnitInfo:
    """A network unit (网络单位) being assessed, and the ranking group it belongs to."""

    unit_id: str
    name: str
    group: AssessmentGroup


class IndicatorKey(StrEnum):
    """The indicators; the values are the keys of ``PolicyProfile.indicator_weights``."""

    CHECK_IN_ON_TIME = "check_in_on_time"  # 按时查收率
    CITIZEN_CONTACTED = "citizen_contacted"  # 回复前联系诉求人率 (Art. 13)
    ON_TIME_COMPLETION = "on_time_completion"  # 按时办结率
    COMPLETION_RATE = "completion_rate"  # 办结率
    REPLY_RATE = "reply_rate"  # 回复率
    SATISFACTION_RATE = "satisfaction_rate"  # 满意率
    FIRST_TIME_RESOLUTION = "first_time_resolution"  # 一次性解决率 (Hedong)
    RETURNS = "returns"  # 退回率
    EXTENSIONS = "extensions"  # 延期率
    REHANDLED = "rehandled"  # 重办率

    @property
    def label_zh(self) -> str:
        return _LABELS_ZH[self]

    @property
    def higher_is_better(self) -> bool:
        """Returns, extensions and re-handling count against a unit: its score uses 1 − rate."""
        return self not in _LOWER_IS_BETTER


_LOWER_IS_BETTER = frozenset({IndicatorKey.RETURNS, IndicatorKey.EXTENSIONS, IndicatorKey.REHANDLED})

_LABELS_ZH = {
    IndicatorKey.CHECK_IN_ON_TIME: "按时查收率",
    IndicatorKey.CITIZEN_CONTACTED: "联系诉求人率",
    IndicatorKey.ON_TIME_COMPLETION: "按时办结率",
    IndicatorKey.COMPLETION_RATE: "办结率",
    IndicatorKey.REPLY_RATE: "回复率",
    IndicatorKey.SATISFACTION_RATE: "满意率",
    IndicatorKey.FIRST_TIME_RESOLUTION: "一次性解决率",
    IndicatorKey.RETURNS: "退回率",
    IndicatorKey.EXTENSIONS: "延期率",
    IndicatorKey.REHANDLED: "重办率",
}


class Indicator:
    """One indicator of one unit: the orders behind its numerator and its denominator.

    The numerator's orders are always among the denominator's. ``rate`` is ``None`` when the
    denominator is empty (nothing to judge — never 0 % and never 100 %); how the total score
    treats such an indicator is :attr:`AssessmentSettings.empty_indicator`.

    Immutable. Built from the two lists of order numbers, or (:meth:`of_members`) from a unit's
    orders and their membership flags with the counts known: then the lists are drawn from the
    flags on first use only, so that a month of a million orders is scored without building
    twenty lists per unit.
    """

    __slots__ = (
        "_denominator",
        "_flags",
        "_members",
        "_numerator",
        "base",
        "count",
        "den_bit",
        "key",
        "num_bit",
    )

    def __init__(self, key: IndicatorKey, numerator: Sequence[str], denominator: Sequence[str]) -> None:
        self.key = key
        self._numerator: tuple[str, ...] | None = tuple(numerator)
        self._denominator: tuple[str, ...] | None = tuple(denominator)
        self.count = len(self._numerator)  # the numerator as a count (退回件数, 延期件数, ...)
        self.base = len(self._denominator)
        self._members: tuple[str, ...] = ()
        self._flags: tuple[int, ...] = ()
        self.num_bit = self.den_bit = 0

    @classmethod
    def of_members(
        cls,
        key: IndicatorKey,
        members: tuple[str, ...],
        flags: tuple[int, ...],
        *,
        num_bit: int,
        den_bit: int,
        count: int,
        base: int,
    ) -> Indicator:
        """The indicator whose numerator is the ``members`` with ``num_bit`` set in their flags and
        whose denominator those with ``den_bit`` (``count`` and ``base`` of them)."""
        self = cls.__new__(cls)
        self.key = key
        self._numerator = self._denominator = None
        self.count, self.base = count, base
        self._members, self._flags = members, flags
        self.num_bit, self.den_bit = num_bit, den_bit
        return self

    @property
    def numerator(self) -> tuple[str, ...]:
        if self._numerator is None:
            self._numerator = tuple(compress(self._members, map(self.num_bit.__and__, self._flags)))
        return self._numerator

    @property
    def denominator(self) -> tuple[str, ...]:
        if self._denominator is None:
            self._denominator = tuple(compress(self._members, map(self.den_bit.__and__, self._flags)))
        return self._denominator

    @property
    def rate(self) -> Fraction | None:
        if not self.base:
            return None
        return Fraction(self.count, self.base)

    def percent(self, places: int = 2) -> Decimal | None:
        """The rate in per cent for display (ROUND_HALF_UP)."""
        rate = self.rate
        return None if rate is None else present(rate * 100, places)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Indicator):
            return NotImplemented
        return (self.key, self.numerator, self.denominator) == (other.key, other.numerator, other.denominator)

    def __hash__(self) -> int:
        return hash((self.key, self.count, self.base))

    def __repr__(self) -> str:
        return f"Indicator({self.key.value}, {self.count}/{self.base})"


def present(value: Fraction, places: int = 2) -> Decimal:
    """An exact figure shown with ``places`` decimals, rounded half up (away from zero on .5).

    Computed in integers, so no intermediate rounding: ``present(Fraction(16805, 200))`` is
    ``Decimal("84.03")`` (84.025 → 84.03).
    """
    if places < 0:
        raise InvalidInput("bad-places", "小数位数不能为负数")
    scaled = abs(value) * 10**places
    whole = (scaled.numerator * 2 + scaled.denominator) // (scaled.denominator * 2)
    sign = -1 if value < 0 else 1
    return Decimal(sign * whole).scaleb(-places)

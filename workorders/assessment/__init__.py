"""考核 — the assessment of network units (Art. 26-29; seed 000), as pure computation.

From work orders and a period, :func:`assess_units` computes each unit's indicators — every one an
exact fraction of order counts that keeps the order numbers behind its numerator and denominator,
so a unit can contest a figure — and its total score with the profile's ``indicator_weights``.
:func:`assess_month` adds the ranking in the four groups, the interview triggers of Art. 28(4)
and the escalations of Art. 28(5) and 29(2); :func:`annual_result` gives the mean of the monthly
scores and the awards of seed 000.

Definitions are in the docstrings of :mod:`.indicators` (which orders, each indicator),
:mod:`.scoring` (the total), :mod:`.ranking` (ties, triggers, escalations) and :mod:`.monthly`
(annual mean, awards). Settings the profile lacks are in :class:`AssessmentSettings`.

Numbers: fractions of integers, never floats; shown with :func:`present` (ROUND_HALF_UP, 2 places)
only at presentation. A rate with an empty denominator is ``None``, not 0 and not 1.
"""

from .explain import counted, explain
from .facts import OrderFacts, ReturnFact, contacted, latest_result, order_facts
from .indicators import (
    ASSIGNED_BIT,
    MEMBERSHIP_KEYS,
    MembershipBits,
    UnitAssessment,
    assess_units,
    check_in_due,
    denominator_bit,
    membership_bits,
    memberships,
    numerator_bit,
    unit_assessment,
)
from .monthly import (
    AnnualResult,
    AnnualUnitResult,
    MonthlyAssessment,
    annual_result,
    assess_month,
    rank_month,
)
from .ranking import (
    Escalation,
    GroupRanking,
    InterviewTrigger,
    RankedUnit,
    escalations,
    interview_triggers,
    rank_group,
)
from .scoring import ScoreBreakdown, total_score, weights_of
from .settings import DEFAULT_SETTINGS, AssessmentSettings, EmptyIndicator
from .values import AssessmentPeriod, Indicator, IndicatorKey, Month, UnitInfo, present

__all__ = [
    "ASSIGNED_BIT",
    "DEFAULT_SETTINGS",
    "MEMBERSHIP_KEYS",
    "AnnualResult",
    "AnnualUnitResult",
    "AssessmentPeriod",
    "AssessmentSettings",
    "EmptyIndicator",
    "Escalation",
    "GroupRanking",
    "Indicator",
    "IndicatorKey",
    "InterviewTrigger",
    "MembershipBits",
    "Month",
    "MonthlyAssessment",
    "OrderFacts",
    "RankedUnit",
    "ReturnFact",
    "ScoreBreakdown",
    "UnitAssessment",
    "UnitInfo",
    "annual_result",
    "assess_month",
    "assess_units",
    "check_in_due",
    "contacted",
    "counted",
    "denominator_bit",
    "escalations",
    "explain",
    "interview_triggers",
    "latest_result",
    "membership_bits",
    "memberships",
    "numerator_bit",
    "order_facts",
    "present",
    "rank_group",
    "rank_month",
    "total_score",
    "unit_assessment",
    "weights_of",
]

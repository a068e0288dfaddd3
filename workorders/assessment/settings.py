"""Assessment settings the policy profile does not have yet (conventions where the seeds are silent).

Each is documented with its reason. They belong in :class:`workorders.policy.PolicyProfile`; until
they move there, a deployment passes its own :class:`AssessmentSettings`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

from workorders.enums import AssessmentGroup
from workorders.errors import PolicyError
from workorders.periods import Period


class EmptyIndicator(StrEnum):
    """How the total score treats an indicator whose denominator is empty (rate ``None``)."""

    # Leave it out and scale the remaining weights up to the full total (default): a unit is
    # judged only on what applies to it, e.g. no satisfaction rate while nothing was revisited.
    RENORMALISE = "renormalise"
    # Count it at full marks (rate 1): nothing went wrong, so nothing is deducted.
    FULL_MARKS = "full_marks"


_CHECK_IN_PERIOD = Period.hours(2)


def _seed_000_awards() -> Mapping[AssessmentGroup, int]:
    return MappingProxyType(
        {
            AssessmentGroup.DISTRICT: 1,
            AssessmentGroup.COUNTY: 1,
            AssessmentGroup.DEPARTMENT: 2,
            AssessmentGroup.STREET: 2,
        }
    )


@dataclass(frozen=True)
class AssessmentSettings:
    """Conventions of the assessment; candidates for the policy profile.

    - ``check_in_period`` (查收时限): seed 000 assesses 查收 but no seed gives a time. Convention:
      2 wall-clock hours from the assignment (RULES.md: hour periods are wall-clock hours from the
      event that starts them). A working-day period needs a calendar passed to the assessment.
    - ``empty_indicator``: see :class:`EmptyIndicator`; the seeds are silent.
    - ``escalation_window_months``: "一年内" (Art. 28(5), 29(2)) read as a rolling window of the
      current month and the 11 before it.
    - ``award_places``: seed 000 — first place among districts and among counties, the top two
      among departments and among streets/towns (全市年度"优质服务热线单位").
    - ``award_disqualifying_consequences``: Art. 29 — a public statement (公开表态发言) comes
      with the loss of award eligibility (取消评先资格) for that year.
    - ``score_places``: scores are shown with 2 decimals (ROUND_HALF_UP); ranking and the
      interview thresholds use the exact scores, never the rounded ones.
    """

    check_in_period: Period = _CHECK_IN_PERIOD
    empty_indicator: EmptyIndicator = EmptyIndicator.RENORMALISE
    escalation_window_months: int = 12
    award_places: Mapping[AssessmentGroup, int] = field(default_factory=_seed_000_awards)
    award_disqualifying_consequences: frozenset[str] = frozenset({"public_statement"})
    score_places: int = 2

    def __post_init__(self) -> None:
        if self.escalation_window_months < 1:
            raise PolicyError("policy-bad-value", "escalation_window_months 至少为1")
        if any(n < 0 for n in self.award_places.values()):
            raise PolicyError("policy-bad-value", "award_places 不能为负数")
        if self.score_places < 0:
            raise PolicyError("policy-bad-value", "score_places 不能为负数")


DEFAULT_SETTINGS = AssessmentSettings()

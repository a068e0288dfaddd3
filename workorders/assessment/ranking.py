"""Monthly ranking in the four groups, the interview triggers and their escalation (Art. 28-29).

Ranking (seed 000: 市内五区 / 街道（乡、镇）/ 县（市、区）/ 市直和驻平单位)
    Within a group, by exact score, highest first. **Equal scores share a rank** and the next rank
    skips (standard competition ranking: 100, 90, 90, 80 → 1, 2, 2, 4). Units without a score (no
    orders in the month) are not ranked and never interviewed; they are listed as unranked.

Interview trigger, Art. 28(4) (``policy.interview_rules``, one rule per group)
    A unit is among the group's **last n** when fewer than n ranked units score strictly lower than
    it — so a tie reaching into the last n places brings in every unit of the tie, as equal scores
    are treated alike. It is interviewed when it is among the last n **and** its score is strictly
    below ``below_fraction_of_top`` × the group's top score (``None``: being among the last n is
    enough). A unit with the top score is never "last" (a group of one, or all scores equal).

Escalation, Art. 28(5) and 29(2) (``policy.escalation_rules``)
    Looked at in a month in which the unit is interviewed, over that month and the 11 before it
    (``AssessmentSettings.escalation_window_months``): the rule applies when the interviews of
    consecutive months ending with this one reach ``consecutive``, or the interviews in the window
    reach ``total_in_year`` (``None``: consecutive interviews only, as in Hedong). The history counts
    every interview of the unit (any ground of Art. 28), one per month.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from workorders.enums import AssessmentGroup
from workorders.policy import EscalationRule, InterviewRule

from .settings import DEFAULT_SETTINGS, AssessmentSettings
from .values import Month


@dataclass(frozen=True, slots=True)
class RankedUnit:
    unit_id: str
    score: Fraction
    rank: int  # 1 = best; equal scores share a rank


@dataclass(frozen=True, slots=True)
class GroupRanking:
    group: AssessmentGroup
    ranked: tuple[RankedUnit, ...]  # best first; ties by unit id
    unranked: tuple[str, ...] = ()  # units without a score

    @property
    def top_score(self) -> Fraction | None:
        return self.ranked[0].score if self.ranked else None

    def rank_of(self, unit_id: str) -> int | None:
        return next((r.rank for r in self.ranked if r.unit_id == unit_id), None)


@dataclass(frozen=True, slots=True)
class InterviewTrigger:
    """通报约谈 of Art. 28(4): who, and the numbers that put the unit there."""

    unit_id: str
    group: AssessmentGroup
    rank: int
    group_size: int
    score: Fraction
    top_score: Fraction
    threshold: Fraction | None  # below_fraction_of_top × top_score; None: last place is enough
    rule: InterviewRule


@dataclass(frozen=True, slots=True)
class Escalation:
    """An escalation of Art. 28(5) (main leader interviewed) or Art. 29(2) (public statement)."""

    unit_id: str
    month: Month
    consequence: str
    consecutive: int  # interviews in consecutive months ending with ``month``
    in_window: tuple[Month, ...]  # the interviews counted in the rolling window
    by_consecutive: bool
    by_total: bool
    rule: EscalationRule


def rank_group(group: AssessmentGroup, scores: Mapping[str, Fraction | None]) -> GroupRanking:
    """Standard competition ranking of the scored units; ``None`` scores are unranked."""
    scored = sorted(((uid, s) for uid, s in scores.items() if s is not None), key=lambda p: (-p[1], p[0]))
    ranked: list[RankedUnit] = []
    for position, (uid, score) in enumerate(scored, start=1):
        rank = ranked[-1].rank if ranked and ranked[-1].score == score else position
        ranked.append(RankedUnit(uid, score, rank))
    unranked = tuple(sorted(uid for uid, s in scores.items() if s is None))
    return GroupRanking(group, tuple(ranked), unranked)


def interview_triggers(ranking: GroupRanking, rule: InterviewRule) -> tuple[InterviewTrigger, ...]:
    """The units of ``ranking`` that ``rule`` sends to an interview (Art. 28(4))."""
    top = ranking.top_score
    if top is None or rule.last_n <= 0:
        return ()
    threshold = None if rule.below_fraction_of_top is None else Fraction(rule.below_fraction_of_top) * top
    size = len(ranking.ranked)
    out = []
    for entry in ranking.ranked:
        lower = sum(1 for other in ranking.ranked if other.score < entry.score)
        if lower >= rule.last_n or entry.score == top:
            continue
        if threshold is not None and not entry.score < threshold:
            continue
        out.append(
            InterviewTrigger(
                entry.unit_id, ranking.group, entry.rank, size, entry.score, top, threshold, rule
            )
        )
    return tuple(out)


def escalations(
    month: Month,
    interviewed: Iterable[str],
    history: Mapping[str, Iterable[Month]],
    rules: Iterable[EscalationRule],
    settings: AssessmentSettings = DEFAULT_SETTINGS,
) -> tuple[Escalation, ...]:
    """The escalations due in ``month`` for the units ``interviewed`` in it.

    ``history`` maps a unit to the months it was interviewed before (or including) ``month``;
    months after ``month`` are ignored, and ``month`` itself counts for every unit ``interviewed``.
    """
    window_start = month.shift(-(settings.escalation_window_months - 1))
    rule_list = tuple(rules)
    out: list[Escalation] = []
    for uid in sorted(set(interviewed)):
        months = {m for m in history.get(uid, ()) if window_start <= m <= month} | {month}
        streak = 0
        while month.shift(-streak) in months:
            streak += 1
        in_window = tuple(sorted(months))
        for rule in rule_list:
            by_consecutive = streak >= rule.consecutive
            by_total = rule.total_in_year is not None and len(in_window) >= rule.total_in_year
            if by_consecutive or by_total:
                out.append(
                    Escalation(
                        uid, month, rule.consequence, streak, in_window, by_consecutive, by_total, rule
                    )
                )
    return tuple(out)

"""The total score of a unit: the weighted sum of its indicator rates (seed 000; Art. 26).

    score = Σ weight(k) × value(k)        value(k) = rate(k), or 1 − rate(k) for the indicators
                                          where lower is better (returns, extensions, re-handled)

The weights are the profile's ``indicator_weights`` (Decimals, converted exactly to fractions);
with weights summing to 100 a perfect unit scores 100. An indicator whose denominator is empty is
left out with the remaining weights scaled up to the full total (``EmptyIndicator.RENORMALISE``,
the default), or counted at full marks (``EmptyIndicator.FULL_MARKS``). The score is exact; it is
rounded (ROUND_HALF_UP, 2 places) only when shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from workorders.errors import PolicyError

from .settings import AssessmentSettings, EmptyIndicator
from .values import Indicator, IndicatorKey


@dataclass(frozen=True)
class ScoreBreakdown:
    """The total and each weighted indicator's share of it, so that a unit can check the sum."""

    total: Fraction
    parts: Mapping[IndicatorKey, Fraction]  # weight × value, after any renormalisation
    left_out: tuple[IndicatorKey, ...]  # weighted indicators with an empty denominator


def weights_of(weights: Mapping[str, Decimal]) -> dict[IndicatorKey, Fraction]:
    """The profile's weights by indicator; an unknown name or a negative weight is an error."""
    out: dict[IndicatorKey, Fraction] = {}
    for name, weight in weights.items():
        try:
            key = IndicatorKey(name)
        except ValueError as exc:
            known = "、".join(k.value for k in IndicatorKey)
            raise PolicyError(
                "assessment-unknown-indicator", f"未知的考核指标“{name}”（可选：{known}）"
            ) from exc
        if weight < 0:
            raise PolicyError("policy-bad-value", f"考核指标“{name}”的权重不能为负数")
        out[key] = Fraction(weight)
    return out


def total_score(
    indicators: Mapping[IndicatorKey, Indicator],
    weights: Mapping[str, Decimal],
    settings: AssessmentSettings,
) -> ScoreBreakdown | None:
    """The weighted score, or ``None`` when no weighted indicator applies (renormalising)."""
    by_key = {k: w for k, w in weights_of(weights).items() if w}
    full = sum(by_key.values(), Fraction(0))
    values: dict[IndicatorKey, Fraction] = {}
    left_out: list[IndicatorKey] = []
    for key, weight in by_key.items():
        rate = indicators[key].rate
        if rate is None:
            if settings.empty_indicator is EmptyIndicator.FULL_MARKS:
                values[key] = weight
            else:
                left_out.append(key)
            continue
        values[key] = weight * (rate if key.higher_is_better else 1 - rate)
    applicable = full - sum((by_key[k] for k in left_out), Fraction(0))
    if applicable == 0:
        return None
    scale = full / applicable
    parts = {k: v * scale for k, v in values.items()}
    return ScoreBreakdown(sum(parts.values(), Fraction(0)), MappingProxyType(parts), tuple(left_out))

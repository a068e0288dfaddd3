"""Conventions of the hot-topic analysis (热点难点分析, Art. 19; seed 003), read from data.

The production values live with the topic dictionary (``minhu/reports/data/topics.toml``, section
``[analysis]``), each with its reason; the defaults here are the same values, for tests and tools.

- ``trend_windows``: how many windows of the report's own kind a trend shows, the report's window
  last (seed 000 compares three consecutive weeks; the weekly analysis shows four).
- ``top_topics``: how many topics the tables and charts list before "其他主题".
- ``rising_min_orders`` / ``rising_min_share_points``: a topic is *rising* (上升较快) when it has
  at least that many requests in the window and its share grew by at least that many percentage
  points over the previous window of the same kind (a topic absent before counts from 0 %).
- ``cluster_min_orders``: a place with at least that many requests in the window is a cluster
  (聚集地点).
- ``difficult_min_periods``: seed 003 — 投诉难点 are "三个投诉处理时段以上重复投诉事项": the same
  matter (same topic at the same place, or from the same citizen when the address names no
  place) raised again in at least that many successive handling periods.
- ``difficult_lookback_days``: how far before the window the earlier periods may lie.
- ``difficult_kinds``: the kinds of request that can be "difficult" (consultations cannot).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from types import MappingProxyType

from workorders.enums import RequestKind
from workorders.errors import PolicyError

from .windows import WindowKind


def _trend_defaults() -> Mapping[WindowKind, int]:
    return MappingProxyType({WindowKind.DAY: 7, WindowKind.WEEK: 4, WindowKind.MONTH: 3, WindowKind.YEAR: 2})


@dataclass(frozen=True)
class AnalysisSettings:
    trend_windows: Mapping[WindowKind, int] = field(default_factory=_trend_defaults)
    top_topics: int = 10
    rising_min_orders: int = 3
    rising_min_share_points: Decimal = Decimal("1.0")
    cluster_min_orders: int = 3
    difficult_min_periods: int = 3
    difficult_lookback_days: int = 90
    difficult_kinds: frozenset[RequestKind] = frozenset(
        {RequestKind.COMPLAINT, RequestKind.HELP, RequestKind.SUGGESTION}
    )

    def __post_init__(self) -> None:
        if any(n < 1 for n in self.trend_windows.values()):
            raise PolicyError("analysis-bad-value", "trend_windows 每项至少为1")
        for name in ("top_topics", "rising_min_orders", "cluster_min_orders", "difficult_min_periods"):
            if getattr(self, name) < 1:
                raise PolicyError("analysis-bad-value", f"{name} 至少为1")
        if self.difficult_lookback_days < 0 or self.rising_min_share_points < 0:
            raise PolicyError(
                "analysis-bad-value", "difficult_lookback_days、rising_min_share_points 不能为负数"
            )

    def trend_count(self, kind: WindowKind) -> int:
        return self.trend_windows.get(kind, 1)


DEFAULT_ANALYSIS_SETTINGS = AnalysisSettings()

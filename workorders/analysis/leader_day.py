"""领导接线日 (Art. 6): each month one city leader, department head or district head answers the
public's calls in the command centre for at least two hours; the schedule is published one week
ahead on the government website, 平顶山发布 and the 12345 WeChat account.

The numbers are :class:`LeaderDayRules` (data, ``[leader_day]`` of the analysis data file).
:func:`check_schedule` lists what breaks them for one month; the bulletin shows the list.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from workorders.errors import InvalidInput, PolicyError
from workorders.periods import require_aware

from .windows import Window, WindowKind


@dataclass(frozen=True, slots=True)
class LeaderDayRules:
    per_month: int = 1  # 每月确定1名
    min_minutes: int = 120  # 接线互动时间应不少于2小时
    publish_days_ahead: int = 7  # 提前1周公布

    def __post_init__(self) -> None:
        if self.per_month < 1 or self.min_minutes < 1 or self.publish_days_ahead < 0:
            raise PolicyError("leader-day-bad-rule", "领导接线日规则的数值无效")


@dataclass(frozen=True, slots=True)
class LeaderHotlineDay:
    """One leader's session on the line."""

    starts_at: datetime
    ends_at: datetime
    leader_name: str
    leader_title: str  # 职务, e.g. 市政府副市长, 市城市管理局局长
    venue: str  # 市指挥中心大厅, or a county sub-centre's hall
    focus: str = ""  # the hot topic it answers (根据群众反映的热点)
    published_at: datetime | None = None

    def __post_init__(self) -> None:
        require_aware(self.starts_at, "starts_at")
        require_aware(self.ends_at, "ends_at")
        if not self.starts_at < self.ends_at:
            raise InvalidInput("leader-day-bad-time", "接线结束时间须晚于开始时间")
        if not self.leader_name.strip() or not self.leader_title.strip():
            raise InvalidInput("leader-day-no-leader", "须写明接线领导的姓名和职务")

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)

    def publish_by(self, rules: LeaderDayRules) -> datetime:
        """The latest time the schedule may be published (one week before the start)."""
        return self.starts_at - timedelta(days=rules.publish_days_ahead)


@dataclass(frozen=True, slots=True)
class LeaderDayIssue:
    code: str  # stable slug
    message_zh: str
    day: LeaderHotlineDay | None = None


def check_schedule(
    month: Window,
    days: Sequence[LeaderHotlineDay],
    rules: LeaderDayRules,
    *,
    now: datetime,
) -> tuple[LeaderDayIssue, ...]:
    """What breaks Art. 6 in ``month``'s schedule as it stands at ``now``."""
    if month.kind is not WindowKind.MONTH:
        raise InvalidInput("bad-window", "领导接线日按月安排")
    require_aware(now, "now")
    tz = now.tzinfo
    mine = [d for d in days if month.contains(d.starts_at.astimezone(tz).date())]
    issues: list[LeaderDayIssue] = []
    if len(mine) < rules.per_month:
        issues.append(
            LeaderDayIssue(
                "leader-day-missing",
                f"{month.label_zh}尚未安排领导接线日（第六条：每月确定{rules.per_month}名领导接听群众来电）",
            )
        )
    elif len(mine) > rules.per_month:
        issues.append(
            LeaderDayIssue(
                "leader-day-extra",
                f"{month.label_zh}安排了{len(mine)}次领导接线，多于每月{rules.per_month}次（第六条）",
            )
        )
    for d in sorted(mine, key=lambda d: d.starts_at):
        when = d.starts_at.astimezone(tz)
        label = f"{when.month}月{when.day}日{d.leader_title}{d.leader_name}"
        if d.minutes < rules.min_minutes:
            issues.append(
                LeaderDayIssue(
                    "leader-day-too-short",
                    f"{label}接线{d.minutes}分钟，少于{rules.min_minutes // 60}小时（第六条）",
                    d,
                )
            )
        deadline = d.publish_by(rules)
        if d.published_at is None and now > deadline:
            issues.append(
                LeaderDayIssue(
                    "leader-day-not-published",
                    f"{label}的接线安排未在接线前{rules.publish_days_ahead}天公布（第六条：提前1周公布）",
                    d,
                )
            )
        elif d.published_at is not None and d.published_at > deadline:
            issues.append(
                LeaderDayIssue(
                    "leader-day-published-late",
                    f"{label}的接线安排公布于接线前不足{rules.publish_days_ahead}天（第六条：提前1周公布）",
                    d,
                )
            )
    return tuple(issues)

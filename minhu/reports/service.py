"""Produces the bulletins (周分析、月通报、年总结, Art. 19) from the database into files.

Reads the orders registered since :func:`workorders.analysis.data_start` of the window (the
trends, the previous window and the difficult-request lookback need them), the working calendar,
the monthly assessment of :mod:`minhu.services.assessment` and the leaders' hotline days, builds
the :class:`~.model.Bulletin` and writes it as HTML, DOCX, XLSX and CSV.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from minhu.policy import load_profile
from minhu.services.assessment import annual_assessment, monthly_assessment
from minhu.services.calendar import CalendarProvider
from minhu.settings import Settings
from workorders.analysis import HotTopicAnalysis, Window, WindowKind, analyse, data_start
from workorders.assessment import Month
from workorders.clock import Clock

from .builder import annual_section, assessment_section, build_bulletin, leader_day_section
from .dictionary import AnalysisData, classifier_for, load_analysis_data
from .leader_days import LeaderDayService
from .model import Bulletin, Section
from .render import write_bulletin
from .source import request_records, unit_names

KIND_OF = {WindowKind.WEEK: "weekly", WindowKind.MONTH: "monthly", WindowKind.YEAR: "annual"}
ISSUER = "平顶山市民呼必应指挥中心"


@dataclass(frozen=True)
class ReportFiles:
    bulletin: Bulletin
    analysis: HotTopicAnalysis
    paths: dict[str, Path]


async def hot_topic_analysis(
    session: AsyncSession, settings: Settings, window: Window, *, data: AnalysisData | None = None
) -> HotTopicAnalysis:
    data = data or load_analysis_data()
    policy = load_profile(settings.policy_profile, settings.policy_overrides)
    tz = policy.tz
    start = datetime.combine(data_start(window, data.settings), time(0), tzinfo=tz)
    end = window.bounds(tz)[1]
    records = await request_records(session, start, end, tz)
    calendar = await CalendarProvider().get(session)
    return analyse(
        records,
        window,
        classifier=classifier_for(data),
        places=data.places,
        policy=policy,
        calendar=calendar,
        settings=data.settings,
    )


async def build_report(
    session: AsyncSession,
    settings: Settings,
    window: Window,
    *,
    clock: Clock,
    data: AnalysisData | None = None,
) -> tuple[Bulletin, HotTopicAnalysis]:
    data = data or load_analysis_data()
    kind = KIND_OF[window.kind]
    analysis = await hot_topic_analysis(session, settings, window, data=data)
    now = clock.now().astimezone(settings.tz)
    extra: list[Section] = []
    if window.kind is WindowKind.MONTH:
        month = Month(window.start.year, window.start.month)
        extra.append(assessment_section(await monthly_assessment(session, settings, month, clock=clock)))
        leader = LeaderDayService(session, clock=LocalClock(clock, settings), rules=data.leader_day)
        nxt = window.shift(1)
        days = await leader.schedule(window, nxt)
        issues = (*await leader.check(window), *await leader.check(nxt))
        extra.append(leader_day_section(window, days, issues, data.leader_day))
    elif window.kind is WindowKind.YEAR:
        result = await annual_assessment(session, settings, window.start.year, clock=clock)
        extra.append(annual_section(result, await unit_names(session)))
    bulletin = build_bulletin(
        kind,
        analysis,
        top_topics=data.settings.top_topics,
        difficult_periods=data.settings.difficult_min_periods,
        issuer=ISSUER,
        generated_at=now,
        extra=extra,
    )
    return bulletin, analysis


async def produce_report(
    session: AsyncSession,
    settings: Settings,
    window: Window,
    *,
    clock: Clock,
    out_dir: Path,
    data: AnalysisData | None = None,
) -> ReportFiles:
    """Builds the bulletin of ``window`` (a week, month or year) and writes every format."""
    bulletin, analysis = await build_report(session, settings, window, clock=clock, data=data)
    return ReportFiles(bulletin, analysis, write_bulletin(bulletin, out_dir))


class LocalClock:
    """The clock in the deployment's timezone (the schedule is shown in local time)."""

    def __init__(self, clock: Clock, settings: Settings) -> None:
        self._clock = clock
        self._tz = settings.tz

    def now(self) -> datetime:
        return self._clock.now().astimezone(self._tz)

"""``minhu report``: the bulletins (周分析、月通报、年总结) and the leaders' hotline days (Art. 6)."""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.settings import Settings
from workorders.analysis import Window, WindowKind
from workorders.errors import DomainError

if TYPE_CHECKING:
    from minhu.reports.leader_days import LeaderDayService

report_app = typer.Typer(
    help="分析报告：周分析、月通报、年总结（第十九条），领导接线日（第六条）。\n\n"
    "Reports: weekly analysis, monthly bulletin, annual summary (Art. 19); leaders' hotline days (Art. 6).",
    no_args_is_help=True,
)
leader_app = typer.Typer(
    help="领导接线日：安排、查看、公布（提前1周）。 Leaders' hotline days: schedule, list, publish.",
    no_args_is_help=True,
)
report_app.add_typer(leader_app, name="leader-day")

OutOption = Annotated[Path, typer.Option("--out", "-o", help="输出目录 / output directory", file_okay=False)]
DEFAULT_OUT = Path("var/reports")
_T = TypeVar("_T")


def _run(ctx: typer.Context, work: Callable[[AsyncSession, Settings], Awaitable[_T]]) -> _T:
    from minhu.db.engine import create_engine, create_session_factory

    settings: Settings = ctx.obj

    async def run() -> _T:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as session:
                return await work(session, settings)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except DomainError as exc:
        typer.secho(f"失败 / failed: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc


def _window(kind: WindowKind, text: str) -> Window:
    try:
        return Window.parse(kind, text)
    except DomainError as exc:
        raise typer.BadParameter(exc.message) from exc


def _produce(ctx: typer.Context, window: Window, out: Path) -> None:
    from minhu.reports.service import produce_report
    from workorders.clock import SystemClock

    async def work(session: AsyncSession, settings: Settings) -> dict[str, Path]:
        files = await produce_report(session, settings, window, clock=SystemClock(settings.tz), out_dir=out)
        return files.paths

    paths = _run(ctx, work)
    typer.echo(f"已生成 {window.label_zh} 报告 / report written:")
    for fmt, path in paths.items():
        typer.echo(f"  {fmt:<5} {path.resolve()}")


@report_app.command("weekly")
def weekly(
    ctx: typer.Context,
    week: Annotated[str, typer.Argument(help="ISO 周，如 2026-W43 / ISO week")],
    out: OutOption = DEFAULT_OUT,
) -> None:
    """周分析：热点、趋势、上升主题、集中地点、难点诉求。 Weekly analysis."""
    _produce(ctx, _window(WindowKind.WEEK, week), out)


@report_app.command("monthly")
def monthly(
    ctx: typer.Context,
    month: Annotated[str, typer.Argument(help="月份，如 2026-10 / month")],
    out: OutOption = DEFAULT_OUT,
) -> None:
    """月通报：受理量、热点分析、考核排名与约谈、领导接线日。 Monthly bulletin."""
    _produce(ctx, _window(WindowKind.MONTH, month), out)


@report_app.command("annual")
def annual(
    ctx: typer.Context,
    year: Annotated[str, typer.Argument(help="年份，如 2026 / year")],
    out: OutOption = DEFAULT_OUT,
) -> None:
    """年总结：全年热点与年度考核（月均分、评先）。 Annual summary."""
    _produce(ctx, _window(WindowKind.YEAR, year), out)


def _service(session: AsyncSession, settings: Settings) -> LeaderDayService:
    from minhu.reports.dictionary import load_analysis_data
    from minhu.reports.leader_days import LeaderDayService
    from minhu.reports.service import LocalClock
    from workorders.clock import SystemClock

    clock = LocalClock(SystemClock(settings.tz), settings)
    return LeaderDayService(session, clock=clock, rules=load_analysis_data().leader_day)


@leader_app.command("add")
def leader_add(
    ctx: typer.Context,
    start: Annotated[str, typer.Option(help="开始时间，如 2026-12-16T09:00（本地时间） / start, local time")],
    leader: Annotated[str, typer.Option(help="接线领导姓名 / leader's name")],
    title: Annotated[str, typer.Option(help="职务，如 市政府副市长 / title")],
    minutes: Annotated[int, typer.Option(help="接线时长（分钟），不少于120 / minutes")] = 120,
    venue: Annotated[str, typer.Option(help="地点 / venue")] = "市指挥中心大厅",
    focus: Annotated[str, typer.Option(help="关注热点 / the hot topic it answers")] = "",
) -> None:
    """安排一次领导接线。 Schedule a leader's session on the line."""
    settings: Settings = ctx.obj
    try:
        starts_at = datetime.fromisoformat(start)
    except ValueError as exc:
        raise typer.BadParameter(f"无法识别的时间“{start}”，应写作如 2026-12-16T09:00") from exc
    if starts_at.tzinfo is None:
        starts_at = starts_at.replace(tzinfo=settings.tz)

    async def work(session: AsyncSession, settings: Settings) -> None:
        await _service(session, settings).add(
            starts_at=starts_at,
            minutes=minutes,
            leader_name=leader,
            leader_title=title,
            venue=venue,
            focus=focus,
            created_by=f"cli:{getpass.getuser()}",
        )

    _run(ctx, work)
    local = starts_at.astimezone(settings.tz)
    typer.echo(f"已安排 {local:%Y-%m-%d %H:%M} {title}{leader}接线 {minutes} 分钟 / scheduled")


@leader_app.command("list")
def leader_list(
    ctx: typer.Context, month: Annotated[str, typer.Argument(help="月份，如 2026-12 / month")]
) -> None:
    """查看某月的接线安排及是否符合第六条。 Show a month's schedule and its rule check."""
    window = _window(WindowKind.MONTH, month)

    async def work(session: AsyncSession, settings: Settings) -> tuple[list[str], list[str]]:
        service = _service(session, settings)
        days = await service.schedule(window)
        lines = [
            f"{d.starts_at:%Y-%m-%d %H:%M}—{d.ends_at:%H:%M} {d.leader_title}{d.leader_name} {d.venue}"
            f" {'已公布 ' + format(d.published_at, '%Y-%m-%d') if d.published_at else '未公布'}"
            for d in days
        ]
        return lines, [i.message_zh for i in await service.check(window)]

    lines, issues = _run(ctx, work)
    typer.echo(f"{window.label_zh}领导接线日 / leaders' hotline days:")
    for line in lines or ["  （无）"]:
        typer.echo(f"  {line}")
    for issue in issues:
        typer.secho(f"  ! {issue}", fg=typer.colors.YELLOW)


@leader_app.command("publish")
def leader_publish(
    ctx: typer.Context,
    month: Annotated[str, typer.Argument(help="月份，如 2026-12 / month")],
    out: OutOption = DEFAULT_OUT,
) -> None:
    """公布某月的接线安排（记录公布时间）并生成公告页面。 Publish a month's schedule as a notice."""
    from minhu.reports.builder import leader_day_section
    from minhu.reports.model import Bulletin
    from minhu.reports.render import write_bulletin
    from minhu.reports.service import ISSUER

    window = _window(WindowKind.MONTH, month)

    async def work(session: AsyncSession, settings: Settings) -> tuple[dict[str, Path], list[str]]:
        service = _service(session, settings)
        days, issues = await service.publish(window)
        section = leader_day_section(window, days, issues, service.rules, title="接线安排")
        notice = Bulletin(
            kind="leader-day",
            label=window.label,
            title=f"{window.label_zh}领导接线日安排",
            period=window.span_zh,
            issuer=ISSUER,
            generated_at=datetime.now(settings.tz),
            summary=(),
            sections=(section,),
        )
        return write_bulletin(notice, out), [i.message_zh for i in issues]

    paths, issues = _run(ctx, work)
    typer.echo(f"已公布 {window.label_zh} 领导接线日安排 / published:")
    for fmt, path in paths.items():
        typer.echo(f"  {fmt:<5} {path.resolve()}")
    for issue in issues:
        typer.secho(f"  ! {issue}", fg=typer.colors.YELLOW)

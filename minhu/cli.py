"""The ``minhu`` command line for operators (运维命令行)."""

from __future__ import annotations

import asyncio
import getpass
import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from minhu.logging import configure_logging
from minhu.reports.cli import report_app
from minhu.settings import Settings
from workorders.enums import Role
from workorders.errors import DomainError
from workorders.model import Actor

app = typer.Typer(
    help="民呼必应 Minhu：12345 政务服务热线后端的运维命令。\n\n"
    "Minhu: operator commands of the 12345 hotline backend. "
    "Settings come from MINHU_* environment variables or a .env file (see .env.example).",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="数据库：迁移到最新结构。 Database: apply migrations.", no_args_is_help=True)
calendar_app = typer.Typer(
    help="工作日历：导入官方节假日安排、查看覆盖年份。\n\n"
    "Working-day calendar: load official schedules, show coverage.",
    no_args_is_help=True,
)
dialer_app = typer.Typer(
    help="回访外呼：按第十六、十七条自动回访已回复工单。\n\n"
    "Revisit dialer: automatic satisfaction-survey calls under Art. 16-17.",
    no_args_is_help=True,
)
app.add_typer(db_app, name="db")
app.add_typer(calendar_app, name="calendar")
app.add_typer(dialer_app, name="dialer")
app.add_typer(report_app, name="report")


def _settings(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


@app.callback()
def main(ctx: typer.Context) -> None:
    """民呼必应 Minhu 运维命令 / operator commands."""
    try:
        settings = Settings()
    except ValidationError as exc:
        typer.secho(f"配置错误 / invalid settings:\n{exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    configure_logging(settings.log_level, settings.log_format)
    ctx.obj = settings


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="监听地址 / bind address (MINHU_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="端口 / port (MINHU_PORT)")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="工作进程数 / worker processes (about one per CPU core)")
    ] = 1,
) -> None:
    """启动 API 服务（坐席桌面后端）。 Start the API server (agent desktop backend)."""
    import uvicorn

    from agent_desktop.app import create_app

    settings = _settings(ctx)
    host = host or settings.host
    port = port or settings.port
    if settings.jwt_secret_generated:
        typer.secho(
            "未设置 MINHU_JWT_SECRET：本次运行使用随机生成的密钥，重启后需重新登录。\n"
            "MINHU_JWT_SECRET is not set: a random secret was generated for this run.",
            fg=typer.colors.YELLOW,
        )
    typer.secho(f"API 文档 / API docs:      http://{host}:{port}/docs", fg=typer.colors.GREEN)
    typer.secho(f"接口 / API base:          http://{host}:{port}/api/v1", fg=typer.colors.GREEN)
    if workers == 1:
        app = create_app(settings, freeze_heap=True)
        uvicorn.run(app, host=host, port=port, log_config=None, access_log=True)
    else:
        # Each worker process builds its own app from the same environment; a generated secret is
        # handed down so that a token issued by one worker is good on every other.
        if settings.jwt_secret_generated:
            os.environ["MINHU_JWT_SECRET"] = settings.jwt_key()
        uvicorn.run(
            "agent_desktop.app:create_app_from_env",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_config=None,
            access_log=True,
        )


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    revision: Annotated[str, typer.Argument(help="目标版本 / target revision")] = "head",
) -> None:
    """把数据库迁移到最新（或指定）版本。 Migrate the database to the latest (or given) revision."""
    from minhu.db.engine import create_engine
    from minhu.db.migrate import current_revision, upgrade

    settings = _settings(ctx)

    async def run() -> str | None:
        engine = create_engine(settings.database_url)
        try:
            await upgrade(engine, revision)
            return await current_revision(engine)
        finally:
            await engine.dispose()

    current = asyncio.run(run())
    typer.echo(f"数据库已迁移到 {current} / database at revision {current}")


@app.command("seed-demo")
def seed_demo(ctx: typer.Context) -> None:
    """写入演示城市（单位、各角色账号、各状态工单），已存在则跳过。 Seed the demo city (idempotent)."""
    from minhu.db.engine import create_engine, create_session_factory
    from minhu.demo_seed import DEMO_PASSWORD, SeedReport
    from minhu.demo_seed import seed_demo as run_seed
    from minhu.policy import load_profile
    from workorders.clock import SystemClock

    settings = _settings(ctx)
    policy = load_profile(settings.policy_profile, settings.policy_overrides)

    async def run() -> SeedReport:
        engine = create_engine(settings.database_url)
        try:
            return await run_seed(
                create_session_factory(engine), policy=policy, now=SystemClock(settings.tz).now()
            )
        finally:
            await engine.dispose()

    report = asyncio.run(run())
    if report.created:
        typer.echo(f"已创建演示城市：{report.units} 个单位 / demo city created")
        for state, n in report.orders.items():
            typer.echo(f"  {state:<18} {n}")
    else:
        typer.echo("演示数据已存在，跳过 / demo data already present, nothing to do")
    typer.echo(f"\n演示账号（密码均为 {DEMO_PASSWORD}） / demo accounts (password {DEMO_PASSWORD}):")
    for username, role, display in report.users:
        typer.echo(f"  {username:<12} {role:<14} {display}")


@calendar_app.command("load")
def calendar_load(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            readable=True,
            help="JSON（year/holidays/workdays）或 CSV（日期,holiday|workday）。 JSON or CSV of one year.",
        ),
    ],
) -> None:
    """导入一年的官方节假日和调休安排（覆盖此前导入的同一年）。

    Load one year's official holidays and make-up workdays (replaces an earlier load of that year).
    """
    from minhu.db.engine import create_engine, create_session_factory
    from minhu.services.calendar import CalendarProvider, CalendarService
    from workorders.clock import SystemClock

    settings = _settings(ctx)
    actor = Actor(user_id=f"cli:{getpass.getuser()}", role=Role.SYSTEM, name="命令行")
    text = file.read_text(encoding="utf-8-sig")

    async def run() -> tuple[int, int, int]:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as session:
                service = CalendarService(
                    session, clock=SystemClock(settings.tz), provider=CalendarProvider()
                )
                schedule = await service.load(text, file.name, actor=actor, via="cli")
                return schedule.year, len(schedule.holidays), len(schedule.workdays)
        finally:
            await engine.dispose()

    try:
        year, holidays, workdays = asyncio.run(run())
    except DomainError as exc:
        typer.secho(f"导入失败 / not loaded: {exc.message}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"已导入 {year} 年：{holidays} 个节假日，{workdays} 个调休工作日 / loaded {year}")


@calendar_app.command("status")
def calendar_status(ctx: typer.Context) -> None:
    """查看工作日历覆盖的年份及缺失提示。 Show which years the calendar covers."""
    from minhu.db.engine import create_engine, create_session_factory
    from minhu.services.calendar import CalendarProvider, CalendarService
    from workorders.clock import SystemClock

    settings = _settings(ctx)

    async def run() -> tuple[list[int], str | None]:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as session:
                service = CalendarService(
                    session, clock=SystemClock(settings.tz), provider=CalendarProvider()
                )
                status = await service.status()
                return [y.year for y in status.years], status.report.warning_zh
        finally:
            await engine.dispose()

    years, warning = asyncio.run(run())
    typer.echo("已覆盖年份 / covered years: " + ", ".join(str(y) for y in years))
    if warning:
        typer.secho(warning, fg=typer.colors.YELLOW)


@dialer_app.command("run")
def dialer_run(
    ctx: typer.Context,
    worker: Annotated[
        str | None,
        typer.Option(help="进程名（默认主机名加随机后缀） / worker name (default: host name + suffix)"),
    ] = None,
) -> None:
    """启动回访外呼进程：连接 AMI 与 Redis，恢复调度，持续外呼，收到 SIGTERM 后排空通话再退出。

    Run the revisit dialer: connects AMI (MINHU_AMI_*) and Redis, restores the schedule, polls
    replied orders and IVR call-back requests, places the calls; on SIGTERM it stops taking work,
    lets calls in progress finish (MINHU_DIALER_DRAIN_SECONDS), then exits.
    """
    from callback_dialer.process import serve as serve_dialer

    settings = _settings(ctx)
    if not settings.ami_enabled:
        typer.secho(
            "未配置电话系统（MINHU_AMI_HOST、MINHU_AMI_SECRET），无法外呼。\n"
            "The PBX is not configured (MINHU_AMI_HOST, MINHU_AMI_SECRET): the dialer cannot call.",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)
    asyncio.run(serve_dialer(settings, worker=worker))
    typer.echo("回访外呼已停止 / revisit dialer stopped")


asr_app = typer.Typer(
    help="语音识别：实时转写、草稿准确率。 Speech recognition: live transcription, draft accuracy.",
    no_args_is_help=True,
)
app.add_typer(asr_app, name="asr")


@asr_app.command("live")
def asr_live(ctx: typer.Context) -> None:
    """启动实时转写进程：加载 Vosk 模型（MINHU_ASR_*），接收 Asterisk 的 AudioSocket 音频，把转写
    结果与知识库推荐推送到坐席工作台。

    Run live transcription: the Vosk worker pool (MINHU_ASR_MODEL_PATH, MINHU_ASR_WORKERS), the
    AudioSocket server Asterisk streams to (MINHU_ASR_AUDIOSOCKET_HOST/PORT), partial results and
    knowledge-base suggestions pushed to the agent's desktop over Redis. Stops on Ctrl-C/SIGTERM.
    """
    from agent_desktop.live_transcript import serve as serve_live
    from asr.settings import AsrSettings

    settings = _settings(ctx)
    stop = asyncio.Event()

    async def run() -> None:
        import signal

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await serve_live(settings, AsrSettings(), stop=stop)

    asyncio.run(run())
    typer.echo("实时转写已停止 / live transcription stopped")


@asr_app.command("accuracy")
def asr_accuracy(
    ctx: typer.Context,
    date_from: Annotated[str, typer.Option("--from", help="开始日期（含），如 2026-11-01 / first day")],
    date_to: Annotated[str, typer.Option("--to", help="结束日期（含） / last day (inclusive)")],
) -> None:
    """工单草稿各字段的准确率（坐席采纳建议值的比例），按坐席的确认记录精确计算。

    Per-field accuracy of draft work orders over the given days: the share of the agents'
    decisions that accepted the suggestion, from exact counts.
    """
    from datetime import date

    from minhu.db.engine import create_engine, create_session_factory
    from minhu.services.drafts import FIELD_LABELS, AccuracyReport, DraftService, decimal_of
    from minhu.services.errors import ServiceError
    from workorders.clock import SystemClock

    settings = _settings(ctx)
    try:
        first, last = date.fromisoformat(date_from), date.fromisoformat(date_to)
    except ValueError as exc:
        typer.secho(f"日期格式应为 YYYY-MM-DD / bad date: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    actor = Actor(user_id="minhu-cli", role=Role.SYSTEM, name="运维命令行")

    async def run() -> AccuracyReport:
        engine = create_engine(settings.database_url)
        try:
            async with create_session_factory(engine)() as session:
                service = DraftService(session, clock=SystemClock(settings.tz), tz=settings.tz)
                return await service.accuracy(actor, first, last)
        finally:
            await engine.dispose()

    try:
        report = asyncio.run(run())
    except ServiceError as exc:
        typer.secho(exc.message, fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{first.isoformat()} 至 {last.isoformat()}：{report.drafts} 份草稿 / drafts")
    for f in (*report.fields, report.overall):
        label = FIELD_LABELS.get(f.field, "全部字段")
        typer.echo(f"  {f.field:<9} {label:<6} {f.accepted}/{f.decided}  {decimal_of(f.accuracy) or '—'}")

"""The working-day calendar: coverage status, loading a year, previewing a deadline."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Query, UploadFile, status
from pydantic import AwareDatetime

from minhu.services.errors import BadInput
from workorders.enums import Category, Channel

from ..deps import ActorDep, CalendarDep, OrdersDep
from ..errors import responses
from ..presenters import calendar_status_out, deadline_out
from ..schemas import CalendarLoadOut, CalendarStatusOut, DeadlinePreviewOut

router = APIRouter(tags=["calendar 工作日历"])

MAX_CALENDAR_FILE = 256 * 1024


@router.get("/calendar/status", response_model=CalendarStatusOut, responses=responses(401))
async def calendar_status(_actor: ActorDep, calendars: CalendarDep) -> CalendarStatusOut:
    """哪些年份有官方节假日安排；本年或下一年缺失时给出提示 (covered years and fallback warning)."""
    return calendar_status_out(await calendars.status())


@router.post(
    "/calendar/years",
    response_model=CalendarLoadOut,
    status_code=status.HTTP_201_CREATED,
    responses=responses(401, 403, 413, 422),
)
async def load_calendar_year(
    actor: ActorDep, calendars: CalendarDep, file: Annotated[UploadFile, File()]
) -> CalendarLoadOut:
    """导入一年的官方节假日和调休安排（JSON 或 CSV，管理员）。

    Admin only; the same formats as ``minhu calendar load``."""
    raw = await file.read(MAX_CALENDAR_FILE + 1)
    if len(raw) > MAX_CALENDAR_FILE:
        raise BadInput("file-too-large", "日历文件过大")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BadInput("file-not-utf8", "日历文件须为 UTF-8 编码") from exc
    schedule = await calendars.load(text, file.filename or "calendar.json", actor=actor, via="api")
    return CalendarLoadOut(
        year=schedule.year,
        holidays=len(schedule.holidays),
        workdays=len(schedule.workdays),
        source=schedule.source,
    )


@router.get("/deadlines/preview", response_model=DeadlinePreviewOut, responses=responses(401, 422))
async def preview_deadline(
    _actor: ActorDep,
    orders: OrdersDep,
    category: Category,
    start: Annotated[AwareDatetime, Query(description="交办时间，须带时区 (assignment time, with offset)")],
    channel: Channel = Channel.PHONE,
) -> DeadlinePreviewOut:
    """按当前政策和工作日历预览办理时限 (the handling deadline an assignment at ``start`` would get)."""
    return deadline_out(await orders.deadline_preview(category, channel, start))

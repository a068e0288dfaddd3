"""The agent's page ``/desktop`` and the supervisor's ``/desktop/supervisor``: static HTML and
script served by the API itself (no front-end build)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

STATIC = Path(__file__).resolve().parent.parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/desktop")
async def desktop() -> FileResponse:
    return FileResponse(STATIC / "desktop.html", media_type="text/html; charset=utf-8")


@router.get("/desktop/supervisor")
async def supervisor() -> FileResponse:
    return FileResponse(STATIC / "supervisor.html", media_type="text/html; charset=utf-8")

"""Dependencies: the request's database session, the signed-in user, and the services built on
them. Everything comes from ``app.state``, set by :func:`agent_desktop.app.create_app`.

Every dependency is ``async def``, even when it awaits nothing: FastAPI runs a plain ``def``
dependency in its thread pool, a thread hop per dependency per request."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.models import User
from minhu.services.calendar import CalendarService
from minhu.services.directory import DirectoryService, SignInCache
from minhu.services.workorders import WorkOrderService
from minhu.settings import Settings
from workorders.model import Actor

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request; the services commit or roll back, this only closes it."""
    async with request.app.state.session_factory() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def directory_service(request: Request, session: SessionDep) -> DirectoryService:
    return DirectoryService(session, clock=request.app.state.clock)


DirectoryDep = Annotated[DirectoryService, Depends(directory_service)]


async def current_user(
    token: Annotated[str, Depends(oauth2)], directory: DirectoryDep, settings: SettingsDep
) -> User:
    return await directory.user_for_token(token, settings)


CurrentUser = Annotated[User, Depends(current_user)]


async def current_actor(
    request: Request, token: Annotated[str, Depends(oauth2)], session: SessionDep
) -> Actor:
    """The signed-in user as the domain sees them, from the app's :class:`SignInCache` (the
    database is asked at most every few seconds per user, not on every request)."""
    state = request.app.state
    cache: SignInCache = state.sign_ins
    return await cache.actor(token, session=session, settings=state.settings, clock=state.clock)


ActorDep = Annotated[Actor, Depends(current_actor)]


async def order_service(request: Request, session: SessionDep) -> WorkOrderService:
    state = request.app.state
    return WorkOrderService(
        session, clock=state.clock, policy=state.policy, calendars=state.calendars, via="api"
    )


OrdersDep = Annotated[WorkOrderService, Depends(order_service)]


async def calendar_service(request: Request, session: SessionDep) -> CalendarService:
    return CalendarService(session, clock=request.app.state.clock, provider=request.app.state.calendars)


CalendarDep = Annotated[CalendarService, Depends(calendar_service)]

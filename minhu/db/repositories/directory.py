"""Units and users (the directory)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.models import Unit, User


class UnitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, unit_id: int) -> Unit | None:
        return await self._session.get(Unit, unit_id)

    async def by_code(self, code: str) -> Unit | None:
        return (await self._session.execute(select(Unit).where(Unit.code == code))).scalar_one_or_none()

    async def many(self, ids: Iterable[int]) -> dict[int, Unit]:
        wanted = set(ids)
        if not wanted:
            return {}
        rows = (await self._session.execute(select(Unit).where(Unit.id.in_(wanted)))).scalars()
        return {u.id: u for u in rows}

    async def list(self, *, group: str | None = None) -> list[Unit]:
        stmt = select(Unit).order_by(Unit.assessment_group, Unit.code)
        if group:
            stmt = stmt.where(Unit.assessment_group == group)
        return list((await self._session.execute(stmt)).scalars())

    async def add(self, unit: Unit) -> Unit:
        self._session.add(unit)
        await self._session.flush()
        return unit


class UserRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def get(self, user_id: int) -> User | None:
        return await self._session.get(User, user_id)

    async def by_username(self, username: str) -> User | None:
        stmt = select(User).where(User.username == username)
        return (await self._session.execute(stmt)).scalar_one_or_none()

    async def list(self, *, role: str | None = None, unit_id: int | None = None) -> list[User]:
        stmt = select(User).order_by(User.username)
        if role:
            stmt = stmt.where(User.role == role)
        if unit_id is not None:
            stmt = stmt.where(User.unit_id == unit_id)
        return list((await self._session.execute(stmt)).scalars())

    async def add(self, user: User) -> User:
        self._session.add(user)
        await self._session.flush()
        return user

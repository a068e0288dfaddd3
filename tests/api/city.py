"""A small test city: units in the four groups and one user per role, with tokens on demand."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.models import Unit, User
from minhu.security import hash_password, issue_token
from minhu.settings import Settings
from workorders.clock import FixedClock

PASSWORD = "correct-horse-battery"


@cache
def _hash() -> str:
    return hash_password(PASSWORD)


@dataclass
class City:
    client: httpx.AsyncClient
    clock: FixedClock
    settings: Settings
    units: dict[str, int] = field(default_factory=dict)
    users: dict[str, tuple[int, str]] = field(default_factory=dict)  # username: (id, role)

    def headers(self, username: str) -> dict[str, str]:
        """A fresh token for ``username``, issued at the clock's current time."""
        user_id, role = self.users[username]
        token, _ = issue_token(
            user_id=user_id,
            role=role,
            now=self.clock.now(),
            lifetime=timedelta(minutes=self.settings.access_token_minutes),
            secret=self.settings.jwt_key(),
            algorithm=self.settings.jwt_algorithm,
        )
        return {"Authorization": f"Bearer {token}"}

    async def post(self, who: str, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        return await self.client.post(f"/api/v1{path}", json=json, headers=self.headers(who), **kw)

    async def get(self, who: str, path: str, **kw: Any) -> httpx.Response:
        return await self.client.get(f"/api/v1{path}", headers=self.headers(who), **kw)

    # -- lifecycle shortcuts -----------------------------------------------------------------

    async def create(self, who: str = "agent", **overrides: Any) -> dict[str, Any]:
        body = {
            "channel": "phone",
            "kind": "complaint",
            "category": "B",
            "content": "建设路占道经营严重，早晚高峰车辆无法通行",
            "citizen": {"name": "王女士", "phone": "13812341234"},
            "address": "新华区建设路",
        }
        body.update(overrides)
        r = await self.post(who, "/orders", body)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    async def ok(self, who: str, path: str, json: Any = None) -> dict[str, Any]:
        r = await self.post(who, path, json)
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    async def assigned(self, unit: str = "xinhua", category: str = "B", **kw: Any) -> str:
        number: str = (await self.create(category=category, **kw))["number"]
        await self.ok("supervisor", f"/orders/{number}/assign", {"lead_unit_id": self.units[unit]})
        return number

    async def checked_in(self, unit: str = "xinhua", category: str = "B", **kw: Any) -> str:
        number = await self.assigned(unit, category, **kw)
        await self.ok(HANDLER_OF[unit], f"/orders/{number}/check-in")
        return number

    async def contacted(self, number: str, who: str = "h_xinhua", purpose: str = "result_feedback") -> None:
        await self.ok(
            who, f"/orders/{number}/contacts", {"purpose": purpose, "method": "phone", "note": "已联系"}
        )

    async def replied(self, unit: str = "xinhua", category: str = "B") -> str:
        number = await self.checked_in(unit, category)
        who = HANDLER_OF[unit]
        await self.contacted(number, who)
        body = {"content": "已处理完毕", "handler_name": "刘洋", "handler_phone": "13903752001"}
        if category in ("C", "D"):
            body["document_ref"] = "回复函.pdf"
        await self.ok(who, f"/orders/{number}/reply", body)
        return number


HANDLER_OF = {"xinhua": "h_xinhua", "weidong": "h_weidong", "housing": "h_housing"}

UNITS = [
    ("xinhua", "新华区", "district"),
    ("weidong", "卫东区", "district"),
    ("kuangong", "矿工路街道", "street"),
    ("baofeng", "宝丰县", "county"),
    ("housing", "市住建局", "department"),
]

USERS = [
    ("admin", "admin", None),
    ("agent", "intake_agent", None),
    ("supervisor", "supervisor", None),
    ("h_xinhua", "unit_handler", "xinhua"),
    ("h_weidong", "unit_handler", "weidong"),
    ("h_housing", "unit_handler", "housing"),
]


async def build_city(
    session: AsyncSession, client: httpx.AsyncClient, clock: FixedClock, settings: Settings
) -> City:
    city = City(client=client, clock=clock, settings=settings)
    for code, name, group in UNITS:
        unit = Unit(
            code=code, name=name, assessment_group=group, phone="", active=True, created_at=clock.now()
        )
        session.add(unit)
        await session.flush()
        city.units[code] = unit.id
    for username, role, unit_code in USERS:
        user = User(
            username=username,
            password_hash=_hash(),
            role=role,
            unit_id=city.units[unit_code] if unit_code else None,
            display_name=f"{username}-名",
            phone="",
            active=True,
            created_at=clock.now(),
        )
        session.add(user)
        await session.flush()
        city.users[username] = (user.id, role)
    await session.commit()
    return city

"""The assessment's test city in the database: the fifteen units and the October and November
2026 orders of :mod:`tests.workorders.test_assessment` (every figure worked out by hand there),
stored as rows, with the units' codes replaced by their database ids."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.mapping import row_values
from minhu.db.models import Unit, User, WorkOrderRow, WorkOrderUnit
from minhu.policy import load_profile
from minhu.security import hash_password
from workorders.calendar import WorkingCalendar
from workorders.model import WorkOrder

from ..workorders.conftest import Flow
from ..workorders.test_assessment import UNITS, Scripts, november, october

PASSWORD = "assessment-pw-2026"


@dataclass
class AssessmentCity:
    ids: dict[str, int]  # unit code (the pure tests' unit id) -> database id
    orders: dict[str, WorkOrder]  # by number, as stored
    users: dict[str, tuple[int, str]]  # username -> (id, role)

    def key(self, code: str) -> str:
        """The unit as the assessment names it (its database id as text)."""
        return str(self.ids[code])

    def code_of(self, key: str) -> str:
        return next(code for code, uid in self.ids.items() if str(uid) == key)


def _remap(value: Any, ids: dict[str, str]) -> Any:
    """``value`` with every unit reference (``lead_unit_id``, ``unit_id``, ...) renamed."""
    if isinstance(value, tuple):
        return tuple(_remap(v, ids) for v in value)
    if not dataclasses.is_dataclass(value) or isinstance(value, type):
        return value
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(value):
        current = getattr(value, f.name)
        if f.name in ("lead_unit_id", "unit_id") and current is not None:
            changes[f.name] = ids[current]
        elif f.name == "cooperating_unit_ids":
            changes[f.name] = tuple(ids[u] for u in current)
        elif isinstance(current, tuple) or dataclasses.is_dataclass(current):
            changes[f.name] = _remap(current, ids)
    return dataclasses.replace(value, **changes)


def scripted_orders(calendar: WorkingCalendar) -> list[WorkOrder]:
    flow = Flow(load_profile("pingdingshan-2022", {"required_contacts": []}), calendar)
    scripts = Scripts(flow)
    return october(scripts) + november(scripts)


async def store_orders(session: AsyncSession, orders: list[WorkOrder]) -> None:
    for order in orders:
        values = row_values(order)
        order_id = (
            await session.execute(insert(WorkOrderRow).values(version=1, **values).returning(WorkOrderRow.id))
        ).scalar_one()
        links = {u: False for u in values["cooperating_unit_ids"]}
        if values["lead_unit_id"] is not None:
            links[values["lead_unit_id"]] = True
        for unit_id, lead in links.items():
            session.add(
                WorkOrderUnit(
                    order_id=order_id, unit_id=unit_id, is_lead=lead, registered_at=order.registered_at
                )
            )
    await session.flush()


async def build_assessment_city(
    session: AsyncSession, calendar: WorkingCalendar, now: datetime
) -> AssessmentCity:
    ids: dict[str, int] = {}
    for info in UNITS:
        unit = Unit(code=info.unit_id, name=info.name, assessment_group=info.group.value, created_at=now)
        session.add(unit)
        await session.flush()
        ids[info.unit_id] = unit.id
    keys = {code: str(uid) for code, uid in ids.items()}
    orders = [_remap(o, keys) for o in scripted_orders(calendar)]
    await store_orders(session, orders)
    users: dict[str, tuple[int, str]] = {}
    pw = hash_password(PASSWORD)
    for username, role, unit in (
        ("supervisor", "supervisor", None),
        ("admin", "admin", None),
        ("agent", "intake_agent", None),
        ("h_housing", "unit_handler", "dept-housing"),
        ("h_water", "unit_handler", "dept-water"),
    ):
        user = User(
            username=username,
            password_hash=pw,
            role=role,
            unit_id=None if unit is None else ids[unit],
            display_name=username,
            created_at=now,
        )
        session.add(user)
        await session.flush()
        users[username] = (user.id, role)
    await session.commit()
    return AssessmentCity(ids, {o.number: o for o in orders}, users)

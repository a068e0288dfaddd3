"""The screen pop (来电弹屏): the caller's earlier work orders and their states.

Reads the work-order table by the citizen's phone (indexed column ``citizen_phone``). Only what
the agent needs to recognise a returning caller: number, kind, category, state, dates and the
first words of the content — no addresses, no other citizen's data. (To move into
``OrderRepository`` when the lead merges: that module is not this change's to edit.)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.models import WorkOrderRow
from minhu.services.workorders import mask_phone
from workorders.enums import OrderState

SUMMARY_CHARS = 40
LIMIT = 10

STATE_LABELS = {
    OrderState.REGISTERED: "已登记",
    OrderState.NOT_ACCEPTED: "不予受理",
    OrderState.ANSWERED_ON_CALL: "即办答复",
    OrderState.ASSIGNED: "已交办",
    OrderState.CHECKED_IN: "已查收",
    OrderState.RETURNED: "已退回",
    OrderState.IN_PROGRESS: "办理中",
    OrderState.REPLIED: "已回复",
    OrderState.REVISITING: "回访中",
    OrderState.REHANDLING: "待重办",
    OrderState.THIRD_PARTY: "第三方评估中",
    OrderState.CLOSED: "已办结",
}


def normalized_number(number: str) -> str:
    """The number as orders store it: digits only, without the country code."""
    digits = re.sub(r"\D", "", number)
    if digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


@dataclass(frozen=True, slots=True)
class EarlierOrder:
    number: str
    kind: str
    category: str | None
    state: str
    content_summary: str
    registered_at: datetime
    due_at: datetime | None
    closed_at: datetime | None

    def to_public_dict(self, tz: tzinfo) -> dict[str, Any]:
        return {
            "number": self.number,
            "kind": self.kind,
            "category": self.category,
            "state": self.state,
            "state_label": _label(self.state),
            "content_summary": self.content_summary,
            "registered_at": self.registered_at.astimezone(tz).isoformat(),
            "due_at": self.due_at.astimezone(tz).isoformat() if self.due_at else None,
            "closed_at": self.closed_at.astimezone(tz).isoformat() if self.closed_at else None,
        }


async def earlier_orders(session: AsyncSession, caller_number: str, limit: int = LIMIT) -> list[EarlierOrder]:
    number = normalized_number(caller_number)
    if len(number) < 5:
        return []
    t = WorkOrderRow
    stmt = (
        select(t.number, t.kind, t.category, t.state, t.content, t.registered_at, t.due_at, t.closed_at)
        .where(t.citizen_phone == number)
        .order_by(t.registered_at.desc(), t.id.desc())
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [
        EarlierOrder(
            number=r.number,
            kind=r.kind,
            category=r.category,
            state=r.state,
            content_summary=r.content if len(r.content) <= SUMMARY_CHARS else r.content[:SUMMARY_CHARS] + "…",
            registered_at=r.registered_at,
            due_at=r.due_at,
            closed_at=r.closed_at,
        )
        for r in rows
    ]


def screen_pop_message(
    call: dict[str, Any], orders: list[EarlierOrder], tz: tzinfo, caller_number: str
) -> dict[str, Any]:
    return {
        "type": "screen_pop",
        "call": call,
        "caller_number_masked": mask_phone(caller_number),
        "earlier_orders": [o.to_public_dict(tz) for o in orders],
        "open_orders": sum(1 for o in orders if _open(o.state)),
    }


def _label(state: str) -> str:
    try:
        return STATE_LABELS[OrderState(state)]
    except (ValueError, KeyError):
        return state


def _open(state: str) -> bool:
    try:
        return not OrderState(state).is_terminal
    except ValueError:
        return False

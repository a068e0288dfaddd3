"""工单查询 for the IVR: an order's state and deadline by its number, and nothing else.

What a caller hears is the same whoever calls, the order's own citizen or anyone who knows the
number: its state and its deadline. :class:`OrderStatus` has no room for anything personal
(name, phone, address, content), and the database lookup reads only those two columns.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final, Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.models import WorkOrderRow
from workorders.enums import OrderState
from workorders.lifecycle import state_label_zh

ORDER_NUMBER_DIGITS: Final = 14
"""What a caller keys: the 8-digit day of registration and the 6-digit sequence
(``20261122-000123`` is keyed ``20261122000123#``)."""


@dataclass(frozen=True, slots=True)
class OrderStatus:
    state_label_zh: str
    due_at: datetime | None
    state: OrderState

    @classmethod
    def of(cls, state: OrderState, due_at: datetime | None) -> OrderStatus:
        return cls(state_label_zh(state), due_at, state)


class OrderStatusLookup(Protocol):
    async def status(self, number: str) -> OrderStatus | None:
        """The state and deadline of order ``number`` (``20261122-000123``), None if unknown."""
        ...


def parse_order_number(keyed: str) -> str | None:
    """``20261122000123`` (as keyed, ``-`` or ``*`` as a separator tolerated) → the order number
    ``20261122-000123``; None when it cannot be one (wrong length, not a date)."""
    digits = keyed.replace("*", "").replace("-", "")
    if len(digits) != ORDER_NUMBER_DIGITS or not digits.isdigit():
        return None
    try:
        day = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
    return f"{day:%Y%m%d}-{digits[8:]}"


class InMemoryOrderStatusLookup:
    """For tests and the demo."""

    def __init__(self, orders: Mapping[str, tuple[OrderState, datetime | None]] | None = None) -> None:
        self.orders = dict(orders or {})
        self.asked: list[str] = []

    async def status(self, number: str) -> OrderStatus | None:
        self.asked.append(number)
        found = self.orders.get(number)
        return None if found is None else OrderStatus.of(*found)


SessionFactory = Callable[[], AbstractAsyncContextManager[AsyncSession]]


class DbOrderStatusLookup:
    """Reads ``work_orders.state`` and ``due_at`` of one number within ``timeout_s``, in a
    session of its own that only SELECTs and is never committed."""

    def __init__(self, sessions: SessionFactory, *, timeout_s: float = 3.0) -> None:
        self._sessions = sessions
        self._timeout = timeout_s

    async def status(self, number: str) -> OrderStatus | None:
        stmt = select(WorkOrderRow.state, WorkOrderRow.due_at).where(WorkOrderRow.number == number)
        async with asyncio.timeout(self._timeout), self._sessions() as session:
            row = (await session.execute(stmt)).one_or_none()
        if row is None:
            return None
        return OrderStatus.of(OrderState(row.state), row.due_at)

"""The append-only audit trail: insert and read, nothing else (the database refuses the rest)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.models import AuditRow
from workorders.model import AuditEntry


def transition_values(entry: AuditEntry, *, actor_name: str = "") -> dict[str, Any]:
    """The columns of a transition's audit row, but ``id`` and ``order_id``."""
    return {
        "order_number": entry.order_number,
        "action": entry.action,
        "at": entry.at,
        "actor_id": entry.actor_id,
        "actor_name": actor_name,
        "actor_role": entry.actor_role.value,
        "actor_unit_id": entry.actor_unit_id,
        "via": entry.via,
        "from_state": None if entry.from_state is None else entry.from_state.value,
        "to_state": entry.to_state.value,
        "details": dict(entry.details),
    }


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def append_transition(self, entry: AuditEntry, *, order_id: int, actor_name: str = "") -> AuditRow:
        row = AuditRow(order_id=order_id, **transition_values(entry, actor_name=actor_name))
        self._session.add(row)
        await self._session.flush()
        return row

    async def append_admin(
        self,
        *,
        action: str,
        at: Any,
        actor_id: str,
        actor_name: str,
        actor_role: str,
        via: str,
        details: dict[str, Any],
    ) -> AuditRow:
        """An administrative action not tied to an order (users, units, calendar years)."""
        row = AuditRow(
            order_id=None,
            order_number=None,
            action=action,
            at=at,
            actor_id=actor_id,
            actor_name=actor_name,
            actor_role=actor_role,
            actor_unit_id=None,
            via=via,
            from_state=None,
            to_state=None,
            details=details,
        )
        self._session.add(row)
        await self._session.flush()
        return row

    async def for_order(self, order_id: int) -> list[AuditRow]:
        stmt = select(AuditRow).where(AuditRow.order_id == order_id).order_by(AuditRow.at, AuditRow.id)
        return list((await self._session.execute(stmt)).scalars())

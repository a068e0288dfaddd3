"""Work orders between their table row and the domain's :class:`~workorders.model.WorkOrder`."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import Row

from minhu.db.codec import from_json, to_json
from minhu.db.models import WorkOrderRow
from workorders.enums import (
    Category,
    Channel,
    ClosureReason,
    NotAcceptedReason,
    OrderState,
    RequestKind,
    Satisfaction,
)
from workorders.model import (
    Citizen,
    Contact,
    CReport,
    Extension,
    Reply,
    ReturnRecord,
    RevisitAttempt,
    UnitCheckIn,
    WorkOrder,
)


def unit_key(unit_id: int) -> str:
    """The domain names units by string; the database by integer id."""
    return str(unit_id)


def unit_id_of(key: str) -> int:
    return int(key)


def _local(value: datetime | None, tz: tzinfo) -> datetime | None:
    return None if value is None else value.astimezone(tz)


def _local_req(value: datetime, tz: tzinfo) -> datetime:
    return value.astimezone(tz)


def _list(cls: type[Any], data: list[dict[str, Any]] | None, tz: tzinfo) -> tuple[Any, ...]:
    return tuple(from_json(cls, item, tz) for item in (data or []))


def to_domain(row: WorkOrderRow | Row[Any], tz: tzinfo) -> WorkOrder:
    """The domain's order from a loaded :class:`WorkOrderRow` or a plain row of its table."""
    return WorkOrder(
        number=row.number,
        channel=Channel(row.channel),
        kind=RequestKind(row.kind),
        content=row.content,
        citizen=Citizen(name=row.citizen_name, phone=row.citizen_phone),
        received_at=_local_req(row.received_at, tz),
        registered_at=_local_req(row.registered_at, tz),
        registered_by=row.registered_by,
        state=OrderState(row.state),
        category=None if row.category is None else Category(row.category),
        address=row.address,
        not_accepted_reason=None
        if row.not_accepted_reason is None
        else NotAcceptedReason(row.not_accepted_reason),
        not_accepted_note=row.not_accepted_note,
        answer_on_call=row.answer_on_call,
        dispatch_due_at=_local(row.dispatch_due_at, tz),
        lead_unit_id=None if row.lead_unit_id is None else unit_key(row.lead_unit_id),
        cooperating_unit_ids=tuple(unit_key(u) for u in row.cooperating_unit_ids or []),
        assigned_at=_local(row.assigned_at, tz),
        checked_in_at=_local(row.checked_in_at, tz),
        check_ins=_list(UnitCheckIn, row.check_ins, tz),
        due_at=_local(row.due_at, tz),
        due_estimated=row.due_estimated,
        handling_round=row.handling_round,
        extensions=_list(Extension, row.extensions, tz),
        returns=_list(ReturnRecord, row.returns, tz),
        contacts=_list(Contact, row.contacts, tz),
        c_report=None if row.c_report is None else from_json(CReport, row.c_report, tz),
        replies=_list(Reply, row.replies, tz),
        replied_at=_local(row.replied_at, tz),
        revisit_due_at=_local(row.revisit_due_at, tz),
        revisit_attempts=_list(RevisitAttempt, row.revisit_attempts, tz),
        satisfaction=None if row.satisfaction is None else Satisfaction(row.satisfaction),
        third_party_referred_at=_local(row.third_party_referred_at, tz),
        third_party_verdict=row.third_party_verdict,
        closed_at=_local(row.closed_at, tz),
        closure_reason=None if row.closure_reason is None else ClosureReason(row.closure_reason),
    )


def _enum(value: Any) -> str | None:
    return None if value is None else str(value.value)


def row_values(order: WorkOrder) -> dict[str, Any]:
    """Every column of ``order``'s row but ``id`` and ``version``, by column name."""
    return {
        "number": order.number,
        "channel": order.channel.value,
        "kind": order.kind.value,
        "category": _enum(order.category),
        "state": order.state.value,
        "content": order.content,
        "address": order.address,
        "citizen_name": order.citizen.name,
        "citizen_phone": order.citizen.phone,
        "received_at": order.received_at,
        "registered_at": order.registered_at,
        "registered_by": order.registered_by,
        "not_accepted_reason": _enum(order.not_accepted_reason),
        "not_accepted_note": order.not_accepted_note,
        "answer_on_call": order.answer_on_call,
        "dispatch_due_at": order.dispatch_due_at,
        "lead_unit_id": None if order.lead_unit_id is None else unit_id_of(order.lead_unit_id),
        "cooperating_unit_ids": [unit_id_of(u) for u in order.cooperating_unit_ids],
        "assigned_at": order.assigned_at,
        "checked_in_at": order.checked_in_at,
        "check_ins": to_json(order.check_ins),
        "due_at": order.due_at,
        "due_estimated": order.due_estimated,
        "handling_round": order.handling_round,
        "extensions": to_json(order.extensions),
        "returns": to_json(order.returns),
        "contacts": to_json(order.contacts),
        "c_report": to_json(order.c_report),
        "replies": to_json(order.replies),
        "replied_at": order.replied_at,
        "revisit_due_at": order.revisit_due_at,
        "revisit_attempts": to_json(order.revisit_attempts),
        "satisfaction": _enum(order.satisfaction),
        "third_party_referred_at": order.third_party_referred_at,
        "third_party_verdict": order.third_party_verdict,
        "closed_at": order.closed_at,
        "closure_reason": _enum(order.closure_reason),
    }


def apply_to_row(order: WorkOrder, row: WorkOrderRow) -> None:
    """Copy every field of ``order`` onto ``row`` (new or loaded)."""
    for name, value in row_values(order).items():
        setattr(row, name, value)

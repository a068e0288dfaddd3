"""Service results to public response bodies."""

from __future__ import annotations

import dataclasses
from typing import Any

from pydantic_core import to_json

from minhu.services.calendar import CalendarStatus
from minhu.services.workorders import DeadlinePreview, OrderView, SummaryPage, mask_phone
from workorders.enums import HANDLING_STATES, OrderState
from workorders.lifecycle import state_label_zh
from workorders.model import WorkOrder

from .schemas import (
    CalendarStatusOut,
    CalendarYearOut,
    CitizenOut,
    DeadlinePreviewOut,
    OrderOut,
)

_ORDER_FIELDS = tuple(f.name for f in dataclasses.fields(WorkOrder))


def order_out(view: OrderView) -> OrderOut:
    order = view.order
    data = {name: getattr(order, name) for name in _ORDER_FIELDS}
    data.update(
        state_label=state_label_zh(order.state),
        overdue=view.overdue,
        citizen=CitizenOut(
            name=order.citizen.name, phone=order.citizen.phone, phone_masked=view.phone_masked
        ),
    )
    return OrderOut.model_validate(data, from_attributes=True)


_STATE_LABELS = {s.value: state_label_zh(s) for s in OrderState}
_HANDLING = frozenset(s.value for s in HANDLING_STATES)


def summary_page_json(page: SummaryPage) -> bytes:
    """The body of :class:`~agent_desktop.schemas.OrderSummaryPageOut`, straight from the rows.

    A list is the hot path: its rows go to JSON in one pass (pydantic-core's encoder), with no
    domain objects and no model validation in between. ``tests/api`` checks the result against
    the schema, which stays the documented shape."""
    tz, at, masked = page.tz, page.at, page.phone_masked
    items: list[dict[str, Any]] = []
    for (
        number,
        channel,
        kind,
        category,
        state,
        excerpt,
        citizen_name,
        citizen_phone,
        address,
        registered_at,
        due_at,
        lead_unit_id,
    ) in page.rows:
        items.append(
            {
                "number": number,
                "state": state,
                "state_label": _STATE_LABELS[state],
                "channel": channel,
                "kind": kind,
                "category": category,
                "excerpt": excerpt,
                "citizen": {
                    "name": citizen_name,
                    "phone": mask_phone(citizen_phone) if masked else citizen_phone,
                    "phone_masked": masked,
                },
                "address": address,
                "registered_at": registered_at.astimezone(tz),
                "due_at": None if due_at is None else due_at.astimezone(tz),
                "overdue": due_at is not None and at > due_at and state in _HANDLING,
                "lead_unit_id": lead_unit_id,
            }
        )
    body = {
        "items": items,
        "offset": page.offset,
        "limit": page.limit,
        "has_more": page.has_more,
        "total": page.total,
    }
    return to_json(body)


def deadline_out(preview: DeadlinePreview) -> DeadlinePreviewOut:
    return DeadlinePreviewOut(
        category=preview.category,
        channel=preview.channel,
        start=preview.start,
        period=preview.period,
        period_label=preview.period_label_zh,
        due_at=preview.deadline.due_at,
        estimated=preview.deadline.estimated,
        warning=preview.warning_zh,
    )


def calendar_status_out(status: CalendarStatus) -> CalendarStatusOut:
    return CalendarStatusOut(
        today=status.today,
        covered_years=list(status.report.covered_years),
        missing_years=list(status.report.missing_years),
        warning=status.report.warning_zh,
        years=[
            CalendarYearOut(year=y.year, source=y.source, loaded_at=y.loaded_at, loaded_by=y.loaded_by)
            for y in status.years
        ],
    )

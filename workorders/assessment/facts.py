"""The facts of one order that the indicators read (see :mod:`.indicators` for what each counts).

:func:`order_facts` is the definition: it reduces a :class:`~workorders.model.WorkOrder` to the
few values the assessment needs. A store may compute the same facts itself (in SQL, over a
million orders) and hand :class:`OrderFacts` to the assessment directly; it must give exactly what
:func:`order_facts` gives for every order (the adapters' tests check it order by order).

``OrderFacts`` is a named tuple rather than a dataclass: a month may hold a million of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import NamedTuple

from workorders.enums import ContactPurpose, ExtensionStatus, OrderState, Satisfaction
from workorders.model import WorkOrder


class ReturnFact(NamedTuple):
    """A return (退回, Art. 11) on record: which unit filed it and when."""

    unit_id: str
    returned_at: datetime


class OrderFacts(NamedTuple):
    number: str
    lead_unit_id: str | None
    assigned_at: datetime | None  # the latest assignment
    checked_in_at: datetime | None
    due_at: datetime | None
    handling: bool  # the unit holds the order and its deadline runs (``OrderState.unit_is_handling``)
    closed: bool  # state ``closed``, for any closure reason
    replied: bool  # at least one reply
    reply_late: bool  # some reply was late (``Reply.late``)
    contacted: bool  # before every reply, the contacts the profile requires (see ``contacted``)
    result: Satisfaction | None  # the latest revisit result (``latest_result``)
    extended: bool  # an approved extension (Art. 9)
    handling_round: int
    returns: tuple[ReturnFact, ...]

    def is_overdue(self, at: datetime) -> bool:
        """The unit still holds the order and its deadline has passed (``WorkOrder.is_overdue``)."""
        return self.handling and self.due_at is not None and at > self.due_at


def latest_result(order: WorkOrder) -> Satisfaction | None:
    """The order's latest revisit result: ``satisfaction`` of the current round, else the last
    answer given in an earlier round."""
    if order.satisfaction is not None:
        return order.satisfaction
    for attempt in reversed(order.revisit_attempts):
        if attempt.satisfaction is not None:
            return attempt.satisfaction
    return None


def contacted(order: WorkOrder, required: Iterable[ContactPurpose]) -> bool:
    """Before **every** reply, in that reply's handling round and not after it, the citizen was
    contacted for each purpose in ``required`` (an empty list: at least one contact of any purpose).
    True when there is no reply (nothing to judge; the indicator only looks at replied orders)."""
    needed = frozenset(required)
    for reply in order.replies:
        purposes = {c.purpose for c in order.contacts if c.round == reply.round and c.at <= reply.at}
        if needed:
            if not needed <= purposes:
                return False
        elif not purposes:
            return False
    return True


def order_facts(order: WorkOrder, required_contacts: Iterable[ContactPurpose]) -> OrderFacts:
    """The facts of ``order`` under a profile whose Art. 13 contacts are ``required_contacts``."""
    return OrderFacts(
        number=order.number,
        lead_unit_id=order.lead_unit_id,
        assigned_at=order.assigned_at,
        checked_in_at=order.checked_in_at,
        due_at=order.due_at,
        handling=order.state.unit_is_handling,
        closed=order.state is OrderState.CLOSED,
        replied=bool(order.replies),
        reply_late=any(r.late for r in order.replies),
        contacted=contacted(order, required_contacts),
        result=latest_result(order),
        extended=any(e.status is ExtensionStatus.APPROVED for e in order.extensions),
        handling_round=order.handling_round,
        returns=tuple(ReturnFact(r.unit_id, r.returned_at) for r in order.returns),
    )

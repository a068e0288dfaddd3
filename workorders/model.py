"""The work order and its parts, as immutable values. Transitions return new values."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from workorders.enums import (
    CallOutcome,
    Category,
    Channel,
    ClosureReason,
    ContactPurpose,
    ExtensionStatus,
    NotAcceptedReason,
    OrderState,
    RequestKind,
    Role,
    Satisfaction,
)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: a user with a role, and for unit handlers the unit they belong to."""

    user_id: str
    role: Role
    unit_id: str | None = None
    name: str = ""


@dataclass(frozen=True, slots=True)
class Citizen:
    """诉求人."""

    name: str = ""
    phone: str | None = None


@dataclass(frozen=True, slots=True)
class Extension:
    """延期申请 (Art. 9)."""

    requested_at: datetime
    requested_by: str
    unit_id: str
    previous_due_at: datetime
    new_due_at: datetime
    reason: str
    status: ExtensionStatus = ExtensionStatus.PENDING
    decided_at: datetime | None = None
    decided_by: str | None = None
    decision_note: str = ""


@dataclass(frozen=True, slots=True)
class ReturnRecord:
    """退回 (Art. 11): the unit's request and the centre's review."""

    returned_at: datetime
    unit_id: str
    returned_by: str
    reason: str
    basis: str
    approved_by_leader: str  # 分管领导
    reviewed_at: datetime | None = None
    reviewed_by: str | None = None
    accepted: bool | None = None
    review_note: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
    """A unit's contact with the citizen (Art. 13)."""

    at: datetime
    unit_id: str
    by: str
    purpose: ContactPurpose
    method: str = "phone"
    note: str = ""
    round: int = 0  # the handling round it belongs to (0 = first assignment, 1 = first re-handling)


@dataclass(frozen=True, slots=True)
class CReport:
    """C类承办情况报告: leader, responsible person, contact, progress and plan (Art. 8)."""

    at: datetime
    unit_id: str
    leader: str
    responsible: str
    contact_phone: str
    progress: str
    plan: str


@dataclass(frozen=True, slots=True)
class Reply:
    """办结回复 — always names the handler and the handler's phone."""

    at: datetime
    unit_id: str
    by: str
    content: str
    handler_name: str
    handler_phone: str
    document_ref: str | None = None  # the written reply (C, D, mailbox) 书面回复
    late: bool = False
    round: int = 0


@dataclass(frozen=True, slots=True)
class RevisitAttempt:
    """One revisit call (回访呼叫) and how it ended."""

    started_at: datetime
    outcome: CallOutcome
    by: str
    satisfaction: Satisfaction | None = None
    counts_for_art17: bool = False
    note: str = ""
    round: int = 0  # the handling round whose reply this call revisits


@dataclass(frozen=True, slots=True)
class UnitCheckIn:
    unit_id: str
    at: datetime
    by: str


@dataclass(frozen=True)
class WorkOrder:
    number: str
    channel: Channel
    kind: RequestKind
    content: str
    citizen: Citizen
    received_at: datetime
    registered_at: datetime
    registered_by: str
    state: OrderState
    category: Category | None = None
    address: str = ""
    not_accepted_reason: NotAcceptedReason | None = None
    not_accepted_note: str = ""
    answer_on_call: str = ""
    dispatch_due_at: datetime | None = None

    lead_unit_id: str | None = None
    cooperating_unit_ids: tuple[str, ...] = ()
    assigned_at: datetime | None = None
    checked_in_at: datetime | None = None
    check_ins: tuple[UnitCheckIn, ...] = ()
    due_at: datetime | None = None
    due_estimated: bool = False
    handling_round: int = 0

    extensions: tuple[Extension, ...] = ()
    returns: tuple[ReturnRecord, ...] = ()
    contacts: tuple[Contact, ...] = ()
    c_report: CReport | None = None
    replies: tuple[Reply, ...] = ()
    replied_at: datetime | None = None
    revisit_due_at: datetime | None = None
    revisit_attempts: tuple[RevisitAttempt, ...] = ()
    satisfaction: Satisfaction | None = None
    third_party_referred_at: datetime | None = None
    third_party_verdict: str = ""
    closed_at: datetime | None = None
    closure_reason: ClosureReason | None = None

    @property
    def pending_extension(self) -> Extension | None:
        return next((e for e in self.extensions if e.status is ExtensionStatus.PENDING), None)

    @property
    def approved_extensions(self) -> int:
        return sum(1 for e in self.extensions if e.status is ExtensionStatus.APPROVED)

    @property
    def pending_return(self) -> ReturnRecord | None:
        return next((r for r in self.returns if r.accepted is None), None)

    @property
    def involved_units(self) -> frozenset[str]:
        units = set(self.cooperating_unit_ids)
        if self.lead_unit_id is not None:
            units.add(self.lead_unit_id)
        return frozenset(units)

    def contacts_this_round(self) -> tuple[Contact, ...]:
        return tuple(c for c in self.contacts if c.round == self.handling_round)

    def attempts_this_round(self) -> tuple[RevisitAttempt, ...]:
        """Revisit calls about the current reply (earlier rounds' calls stay on record)."""
        return tuple(a for a in self.revisit_attempts if a.round == self.handling_round)

    def is_overdue(self, at: datetime) -> bool:
        """The unit still holds the order and its deadline has passed."""
        return self.state.unit_is_handling and self.due_at is not None and at > self.due_at


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the append-only audit trail: who did what, when, through which channel."""

    order_number: str
    action: str
    at: datetime
    actor_id: str
    actor_role: Role
    actor_unit_id: str | None
    via: str
    from_state: OrderState | None
    to_state: OrderState
    details: Mapping[str, str | int | bool | None] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Transition:
    """The result of an action: the order as it now is, and the audit entry that records it."""

    order: WorkOrder
    audit: AuditEntry

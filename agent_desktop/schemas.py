"""Request and response bodies. Public shapes only: unit ids are integers, instants carry the
deployment's offset (+08:00), and a unit handler sees the citizen's phone masked."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Self

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from minhu.db.repositories.orders import EXCERPT_CHARS
from workorders.enums import (
    AssessmentGroup,
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
from workorders.lifecycle import MAX_CONTENT_CHARS, MAX_TEXT_CHARS, valid_phone


def _phone(value: str) -> str:
    if not valid_phone(value):
        raise ValueError(f"不是有效的电话号码：{value}")
    return value.strip()


def _optional_phone(value: str | None) -> str | None:
    return None if value is None or not value.strip() else _phone(value)


Phone = Annotated[str, Field(max_length=32), AfterValidator(_phone)]
OptionalPhone = Annotated[str | None, Field(default=None, max_length=32), AfterValidator(_optional_phone)]
Content = Annotated[str, Field(min_length=1, max_length=MAX_CONTENT_CHARS)]
Text = Annotated[str, Field(max_length=MAX_TEXT_CHARS)]
RequiredText = Annotated[str, Field(min_length=1, max_length=MAX_TEXT_CHARS)]
Name = Annotated[str, Field(max_length=100)]


class In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# -- auth, users, units --------------------------------------------------------------------------


class TokenOut(BaseModel):
    access_token: str
    token_type: str = "bearer"  # noqa: S105  (the OAuth2 token type, not a secret)
    expires_in: int


class UserOut(Out):
    id: int
    username: str
    role: Role
    unit_id: int | None
    display_name: str
    phone: str
    active: bool


class UserIn(In):
    username: Annotated[str, Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    password: Annotated[str, Field(min_length=8, max_length=128)]
    role: Role
    display_name: Annotated[str, Field(min_length=1, max_length=100)]
    unit_id: int | None = None
    phone: OptionalPhone = None


class UnitOut(Out):
    id: int
    code: str
    name: str
    assessment_group: AssessmentGroup
    parent_id: int | None
    phone: str
    active: bool


class UnitIn(In):
    code: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    assessment_group: AssessmentGroup
    parent_id: int | None = None
    phone: OptionalPhone = None


# -- orders: requests ----------------------------------------------------------------------------


class CitizenIn(In):
    name: Name = ""
    phone: OptionalPhone = None


class OrderCreate(In):
    """受理登记. ``received_at`` is the channel's own arrival time (letters, mailbox, platforms...);
    a phone call is received when it is registered, so phone orders leave it out."""

    channel: Channel
    kind: RequestKind
    category: Category
    content: Content
    citizen: CitizenIn = CitizenIn()
    address: Annotated[str, Field(max_length=500)] = ""
    received_at: AwareDatetime | None = None

    @model_validator(mode="after")
    def _phone_calls_are_live(self) -> Self:
        if self.channel is Channel.PHONE and self.received_at is not None:
            raise ValueError("来电工单的受理时间即登记时间，不能另行指定 received_at")
        return self


class NotAcceptedCreate(In):
    """不予受理登记 (Art. 4) or an emergency redirected to 110."""

    channel: Channel
    kind: RequestKind
    content: Content
    reason: NotAcceptedReason
    note: Text = ""
    citizen: CitizenIn = CitizenIn()
    received_at: AwareDatetime | None = None


class AnswerIn(In):
    answer: Content


class CategoryIn(In):
    category: Category


class AssignIn(In):
    lead_unit_id: int
    cooperating_unit_ids: Annotated[list[int], Field(max_length=20)] = []


class ReturnIn(In):
    reason: RequiredText
    basis: RequiredText
    approved_by_leader: Annotated[str, Field(min_length=1, max_length=100)]


class ReviewReturnIn(In):
    accept: bool
    note: Text = ""


class ExtensionRequestIn(In):
    new_due_at: AwareDatetime
    reason: RequiredText


class ExtensionDecisionIn(In):
    approve: bool
    note: Text = ""


class ContactIn(In):
    purpose: ContactPurpose
    method: Annotated[str, Field(min_length=1, max_length=50)] = "phone"
    note: Text = ""


class CReportIn(In):
    leader: Annotated[str, Field(min_length=1, max_length=100)]
    responsible: Annotated[str, Field(min_length=1, max_length=100)]
    contact_phone: Phone
    progress: RequiredText
    plan: RequiredText


class DeadlineIn(In):
    due_at: AwareDatetime


class ReplyIn(In):
    content: Content
    handler_name: Annotated[str, Field(min_length=1, max_length=100)]
    handler_phone: Phone
    document_ref: Annotated[str, Field(max_length=200)] | None = None


class RevisitAttemptIn(In):
    """One revisit call. ``started_at`` defaults to now; ``satisfaction`` only when answered."""

    outcome: CallOutcome
    started_at: AwareDatetime | None = None
    satisfaction: Satisfaction | None = None
    note: Text = ""


class NoteIn(In):
    note: RequiredText


class VerdictIn(In):
    verdict: Content


# -- orders: responses ---------------------------------------------------------------------------


class CitizenOut(Out):
    name: str
    phone: str | None
    phone_masked: bool = False


class CheckInOut(Out):
    unit_id: int
    at: datetime
    by: str


class ExtensionOut(Out):
    requested_at: datetime
    requested_by: str
    unit_id: int
    previous_due_at: datetime
    new_due_at: datetime
    reason: str
    status: ExtensionStatus
    decided_at: datetime | None
    decided_by: str | None
    decision_note: str


class ReturnOut(Out):
    returned_at: datetime
    unit_id: int
    returned_by: str
    reason: str
    basis: str
    approved_by_leader: str
    reviewed_at: datetime | None
    reviewed_by: str | None
    accepted: bool | None
    review_note: str


class ContactOut(Out):
    at: datetime
    unit_id: int
    by: str
    purpose: ContactPurpose
    method: str
    note: str
    round: int


class CReportOut(Out):
    at: datetime
    unit_id: int
    leader: str
    responsible: str
    contact_phone: str
    progress: str
    plan: str


class ReplyOut(Out):
    at: datetime
    unit_id: int
    by: str
    content: str
    handler_name: str
    handler_phone: str
    document_ref: str | None
    late: bool
    round: int


class RevisitAttemptOut(Out):
    started_at: datetime
    outcome: CallOutcome
    by: str
    satisfaction: Satisfaction | None
    counts_for_art17: bool
    note: str


class OrderOut(Out):
    number: str
    state: OrderState
    state_label: str
    channel: Channel
    kind: RequestKind
    category: Category | None
    content: str
    address: str
    citizen: CitizenOut
    received_at: datetime
    registered_at: datetime
    registered_by: str
    not_accepted_reason: NotAcceptedReason | None
    not_accepted_note: str
    answer_on_call: str
    dispatch_due_at: datetime | None
    lead_unit_id: int | None
    cooperating_unit_ids: list[int]
    assigned_at: datetime | None
    checked_in_at: datetime | None
    check_ins: list[CheckInOut]
    due_at: datetime | None
    due_estimated: bool
    overdue: bool
    handling_round: int
    extensions: list[ExtensionOut]
    returns: list[ReturnOut]
    contacts: list[ContactOut]
    c_report: CReportOut | None
    replies: list[ReplyOut]
    replied_at: datetime | None
    revisit_due_at: datetime | None
    revisit_attempts: list[RevisitAttemptOut]
    satisfaction: Satisfaction | None
    third_party_referred_at: datetime | None
    third_party_verdict: str
    closed_at: datetime | None
    closure_reason: ClosureReason | None


class OrderSummaryOut(BaseModel):
    """One order in a list: what a list shows of it. The whole order (nested records, times of
    every step) is at ``GET /orders/{number}``."""

    number: str = Field(description="工单编号")
    state: OrderState
    state_label: str = Field(description="状态（中文）")
    channel: Channel
    kind: RequestKind
    category: Category | None = Field(description="分类；不予受理的工单为空")
    excerpt: str = Field(description=f"诉求内容的开头（至多{EXCERPT_CHARS}字）")
    citizen: CitizenOut = Field(description="诉求人；承办人看到的电话已脱敏")
    address: str
    registered_at: datetime
    due_at: datetime | None = Field(description="办理时限")
    overdue: bool = Field(description="承办单位仍在办理且已超过办理时限")
    lead_unit_id: int | None = Field(description="牵头单位")


class OrderSummaryPageOut(BaseModel):
    items: list[OrderSummaryOut]
    offset: int
    limit: int
    has_more: bool
    total: int | None = Field(default=None, description="Only when with_total=true (costly on big tables).")


class AuditOut(Out):
    id: int
    order_number: str | None
    action: str
    at: datetime
    actor_id: str
    actor_name: str
    actor_role: str
    actor_unit_id: str | None
    via: str
    from_state: str | None
    to_state: str | None
    details: dict[str, Any]


class DeadlinePreviewOut(BaseModel):
    category: Category
    channel: Channel
    start: datetime
    period: str
    period_label: str
    due_at: datetime
    estimated: bool
    warning: str | None


class CalendarYearOut(BaseModel):
    year: int
    source: str
    loaded_at: datetime | None
    loaded_by: str | None


class CalendarStatusOut(BaseModel):
    today: date
    covered_years: list[int]
    missing_years: list[int]
    warning: str | None
    years: list[CalendarYearOut]


class CalendarLoadOut(BaseModel):
    year: int
    holidays: int
    workdays: int
    source: str

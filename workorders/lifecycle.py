"""The work order's lifecycle as an explicit state machine (RULES.md, Art. 4 and 8-18).

Every action is a pure function ``action(order, actor, ctx, ...) -> Transition``. It checks the
actor's role and unit, the state, and the rule with its article, and raises a
:class:`~workorders.errors.RuleViolation` naming both when the action is refused. ``ctx.at`` is the
time of the action, taken by the caller from an injected clock.

    registered ─┬─ answered_on_call (A, answered on the call)
                ├─ not_accepted (Art. 4, recorded, never dropped)
                └─ assigned ─ checked_in ─┬─ returned ─ (review) ─ registered / checked_in
                                          └─ in_progress ─ replied ─ revisiting ─┬─ closed
                                                                               ├─ rehandling ─ assigned
                                                                               └─ third_party ─ closed
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from workorders.calendar import WorkingCalendar
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
from workorders.errors import IllegalTransition, InvalidInput, NotPermitted, RuleViolation
from workorders.model import (
    Actor,
    AuditEntry,
    Citizen,
    Contact,
    CReport,
    Extension,
    Reply,
    ReturnRecord,
    RevisitAttempt,
    Transition,
    UnitCheckIn,
    WorkOrder,
)
from workorders.periods import Deadline, period_end, require_aware
from workorders.policy import PolicyProfile
from workorders.revisit import counts_after, deemed_satisfied, in_calling_hours, revisit_window

MAX_CONTENT_CHARS = 5000
MAX_TEXT_CHARS = 2000
# Mainland mobile (1[3-9] + 9 digits), fixed lines with area code (0xx-xxxxxxx[x], optional
# extension), local fixed lines without area code (7-8 digits, never starting with 0 or 1) and
# short service numbers (110, 12345, 95598). A 7-digit number starting with 1 is a mistyped mobile.
_PHONE = re.compile(
    r"^(?:\+?86[- ]?)?(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(?:-\d{1,6})?|[2-9]\d{6,7}|1\d{2,4}|9\d{4})$"
)
# How far a channel's own received_at may lie ahead of our clock before it is refused.
CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Context:
    """What every action needs besides the order: the time, the rules and the calendar."""

    at: datetime
    policy: PolicyProfile
    calendar: WorkingCalendar
    via: str = "api"  # the channel the action came through (api, web, phone, ivr, dialer, ...)

    def __post_init__(self) -> None:
        require_aware(self.at, "at")


CENTRE_ROLES = frozenset({Role.INTAKE_AGENT, Role.SUPERVISOR})
SUPERVISORS = frozenset({Role.SUPERVISOR})
REVISITORS = frozenset({Role.INTAKE_AGENT, Role.SUPERVISOR, Role.SYSTEM})
INTAKE = frozenset({Role.INTAKE_AGENT, Role.SUPERVISOR, Role.SYSTEM})


# -- small checks ----------------------------------------------------------------------------


def valid_phone(phone: str) -> bool:
    return bool(_PHONE.match(phone.strip()))


def _text(value: str, field: str, *, required: bool = True, limit: int = MAX_TEXT_CHARS) -> str:
    cleaned = value.strip()
    if required and not cleaned:
        raise InvalidInput("empty-field", f"“{field}”不能为空", field=field)
    if len(cleaned) > limit:
        raise InvalidInput("field-too-long", f"“{field}”过长（最多{limit}字）", field=field, limit=limit)
    return cleaned


def _phone(value: str, field: str) -> str:
    cleaned = value.strip()
    if not valid_phone(cleaned):
        raise InvalidInput("invalid-phone", f"“{field}”不是有效的电话号码：{cleaned}", field=field)
    return cleaned


def _roles(actor: Actor, allowed: Iterable[Role], action_zh: str) -> None:
    allowed_set = frozenset(allowed)
    if actor.role not in allowed_set:
        raise NotPermitted("role-not-permitted", f"当前角色无权{action_zh}", role=str(actor.role))


def _state(order: WorkOrder, allowed: Iterable[OrderState], action_zh: str) -> None:
    allowed_set = frozenset(allowed)
    if order.state not in allowed_set:
        raise IllegalTransition(
            "illegal-transition",
            f"工单{order.number}当前状态为“{_STATE_ZH[order.state]}”，不能{action_zh}",
            state=str(order.state),
        )


def _lead_unit(order: WorkOrder, actor: Actor, action_zh: str) -> str:
    """Only a handler of the lead unit may take this action (Art. 10)."""
    _roles(actor, {Role.UNIT_HANDLER}, action_zh)
    if actor.unit_id is None or actor.unit_id != order.lead_unit_id:
        if actor.unit_id in order.cooperating_unit_ids:
            raise NotPermitted(
                "cooperating-unit-not-lead", f"配合单位不能{action_zh}，应由牵头单位办理", "第十条"
            )
        raise NotPermitted("not-your-unit", f"该工单未交办给本单位，不能{action_zh}", "第十条")
    return actor.unit_id


def _involved_unit(order: WorkOrder, actor: Actor, action_zh: str) -> str:
    _roles(actor, {Role.UNIT_HANDLER}, action_zh)
    if actor.unit_id is None or actor.unit_id not in order.involved_units:
        raise NotPermitted("not-your-unit", f"该工单未交办给本单位，不能{action_zh}", "第十条")
    return actor.unit_id


def _audit(
    before: WorkOrder | None,
    after: WorkOrder,
    action: str,
    actor: Actor,
    ctx: Context,
    details: Mapping[str, str | int | bool | None] | None = None,
) -> Transition:
    entry = AuditEntry(
        order_number=after.number,
        action=action,
        at=ctx.at,
        actor_id=actor.user_id,
        actor_role=actor.role,
        actor_unit_id=actor.unit_id,
        via=ctx.via,
        from_state=None if before is None else before.state,
        to_state=after.state,
        details=dict(details or {}),
    )
    return Transition(order=after, audit=entry)


# -- deadlines -------------------------------------------------------------------------------


def handling_deadline(
    category: Category, channel: Channel, start: datetime, policy: PolicyProfile, calendar: WorkingCalendar
) -> Deadline:
    """When the unit must have replied (A 4 h, B 5 working days, C's report 5 working days, ...)."""
    return period_end(start, policy.handling_period(category, channel), calendar, policy.tz)


def return_deadline(order: WorkOrder, policy: PolicyProfile, calendar: WorkingCalendar) -> Deadline:
    """The end of the unit's window to return the order, counted from its check-in (Art. 11)."""
    if order.checked_in_at is None:
        raise IllegalTransition("not-checked-in", "工单尚未查收，须先查收再退回", "第十一条")
    return period_end(order.checked_in_at, policy.return_period, calendar, policy.tz)


# -- intake ------------------------------------------------------------------------------------


def _intake_fields(
    channel: Channel, content: str, citizen: Citizen, received_at: datetime, ctx: Context
) -> tuple[str, Citizen, datetime]:
    require_aware(received_at, "received_at")
    if received_at > ctx.at + CLOCK_SKEW:
        raise InvalidInput("received-in-future", "收件时间晚于当前时间", received_at=received_at.isoformat())
    body = _text(content, "诉求内容", limit=MAX_CONTENT_CHARS)
    phone = None if citizen.phone in (None, "") else _phone(citizen.phone or "", "诉求人电话")
    if channel is Channel.PHONE and phone is None:
        raise InvalidInput("phone-required", "来电工单须记录诉求人电话", field="citizen.phone")
    return (
        body,
        Citizen(name=_text(citizen.name, "诉求人姓名", required=False, limit=100), phone=phone),
        received_at,
    )


def register(
    number: str,
    *,
    channel: Channel,
    kind: RequestKind,
    category: Category,
    content: str,
    citizen: Citizen,
    received_at: datetime,
    actor: Actor,
    ctx: Context,
    address: str = "",
) -> Transition:
    """受理登记: a request from any channel becomes a work order (Art. 3, 7, 8)."""
    _roles(actor, INTAKE, "受理登记")
    body, person, received = _intake_fields(channel, content, citizen, received_at, ctx)
    dispatch_period = (
        ctx.policy.urgent_dispatch_period if category is Category.D else ctx.policy.dispatch_period
    )
    dispatch_due = None
    if dispatch_period is not None:
        dispatch_due = period_end(ctx.at, dispatch_period, ctx.calendar, ctx.policy.tz).due_at
    order = WorkOrder(
        number=number,
        channel=channel,
        kind=kind,
        category=category,
        content=body,
        citizen=person,
        address=_text(address, "地址", required=False, limit=500),
        received_at=received,
        registered_at=ctx.at,
        registered_by=actor.user_id,
        state=OrderState.REGISTERED,
        dispatch_due_at=dispatch_due,
    )
    return _audit(None, order, "register", actor, ctx, {"channel": str(channel), "category": str(category)})


def not_accept(
    number: str,
    *,
    channel: Channel,
    kind: RequestKind,
    content: str,
    citizen: Citizen,
    received_at: datetime,
    reason: NotAcceptedReason,
    note: str,
    actor: Actor,
    ctx: Context,
) -> Transition:
    """不予受理: recorded with its Art. 4 reason (or the 110 redirect), never dropped."""
    _roles(actor, INTAKE, "登记不予受理")
    body, person, received = _intake_fields(channel, content, citizen, received_at, ctx)
    order = WorkOrder(
        number=number,
        channel=channel,
        kind=kind,
        content=body,
        citizen=person,
        received_at=received,
        registered_at=ctx.at,
        registered_by=actor.user_id,
        state=OrderState.NOT_ACCEPTED,
        not_accepted_reason=reason,
        not_accepted_note=_text(note, "说明", required=False),
    )
    return _audit(None, order, "not_accept", actor, ctx, {"reason": str(reason), "article": reason.article})


def answer_on_call(order: WorkOrder, actor: Actor, ctx: Context, *, answer: str) -> Transition:
    """即办: the agent answers an A-class request directly (Art. 8)."""
    _roles(actor, CENTRE_ROLES, "直接答复")
    _state(order, {OrderState.REGISTERED}, "直接答复")
    if order.category is not Category.A:
        raise RuleViolation("not-a-class", "只有A类（即办）事项可由受理人直接答复办结", "第八条")
    new = replace(
        order,
        state=OrderState.ANSWERED_ON_CALL,
        answer_on_call=_text(answer, "答复内容", limit=MAX_CONTENT_CHARS),
        closed_at=ctx.at,
    )
    return _audit(order, new, "answer_on_call", actor, ctx)


def recategorize(order: WorkOrder, actor: Actor, ctx: Context, *, category: Category) -> Transition:
    """The centre corrects the category before the order goes to a unit."""
    _roles(actor, CENTRE_ROLES, "调整分类")
    _state(order, {OrderState.REGISTERED, OrderState.REHANDLING}, "调整分类")
    new = replace(order, category=category)
    return _audit(order, new, "recategorize", actor, ctx, {"from": str(order.category), "to": str(category)})


# -- assignment, check-in, returns -----------------------------------------------------------


def assign(
    order: WorkOrder,
    actor: Actor,
    ctx: Context,
    *,
    lead_unit_id: str,
    cooperating_unit_ids: Iterable[str] = (),
) -> Transition:
    """交办 to one unit, or to a lead unit with cooperating units (Art. 10); the deadline starts."""
    _roles(actor, CENTRE_ROLES, "交办")
    _state(order, {OrderState.REGISTERED, OrderState.REHANDLING}, "交办")
    if order.category is None:
        raise InvalidInput("category-required", "交办前须确定诉求分类（A/B/C/D）")
    cooperating = tuple(dict.fromkeys(u for u in cooperating_unit_ids if u != lead_unit_id))
    accepted_returns = [r for r in order.returns if r.accepted and r.reviewed_at is not None]
    if order.state is OrderState.REGISTERED and accepted_returns:
        last = max(accepted_returns, key=lambda r: r.returned_at)
        if last.unit_id == lead_unit_id:
            raise RuleViolation(
                "reassign-to-returning-unit", "该单位的退回已审核通过，重新交办须指定其他单位", "第十一条"
            )
    deadline = handling_deadline(order.category, order.channel, ctx.at, ctx.policy, ctx.calendar)
    rehandle = order.state is OrderState.REHANDLING
    new = replace(
        order,
        state=OrderState.ASSIGNED,
        lead_unit_id=lead_unit_id,
        cooperating_unit_ids=cooperating,
        assigned_at=ctx.at,
        checked_in_at=None,
        check_ins=(),
        due_at=deadline.due_at,
        due_estimated=deadline.estimated,
        handling_round=order.handling_round + 1 if rehandle else order.handling_round,
        replied_at=None if rehandle else order.replied_at,
        revisit_due_at=None if rehandle else order.revisit_due_at,
        satisfaction=None if rehandle else order.satisfaction,
    )
    details: dict[str, str | int | bool | None] = {
        "lead_unit": lead_unit_id,
        "cooperating_units": ",".join(cooperating),
        "due_at": deadline.due_at.isoformat(),
        "due_estimated": deadline.estimated,
        "rehandle": rehandle,
    }
    return _audit(order, new, "reassign" if order.returns and not rehandle else "assign", actor, ctx, details)


def check_in(order: WorkOrder, actor: Actor, ctx: Context) -> Transition:
    """查收: the lead unit's check-in starts its return window; cooperating units check in too."""
    unit = _involved_unit(order, actor, "查收")
    if any(c.unit_id == unit for c in order.check_ins):
        raise IllegalTransition("already-checked-in", "本单位已查收该工单")
    if unit == order.lead_unit_id:
        _state(order, {OrderState.ASSIGNED}, "查收")
    else:
        _state(order, {OrderState.ASSIGNED, OrderState.CHECKED_IN, OrderState.IN_PROGRESS}, "查收")
    entry = UnitCheckIn(unit_id=unit, at=ctx.at, by=actor.user_id)
    if unit == order.lead_unit_id:
        new = replace(
            order, state=OrderState.CHECKED_IN, checked_in_at=ctx.at, check_ins=(*order.check_ins, entry)
        )
    else:
        new = replace(order, check_ins=(*order.check_ins, entry))
    return _audit(order, new, "check_in", actor, ctx, {"unit": unit})


def return_order(
    order: WorkOrder, actor: Actor, ctx: Context, *, reason: str, basis: str, approved_by_leader: str
) -> Transition:
    """退回: outside the unit's duties, within the return window of check-in (Art. 11)."""
    unit = _lead_unit(order, actor, "退回")
    if order.state is OrderState.ASSIGNED:
        raise IllegalTransition("not-checked-in", "工单尚未查收，须先查收再退回", "第十一条")
    _state(order, {OrderState.CHECKED_IN, OrderState.IN_PROGRESS}, "退回")
    window = return_deadline(order, ctx.policy, ctx.calendar)
    if ctx.at > window.due_at:
        raise RuleViolation(
            "return-window-passed",
            f"退回须在查收后{ctx.policy.return_period.label_zh}内提出，已超过退回时限",
            "第十一条",
            deadline=window.due_at.isoformat(),
        )
    record = ReturnRecord(
        returned_at=ctx.at,
        unit_id=unit,
        returned_by=actor.user_id,
        reason=_text(reason, "退回理由"),
        basis=_text(basis, "退回依据"),
        approved_by_leader=_text(approved_by_leader, "审核批准的分管领导", limit=100),
    )
    new = replace(order, state=OrderState.RETURNED, returns=(*order.returns, record))
    return _audit(order, new, "return", actor, ctx, {"unit": unit, "reason": record.reason})


def review_return(
    order: WorkOrder, actor: Actor, ctx: Context, *, accept: bool, note: str = ""
) -> Transition:
    """The centre reviews a return: accepted → to be reassigned; refused → back to the unit."""
    _roles(actor, CENTRE_ROLES, "审核退回")
    _state(order, {OrderState.RETURNED}, "审核退回")
    pending = order.pending_return
    if pending is None:  # pragma: no cover - a RETURNED order always has one
        raise IllegalTransition("no-pending-return", "没有待审核的退回")
    reviewed = replace(
        pending, reviewed_at=ctx.at, reviewed_by=actor.user_id, accepted=accept, review_note=note
    )
    returns = tuple(reviewed if r is pending else r for r in order.returns)
    if accept:
        new = replace(
            order,
            state=OrderState.REGISTERED,
            returns=returns,
            lead_unit_id=None,
            cooperating_unit_ids=(),
            assigned_at=None,
            checked_in_at=None,
            check_ins=(),
            due_at=None,
            due_estimated=False,
        )
    else:
        new = replace(order, state=OrderState.CHECKED_IN, returns=returns)
    return _audit(order, new, "review_return", actor, ctx, {"accepted": accept, "note": note})


# -- handling ------------------------------------------------------------------------------


def _handling(order: WorkOrder) -> OrderState:
    return OrderState.IN_PROGRESS if order.state is OrderState.CHECKED_IN else order.state


def start_handling(order: WorkOrder, actor: Actor, ctx: Context) -> Transition:
    """办理中."""
    _lead_unit(order, actor, "开始办理")
    _state(order, {OrderState.CHECKED_IN}, "开始办理")
    return _audit(order, replace(order, state=OrderState.IN_PROGRESS), "start_handling", actor, ctx)


def record_contact(
    order: WorkOrder,
    actor: Actor,
    ctx: Context,
    *,
    purpose: ContactPurpose,
    method: str = "phone",
    note: str = "",
) -> Transition:
    """A contact with the citizen (Art. 13; Hedong's two effective contacts)."""
    unit = _involved_unit(order, actor, "记录联系诉求人")
    _state(order, {OrderState.CHECKED_IN, OrderState.IN_PROGRESS}, "记录联系诉求人")
    contact = Contact(
        at=ctx.at,
        unit_id=unit,
        by=actor.user_id,
        purpose=purpose,
        method=_text(method, "联系方式", limit=50),
        note=_text(note, "联系情况", required=False),
        round=order.handling_round,
    )
    new_state = _handling(order) if unit == order.lead_unit_id else order.state
    new = replace(order, state=new_state, contacts=(*order.contacts, contact))
    return _audit(order, new, "contact", actor, ctx, {"purpose": str(purpose), "method": contact.method})


def submit_c_report(
    order: WorkOrder,
    actor: Actor,
    ctx: Context,
    *,
    leader: str,
    responsible: str,
    contact_phone: str,
    progress: str,
    plan: str,
) -> Transition:
    """C类: report leader, responsible person, contact, progress and plan within the period (Art. 8)."""
    unit = _lead_unit(order, actor, "报送承办情况")
    if order.category is not Category.C:
        raise RuleViolation("not-c-class", "只有C类（重要）事项需要报送承办情况", "第八条")
    _state(order, {OrderState.CHECKED_IN, OrderState.IN_PROGRESS}, "报送承办情况")
    report = CReport(
        at=ctx.at,
        unit_id=unit,
        leader=_text(leader, "分管领导", limit=100),
        responsible=_text(responsible, "责任人", limit=100),
        contact_phone=_phone(contact_phone, "联系方式"),
        progress=_text(progress, "前期办理情况"),
        plan=_text(plan, "办理计划"),
    )
    late = order.due_at is not None and ctx.at > order.due_at
    new = replace(order, state=_handling(order), c_report=report)
    return _audit(order, new, "c_report", actor, ctx, {"late": late})


def set_deadline(order: WorkOrder, actor: Actor, ctx: Context, *, due_at: datetime) -> Transition:
    """The centre sets a C order's deadline after the unit's report (Art. 8)."""
    _roles(actor, SUPERVISORS, "确定办理时限")
    _state(order, {OrderState.CHECKED_IN, OrderState.IN_PROGRESS}, "确定办理时限")
    if order.category is not Category.C:
        raise RuleViolation("not-c-class", "只有C类（重要）事项由中心视情况确定办理时限", "第八条")
    if order.c_report is None:
        raise RuleViolation("c-report-missing", "网络单位报送承办情况后，中心方可确定办理时限", "第八条")
    require_aware(due_at, "due_at")
    if due_at <= ctx.at:
        raise InvalidInput("deadline-in-past", "办理时限须晚于当前时间")
    new = replace(order, due_at=due_at, due_estimated=False)
    return _audit(order, new, "set_deadline", actor, ctx, {"due_at": due_at.isoformat()})


def request_extension(
    order: WorkOrder, actor: Actor, ctx: Context, *, new_due_at: datetime, reason: str
) -> Transition:
    """延期申请: B and C only, before the deadline, once per order (Art. 9)."""
    unit = _lead_unit(order, actor, "申请延期")
    _state(order, {OrderState.CHECKED_IN, OrderState.IN_PROGRESS}, "申请延期")
    if order.category not in ctx.policy.extension_categories:
        allowed = "、".join(sorted(str(c) for c in ctx.policy.extension_categories)) or "无"
        raise RuleViolation(
            "extension-not-allowed-for-category", f"只有{allowed}类事项可以申请延期", "第九条"
        )
    if order.pending_extension is not None:
        raise RuleViolation("extension-pending", "已有待审核的延期申请", "第九条")
    if order.approved_extensions >= ctx.policy.max_extensions:
        raise RuleViolation(
            "extension-limit-reached", f"同一事项只能延期{ctx.policy.max_extensions}次", "第九条"
        )
    if order.due_at is None or ctx.at >= order.due_at:
        raise RuleViolation("extension-after-deadline", "超过办理时限的延期申请不予受理", "第九条")
    require_aware(new_due_at, "new_due_at")
    if new_due_at <= order.due_at:
        raise InvalidInput("extension-not-later", "延期后的办理时限须晚于原时限")
    ext = Extension(
        requested_at=ctx.at,
        requested_by=actor.user_id,
        unit_id=unit,
        previous_due_at=order.due_at,
        new_due_at=new_due_at,
        reason=_text(reason, "延期理由"),
    )
    new = replace(order, state=_handling(order), extensions=(*order.extensions, ext))
    return _audit(order, new, "request_extension", actor, ctx, {"new_due_at": new_due_at.isoformat()})


def decide_extension(
    order: WorkOrder, actor: Actor, ctx: Context, *, approve: bool, note: str = ""
) -> Transition:
    """The centre approves or refuses the pending extension (Art. 9)."""
    _roles(actor, SUPERVISORS, "审核延期申请")
    pending = order.pending_extension
    if pending is None:
        raise IllegalTransition("no-pending-extension", "没有待审核的延期申请", "第九条")
    _state(order, {OrderState.CHECKED_IN, OrderState.IN_PROGRESS}, "审核延期申请")
    status = ExtensionStatus.APPROVED if approve else ExtensionStatus.REFUSED
    decided = replace(pending, status=status, decided_at=ctx.at, decided_by=actor.user_id, decision_note=note)
    extensions = tuple(decided if e is pending else e for e in order.extensions)
    due_at = pending.new_due_at if approve else order.due_at
    new = replace(
        order, extensions=extensions, due_at=due_at, due_estimated=False if approve else order.due_estimated
    )
    return _audit(order, new, "decide_extension", actor, ctx, {"approved": approve, "note": note})


def reply(
    order: WorkOrder,
    actor: Actor,
    ctx: Context,
    *,
    content: str,
    handler_name: str,
    handler_phone: str,
    document_ref: str | None = None,
) -> Transition:
    """办结回复: after contacting the citizen (Art. 13), naming handler and phone; revisit window starts."""
    unit = _lead_unit(order, actor, "回复")
    _state(order, {OrderState.CHECKED_IN, OrderState.IN_PROGRESS}, "回复")
    body = _text(content, "办理结果", limit=MAX_CONTENT_CHARS)
    if ctx.policy.reply_requires_handler:
        name = _text(handler_name, "办理人姓名", limit=100)
        phone = _phone(handler_phone, "办理人电话")
    else:
        name, phone = handler_name.strip(), handler_phone.strip()
    contacted = {c.purpose for c in order.contacts_this_round()}
    for purpose in ctx.policy.required_contacts:
        if purpose not in contacted:
            raise RuleViolation(
                "citizen-not-contacted",
                f"回复前须{_CONTACT_ZH[purpose]}（缺少该次联系记录）",
                "第十三条",
                purpose=str(purpose),
            )
    approved = [e for e in order.extensions if e.status is ExtensionStatus.APPROVED]
    if approved and ctx.policy.extension_requires_citizen_notice:
        last = max(approved, key=lambda e: e.decided_at or e.requested_at)
        notified = any(
            c.purpose is ContactPurpose.EXTENSION_NOTICE and c.at >= (last.decided_at or last.requested_at)
            for c in order.contacts
        )
        if not notified:
            raise RuleViolation("extension-not-notified", "延期获批后须将延期时限和理由告知诉求人", "第九条")
    needs_document = order.category in ctx.policy.written_reply_categories or (
        order.channel in ctx.policy.mailbox_channels
    )
    if needs_document and not (document_ref or "").strip():
        raise RuleViolation(
            "written-reply-required", "该类工单须以书面形式回复（请附书面回复文件）", "第八条、第十四条"
        )
    late = order.due_at is not None and ctx.at > order.due_at
    answer = Reply(
        at=ctx.at,
        unit_id=unit,
        by=actor.user_id,
        content=body,
        handler_name=name,
        handler_phone=phone,
        document_ref=(document_ref or "").strip() or None,
        late=late,
        round=order.handling_round,
    )
    window = revisit_window(ctx.at, ctx.policy, ctx.calendar)
    new = replace(
        order,
        state=OrderState.REPLIED,
        replies=(*order.replies, answer),
        replied_at=ctx.at,
        revisit_due_at=window.due_at,
    )
    return _audit(
        order, new, "reply", actor, ctx, {"late": late, "revisit_due_at": window.due_at.isoformat()}
    )


# -- revisit and closure -----------------------------------------------------------------------


def record_revisit_attempt(
    order: WorkOrder,
    actor: Actor,
    ctx: Context,
    *,
    started_at: datetime,
    outcome: CallOutcome,
    satisfaction: Satisfaction | None = None,
    note: str = "",
) -> Transition:
    """One revisit call (Art. 16-17). Two counted ring-outs close the order as 视为满意."""
    _roles(actor, REVISITORS, "记录回访")
    _state(order, {OrderState.REPLIED, OrderState.REVISITING}, "记录回访")
    require_aware(started_at, "started_at")
    if started_at > ctx.at + CLOCK_SKEW:
        raise InvalidInput("attempt-in-future", "回访呼叫时间晚于当前时间")
    if order.replied_at is not None and started_at < order.replied_at:
        raise InvalidInput("attempt-before-reply", "回访呼叫时间早于单位回复时间")
    if satisfaction is Satisfaction.DEEMED_SATISFIED:
        raise InvalidInput(
            "deemed-is-not-an-answer", "“视为满意”由系统按第十七条判定，不能作为诉求人的回答", "第十七条"
        )
    if outcome is CallOutcome.ANSWERED and satisfaction is None:
        raise InvalidInput("satisfaction-required", "接通的回访须记录诉求人的满意度")
    if outcome is not CallOutcome.ANSWERED and satisfaction is not None:
        # 接通未评价 (ANSWERED_NO_RATING) has no satisfaction either: it is retried like a busy line
        raise InvalidInput("satisfaction-without-answer", "未接通或未评价的回访不能记录满意度")
    counts = (
        outcome is CallOutcome.RANG_OUT
        and in_calling_hours(started_at, ctx.policy)
        and counts_after(order.attempts_this_round(), started_at, ctx.policy)
    )
    attempt = RevisitAttempt(
        started_at=started_at,
        outcome=outcome,
        by=actor.user_id,
        satisfaction=satisfaction,
        counts_for_art17=counts,
        note=_text(note, "备注", required=False),
        round=order.handling_round,
    )
    revisiting = replace(
        order,
        state=OrderState.REVISITING,
        revisit_attempts=(*order.revisit_attempts, attempt),
    )
    details: dict[str, str | int | bool | None] = {
        "outcome": str(outcome),
        "counts_for_art17": counts,
        "started_at": started_at.isoformat(),
    }
    if satisfaction is not None:
        after = _apply_satisfaction(revisiting, satisfaction, ctx)
        details["satisfaction"] = str(satisfaction)
        return _audit(order, after, "revisit_attempt", actor, ctx, details)
    if deemed_satisfied(revisiting.attempts_this_round(), ctx.policy):
        after = replace(
            revisiting,
            state=OrderState.CLOSED,
            satisfaction=Satisfaction.DEEMED_SATISFIED,
            closed_at=ctx.at,
            closure_reason=ClosureReason.DEEMED_SATISFIED,
        )
        details["satisfaction"] = str(Satisfaction.DEEMED_SATISFIED)
        return _audit(order, after, "revisit_attempt", actor, ctx, details)
    return _audit(order, revisiting, "revisit_attempt", actor, ctx, details)


def _apply_satisfaction(order: WorkOrder, satisfaction: Satisfaction, ctx: Context) -> WorkOrder:
    if satisfaction is Satisfaction.DISSATISFIED:
        if ctx.policy.rehandle_on_dissatisfied:
            return replace(order, state=OrderState.REHANDLING, satisfaction=satisfaction)
        return replace(
            order,
            state=OrderState.CLOSED,
            satisfaction=satisfaction,
            closed_at=ctx.at,
            closure_reason=ClosureReason.DISSATISFIED_FINAL,
        )
    return replace(
        order,
        state=OrderState.CLOSED,
        satisfaction=satisfaction,
        closed_at=ctx.at,
        closure_reason=ClosureReason.SATISFIED,
    )


def refer_third_party(order: WorkOrder, actor: Actor, ctx: Context, *, note: str) -> Transition:
    """Citizen and unit still disagree after the centre mediated: third-party assessment (Art. 18)."""
    _roles(actor, SUPERVISORS, "引入第三方评估")
    _state(order, {OrderState.REHANDLING, OrderState.REVISITING}, "引入第三方评估")
    if order.satisfaction is not Satisfaction.DISSATISFIED:
        raise RuleViolation("no-disagreement", "只有诉求人对办理结果不满意时才能引入第三方评估", "第十八条")
    new = replace(order, state=OrderState.THIRD_PARTY, third_party_referred_at=ctx.at)
    return _audit(order, new, "refer_third_party", actor, ctx, {"note": _text(note, "协调情况")})


def record_third_party_assessment(
    order: WorkOrder, actor: Actor, ctx: Context, *, verdict: str
) -> Transition:
    """The third party's conclusion closes the order (Art. 18)."""
    _roles(actor, SUPERVISORS, "记录第三方评估结论")
    _state(order, {OrderState.THIRD_PARTY}, "记录第三方评估结论")
    new = replace(
        order,
        state=OrderState.CLOSED,
        third_party_verdict=_text(verdict, "第三方评估结论", limit=MAX_CONTENT_CHARS),
        closed_at=ctx.at,
        closure_reason=ClosureReason.THIRD_PARTY_ASSESSED,
    )
    return _audit(order, new, "third_party_assessment", actor, ctx)


def close_manually(order: WorkOrder, actor: Actor, ctx: Context, *, note: str) -> Transition:
    """A supervisor closes a replied order after a manual revisit could not reach a result."""
    _roles(actor, SUPERVISORS, "人工办结")
    _state(order, {OrderState.REPLIED, OrderState.REVISITING}, "人工办结")
    new = replace(order, state=OrderState.CLOSED, closed_at=ctx.at, closure_reason=ClosureReason.MANUAL)
    return _audit(order, new, "close_manually", actor, ctx, {"note": _text(note, "办结说明")})


def revisit_overdue(order: WorkOrder, at: datetime) -> bool:
    """The revisit window closed without a result: flag for a manual revisit by an agent."""
    return (
        order.state in (OrderState.REPLIED, OrderState.REVISITING)
        and order.revisit_due_at is not None
        and at > order.revisit_due_at
    )


_STATE_ZH = {
    OrderState.REGISTERED: "已登记",
    OrderState.NOT_ACCEPTED: "不予受理",
    OrderState.ANSWERED_ON_CALL: "已当场答复",
    OrderState.ASSIGNED: "已交办",
    OrderState.CHECKED_IN: "已查收",
    OrderState.RETURNED: "已退回待审核",
    OrderState.IN_PROGRESS: "办理中",
    OrderState.REPLIED: "已回复待回访",
    OrderState.REVISITING: "回访中",
    OrderState.REHANDLING: "待重办",
    OrderState.THIRD_PARTY: "第三方评估中",
    OrderState.CLOSED: "已办结",
}

_CONTACT_ZH = {
    ContactPurpose.FIRST_CONTACT: "在接单后与诉求人首次联系",
    ContactPurpose.RESULT_FEEDBACK: "将办理结果反馈诉求人",
    ContactPurpose.EXTENSION_NOTICE: "将延期情况告知诉求人",
    ContactPurpose.OTHER: "联系诉求人",
}


def state_label_zh(state: OrderState) -> str:
    return _STATE_ZH[state]

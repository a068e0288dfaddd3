"""Why an order is counted where it is (the drill-down's 计入原因), in the hotline's words.

:func:`explain` describes, from the order as it stands, the facts :mod:`.indicators` looked at for
one indicator. Whether the order is in the numerator is decided by the assessment (stored with
the month), never here; :func:`counted` recomputes it for one order, so that the drill-down can
say when an order has changed since the month was computed.
"""

from __future__ import annotations

from datetime import datetime, tzinfo

from workorders.calendar import WorkingCalendar
from workorders.enums import ContactPurpose, OrderState, Satisfaction
from workorders.model import WorkOrder
from workorders.policy import PolicyProfile

from .facts import OrderFacts, order_facts
from .indicators import check_in_due, denominator_bit, memberships, numerator_bit
from .settings import DEFAULT_SETTINGS, AssessmentSettings
from .values import AssessmentPeriod, IndicatorKey, UnitInfo

STATE_ZH = {
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

SATISFACTION_ZH = {
    Satisfaction.SATISFIED: "满意",
    Satisfaction.BASICALLY_SATISFIED: "基本满意",
    Satisfaction.DISSATISFIED: "不满意",
    Satisfaction.DEEMED_SATISFIED: "视为满意",
}

PURPOSE_ZH = {
    ContactPurpose.FIRST_CONTACT: "接单后首次联系",
    ContactPurpose.RESULT_FEEDBACK: "办理结果反馈",
    ContactPurpose.EXTENSION_NOTICE: "延期告知",
    ContactPurpose.OTHER: "其他联系",
}


def _t(at: datetime | None, tz: tzinfo) -> str:
    return "—" if at is None else at.astimezone(tz).strftime("%m-%d %H:%M")


def counted(
    order: WorkOrder,
    unit: UnitInfo,
    key: IndicatorKey,
    period: AssessmentPeriod,
    *,
    as_of: datetime,
    policy: PolicyProfile,
    settings: AssessmentSettings = DEFAULT_SETTINGS,
    calendar: WorkingCalendar | None = None,
) -> tuple[bool, bool]:
    """(in the denominator, in the numerator) of ``unit``'s ``key`` for this order alone."""
    _, flags = memberships(
        [unit], [order], period, as_of=as_of, policy=policy, settings=settings, calendar=calendar
    )
    value = flags[unit.unit_id][0] if flags[unit.unit_id] else 0
    return bool(value & denominator_bit(key)), bool(value & numerator_bit(key))


def explain(
    order: WorkOrder,
    unit_id: str,
    key: IndicatorKey,
    period: AssessmentPeriod,
    *,
    as_of: datetime,
    policy: PolicyProfile,
    settings: AssessmentSettings = DEFAULT_SETTINGS,
    calendar: WorkingCalendar | None = None,
) -> str:
    """The facts behind ``order``'s place in ``unit_id``'s ``key``, in Chinese."""
    tz = policy.tz
    f: OrderFacts = order_facts(order, policy.required_contacts)
    if key is IndicatorKey.RETURNS:
        mine = [r for r in f.returns if r.unit_id == unit_id and period.start <= r.returned_at < period.end]
        if mine:
            return f"本期退回于{_t(mine[-1].returned_at, tz)}（第十一条）"
        return f"本期交办（{_t(f.assigned_at, tz)}），未退回"
    if key is IndicatorKey.CHECK_IN_ON_TIME:
        if f.assigned_at is None:
            return "未交办"
        due = check_in_due(f.assigned_at, policy, settings, calendar)
        head = f"交办{_t(f.assigned_at, tz)}，查收时限至{_t(due, tz)}（{settings.check_in_period.label_zh}）"
        if f.checked_in_at is None:
            return head + ("，至统计时点未查收" if as_of > due else "，尚在查收时限内，不计入")
        late = "，超时" if f.checked_in_at > due else "，按时"
        return f"{head}；查收{_t(f.checked_in_at, tz)}{late}"
    if key is IndicatorKey.CITIZEN_CONTACTED:
        if not f.replied:
            return "尚未回复，不计入"
        purposes = "、".join(PURPOSE_ZH[p] for p in policy.required_contacts) or "任一联系"
        contacts = (
            "；".join(f"{_t(c.at, tz)} {PURPOSE_ZH[c.purpose]}" for c in order.contacts) or "无联系记录"
        )
        verdict = "每次回复前均已联系" if f.contacted else "有回复前未按要求联系"
        return f"{verdict}（要求：{purposes}；回复{len(order.replies)}次；联系：{contacts}）"
    if key is IndicatorKey.ON_TIME_COMPLETION:
        overdue = f.is_overdue(as_of)
        if overdue:
            return f"办理期限{_t(f.due_at, tz)}已过，至统计时点未办结（超期）"
        if not f.replied:
            return f"尚未回复，办理期限{_t(f.due_at, tz)}未到，不计入"
        replies = "；".join(f"{_t(r.at, tz)}{'（超期）' if r.late else ''}" for r in order.replies)
        return ("有回复超过办理期限" if f.reply_late else "回复均在办理期限内") + f"（回复：{replies}）"
    if key is IndicatorKey.COMPLETION_RATE:
        state = STATE_ZH[order.state]
        return f"已办结（{_t(order.closed_at, tz)}）" if f.closed else f"未办结（当前状态：{state}）"
    if key is IndicatorKey.REPLY_RATE:
        return f"已回复（{_t(order.replied_at, tz)}）" if f.replied else "未回复"
    if key in (IndicatorKey.SATISFACTION_RATE, IndicatorKey.FIRST_TIME_RESOLUTION):
        if f.result is None:
            return "尚无回访结果，不计入"
        result = SATISFACTION_ZH[f.result]
        if f.result is Satisfaction.DEEMED_SATISFIED and not policy.deemed_satisfied_counts_as_satisfied:
            return "视为满意（第十七条），按本地规则不计入满意率"
        if key is IndicatorKey.SATISFACTION_RATE:
            return f"回访结果：{result}"
        rounds = f"，重办{f.handling_round}次" if f.handling_round else "，未重办"
        closed = "已办结" if f.closed else f"未办结（{STATE_ZH[order.state]}）"
        return f"回访结果：{result}，{closed}{rounds}"
    if key is IndicatorKey.EXTENSIONS:
        return "有经批准的延期（第九条）" if f.extended else "无延期"
    return f"重办{f.handling_round}次" if f.handling_round else "未重办"

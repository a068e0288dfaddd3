"""The lifecycle state machine and every refused transition, naming its rule and article."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workorders import lifecycle as lc
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
    Satisfaction,
)
from workorders.errors import IllegalTransition, InvalidInput, NotPermitted, RuleViolation
from workorders.model import Citizen

from .conftest import AGENT, COOP_HANDLER, HANDLER, OTHER_HANDLER, SUPERVISOR, t

T0 = t("2026-09-30 10:00")


def test_happy_path_from_registration_to_closure_leaves_an_audit_line_per_step(flow):
    order = flow.replied(T0)
    assert order.state is OrderState.REPLIED
    assert order.due_at == t("2026-10-14 00:00")
    assert order.replies[-1].handler_name == "张承办" and order.replies[-1].handler_phone == "0375-2345678"
    # Revisit within 2 working days of the reply (Sep 30 13:00): Oct 8 and 9.
    assert order.revisit_due_at == t("2026-10-10 00:00")
    order = flow.run(
        lc.record_revisit_attempt,
        order,
        AGENT,
        at=t("2026-10-08 09:00"),
        started_at=t("2026-10-08 09:00"),
        outcome=CallOutcome.ANSWERED,
        satisfaction=Satisfaction.SATISFIED,
    )
    assert order.state is OrderState.CLOSED and order.closure_reason is ClosureReason.SATISFIED
    actions = [a.action for a in flow.audit]
    assert actions == ["register", "assign", "check_in", "contact", "reply", "revisit_attempt"]
    first = flow.audit[0]
    assert (first.actor_id, first.via, first.from_state, first.to_state) == (
        "agent-1",
        "api",
        None,
        OrderState.REGISTERED,
    )


@pytest.mark.parametrize("reason", list(NotAcceptedReason))
def test_not_accepted_requests_are_recorded_with_their_reason(flow, reason):
    tr = lc.not_accept(
        "20260930-000009",
        channel=Channel.PHONE,
        kind=RequestKind.COMPLAINT,
        content="要求法院改判" if reason is not NotAcceptedReason.EMERGENCY_110 else "楼道起火",
        citizen=Citizen("某先生", "13900001111"),
        received_at=T0,
        reason=reason,
        note="已告知",
        actor=AGENT,
        ctx=flow.ctx(T0),
    )
    assert tr.order.state is OrderState.NOT_ACCEPTED and tr.order.not_accepted_reason is reason
    assert tr.audit.details["article"] == reason.article
    assert tr.order.state.is_terminal


def test_a_class_answered_on_the_call(flow):
    order = flow.registered(T0, Category.A)
    order = flow.run(lc.answer_on_call, order, AGENT, at=T0 + timedelta(minutes=3), answer="依据政策答复")
    assert order.state is OrderState.ANSWERED_ON_CALL and order.closed_at is not None


def test_only_a_class_can_be_answered_on_the_call(flow):
    order = flow.registered(T0, Category.B)
    with pytest.raises(RuleViolation) as err:
        lc.answer_on_call(order, AGENT, flow.ctx(T0), answer="x")
    assert err.value.article == "第八条"


def test_a_class_not_answered_on_the_call_is_due_four_hours_after_assignment(flow):
    order = flow.assigned(T0, Category.A)
    assert order.due_at == T0 + timedelta(hours=4)


def test_lead_and_cooperating_units(flow):
    order = flow.registered(T0)
    order = flow.run(
        lc.assign,
        order,
        SUPERVISOR,
        at=T0,
        lead_unit_id=HANDLER.unit_id,
        cooperating_unit_ids=[COOP_HANDLER.unit_id],
    )
    assert order.involved_units == {HANDLER.unit_id, COOP_HANDLER.unit_id}
    order = flow.run(lc.check_in, order, COOP_HANDLER, at=T0 + timedelta(minutes=5))
    assert order.state is OrderState.ASSIGNED  # the lead has not checked in yet
    order = flow.run(lc.check_in, order, HANDLER, at=T0 + timedelta(minutes=10))
    assert order.state is OrderState.CHECKED_IN
    order = flow.run(
        lc.record_contact, order, COOP_HANDLER, at=T0 + timedelta(hours=1), purpose=ContactPurpose.OTHER
    )
    with pytest.raises(NotPermitted) as err:
        lc.reply(
            order,
            COOP_HANDLER,
            flow.ctx(T0 + timedelta(hours=2)),
            content="x",
            handler_name="a",
            handler_phone="13800000000",
        )
    assert err.value.code == "cooperating-unit-not-lead" and err.value.article == "第十条"


def test_a_unit_cannot_act_on_another_units_order(flow):
    order = flow.assigned(T0)
    with pytest.raises(NotPermitted) as err:
        lc.check_in(order, OTHER_HANDLER, flow.ctx(T0 + timedelta(minutes=1)))
    assert err.value.code == "not-your-unit" and err.value.article == "第十条"


def test_a_unit_handler_cannot_assign_and_an_agent_cannot_check_in(flow):
    order = flow.registered(T0)
    with pytest.raises(NotPermitted):
        lc.assign(order, HANDLER, flow.ctx(T0), lead_unit_id=HANDLER.unit_id)
    order = flow.assigned(T0)
    with pytest.raises(NotPermitted):
        lc.check_in(order, AGENT, flow.ctx(T0))


# -- returns (Art. 11) ---------------------------------------------------------------------


def test_return_within_24_hours_of_check_in_then_reassigned_elsewhere(flow):
    order = flow.checked_in(T0)  # checked in at 10:30
    order = flow.run(
        lc.return_order,
        order,
        HANDLER,
        at=t("2026-10-01 10:29"),
        reason="排水管网属市政公司",
        basis="三定方案",
        approved_by_leader="周副主任",
    )
    assert order.state is OrderState.RETURNED
    order = flow.run(lc.review_return, order, SUPERVISOR, at=t("2026-10-01 11:00"), accept=True)
    assert order.state is OrderState.REGISTERED and order.lead_unit_id is None
    with pytest.raises(RuleViolation) as err:
        lc.assign(order, SUPERVISOR, flow.ctx(t("2026-10-01 11:05")), lead_unit_id=HANDLER.unit_id)
    assert err.value.code == "reassign-to-returning-unit"
    order = flow.run(
        lc.assign, order, SUPERVISOR, at=t("2026-10-01 11:05"), lead_unit_id=OTHER_HANDLER.unit_id
    )
    assert order.state is OrderState.ASSIGNED
    assert flow.audit[-1].action == "reassign"
    # A fresh deadline from the reassignment: Oct 1 holiday → Oct 8, 9, 10, 12, 13.
    assert order.due_at == t("2026-10-14 00:00")


def test_return_after_24_hours_of_check_in_is_refused(flow):
    order = flow.checked_in(T0)
    with pytest.raises(RuleViolation) as err:
        lc.return_order(
            order, HANDLER, flow.ctx(t("2026-10-01 10:31")), reason="x", basis="y", approved_by_leader="z"
        )
    assert err.value.code == "return-window-passed"
    assert err.value.article == "第十一条"
    assert "24小时" in err.value.message


def test_return_before_check_in_is_refused(flow):
    order = flow.assigned(T0)
    with pytest.raises(IllegalTransition) as err:
        lc.return_order(order, HANDLER, flow.ctx(T0), reason="x", basis="y", approved_by_leader="z")
    assert err.value.code == "not-checked-in"


def test_return_needs_reason_basis_and_leader(flow):
    order = flow.checked_in(T0)
    with pytest.raises(InvalidInput):
        lc.return_order(
            order, HANDLER, flow.ctx(T0 + timedelta(hours=1)), reason=" ", basis="y", approved_by_leader="z"
        )


def test_refused_return_goes_back_to_the_unit(flow):
    order = flow.checked_in(T0)
    order = flow.run(
        lc.return_order,
        order,
        HANDLER,
        at=T0 + timedelta(hours=1),
        reason="r",
        basis="b",
        approved_by_leader="l",
    )
    order = flow.run(
        lc.review_return, order, SUPERVISOR, at=T0 + timedelta(hours=2), accept=False, note="属本单位职责"
    )
    assert order.state is OrderState.CHECKED_IN and order.lead_unit_id == HANDLER.unit_id
    assert order.returns[-1].accepted is False


def test_hedong_returns_within_one_working_day(profile_flow):
    flow = profile_flow("hedong-2021")
    order = flow.checked_in(T0)  # Wed Sep 30 10:30; next working day is Oct 8
    order2 = flow.run(
        lc.return_order,
        order,
        HANDLER,
        at=t("2026-10-08 23:00"),
        reason="r",
        basis="b",
        approved_by_leader="l",
    )
    assert order2.state is OrderState.RETURNED
    with pytest.raises(RuleViolation):
        lc.return_order(
            order, HANDLER, flow.ctx(t("2026-10-09 00:01")), reason="r", basis="b", approved_by_leader="l"
        )


# -- extensions (Art. 9) ---------------------------------------------------------------------


def _extended(flow):
    order = flow.checked_in(T0)
    order = flow.run(
        lc.request_extension,
        order,
        HANDLER,
        at=t("2026-10-12 09:00"),
        new_due_at=t("2026-10-21 00:00"),
        reason="需协调多部门",
    )
    assert order.pending_extension is not None and order.state is OrderState.IN_PROGRESS
    return flow.run(lc.decide_extension, order, SUPERVISOR, at=t("2026-10-12 10:00"), approve=True)


def test_extension_approved_moves_the_deadline_and_must_be_told_to_the_citizen(flow):
    order = _extended(flow)
    assert order.due_at == t("2026-10-21 00:00")
    assert order.extensions[0].status is ExtensionStatus.APPROVED
    order = flow.contacted(order, t("2026-10-15 09:00"), ContactPurpose.RESULT_FEEDBACK)
    with pytest.raises(RuleViolation) as err:
        lc.reply(
            order,
            HANDLER,
            flow.ctx(t("2026-10-15 10:00")),
            content="done",
            handler_name="张",
            handler_phone="13800000000",
        )
    assert err.value.code == "extension-not-notified" and err.value.article == "第九条"
    order = flow.contacted(order, t("2026-10-15 09:30"), ContactPurpose.EXTENSION_NOTICE)
    order = flow.run(
        lc.reply,
        order,
        HANDLER,
        at=t("2026-10-15 10:00"),
        content="done",
        handler_name="张",
        handler_phone="13800000000",
    )
    assert order.state is OrderState.REPLIED and not order.replies[-1].late


def test_a_second_extension_is_refused(flow):
    order = _extended(flow)
    with pytest.raises(RuleViolation) as err:
        lc.request_extension(
            order, HANDLER, flow.ctx(t("2026-10-19 09:00")), new_due_at=t("2026-10-28 00:00"), reason="再延"
        )
    assert err.value.code == "extension-limit-reached" and err.value.article == "第九条"


def test_an_extension_after_the_deadline_is_refused(flow):
    order = flow.checked_in(T0)
    with pytest.raises(RuleViolation) as err:
        lc.request_extension(
            order, HANDLER, flow.ctx(t("2026-10-14 00:00")), new_due_at=t("2026-10-21 00:00"), reason="晚了"
        )
    assert err.value.code == "extension-after-deadline"


@pytest.mark.parametrize("category", [Category.A, Category.D])
def test_only_b_and_c_may_be_extended(flow, category):
    order = flow.checked_in(T0, category)
    with pytest.raises(RuleViolation) as err:
        lc.request_extension(
            order, HANDLER, flow.ctx(T0 + timedelta(hours=1)), new_due_at=T0 + timedelta(days=3), reason="r"
        )
    assert err.value.code == "extension-not-allowed-for-category"


def test_a_pending_extension_blocks_another_request_and_a_refusal_keeps_the_deadline(flow):
    order = flow.checked_in(T0)
    order = flow.run(
        lc.request_extension,
        order,
        HANDLER,
        at=t("2026-10-09 09:00"),
        new_due_at=t("2026-10-20 00:00"),
        reason="r",
    )
    with pytest.raises(RuleViolation) as err:
        lc.request_extension(
            order, HANDLER, flow.ctx(t("2026-10-09 10:00")), new_due_at=t("2026-10-21 00:00"), reason="r"
        )
    assert err.value.code == "extension-pending"
    order = flow.run(
        lc.decide_extension, order, SUPERVISOR, at=t("2026-10-09 11:00"), approve=False, note="理由不充分"
    )
    assert order.due_at == t("2026-10-14 00:00")
    with pytest.raises(NotPermitted):
        lc.decide_extension(order, HANDLER, flow.ctx(t("2026-10-09 11:00")), approve=True)


def test_extension_must_move_the_deadline_later(flow):
    order = flow.checked_in(T0)
    with pytest.raises(InvalidInput):
        lc.request_extension(
            order, HANDLER, flow.ctx(T0 + timedelta(hours=2)), new_due_at=t("2026-10-13 00:00"), reason="r"
        )


# -- replies (Art. 13) -------------------------------------------------------------------------


def test_reply_without_citizen_contact_is_refused(flow):
    order = flow.checked_in(T0)
    with pytest.raises(RuleViolation) as err:
        lc.reply(
            order,
            HANDLER,
            flow.ctx(T0 + timedelta(hours=5)),
            content="已办",
            handler_name="张",
            handler_phone="13800000000",
        )
    assert err.value.code == "citizen-not-contacted" and err.value.article == "第十三条"


def test_hedong_needs_two_effective_contacts(profile_flow):
    flow = profile_flow("hedong-2021")
    order = flow.checked_in(T0)
    order = flow.contacted(order, T0 + timedelta(hours=3), ContactPurpose.RESULT_FEEDBACK)
    with pytest.raises(RuleViolation) as err:
        lc.reply(
            order,
            HANDLER,
            flow.ctx(T0 + timedelta(hours=5)),
            content="已办",
            handler_name="张",
            handler_phone="13800000000",
        )
    assert "首次联系" in err.value.message
    order = flow.contacted(order, T0 + timedelta(hours=4), ContactPurpose.FIRST_CONTACT)
    order = flow.run(
        lc.reply,
        order,
        HANDLER,
        at=T0 + timedelta(hours=5),
        content="已办",
        handler_name="张",
        handler_phone="13800000000",
    )
    assert order.state is OrderState.REPLIED


@pytest.mark.parametrize(
    ("name", "phone", "code"), [("", "13800000000", "empty-field"), ("张", "12", "invalid-phone")]
)
def test_reply_names_the_handler_and_a_valid_phone(flow, name, phone, code):
    order = flow.contacted(flow.checked_in(T0), T0 + timedelta(hours=1))
    with pytest.raises(InvalidInput) as err:
        lc.reply(
            order,
            HANDLER,
            flow.ctx(T0 + timedelta(hours=2)),
            content="已办",
            handler_name=name,
            handler_phone=phone,
        )
    assert err.value.code == code


def test_c_class_reply_must_be_written_and_c_report_lets_the_centre_set_the_deadline(flow):
    order = flow.checked_in(T0, Category.C)
    with pytest.raises(RuleViolation) as err:
        lc.set_deadline(order, SUPERVISOR, flow.ctx(T0 + timedelta(days=1)), due_at=t("2026-11-30 00:00"))
    assert err.value.code == "c-report-missing"
    order = flow.run(
        lc.submit_c_report,
        order,
        HANDLER,
        at=t("2026-10-09 10:00"),
        leader="周副局长",
        responsible="孙科长",
        contact_phone="0375-1234567",
        progress="已现场核查",
        plan="11月底前拆除",
    )
    order = flow.run(
        lc.set_deadline, order, SUPERVISOR, at=t("2026-10-09 11:00"), due_at=t("2026-11-30 00:00")
    )
    assert order.due_at == t("2026-11-30 00:00")
    order = flow.contacted(order, t("2026-11-20 10:00"))
    with pytest.raises(RuleViolation) as err2:
        lc.reply(
            order,
            HANDLER,
            flow.ctx(t("2026-11-20 11:00")),
            content="已拆除",
            handler_name="孙",
            handler_phone="13800000000",
        )
    assert err2.value.code == "written-reply-required"
    order = flow.run(
        lc.reply,
        order,
        HANDLER,
        at=t("2026-11-20 11:00"),
        content="已拆除",
        handler_name="孙",
        handler_phone="13800000000",
        document_ref="书面回复-001",
    )
    assert order.state is OrderState.REPLIED


def test_c_report_is_only_for_c_class(flow):
    order = flow.checked_in(T0, Category.B)
    with pytest.raises(RuleViolation):
        lc.submit_c_report(
            order,
            HANDLER,
            flow.ctx(T0),
            leader="a",
            responsible="b",
            contact_phone="13800000000",
            progress="c",
            plan="d",
        )


def test_late_reply_is_accepted_and_marked_late(flow):
    order = flow.contacted(flow.checked_in(T0), t("2026-10-14 09:00"))
    assert order.is_overdue(t("2026-10-14 09:00"))
    order = flow.run(
        lc.reply,
        order,
        HANDLER,
        at=t("2026-10-14 10:00"),
        content="x",
        handler_name="张",
        handler_phone="13800000000",
    )
    assert order.replies[-1].late


# -- intake validation -----------------------------------------------------------------------


def test_intake_refuses_bad_input(flow):
    base = dict(
        channel=Channel.PHONE,
        kind=RequestKind.HELP,
        category=Category.B,
        content="路灯不亮",
        citizen=Citizen("甲", "13800000000"),
        received_at=T0,
        actor=AGENT,
        ctx=flow.ctx(T0),
    )
    with pytest.raises(InvalidInput) as e1:
        lc.register("n", **{**base, "citizen": Citizen("甲", "123abc")})
    assert e1.value.code == "invalid-phone"
    with pytest.raises(InvalidInput) as e2:
        lc.register("n", **{**base, "content": "字" * (lc.MAX_CONTENT_CHARS + 1)})
    assert e2.value.code == "field-too-long"
    with pytest.raises(InvalidInput) as e3:
        lc.register("n", **{**base, "received_at": T0.replace(tzinfo=None)})
    assert e3.value.code == "naive-datetime"
    with pytest.raises(InvalidInput) as e4:
        lc.register("n", **{**base, "received_at": T0 + timedelta(hours=1)})
    assert e4.value.code == "received-in-future"
    with pytest.raises(InvalidInput) as e5:
        lc.register("n", **{**base, "citizen": Citizen("甲", None)})
    assert e5.value.code == "phone-required"
    with pytest.raises(NotPermitted):
        lc.register("n", **{**base, "actor": HANDLER})


def test_non_phone_channels_keep_their_original_received_at(flow):
    tr = lc.register(
        "20261001-000001",
        channel=Channel.MAYOR_MAILBOX,
        kind=RequestKind.SUGGESTION,
        category=Category.B,
        content="建议增设公交线路",
        citizen=Citizen("网民", None),
        received_at=t("2026-09-28 22:00"),
        actor=AGENT,
        ctx=flow.ctx(t("2026-10-08 09:00")),
    )
    assert tr.order.received_at == t("2026-09-28 22:00")
    assert tr.order.registered_at == t("2026-10-08 09:00")


def test_zibo_sets_a_dispatch_deadline_at_registration(profile_flow):
    flow = profile_flow("zibo")
    order = flow.registered(T0)
    assert order.dispatch_due_at == T0 + timedelta(hours=4)
    urgent = flow.registered(T0, Category.D, number="20260930-000002")
    assert urgent.dispatch_due_at == T0


def test_illegal_transitions_name_the_state(flow):
    order = flow.replied(T0)
    with pytest.raises(IllegalTransition) as err:
        lc.assign(order, SUPERVISOR, flow.ctx(T0 + timedelta(hours=5)), lead_unit_id=OTHER_HANDLER.unit_id)
    assert "已回复待回访" in err.value.message


@pytest.mark.parametrize(
    ("phone", "ok"),
    [
        ("13812345678", True),
        ("+86 13812345678", True),
        ("0375-2345678", True),
        ("0375-2345678-801", True),
        ("2345678", True),  # local line without area code
        ("12345", True),
        ("95598", True),
        ("1381234", False),  # a mobile with digits missing
        ("23456", False),
        ("138123456789", False),
        ("12", False),
        ("123abc", False),
    ],
)
def test_phone_numbers(phone, ok):
    assert lc.valid_phone(phone) is ok

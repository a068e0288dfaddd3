"""The assessment (Art. 26-29, seed 000) over a month of orders driven through the lifecycle.

November 2026 (as read on Wed 2 Dec 09:00) and October 2026 (read on Tue 3 Nov 09:00) for
fifteen units in the four groups. Each order follows one of the scripts below; every expected
figure is worked out by hand from the scripts, in exact fractions. Default weights
(pingdingshan-2022): check-in 10, contacted 10, on time 20, completion 20, reply 15, satisfaction 25.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from fractions import Fraction

import pytest

from minhu.policy import load_profile
from workorders import lifecycle as lc
from workorders.assessment import (
    AssessmentPeriod,
    AssessmentSettings,
    EmptyIndicator,
    IndicatorKey,
    Month,
    MonthlyAssessment,
    UnitInfo,
    annual_result,
    assess_month,
    assess_units,
    escalations,
    interview_triggers,
    present,
    rank_group,
)
from workorders.enums import AssessmentGroup, CallOutcome, Category, ContactPurpose, Role, Satisfaction
from workorders.errors import InvalidInput, PolicyError
from workorders.model import Actor, WorkOrder
from workorders.periods import Period
from workorders.policy import InterviewRule, PolicyProfile

from .conftest import AGENT, SH, SUPERVISOR, Flow, t

F = Fraction
G = AssessmentGroup
K = IndicatorKey
NOV, OCT = Month(2026, 11), Month(2026, 10)
AS_OF_NOV, AS_OF_OCT = t("2026-12-02 09:00"), t("2026-11-03 09:00")

UNITS = [
    UnitInfo("dist-xinhua", "新华区", G.DISTRICT),
    UnitInfo("dist-weidong", "卫东区", G.DISTRICT),
    UnitInfo("dist-zhanhe", "湛河区", G.DISTRICT),
    UnitInfo("cty-ruzhou", "汝州市", G.COUNTY),
    UnitInfo("cty-wugang", "舞钢市", G.COUNTY),
    UnitInfo("cty-baofeng", "宝丰县", G.COUNTY),
    UnitInfo("dept-housing", "市住房和城乡建设局", G.DEPARTMENT),
    UnitInfo("dept-water", "市水利局", G.DEPARTMENT),
    UnitInfo("dept-transport", "市交通运输局", G.DEPARTMENT),
    UnitInfo("dept-urban", "市城市管理局", G.DEPARTMENT),
    UnitInfo("st-guangming", "光明路街道", G.STREET),
    UnitInfo("st-zhongxing", "中兴路街道", G.STREET),
    UnitInfo("st-zhannan", "湛南路街道", G.STREET),
    UnitInfo("st-caozhen", "曹镇乡", G.STREET),
    UnitInfo("st-shuguang", "曙光街街道", G.STREET),
]


def handler(unit: str) -> Actor:
    return Actor(f"h-{unit}", Role.UNIT_HANDLER, unit_id=unit, name="承办人")


# -- the scripts: one way an order can go, from the assignment at ``at`` ----------------------


class Scripts:
    """Drives orders through the lifecycle. The flow's profile does not force a contact before a
    reply (``required_contacts = []``), so that a unit can skip it and be marked down for it; the
    assessment itself uses the real profile (Art. 13: the result fed back before the reply)."""

    def __init__(self, flow: Flow) -> None:
        self.f = flow

    def _assigned(self, number: str, unit: str, at: datetime, category: Category = Category.B) -> WorkOrder:
        order = self.f.registered(at - timedelta(minutes=20), category, number=number)
        return self.f.run(lc.assign, order, SUPERVISOR, at=at, lead_unit_id=unit)

    def _check_in(self, order: WorkOrder, at: datetime) -> WorkOrder:
        return self.f.run(lc.check_in, order, handler(order.lead_unit_id or ""), at=at)

    def _contact(self, order: WorkOrder, at: datetime, purpose=ContactPurpose.RESULT_FEEDBACK) -> WorkOrder:
        return self.f.run(lc.record_contact, order, handler(order.lead_unit_id or ""), at=at, purpose=purpose)

    def _reply(self, order: WorkOrder, at: datetime) -> WorkOrder:
        return self.f.run(
            lc.reply,
            order,
            handler(order.lead_unit_id or ""),
            at=at,
            content="已现场核实并处理完毕",
            handler_name="承办人",
            handler_phone="0375-2345678",
        )

    def _revisit(self, order: WorkOrder, at: datetime, answer: Satisfaction) -> WorkOrder:
        return self.f.run(
            lc.record_revisit_attempt,
            order,
            AGENT,
            at=at,
            started_at=at,
            outcome=CallOutcome.ANSWERED,
            satisfaction=answer,
        )

    def _handled(self, order: WorkOrder, at: datetime, contact: bool = True) -> WorkOrder:
        """Checked in after 30 min, citizen told at +2 h, replied at +3 h."""
        order = self._check_in(order, at + timedelta(minutes=30))
        if contact:
            order = self._contact(order, at + timedelta(hours=2))
        return self._reply(order, at + timedelta(hours=3))

    def good(self, number: str, unit: str, at: datetime, answer=Satisfaction.SATISFIED) -> WorkOrder:
        order = self._handled(self._assigned(number, unit, at), at)
        return self._revisit(order, at + timedelta(days=1, hours=1), answer)

    def basic(self, number: str, unit: str, at: datetime) -> WorkOrder:
        return self.good(number, unit, at, Satisfaction.BASICALLY_SATISFIED)

    def late_check_in(self, number: str, unit: str, at: datetime) -> WorkOrder:
        order = self._check_in(self._assigned(number, unit, at), at + timedelta(hours=3))
        order = self._contact(order, at + timedelta(hours=4))
        order = self._reply(order, at + timedelta(hours=5))
        return self._revisit(order, at + timedelta(days=1, hours=1), Satisfaction.SATISFIED)

    def no_contact(self, number: str, unit: str, at: datetime) -> WorkOrder:
        order = self._handled(self._assigned(number, unit, at), at, contact=False)
        return self._revisit(order, at + timedelta(days=1, hours=1), Satisfaction.SATISFIED)

    def late_reply(self, number: str, unit: str, at: datetime) -> WorkOrder:
        order = self._check_in(self._assigned(number, unit, at), at + timedelta(minutes=30))
        assert order.due_at is not None
        order = self._contact(order, order.due_at + timedelta(hours=9))
        order = self._reply(order, order.due_at + timedelta(hours=10))
        assert order.replies[-1].late
        return self._revisit(order, order.due_at + timedelta(days=1, hours=10), Satisfaction.SATISFIED)

    def a_class_late(self, number: str, unit: str, at: datetime) -> WorkOrder:
        """An A order (4 hours) replied after 5 hours."""
        order = self._check_in(self._assigned(number, unit, at, Category.A), at + timedelta(minutes=30))
        order = self._contact(order, at + timedelta(hours=4, minutes=30))
        order = self._reply(order, at + timedelta(hours=5))
        assert order.replies[-1].late
        return self._revisit(order, at + timedelta(days=1, hours=1), Satisfaction.SATISFIED)

    def deemed(self, number: str, unit: str, at: datetime) -> WorkOrder:
        """Two calls ring out next day at 09:00 and 14:00 (Art. 17): 视为满意."""
        order = self._handled(self._assigned(number, unit, at), at)
        day = at + timedelta(days=1)
        for when in (day.replace(hour=9), day.replace(hour=14)):
            order = self.f.run(
                lc.record_revisit_attempt,
                order,
                AGENT,
                at=when,
                started_at=when,
                outcome=CallOutcome.RANG_OUT,
            )
        assert order.satisfaction is Satisfaction.DEEMED_SATISFIED
        return order

    def dissatisfied_open(self, number: str, unit: str, at: datetime) -> WorkOrder:
        """Dissatisfied at the revisit; waiting to be assigned again (待重办)."""
        order = self._handled(self._assigned(number, unit, at), at)
        return self._revisit(order, at + timedelta(days=1, hours=1), Satisfaction.DISSATISFIED)

    def dissatisfied_rehandled(self, number: str, unit: str, at: datetime) -> WorkOrder:
        """Dissatisfied, re-assigned next day 11:00 to the same unit, handled again, satisfied."""
        order = self.dissatisfied_open(number, unit, at)
        again = at + timedelta(days=1, hours=2)
        order = self.f.run(lc.assign, order, SUPERVISOR, at=again, lead_unit_id=unit)
        order = self._handled(order, again)
        order = self._revisit(order, again + timedelta(days=1), Satisfaction.SATISFIED)
        assert order.handling_round == 1
        return order

    def extended(self, number: str, unit: str, at: datetime) -> WorkOrder:
        """Extension asked a day before the deadline, approved; replied after the old deadline."""
        order = self._check_in(self._assigned(number, unit, at), at + timedelta(minutes=30))
        assert order.due_at is not None
        old_due = order.due_at
        order = self.f.run(
            lc.request_extension,
            order,
            handler(unit),
            at=old_due - timedelta(hours=14),
            new_due_at=old_due + timedelta(days=7),
            reason="需协调供水公司更换主管道",
        )
        order = self.f.run(
            lc.decide_extension, order, SUPERVISOR, at=old_due - timedelta(hours=13), approve=True
        )
        order = self._contact(order, old_due - timedelta(hours=12), ContactPurpose.EXTENSION_NOTICE)
        order = self._contact(order, old_due + timedelta(hours=9))
        order = self._reply(order, old_due + timedelta(hours=10))
        assert not order.replies[-1].late
        return self._revisit(order, old_due + timedelta(days=1, hours=10), Satisfaction.SATISFIED)

    def _returned(self, number: str, unit: str, at: datetime, accept: bool) -> WorkOrder:
        order = self._check_in(self._assigned(number, unit, at), at + timedelta(minutes=30))
        order = self.f.run(
            lc.return_order,
            order,
            handler(unit),
            at=at + timedelta(hours=1),
            reason="不属于本单位职责",
            basis="三定方案",
            approved_by_leader="王分管",
        )
        return self.f.run(lc.review_return, order, SUPERVISOR, at=at + timedelta(hours=2), accept=accept)

    def returned_refused(self, number: str, unit: str, at: datetime) -> WorkOrder:
        """Returned within 24 h; the centre refuses; the unit handles it after all."""
        order = self._returned(number, unit, at, accept=False)
        order = self._contact(order, at + timedelta(hours=5))
        order = self._reply(order, at + timedelta(hours=6))
        return self._revisit(order, at + timedelta(days=1, hours=1), Satisfaction.SATISFIED)

    def returned_to(self, other: str) -> Callable[[str, str, datetime], WorkOrder]:
        """Returned with the centre's approval and reassigned to ``other``, which handles it well."""

        def script(number: str, unit: str, at: datetime) -> WorkOrder:
            order = self._returned(number, unit, at, accept=True)
            later = at + timedelta(hours=2, minutes=30)
            order = self.f.run(lc.assign, order, SUPERVISOR, at=later, lead_unit_id=other)
            order = self._handled(order, later)
            return self._revisit(order, later + timedelta(days=1), Satisfaction.SATISFIED)

        return script

    def in_progress(self, number: str, unit: str, at: datetime) -> WorkOrder:
        return self._check_in(self._assigned(number, unit, at), at + timedelta(minutes=30))

    def unchecked(self, number: str, unit: str, at: datetime) -> WorkOrder:
        return self._assigned(number, unit, at)

    def awaiting_revisit(self, number: str, unit: str, at: datetime) -> WorkOrder:
        return self._handled(self._assigned(number, unit, at), at)


def day(text: str) -> datetime:
    return t(f"{text} 09:00")


def november(s: Scripts) -> list[WorkOrder]:
    """The month (Mon 2 - Mon 30 Nov 2026, no holidays). B orders are due 5 working days on."""
    plan: list[tuple[str, str, Callable[[str, str, datetime], WorkOrder], datetime]] = [
        # 区组
        *[(f"XH-{i}", "dist-xinhua", s.good, day(f"2026-11-0{i + 1}")) for i in (1, 2, 3, 4)],
        ("WD-1", "dist-weidong", s.good, day("2026-11-03")),
        ("WD-2", "dist-weidong", s.basic, day("2026-11-04")),
        ("WD-3", "dist-weidong", s.deemed, day("2026-11-05")),
        ("WD-4", "dist-weidong", s.late_reply, day("2026-11-10")),
        ("ZH-1", "dist-zhanhe", s.good, day("2026-11-03")),
        ("ZH-2", "dist-zhanhe", s.good, day("2026-11-10")),
        ("ZH-3", "dist-zhanhe", s.dissatisfied_open, day("2026-11-17")),
        ("ZH-4", "dist-zhanhe", s.dissatisfied_open, day("2026-11-24")),
        # 县（市）组
        *[(f"RZ-{i}", "cty-ruzhou", s.good, day("2026-11-12")) for i in (1, 2, 3)],
        ("RZ-4", "cty-ruzhou", s.extended, day("2026-11-12")),
        ("WG-1", "cty-wugang", s.good, day("2026-11-04")),
        ("WG-2", "cty-wugang", s.good, day("2026-11-05")),
        ("WG-3", "cty-wugang", s.no_contact, day("2026-11-18")),
        ("WG-4", "cty-wugang", s.late_check_in, day("2026-11-19")),
        *[(f"BF-{i}", "cty-baofeng", s.good, day("2026-11-16")) for i in (1, 2, 3)],
        ("BF-4", "cty-baofeng", s.dissatisfied_open, day("2026-11-16")),
        # 市直和驻平单位组: 住建局 has one order of every kind.
        ("HS-GOOD", "dept-housing", s.good, day("2026-11-03")),
        ("HS-LATECHECKIN", "dept-housing", s.late_check_in, day("2026-11-03")),
        ("HS-NOCONTACT", "dept-housing", s.no_contact, day("2026-11-04")),
        ("HS-LATEREPLY", "dept-housing", s.late_reply, day("2026-11-04")),
        ("HS-DEEMED", "dept-housing", s.deemed, day("2026-11-05")),
        ("HS-REHANDLED", "dept-housing", s.dissatisfied_rehandled, day("2026-11-09")),
        ("HS-DISSATISFIED", "dept-housing", s.dissatisfied_open, day("2026-11-10")),
        ("HS-EXTENDED", "dept-housing", s.extended, day("2026-11-11")),
        ("HS-RETREFUSED", "dept-housing", s.returned_refused, day("2026-11-12")),
        ("HS-RETACCEPTED", "dept-housing", s.returned_to("dept-water"), day("2026-11-13")),
        ("HS-INPROGRESS", "dept-housing", s.in_progress, t("2026-11-30 10:00")),
        ("HS-OVERDUE", "dept-housing", s.in_progress, day("2026-11-17")),
        ("HS-UNCHECKED", "dept-housing", s.unchecked, day("2026-11-18")),
        ("HS-AWAITING", "dept-housing", s.awaiting_revisit, day("2026-11-30")),
        *[(f"SL-{i}", "dept-water", s.good, day("2026-11-19")) for i in (1, 2, 3, 4)],
        *[(f"JT-{i}", "dept-transport", s.good, day("2026-11-20")) for i in (1, 2, 3)],
        ("JT-4", "dept-transport", s.a_class_late, day("2026-11-20")),
        *[(f"CG-{i}", "dept-urban", s.good, day("2026-11-23")) for i in (1, 2, 3)],
        ("CG-4", "dept-urban", s.dissatisfied_open, day("2026-11-23")),
        ("CG-5", "dept-urban", s.dissatisfied_open, day("2026-11-24")),
        # 乡镇（街道）组
        *[(f"GM-{i}", "st-guangming", s.good, day("2026-11-25")) for i in (1, 2, 3, 4)],
        *[(f"ZX-{i}", "st-zhongxing", s.good, day("2026-11-10")) for i in (1, 2, 3)],
        ("ZX-4", "st-zhongxing", s.awaiting_revisit, day("2026-11-30")),
        *[(f"ZN-{i}", "st-zhannan", s.good, day("2026-11-11")) for i in (1, 2, 3)],
        ("ZN-4", "st-zhannan", s.late_reply, day("2026-11-11")),
        ("CZ-1", "st-caozhen", s.in_progress, day("2026-11-30")),
        ("CZ-2", "st-caozhen", s.unchecked, day("2026-11-16")),
        ("CZ-3", "st-caozhen", s.in_progress, day("2026-11-16")),  # never replied: overdue
    ]
    return [script(number, unit, at) for number, unit, script, at in plan]


def october(s: Scripts) -> list[WorkOrder]:
    """A quieter October, after the National Day holidays (orders from Mon 12 Oct)."""
    plan: list[tuple[str, str, Callable[[str, str, datetime], WorkOrder], datetime]] = [
        ("O-XH-1", "dist-xinhua", s.good, day("2026-10-12")),
        ("O-XH-2", "dist-xinhua", s.good, day("2026-10-13")),
        ("O-WD-1", "dist-weidong", s.good, day("2026-10-12")),
        ("O-WD-2", "dist-weidong", s.good, day("2026-10-14")),
        ("O-ZH-1", "dist-zhanhe", s.good, day("2026-10-12")),
        ("O-ZH-2", "dist-zhanhe", s.late_reply, day("2026-10-13")),
        ("O-RZ-1", "cty-ruzhou", s.good, day("2026-10-15")),
        ("O-RZ-2", "cty-ruzhou", s.no_contact, day("2026-10-15")),
        ("O-WG-1", "cty-wugang", s.good, day("2026-10-15")),
        ("O-WG-2", "cty-wugang", s.good, day("2026-10-16")),
        ("O-BF-1", "cty-baofeng", s.good, day("2026-10-19")),
        ("O-BF-2", "cty-baofeng", s.good, day("2026-10-20")),
        *[
            (f"O-{p}-{i}", u, s.good, day("2026-10-21"))
            for p, u in (
                ("HS", "dept-housing"),
                ("SL", "dept-water"),
                ("JT", "dept-transport"),
                ("CG", "dept-urban"),
            )
            for i in (1, 2)
        ],
        ("O-GM-1", "st-guangming", s.good, day("2026-10-22")),
        ("O-GM-2", "st-guangming", s.good, day("2026-10-22")),
        ("O-ZX-1", "st-zhongxing", s.good, day("2026-10-22")),
        ("O-ZX-2", "st-zhongxing", s.good, day("2026-10-23")),
        ("O-ZN-1", "st-zhannan", s.good, day("2026-10-26")),
        ("O-ZN-2", "st-zhannan", s.dissatisfied_open, day("2026-10-26")),
        ("O-CZ-1", "st-caozhen", s.good, day("2026-10-27")),
        ("O-CZ-2", "st-caozhen", s.good, day("2026-10-27")),
        ("O-SG-1", "st-shuguang", s.good, day("2026-10-28")),
    ]
    return [script(number, unit, at) for number, unit, script, at in plan]


@pytest.fixture(scope="module")
def orders(calendar) -> list[WorkOrder]:
    flow = Flow(load_profile("pingdingshan-2022", {"required_contacts": []}), calendar)
    scripts = Scripts(flow)
    return october(scripts) + november(scripts)


@pytest.fixture(scope="module")
def p2022() -> PolicyProfile:
    return load_profile("pingdingshan-2022")


@pytest.fixture(scope="module")
def p2021() -> PolicyProfile:
    return load_profile("pingdingshan-2021")


# Interviews before November (Art. 28(5) counts every interview, on any ground of Art. 28).
HISTORY_NOV = {
    "dist-zhanhe": [Month(2026, 10)],  # Art. 28(1) in October
    "dept-housing": [Month(2025, 11), Month(2026, 3), Month(2026, 6), Month(2026, 8)],
    "st-caozhen": [Month(2026, 10)],
    "dept-urban": [Month(2026, 9), Month(2026, 10)],
}
HISTORY_OCT = {"st-zhannan": [Month(2026, 8), Month(2026, 9)]}


@pytest.fixture(scope="module")
def nov(orders, p2022) -> MonthlyAssessment:
    return assess_month(NOV, UNITS, orders, as_of=AS_OF_NOV, policy=p2022, interview_history=HISTORY_NOV)


@pytest.fixture(scope="module")
def octo(orders, p2022) -> MonthlyAssessment:
    return assess_month(OCT, UNITS, orders, as_of=AS_OF_OCT, policy=p2022, interview_history=HISTORY_OCT)


# -- indicators --------------------------------------------------------------------------------

ALL = tuple(K)
ORDER = (
    K.CHECK_IN_ON_TIME,
    K.CITIZEN_CONTACTED,
    K.ON_TIME_COMPLETION,
    K.COMPLETION_RATE,
    K.REPLY_RATE,
    K.SATISFACTION_RATE,
    K.FIRST_TIME_RESOLUTION,
    K.RETURNS,
    K.EXTENSIONS,
    K.REHANDLED,
)

# (numerator, denominator) per unit, in the order of ORDER, worked out from the scripts above.
# fmt: off
EXPECTED_NOV = {
    #               check-in contact on-time  closed  replied  satisf.  1st-time returns extended rehandled
    "dist-xinhua":    ((4, 4), (4, 4), (4, 4), (4, 4), (4, 4), (4, 4), (4, 4), (0, 4), (0, 4), (0, 4)),
    "dist-weidong":   ((4, 4), (4, 4), (3, 4), (4, 4), (4, 4), (4, 4), (4, 4), (0, 4), (0, 4), (0, 4)),
    "dist-zhanhe":    ((4, 4), (4, 4), (4, 4), (2, 4), (4, 4), (2, 4), (2, 4), (0, 4), (0, 4), (0, 4)),
    "cty-ruzhou":     ((4, 4), (4, 4), (4, 4), (4, 4), (4, 4), (4, 4), (4, 4), (0, 4), (1, 4), (0, 4)),
    "cty-wugang":     ((3, 4), (3, 4), (4, 4), (4, 4), (4, 4), (4, 4), (4, 4), (0, 4), (0, 4), (0, 4)),
    "cty-baofeng":    ((4, 4), (4, 4), (4, 4), (3, 4), (4, 4), (3, 4), (3, 4), (0, 4), (0, 4), (0, 4)),
    # 13 orders led (HS-RETACCEPTED went to the water bureau), 10 of them replied.
    "dept-housing":   ((11, 13), (9, 10), (9, 12), (8, 13), (10, 13), (8, 9), (7, 9), (2, 14), (1, 13),
                       (1, 13)),
    "dept-water":     ((5, 5), (5, 5), (5, 5), (5, 5), (5, 5), (5, 5), (5, 5), (0, 5), (0, 5), (0, 5)),
    "dept-transport": ((4, 4), (4, 4), (3, 4), (4, 4), (4, 4), (4, 4), (4, 4), (0, 4), (0, 4), (0, 4)),
    "dept-urban":     ((5, 5), (5, 5), (5, 5), (3, 5), (5, 5), (3, 5), (3, 5), (0, 5), (0, 5), (0, 5)),
    "st-guangming":   ((4, 4), (4, 4), (4, 4), (4, 4), (4, 4), (4, 4), (4, 4), (0, 4), (0, 4), (0, 4)),
    "st-zhongxing":   ((4, 4), (4, 4), (4, 4), (3, 4), (4, 4), (3, 3), (3, 3), (0, 4), (0, 4), (0, 4)),
    "st-zhannan":     ((4, 4), (4, 4), (3, 4), (4, 4), (4, 4), (4, 4), (4, 4), (0, 4), (0, 4), (0, 4)),
    # CZ-1 in progress (not yet due), CZ-2 never checked in, CZ-3 overdue: nothing replied.
    "st-caozhen":     ((2, 3), (0, 0), (0, 2), (0, 3), (0, 3), (0, 0), (0, 0), (0, 3), (0, 3), (0, 3)),
    "st-shuguang":    ((0, 0),) * 10,
}
# fmt: on

EXPECTED_SCORES_NOV = {
    "dist-xinhua": F(100),
    "dist-weidong": F(95),  # on time 3/4: 100 − 20/4
    "dist-zhanhe": F(155, 2),  # 100 − 20·2/4 − 25·2/4 = 77.5
    "cty-ruzhou": F(100),  # an approved extension, replied within it: no deduction
    "cty-wugang": F(95),  # 100 − 10/4 − 10/4
    "cty-baofeng": F(355, 4),  # 100 − 20/4 − 25/4 = 88.75
    # 10·11/13 + 10·9/10 + 20·9/12 + 20·8/13 + 15·10/13 + 25·8/9 = 420/13 + 24 + 200/9
    "dept-housing": F(9188, 117),
    "dept-water": F(100),
    "dept-transport": F(95),  # the A order replied after 5 hours: on time 3/4
    "dept-urban": F(82),  # 100 − 20·2/5 − 25·2/5
    "st-guangming": F(100),
    "st-zhongxing": F(95),  # closed 3/4 (one awaits its revisit): 100 − 20/4
    "st-zhannan": F(95),
    # Contact and satisfaction have empty denominators: left out, the other 65 points scaled to 100.
    # (10·2/3 + 20·0 + 20·0 + 15·0) × 100/65
    "st-caozhen": F(400, 39),
    "st-shuguang": None,  # no order: not assessed
}


def test_every_indicator_of_every_unit_in_november(nov):
    for uid, expected in EXPECTED_NOV.items():
        got = tuple((nov.units[uid][k].count, nov.units[uid][k].base) for k in ORDER)
        assert got == expected, uid


def test_the_drill_down_names_the_orders_behind_each_figure(nov):
    hs = nov.units["dept-housing"]
    led = (
        "HS-GOOD", "HS-LATECHECKIN", "HS-NOCONTACT", "HS-LATEREPLY", "HS-DEEMED", "HS-REHANDLED",
        "HS-DISSATISFIED", "HS-EXTENDED", "HS-RETREFUSED", "HS-INPROGRESS", "HS-OVERDUE",
        "HS-UNCHECKED", "HS-AWAITING",
    )  # fmt: skip
    assert hs.orders == led
    replied = tuple(n for n in led if n not in ("HS-INPROGRESS", "HS-OVERDUE", "HS-UNCHECKED"))

    def minus(base, *out):
        return tuple(n for n in base if n not in out)

    check_in = hs[K.CHECK_IN_ON_TIME]
    assert check_in.denominator == led
    assert check_in.numerator == minus(led, "HS-LATECHECKIN", "HS-UNCHECKED")
    assert hs[K.CITIZEN_CONTACTED].denominator == replied
    assert hs[K.CITIZEN_CONTACTED].numerator == minus(replied, "HS-NOCONTACT")
    # Not yet due on 2 Dec, so left out: HS-INPROGRESS (due 8 Dec). Overdue ones count as late.
    on_time = hs[K.ON_TIME_COMPLETION]
    assert on_time.denominator == minus(led, "HS-INPROGRESS")
    assert on_time.numerator == minus(replied, "HS-LATEREPLY")
    assert hs[K.REPLY_RATE].numerator == replied
    closed = minus(replied, "HS-DISSATISFIED", "HS-AWAITING")
    assert hs[K.COMPLETION_RATE].numerator == closed and hs[K.COMPLETION_RATE].denominator == led
    rated = minus(replied, "HS-AWAITING")
    satisfaction = hs[K.SATISFACTION_RATE]
    assert satisfaction.denominator == rated
    assert satisfaction.numerator == minus(rated, "HS-DISSATISFIED")  # HS-DEEMED counts (2022)
    assert hs[K.FIRST_TIME_RESOLUTION].numerator == minus(rated, "HS-DISSATISFIED", "HS-REHANDLED")
    assert hs[K.RETURNS].numerator == ("HS-RETREFUSED", "HS-RETACCEPTED")
    assert hs[K.RETURNS].denominator == (*led[:9], "HS-RETACCEPTED", *led[9:])
    assert hs[K.EXTENSIONS].numerator == ("HS-EXTENDED",)
    assert hs[K.REHANDLED].numerator == ("HS-REHANDLED",)
    # The order the housing bureau returned is the water bureau's now.
    assert "HS-RETACCEPTED" in nov.units["dept-water"].orders
    for key in ALL:
        assert set(hs[key].numerator) <= set(hs[key].denominator)


def test_rates_are_exact_fractions_and_an_empty_denominator_has_no_rate(nov):
    hs = nov.units["dept-housing"]
    assert hs[K.SATISFACTION_RATE].rate == F(8, 9)
    assert hs[K.SATISFACTION_RATE].percent() == Decimal("88.89")
    assert hs[K.RETURNS].rate == F(1, 7)
    cz = nov.units["st-caozhen"]
    assert cz[K.SATISFACTION_RATE].rate is None and cz[K.SATISFACTION_RATE].percent() is None
    assert nov.units["st-shuguang"][K.REPLY_RATE].rate is None


def test_orders_are_taken_by_assignment_time_within_the_period(nov, octo):
    assert nov.units["dist-xinhua"].orders == ("XH-1", "XH-2", "XH-3", "XH-4")
    assert octo.units["dist-xinhua"].orders == ("O-XH-1", "O-XH-2")
    # A re-handled order counts in the month of its latest assignment (9 Nov, again 10 Nov 11:00).
    assert "HS-REHANDLED" in nov.units["dept-housing"].orders


def test_deemed_satisfied_is_left_out_of_satisfaction_when_the_profile_says_so(orders, p2022):
    policy = p2022.with_overrides({"deemed_satisfied_counts_as_satisfied": False})
    wd = assess_units(UNITS, orders, NOV.period(SH), as_of=AS_OF_NOV, policy=policy)["dist-weidong"]
    assert (wd[K.SATISFACTION_RATE].count, wd[K.SATISFACTION_RATE].base) == (3, 3)
    assert "WD-3" not in wd[K.SATISFACTION_RATE].denominator
    hs = assess_units(UNITS, orders, NOV.period(SH), as_of=AS_OF_NOV, policy=policy)["dept-housing"]
    assert hs[K.SATISFACTION_RATE].rate == F(7, 8)


def test_hedong_requires_two_contacts_before_a_reply(orders):
    # Hedong: call the citizen on receipt and again with the result; our units only did the latter.
    hedong = load_profile("hedong-2021")
    units = assess_units(UNITS, orders, NOV.period(SH), as_of=AS_OF_NOV, policy=hedong)
    assert units["dist-xinhua"][K.CITIZEN_CONTACTED].rate == 0


def test_the_snapshot_time_decides_what_is_overdue(orders, p2022):
    # CZ-2 (never checked in) and CZ-3 (checked in, no reply) were assigned on Mon 16 Nov, due at
    # 24:00 on Mon 23 Nov. Read on Fri 20 Nov, neither is late yet for its reply; CZ-2's
    # check-in period ended at 11:00 on the 16th.
    two = [o for o in orders if o.number in ("CZ-2", "CZ-3")]
    early = assess_units(UNITS, two, NOV.period(SH), as_of=t("2026-11-20 09:00"), policy=p2022)
    cz = early["st-caozhen"]
    assert cz[K.ON_TIME_COMPLETION].denominator == ()
    assert (cz[K.CHECK_IN_ON_TIME].numerator, cz[K.CHECK_IN_ON_TIME].denominator) == (
        ("CZ-3",),
        ("CZ-2", "CZ-3"),
    )
    late = assess_units(UNITS, two, NOV.period(SH), as_of=t("2026-11-24 00:01"), policy=p2022)
    assert late["st-caozhen"][K.ON_TIME_COMPLETION].denominator == ("CZ-2", "CZ-3")


def test_check_in_period_is_a_setting(orders, p2022):
    lax = AssessmentSettings(check_in_period=Period.hours(4))
    units = assess_units(UNITS, orders, NOV.period(SH), as_of=AS_OF_NOV, policy=p2022, settings=lax)
    assert units["cty-wugang"][K.CHECK_IN_ON_TIME].rate == 1  # checked in after 3 hours
    with pytest.raises(PolicyError) as err:
        assess_units(
            UNITS,
            orders,
            NOV.period(SH),
            as_of=AS_OF_NOV,
            policy=p2022,
            settings=AssessmentSettings(check_in_period=Period.working_days(1)),
        )
    assert err.value.code == "assessment-calendar-required"


# -- scores -------------------------------------------------------------------------------------


def test_total_scores_are_exact_and_rounded_half_up_only_when_shown(nov):
    for uid, expected in EXPECTED_SCORES_NOV.items():
        assert nov.score(uid) == expected, uid
    assert nov.units["dept-housing"].score_display() == Decimal("78.53")  # 78.5299...
    assert nov.units["cty-baofeng"].score_display() == Decimal("88.75")
    assert nov.units["st-caozhen"].score_display() == Decimal("10.26")  # 10.2564...
    assert nov.units["st-shuguang"].score_display() is None
    parts = nov.units["dept-housing"].score
    assert parts is not None and sum(parts.parts.values()) == parts.total
    assert parts.parts[K.SATISFACTION_RATE] == F(200, 9)
    assert nov.units["st-caozhen"].score.left_out == (K.CITIZEN_CONTACTED, K.SATISFACTION_RATE)


def test_present_rounds_half_up():
    assert present(F(16805, 200)) == Decimal("84.03")  # 84.025
    assert present(F(-16805, 200)) == Decimal("-84.03")
    assert present(F(1, 3), 0) == Decimal("0")
    assert present(F(100)) == Decimal("100.00")


def test_full_marks_for_an_empty_indicator_is_a_setting(orders, p2022):
    full = AssessmentSettings(empty_indicator=EmptyIndicator.FULL_MARKS)
    units = assess_units(UNITS, orders, NOV.period(SH), as_of=AS_OF_NOV, policy=p2022, settings=full)
    # 10·2/3 + 10 (no reply to judge) + 0 + 0 + 0 + 25 (nothing revisited)
    assert units["st-caozhen"].total == F(125, 3)
    assert units["st-shuguang"].total is None  # still: no order, no score


def test_weights_for_the_lower_is_better_indicators_count_one_minus_the_rate(orders, p2022):
    policy = p2022.with_overrides({"indicator_weights": {"reply_rate": "50", "returns": "50"}})
    hs = assess_units(UNITS, orders, NOV.period(SH), as_of=AS_OF_NOV, policy=policy)["dept-housing"]
    assert hs.total == 50 * F(10, 13) + 50 * (1 - F(1, 7))
    bad = p2022.with_overrides({"indicator_weights": {"speed": "100"}})
    with pytest.raises(PolicyError) as err:
        assess_units(UNITS, orders, NOV.period(SH), as_of=AS_OF_NOV, policy=bad)
    assert err.value.code == "assessment-unknown-indicator"


# -- ranking and interviews -----------------------------------------------------------------------


def ranks(month: MonthlyAssessment, group: AssessmentGroup) -> list[tuple[str, int]]:
    return [(r.unit_id, r.rank) for r in month.rankings[group].ranked]


def test_monthly_ranking_in_the_four_groups_with_shared_ranks(nov):
    assert ranks(nov, G.DISTRICT) == [("dist-xinhua", 1), ("dist-weidong", 2), ("dist-zhanhe", 3)]
    assert ranks(nov, G.COUNTY) == [("cty-ruzhou", 1), ("cty-wugang", 2), ("cty-baofeng", 3)]
    assert ranks(nov, G.DEPARTMENT) == [
        ("dept-water", 1),
        ("dept-transport", 2),
        ("dept-urban", 3),
        ("dept-housing", 4),
    ]
    # 中兴路 and 湛南路 both score 95: they share 2nd place and the next is 4th.
    assert ranks(nov, G.STREET) == [
        ("st-guangming", 1),
        ("st-zhannan", 2),
        ("st-zhongxing", 2),
        ("st-caozhen", 4),
    ]
    assert nov.rankings[G.STREET].unranked == ("st-shuguang",)


def interviewed(month: MonthlyAssessment) -> set[str]:
    return {trigger.unit_id for trigger in month.interviews}


def test_interview_triggers_2022(nov):
    # 区组/县组: last and below 85 % of the top; 市直组/街道组: last two and below 80 % of the top.
    #   湛河区 77.5 < 85;  宝丰县 88.75 ≥ 85;  住建局 78.53 < 80, 城管局 82 ≥ 80;
    #   曹镇乡 10.26 < 80, the tied 95s are among the last two but above 80.
    assert interviewed(nov) == {"dist-zhanhe", "dept-housing", "st-caozhen"}
    housing = next(x for x in nov.interviews if x.unit_id == "dept-housing")
    assert (housing.rank, housing.group_size, housing.top_score, housing.threshold) == (4, 4, 100, 80)


def test_interview_triggers_2021(orders, p2021):
    # 2021: 90 % for districts and counties, 85 % for departments and streets.
    month = assess_month(NOV, UNITS, orders, as_of=AS_OF_NOV, policy=p2021)
    assert interviewed(month) == {"dist-zhanhe", "cty-baofeng", "dept-housing", "dept-urban", "st-caozhen"}
    baofeng = next(x for x in month.interviews if x.unit_id == "cty-baofeng")
    assert baofeng.threshold == 90 and baofeng.score == F(355, 4)


def test_hedong_interviews_the_last_without_a_threshold(nov):
    hedong = load_profile("hedong-2021")
    got = {
        x.unit_id
        for rule in hedong.interview_rules
        for x in interview_triggers(nov.rankings[rule.group], rule)
    }
    assert got == {"dept-housing", "st-caozhen"}


@pytest.mark.parametrize(
    ("scores", "rule", "expected"),
    [
        # a tie reaching into the last two brings in the whole tie
        (
            {"a": F(100), "b": F(70), "c": F(70), "d": F(60)},
            InterviewRule(G.STREET, 2, Decimal("0.8")),
            {"b", "c", "d"},
        ),
        # strictly below the threshold: exactly 80 % of the top is not below it
        ({"a": F(100), "b": F(80), "c": F(90)}, InterviewRule(G.STREET, 2, Decimal("0.8")), set()),
        # no threshold (Hedong): last is enough; the top is never last
        ({"a": F(90), "b": F(90)}, InterviewRule(G.STREET, 1, None), set()),
        ({"a": F(90)}, InterviewRule(G.STREET, 1, None), set()),
        ({"a": F(90), "b": F(89)}, InterviewRule(G.STREET, 1, None), {"b"}),
    ],
)
def test_interview_rule_edges(scores, rule, expected):
    ranking = rank_group(G.STREET, scores)
    assert {x.unit_id for x in interview_triggers(ranking, rule)} == expected


def test_rank_group_shares_ranks_and_skips():
    ranking = rank_group(G.DEPARTMENT, {"a": F(90), "b": F(100), "c": F(90), "d": F(80), "e": None})
    assert [(r.unit_id, r.rank) for r in ranking.ranked] == [("b", 1), ("a", 2), ("c", 2), ("d", 4)]
    assert ranking.unranked == ("e",) and ranking.rank_of("d") == 4 and ranking.rank_of("e") is None


# -- escalations ----------------------------------------------------------------------------------


def escalated(month: MonthlyAssessment) -> set[tuple[str, str]]:
    return {(e.unit_id, e.consequence) for e in month.escalations}


def test_escalations_2022_over_a_rolling_year(nov):
    # 湛河区: interviewed in October too → 2 in a row → its main leader is interviewed.
    # 住建局: Mar, Jun, Aug and now Nov → 4 in the window Dec 2025 - Nov 2026 (Nov 2025 has left it)
    #   → 3 or more in the year → main leader; fewer than 5 → no public statement.
    # 曹镇乡: Oct and Nov → main leader.  城管局 was interviewed in Sep and Oct but not in Nov: nothing.
    assert escalated(nov) == {
        ("dist-zhanhe", "main_leader_interview"),
        ("dept-housing", "main_leader_interview"),
        ("st-caozhen", "main_leader_interview"),
    }
    housing = next(e for e in nov.escalations if e.unit_id == "dept-housing")
    assert (housing.by_consecutive, housing.by_total, housing.consecutive) == (False, True, 1)
    assert housing.in_window == (Month(2026, 3), Month(2026, 6), Month(2026, 8), NOV)
    zhanhe = next(e for e in nov.escalations if e.unit_id == "dist-zhanhe")
    assert (zhanhe.by_consecutive, zhanhe.by_total, zhanhe.consecutive) == (True, False, 2)


def test_escalation_in_october_three_in_a_row_means_a_public_statement(octo):
    # October: 湛南路 has one of two orders left dissatisfied: 77.5 < 80 % of 100 → interviewed,
    # after August and September: 3 in a row → public statement (Art. 29) and main leader.
    assert interviewed(octo) == {"st-zhannan"}
    assert escalated(octo) == {
        ("st-zhannan", "main_leader_interview"),
        ("st-zhannan", "public_statement"),
    }


def test_escalation_counts_five_in_the_year_but_not_older_ones(p2022):
    rules = p2022.escalation_rules
    inside = {"u": [Month(2025, 12), Month(2026, 3), Month(2026, 6), Month(2026, 8)]}
    got = escalations(NOV, ["u"], inside, rules)
    assert {(e.consequence, e.by_total) for e in got} == {
        ("main_leader_interview", True),
        ("public_statement", True),
    }
    outside = {"u": [Month(2025, 11), Month(2026, 3), Month(2026, 6), Month(2026, 8)]}
    assert {e.consequence for e in escalations(NOV, ["u"], outside, rules)} == {"main_leader_interview"}
    # Later months in the history are ignored; a unit not interviewed now is not escalated.
    assert escalations(NOV, [], {"u": [Month(2026, 10), Month(2026, 11)]}, rules) == ()
    assert escalations(Month(2026, 1), ["u"], {"u": [Month(2025, 12)]}, rules)[0].consecutive == 2


def test_hedong_escalates_on_consecutive_months_only():
    rules = load_profile("hedong-2021").escalation_rules
    assert escalations(NOV, ["u"], {"u": [Month(2026, 1), Month(2026, 6), Month(2026, 8)]}, rules) == ()
    got = escalations(NOV, ["u"], {"u": [Month(2026, 9), Month(2026, 10)]}, rules)
    assert {e.consequence for e in got} == {"main_leader_interview", "public_statement"}
    assert all(rule.total_in_year is None for rule in rules)


# -- the annual result --------------------------------------------------------------------------


def test_october_scores(octo):
    assert {u: octo.score(u) for u in ("dist-zhanhe", "cty-ruzhou", "st-zhannan", "st-caozhen")} == {
        "dist-zhanhe": F(90),  # on time 1/2
        "cty-ruzhou": F(95),  # contacted 1/2
        "st-zhannan": F(155, 2),  # closed 1/2, satisfied 1/2
        "st-caozhen": F(100),
    }
    assert octo.score("st-shuguang") == 100


def test_annual_result_is_the_mean_of_the_monthly_scores_with_the_awards(octo, nov):
    year = annual_result([nov, octo], UNITS)
    assert year.months == (OCT, NOV)
    mean = {uid: r.mean for uid, r in year.results.items()}
    assert mean == {
        "dist-xinhua": F(100),
        "dist-weidong": F(195, 2),  # (100 + 95) / 2
        "dist-zhanhe": F(335, 4),  # (90 + 77.5) / 2
        "cty-ruzhou": F(195, 2),  # (95 + 100) / 2
        "cty-wugang": F(195, 2),  # (100 + 95) / 2
        "cty-baofeng": F(755, 8),  # (100 + 88.75) / 2
        "dept-housing": F(10444, 117),  # (100 + 9188/117) / 2
        "dept-water": F(100),
        "dept-transport": F(195, 2),
        "dept-urban": F(91),
        "st-guangming": F(100),
        "st-zhongxing": F(195, 2),
        "st-zhannan": F(345, 4),  # (77.5 + 95) / 2
        "st-caozhen": F(2150, 39),  # (100 + 400/39) / 2
        "st-shuguang": F(100),  # October only: a month without orders is left out, not counted as 0
    }
    assert year.results["st-shuguang"].monthly == ((OCT, F(100)),)
    assert present(year.results["dept-housing"].mean or F(0)) == Decimal("89.26")
    # First among districts and counties (汝州 and 舞钢 tie at 97.5: both), top two elsewhere.
    assert year.awards == {
        G.DISTRICT: ("dist-xinhua",),
        G.COUNTY: ("cty-ruzhou", "cty-wugang"),
        G.DEPARTMENT: ("dept-water", "dept-transport"),
        G.STREET: ("st-guangming", "st-shuguang"),
    }
    assert year.results["st-zhongxing"].rank == 3
    assert [e.consequence for e in year.results["st-zhannan"].disqualified_by] == ["public_statement"]


def test_a_public_statement_takes_away_the_award(octo, nov):
    # With four street awards, 湛南路 (4th, 86.25) would get one; it made a public statement in
    # October (Art. 29), so the next one, 曹镇乡, does.
    four = AssessmentSettings(award_places={G.DISTRICT: 1, G.COUNTY: 1, G.DEPARTMENT: 2, G.STREET: 4})
    year = annual_result([octo, nov], UNITS, four)
    assert year.results["st-zhannan"].rank == 4
    assert year.awards[G.STREET] == ("st-guangming", "st-shuguang", "st-zhongxing", "st-caozhen")


# -- inputs -------------------------------------------------------------------------------------


def test_bad_inputs_are_refused(orders, p2022):
    with pytest.raises(InvalidInput):
        assess_units(UNITS, [*orders, orders[0]], NOV.period(SH), as_of=AS_OF_NOV, policy=p2022)
    with pytest.raises(InvalidInput):
        assess_units([*UNITS, UNITS[0]], orders, NOV.period(SH), as_of=AS_OF_NOV, policy=p2022)
    with pytest.raises(InvalidInput):
        AssessmentPeriod(t("2026-12-01 00:00"), t("2026-11-01 00:00"))
    with pytest.raises(InvalidInput):
        assess_units(UNITS, orders, NOV.period(SH), as_of=datetime(2026, 12, 2), policy=p2022)
    with pytest.raises(InvalidInput):
        Month.parse("2026-13")
    with pytest.raises(InvalidInput):
        annual_result(
            [nov_twice := assess_month(NOV, UNITS, [], as_of=AS_OF_NOV, policy=p2022), nov_twice], UNITS
        )


def test_months():
    assert Month.parse("2026-11") == NOV and str(NOV) == "2026-11"
    assert NOV.shift(2) == Month(2027, 1) and NOV.shift(-11) == Month(2025, 12)
    period = Month(2026, 12).period(SH)
    assert (period.start, period.end) == (t("2026-12-01 00:00"), t("2027-01-01 00:00"))
    assert t("2026-12-31 23:59") in period and t("2027-01-01 00:00") not in period

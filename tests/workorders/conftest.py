"""Fixtures for the pure domain: profiles, the official calendar, actors and orders in any state."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from minhu.calendar_source import build_calendar
from minhu.policy import load_profile
from workorders import lifecycle as lc
from workorders.calendar import WorkingCalendar
from workorders.enums import Category, Channel, ContactPurpose, RequestKind, Role
from workorders.model import Actor, Citizen, WorkOrder
from workorders.policy import PolicyProfile

SH = ZoneInfo("Asia/Shanghai")

AGENT = Actor("agent-1", Role.INTAKE_AGENT, name="王受理")
SUPERVISOR = Actor("sup-1", Role.SUPERVISOR, name="李班长")
HANDLER = Actor("h-1", Role.UNIT_HANDLER, unit_id="unit-xinhua", name="张承办")
OTHER_HANDLER = Actor("h-2", Role.UNIT_HANDLER, unit_id="unit-weidong", name="赵承办")
COOP_HANDLER = Actor("h-3", Role.UNIT_HANDLER, unit_id="unit-water", name="钱配合")
DIALER = Actor("dialer", Role.SYSTEM, name="回访外呼")


def t(text: str) -> datetime:
    """A Shanghai time from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture(scope="session")
def calendar() -> WorkingCalendar:
    return build_calendar()


@pytest.fixture(scope="session")
def policy() -> PolicyProfile:
    return load_profile("pingdingshan-2022")


class Flow:
    """Drives an order through the lifecycle with explicit times."""

    def __init__(self, policy: PolicyProfile, calendar: WorkingCalendar) -> None:
        self.policy = policy
        self.calendar = calendar
        self.audit: list[object] = []

    def ctx(self, at: datetime, via: str = "api") -> lc.Context:
        return lc.Context(at=at, policy=self.policy, calendar=self.calendar, via=via)

    def run(
        self, fn: Callable[..., lc.Transition], *args: object, at: datetime, **kwargs: object
    ) -> WorkOrder:
        tr = fn(*args, ctx=self.ctx(at), **kwargs)
        self.audit.append(tr.audit)
        return tr.order

    def registered(
        self,
        at: datetime,
        category: Category = Category.B,
        channel: Channel = Channel.PHONE,
        number: str = "20260930-000001",
    ) -> WorkOrder:
        return self.run(
            lc.register,
            number,
            channel=channel,
            kind=RequestKind.COMPLAINT,
            category=category,
            content="小区门口下水道堵塞，污水外溢",
            citizen=Citizen("刘女士", "13812345678"),
            received_at=at,
            actor=AGENT,
            at=at,
            address="新华区光明路长青社区",
        )

    def assigned(self, at: datetime, category: Category = Category.B, **kw: object) -> WorkOrder:
        order = self.registered(at, category, **kw)  # type: ignore[arg-type]
        return self.run(lc.assign, order, SUPERVISOR, at=at, lead_unit_id=HANDLER.unit_id)

    def checked_in(self, at: datetime, category: Category = Category.B, **kw: object) -> WorkOrder:
        order = self.assigned(at, category, **kw)
        return self.run(lc.check_in, order, HANDLER, at=at + timedelta(minutes=30))

    def contacted(self, order: WorkOrder, at: datetime, *purposes: ContactPurpose) -> WorkOrder:
        for p in purposes or (ContactPurpose.RESULT_FEEDBACK,):
            order = self.run(lc.record_contact, order, HANDLER, at=at, purpose=p)
        return order

    def replied(self, at: datetime, category: Category = Category.B) -> WorkOrder:
        order = self.checked_in(at, category)
        order = self.contacted(order, at + timedelta(hours=2), *self.policy.required_contacts)
        return self.run(
            lc.reply,
            order,
            HANDLER,
            at=at + timedelta(hours=3),
            content="已联系排水公司疏通，污水已清理",
            handler_name="张承办",
            handler_phone="0375-2345678",
            document_ref="doc-1" if category in self.policy.written_reply_categories else None,
        )


@pytest.fixture
def flow(policy: PolicyProfile, calendar: WorkingCalendar) -> Flow:
    return Flow(policy, calendar)


@pytest.fixture
def profile_flow(calendar: WorkingCalendar) -> Callable[[str], Flow]:
    return lambda name: Flow(load_profile(name), calendar)

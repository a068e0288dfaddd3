"""A seeded demo city (平顶山-like): units in the four assessment groups, users of every role, and
a few dozen work orders in every state, all made through the services and the domain's
transitions so that each one is valid. Idempotent: does nothing when the city is already there."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from minhu.db.mapping import unit_key
from minhu.db.repositories.directory import UnitRepository
from minhu.db.repositories.orders import OrderFilter
from minhu.demo_bulletin import seed_last_month
from minhu.services.calendar import CalendarProvider
from minhu.services.directory import DirectoryService, actor_of
from minhu.services.workorders import WorkOrderService
from workorders.clock import FixedClock
from workorders.enums import (
    AssessmentGroup,
    CallOutcome,
    Category,
    Channel,
    ContactPurpose,
    NotAcceptedReason,
    OrderState,
    RequestKind,
    Role,
    Satisfaction,
)
from workorders.model import Actor, Citizen
from workorders.policy import PolicyProfile

DEMO_PASSWORD = "minhu-demo-2026"  # noqa: S105  (public demo credentials, printed on purpose)
SEED_ACTOR = Actor(user_id="demo-seed", role=Role.SYSTEM, name="演示数据")
CENTRE_CODE = "pds-centre"

UNITS: list[tuple[str, str, AssessmentGroup, str | None, str]] = [
    # code, name, group, parent code, phone
    (CENTRE_CODE, "平顶山市民呼必应指挥中心", AssessmentGroup.DEPARTMENT, None, "12345"),
    ("xinhua", "新华区", AssessmentGroup.DISTRICT, None, "0375-2661234"),
    ("weidong", "卫东区", AssessmentGroup.DISTRICT, None, "0375-3361234"),
    ("zhanhe", "湛河区", AssessmentGroup.DISTRICT, None, "0375-8661234"),
    ("xinhua-kuangong", "新华区矿工路街道", AssessmentGroup.STREET, "xinhua", "0375-2671234"),
    ("weidong-donganlu", "卫东区东安路街道", AssessmentGroup.STREET, "weidong", "0375-3371234"),
    ("baofeng", "宝丰县", AssessmentGroup.COUNTY, None, "0375-6121234"),
    ("ruzhou", "汝州市", AssessmentGroup.COUNTY, None, "0375-6821234"),
    ("city-management", "市城市管理局", AssessmentGroup.DEPARTMENT, None, "0375-2821234"),
    ("housing", "市住房和城乡建设局", AssessmentGroup.DEPARTMENT, None, "0375-2931234"),
    ("hrss", "市人力资源和社会保障局", AssessmentGroup.DEPARTMENT, None, "0375-2851234"),
]

# username, display name, role, unit code, phone
USERS: list[tuple[str, str, Role, str | None, str]] = [
    ("admin", "系统管理员", Role.ADMIN, None, "12345"),
    ("agent", "受理员小李", Role.INTAKE_AGENT, None, "13803751001"),
    ("agent2", "受理员小王", Role.INTAKE_AGENT, None, "13803751002"),
    ("supervisor", "值班长张敏", Role.SUPERVISOR, None, "13803751003"),
    ("xinhua", "新华区承办人刘洋", Role.UNIT_HANDLER, "xinhua", "13903752001"),
    ("weidong", "卫东区承办人陈静", Role.UNIT_HANDLER, "weidong", "13903752002"),
    ("citymgmt", "城管局承办人赵强", Role.UNIT_HANDLER, "city-management", "13903752003"),
    ("housing", "住建局承办人孙丽", Role.UNIT_HANDLER, "housing", "13903752004"),
    ("kuangong", "矿工路街道承办人周涛", Role.UNIT_HANDLER, "xinhua-kuangong", "13903752005"),
]

CONTENTS: list[tuple[Category, RequestKind, str, str]] = [
    (
        Category.B,
        RequestKind.COMPLAINT,
        "建设路与中兴路交叉口占道经营严重，早晚高峰车辆无法通行",
        "建设路中兴路口",
    ),
    (Category.B, RequestKind.COMPLAINT, "小区楼下烧烤摊夜间噪音扰民，持续到凌晨两点", "矿工路街道光明小区"),
    (Category.A, RequestKind.CONSULTATION, "咨询灵活就业人员如何缴纳城乡居民养老保险", ""),
    (Category.C, RequestKind.COMPLAINT, "邻居在楼顶违规搭建彩钢房，存在安全隐患", "卫东区东安路12号院"),
    (Category.B, RequestKind.HELP, "小区供暖不热，室温不足十六度，物业不处理", "湛河区南环路锦华小区"),
    (Category.D, RequestKind.HELP, "路边燃气管道疑似泄漏，有明显气味", "新华区建设路西段"),
    (Category.B, RequestKind.SUGGESTION, "建议在公园路口增设行人过街信号灯", "新华区公园路"),
    (Category.C, RequestKind.SUGGESTION, "建议规划建设城东片区菜市场，方便居民买菜", "卫东区城东片区"),
    (Category.B, RequestKind.COMPLAINT, "工地夜间施工噪声扰民，未见夜间施工许可公示", "新华区曙光街"),
    (Category.A, RequestKind.CONSULTATION, "咨询新生儿医保办理需要哪些材料", ""),
]

CHANNELS = [
    Channel.PHONE,
    Channel.WECHAT,
    Channel.MAYOR_MAILBOX,
    Channel.WEBSITE,
    Channel.APP,
    Channel.LEADERS_MESSAGE_BOARD,
    Channel.PROVINCIAL_PLATFORM,
    Channel.LETTER,
]


@dataclass(frozen=True)
class SeedReport:
    created: bool
    units: int
    users: list[tuple[str, str, str]]  # username, role, display name
    orders: dict[str, int]


async def seed_demo(
    factory: async_sessionmaker[AsyncSession], *, policy: PolicyProfile, now: datetime
) -> SeedReport:
    """Create the demo city unless it exists; ``now`` is the real time the history leads up to."""
    async with factory() as session:
        if await UnitRepository(session).by_code(CENTRE_CODE) is not None:
            return SeedReport(created=False, units=0, users=_user_list(), orders={})
        clock = FixedClock(now - timedelta(days=12))
        directory = DirectoryService(session, clock=clock, via="demo-seed")
        codes: dict[str, int] = {}
        for code, name, group, parent, phone in UNITS:
            unit = await directory.create_unit(
                SEED_ACTOR, code=code, name=name, group=group, parent_id=codes.get(parent or ""), phone=phone
            )
            codes[code] = unit.id
        actors: dict[str, Actor] = {}
        for username, display, role, unit_code, phone in USERS:
            user = await directory.create_user(
                SEED_ACTOR,
                username=username,
                password=DEMO_PASSWORD,
                role=role,
                display_name=display,
                unit_id=codes[unit_code] if unit_code else None,
                phone=phone,
            )
            actors[username] = actor_of(user)
        builder = _OrderBuilder(session, clock, policy, codes, actors)
        # The last full month, for a meaningful monthly bulletin (``minhu report monthly``).
        await seed_last_month(session, builder.service, clock, codes, actors, now)
        counts = await builder.build_all(now)
        return SeedReport(created=True, units=len(UNITS), users=_user_list(), orders=counts)


def _user_list() -> list[tuple[str, str, str]]:
    return [(u, r.value, d) for u, d, r, _c, _p in USERS]


class _OrderBuilder:
    """Drives orders through the lifecycle, moving a fixed clock forward between steps."""

    def __init__(
        self,
        session: AsyncSession,
        clock: FixedClock,
        policy: PolicyProfile,
        units: dict[str, int],
        actors: dict[str, Actor],
    ) -> None:
        self.clock = clock
        self.units = units
        self.a = actors
        self.service = WorkOrderService(
            session, clock=clock, policy=policy, calendars=CalendarProvider(), via="demo-seed"
        )
        self.n = 0

    def unit(self, code: str) -> str:
        return unit_key(self.units[code])

    def handler_of(self, code: str) -> Actor:
        return next(a for a in self.a.values() if a.unit_id == self.unit(code))

    async def step(self, minutes: int, call: Callable[[], Awaitable[object]]) -> None:
        self.clock.advance(timedelta(minutes=minutes))
        await call()

    async def register(self, category: Category | None = None) -> str:
        cat, kind, text, address = CONTENTS[self.n % len(CONTENTS)]
        channel = CHANNELS[self.n % len(CHANNELS)]
        self.n += 1
        received = None if channel is Channel.PHONE else self.clock.now() - timedelta(minutes=20)
        view = await self.service.register(
            self.a["agent"],
            channel=channel,
            kind=kind,
            category=category or cat,
            content=text,
            citizen=Citizen(name=f"市民{self.n:02d}", phone=f"1380375{self.n:04d}"),
            received_at=received,
            address=address,
        )
        return view.order.number

    async def assigned(self, code: str = "xinhua", category: Category = Category.B) -> str:
        number = await self.register(category)
        await self.step(
            10, lambda: self.service.assign(number, self.a["supervisor"], lead_unit_id=self.unit(code))
        )
        return number

    async def in_progress(self, code: str = "xinhua", category: Category = Category.B) -> str:
        number = await self.assigned(code, category)
        h = self.handler_of(code)
        await self.step(30, lambda: self.service.check_in(number, h))
        await self.step(
            20,
            lambda: self.service.record_contact(
                number,
                h,
                purpose=ContactPurpose.FIRST_CONTACT,
                method="phone",
                note="已电话联系诉求人了解情况",
            ),
        )
        return number

    async def replied(self, code: str = "xinhua", category: Category = Category.B) -> str:
        number = await self.in_progress(code, category)
        h = self.handler_of(code)
        await self.step(
            120,
            lambda: self.service.record_contact(
                number, h, purpose=ContactPurpose.RESULT_FEEDBACK, method="phone", note="已告知办理结果"
            ),
        )
        await self.step(
            10,
            lambda: self.service.reply(
                number,
                h,
                content="经现场核查，已责令整改并安排专人巡查，问题已解决。",
                handler_name=h.name,
                handler_phone="13903759999",
                document_ref=f"书面回复-{number}.pdf",
            ),
        )
        return number

    async def revisit(
        self, number: str, outcome: CallOutcome, satisfaction: Satisfaction | None = None
    ) -> None:
        await self.step(
            60,
            lambda: self.service.record_revisit_attempt(
                number, self.a["agent2"], started_at=None, outcome=outcome, satisfaction=satisfaction
            ),
        )

    async def day(self) -> None:
        """Move to 09:00 of the next day (revisits happen in calling hours)."""
        local = self.clock.now().astimezone(self.service.tz)
        nxt = (local + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        self.clock.set(nxt)

    async def build_all(self, now: datetime) -> dict[str, int]:
        sv, sup, agent = self.service, self.a["supervisor"], self.a["agent"]
        await self.day()
        # Closed, satisfied; closed deemed satisfied (Art. 17); third party; rehandling; revisiting.
        for code in ("xinhua", "weidong", "city-management"):
            number = await self.replied(code)
            await self.revisit(number, CallOutcome.ANSWERED, Satisfaction.SATISFIED)
        number = await self.replied("housing", Category.C)
        await self.revisit(number, CallOutcome.ANSWERED, Satisfaction.BASICALLY_SATISFIED)
        await self.day()
        deemed = [await self.replied("xinhua"), await self.replied("weidong")]
        for number in deemed:
            await self.revisit(number, CallOutcome.RANG_OUT)
        self.clock.advance(timedelta(hours=5))
        for number in deemed:
            await self.revisit(number, CallOutcome.RANG_OUT)
        await self.day()
        for code in ("city-management", "xinhua"):
            number = await self.replied(code)
            await self.revisit(number, CallOutcome.ANSWERED, Satisfaction.DISSATISFIED)
            await self.step(30, partial(sv.refer_third_party, number, sup, note="中心协调后双方仍有分歧"))
        number = await self.replied("weidong")
        await self.revisit(number, CallOutcome.ANSWERED, Satisfaction.DISSATISFIED)
        await self.step(30, lambda: sv.refer_third_party(number, sup, note="中心协调后双方仍有分歧"))
        await self.step(
            600, lambda: sv.record_third_party_assessment(number, sup, verdict="第三方评估认定单位已依法履职")
        )
        for code in ("xinhua", "housing"):
            number = await self.replied(code)
            await self.revisit(number, CallOutcome.ANSWERED, Satisfaction.DISSATISFIED)
        await self.day()
        for _ in range(2):
            number = await self.replied("weidong")
            await self.revisit(number, CallOutcome.BUSY)
        # Returned, awaiting review; returned and reassigned.
        for code in ("city-management", "housing"):
            number = await self.in_progress(code)
            h = self.handler_of(code)
            await self.step(
                60,
                partial(
                    sv.return_order,
                    number,
                    h,
                    reason="该事项不属于本单位职责",
                    basis="《平顶山市城市管理职责划分》",
                    approved_by_leader="分管副局长",
                ),
            )
        number = await self.in_progress("housing")
        h = self.handler_of("housing")
        await self.step(
            60,
            lambda: sv.return_order(
                number, h, reason="属街道办事处职责", basis="属地管理原则", approved_by_leader="分管副局长"
            ),
        )
        await self.step(30, lambda: sv.review_return(number, sup, accept=True, note="同意退回"))
        await self.step(10, lambda: sv.assign(number, sup, lead_unit_id=self.unit("xinhua-kuangong")))
        # Recent orders: registered, answered on the call, not accepted, assigned, checked in, in progress.
        self.clock.set(now - timedelta(days=1))
        for code in ("xinhua", "city-management"):
            await self.replied(code)
        for _ in range(2):
            number = await self.in_progress("weidong")
        number = await self.in_progress("housing", Category.C)
        await self.step(
            30,
            lambda: sv.submit_c_report(
                number,
                self.handler_of("housing"),
                leader="分管副局长王刚",
                responsible="执法大队李明",
                contact_phone="13903758888",
                progress="已现场勘查并下达整改通知",
                plan="15日内完成拆除",
            ),
        )
        await self.step(
            30, lambda: sv.set_deadline(number, sup, due_at=self.clock.now() + timedelta(days=20))
        )
        number = await self.in_progress("xinhua")
        due = (await sv.get(number, sup)).order.due_at
        assert due is not None
        await self.step(
            30,
            lambda: sv.request_extension(
                number,
                self.handler_of("xinhua"),
                new_due_at=due + timedelta(days=7),
                reason="需协调多部门联合执法",
            ),
        )
        for code in ("xinhua", "weidong", "city-management"):
            number = await self.assigned(code)
            await self.step(20, partial(sv.check_in, number, self.handler_of(code)))
        for code in ("xinhua", "weidong", "xinhua-kuangong"):
            await self.assigned(code)
        number = await self.assigned("city-management")
        await self.step(5, lambda: sv.check_in(number, self.handler_of("city-management")))
        for _ in range(2):
            number = await self.register(Category.A)
            await self.step(
                5,
                partial(sv.answer_on_call, number, agent, answer="已依据社保政策当场答复，诉求人表示清楚"),
            )
        for reason in (
            NotAcceptedReason.LITIGATION,
            NotAcceptedReason.TOO_VAGUE,
            NotAcceptedReason.EMERGENCY_110,
        ):
            self.clock.advance(timedelta(minutes=15))
            await sv.not_accept(
                agent,
                channel=Channel.PHONE,
                kind=RequestKind.HELP,
                content="诉求人反映的事项已进入诉讼程序"
                if reason is NotAcceptedReason.LITIGATION
                else "来电内容",
                citizen=Citizen(name="来电市民", phone="13803759876"),
                received_at=None,
                reason=reason,
                note="已告知诉求人不予受理的理由",
            )
        for _ in range(3):
            self.clock.advance(timedelta(minutes=15))
            await self.register()
        # An overdue order: assigned long ago, never replied.
        self.clock.set(now - timedelta(days=10))
        number = await self.assigned("weidong")
        await self.step(30, lambda: sv.check_in(number, self.handler_of("weidong")))
        page = await sv.list_orders(sup, OrderFilter(), offset=0, limit=1000)
        counts: dict[str, int] = {}
        for view in page.items:
            counts[view.order.state.value] = counts.get(view.order.state.value, 0) + 1
        return {s.value: counts.get(s.value, 0) for s in OrderState}

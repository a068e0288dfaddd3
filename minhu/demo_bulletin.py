"""The demo city's last full month: enough orders, in every channel and topic, for a meaningful
monthly bulletin (``minhu report monthly``), plus the leaders' hotline days around it.

Deterministic (a seeded generator): the same month always gets the same orders. The mix moves
across the weeks the way a real month does — city management grows, heating arrives at the end of
the month, the sewer at 光明小区 comes back every week (a difficult request) — and the units
differ in how well they handle their orders, so the ranking and the interview triggers say
something. Every order is driven through the services, so each one is valid.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.mapping import unit_key
from minhu.reports.dictionary import load_analysis_data
from minhu.reports.leader_days import LeaderDayService
from minhu.services.workorders import WorkOrderService
from workorders.analysis import Window
from workorders.clock import FixedClock
from workorders.enums import (
    CallOutcome,
    Category,
    Channel,
    ContactPurpose,
    NotAcceptedReason,
    RequestKind,
    Role,
    Satisfaction,
)
from workorders.model import Actor, Citizen


@dataclass(frozen=True, slots=True)
class Template:
    content: str
    address: str
    kind: RequestKind
    category: Category
    unit: str | None  # None: answered on the call (A)
    weights: tuple[int, int, int, int, int]  # relative frequency in weeks 1..5 of the month


T = Template
C, H, P, S, Q = (
    RequestKind.COMPLAINT,
    RequestKind.HELP,
    RequestKind.SUGGESTION,
    RequestKind.SUGGESTION,
    RequestKind.CONSULTATION,
)
# Addresses: {n} is a house or building number drawn per order, so that the same road or community
# gathers many requests (a cluster) without every one being the same matter.
TEMPLATES: tuple[Template, ...] = (
    T(
        "建设路与中兴路交叉口占道经营严重，早晚高峰车辆无法通行",
        "新华区建设路{n}号门前",
        C,
        Category.B,
        "city-management",
        (2, 3, 4, 5, 5),
    ),
    T(
        "光明小区门口流动摊贩占道经营，出店经营影响通行",
        "矿工路街道光明小区{n}号楼",
        C,
        Category.B,
        "xinhua-kuangong",
        (1, 2, 3, 3, 4),
    ),
    T(
        "公园路垃圾清运不及时，垃圾桶满溢",
        "新华区公园路{n}号",
        C,
        Category.B,
        "city-management",
        (2, 2, 2, 3, 3),
    ),
    T(
        "曙光街多盏路灯不亮，夜间出行不便",
        "新华区曙光街{n}号",
        H,
        Category.B,
        "city-management",
        (1, 1, 2, 2, 2),
    ),
    T(
        "东安路12号院楼顶违规搭建彩钢房，存在安全隐患",
        "卫东区东安路12号院",
        C,
        Category.C,
        "weidong",
        (1, 1, 1, 1, 1),
    ),
    T(
        "锦华小区周边车辆乱停乱放，占用消防通道",
        "湛河区南环路锦华小区{n}号楼",
        C,
        Category.B,
        "zhanhe",
        (3, 3, 2, 2, 2),
    ),
    T("建议在公园路口增设行人过街信号灯", "新华区公园路{n}号", P, Category.B, "xinhua", (1, 1, 1, 1, 1)),
    T("中兴路路面坑洼严重，车辆颠簸", "新华区中兴路{n}号", C, Category.B, "housing", (2, 2, 1, 1, 1)),
    T("咨询2路公交车调整后的线路和班次", "", Q, Category.A, None, (3, 2, 2, 2, 2)),
    T(
        "锦华小区供暖不热，室温不足十六度",
        "湛河区南环路锦华小区{n}号楼",
        H,
        Category.B,
        "zhanhe",
        (0, 0, 1, 3, 6),
    ),
    T(
        "幸福家园小区停水两天，未见停水通知",
        "卫东区幸福家园{n}号楼",
        H,
        Category.B,
        "weidong",
        (1, 2, 1, 1, 1),
    ),
    T(
        "建设路西段燃气管道疑似泄漏，有明显气味",
        "新华区建设路{n}号",
        H,
        Category.D,
        "xinhua",
        (0, 1, 0, 1, 0),
    ),
    T(
        "曙光街工地夜间施工噪声扰民，未见夜间施工许可公示",
        "新华区曙光街{n}号",
        C,
        Category.B,
        "xinhua",
        (2, 2, 3, 2, 2),
    ),
    T("咨询灵活就业人员如何缴纳城乡居民养老保险", "", Q, Category.A, None, (3, 3, 3, 3, 3)),
    T("工地拖欠农民工工资三个月未发放", "宝丰县城关镇{n}号工地", C, Category.B, "baofeng", (2, 2, 2, 2, 2)),
    T("咨询新生儿医保办理需要哪些材料", "", Q, Category.A, None, (2, 2, 2, 2, 2)),
    T(
        "小区物业不作为，电梯长期故障无人维修",
        "汝州市煤山街道龙山家园{n}号楼",
        C,
        Category.B,
        "ruzhou",
        (2, 2, 2, 2, 2),
    ),
    T("咨询小学转学入学需要准备哪些材料", "", Q, Category.A, None, (2, 1, 1, 1, 1)),
    T(
        "东安路菜市场周边油烟异味扰民",
        "卫东区东安路街道东安路{n}号菜市场",
        C,
        Category.B,
        "weidong-donganlu",
        (1, 1, 1, 2, 1),
    ),
    T("在商家办理的预付卡无法退款", "卫东区建设路{n}号", C, Category.B, "hrss", (1, 1, 1, 1, 1)),
)
# The difficult request: the sewer at one building of 光明小区 blocks again every week.
SEWER = T(
    "光明小区下水道堵塞，污水外溢到路面",
    "矿工路街道光明小区3号楼",
    H,
    Category.B,
    "xinhua-kuangong",
    (0, 0, 0, 0, 0),
)
SEWER_DAYS = (2, 9, 16, 23, 30)
NOT_ACCEPTED_DAYS = (6, 13, 20, 27)
CHANNELS = (
    (Channel.PHONE, 12),
    (Channel.WECHAT, 5),
    (Channel.APP, 3),
    (Channel.WEBSITE, 2),
    (Channel.MAYOR_MAILBOX, 1),
    (Channel.LEADERS_MESSAGE_BOARD, 1),
    (Channel.PROVINCIAL_PLATFORM, 1),
)
# How each unit handles: minutes to check in, working days to reply (late beyond 5), share dissatisfied (%).
HANDLING: dict[str, tuple[int, int, int]] = {
    "xinhua": (20, 2, 5),
    "weidong": (200, 6, 30),
    "zhanhe": (40, 3, 10),
    "xinhua-kuangong": (30, 2, 10),
    "weidong-donganlu": (300, 7, 40),
    "baofeng": (25, 2, 5),
    "ruzhou": (150, 5, 25),
    "city-management": (15, 1, 5),
    "housing": (60, 4, 15),
    "hrss": (30, 3, 10),
}
ORDERS_PER_DAY = 6


def last_full_month(now: datetime) -> Window:
    local = now.date()
    return Window.month(local.year, local.month).previous()


class MonthSeeder:
    def __init__(
        self, service: WorkOrderService, clock: FixedClock, units: dict[str, str], actors: dict[str, Actor]
    ) -> None:
        self.sv = service
        self.clock = clock
        self.units = units  # code → unit key
        self.agent = actors["agent"]
        self.revisitor = actors["agent2"]
        self.supervisor = actors["supervisor"]
        self.rng = random.Random(20261031)  # noqa: S311  (demo data, not security)
        self.n = 0

    def handler(self, code: str) -> Actor:
        return Actor(
            user_id=f"demo-{code}", role=Role.UNIT_HANDLER, unit_id=self.units[code], name=f"{code}承办人"
        )

    def at(self, day: date, hour: int, minute: int = 0) -> None:
        self.clock.set(datetime.combine(day, time(hour, minute), tzinfo=self.sv.tz))

    def later(self, minutes: int) -> None:
        self.clock.advance(timedelta(minutes=minutes))

    async def seed(self, month: Window) -> int:
        day = month.start
        count = 0
        while day < month.end:
            week = min((day.day - 1) // 7, 4)
            weights = [t.weights[week] for t in TEMPLATES]
            for _ in range(ORDERS_PER_DAY):
                template = self.rng.choices(TEMPLATES, weights=weights)[0]
                await self.order(template, day, self.rng.randint(8, 19))
                count += 1
            if day.day in SEWER_DAYS:
                await self.order(SEWER, day, 9)
                count += 1
            if day.day in NOT_ACCEPTED_DAYS:
                await self.not_accepted(day)
                count += 1
            day += timedelta(days=1)
        return count

    async def not_accepted(self, day: date) -> None:
        """A request outside the hotline's remit (Art. 4): counted in the volume, in no share."""
        self.n += 1
        self.at(day, 15, self.rng.randint(0, 59))
        await self.sv.not_accept(
            self.agent,
            channel=Channel.PHONE,
            kind=RequestKind.COMPLAINT,
            content="反映与邻居的房屋买卖合同纠纷，已向法院起诉",
            citizen=Citizen(name=f"市民{self.n:03d}", phone=f"1390375{self.n:04d}"),
            received_at=None,
            reason=NotAcceptedReason.LITIGATION,
            note="已告知诉求人该事项已进入诉讼程序，不属于热线受理范围（第四条）",
        )

    async def order(self, t: Template, day: date, hour: int) -> None:
        self.n += 1
        self.at(day, hour, self.rng.randint(0, 59))
        channel = self.rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]
        if t.unit is None:
            channel = Channel.PHONE
        received = None if channel is Channel.PHONE else self.clock.now() - timedelta(minutes=15)
        view = await self.sv.register(
            self.agent,
            channel=channel,
            kind=t.kind,
            category=t.category,
            content=t.content,
            citizen=Citizen(name=f"市民{self.n:03d}", phone=f"1390375{self.n:04d}"),
            received_at=received,
            address=t.address.format(n=self.rng.randint(1, 120)),
        )
        number = view.order.number
        self.later(5)
        if t.unit is None:
            await self.sv.answer_on_call(number, self.agent, answer="已依据相关政策当场答复，诉求人表示清楚")
            return
        check_in, reply_days, dissatisfied = HANDLING[t.unit]
        h = self.handler(t.unit)
        await self.sv.assign(number, self.supervisor, lead_unit_id=self.units[t.unit])
        self.later(check_in + self.rng.randint(0, 20))
        await self.sv.check_in(number, h)
        self.later(60)
        if t.category is Category.C:
            await self.sv.submit_c_report(
                number,
                h,
                leader="分管副局长",
                responsible="执法中队长",
                contact_phone="13903750000",
                progress="已现场勘查并下达整改通知",
                plan="限期十五日内自行拆除，逾期依法强制拆除",
            )
            return
        await self.sv.record_contact(
            number, h, purpose=ContactPurpose.FIRST_CONTACT, method="phone", note="已联系诉求人"
        )
        self.clock.advance(timedelta(days=reply_days + self.rng.randint(0, 2), hours=1))
        await self.sv.record_contact(
            number, h, purpose=ContactPurpose.RESULT_FEEDBACK, method="phone", note="已告知办理结果"
        )
        self.later(10)
        await self.sv.reply(
            number,
            h,
            content="经现场核查，已安排专人处理，问题已解决。",
            handler_name=h.name,
            handler_phone="13903759999",
            document_ref=f"书面回复-{number}.pdf",
        )
        local = self.clock.now()
        self.at(local.date() + timedelta(days=1), 10, self.rng.randint(0, 59))
        unhappy = self.rng.randint(1, 100) <= dissatisfied
        await self.sv.record_revisit_attempt(
            number,
            self.revisitor,
            started_at=None,
            outcome=CallOutcome.ANSWERED,
            satisfaction=Satisfaction.DISSATISFIED if unhappy else Satisfaction.SATISFIED,
        )


async def seed_leader_days(session: AsyncSession, tz: tzinfo, month: Window) -> None:
    """The month's leader was scheduled and published in time, and the next month's too; the month
    after is not scheduled yet (the bulletin says so)."""
    rules = load_analysis_data().leader_day
    plans = (
        (month, 21, "李建华", "市政府副市长", "城市管理、占道经营"),
        (month.shift(1), 18, "王立新", "市城市管理局局长", "冬季供暖"),
    )
    for window, day_of_month, name, title, focus in plans:
        starts = datetime.combine(window.start.replace(day=day_of_month), time(9, 0), tzinfo=tz)
        clock = FixedClock(starts - timedelta(days=20))
        service = LeaderDayService(session, clock=clock, rules=rules)
        await service.add(
            starts_at=starts,
            minutes=150,
            leader_name=name,
            leader_title=title,
            venue="市指挥中心大厅",
            focus=focus,
            created_by="demo-seed",
        )
        clock.set(starts - timedelta(days=10))
        await service.publish(window)


async def seed_last_month(
    session: AsyncSession,
    service: WorkOrderService,
    clock: FixedClock,
    unit_ids: dict[str, int],
    actors: dict[str, Actor],
    now: datetime,
) -> int:
    """Seeds the full month before ``now`` and its leaders' hotline days; leaves the clock as found."""
    before = clock.now()
    month = last_full_month(now.astimezone(service.tz))
    seeder = MonthSeeder(service, clock, {code: unit_key(i) for code, i in unit_ids.items()}, actors)
    count = await seeder.seed(month)
    await seed_leader_days(session, service.tz, month)
    clock.set(before)
    return count

"""The hot-topic analysis (Art. 19; seeds 000 and 003) over three built weeks of March 2026.

The month is built so that city management is 12.8 %, 12.7 % and 13.9 % of the accepted requests
in ISO weeks 10, 11 and 12 — the figures of seed 000 — from exact counts:

    week 10 (Mar 2–8):   16 占道经营 of 125 (2 停水 at 幸福家园, 107 停车)        16/125 = 12.8 %
    week 11 (Mar 9–15):  19 占道经营 of 150 (1 停水, 130 停车)                     19/150 = 12.67 %
    week 12 (Mar 16–22): 25 占道经营 of 180 (1 停水, 9 供暖 at 锦华小区, 145 停车)  25/180 = 13.89 %
                         + 3 not accepted (volume only, never in a share)

Every expected figure below is worked out by hand from that table.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from itertools import count

import pytest

from minhu.reports.dictionary import AnalysisData, classifier_for, load_analysis_data
from workorders.analysis import (
    AnalysisSettings,
    HotTopicAnalysis,
    LeaderDayRules,
    LeaderHotlineDay,
    RequestRecord,
    TopicClassifier,
    Window,
    WindowKind,
    analyse,
    check_schedule,
    place_of,
)
from workorders.calendar import WorkingCalendar
from workorders.enums import Category, Channel, OrderState, RequestKind
from workorders.errors import InvalidInput
from workorders.policy import PolicyProfile

from .conftest import SH, t

STALLS = "建设路与中兴路交叉口占道经营严重，早晚高峰车辆无法通行"
PARKING = "小区门口车辆乱停乱放，占用消防通道"
WATER = "幸福家园小区停水两天，未见停水通知"
HEATING = "小区供暖不热，室温不足十六度"
W10, W11, W12 = date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 16)


@pytest.fixture(scope="module")
def data() -> AnalysisData:
    return load_analysis_data()


@pytest.fixture(scope="module")
def classifier(data: AnalysisData) -> TopicClassifier:
    return classifier_for(data)


_numbers = count(1)


def rec(
    at: datetime,
    content: str,
    *,
    address: str = "",
    kind: RequestKind = RequestKind.COMPLAINT,
    state: OrderState = OrderState.CLOSED,
    channel: Channel = Channel.PHONE,
    due_at: datetime | None = None,
    phone: str | None = None,
) -> RequestRecord:
    return RequestRecord(
        number=f"202603-{next(_numbers):05d}",
        registered_at=at,
        channel=channel,
        kind=kind,
        category=Category.B,
        state=state,
        content=content,
        address=address,
        citizen_phone=phone,
        due_at=due_at,
    )


def spread(monday: date, n: int) -> Iterator[datetime]:
    """``n`` times over the seven days of the week from ``monday``, 08:00 onwards."""
    for i in range(n):
        day = monday + timedelta(days=i % 7)
        yield datetime(day.year, day.month, day.day, 8, 0, tzinfo=SH) + timedelta(minutes=i)


def march() -> list[RequestRecord]:
    out: list[RequestRecord] = []
    # Week 10: 16 stalls (no address), 2 water at 幸福家园, 107 parking.
    out += [rec(at, STALLS) for at in spread(W10, 16)]
    out += [rec(at, PARKING) for at in spread(W10, 107)]
    # Week 11: 19 stalls, 130 parking, 1 water.
    out += [rec(at, STALLS) for at in spread(W11, 19)]
    out += [rec(at, PARKING) for at in spread(W11, 130)]
    # Week 12: 25 stalls (10 at 建设路, 3 at 光明小区), 9 heating at 锦华小区, 145 parking (2 at 光明小区).
    stalls = list(spread(W12, 25))
    out += [rec(at, STALLS, address="新华区建设路中兴路口") for at in stalls[:10]]
    out += [rec(at, STALLS, address="矿工路街道光明小区") for at in stalls[10:13]]
    out += [rec(at, STALLS) for at in stalls[13:]]
    out += [rec(at, HEATING, kind=RequestKind.HELP, address="湛河区南环路锦华小区") for at in spread(W12, 9)]
    parking = list(spread(W12, 145))
    out += [rec(at, PARKING, address="矿工路街道光明小区") for at in parking[:2]]
    out += [rec(at, PARKING) for at in parking[2:]]
    out += [rec(at, STALLS, state=OrderState.NOT_ACCEPTED) for at in spread(W12, 3)]
    # The water at 幸福家园: periods open Mar 2 (due Mar 9 00:00), Mar 4 is inside it; Mar 10 opens
    # the second (due Mar 17 00:00); Mar 17 10:00 the third.
    for when, due in (
        ("2026-03-02 09:00", "2026-03-09 00:00"),
        ("2026-03-04 09:00", "2026-03-11 00:00"),
        ("2026-03-10 09:00", "2026-03-17 00:00"),
        ("2026-03-17 10:00", "2026-03-24 00:00"),
    ):
        out.append(rec(t(when), WATER, kind=RequestKind.HELP, address="卫东区幸福家园", due_at=t(due)))
    return out


SETTINGS = AnalysisSettings(trend_windows={WindowKind.WEEK: 3, WindowKind.MONTH: 2})


@pytest.fixture(scope="module")
def week12(
    classifier: TopicClassifier, data: AnalysisData, policy: PolicyProfile, calendar: WorkingCalendar
) -> HotTopicAnalysis:
    return analyse(
        march(),
        Window.parse(WindowKind.WEEK, "2026-W12"),
        classifier=classifier,
        places=data.places,
        policy=policy,
        calendar=calendar,
        settings=SETTINGS,
    )


def test_given_three_weeks_when_analysed_then_city_management_shares_are_those_of_seed_000(
    week12: HotTopicAnalysis,
) -> None:
    trend = week12.categories.trend("城市管理")
    assert [s.count for s in trend.shares] == [16, 19, 25]
    assert [s.total for s in trend.shares] == [125, 150, 180]
    assert [s.rate for s in trend.shares] == [Fraction(16, 125), Fraction(19, 150), Fraction(25, 180)]
    assert [s.percent() for s in trend.shares] == [Decimal("12.8"), Decimal("12.7"), Decimal("13.9")]
    assert trend.direction == "up"
    assert [w.label for w in week12.categories.windows] == ["2026-W10", "2026-W11", "2026-W12"]


def test_given_not_accepted_requests_when_analysed_then_they_are_volume_but_no_share(
    week12: HotTopicAnalysis,
) -> None:
    assert (week12.received, week12.accepted, week12.not_accepted) == (183, 180, 3)
    assert week12.category_table.total == 180
    assert week12.by_channel.count("phone") == 183
    # Shares add up to exactly one.
    assert sum((s.rate or 0 for s in week12.category_table.shares()), Fraction(0)) == 1
    assert week12.category_table.share("交通管理").rate == Fraction(145, 180)
    assert week12.category_table.share("公共服务").rate == Fraction(10, 180)


def test_given_topics_when_ranked_then_counts_and_order_follow_the_text(week12: HotTopicAnalysis) -> None:
    table = week12.topic_table
    assert table.labels[:3] == ("交通管理/停车秩序", "城市管理/占道经营", "公共服务/供暖")
    assert [table.count(k) for k in table.labels] == [145, 25, 9, 1]
    assert week12.topics.trend("公共服务/供暖").direction == "up"
    assert week12.topics.trend("交通管理/停车秩序").direction == "down"


def test_given_previous_week_when_compared_then_heating_and_stalls_are_rising(
    week12: HotTopicAnalysis,
) -> None:
    rising = [(r.topic.name, r.current.count, r.previous.count, r.change_points) for r in week12.rising]
    # 供暖: 0 → 9/180 = +5 points; 占道经营: 19/150 → 25/180 = +11/9 points (≥ 1.0).
    assert rising == [("供暖", 9, 0, Fraction(5)), ("占道经营", 25, 19, Fraction(11, 9))]


def test_given_addresses_when_grouped_then_three_places_cluster(week12: HotTopicAnalysis) -> None:
    clusters = [(c.place.name, c.place.area, c.count, c.topics) for c in week12.clusters]
    assert clusters == [
        ("建设路", "新华区", 10, (("城市管理/占道经营", 10),)),
        ("锦华小区", "湛河区", 9, (("公共服务/供暖", 9),)),
        ("光明小区", "", 5, (("城市管理/占道经营", 3), ("交通管理/停车秩序", 2))),
    ]


def test_given_water_cut_in_three_periods_when_analysed_then_it_is_a_difficult_request(
    week12: HotTopicAnalysis,
) -> None:
    assert len(week12.difficult) == 1
    matter = week12.difficult[0]
    assert (matter.topic.name, matter.where) == ("供水", "卫东区幸福家园")
    assert [start for start, _ in matter.periods] == [
        t("2026-03-02 09:00"),
        t("2026-03-10 09:00"),
        t("2026-03-17 10:00"),
    ]
    assert len(matter.numbers) == 4 and len(matter.in_window) == 1


def test_given_only_two_periods_when_analysed_then_nothing_is_difficult(
    classifier: TopicClassifier, data: AnalysisData, policy: PolicyProfile, calendar: WorkingCalendar
) -> None:
    records = [r for r in march() if r.registered_at < t("2026-03-17 00:00")]
    records.append(rec(t("2026-03-16 10:00"), WATER, kind=RequestKind.HELP, address="卫东区幸福家园"))
    result = analyse(
        records,
        Window.parse(WindowKind.WEEK, "2026-W12"),
        classifier=classifier,
        places=data.places,
        policy=policy,
        calendar=calendar,
        settings=SETTINGS,
    )
    # Mar 16 10:00 is inside the second period (Mar 10 → Mar 17 00:00): still two periods.
    assert result.difficult == ()


def test_given_consultations_repeated_when_analysed_then_they_are_never_difficult(
    classifier: TopicClassifier, data: AnalysisData, policy: PolicyProfile, calendar: WorkingCalendar
) -> None:
    text = "咨询幸福家园小区停水什么时候恢复供水"
    records = [
        rec(
            t(f"2026-03-{day:02d} 09:00"),
            text,
            kind=RequestKind.CONSULTATION,
            phone="13900001111",
            due_at=t(f"2026-03-{day:02d} 13:00"),
        )
        for day in (2, 9, 16)
    ]
    result = analyse(
        records,
        Window.parse(WindowKind.WEEK, "2026-W12"),
        classifier=classifier,
        places=data.places,
        policy=policy,
        calendar=calendar,
        settings=SETTINGS,
    )
    assert result.difficult == ()
    complaints = [
        rec(
            r.registered_at,
            "小区停水三天无人处理",
            kind=RequestKind.COMPLAINT,
            phone="13900001111",
            due_at=r.due_at,
        )
        for r in records
    ]
    again = analyse(
        complaints,
        Window.parse(WindowKind.WEEK, "2026-W12"),
        classifier=classifier,
        places=data.places,
        policy=policy,
        calendar=calendar,
        settings=SETTINGS,
    )
    # No place in the address: the same citizen's repeated complaint is the matter.
    assert [(d.where, len(d.periods)) for d in again.difficult] == [("同一诉求人（尾号1111）", 3)]


def test_given_a_month_when_analysed_then_its_weeks_are_clipped_to_the_month(
    classifier: TopicClassifier, data: AnalysisData, policy: PolicyProfile, calendar: WorkingCalendar
) -> None:
    result = analyse(
        march(),
        Window.month(2026, 3),
        classifier=classifier,
        places=data.places,
        policy=policy,
        calendar=calendar,
        settings=SETTINGS,
    )
    assert result.categories_within is not None
    weeks = result.categories_within.windows
    assert [(w.start.day, w.last_day.day, w.whole) for w in weeks] == [
        (1, 1, False),
        (2, 8, True),
        (9, 15, True),
        (16, 22, True),
        (23, 29, True),
        (30, 31, False),
    ]
    shares = [s.percent() for s in result.categories_within.trend("城市管理").shares]
    assert shares == [None, Decimal("12.8"), Decimal("12.7"), Decimal("13.9"), None, None]
    assert result.category_table.share("城市管理").rate == Fraction(16 + 19 + 25, 125 + 150 + 180)
    # February had nothing: the previous month's table is empty, not an error.
    assert result.categories.tables[0].total == 0


def test_given_request_texts_when_classified_then_whole_words_decide(classifier: TopicClassifier) -> None:
    assert classifier.classify("小区下水道堵塞，污水外溢").topic.key == "城市管理/市政管网"
    # 水 alone is no keyword; 下水道 never counts as 供水.
    assert classifier.classify("家里停水了").topic.key == "公共服务/供水"
    assert classifier.classify("楼下烧烤摊夜间噪音扰民").topic.key == "生态环境/噪声扰民"
    unknown = classifier.classify("请问今天天气怎么样")
    assert unknown.topic.key == "其他/其他诉求" and unknown.hits == ()


def test_given_addresses_when_read_then_the_place_and_area_are_found(data: AnalysisData) -> None:
    cases = {
        "卫东区东安路12号院": ("东安路12号院", "卫东区"),
        "矿工路街道光明小区": ("光明小区", ""),
        "湛河区南环路锦华小区": ("锦华小区", "湛河区"),
        "新华区建设路西段": ("建设路", "新华区"),
        "建设路中兴路口": ("建设路", ""),
        "卫东区东安路街道东安路55号菜市场": ("东安路菜市场", "卫东区"),
        "湛河区南环路锦华小区3号楼": ("锦华小区", "湛河区"),
    }
    for address, (name, area) in cases.items():
        place = place_of(address, data.places)
        assert place is not None and (place.name, place.area) == (name, area), address
    assert place_of("", data.places) is None
    assert place_of("不详", data.places) is None


def test_given_windows_when_parsed_and_shifted_then_labels_and_bounds_follow() -> None:
    week = Window.parse(WindowKind.WEEK, "2026-W43")
    assert (week.start, week.end) == (date(2026, 10, 19), date(2026, 10, 26))
    assert week.label_zh == "2026年第43周（10月19日—10月25日）"
    assert week.previous().label == "2026-W42"
    assert Window.parse(WindowKind.MONTH, "2026-01").previous().label == "2025-12"
    assert [w.label for w in Window.year(2026).split(WindowKind.MONTH)][-1] == "2026-12"
    assert Window.month(2026, 10).bounds(SH)[1] == datetime(2026, 11, 1, tzinfo=SH)
    with pytest.raises(InvalidInput, match="2026-W43"):
        Window.parse(WindowKind.WEEK, "2026-43")
    with pytest.raises(InvalidInput):
        Window.parse(WindowKind.WEEK, "2026-W54")


def _day(start: str, minutes: int = 120, published: str | None = None) -> LeaderHotlineDay:
    starts = t(start)
    return LeaderHotlineDay(
        starts,
        starts + timedelta(minutes=minutes),
        "李建华",
        "市政府副市长",
        "市指挥中心大厅",
        published_at=t(published) if published else None,
    )


def test_given_a_schedule_when_checked_then_article_6_is_applied() -> None:
    rules = LeaderDayRules()
    december = Window.month(2026, 12)
    now = t("2026-11-23 10:00")
    assert [i.code for i in check_schedule(december, [], rules, now=now)] == ["leader-day-missing"]
    good = _day("2026-12-16 09:00", 120, published="2026-12-09 08:00")
    assert check_schedule(december, [good], rules, now=now) == ()
    # Not published yet but a week is still left: nothing wrong yet.
    assert check_schedule(december, [_day("2026-12-16 09:00")], rules, now=now) == ()
    late = _day("2026-12-16 09:00", 120, published="2026-12-10 08:00")
    assert [i.code for i in check_schedule(december, [late], rules, now=now)] == ["leader-day-published-late"]
    other_month = check_schedule(december, [_day("2026-11-27 09:00")], rules, now=now)
    assert [i.code for i in other_month] == ["leader-day-missing"], "a November session is not December's"
    november = Window.month(2026, 11)
    issues = check_schedule(november, [_day("2026-11-27 09:00", 90)], rules, now=now)
    assert [i.code for i in issues] == ["leader-day-too-short", "leader-day-not-published"]
    assert "少于2小时" in issues[0].message_zh and "提前1周" in issues[1].message_zh
    two = check_schedule(
        november,
        [
            _day("2026-11-02 09:00", published="2026-10-20 09:00"),
            _day("2026-11-20 09:00", published="2026-10-20 09:00"),
        ],
        rules,
        now=now,
    )
    assert [i.code for i in two] == ["leader-day-extra"]

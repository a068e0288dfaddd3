"""Hot and difficult topics of a window (热点难点分析, Art. 19; seeds 000 and 003).

What is counted
    Every request **registered** in the window (受理时间 ``registered_at``, local days). The
    *volume* tables (by channel, by kind, by class A–D) count all of them, not-accepted ones
    included (不予受理 is a volume the centre handled). The *shares* of categories and topics are
    of the **accepted** requests only (state other than ``not_accepted``), as in seed 000:
    "受理的群众诉求中 … 城市管理类占比 12.8 %". A share is the exact fraction count / total;
    it is rounded (half up, one decimal of a per cent) only when shown.

Trends (趋势)
    The shares of each category and topic in the ``trend_windows`` windows of the report's kind
    ending with the report's window (the weekly analysis: four weeks), and inside the window by
    the next-smaller kind (a week by days, a month by its weeks clipped to the month, a year by
    months). A trend is *up* when the last share is higher than the first, *down* when lower.

Rising topics (上升较快的主题), clusters (聚集地点) and difficult requests (难点诉求)
    See :class:`~.settings.AnalysisSettings`. Clusters group by the place an address names (a road,
    a community); a difficult *matter* is narrower: the same topic at the same address (spaces
    ignored; an address that names no place does not count), or from the same citizen's phone
    when there is no such address. A difficult matter's handling periods: orders sorted
    by registration; the first order opens a period that lasts until its deadline (``due_at``; an
    order never assigned: its class's handling period from registration, on the working-day
    calendar); the next order registered at or after that end opens the next period. It is listed
    when it has at least ``difficult_min_periods`` periods and one of its orders is in the window.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType

from workorders.assessment.values import present
from workorders.calendar import WorkingCalendar
from workorders.enums import Category, Channel, OrderState, RequestKind
from workorders.model import WorkOrder
from workorders.periods import period_end
from workorders.policy import PolicyProfile

from .places import Place, PlaceRules, place_of
from .settings import DEFAULT_ANALYSIS_SETTINGS, AnalysisSettings
from .topics import Topic, TopicClassifier, TopicMatch
from .windows import Window, WindowKind

_SUB_KIND = {
    WindowKind.WEEK: WindowKind.DAY,
    WindowKind.MONTH: WindowKind.WEEK,
    WindowKind.YEAR: WindowKind.MONTH,
}


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What the analysis reads of one order (a projection of :class:`WorkOrder`)."""

    number: str
    registered_at: datetime
    channel: Channel
    kind: RequestKind
    category: Category | None
    state: OrderState
    content: str
    address: str = ""
    citizen_phone: str | None = None
    lead_unit_id: str | None = None
    due_at: datetime | None = None

    @classmethod
    def of(cls, order: WorkOrder) -> RequestRecord:
        return cls(
            order.number,
            order.registered_at,
            order.channel,
            order.kind,
            order.category,
            order.state,
            order.content,
            order.address,
            order.citizen.phone,
            order.lead_unit_id,
            order.due_at,
        )

    @property
    def accepted(self) -> bool:
        return self.state is not OrderState.NOT_ACCEPTED


def percent(rate: Fraction | None, places: int = 1) -> Decimal | None:
    """A share as a per cent for display (ROUND_HALF_UP); ``None`` for an empty base."""
    return None if rate is None else present(rate * 100, places)


@dataclass(frozen=True, slots=True)
class Share:
    label: str
    count: int
    total: int

    @property
    def rate(self) -> Fraction | None:
        return Fraction(self.count, self.total) if self.total else None

    def percent(self, places: int = 1) -> Decimal | None:
        return percent(self.rate, places)


@dataclass(frozen=True)
class ShareTable:
    """How the requests of one window divide by some label; keeps the order numbers."""

    window: Window
    total: int
    numbers: Mapping[str, tuple[str, ...]]  # label → order numbers, largest first

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.numbers)

    def count(self, label: str) -> int:
        return len(self.numbers.get(label, ()))

    def share(self, label: str) -> Share:
        return Share(label, self.count(label), self.total)

    def shares(self) -> tuple[Share, ...]:
        return tuple(self.share(label) for label in self.numbers)


@dataclass(frozen=True, slots=True)
class Trend:
    label: str
    shares: tuple[Share, ...]

    @property
    def direction(self) -> str:
        """``up``, ``down`` or ``flat`` from the first window with requests to the last; ``none``
        when fewer than two windows had requests (nothing to compare)."""
        rates = [s.rate for s in self.shares if s.rate is not None]
        if len(rates) < 2:
            return "none"
        if rates[-1] == rates[0]:
            return "flat"
        return "up" if rates[-1] > rates[0] else "down"


@dataclass(frozen=True)
class ShareSeries:
    """The same division over consecutive windows: the trends."""

    tables: tuple[ShareTable, ...]
    labels: tuple[str, ...]  # by count in the last window, then over the series

    @property
    def windows(self) -> tuple[Window, ...]:
        return tuple(t.window for t in self.tables)

    def trend(self, label: str) -> Trend:
        return Trend(label, tuple(t.share(label) for t in self.tables))

    def trends(self) -> tuple[Trend, ...]:
        return tuple(self.trend(label) for label in self.labels)


@dataclass(frozen=True, slots=True)
class RisingTopic:
    topic: Topic
    current: Share
    previous: Share

    @property
    def change_points(self) -> Fraction:
        """Share growth in percentage points (exact)."""
        return ((self.current.rate or Fraction(0)) - (self.previous.rate or Fraction(0))) * 100


@dataclass(frozen=True, slots=True)
class Cluster:
    place: Place
    numbers: tuple[str, ...]
    topics: tuple[tuple[str, int], ...]  # topic key → count, largest first

    @property
    def count(self) -> int:
        return len(self.numbers)


@dataclass(frozen=True, slots=True)
class DifficultMatter:
    """难点诉求: one matter raised in ``len(periods)`` successive handling periods."""

    topic: Topic
    where: str  # the place's label, or 同一诉求人（尾号1234）
    periods: tuple[tuple[datetime, datetime], ...]
    numbers: tuple[str, ...]  # oldest first
    in_window: tuple[str, ...]


@dataclass(frozen=True)
class HotTopicAnalysis:
    window: Window
    received: int  # all registered in the window
    accepted: int
    not_accepted: int
    by_channel: ShareTable
    by_kind: ShareTable
    by_class: ShareTable
    categories: ShareSeries  # trailing windows, the report's window last
    topics: ShareSeries
    categories_within: ShareSeries | None  # the window split (None for a day)
    topics_within: ShareSeries | None
    rising: tuple[RisingTopic, ...]
    clusters: tuple[Cluster, ...]
    difficult: tuple[DifficultMatter, ...]
    topic_of: Mapping[str, TopicMatch]

    @property
    def category_table(self) -> ShareTable:
        return self.categories.tables[-1]

    @property
    def topic_table(self) -> ShareTable:
        return self.topics.tables[-1]


def data_start(window: Window, settings: AnalysisSettings = DEFAULT_ANALYSIS_SETTINGS) -> date:
    """The first local day :func:`analyse` needs orders from (trends, previous window, lookback)."""
    first = window.trailing(max(settings.trend_count(window.kind), 2))[0].start
    return min(first, window.start - timedelta(days=settings.difficult_lookback_days))


def analyse(
    records: Iterable[RequestRecord],
    window: Window,
    *,
    classifier: TopicClassifier,
    places: PlaceRules,
    policy: PolicyProfile,
    calendar: WorkingCalendar,
    settings: AnalysisSettings = DEFAULT_ANALYSIS_SETTINGS,
) -> HotTopicAnalysis:
    """The hot-topic analysis of ``window`` from orders registered since :func:`data_start`."""
    tz = policy.tz
    start = data_start(window, settings)
    rows = sorted(
        (r for r in records if start <= r.registered_at.astimezone(tz).date() < window.end),
        key=lambda r: (r.registered_at, r.number),
    )
    cache: dict[str, TopicMatch] = {}

    def topic(r: RequestRecord) -> TopicMatch:
        match = cache.get(r.content)
        if match is None:
            match = cache[r.content] = classifier.classify(r.content)
        return match

    days = [r.registered_at.astimezone(tz).date() for r in rows]  # sorted, as the rows are
    day_of = {r.number: d for r, d in zip(rows, days, strict=True)}

    def day(r: RequestRecord) -> date:
        return day_of[r.number]

    def span(w: Window) -> Sequence[RequestRecord]:
        return rows[bisect_left(days, w.start) : bisect_left(days, w.end)]

    inside = list(span(window))
    accepted = [r for r in inside if r.accepted]
    category_order = {c: i for i, c in enumerate(classifier.dictionary.categories)}
    topic_order = {
        t.key: i for i, t in enumerate((*classifier.dictionary.topics, classifier.dictionary.fallback))
    }

    def table(
        w: Window,
        label: Callable[[RequestRecord], str],
        order: Mapping[str, int],
        *,
        accepted_only: bool,
    ) -> ShareTable:
        groups: dict[str, list[str]] = {}
        for r in span(w):
            if r.accepted or not accepted_only:
                groups.setdefault(label(r), []).append(r.number)
        ranked = sorted(groups, key=lambda k: (-len(groups[k]), order.get(k, len(order)), k))
        total = sum(len(v) for v in groups.values())
        return ShareTable(w, total, MappingProxyType({k: tuple(groups[k]) for k in ranked}))

    def series(
        windows: Sequence[Window], label: Callable[[RequestRecord], str], order: Mapping[str, int]
    ) -> ShareSeries:
        tables = tuple(table(w, label, order, accepted_only=True) for w in windows)
        seen: dict[str, int] = {}
        for t in tables:
            for k in t.labels:
                seen[k] = seen.get(k, 0) + t.count(k)
        last = tables[-1]
        labels = tuple(sorted(seen, key=lambda k: (-last.count(k), -seen[k], order.get(k, len(order)), k)))
        return ShareSeries(tables, labels)

    def by_category(r: RequestRecord) -> str:
        return topic(r).topic.category

    def by_topic(r: RequestRecord) -> str:
        return topic(r).topic.key

    trailing = window.trailing(settings.trend_count(window.kind))
    categories = series(trailing, by_category, category_order)
    topics = series(trailing, by_topic, topic_order)
    sub = _SUB_KIND.get(window.kind)
    within = series(window.split(sub), by_category, category_order) if sub is not None else None
    topics_within = series(window.split(sub), by_topic, topic_order) if sub is not None else None

    channel_order = {c.value: i for i, c in enumerate(Channel)}
    kind_order = {k.value: i for i, k in enumerate(RequestKind)}
    class_order = {c.value: i for i, c in enumerate(Category)}
    by_channel = table(window, lambda r: r.channel.value, channel_order, accepted_only=False)
    by_kind = table(window, lambda r: r.kind.value, kind_order, accepted_only=False)
    by_class = table(
        window, lambda r: r.category.value if r.category else "", class_order, accepted_only=False
    )

    place_cache: dict[str, Place | None] = {}

    def place(address: str) -> Place | None:
        if address not in place_cache:
            place_cache[address] = place_of(address, places)
        return place_cache[address]

    rising = _rising(span(window.previous()), accepted, topic, classifier, settings)
    clusters = _clusters(accepted, topic, place, settings)
    difficult = _difficult(window, rows, topic, day, place, policy, calendar, settings)
    return HotTopicAnalysis(
        window=window,
        received=len(inside),
        accepted=len(accepted),
        not_accepted=len(inside) - len(accepted),
        by_channel=by_channel,
        by_kind=by_kind,
        by_class=by_class,
        categories=categories,
        topics=topics,
        categories_within=within,
        topics_within=topics_within,
        rising=rising,
        clusters=clusters,
        difficult=difficult,
        topic_of=MappingProxyType({r.number: topic(r) for r in inside}),
    )


def _rising(
    previous: Sequence[RequestRecord],
    accepted: Sequence[RequestRecord],
    topic: Callable[[RequestRecord], TopicMatch],
    classifier: TopicClassifier,
    settings: AnalysisSettings,
) -> tuple[RisingTopic, ...]:
    before = [r for r in previous if r.accepted]
    now_counts: dict[str, int] = {}
    prev_counts: dict[str, int] = {}
    by_key: dict[str, Topic] = {}
    for r in accepted:
        t = topic(r).topic
        by_key[t.key] = t
        now_counts[t.key] = now_counts.get(t.key, 0) + 1
    for r in before:
        key = topic(r).topic.key
        prev_counts[key] = prev_counts.get(key, 0) + 1
    threshold = Fraction(settings.rising_min_share_points)
    out = []
    for key, n in now_counts.items():
        if by_key[key] == classifier.dictionary.fallback or n < settings.rising_min_orders:
            continue
        item = RisingTopic(
            by_key[key], Share(key, n, len(accepted)), Share(key, prev_counts.get(key, 0), len(before))
        )
        if item.change_points >= threshold:
            out.append(item)
    out.sort(key=lambda t: (-t.change_points, -t.current.count, t.topic.key))
    return tuple(out)


def _clusters(
    accepted: Sequence[RequestRecord],
    topic: Callable[[RequestRecord], TopicMatch],
    locate: Callable[[str], Place | None],
    settings: AnalysisSettings,
) -> tuple[Cluster, ...]:
    groups: dict[str, list[RequestRecord]] = {}
    place_by_name: dict[str, list[Place]] = {}
    for r in accepted:
        place = locate(r.address)
        if place is None:
            continue
        groups.setdefault(place.name, []).append(r)
        place_by_name.setdefault(place.name, []).append(place)
    out = []
    for name, items in groups.items():
        if len(items) < settings.cluster_min_orders:
            continue
        areas = [p.area for p in place_by_name[name] if p.area]
        area = max(sorted(set(areas)), key=areas.count) if areas else ""
        counts: dict[str, int] = {}
        for r in items:
            key = topic(r).topic.key
            counts[key] = counts.get(key, 0) + 1
        ranked = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
        out.append(Cluster(Place(name, area), tuple(r.number for r in items), ranked))
    out.sort(key=lambda c: (-c.count, c.place.name))
    return tuple(out)


def _difficult(
    window: Window,
    rows: Sequence[RequestRecord],
    topic: Callable[[RequestRecord], TopicMatch],
    day: Callable[[RequestRecord], date],
    locate: Callable[[str], Place | None],
    policy: PolicyProfile,
    calendar: WorkingCalendar,
    settings: AnalysisSettings,
) -> tuple[DifficultMatter, ...]:
    since = window.start - timedelta(days=settings.difficult_lookback_days)
    matters: dict[tuple[str, str], list[RequestRecord]] = {}
    topics: dict[str, Topic] = {}
    for r in rows:
        if not r.accepted or r.kind not in settings.difficult_kinds or day(r) < since:
            continue
        match = topic(r)
        if not match.hits:  # the fallback topic (其他) is no matter
            continue
        t = match.topic
        address = "".join(r.address.split())
        if locate(address) is not None:
            where = address
        elif r.citizen_phone:
            where = f"同一诉求人（尾号{r.citizen_phone[-4:]}）"
        else:
            continue
        topics[t.key] = t
        matters.setdefault((t.key, where), []).append(r)
    out = []
    for (key, where), items in matters.items():
        if not any(window.contains(day(r)) for r in items):
            continue
        periods: list[tuple[datetime, datetime]] = []
        for r in items:  # rows are sorted by registration
            if periods and r.registered_at < periods[-1][1]:
                continue
            periods.append((r.registered_at, _period_end(r, policy, calendar)))
        if len(periods) >= settings.difficult_min_periods:
            out.append(
                DifficultMatter(
                    topics[key],
                    where,
                    tuple(periods),
                    tuple(r.number for r in items),
                    tuple(r.number for r in items if window.contains(day(r))),
                )
            )
    out.sort(key=lambda d: (-len(d.periods), -len(d.numbers), d.topic.key, d.where))
    return tuple(out)


def _period_end(r: RequestRecord, policy: PolicyProfile, calendar: WorkingCalendar) -> datetime:
    if r.due_at is not None and r.due_at > r.registered_at:
        return r.due_at
    period = policy.handling_period(r.category or Category.B, r.channel)
    return period_end(r.registered_at, period, calendar, policy.tz).due_at

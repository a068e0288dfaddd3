"""Builds the bulletins (周分析、月通报、年总结, Art. 19) from the analysis, the assessment and the
leaders' hotline days: the words, tables and charts a reader gets, in Chinese."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from fractions import Fraction

from workorders.analysis import (
    HotTopicAnalysis,
    LeaderDayIssue,
    LeaderDayRules,
    LeaderHotlineDay,
    ShareTable,
    Window,
    WindowKind,
)
from workorders.assessment import AnnualResult, IndicatorKey, MonthlyAssessment, present
from workorders.enums import AssessmentGroup, Category, Channel, RequestKind

from .charts import Chart, bar_chart, line_chart
from .model import Bulletin, Section, Table, TableValue

KIND_ZH = {
    RequestKind.CONSULTATION: "咨询",
    RequestKind.HELP: "求助",
    RequestKind.COMPLAINT: "投诉",
    RequestKind.SUGGESTION: "意见建议",
}
CLASS_ZH = {
    Category.A: "A类（即办）",
    Category.B: "B类（一般）",
    Category.C: "C类（重要）",
    Category.D: "D类（重要紧急）",
}
GROUP_ZH = {
    AssessmentGroup.DISTRICT: "市内五区",
    AssessmentGroup.STREET: "市内五区各街道（乡、镇）",
    AssessmentGroup.COUNTY: "其他县（市、区）",
    AssessmentGroup.DEPARTMENT: "市直和驻平单位",
}
CONSEQUENCE_ZH = {
    "main_leader_interview": "约谈主要领导（第二十八条第五项）",
    "public_statement": "公开表态发言并取消评先资格（第二十九条）",
}
DIRECTION_ZH = {"up": "上升", "down": "下降", "flat": "持平", "none": "—"}
REPORT_ZH = {"weekly": "周分析", "monthly": "月通报", "annual": "年总结"}


def _category_label(name: str) -> str:
    return name if name.endswith("类") else f"{name}类"


def _topic_name(key: str) -> str:
    return key.partition("/")[2] or key


def _share_rows(table: ShareTable, name: dict[str, str] | None = None) -> tuple[tuple[TableValue, ...], ...]:
    return tuple(((name or {}).get(s.label, s.label), s.count, s.percent()) for s in table.shares())


def analysis_sections(
    analysis: HotTopicAnalysis, *, top_topics: int, difficult_periods: int
) -> list[Section]:
    """``difficult_periods``: the handling periods that make a request difficult (seed 003: three)."""
    a = analysis
    w = a.window
    channel_names = {c.value: c.label_zh for c in Channel}
    kind_names = {k.value: v for k, v in KIND_ZH.items()}
    class_names = {c.value: v for c, v in CLASS_ZH.items()} | {"": "未分类（不予受理等）"}
    volume_tables = (
        Table(
            "volume_by_channel",
            "按受理渠道",
            ("渠道", "件数", "占比（%）"),
            _share_rows(a.by_channel, channel_names),
        ),
        Table(
            "volume_by_class",
            "按事项类别（第八条）",
            ("类别", "件数", "占比（%）"),
            _share_rows(a.by_class, class_names),
        ),
        Table(
            "volume_by_kind", "按诉求类型", ("类型", "件数", "占比（%）"), _share_rows(a.by_kind, kind_names)
        ),
    )
    channel_charts: tuple[Chart, ...] = ()
    if a.received:
        channel_charts = (
            bar_chart(
                "chart_channels",
                f"{w.label_zh}各渠道受理量",
                [channel_names[s.label] for s in a.by_channel.shares()],
                [s.count for s in a.by_channel.shares()],
            ),
        )
    overview = Section(
        "一、总体情况",
        paragraphs=(
            f"{w.label_zh}，热线平台共接收群众诉求{a.received}件，其中受理{a.accepted}件，"
            f"依第四条不予受理{a.not_accepted}件。",
        ),
        tables=volume_tables,
        charts=channel_charts,
    )

    # Categories: shares now, before, and the trend.
    cats = a.categories
    current = cats.tables[-1]
    previous = cats.tables[-2] if len(cats.tables) > 1 else None
    cat_rows = []
    for label in cats.labels:
        now = current.share(label)
        before = previous.share(label) if previous is not None else None
        change = (
            present((now.rate - before.rate) * 100, 1)
            if before is not None and now.rate is not None and before.rate is not None
            else None
        )
        if now.count == 0 and (before is None or before.count == 0):
            continue
        cat_rows.append(
            (
                _category_label(label),
                now.count,
                now.percent(),
                before.percent() if before is not None else None,
                change,
            )
        )
    prev_name = previous.window.label_zh if previous is not None else "上期"
    category_table = Table(
        "category_shares",
        f"诉求分类占比（与{prev_name}比较）",
        ("分类", "件数", "占比（%）", "上期占比（%）", "变化（百分点）"),
        tuple(cat_rows),
    )
    top_cats = [label for label in cats.labels if current.count(label)][:5]
    tables = [category_table]
    charts: list[Chart] = []
    trend_source = (
        a.categories_within if a.window.kind is not WindowKind.WEEK and a.categories_within else cats
    )
    trend_kind = (
        "各周"
        if trend_source.windows[0].kind is WindowKind.WEEK
        else ("各月" if trend_source.windows[0].kind is WindowKind.MONTH else "各日")
    )
    tables.append(
        Table(
            "category_trend",
            f"主要分类{trend_kind}占比趋势",
            ("分类", *(win.short_zh for win in trend_source.windows)),
            tuple(
                (_category_label(c), *(s.percent() for s in trend_source.trend(c).shares))
                for c in cats.labels
                if any(t.count(c) for t in trend_source.tables)
            ),
            note="各期占比（%），为该期受理诉求中的比例。",
        )
    )
    if a.categories_within is not None and trend_source is not a.categories_within:
        within = a.categories_within
        tables.append(
            Table(
                "category_by_day",
                "本期各日分类占比",
                ("分类", *(win.short_zh for win in within.windows)),
                tuple(
                    (_category_label(c), *(s.percent() for s in within.trend(c).shares))
                    for c in within.labels
                    if any(t.count(c) for t in within.tables)
                ),
                note="各日占比（%）。",
            )
        )
    if top_cats:
        charts.append(
            line_chart(
                "chart_category_trend",
                f"主要分类{trend_kind}占比",
                [win.short_zh for win in trend_source.windows],
                [(_category_label(c), [s.percent() for s in trend_source.trend(c).shares]) for c in top_cats],
            )
        )
    topic_current = a.topics.tables[-1]
    top = [label for label in a.topics.labels if topic_current.count(label)][:top_topics]
    topic_trend = a.topics_within if trend_source is a.categories_within and a.topics_within else a.topics
    topic_rows = []
    for rank, key in enumerate(top, start=1):
        share = topic_current.share(key)
        direction = topic_trend.trend(key).direction
        topic_rows.append(
            (
                rank,
                _topic_name(key),
                _category_label(key.partition("/")[0]),
                share.count,
                share.percent(),
                DIRECTION_ZH[direction],
            )
        )
    tables.append(
        Table(
            "top_topics",
            f"热点主题前{len(top)}位",
            ("排名", "主题", "分类", "件数", "占比（%）", f"{trend_kind}趋势"),
            tuple(topic_rows),
            note="主题由诉求内容按主题词典（minhu/reports/data/topics.toml）分词识别。",
        )
    )
    if top:
        charts.append(
            bar_chart(
                "chart_top_topics",
                f"{w.label_zh}热点主题",
                [_topic_name(k) for k in top],
                [topic_current.count(k) for k in top],
            )
        )
    hot_paragraphs = []
    if top_cats:
        lead = top_cats[0]
        s = current.share(lead)
        text = f"受理诉求中，{_category_label(lead)}诉求占比最高，为{s.percent()}%（{s.count}件）"
        others = [f"{_category_label(c)}{current.share(c).percent()}%" for c in top_cats[1:3]]
        text += "，其次为" + "、".join(others) + "。" if others else "。"
        hot_paragraphs.append(text)
        trend = trend_source.trend(lead)
        if len(trend.shares) > 1:
            values = "、".join(f"{x.percent()}%" for x in trend.shares if x.rate is not None)
            hot_paragraphs.append(f"{_category_label(lead)}诉求{trend_kind}占比分别为{values}。")
    if top:
        hot_paragraphs.append("反映较多的问题为" + "、".join(_topic_name(k) for k in top[:3]) + "等。")
    hot = Section(
        "二、热点分析", paragraphs=tuple(hot_paragraphs), tables=tuple(tables), charts=tuple(charts)
    )

    rising_rows = tuple(
        (
            r.topic.name,
            _category_label(r.topic.category),
            r.current.count,
            r.current.percent(),
            r.previous.count,
            r.previous.percent(),
            present(r.change_points, 1),
        )
        for r in a.rising
    )
    rising = Section(
        "三、上升较快的诉求",
        paragraphs=(
            ("与上期相比，" + "、".join(r.topic.name for r in a.rising[:5]) + "等诉求增加明显。")
            if a.rising
            else "与上期相比，未发现占比明显上升的主题。",
        ),
        tables=(
            Table(
                "rising_topics",
                "上升较快的主题",
                ("主题", "分类", "本期件数", "本期占比（%）", "上期件数", "上期占比（%）", "上升（百分点）"),
                rising_rows,
            ),
        ),
    )
    cluster_rows = tuple(
        (
            c.place.name,
            c.place.area or "—",
            c.count,
            "、".join(f"{_topic_name(k)}{n}件" for k, n in c.topics[:3]),
        )
        for c in a.clusters
    )
    clusters = Section(
        "四、诉求集中地点",
        paragraphs=(
            f"按诉求地址归并，共有{len(a.clusters)}处地点诉求较为集中。"
            if a.clusters
            else "本期未发现诉求集中的地点。",
        ),
        tables=(Table("clusters", "诉求集中地点", ("地点", "所属区县", "件数", "主要问题"), cluster_rows),),
    )
    difficult_rows = tuple(
        (
            d.topic.name,
            d.where,
            len(d.periods),
            len(d.numbers),
            len(d.in_window),
            d.periods[0][0].strftime("%Y-%m-%d"),
            d.periods[-1][0].strftime("%Y-%m-%d"),
            "、".join(d.numbers),
        )
        for d in a.difficult
    )
    difficult = Section(
        f"五、难点诉求（{difficult_periods}个处理时段以上重复反映）",
        paragraphs=(
            f"同一地址（或同一诉求人）同一问题在{difficult_periods}个及以上办理时段内重复反映的难点诉求"
            f"共{len(a.difficult)}项，"
            "建议承办单位主要领导亲自过问、研究解决。"
            if a.difficult
            else f"本期未发现在{difficult_periods}个及以上办理时段内重复反映的难点诉求。",
        ),
        tables=(
            Table(
                "difficult",
                "难点诉求",
                (
                    "主题",
                    "地点或诉求人",
                    "处理时段数",
                    "工单数",
                    "本期工单数",
                    "首次受理",
                    "最近一次时段开始",
                    "工单编号",
                ),
                difficult_rows,
            ),
        ),
    )
    return [overview, hot, rising, clusters, difficult]


def assessment_section(monthly: MonthlyAssessment, title: str = "六、考核排名") -> Section:
    tables: list[Table] = []
    charts: list[Chart] = []
    keys = list(IndicatorKey)
    for group in (
        AssessmentGroup.DISTRICT,
        AssessmentGroup.STREET,
        AssessmentGroup.COUNTY,
        AssessmentGroup.DEPARTMENT,
    ):
        ranking = monthly.rankings.get(group)
        if ranking is None:
            continue
        rows: list[tuple[TableValue, ...]] = []
        for entry in ranking.ranked:
            unit = monthly.units[entry.unit_id]
            rows.append(
                (
                    entry.rank,
                    unit.unit.name,
                    present(entry.score, 2),
                    len(unit.orders),
                    *(unit.indicators[k].percent(1) if k in unit.indicators else None for k in keys),
                )
            )
        for uid in ranking.unranked:
            unit = monthly.units[uid]
            rows.append((None, unit.unit.name, None, len(unit.orders), *(None for _ in keys)))
        tables.append(
            Table(
                f"ranking_{group.value}",
                f"{GROUP_ZH[group]}考核排名",
                ("排名", "单位", "总分", "工单数", *(f"{k.label_zh}（%）" for k in keys)),
                tuple(rows),
                note="本月无交办工单的单位不参加排名。",
            )
        )
        if ranking.ranked:
            charts.append(
                bar_chart(
                    f"chart_ranking_{group.value}",
                    f"{GROUP_ZH[group]}考核得分",
                    [monthly.units[r.unit_id].unit.name for r in ranking.ranked],
                    [present(r.score, 2) for r in ranking.ranked],
                    unit="分",
                )
            )
    interview_rows = tuple(
        (
            monthly.units[t.unit_id].unit.name,
            GROUP_ZH[t.group],
            f"{t.rank}/{t.group_size}",
            present(t.score, 2),
            present(t.top_score, 2),
            present(t.threshold, 2) if t.threshold is not None else None,
            f"排名最后{t.rule.last_n}名"
            + (
                f"且低于本组最高分{present(Fraction(t.rule.below_fraction_of_top) * 100, 0)}%"
                if t.rule.below_fraction_of_top is not None
                else ""
            )
            + "（第二十八条第四项）",
        )
        for t in monthly.interviews
    )
    tables.append(
        Table(
            "interviews",
            "约谈触发（第二十八条第四项）",
            ("单位", "分组", "组内排名", "得分", "本组最高分", "约谈线", "依据"),
            interview_rows,
        )
    )
    escalation_rows = tuple(
        (
            monthly.units[e.unit_id].unit.name if e.unit_id in monthly.units else e.unit_id,
            CONSEQUENCE_ZH.get(e.consequence, e.consequence),
            e.consecutive,
            len(e.in_window),
            "、".join(str(m) for m in e.in_window),
        )
        for e in monthly.escalations
    )
    tables.append(
        Table(
            "escalations",
            "升级问责（第二十八条第五项、第二十九条）",
            ("单位", "措施", "连续约谈月数", "一年内约谈次数", "约谈月份"),
            escalation_rows,
        )
    )
    names = "、".join(monthly.units[t.unit_id].unit.name for t in monthly.interviews)
    paragraphs = [
        "考核按市内五区、街道（乡、镇）、其他县（市、区）、市直和驻平单位四组分别排名；"
        "总分为各项指标按政策配置权重的加权得分。",
        f"本月触发约谈的单位：{names}。" if names else "本月无单位触发约谈。",
    ]
    if monthly.escalations:
        paragraphs.append(
            "升级问责："
            + "；".join(
                f"{monthly.units[e.unit_id].unit.name if e.unit_id in monthly.units else e.unit_id}"
                f"{CONSEQUENCE_ZH.get(e.consequence, e.consequence)}"
                for e in monthly.escalations
            )
            + "。"
        )
    return Section(title, paragraphs=tuple(paragraphs), tables=tuple(tables), charts=tuple(charts))


def annual_section(annual: AnnualResult, names: dict[str, str], title: str = "六、年度考核结果") -> Section:
    tables: list[Table] = []
    awarded = {uid for group in annual.awards.values() for uid in group}
    for group in (
        AssessmentGroup.DISTRICT,
        AssessmentGroup.STREET,
        AssessmentGroup.COUNTY,
        AssessmentGroup.DEPARTMENT,
    ):
        members = [r for r in annual.results.values() if r.unit.group is group]
        members.sort(key=lambda r: (r.rank is None, r.rank or 0, r.unit.name))
        rows = tuple(
            (
                r.rank,
                r.unit.name,
                present(r.mean, 2) if r.mean is not None else None,
                len(r.monthly),
                "是" if r.unit.unit_id in awarded else ("取消评先资格" if r.disqualified_by else ""),
            )
            for r in members
        )
        tables.append(
            Table(
                f"annual_{group.value}",
                f"{GROUP_ZH[group]}年度考核",
                ("排名", "单位", "年度得分（月均）", "考核月数", "优质服务热线单位"),
                rows,
            )
        )
    winners = "、".join(names.get(uid, uid) for uid in sorted(awarded, key=lambda u: names.get(u, u)))
    months = "、".join(str(m) for m in annual.months)
    return Section(
        title,
        paragraphs=(
            f"年度得分为各月考核得分的平均值（纳入月份：{months or '无'}）。",
            f"拟评为优质服务热线单位：{winners}。" if winners else "暂无拟表彰单位。",
        ),
        tables=tuple(tables),
    )


def leader_day_section(
    month: Window,
    days: Sequence[LeaderHotlineDay],
    issues: Sequence[LeaderDayIssue],
    rules: LeaderDayRules,
    *,
    title: str = "七、领导接线日",
) -> Section:
    rows: list[tuple[TableValue, ...]] = []
    for d in sorted(days, key=lambda d: d.starts_at):
        start = d.starts_at
        rows.append(
            (
                f"{start.year}年{start.month}月{start.day}日",
                f"{start:%H:%M}—{d.ends_at:%H:%M}",
                d.leader_name,
                d.leader_title,
                d.venue,
                d.focus,
                d.published_at.strftime("%Y-%m-%d %H:%M") if d.published_at else "未公布",
                d.publish_by(rules).strftime("%Y-%m-%d"),
            )
        )
    return Section(
        title,
        paragraphs=(
            f"依第六条，每月确定{rules.per_month}名市政府领导、市直单位主要负责人或各区主要领导在市指挥中心大厅"
            f"接听群众来电，接线互动时间不少于{rules.min_minutes // 60}小时，"
            f"接线安排提前{rules.publish_days_ahead}天在市政府官网、平顶山发布、12345微信公众号公布。",
        ),
        tables=(
            Table(
                "leader_days",
                f"领导接线日安排（{month.label_zh}及下月）",
                ("日期", "时间", "接线领导", "职务", "地点", "关注热点", "公布时间", "最迟公布日期"),
                tuple(rows),
            ),
        ),
        notices=tuple(i.message_zh for i in issues),
    )


def bulletin_title(kind: str, window: Window) -> str:
    return f"12345民呼必应热线{REPORT_ZH[kind]}（{window.title_zh}）"


def build_bulletin(
    kind: str,
    analysis: HotTopicAnalysis,
    *,
    top_topics: int,
    difficult_periods: int,
    issuer: str,
    generated_at: datetime,
    extra: Sequence[Section] = (),
) -> Bulletin:
    sections = analysis_sections(analysis, top_topics=top_topics, difficult_periods=difficult_periods)
    summary = tuple(p for s in sections[:2] for p in s.paragraphs[:2])
    return Bulletin(
        kind=kind,
        label=analysis.window.label,
        title=bulletin_title(kind, analysis.window),
        period=analysis.window.span_zh,
        issuer=issuer,
        generated_at=generated_at,
        summary=summary,
        sections=(*sections, *extra),
    )

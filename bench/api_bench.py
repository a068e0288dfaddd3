"""Work-order creation and the list endpoint under load, over HTTP, with 1,000,000 orders in the table.

What it does, end to end:

1. creates a fresh PostgreSQL database ``minhu_bench`` (dropped first if it exists) and migrates it
   with the project's Alembic migrations;
2. seeds a city of about 100 units in the four assessment groups and its users (intake agent,
   supervisor, one handler per unit), then loads 1,000,000 work orders with server-side SQL
   (``INSERT … SELECT`` over ``generate_series``): a year of registrations with a daily profile,
   every state of the lifecycle in realistic proportions for the order's age, the nested records
   (check-ins, contacts, replies, revisit calls, returns, extensions) as the JSON documents the
   mapping decodes, the unit index rows and the per-day number counters that match the numbers;
   then ``VACUUM ANALYZE``;
3. starts the API as a real server (``minhu serve --workers N`` in a subprocess on a free loopback
   port, a fixed JWT secret, the bench database) for N = 1 and 2, signs in through
   ``/api/v1/auth/token``;
4. drives it with ``wrk`` (installed with apt-get when missing): each list query type in turn
   (first page, by state, by unit, a unit handler's own list, overdue, category + date range,
   full-text) with latency percentiles, then order creation (POST with JSON bodies);
5. stops the server and drops the database (``MINHU_BENCH_KEEP_DB=1`` keeps it, and a kept
   database with the same number of orders is reused by the next run).

Figures: ``orders_create_per_s`` and ``orders_list_p99_ms`` (the worst p99 of the list query types)
from the best worker count, plus per-query p50/p99, the worker count (``api_workers``) and
``api_cpu_probe_ms``: a fixed pure-Python loop timed around the creation run, because this
virtual machine's speed varies by up to 2x with its host's load (see :func:`cpu_probe_ms`).

Environment knobs: ``MINHU_BENCH_DATABASE_URL``, ``MINHU_BENCH_ORDERS`` (default 1000000),
``MINHU_BENCH_WORKERS`` (default ``1,2``), ``MINHU_BENCH_SECONDS`` (creation: three runs of a
third of it each, the median reported; default 30),
``MINHU_BENCH_LIST_SECONDS`` (each list type, default 8), ``MINHU_BENCH_KEEP_DB``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parent.parent
SH = ZoneInfo("Asia/Shanghai")
DEFAULT_URL = "postgresql+asyncpg:///minhu_bench?host=/var/run/postgresql"
JWT_SECRET = "minhu-bench-jwt-secret-0123456789abcdefghijklmnopqrstuvwxyz"
PASSWORD = "minhu-bench-2026"
CREATE_TARGET_PER_S = 500.0
LIST_P99_TARGET_MS = 50.0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


def _say(message: str) -> None:
    print(f"[api-bench] {message}", flush=True)


# -- the city ------------------------------------------------------------------------------------

DISTRICTS = [
    ("xinhua", "新华区"),
    ("weidong", "卫东区"),
    ("zhanhe", "湛河区"),
    ("shilong", "石龙区"),
    ("gaoxin", "高新技术产业开发区"),
]
STREETS = {
    "xinhua": ["矿工路", "西市场", "中兴路", "曙光街", "光明路", "青石山", "西高皇", "湛北路", "焦店镇"],
    "weidong": ["东安路", "优越路", "五一路", "建设路", "东环路", "东工人镇", "光华路", "鸿鹰", "北环路"],
    "zhanhe": ["南环路", "九龙街", "轻工路", "马庄", "河滨", "姚孟", "高阳路", "北渡镇", "曹镇乡"],
    "shilong": ["人民路", "龙兴", "龙河", "高庄"],
    "gaoxin": ["遵化店镇", "皇台", "湛南路", "滍阳镇"],
}
COUNTIES = [
    ("baofeng", "宝丰县"),
    ("yexian", "叶县"),
    ("lushan", "鲁山县"),
    ("jiaxian", "郏县"),
    ("wugang", "舞钢市"),
    ("ruzhou", "汝州市"),
]
DEPARTMENTS = [
    ("centre", "平顶山市民呼必应指挥中心"),
    ("city-management", "市城市管理局"),
    ("housing", "市住房和城乡建设局"),
    ("hrss", "市人力资源和社会保障局"),
    ("education", "市教育局"),
    ("police", "市公安局"),
    ("traffic-police", "市公安局交通管理支队"),
    ("transport", "市交通运输局"),
    ("environment", "市生态环境局"),
    ("market", "市市场监督管理局"),
    ("health", "市卫生健康委员会"),
    ("medical-insurance", "市医疗保障局"),
    ("natural-resources", "市自然资源和规划局"),
    ("water", "市水利局"),
    ("agriculture", "市农业农村局"),
    ("civil-affairs", "市民政局"),
    ("tax", "国家税务总局平顶山市税务局"),
    ("power", "国网平顶山供电公司"),
    ("water-supply", "市自来水公司"),
    ("gas", "市燃气公司"),
    ("heating", "市热力公司"),
    ("mobile", "中国移动平顶山分公司"),
    ("telecom", "中国电信平顶山分公司"),
    ("unicom", "中国联通平顶山分公司"),
    ("bus", "市公交公司"),
    ("culture-tourism", "市文化广电和旅游局"),
    ("emergency", "市应急管理局"),
    ("housing-fund", "市住房公积金管理中心"),
    ("real-estate-registry", "市不动产登记中心"),
    ("veterans", "市退役军人事务局"),
    ("finance", "市财政局"),
    ("development-reform", "市发展和改革委员会"),
    ("industry-it", "市工业和信息化局"),
    ("commerce", "市商务局"),
    ("justice", "市司法局"),
    ("statistics", "市统计局"),
    ("forestry", "市林业局"),
    ("sports", "市体育局"),
    ("disabled", "市残疾人联合会"),
    ("women", "市妇女联合会"),
    ("post", "中国邮政平顶山分公司"),
    ("railway", "平顶山火车站"),
    ("pingmei", "平煤神马集团"),
    ("university", "平顶山学院"),
    ("hospital-1", "平顶山市第一人民医院"),
]

# (category, kind, content, address): what citizens write, in the hotline's register.
CONTENTS: list[tuple[str, str, str, str]] = [
    (
        "B",
        "complaint",
        "建设路与中兴路交叉口占道经营严重，早晚高峰车辆无法通行，希望相关部门尽快处理",
        "建设路中兴路口",
    ),
    (
        "B",
        "complaint",
        "小区楼下烧烤摊夜间噪音扰民，油烟很大，持续到凌晨两点，多次沟通无果",
        "矿工路街道光明小区",
    ),
    ("A", "consultation", "咨询灵活就业人员如何缴纳城乡居民养老保险，需要带哪些材料到哪里办理", ""),
    ("C", "complaint", "邻居在楼顶违规搭建彩钢房，存在严重安全隐患，物业劝阻无效", "卫东区东安路12号院"),
    (
        "B",
        "help",
        "小区供暖不热，室温不足十六度，家里有老人孩子，物业和热力公司互相推诿",
        "湛河区南环路锦华小区",
    ),
    ("D", "help", "路边燃气管道疑似泄漏，有明显气味，周围有居民楼，请尽快派人查看", "新华区建设路西段"),
    ("B", "suggestion", "建议在公园路口增设行人过街信号灯，学生上下学过马路很危险", "新华区公园路"),
    ("C", "suggestion", "建议规划建设城东片区菜市场，周边几个小区居民买菜要走很远", "卫东区城东片区"),
    ("B", "complaint", "工地夜间施工噪声扰民，晚上十一点以后还在打桩，未见夜间施工许可公示", "新华区曙光街"),
    ("A", "consultation", "咨询新生儿医保办理需要哪些材料，能否在网上办理", ""),
    ("B", "complaint", "小区电梯经常故障停运，维修不及时，住户多次反映物业不予解决", "湛河区开源路华府小区"),
    ("B", "help", "家中自来水水压太低，三楼以上基本没水，已经持续一周", "卫东区建设路东段"),
    ("B", "complaint", "单位拖欠工资三个月，多次讨要未果，请求劳动监察部门介入", "高新区火炬路"),
    ("A", "consultation", "咨询住房公积金提取条件和办理流程，租房能否提取", ""),
    ("B", "complaint", "某超市销售过期食品，购买后发现已过保质期，商家拒绝退换", "新华区中兴路"),
    ("C", "complaint", "小区地下车库长期积水，墙体开裂，担心存在安全隐患", "湛河区九龙街"),
    ("B", "complaint", "出租车司机拒载绕路，态度恶劣，车牌号已记录", "平顶山火车站"),
    ("B", "help", "路灯不亮已经半个月，晚上出行很不方便，老人孩子容易摔倒", "卫东区五一路"),
    ("A", "consultation", "咨询不动产登记证办理需要多长时间，需要准备什么材料", ""),
    ("B", "complaint", "小区垃圾清运不及时，垃圾桶满溢，气味难闻，影响居民生活", "石龙区人民路"),
    ("B", "suggestion", "建议增加开往新城区的公交线路，并延长末班车时间", "新城区"),
    ("C", "complaint", "河道有工厂偷排污水，河水发黑发臭，鱼类大量死亡", "鲁山县沙河段"),
    ("B", "complaint", "培训机构收费后关门跑路，不予退费，涉及学员几十人", "新华区光明路"),
    ("B", "help", "下水道堵塞污水外溢，已经影响一楼住户正常生活", "湛河区南环路"),
    ("A", "consultation", "咨询孩子入学划片范围，户口和房产不在一起如何报名", ""),
    ("B", "complaint", "楼下商户占用消防通道堆放杂物，存在火灾隐患", "卫东区优越路"),
    ("B", "complaint", "物业费上涨没有公示和业主表决，服务质量反而下降", "新华区西市场"),
    ("D", "help", "老旧小区外墙瓷砖脱落砸坏车辆，随时可能伤人，请紧急处置", "卫东区东环路"),
    ("B", "complaint", "网购商品质量问题，商家不履行七天无理由退货承诺", ""),
    ("B", "help", "村里道路损毁严重，雨天泥泞无法通行，希望尽快修缮", "叶县廉村镇"),
    ("A", "consultation", "咨询退休人员养老金调整什么时候发放，标准是多少", ""),
    ("B", "complaint", "广场舞音响声音过大，早上六点就开始，严重扰民", "湛河区河滨公园"),
    ("C", "suggestion", "建议对老旧小区进行加装电梯改造，并给予一定补贴", "新华区矿工路"),
    ("B", "complaint", "共享单车乱停乱放，堵塞人行道和盲道", "新华区中兴路"),
    ("B", "help", "家里停电超过十个小时，冰箱食物坏了，供电所电话打不通", "宝丰县城关镇"),
    ("A", "consultation", "咨询驾驶证到期换证需要哪些材料，能否异地办理", ""),
    ("B", "complaint", "饭店油烟直排，没有安装油烟净化设备，楼上住户无法开窗", "卫东区建设路"),
    ("B", "complaint", "医院挂号难，专家号一号难求，有黄牛倒卖号源", "平顶山市第一人民医院"),
    ("C", "complaint", "开发商延期交房一年多，购房者多次维权没有结果", "高新区湛南路"),
    ("B", "suggestion", "建议在小区周边增设电动车充电桩，避免居民飞线充电", "湛河区轻工路"),
]
SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
CHANNEL_WEIGHTS = [
    ("phone", 62),
    ("wechat", 12),
    ("app", 6),
    ("mayor_mailbox", 5),
    ("website", 4),
    ("leaders_message_board", 3),
    ("provincial_platform", 3),
    ("higher_level_transfer", 2),
    ("letter", 1),
    ("weibo", 1),
    ("sms", 1),
]
NOT_ACCEPTED = [
    "litigation",
    "other_authority",
    "petition",
    "internal_administration",
    "too_vague",
    "emergency_110",
]
# Full-text queries an agent types (3-4 characters: what a trigram index can serve).
SEARCH_TERMS = [
    "占道经营",
    "噪音扰民",
    "养老保险",
    "供暖不热",
    "拖欠工资",
    "垃圾清运",
    "油烟",
    "公积金",
    "物业费",
]


@dataclass
class City:
    unit_ids: list[int] = field(default_factory=list)
    unit_codes: list[str] = field(default_factory=list)
    handler_of_unit: dict[int, str] = field(default_factory=dict)


# -- the database ----------------------------------------------------------------------------------


def _bench_url() -> URL:
    return make_url(os.environ.get("MINHU_BENCH_DATABASE_URL") or DEFAULT_URL)


async def _connect(url: URL, database: str | None = None) -> asyncpg.Connection:
    host = url.query.get("host") or url.host
    return await asyncpg.connect(
        host=host if isinstance(host, str) else None,
        port=url.port,
        user=url.username,
        password=url.password,
        database=database or url.database,
        command_timeout=1800,
    )


async def _recreate_database(url: URL) -> None:
    name = url.database
    assert name and name.replace("_", "").isalnum(), f"refusing odd database name {name!r}"
    admin = await _connect(url, "postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def _drop_database(url: URL) -> None:
    admin = await _connect(url, "postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        await admin.close()


async def _existing_city(url: URL, orders: int) -> City | None:
    """A database kept by an earlier run with the same number of orders, or None."""
    try:
        conn = await _connect(url)
    except (OSError, asyncpg.PostgresError):
        return None
    try:
        try:
            count = await conn.fetchval("SELECT count(*) FROM work_orders")
        except asyncpg.PostgresError:
            return None
        if count is None or int(count) < orders:
            return None
        return await _read_city(conn)
    finally:
        await conn.close()


async def _order_count(url: URL) -> int:
    conn = await _connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM work_orders"))
    finally:
        await conn.close()


async def _read_city(conn: asyncpg.Connection) -> City:
    city = City()
    for r in await conn.fetch("SELECT id, code FROM units WHERE code <> 'centre' ORDER BY id"):
        city.unit_ids.append(r["id"])
        city.unit_codes.append(r["code"])
    for r in await conn.fetch("SELECT username, unit_id FROM users WHERE role = 'unit_handler'"):
        city.handler_of_unit[r["unit_id"]] = r["username"]
    return city


async def _migrate(url: URL) -> None:
    from minhu.db.engine import create_engine
    from minhu.db.migrate import upgrade

    engine = create_engine(url.render_as_string(hide_password=False))
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _seed_directory(conn: asyncpg.Connection, now: datetime) -> City:
    from minhu.security import hash_password

    units: list[tuple[str, str, str, str | None]] = []  # code, name, group, parent code
    for code, name in DISTRICTS:
        units.append((code, name, "district", None))
    for district, streets in STREETS.items():
        district_name = dict(DISTRICTS)[district]
        for i, street in enumerate(streets):
            suffix = "" if street.endswith(("镇", "乡")) else "街道"
            units.append((f"{district}-s{i + 1:02d}", f"{district_name}{street}{suffix}", "street", district))
    for code, name in COUNTIES:
        units.append((code, name, "county", None))
    for code, name in DEPARTMENTS:
        units.append((code, name, "department", None))
    ids: dict[str, int] = {}
    for n, (code, name, group, parent) in enumerate(units):
        ids[code] = await conn.fetchval(
            "INSERT INTO units (code, name, assessment_group, parent_id, phone, active, created_at) "
            "VALUES ($1, $2, $3, $4, $5, true, $6) RETURNING id",
            code,
            name,
            group,
            ids.get(parent) if parent else None,
            f"0375-{2600000 + n * 137:07d}",
            now - timedelta(days=800),
        )
    password_hash = hash_password(PASSWORD)
    users = [
        ("admin", "admin", None, "系统管理员"),
        ("agent", "intake_agent", None, "受理员小李"),
        ("agent2", "intake_agent", None, "受理员小王"),
        ("supervisor", "supervisor", None, "值班长张敏"),
    ]
    for code, name, _group, _parent in units:
        if code != "centre":
            users.append((f"h_{code}".replace("-", "_"), "unit_handler", ids[code], f"{name}承办人"))
    await conn.executemany(
        "INSERT INTO users (username, password_hash, role, unit_id, display_name, phone, active, created_at) "
        "VALUES ($1, $2, $3, $4, $5, '', true, $6)",
        [(u, password_hash, role, unit, name, now - timedelta(days=800)) for u, role, unit, name in users],
    )
    return await _read_city(conn)


def _day_fraction(now: datetime) -> float:
    """How much of the local day has passed at ``now`` (0..1)."""
    local = now.astimezone(SH)
    return (local - datetime.combine(local.date(), datetime.min.time(), SH)) / timedelta(days=1)


def _day_counts(orders: int, now: datetime) -> list[tuple[date, int]]:
    """Orders per local day over the year before ``now``: weekdays busier, today only so far."""
    today = now.astimezone(SH).date()
    days = [today - timedelta(days=i) for i in range(365, -1, -1)]
    fraction_today = _day_fraction(now)
    rng = random.Random(2026)
    weights = []
    for d in days:
        w = (1.0 if d.weekday() < 5 else 0.6) * rng.uniform(0.8, 1.2)
        if d == today:
            w *= max(fraction_today, 0.01)
        weights.append(w)
    total = sum(weights)
    counts = [int(orders * w / total) for w in weights]
    counts[-2] += orders - sum(counts)  # yesterday takes the rounding
    return list(zip(days, counts, strict=True))


# One INSERT … SELECT per chunk of days. Columns in the model's order; JSON in the codec's shapes
# (instants as ISO-8601 in UTC, unit ids as strings inside the documents, as integers in
# cooperating_unit_ids).
_ISO_FUNCTION = """
CREATE FUNCTION pg_temp.iso(t timestamptz) RETURNS text LANGUAGE sql IMMUTABLE AS
$$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"+00:00"') $$
"""

_LOAD_SQL = """
WITH days AS (
    SELECT d::date AS day, c::int AS cnt FROM unnest($1::date[], $2::int[]) AS t(d, c)
),
raw AS (
    SELECT day,
           CASE WHEN day = $4::date THEN random() * $5::float8 * 86400
                WHEN random() < 0.88 THEN 28800 + random() * 43200
                ELSE random() * 86400 END AS tod_s
    FROM days, generate_series(1, days.cnt)
),
numbered AS (
    SELECT day,
           row_number() OVER (PARTITION BY day ORDER BY tod_s) AS seq,
           ((day::timestamp + make_interval(secs => tod_s)) AT TIME ZONE 'Asia/Shanghai') AS ts
    FROM raw
),
drawn AS (
    SELECT n.*,
           $3::timestamptz - n.ts AS age,
           floor(random() * $6::int)::int AS content_i,
           random() AS r_channel, random() AS r_accept, random() AS r_state, random() AS r_a,
           random() AS r_unit, random() AS r_coop, random() AS r_ext, random() AS r_sat,
           random() AS r_misc, floor(random() * 100000000)::int AS r_num
    FROM numbered n
    OFFSET 0
),
shaped AS (
    SELECT d.*,
           c.category AS content_category, c.kind, c.content, c.address,
           ($7::text[])[width_bucket(d.r_channel, $8::float8[])] AS channel,
           CASE WHEN d.r_accept < 0.03 THEN 'not_accepted' END AS na,
           $9::bigint[] AS units, $10::text[] AS handlers
    FROM drawn d
    JOIN unnest($11::text[], $12::text[], $13::text[], $14::text[]) WITH ORDINALITY
         AS c(category, kind, content, address, i) ON c.i = d.content_i + 1
),
staged AS (
    SELECT s.*,
           CASE
             WHEN s.na IS NOT NULL THEN -1
             WHEN s.content_category = 'A' AND s.r_a < 0.85 THEN -2
             WHEN s.age < interval '1 day' THEN
               CASE WHEN s.r_state < 0.30 THEN 0 WHEN s.r_state < 0.55 THEN 1 WHEN s.r_state < 0.75 THEN 2
                    WHEN s.r_state < 0.95 THEN 4 ELSE 3 END
             WHEN s.age < interval '7 days' THEN
               CASE WHEN s.r_state < 0.05 THEN 1 WHEN s.r_state < 0.15 THEN 2 WHEN s.r_state < 0.60 THEN 4
                    WHEN s.r_state < 0.80 THEN 5 WHEN s.r_state < 0.90 THEN 6 ELSE 9 END
             WHEN s.age < interval '30 days' THEN
               CASE WHEN s.r_state < 0.08 THEN 4 WHEN s.r_state < 0.13 THEN 5 WHEN s.r_state < 0.18 THEN 6
                    WHEN s.r_state < 0.19 THEN 7 WHEN s.r_state < 0.20 THEN 8 ELSE 9 END
             ELSE
               CASE WHEN s.r_state < 0.01 THEN 4 WHEN s.r_state < 0.015 THEN 7 WHEN s.r_state < 0.02 THEN 8
                    ELSE 9 END
           END AS stage,
           s.units[1 + floor(s.r_unit * array_length(s.units, 1))::int] AS lead,
           s.units[1 + floor(s.r_coop * 1000)::int % array_length(s.units, 1)] AS coop_raw,
           s.handlers[1 + floor(s.r_unit * array_length(s.units, 1))::int] AS handler
    FROM shaped s
),
timed AS (
    SELECT t.*,
           CASE WHEN t.stage = -1 THEN NULL ELSE t.content_category END AS category,
           CASE WHEN t.channel IN ('phone') THEN t.ts
                ELSE t.ts - make_interval(mins => 5 + (t.r_misc * 600)::int) END AS received,
           t.ts + interval '20 minutes' AS assigned,
           t.ts + interval '2 hours' AS checked,
           t.ts + interval '20 minutes' + CASE
               WHEN t.content_category = 'A' THEN interval '4 hours'
               WHEN t.content_category = 'D' THEN interval '24 hours'
               WHEN t.channel = 'mayor_mailbox' THEN interval '14 days'
               ELSE interval '7 days' END AS due0,
           (t.stage >= 1 AND t.stage NOT IN (3) AND t.content_category IN ('B', 'C')
             AND t.r_ext < 0.04) AS extended,
           (t.stage >= 1 AND t.r_coop < 0.08 AND t.coop_raw <> t.lead) AS has_coop
    FROM staged t
),
final AS (
    SELECT f.*,
           CASE WHEN f.extended THEN f.due0 + interval '5 days' ELSE f.due0 END AS due,
           f.ts + (f.due0 - f.ts) * (0.3 + 0.6 * f.r_misc) AS replied
    FROM timed f
)
INSERT INTO work_orders (
    number, version, channel, kind, category, state, content, address, citizen_name, citizen_phone,
    received_at, registered_at, registered_by, not_accepted_reason, not_accepted_note, answer_on_call,
    dispatch_due_at, lead_unit_id, cooperating_unit_ids, assigned_at, checked_in_at, due_at,
    due_estimated, handling_round, check_ins, extensions, returns, contacts, c_report, replies,
    replied_at, revisit_due_at, revisit_attempts, satisfaction, third_party_referred_at,
    third_party_verdict, closed_at, closure_reason
)
SELECT
    to_char(day, 'YYYYMMDD') || '-' || lpad(seq::text, 6, '0'),
    1,
    channel,
    kind,
    category,
    CASE stage WHEN -1 THEN 'not_accepted' WHEN -2 THEN 'answered_on_call' WHEN 0 THEN 'registered'
         WHEN 1 THEN 'assigned' WHEN 2 THEN 'checked_in' WHEN 3 THEN 'returned' WHEN 4 THEN 'in_progress'
         WHEN 5 THEN 'replied' WHEN 6 THEN 'revisiting' WHEN 7 THEN 'rehandling' WHEN 8 THEN 'third_party'
         ELSE 'closed' END,
    content,
    address,
    substr($15::text, 1 + r_num % length($15::text), 1)
        || CASE WHEN r_num % 2 = 0 THEN '先生' ELSE '女士' END,
    CASE WHEN channel IN ('phone', 'wechat', 'app', 'sms') OR r_num % 3 = 0
         THEN '1' || (ARRAY['38','39','37','58','59','86','87','88','35','36'])[1 + r_num % 10]
              || lpad((r_num % 100000000)::text, 8, '0') END,
    received,
    ts,
    CASE WHEN r_num % 3 = 0 THEN 'agent2' ELSE 'agent' END,
    CASE WHEN stage = -1 THEN ($16::text[])[1 + r_num % 6] END,
    CASE WHEN stage = -1 THEN '经核实不属于受理范围，已告知诉求人' ELSE '' END,
    CASE WHEN stage = -2
         THEN '已当场答复：' || left(content, 12) || '的办理方式和所需材料，诉求人表示清楚' ELSE '' END,
    NULL,
    CASE WHEN stage >= 1 THEN lead END,
    CASE WHEN stage >= 1 AND has_coop THEN jsonb_build_array(coop_raw) ELSE '[]'::jsonb END,
    CASE WHEN stage >= 1 THEN assigned END,
    CASE WHEN stage >= 2 THEN checked END,
    CASE WHEN stage >= 1 THEN due END,
    false,
    CASE WHEN stage = 7 THEN 0 ELSE 0 END,
    CASE WHEN stage >= 2 THEN jsonb_build_array(jsonb_build_object(
        'unit_id', lead::text, 'at', pg_temp.iso(checked), 'by', handler)) ELSE '[]'::jsonb END,
    CASE WHEN extended THEN jsonb_build_array(jsonb_build_object(
        'requested_at', pg_temp.iso(due0 - interval '2 days'), 'requested_by', handler,
        'unit_id', lead::text, 'previous_due_at', pg_temp.iso(due0),
        'new_due_at', pg_temp.iso(due0 + interval '5 days'),
        'reason', '涉及多个部门协调，需现场勘察，申请延期办理', 'status', 'approved',
        'decided_at', pg_temp.iso(due0 - interval '1 day'), 'decided_by', 'supervisor',
        'decision_note', '同意延期')) ELSE '[]'::jsonb END,
    CASE WHEN stage = 3 THEN jsonb_build_array(jsonb_build_object(
        'returned_at', pg_temp.iso(checked + interval '3 hours'), 'unit_id', lead::text,
        'returned_by', handler, 'reason', '该事项不属于本单位职责范围', 'basis', '依据本单位三定方案',
        'approved_by_leader', '分管副局长', 'reviewed_at', NULL, 'reviewed_by', NULL, 'accepted', NULL,
        'review_note', '')) ELSE '[]'::jsonb END,
    CASE WHEN stage >= 5 THEN jsonb_build_array(jsonb_build_object(
        'at', pg_temp.iso(replied - interval '1 hour'), 'unit_id', lead::text, 'by', handler,
        'purpose', 'result_feedback', 'method', 'phone', 'note', '已电话联系诉求人告知办理结果', 'round', 0))
        ELSE '[]'::jsonb END,
    NULL,
    CASE WHEN stage >= 5 THEN jsonb_build_array(jsonb_build_object(
        'at', pg_temp.iso(replied), 'unit_id', lead::text, 'by', handler,
        'content', '经核实，已安排工作人员现场处理，问题已解决，并已向诉求人反馈',
        'handler_name', '刘洋', 'handler_phone', '1390375' || lpad((r_num % 10000)::text, 4, '0'),
        'document_ref', NULL, 'late', false, 'round', 0)) ELSE '[]'::jsonb END,
    CASE WHEN stage >= 5 THEN replied END,
    CASE WHEN stage >= 5 THEN replied + interval '2 days' END,
    CASE WHEN stage = 6 THEN jsonb_build_array(jsonb_build_object(
            'started_at', pg_temp.iso(replied + interval '4 hours'), 'outcome', 'rang_out',
            'by', 'agent', 'satisfaction', NULL, 'counts_for_art17', true, 'note', '', 'round', 0))
         WHEN stage IN (7, 8, 9) THEN jsonb_build_array(jsonb_build_object(
            'started_at', pg_temp.iso(replied + interval '4 hours'), 'outcome', 'answered',
            'by', 'agent',
            'satisfaction', CASE WHEN stage IN (7, 8) THEN 'dissatisfied'
                                 WHEN r_sat < 0.80 THEN 'satisfied' ELSE 'basically_satisfied' END,
            'counts_for_art17', false, 'note', '', 'round', 0))
         ELSE '[]'::jsonb END,
    CASE WHEN stage IN (7, 8) THEN 'dissatisfied' WHEN stage = 9 AND r_sat < 0.80 THEN 'satisfied'
         WHEN stage = 9 THEN 'basically_satisfied' END,
    CASE WHEN stage = 8 THEN replied + interval '1 day' END,
    '',
    CASE WHEN stage = 9 THEN replied + interval '4 hours'
         WHEN stage IN (-1, -2) THEN ts END,
    CASE WHEN stage = 9 THEN 'satisfied' END
FROM final
ORDER BY ts
"""


async def _load_orders(
    url: URL, city: City, orders: int, now: datetime, counts: list[tuple[date, int]] | None = None
) -> None:
    """Load ``orders`` orders over the year before ``now``, or as many per day as ``counts`` says."""
    counts = counts if counts is not None else _day_counts(orders, now)
    today = now.astimezone(SH).date()
    fraction_today = _day_fraction(now)
    total = sum(w for _c, w in CHANNEL_WEIGHTS)
    acc = 0.0
    channels, lower_bounds = [], []  # channel i is drawn when lower_bounds[i] <= random() < the next
    for ch, w in CHANNEL_WEIGHTS:
        channels.append(ch)
        lower_bounds.append(acc)
        acc += w / total
    handlers = [city.handler_of_unit[u] for u in city.unit_ids]
    conn = await _connect(url)
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'")
        await conn.execute("SET work_mem = '256MB'")
        await conn.execute(_ISO_FUNCTION)
        # The rows are consistent by construction: skip the per-row foreign-key triggers while
        # loading (superuser only; the bench runs as the local superuser).
        await conn.execute("SET session_replication_role = replica")
        async with conn.transaction():
            # Build the secondary indexes once, after the rows are in (constraint indexes stay).
            index_defs = await conn.fetch(
                """SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS def
                     FROM pg_index i
                    WHERE i.indrelid IN ('work_orders'::regclass, 'work_order_units'::regclass)
                      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"""
            )
            for r in index_defs:
                await conn.execute(f"DROP INDEX {r['name']}")
            t0 = time.perf_counter()
            chunk = 61  # days per statement: keeps each window sort in memory
            for start in range(0, len(counts), chunk):
                part = counts[start : start + chunk]
                await conn.execute(
                    _LOAD_SQL,
                    [d for d, _ in part],
                    [c for _, c in part],
                    now,
                    today,
                    fraction_today,
                    len(CONTENTS),
                    channels,
                    lower_bounds,
                    city.unit_ids,
                    handlers,
                    [c[0] for c in CONTENTS],
                    [c[1] for c in CONTENTS],
                    [c[2] for c in CONTENTS],
                    [c[3] for c in CONTENTS],
                    SURNAMES,
                    NOT_ACCEPTED,
                )
            _say(f"  work_orders rows in {time.perf_counter() - t0:.0f}s")
            t0 = time.perf_counter()
            await conn.execute(
                """INSERT INTO work_order_units (order_id, unit_id, is_lead, registered_at)
                   SELECT id, lead_unit_id, true, registered_at FROM work_orders
                    WHERE lead_unit_id IS NOT NULL
                   UNION ALL
                   SELECT w.id, c.value::bigint, false, w.registered_at
                     FROM work_orders w, jsonb_array_elements_text(w.cooperating_unit_ids) AS c(value)
                    WHERE w.cooperating_unit_ids <> '[]'::jsonb"""
            )
            await conn.executemany(
                "INSERT INTO order_number_counters (day, last_value) VALUES ($1, $2)",
                [(d, c) for d, c in counts if c > 0],
            )
            _say(f"  unit index and number counters in {time.perf_counter() - t0:.0f}s")
            t0 = time.perf_counter()
            for r in index_defs:
                await conn.execute(r["def"])
            _say(f"  {len(index_defs)} secondary indexes built in {time.perf_counter() - t0:.0f}s")
        await conn.execute("SET session_replication_role = DEFAULT")
        t0 = time.perf_counter()
        for table in ("work_orders", "work_order_units", "order_number_counters", "units", "users"):
            await conn.execute(f"VACUUM (ANALYZE) {table}")
        _say(f"  VACUUM ANALYZE in {time.perf_counter() - t0:.0f}s")
    finally:
        await conn.close()


async def _prepare(
    url: URL, orders: int, now: datetime, counts: list[tuple[date, int]] | None = None
) -> City:
    if os.environ.get("MINHU_BENCH_KEEP_DB"):
        kept = await _existing_city(url, orders)
        if kept is not None:
            _say(f"reusing the kept database {url.database} ({orders:,} orders or more)")
            return kept
    t0 = time.perf_counter()
    _say(f"creating database {url.database} and migrating it")
    await _recreate_database(url)
    await _migrate(url)
    conn = await _connect(url)
    try:
        city = await _seed_directory(conn, now)
    finally:
        await conn.close()
    _say(f"loading {orders:,} work orders ({len(city.unit_ids)} units)")
    await _load_orders(url, city, orders, now, counts)
    _say(f"database ready in {time.perf_counter() - t0:.0f}s")
    return city


# -- the server ------------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``minhu serve`` in its own process group, its output in a log file."""

    def __init__(self, url: URL, workers: int, workdir: Path) -> None:
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"server-w{workers}.log"
        env = {
            **os.environ,
            "MINHU_ENVIRONMENT": "production",
            "MINHU_DATABASE_URL": url.render_as_string(hide_password=False),
            "MINHU_JWT_SECRET": JWT_SECRET,
            "MINHU_LOG_FORMAT": "json",
            "MINHU_LOG_LEVEL": "INFO",
        }
        minhu = Path(sys.executable).parent / "minhu"
        command = [str(minhu)] if minhu.exists() else [sys.executable, "-m", "minhu.cli"]
        command += ["serve", "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers)]
        self._log = self.log_path.open("wb")
        self.proc = subprocess.Popen(  # noqa: S603  (our own command line)
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the API server exited ({self.proc.returncode}); see {self.log_path}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as r:  # noqa: S310
                    if r.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the API server did not become ready in {timeout:.0f}s; see {self.log_path}")

    def token(self, username: str) -> str:
        data = urllib.parse.urlencode({"username": username, "password": PASSWORD}).encode()
        request = urllib.request.Request(self.base + "/api/v1/auth/token", data=data, method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310
            return str(json.loads(r.read())["access_token"])

    def get_json(self, path: str, token: str) -> Any:
        request = urllib.request.Request(self.base + path, headers={"Authorization": f"Bearer {token}"})  # noqa: S310
        with urllib.request.urlopen(request, timeout=30) as r:  # noqa: S310
            return json.loads(r.read())

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
            except ProcessLookupError:
                pass
        self._log.close()


# -- wrk ---------------------------------------------------------------------------------------------


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    _say("wrk (the HTTP load generator) is missing; installing the Debian package: apt-get install -y wrk")
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("wrk is missing and cannot be installed here: `apt-get install -y wrk` as root")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, env=env, check=False).returncode != 0:  # noqa: S603
        subprocess.run(["apt-get", "update", "-q"], env=env, check=False)  # noqa: S607
        subprocess.run(install, env=env, check=True)  # noqa: S603
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("apt-get install wrk did not provide a wrk command")
    return found


def _lua_string(value: str) -> str:
    level = "=" * 3
    while f"]{level}]" in value:
        level += "="
    return f"[{level}[{value}]{level}]"


_LUA_COMMON = """
local i = 0
init = function(args)
  i = math.random(0, #requests - 1)
end
request = function()
  i = i + 1
  local r = requests[(i % #requests) + 1]
  return wrk.format(r[1], r[2], r[3], r[4])
end
done = function(summary, latency, requests_)
  local p = {}
  for _, q in ipairs({50, 90, 99, 99.9}) do p[tostring(q)] = latency:percentile(q) end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "status_errors": %d, "connect": %d, "read": %d, ' ..
    '"write": %d, "timeout": %d, "p50_us": %f, "p90_us": %f, "p99_us": %f, "p999_us": %f, ' ..
    '"mean_us": %f, "max_us": %f}\\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    p["50"], p["90"], p["99"], p["99.9"], latency.mean, latency.max))
end
"""


def _lua_script(requests: list[tuple[str, str, dict[str, str], str | None]]) -> str:
    rows = []
    for method, path, headers, body in requests:
        hdrs = ", ".join(f"[ {_lua_string(k)} ] = {_lua_string(v)}" for k, v in headers.items())
        rows.append(
            f"  {{{_lua_string(method)}, {_lua_string(path)}, {{{hdrs}}}, "
            f"{'nil' if body is None else _lua_string(body)}}},"
        )
    return "requests = {\n" + "\n".join(rows) + "\n}\n" + _LUA_COMMON


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    max_ms: float

    @property
    def per_s(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


def _parse_wrk(output: str) -> WrkResult:
    """The JSON line printed by the script's ``done``. wrk runs its default request (GET of the
    base URL) when a script does not load, so a missing line means a broken script, not figures."""
    for line in output.splitlines():
        if line.startswith("WRKJSON "):
            d = json.loads(line[len("WRKJSON ") :])
            errors = int(d["status_errors"]) + int(d["connect"]) + int(d["read"]) + int(d["write"])
            errors += int(d["timeout"])
            return WrkResult(
                requests=int(d["requests"]),
                seconds=d["duration_us"] / 1e6,
                errors=errors,
                p50_ms=d["p50_us"] / 1000,
                p90_ms=d["p90_us"] / 1000,
                p99_ms=d["p99_us"] / 1000,
                max_ms=d["max_us"] / 1000,
            )
    raise RuntimeError(f"wrk printed no figures (did its Lua script load?):\n{output}")


def run_wrk(
    wrk: str,
    base: str,
    requests: list[tuple[str, str, dict[str, str], str | None]],
    *,
    seconds: int,
    connections: int,
    threads: int,
    workdir: Path,
    name: str,
) -> WrkResult:
    script = workdir / f"{name}.lua"
    script.write_text(_lua_script(requests), encoding="utf-8")
    command = [
        wrk,
        f"-t{threads}",
        f"-c{connections}",
        f"-d{seconds}s",
        "--timeout",
        "10s",
        "--latency",
        "-s",
        str(script),
        base,
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=False)  # noqa: S603
    if done.returncode != 0 or "Error" in done.stderr or ".lua:" in done.stderr:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    return _parse_wrk(done.stdout)


# -- the load ------------------------------------------------------------------------------------------


def _create_bodies(n: int, seed: int, now: datetime) -> list[str]:
    rng = random.Random(seed)
    channels = [c for c, _w in CHANNEL_WEIGHTS]
    weights = [w for _c, w in CHANNEL_WEIGHTS]
    bodies = []
    for _ in range(n):
        category, kind, content, address = rng.choice(CONTENTS)
        channel = rng.choices(channels, weights)[0]
        body: dict[str, Any] = {
            "channel": channel,
            "kind": kind,
            "category": category,
            "content": content,
            "citizen": {
                "name": rng.choice(SURNAMES) + rng.choice(["先生", "女士"]),
                "phone": f"1{rng.choice(['38', '39', '58', '86', '37'])}{rng.randrange(10**8):08d}",
            },
            "address": address,
        }
        if channel != "phone":
            body["received_at"] = (now - timedelta(minutes=rng.randrange(5, 600))).astimezone(SH).isoformat()
        bodies.append(json.dumps(body, ensure_ascii=False))
    return bodies


def _q(**params: Any) -> str:
    return "/api/v1/orders?" + urllib.parse.urlencode(params, doseq=True) if params else "/api/v1/orders"


def _list_scenarios(city: City, now: datetime, rng: random.Random) -> dict[str, list[str]]:
    local_now = now.astimezone(SH)
    windows = []
    for _ in range(20):
        day = (local_now - timedelta(days=rng.randrange(7, 330))).date()
        start = datetime.combine(day, datetime.min.time(), SH)
        windows.append((start, start + timedelta(days=30)))
    busy_units = city.unit_ids[:60]
    return {
        "first_page": [_q()],
        "state": [_q(state=s) for s in ("in_progress", "registered", "replied", "assigned", "rehandling")],
        "unit": [_q(unit_id=u) for u in rng.sample(busy_units, 20)],
        "overdue": [_q(overdue="true")],
        "category_range": [
            _q(category=c, registered_from=a.isoformat(), registered_to=b.isoformat())
            for (a, b), c in zip(windows, ["B", "C", "A", "D"] * 5, strict=True)
        ],
        "fulltext": [_q(q=t) for t in SEARCH_TERMS],
    }


def cpu_probe_ms() -> float:
    """How long this machine takes for a fixed piece of pure-Python work (best of 3), in ms.

    The figures of this benchmark are CPU-bound, and the speed a virtual machine gets from its host
    varies: on the 2-core machine of these figures the same loop took between 0.56 and 1.17 s
    within one hour. The probe, taken around each measurement, says which kind of hour it was.
    """
    best = float("inf")
    for _ in range(3):
        started = time.process_time()
        total = 0
        for i in range(1_000_000):
            total += i * i
        best = min(best, time.process_time() - started)
    return best * 1000


def _bench_config(
    wrk: str,
    url: URL,
    city: City,
    workers: int,
    workdir: Path,
    *,
    create_seconds: int,
    list_seconds: int,
    now: datetime,
) -> dict[str, float]:
    figures: dict[str, float] = {}
    server = Server(url, workers, workdir)
    try:
        server.wait_ready()
        supervisor = server.token("supervisor")
        agent = server.token("agent")
        handler_units = city.unit_ids[:20]
        handler_tokens = [server.token(city.handler_of_unit[u]) for u in handler_units]
        auth = {"Authorization": f"Bearer {supervisor}"}
        rng = random.Random(workers)
        scenarios = _list_scenarios(city, now, rng)
        # Sanity: every list query answers 200 with the page shape.
        for paths in scenarios.values():
            page = server.get_json(paths[0], supervisor)
            assert "items" in page, page
        connections = 8
        list_requests: dict[str, list[tuple[str, str, dict[str, str], str | None]]] = {
            name: [("GET", p, auth, None) for p in paths] for name, paths in scenarios.items()
        }
        list_requests["handler_own"] = [
            ("GET", _q(), {"Authorization": f"Bearer {t}"}, None) for t in handler_tokens
        ]
        warm = [r for reqs in list_requests.values() for r in reqs]
        run_wrk(
            wrk,
            server.base,
            warm,
            seconds=4,
            connections=connections,
            threads=2,
            workdir=workdir,
            name="warm",
        )
        worst = 0.0
        for name, reqs in list_requests.items():
            res = run_wrk(
                wrk,
                server.base,
                reqs,
                seconds=list_seconds,
                connections=connections,
                threads=2,
                workdir=workdir,
                name=f"list-{name}",
            )
            if res.errors:
                raise RuntimeError(f"list {name}: {res.errors} failed requests; see {server.log_path}")
            _say(
                f"  list {name:<15} {res.per_s:7.0f} req/s  p50 {res.p50_ms:6.1f} ms"
                f"  p90 {res.p90_ms:6.1f} ms"
                f"  p99 {res.p99_ms:6.1f} ms  (c={connections})"
            )
            figures[f"orders_list_{name}_p50_ms"] = res.p50_ms
            figures[f"orders_list_{name}_p99_ms"] = res.p99_ms
            worst = max(worst, res.p99_ms)
        figures["orders_list_p99_ms"] = worst
        figures["orders_list_p50_ms"] = max(v for k, v in figures.items() if k.endswith("_p50_ms"))

        create_connections = 32
        bodies = _create_bodies(400, seed=workers, now=now)
        create_headers = {"Authorization": f"Bearer {agent}", "Content-Type": "application/json"}
        create_requests: list[tuple[str, str, dict[str, str], str | None]] = [
            ("POST", "/api/v1/orders", create_headers, b) for b in bodies
        ]
        run_wrk(
            wrk,
            server.base,
            create_requests,
            seconds=3,
            connections=create_connections,
            threads=2,
            workdir=workdir,
            name="create-warm",
        )
        # Three runs, the median reported: this machine's speed drifts within minutes, and one
        # long run would report whichever phase it fell in.
        probe_before = cpu_probe_ms()
        runs: list[WrkResult] = []
        for n in range(3):
            res = run_wrk(
                wrk,
                server.base,
                create_requests,
                seconds=max(create_seconds // 3, 5),
                connections=create_connections,
                threads=2,
                workdir=workdir,
                name=f"create-{n}",
            )
            if res.errors:
                raise RuntimeError(f"create: {res.errors} failed requests; see {server.log_path}")
            _say(
                f"  create run {n + 1}         {res.per_s:7.0f} req/s  p50 {res.p50_ms:6.1f} ms"
                f"  p90 {res.p90_ms:6.1f} ms"
                f"  p99 {res.p99_ms:6.1f} ms  (c={create_connections})"
            )
            runs.append(res)
        res = sorted(runs, key=lambda r: r.per_s)[1]
        figures["api_cpu_probe_ms"] = (probe_before + cpu_probe_ms()) / 2
        rates = ", ".join(f"{r.per_s:.0f}" for r in runs)
        _say(
            f"  create median        {res.per_s:7.0f} req/s (runs {rates});"
            f" cpu probe {figures['api_cpu_probe_ms']:.0f} ms (a fixed loop; lower is a faster machine)"
        )
        figures["orders_create_per_s"] = res.per_s
        figures["orders_create_p50_ms"] = res.p50_ms
        figures["orders_create_p99_ms"] = res.p99_ms
    finally:
        server.stop()
    return figures


def run() -> dict[str, float]:
    started = time.perf_counter()
    wrk = ensure_wrk()
    url = _bench_url()
    orders = _env_int("MINHU_BENCH_ORDERS", 1_000_000)
    workers_list = [int(w) for w in os.environ.get("MINHU_BENCH_WORKERS", "1,2").split(",") if w.strip()]
    create_seconds = _env_int("MINHU_BENCH_SECONDS", 30)
    list_seconds = _env_int("MINHU_BENCH_LIST_SECONDS", 8)
    keep = bool(os.environ.get("MINHU_BENCH_KEEP_DB"))
    now = datetime.now(SH)
    results: dict[int, dict[str, float]] = {}
    try:
        city = asyncio.run(_prepare(url, orders, now))
        # A kept database also holds the orders earlier runs created: report what was there.
        in_table = asyncio.run(_order_count(url))
        with tempfile.TemporaryDirectory(prefix="minhu-api-bench-") as tmp:
            for workers in workers_list:
                _say(f"server with {workers} worker process(es)")
                results[workers] = _bench_config(
                    wrk,
                    url,
                    city,
                    workers,
                    Path(tmp),
                    create_seconds=create_seconds,
                    list_seconds=list_seconds,
                    now=now,
                )
    finally:
        if keep:
            _say(f"keeping database {url.database} (MINHU_BENCH_KEEP_DB)")
        else:
            asyncio.run(_drop_database(url))
            _say(f"dropped database {url.database}")

    def score(w: int) -> tuple[bool, bool, float]:
        f = results[w]
        return (
            f["orders_list_p99_ms"] < LIST_P99_TARGET_MS,
            f["orders_create_per_s"] >= CREATE_TARGET_PER_S,
            f["orders_create_per_s"] / CREATE_TARGET_PER_S - f["orders_list_p99_ms"] / LIST_P99_TARGET_MS,
        )

    best = max(results, key=score)
    figures = dict(results[best])
    figures["api_workers"] = float(best)
    figures["api_orders_in_table"] = float(in_table)
    for w, f in results.items():
        figures[f"orders_create_per_s_w{w}"] = f["orders_create_per_s"]
        figures[f"orders_list_p99_ms_w{w}"] = f["orders_list_p99_ms"]
    _say(
        f"best: {best} worker(s): {figures['orders_create_per_s']:.0f} creations/s"
        f" (target ≥ {CREATE_TARGET_PER_S:.0f}),"
        f" list p99 {figures['orders_list_p99_ms']:.1f} ms (target < {LIST_P99_TARGET_MS:.0f});"
        f" whole bench {time.perf_counter() - started:.0f}s"
    )
    return figures


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

"""The labelled retrieval set: the hand-written knowledge base (data/articles.md), the hand-written
citizen queries (data/queries.tsv), and deterministic distractors of three kinds:

江川市, its districts, units, phone numbers and figures are fictional (written the way a city's 12345
knowledge base reads, not copied from one): do not quote them to a citizen.


- older versions of every article (other years, different figures), expired on the evaluation day;
- district notices on the same topics (停水通知, 换热站检修, 占道整治通告, 学区公示 …) generated
  from templates with streets, communities, dates and phone numbers drawn from a seeded RNG;
- near-duplicates of the base articles for the counties (same text, other figures and place names,
  "本县"), valid on the evaluation day.

Used by the tests and by bench/kb_bench.py (which imports this file by path).
"""

from __future__ import annotations

import random
import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from knowledge_base.articles import Article
from knowledge_base.formats import read_markdown

DATA = Path(__file__).resolve().parent / "data"
EVAL_DAY = date(2025, 6, 16)
SH = ZoneInfo("Asia/Shanghai")
IMPORTED_AT = datetime(2025, 5, 20, 9, 0, tzinfo=SH)

DISTRICTS = ["东城区", "西湖区", "南岗区", "北塘区", "高新区"]
COUNTIES = ["青山县", "白河县", "临水县"]
STREETS = ["建设路街道", "光明路街道", "新华街道", "湖滨街道", "长青街道", "胜利街道", "滨河街道", "朝阳街道"]
COMMUNITIES = [
    "幸福里",
    "锦绣花园",
    "阳光小区",
    "碧水湾",
    "和平里",
    "翠苑",
    "金桂园",
    "东方明珠苑",
    "御景华庭",
    "书香苑",
    "电力小区",
    "铁路家属院",
    "纺织厂家属院",
    "龙湖花园",
    "盛世华城",
    "春晖小区",
    "兴隆佳苑",
    "绿地城",
]
ROADS = [
    "人民路",
    "建设路",
    "解放路",
    "中兴路",
    "光明路",
    "新华路",
    "湖滨路",
    "开源路",
    "平安大道",
    "滨河路",
    "长江路",
    "黄河路",
    "体育路",
    "矿工路",
    "南环路",
    "北环路",
    "文化路",
    "朝阳路",
]
SCHOOLS = [
    "实验小学",
    "第一小学",
    "第二小学",
    "育才小学",
    "光明小学",
    "第三初级中学",
    "第五初级中学",
    "外国语学校",
]
HOSPITALS = ["社区卫生服务中心", "中心卫生院", "第二人民医院", "妇幼保健院"]
REASONS = ["管网改造", "阀门更换", "管道抢修", "道路施工配合", "设备检修"]


def load_base() -> list[Article]:
    return read_markdown((DATA / "articles.md").read_text(encoding="utf-8"), default_time=IMPORTED_AT)


def load_queries() -> list[tuple[str, tuple[str, ...]]]:
    out = []
    for line in (DATA / "queries.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        ids, query = line.split("\t", 1)
        out.append((query.strip(), tuple(i.strip() for i in ids.split(","))))
    return out


# --- distractor templates: (unit, tags, title, body) ---------------------------------------------------

TEMPLATES: list[tuple[str, tuple[str, ...], str, str]] = [
    (
        "sw",
        ("供水", "停水"),
        "{district}{road}一带{md}计划停水通知",
        "因{reason}需要，江川水务集团定于{md}{h1}时至{h2}时对{road}（{road2}至{road3}段）供水管道施工，届时{community}、"
        "{community2}等小区停水，恢复供水时间视施工进度而定。请用户提前储水，停水期间关闭水龙头。咨询电话{phone}。",
    ),
    (
        "sw",
        ("供水", "二次供水"),
        "{district}{community}二次供水泵房清洗消毒公告",
        "{community}二次供水水箱计划于{md}进行清洗消毒，{h1}时至{h2}时暂停供水，清洗后水质检测合格方恢复供水。"
        "由物业服务企业组织实施，费用由物业列支。如有疑问请联系物业服务中心{phone}。",
    ),
    (
        "sw",
        ("供水", "管网改造"),
        "{district}{year}年老旧小区供水管网改造项目公示",
        "{year}年{district}计划对{community}、{community2}、{community3}等小区的供水管网实施改造，更换铸铁管道{n}米，"
        "改造后户表出户、抄表到户。施工期间将分段临时停水，具体时间另行通知。",
    ),
    (
        "csglj",
        ("供暖", "换热站"),
        "{district}{community}换热站检修通知",
        "{company}定于{md}对{community}换热站进行检修，检修期间该站所带{n}户供热温度可能暂时下降，"
        "预计{h2}时前恢复正常。给您带来不便敬请谅解，报修电话{phone}。",
    ),
    (
        "csglj",
        ("供暖", "管网改造"),
        "{district}{year}年供热老旧管网改造计划",
        "{year}年{district}实施供热老旧管网改造，涉及{road}、{road2}沿线{community}等{n}个小区，改造工期为5月至10月，"
        "施工期间请注意安全。供暖季前完成注水试压，确保按时供暖。",
    ),
    (
        "csglj",
        ("供暖", "缴费网点"),
        "{company}{district}供暖缴费网点及时间",
        "{company}在{district}设有{road}营业厅、{road2}营业厅两个供暖缴费网点，{year}年供暖季缴费时间为10月1日至11月10日，"
        "营业时间8:30至17:30，服务电话{phone}。",
    ),
    (
        "rq",
        ("燃气", "安检"),
        "{district}{community}燃气入户安检通知",
        "江川燃气定于{md}至{md2}对{community}居民用户开展入户安全检查，安检人员佩戴工作证，不收取任何费用。"
        "请居民家中留人配合，如白天无人可拨打{phone}预约。",
    ),
    (
        "rq",
        ("燃气", "停气"),
        "{district}{road}燃气管道施工停气通知",
        "因{reason}，江川燃气定于{md}{h1}时至{h2}时对{road}中压管道进行施工，{community}、{community2}等小区暂停供气。"
        "恢复供气时请关闭灶具开关，燃气公司将逐户协助点火。抢修电话96777。",
    ),
    (
        "zjj",
        ("物业", "物业变更"),
        "{district}{community}物业服务企业变更公示",
        "经{community}业主大会表决，选聘{company2}为本小区物业服务企业，服务期限{year}年{m}月至{year2}年{m}月，"
        "物业服务费每月每平方米{price}元。公示期7日，如有异议请向{street}物业办反映，电话{phone}。",
    ),
    (
        "zjj",
        ("物业", "物业费"),
        "{community}{year}年物业费收支情况公示",
        "{community}物业服务中心公示{year}年度物业服务费收支：收取物业费{n}万元，支出保洁、绿化、秩序维护等费用，"
        "公共收益{n2}万元。业主对收支情况有疑问的，可向业主委员会或{street}物业办查询。",
    ),
    (
        "zjj",
        ("噪音", "夜间施工"),
        "{district}{project}夜间施工公示",
        "{project}因混凝土连续浇筑工艺要求，经住建部门批准于{md}22时至次日{h1}时夜间施工，施工单位已采取降噪措施。"
        "给周边居民带来不便敬请谅解，监督电话{phone}。",
    ),
    (
        "csglj",
        ("占道经营", "专项整治"),
        "{district}{road}占道经营专项整治通告",
        "为改善市容环境，{district}城市管理局自{md}起对{road}、{road2}沿线占道经营、店外经营开展专项整治，"
        "请经营者于{md2}前自行清理，逾期未清理的依法处理。举报电话{phone}。",
    ),
    (
        "csglj",
        ("占道经营", "便民疏导点"),
        "{district}{street}便民摊点疏导点公示",
        "{street}在{road}与{road2}交叉口设置便民摊点疏导点，设摊位{n}个，经营时间为每日{h1}时至{h2}时，"
        "经营品类为蔬菜水果、早点小吃。申请摊位请到{street}办事处登记。",
    ),
    (
        "csglj",
        ("违建", "拆除"),
        "{district}{community}违法建设限期拆除公告",
        "经调查，{community}{b}号楼顶擅自搭建的彩钢房（面积约{n}平方米）未取得建设工程规划许可，属违法建设。"
        "{district}城市管理局责令当事人于{md}前自行拆除，逾期将依法强制拆除。",
    ),
    (
        "jjzd",
        ("交通", "交通管制"),
        "{road}施工期间交通管制通告",
        "因{road}（{road2}至{road3}段）{reason}，自{md}起至{md2}止，该路段实行半幅通行，大型货车禁止通行，"
        "请过往车辆绕行{road3}。咨询电话122。",
    ),
    (
        "jjzd",
        ("交通", "电子警察"),
        "{district}新增交通技术监控设备公告",
        "自{md}起，{district}在{road}与{road2}交叉口、{road3}等{n}处新增交通技术监控设备，抓拍闯红灯、违法停车、"
        "不礼让行人等交通违法行为，请广大驾驶人自觉守法。",
    ),
    (
        "jjzd",
        ("停车", "停车场"),
        "{district}{road}公共停车场收费标准",
        "{road}公共停车场共有泊位{n}个，收费标准为首小时{price}元，之后每小时1元，夜间（20时至次日8时）每次3元，"
        "新能源车首两小时免费。管理单位联系电话{phone}。",
    ),
    (
        "jyj",
        ("教育", "划片"),
        "{district}{school}{year}年招生施教区范围",
        "{district}{school}{year}年招生施教区范围：{road}以东、{road2}以南，包括{community}、{community2}、{community3}。"
        "报名材料为户口簿、房产证明及出生医学证明，报名咨询电话{phone}。",
    ),
    (
        "jyj",
        ("教育", "招生"),
        "{district}{school}{year}年秋季招生简章",
        "{school}{year}年秋季计划招收{n2}个班，报名时间{md}至{md2}，录取按户籍和房产一致优先，"
        "随迁子女按积分排序，咨询电话{phone}。",
    ),
    (
        "wjw",
        ("疫苗", "接种门诊"),
        "{district}{street}{hospital}预防接种门诊时间调整",
        "自{md}起，{street}{hospital}预防接种门诊开诊时间调整为每周二、四、六上午8:00至11:30，"
        "儿童接种请携带预防接种证并提前预约。咨询电话{phone}。",
    ),
    (
        "wjw",
        ("疫苗", "流感疫苗"),
        "{district}{year}年老年人流感疫苗免费接种点",
        "{year}年{district}60周岁以上老年人免费流感疫苗接种点为{street}{hospital}等{n2}个门诊，接种时间10月至次年3月，"
        "请携带身份证前往，咨询电话{phone}。",
    ),
    (
        "hrss",
        ("就业", "招聘会"),
        "{district}{md}专场招聘会",
        "{md}上午9时在{district}人力资源市场举办专场招聘会，{n2}家企业提供普工、电工、焊工、营业员、保育员等岗位{n}个。"
        "求职者请携带身份证和简历，免费入场。",
    ),
    (
        "hrss",
        ("社保", "经办网点"),
        "{district}{street}社保服务站地址及办理事项",
        "{street}社保服务站位于{road}{b}号，办理城乡居民养老保险参保登记、社保卡申领、待遇资格认证等业务，"
        "工作时间周一至周五8:30至12:00、14:30至17:30，电话{phone}。",
    ),
    (
        "hrss",
        ("就业", "欠薪"),
        "{district}{year}年根治欠薪冬季专项行动通知",
        "{district}人社局自{md}起开展根治欠薪冬季专项行动，重点检查工程建设领域农民工工资支付情况，"
        "设立举报电话{phone}，对查实的欠薪案件限期清偿。",
    ),
    (
        "mzj",
        ("养老", "助餐"),
        "{district}{community}老年助餐点开业公告",
        "{community}老年助餐点位于{road}{b}号，每日供应午餐和晚餐，60周岁以上老人凭身份证就餐享受补贴，"
        "可预约送餐上门。订餐电话{phone}。",
    ),
    (
        "mzj",
        ("养老", "日间照料"),
        "{district}{street}日间照料中心服务项目公示",
        "{street}日间照料中心提供休息、助餐、文化娱乐、康复理疗等服务，开放时间每日8:00至17:30，"
        "服务对象为辖区60周岁以上老年人。联系电话{phone}。",
    ),
    (
        "cl",
        ("残疾人", "残疾人补贴"),
        "{district}{year}年{m}月残疾人两项补贴发放公示",
        "{district}{year}年{m}月发放困难残疾人生活补贴{n}人、重度残疾人护理补贴{n2}人，资金已通过社会保障卡发放，"
        "如有疑问请咨询{district}残联{phone}。",
    ),
    (
        "bdc",
        ("不动产登记", "便民服务点"),
        "{district}不动产登记便民服务点",
        "{district}在{road}{b}号设立不动产登记便民服务点，可办理抵押登记、查询、补证等业务，"
        "工作时间周一至周五，电话{phone}。",
    ),
    (
        "gaj",
        ("户籍", "派出所"),
        "{district}{street}派出所户籍窗口办公时间",
        "{street}派出所户籍窗口位于{road}{b}号，办公时间为周一至周五8:30至12:00、14:30至17:30，周六上午受理身份证业务。"
        "咨询电话{phone}。",
    ),
    (
        "csglj",
        ("市政", "路灯"),
        "{district}{road}路灯改造工程公示",
        "{year}年{district}对{road}、{road2}路灯进行节能改造，更换LED灯具{n}盏，施工期间部分路段照明暂停，"
        "预计{md}完工。监督电话{phone}。",
    ),
    (
        "csglj",
        ("市政", "排水"),
        "{district}{road}雨污分流改造工程公告",
        "{district}{road}雨污分流改造工程自{md}开工，新建污水管道{n}米，改造检查井{n2}座，工期{n2}天。"
        "施工期间请注意绕行，排水抢修电话{phone}。",
    ),
    (
        "csglj",
        ("市政", "垃圾"),
        "{district}{street}生活垃圾分类收运时间",
        "{street}辖区生活垃圾每日{h1}时、{h2}时两次集中收运，{community}、{community2}等小区实行定时定点投放，"
        "大件垃圾请预约上门收运，电话{phone}。",
    ),
    (
        "ylj",
        ("市政", "园林"),
        "{district}{road}行道树修剪作业通知",
        "为消除安全隐患，{district}园林绿化中心定于{md}至{md2}对{road}行道树进行修剪，作业期间临时占用非机动车道，"
        "请过往行人车辆注意避让。",
    ),
    (
        "ybj",
        ("医保", "定点机构"),
        "{district}新增医保定点医药机构名单",
        "经评估，{district}{street}{hospital}、{community}大药房等{n2}家医药机构自{md}起纳入医保定点管理，"
        "参保人可持医保电子凭证结算。咨询电话12393。",
    ),
    (
        "gjj",
        ("公积金", "服务网点"),
        "{district}住房公积金服务网点地址",
        "住房公积金{district}服务网点位于{road}{b}号，办理缴存、提取、贷款受理等业务，"
        "工作时间周一至周五8:30至17:30，服务热线12329。",
    ),
]

COMPANIES = ["江川热力", "华源热电", "城北供热站"]
COMPANIES2 = ["江川嘉园物业", "绿城物业", "万家物业", "安居物业服务有限公司"]
PROJECTS = [
    "江川中心医院门诊楼项目",
    "地铁2号线站点工程",
    "万达广场二期",
    "滨河公园改造工程",
    "市体育中心项目",
]


def _slots(rng: random.Random, district: str) -> dict[str, object]:
    year = rng.choice([2024, 2025])
    day = date(year, 1, 1) + timedelta(days=rng.randrange(0, 365))
    day2 = day + timedelta(days=rng.randrange(2, 40))
    roads = rng.sample(ROADS, 3)
    communities = rng.sample(COMMUNITIES, 3)
    return {
        "district": district,
        "street": rng.choice(STREETS),
        "community": communities[0],
        "community2": communities[1],
        "community3": communities[2],
        "road": roads[0],
        "road2": roads[1],
        "road3": roads[2],
        "md": f"{day.year}年{day.month}月{day.day}日",
        "md2": f"{day2.year}年{day2.month}月{day2.day}日",
        "h1": rng.choice([6, 7, 8, 9]),
        "h2": rng.choice([16, 17, 18, 20]),
        "year": year,
        "year2": year + 3,
        "m": rng.randrange(1, 13),
        "n": rng.randrange(30, 2000),
        "n2": rng.randrange(2, 40),
        "b": rng.randrange(1, 300),
        "price": rng.choice(["0.8", "1.0", "1.2", "1.5", "2"]),
        "phone": f"66{rng.randrange(100000, 999999)}",
        "reason": rng.choice(REASONS),
        "company": rng.choice(COMPANIES),
        "company2": rng.choice(COMPANIES2),
        "project": rng.choice(PROJECTS),
        "school": rng.choice(SCHOOLS),
        "hospital": rng.choice(HOSPITALS),
    }


def notices(count: int, seed: int = 12345, start: int = 0) -> list[Article]:
    """District notices on the base topics, valid for a year from their date (some already expired)."""
    rng = random.Random(seed)
    out = []
    for i in range(start, start + count):
        unit, tags, title, body = TEMPLATES[i % len(TEMPLATES)]
        slots = _slots(rng, rng.choice(DISTRICTS + COUNTIES))
        begin = date(int(slots["year"]), 1, 1) + timedelta(days=rng.randrange(0, 300))  # type: ignore[call-overload]
        out.append(
            Article(
                id=f"N-{i:06d}",
                title=title.format(**slots),
                body=body.format(**slots),
                unit_id=f"{unit}-{slots['district']}",
                tags=tags,
                valid_from=begin,
                valid_to=begin + timedelta(days=rng.choice([30, 90, 365, 730])),
                updated_at=IMPORTED_AT,
                reviewed_at=IMPORTED_AT,
            )
        )
    return out


_NUMBER = re.compile(r"\d+(?:\.\d+)?")


def _perturb(text: str, rng: random.Random) -> str:
    def change(match: re.Match[str]) -> str:
        value = match.group(0)
        if len(value) >= 5 or rng.random() < 0.5:  # keep phone numbers and years mostly as they are
            return value
        if "." in value:
            return f"{float(value) * rng.uniform(0.7, 1.3):.2f}"
        return str(max(1, round(int(value) * rng.uniform(0.6, 1.4))))

    return _NUMBER.sub(change, text)


def old_versions(base: list[Article], per_article: int = 3, seed: int = 7) -> list[Article]:
    """Earlier editions of each base article: other years, other figures, expired before EVAL_DAY."""
    rng = random.Random(seed)
    out = []
    for article in base:
        for k in range(per_article):
            year = 2019 + (k + rng.randrange(0, 2)) % 5
            out.append(
                replace(
                    article,
                    id=f"{article.id}-Y{year}-{k}",
                    title=f"{article.title}（{year}年版）",
                    body=_perturb(article.body, rng)
                    .replace("2025", str(year))
                    .replace("2024", str(year - 1)),
                    valid_from=date(year, 1, 1),
                    valid_to=date(year, 12, 31),
                    reviewed_at=datetime(year, 2, 1, 9, 0, tzinfo=SH),
                )
            )
    return out


def county_copies(base: list[Article], per_article: int = 1, seed: int = 11) -> list[Article]:
    """Near-duplicates for the counties: the same answer with the county's name and other figures."""
    rng = random.Random(seed)
    out = []
    for article in base:
        for k in range(per_article):
            county = COUNTIES[(k + rng.randrange(0, 3)) % len(COUNTIES)]
            body = _perturb(article.body, rng).replace("本市", "本县").replace("江川", county)
            body = body.replace("市城管局", f"{county}城管局").replace("市住建局", f"{county}住建局")
            out.append(
                replace(
                    article,
                    id=f"{article.id}-{county}-{k}",
                    title=f"{county}{article.title}",
                    body=f"{county}：{body}",
                    unit_id=f"{article.unit_id}-{county}",
                )
            )
    return out


def labelled_kb(notice_count: int = 3200) -> list[Article]:
    """The knowledge base of the retrieval test: base articles plus ≥ 3,000 distractors."""
    base = load_base()
    return base + old_versions(base) + county_copies(base) + notices(notice_count)


def recall_at(k: int, ranked: list[list[str]], labels: list[tuple[str, ...]]) -> float:
    """Mean over queries of |relevant ∩ top k| / |relevant|."""
    total = 0.0
    for got, relevant in zip(ranked, labels, strict=True):
        total += len(set(got[:k]) & set(relevant)) / len(relevant)
    return total / len(labels)

"""``/api/v1/drafts``: a draft work order from a call transcript, with the unit chosen from the
database's directory and order history; the agent's decision per field kept; per-field accuracy
for supervisors counted exactly from those decisions."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.draft_models import DraftDecisionRow
from minhu.db.models import Unit

from .city import City

pytestmark = pytest.mark.db

# d001 of tests/asr/data/draft_transcripts.jsonl, as the live panel shows it (citizen and agent).
STALL = (
    "您好，12345，请问有什么可以帮您？"
    "喂，你好，嗯，我要投诉一下啊，就是我们新华区光明路锦华小区门口，那个烧烤摊天天占道经营，"
    "把路都堵完了，城管也不管。好的，请问您怎么称呼？我姓刘。刘先生，您的联系电话是？"
    "幺三九零三七五八八六六。你们明天能来看看吗？"
)
HEATING = (
    "哎你好，我想反映一下我们家暖气不热的事，那个湛河区南环路湛河花园五号楼，从十一月十五号供暖到现在，"
    "暖气片一直是冰凉的，屋里就十二三度，家里有老人孩子冻得不行，麻烦你们帮忙联系一下热力公司。"
)
YEXIAN_STALL = "我家住昆阳街道建设路，小区门口天天有人占道经营摆摊卖菜，早上根本走不了车，希望管一管。"
PROPERTY = "我们小区的物业太不像话了，电梯坏了半个月都没人修，物业费倒是年年涨，找物业也不理。"
PROPERTY_HISTORY = [
    "小区物业不作为，电梯坏了一个月没人修，业主多次反映无果",
    "物业公司乱收停车费，业主有意见，要求物业公示收费标准",
    "小区物业不打扫卫生，垃圾堆满楼道，物业费照收",
]


async def _add_unit(
    session: AsyncSession, city: City, code: str, name: str, group: str, parent: str | None = None
) -> int:
    unit = Unit(
        code=code,
        name=name,
        assessment_group=group,
        parent_id=city.units[parent] if parent else None,
        phone="",
        active=True,
        created_at=city.clock.now(),
    )
    session.add(unit)
    await session.flush()
    await session.commit()
    city.units[code] = unit.id
    return unit.id


@pytest.fixture
async def drafts_city(city: City, db_session: AsyncSession) -> City:
    """The test city plus units whose codes the shipped default directory does not know."""
    await _add_unit(db_session, city, "cg", "市城市管理局", "department")
    await _add_unit(db_session, city, "rl", "市热力公司", "department")
    await _add_unit(db_session, city, "wy", "市物业服务中心", "department")
    await _add_unit(db_session, city, "yexian", "叶县", "county")
    await _add_unit(db_session, city, "yexian-kunyang", "叶县昆阳街道", "street", parent="yexian")
    return city


async def _draft(city: City, text: str, who: str = "agent", **extra: Any) -> dict[str, Any]:
    r = await city.post(who, "/drafts", {"text": text, **extra})
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _error(r: Any, status: int, slug: str) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == slug
    assert any("\u4e00" <= ch <= "\u9fff" for ch in body["message"]), body["message"]


async def test_given_a_stall_transcript_when_drafted_then_fields_have_sources_and_the_db_district(
    drafts_city: City,
) -> None:
    city = drafts_city
    draft = await _draft(city, STALL, linkedid="1700000000.42")
    fields = draft["fields"]
    assert draft["linkedid"] == "1700000000.42"
    assert fields["unit"]["value"] == str(city.units["xinhua"])
    assert fields["unit"]["label"] == "新华区"
    assert fields["unit"]["code"] == "xinhua"
    assert fields["kind"]["value"] == "complaint" and fields["kind"]["label"] == "投诉"
    assert fields["phones"]["value"] == ["13903758866"]
    assert fields["address"]["value"] == "新华区光明路锦华小区门口"
    assert fields["name"]["value"].startswith("刘")  # plain text has no turns: 我姓刘 → 刘
    assert fields["dates"]["value"] == ["2026-10-01"]  # 明天 of Wed 2026-09-30
    for name in ("kind", "unit", "address", "phones", "name"):
        field = fields[name]
        assert 0 < field["confidence"] <= 1
        assert field["sources"], name
        for s in field["sources"]:
            assert draft["text"][s["start"] : s["end"]] == s["text"]
    assert "新华区" in [s["text"] for s in fields["unit"]["sources"]]


async def test_given_units_known_by_name_or_db_streets_when_drafted_then_those_units_are_suggested(
    drafts_city: City,
) -> None:
    city = drafts_city
    heating = await _draft(city, HEATING)
    assert heating["fields"]["unit"]["value"] == str(city.units["rl"])
    assert heating["fields"]["unit"]["label"] == "市热力公司"
    # 昆阳街道 is a street of 叶县 only in the database (a street unit under the county).
    stall = await _draft(city, YEXIAN_STALL)
    assert stall["fields"]["unit"]["value"] == str(city.units["yexian"])
    assert stall["fields"]["unit"]["label"] == "叶县"


async def test_given_orders_assigned_to_a_unit_when_a_like_call_is_drafted_then_history_picks_it(
    drafts_city: City,
) -> None:
    city = drafts_city
    before = await _draft(city, PROPERTY)
    assert before["fields"]["unit"]["value"] != str(city.units["wy"])
    for content in PROPERTY_HISTORY:
        await city.assigned("wy", content=content)
    after = await _draft(city, PROPERTY)
    assert after["fields"]["unit"]["value"] == str(city.units["wy"])
    assert after["fields"]["unit"]["label"] == "市物业服务中心"
    assert any(r.startswith("历史") for r in after["unit_candidates"][0]["reasons"])


async def test_given_decisions_on_two_drafts_when_a_supervisor_asks_then_accuracy_equals_the_hand_count(
    drafts_city: City, db_session: AsyncSession
) -> None:
    city = drafts_city
    one = await _draft(city, STALL)
    two = await _draft(city, HEATING)
    order = await city.create(content="光明路锦华小区门口烧烤摊占道经营", kind="complaint")
    r = await city.post(
        "agent",
        f"/drafts/{one['id']}/decisions",
        {
            "order_number": order["number"],
            "fields": [
                {"field": "kind", "decision": "accepted"},
                {"field": "unit", "decision": "corrected", "value": str(city.units["cg"])},
                {"field": "phones", "value": ["139 0375 8866"]},  # the same number, as typed
                {"field": "address", "value": "新华区光明路锦华小区东门"},
            ],
        },
    )
    assert r.status_code == 200, r.text
    got = {d["field"]: d for d in r.json()["decisions"]}
    assert got["kind"]["decision"] == "accepted" and got["kind"]["final"] == "complaint"
    assert got["unit"]["decision"] == "corrected"
    assert got["unit"]["suggested"] == str(city.units["xinhua"])
    assert got["unit"]["final"] == str(city.units["cg"])
    assert got["phones"]["decision"] == "accepted"
    assert got["address"]["decision"] == "corrected"
    assert {d["order_number"] for d in got.values()} == {order["number"]}
    assert {d["decided_by"] for d in got.values()} == {"agent"}

    # draft two: kind first accepted, then corrected — the later decision counts
    await city.ok(
        "agent", f"/drafts/{two['id']}/decisions", {"fields": [{"field": "kind", "decision": "accepted"}]}
    )
    city.clock.advance(timedelta(minutes=5))
    await city.ok(
        "agent",
        f"/drafts/{two['id']}/decisions",
        {
            "fields": [
                {"field": "kind", "decision": "corrected", "value": "complaint"},
                {"field": "unit", "decision": "accepted"},
            ]
        },
    )
    stored = (
        await db_session.scalars(select(DraftDecisionRow).where(DraftDecisionRow.draft_id == two["id"]))
    ).all()
    assert sorted((d.field, d.accepted) for d in stored) == [("kind", False), ("unit", True)]

    # a decision two days later falls outside the range asked for
    city.clock.advance(timedelta(days=2))
    three = await _draft(city, HEATING)
    await city.ok(
        "agent", f"/drafts/{three['id']}/decisions", {"fields": [{"field": "kind", "value": "complaint"}]}
    )

    r = await city.get(
        "supervisor", "/drafts/accuracy", params={"date_from": "2026-09-30", "date_to": "2026-09-30"}
    )
    assert r.status_code == 200, r.text
    report = r.json()
    by_field = {f["field"]: f for f in report["fields"]}
    # kind: accepted on one, corrected on two → 1/2; unit: corrected on one, accepted on two → 1/2;
    # phones 1/1; address 0/1. Overall 3/6; mean of the four fields (1/2 + 1/2 + 1 + 0) / 4 = 1/2.
    assert report["drafts"] == 2
    assert {f: (v["accepted"], v["decided"]) for f, v in by_field.items()} == {
        "kind": (1, 2),
        "unit": (1, 2),
        "address": (0, 1),
        "phones": (1, 1),
    }
    assert by_field["kind"]["accuracy"] == "0.5000" and by_field["kind"]["accuracy_fraction"] == "1/2"
    assert by_field["phones"]["accuracy"] == "1.0000"
    assert by_field["address"]["accuracy"] == "0.0000"
    assert report["overall"]["accepted"] == 3 and report["overall"]["decided"] == 6
    assert report["overall"]["accuracy_fraction"] == "1/2"
    assert report["mean_of_fields_fraction"] == "1/2"

    r = await city.get(
        "supervisor", "/drafts/accuracy", params={"date_from": "2026-09-30", "date_to": "2026-10-02"}
    )
    whole = r.json()
    assert whole["drafts"] == 3
    kind = next(f for f in whole["fields"] if f["field"] == "kind")
    assert (kind["accepted"], kind["decided"], kind["accuracy"], kind["accuracy_fraction"]) == (
        1,
        3,
        "0.3333",
        "1/3",
    )

    r = await city.get("agent", f"/drafts/{one['id']}/decisions")
    assert r.status_code == 200
    assert {d["field"] for d in r.json()["decisions"]} == {"kind", "unit", "phones", "address"}


async def test_given_roles_without_the_right_when_they_draft_decide_or_read_accuracy_then_403(
    drafts_city: City,
) -> None:
    city = drafts_city
    _error(await city.post("h_xinhua", "/drafts", {"text": STALL}), 403, "role-not-permitted")
    draft = await _draft(city, STALL)
    body = {"fields": [{"field": "kind", "decision": "accepted"}]}
    _error(await city.post("h_xinhua", f"/drafts/{draft['id']}/decisions", body), 403, "role-not-permitted")
    params = {"date_from": "2026-09-30", "date_to": "2026-09-30"}
    _error(await city.get("agent", "/drafts/accuracy", params=params), 403, "role-not-permitted")
    _error(await city.get("h_housing", "/drafts/accuracy", params=params), 403, "role-not-permitted")
    # a supervisor may draft and decide too; the admin reads accuracy
    sup = await _draft(city, HEATING, who="supervisor")
    await city.ok("supervisor", f"/drafts/{draft['id']}/decisions", body)
    _error(await city.post("agent", f"/drafts/{sup['id']}/decisions", body), 403, "not-your-draft")
    r = await city.get("admin", "/drafts/accuracy", params=params)
    assert r.status_code == 200 and r.json()["overall"]["decided"] == 1
    assert (await city.client.post("/api/v1/drafts", json={"text": STALL})).status_code == 401


async def test_given_bad_input_when_posted_then_422_or_404_with_a_slug_and_a_chinese_message(
    drafts_city: City,
) -> None:
    city = drafts_city
    _error(await city.post("agent", "/drafts", {"text": "   \n "}), 422, "empty-transcript")
    r = await city.post("agent", "/drafts", {"linkedid": "x"})
    assert r.status_code == 422 and r.json()["error"]
    draft = await _draft(city, STALL)
    path = f"/drafts/{draft['id']}/decisions"
    _error(
        await city.post("agent", path, {"fields": [{"field": "colour", "decision": "accepted"}]}),
        422,
        "unknown-field",
    )
    _error(
        await city.post("agent", path, {"fields": [{"field": "unit", "decision": "corrected"}]}),
        422,
        "correction-without-value",
    )
    _error(
        await city.post("agent", path, {"fields": [{"field": "unit", "value": ["1", "2"]}]}),
        422,
        "bad-field-value",
    )
    _error(
        await city.post("agent", path, {"fields": [{"field": "phones", "value": "13903758866"}]}),
        422,
        "bad-field-value",
    )
    twice = {"fields": [{"field": "kind", "decision": "accepted"}, {"field": "kind", "value": "help"}]}
    _error(await city.post("agent", path, twice), 422, "duplicate-field")
    unknown_order = {"order_number": "20260930-999999", "fields": [{"field": "kind", "decision": "accepted"}]}
    _error(await city.post("agent", path, unknown_order), 422, "unknown-order")
    _error(
        await city.post(
            "agent", "/drafts/999999/decisions", {"fields": [{"field": "kind", "decision": "accepted"}]}
        ),
        404,
        "draft-not-found",
    )
    params = {"date_from": "2026-10-02", "date_to": "2026-09-30"}
    _error(await city.get("supervisor", "/drafts/accuracy", params=params), 422, "bad-date-range")
    r = await city.get("agent", f"/drafts/{draft['id']}/decisions")
    assert r.json()["decisions"] == []  # nothing of the refused requests was kept

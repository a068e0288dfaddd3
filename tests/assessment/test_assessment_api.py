"""The assessment over HTTP: results by group, the drill-down that equals each figure, unit
scoping, bad input, recomputation (PostgreSQL and SQLite)."""

from __future__ import annotations

from typing import Any

import pytest

from minhu.calendar_source import build_calendar
from minhu.policy import load_profile
from workorders.assessment import IndicatorKey, Month, UnitInfo, assess_month

from ..workorders.test_assessment import AS_OF_NOV, EXPECTED_NOV, ORDER, UNITS
from .city import AssessmentCity
from .conftest import ApiCaller

pytestmark = pytest.mark.db

NOV = "2026-11"


def _unit_rows(body: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {u["unit_id"]: u for g in body["groups"] for u in g["units"]}


async def _pages(
    api: ApiCaller, who: str, unit_id: int, key: str, part: str
) -> tuple[list[str], dict[str, Any]]:
    numbers: list[str] = []
    offset, first = 0, None
    while True:
        r = await api.get(
            who,
            f"/assessment/months/{NOV}/units/{unit_id}/indicators/{key}/orders",
            params={"part": part, "offset": offset, "limit": 5},
        )
        assert r.status_code == 200, r.text
        body = r.json()
        first = first or body
        numbers += [i["number"] for i in body["items"]]
        offset += 5
        if offset >= body["total"]:
            return numbers, first


async def test_given_a_month_when_the_supervisor_asks_then_groups_ranks_scores_and_interviews(
    api: ApiCaller, acity: AssessmentCity
) -> None:
    api.clock.set(AS_OF_NOV)
    r = await api.get("supervisor", f"/assessment/months/{NOV}")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["stored"] is True and body["recomputations"] == 0
    rows = _unit_rows(body)
    housing = rows[acity.ids["dept-housing"]]
    assert (housing["rank"], housing["score"], housing["score_exact"]) == (4, "78.53", "9188/117")
    figures = {i["key"]: (i["numerator"], i["denominator"]) for i in housing["indicators"]}
    assert tuple(figures[k.value] for k in ORDER) == EXPECTED_NOV["dept-housing"]
    assert rows[acity.ids["st-shuguang"]]["rank"] is None
    interviewed = {i["unit_id"] for i in body["interviews"]}
    assert interviewed == {acity.ids[c] for c in ("dist-zhanhe", "dept-housing", "st-caozhen")}
    reason = next(i["reason"] for i in body["interviews"] if i["unit_id"] == acity.ids["dept-housing"])
    assert "第二十八条" in reason and "第4名" in reason


async def test_given_every_figure_when_drilled_down_then_the_orders_listed_are_exactly_those_counted(
    api: ApiCaller, acity: AssessmentCity
) -> None:
    api.clock.set(AS_OF_NOV)
    month = (await api.get("supervisor", f"/assessment/months/{NOV}")).json()
    orders = list(acity.orders.values())
    units = [UnitInfo(acity.key(u.unit_id), u.name, u.group) for u in UNITS]
    core = assess_month(
        Month(2026, 11),
        units,
        orders,
        as_of=AS_OF_NOV,
        policy=load_profile("pingdingshan-2022"),
        calendar=build_calendar(),
    )
    for row in _unit_rows(month).values():
        key_of_unit = str(row["unit_id"])
        for figure in row["indicators"]:
            key = IndicatorKey(figure["key"])
            expected = core.units[key_of_unit][key]
            den, first = await _pages(api, "supervisor", row["unit_id"], key.value, "denominator")
            assert (first["numerator"], first["denominator"]) == (figure["numerator"], figure["denominator"])
            assert first["total"] == figure["denominator"] and den == sorted(expected.denominator)
            if figure["numerator"]:
                num, _ = await _pages(api, "supervisor", row["unit_id"], key.value, "numerator")
                assert num == sorted(expected.numerator) and len(num) == figure["numerator"]


async def test_the_drill_down_says_why_each_order_is_counted(api: ApiCaller, acity: AssessmentCity) -> None:
    api.clock.set(AS_OF_NOV)
    housing = acity.ids["dept-housing"]
    r = await api.get(
        "supervisor",
        f"/assessment/months/{NOV}/units/{housing}/indicators/on_time_completion/orders",
        params={"limit": 50},
    )
    items = {i["number"]: i for i in r.json()["items"]}
    assert items["HS-LATEREPLY"]["in_numerator"] is False
    assert "超过办理期限" in items["HS-LATEREPLY"]["reason"]
    assert items["HS-OVERDUE"]["in_numerator"] is False and "超期" in items["HS-OVERDUE"]["reason"]
    assert items["HS-GOOD"]["in_numerator"] is True and items["HS-GOOD"]["state"] == "closed"
    assert "HS-INPROGRESS" not in items  # not due yet: not counted
    assert not any(i["changed_since"] for i in items.values())
    returns = await api.get(
        "supervisor",
        f"/assessment/months/{NOV}/units/{housing}/indicators/returns/orders",
        params={"part": "numerator"},
    )
    assert [i["number"] for i in returns.json()["items"]] == ["HS-RETACCEPTED", "HS-RETREFUSED"]
    assert all("第十一条" in i["reason"] for i in returns.json()["items"])


async def test_a_unit_handler_sees_only_its_own_unit(api: ApiCaller, acity: AssessmentCity) -> None:
    api.clock.set(AS_OF_NOV)
    housing, water = acity.ids["dept-housing"], acity.ids["dept-water"]
    body = (await api.get("h_housing", f"/assessment/months/{NOV}")).json()
    assert list(_unit_rows(body)) == [housing]
    assert [g["group"] for g in body["groups"]] == ["department"] and body["groups"][0]["size"] == 4
    assert {i["unit_id"] for i in body["interviews"]} == {housing}
    own = await api.get("h_housing", f"/assessment/months/{NOV}/units/{housing}/indicators/reply_rate/orders")
    assert own.status_code == 200 and own.json()["denominator"] == 13
    other = await api.get("h_housing", f"/assessment/months/{NOV}/units/{water}/indicators/reply_rate/orders")
    assert other.status_code == 403 and other.json()["error"] == "not-your-unit"
    assert other.json()["message"]
    year = (await api.get("h_water", "/assessment/years/2026")).json()
    assert [u["unit_id"] for u in year["units"]] == [water]
    agent = await api.get("agent", f"/assessment/months/{NOV}")
    assert agent.status_code == 403 and agent.json()["error"] == "role-not-permitted"


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        ("/assessment/months/2026-13", 422, "bad-month"),
        ("/assessment/months/November", 422, "bad-month"),
        ("/assessment/months/2026-11/units/1/indicators/speed/orders", 404, "unknown-indicator"),
        ("/assessment/months/2026-1x/units/1/indicators/reply_rate/orders", 422, "bad-month"),
        ("/assessment/years/1999", 422, "validation-failed"),
    ],
)
async def test_bad_months_and_unknown_indicators_are_refused_in_chinese(
    api: ApiCaller, path: str, status: int, error: str
) -> None:
    r = await api.get("supervisor", path)
    assert r.status_code == status, r.text
    assert r.json()["error"] == error
    assert any("\u4e00" <= ch <= "\u9fff" for ch in r.json()["message"])


async def test_only_the_centre_recomputes_a_month_with_a_reason(
    api: ApiCaller, acity: AssessmentCity
) -> None:
    api.clock.set(AS_OF_NOV)
    assert (await api.get("supervisor", "/assessment/months/2026-10")).json()["stored"] is True
    refused = await api.post("h_housing", "/assessment/months/2026-10/recompute", {"reason": "数据有误"})
    assert refused.status_code == 403
    r = await api.post("supervisor", "/assessment/months/2026-10/recompute", {"reason": "核对交办时间"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["recomputations"] == 1 and body["computed_by"] == "supervisor"
    assert body["previous_as_of"] is not None
    running = await api.post("supervisor", "/assessment/months/2026-12/recompute", {"reason": "核对"})
    assert running.status_code == 422 and running.json()["error"] == "assessment-month-not-ended"

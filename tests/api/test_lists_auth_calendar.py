"""Lists and filters, signing in, calendar status and loading, OpenAPI."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from .city import PASSWORD, City

pytestmark = pytest.mark.db


async def test_list_filters_and_pagination(city: City) -> None:
    a = (await city.create(category="A", content="咨询医保报销比例"))["number"]
    b = await city.assigned("xinhua", "B", content="烧烤摊噪音扰民")
    city.clock.advance(timedelta(days=2))
    c = await city.assigned("weidong", "C", content="楼顶违规搭建彩钢房")

    async def numbers(**params: object) -> list[str]:
        r = await city.get("supervisor", "/orders", params=params)
        assert r.status_code == 200, r.text
        return [o["number"] for o in r.json()["items"]]

    assert await numbers() == [c, b, a]  # newest first
    assert await numbers(state="assigned") == [c, b]
    assert await numbers(category=["A", "C"]) == [c, a]
    assert await numbers(unit_id=city.units["weidong"]) == [c]
    assert await numbers(q="噪音") == [b]
    assert await numbers(q="彩钢") == [c]
    assert await numbers(q="100%") == []
    assert await numbers(registered_from="2026-10-01T00:00:00+08:00") == [c]
    assert await numbers(registered_to="2026-10-01T00:00:00+08:00") == [b, a]
    page = (await city.get("supervisor", "/orders", params={"limit": 2, "with_total": "true"})).json()
    assert [o["number"] for o in page["items"]] == [c, b]
    assert page["has_more"] is True and page["total"] == 3
    page = (await city.get("supervisor", "/orders", params={"limit": 2, "offset": 2})).json()
    assert [o["number"] for o in page["items"]] == [a] and page["has_more"] is False
    assert (await city.get("supervisor", "/orders", params={"limit": 1000})).status_code == 422


async def test_full_text_search_ignores_letter_case_and_overdue_lists_only_orders_being_handled(
    city: City,
) -> None:
    wifi = await city.assigned("xinhua", "B", content="小区WiFi信号差，宽带经常断网")
    late = await city.assigned("weidong", "B", content="路灯不亮已经半个月")
    answered = (await city.create(category="A", content="咨询wifi办理"))["number"]
    r = await city.post("agent", f"/orders/{answered}/answer-on-call", json={"answer": "已告知营业厅地址"})
    assert r.status_code == 200, r.text

    async def numbers(**params: object) -> list[str]:
        r = await city.get("supervisor", "/orders", params=params)
        assert r.status_code == 200, r.text
        return [o["number"] for o in r.json()["items"]]

    # Latin letters match in any case; Chinese terms match as typed.
    assert await numbers(q="wifi") == [answered, wifi]
    assert await numbers(q="WIFI信号") == [wifi]
    assert await numbers(q="断网") == [wifi]
    assert await numbers(overdue="true") == []
    city.clock.advance(timedelta(days=40))  # past every B deadline
    # Only orders still being handled are overdue; the answered one is done.
    assert await numbers(overdue="true") == [late, wifi]


async def test_password_login_and_token_checks(city: City) -> None:
    r = await city.client.post("/api/v1/auth/token", data={"username": "agent", "password": PASSWORD})
    assert r.status_code == 200, r.text
    token = r.json()["access_token"]
    me = await city.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["username"] == "agent" and me.json()["role"] == "intake_agent"
    bad = await city.client.post(
        "/api/v1/auth/token", data={"username": "agent", "password": "wrong-password"}
    )
    assert bad.status_code == 401 and bad.json()["error"] == "bad-credentials"
    nobody = await city.client.post("/api/v1/auth/token", data={"username": "ghost", "password": "x" * 10})
    assert nobody.status_code == 401
    assert (await city.client.get("/api/v1/orders")).status_code == 401
    forged = await city.client.get("/api/v1/orders", headers={"Authorization": "Bearer abc.def.ghi"})
    assert forged.status_code == 401 and forged.json()["error"] == "invalid-token"
    city.clock.advance(timedelta(days=8))  # past the token's lifetime
    expired = await city.client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
    assert expired.status_code == 401


async def test_calendar_status_warns_about_uncovered_year_and_admin_loads_it(city: City) -> None:
    city.clock.set(city.clock.now().replace(year=2027, month=3))
    status = (await city.get("agent", "/calendar/status")).json()
    if 2027 in status["covered_years"]:  # a newer chinesecalendar package
        pytest.skip("the installed calendar package already covers 2027")
    assert 2027 in status["missing_years"]
    assert "2027" in status["warning"]
    preview = (
        await city.get(
            "agent", "/deadlines/preview", params={"category": "B", "start": "2027-09-30T10:00:00+08:00"}
        )
    ).json()
    assert preview["estimated"] is True and preview["warning"]
    assert preview["due_at"] == "2027-10-08T00:00:00+08:00"  # weekends only: Oct 1,4,5,6,7

    schedule = {
        "year": 2027,
        "holidays": ["2027-10-01", "2027-10-04", "2027-10-05", "2027-10-06", "2027-10-07"],
        "workdays": ["2027-10-09"],
    }
    files = {"file": ("2027.json", json.dumps(schedule), "application/json")}
    r = await city.client.post("/api/v1/calendar/years", files=files, headers=city.headers("supervisor"))
    assert r.status_code == 403
    r = await city.client.post("/api/v1/calendar/years", files=files, headers=city.headers("admin"))
    assert r.status_code == 201, r.text
    assert r.json() == {"year": 2027, "holidays": 5, "workdays": 1, "source": "loaded from 2027.json"}
    preview = (
        await city.get(
            "agent", "/deadlines/preview", params={"category": "B", "start": "2027-09-30T10:00:00+08:00"}
        )
    ).json()
    assert preview["estimated"] is False
    assert preview["due_at"] == "2027-10-14T00:00:00+08:00"  # Oct 8, 9 (make-up), 11, 12, 13
    status = (await city.get("agent", "/calendar/status")).json()
    assert 2027 in status["covered_years"]
    assert any(y["year"] == 2027 and y["loaded_by"] == "admin" for y in status["years"])


async def test_bad_calendar_file_is_refused(city: City) -> None:
    files = {"file": ("2027.csv", "2027-10-01,holiday\n2028-01-01,holiday\n", "text/csv")}
    r = await city.client.post("/api/v1/calendar/years", files=files, headers=city.headers("admin"))
    assert r.status_code == 422 and r.json()["error"].startswith("calendar-")


async def test_openapi_documents_every_endpoint_and_its_errors(city: City) -> None:
    spec = (await city.client.get("/openapi.json")).json()
    for path, methods in spec["paths"].items():
        if not path.startswith("/api/v1"):
            continue
        for method, op in methods.items():
            assert op.get("description") or op.get("summary"), (method, path)
            assert "422" in op["responses"], (method, path)
            if path != "/api/v1/auth/token":
                assert "401" in op["responses"], (method, path)
            if method == "post" and "{number}" in path:
                assert {"403", "404", "409"} <= set(op["responses"]), (method, path)

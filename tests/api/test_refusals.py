"""Every refused transition is a 4xx naming the rule and article, and changes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .city import City

pytestmark = pytest.mark.db

REPLY = {"content": "已处理", "handler_name": "刘洋", "handler_phone": "13903752001"}


async def _snapshot(city: City, number: str) -> tuple[dict[str, object], int]:
    order = (await city.get("supervisor", f"/orders/{number}")).json()
    trail = (await city.get("supervisor", f"/orders/{number}/audit")).json()
    return order, len(trail)


async def test_second_extension_is_refused(city: City) -> None:
    number = await city.checked_in()
    await city.ok(
        "h_xinhua",
        f"/orders/{number}/extension",
        {"new_due_at": "2026-10-20T00:00:00+08:00", "reason": "需协调"},
    )
    await city.ok("supervisor", f"/orders/{number}/extension-decision", {"approve": True})
    before = await _snapshot(city, number)
    r = await city.post(
        "h_xinhua",
        f"/orders/{number}/extension",
        {"new_due_at": "2026-10-30T00:00:00+08:00", "reason": "再延"},
    )
    assert r.status_code == 409
    assert r.json()["error"] == "extension-limit-reached"
    assert r.json()["article"] == "第九条"
    assert "延期" in r.json()["message"]
    assert await _snapshot(city, number) == before


async def test_extension_after_the_deadline_is_refused(city: City) -> None:
    number = await city.checked_in()
    city.clock.set(city.clock.now() + timedelta(days=15))  # past the end of Oct 13
    r = await city.post(
        "h_xinhua",
        f"/orders/{number}/extension",
        {"new_due_at": "2026-10-30T00:00:00+08:00", "reason": "来不及"},
    )
    assert r.status_code == 409
    assert (r.json()["error"], r.json()["article"]) == ("extension-after-deadline", "第九条")
    listed = (await city.get("supervisor", "/orders", params={"overdue": "true"})).json()
    assert [o["number"] for o in listed["items"]] == [number]
    assert listed["items"][0]["overdue"] is True


async def test_extension_for_a_class_is_refused(city: City) -> None:
    number = await city.checked_in(category="A")
    r = await city.post(
        "h_xinhua", f"/orders/{number}/extension", {"new_due_at": "2026-10-01T00:00:00+08:00", "reason": "x"}
    )
    assert r.status_code == 409 and r.json()["error"] == "extension-not-allowed-for-category"


async def test_return_after_24_hours_is_refused(city: City) -> None:
    number = await city.checked_in()
    city.clock.advance(timedelta(hours=24, minutes=1))
    before = await _snapshot(city, number)
    r = await city.post(
        "h_xinhua",
        f"/orders/{number}/return",
        {"reason": "不属于本单位", "basis": "职责清单", "approved_by_leader": "分管领导"},
    )
    assert r.status_code == 409
    assert (r.json()["error"], r.json()["article"]) == ("return-window-passed", "第十一条")
    assert await _snapshot(city, number) == before


async def test_reply_without_citizen_contact_is_refused(city: City) -> None:
    number = await city.checked_in()
    before = await _snapshot(city, number)
    r = await city.post("h_xinhua", f"/orders/{number}/reply", REPLY)
    assert r.status_code == 409
    assert (r.json()["error"], r.json()["article"]) == ("citizen-not-contacted", "第十三条")
    assert await _snapshot(city, number) == before


async def test_unit_acting_on_another_units_order_is_refused(city: City) -> None:
    number = await city.assigned("xinhua")
    before = await _snapshot(city, number)
    for path, body in [
        ("check-in", None),
        ("contacts", {"purpose": "first_contact"}),
        ("reply", REPLY),
        ("return", {"reason": "r", "basis": "b", "approved_by_leader": "l"}),
    ]:
        r = await city.post("h_weidong", f"/orders/{number}/{path}", body)
        assert r.status_code == 403, (path, r.text)
        assert (r.json()["error"], r.json()["article"]) == ("not-your-unit", "第十条")
    assert await _snapshot(city, number) == before


async def test_illegal_state_transition_is_a_conflict(city: City) -> None:
    number = (await city.create())["number"]
    r = await city.post("h_xinhua", f"/orders/{number}/check-in")
    assert r.status_code == 403  # not assigned to anyone yet
    r = await city.post("agent", f"/orders/{number}/answer-on-call", {"answer": "已答复"})
    assert r.status_code == 409 and r.json()["error"] == "not-a-class"
    closed = await city.replied()
    await city.ok(
        "agent", f"/orders/{closed}/revisit-attempts", {"outcome": "answered", "satisfaction": "satisfied"}
    )
    r = await city.post("supervisor", f"/orders/{closed}/assign", {"lead_unit_id": city.units["xinhua"]})
    assert r.status_code == 409 and r.json()["error"] == "illegal-transition"


async def test_deemed_satisfied_cannot_be_entered_as_an_answer(city: City) -> None:
    number = await city.replied()
    r = await city.post(
        "agent",
        f"/orders/{number}/revisit-attempts",
        {"outcome": "answered", "satisfaction": "deemed_satisfied"},
    )
    assert r.status_code == 422 and r.json()["error"] == "deemed-is-not-an-answer"

"""Roles and unit scoping: handlers see only their unit's orders, with the citizen's phone masked."""

from __future__ import annotations

import pytest

from .city import City

pytestmark = pytest.mark.db


async def test_handler_lists_only_own_units_orders_with_masked_phone(city: City) -> None:
    mine = await city.assigned("xinhua")
    theirs = await city.assigned("weidong")
    await city.create()  # registered, nobody's yet
    listed = (await city.get("h_xinhua", "/orders")).json()
    assert [o["number"] for o in listed["items"]] == [mine]
    assert listed["items"][0]["citizen"] == {"name": "王女士", "phone": "138****1234", "phone_masked": True}
    # Asking for another unit's orders does not widen the scope.
    forced = (await city.get("h_xinhua", "/orders", params={"unit_id": city.units["weidong"]})).json()
    assert [o["number"] for o in forced["items"]] == [mine]
    r = await city.get("h_xinhua", f"/orders/{theirs}")
    assert r.status_code == 403 and r.json()["error"] == "not-your-unit"
    assert (await city.get("h_xinhua", f"/orders/{theirs}/audit")).status_code == 403


async def test_centre_sees_every_order_with_full_phone(city: City) -> None:
    number = await city.assigned("xinhua")
    order = (await city.get("agent", f"/orders/{number}")).json()
    assert order["citizen"]["phone"] == "13812341234"
    assert order["citizen"]["phone_masked"] is False
    assert len((await city.get("supervisor", "/orders")).json()["items"]) == 1


async def test_masked_phone_also_in_handlers_action_responses(city: City) -> None:
    number = await city.assigned("xinhua")
    order = await city.ok("h_xinhua", f"/orders/{number}/check-in")
    assert order["citizen"]["phone"] == "138****1234"


@pytest.mark.parametrize(
    ("who", "path", "body"),
    [
        ("h_xinhua", "/orders", "order"),
        ("h_xinhua", "/orders/{n}/assign", "assign"),
        ("agent", "/orders/{n}/extension-decision", {"approve": True}),
        ("agent", "/orders/{n}/deadline", {"due_at": "2026-11-30T00:00:00+08:00"}),
        ("supervisor", "/orders/{n}/check-in", None),
    ],
)
async def test_wrong_role_gets_403(city: City, who: str, path: str, body: object) -> None:
    number = (await city.create())["number"]
    if body == "order":
        body = {
            "channel": "phone",
            "kind": "help",
            "category": "B",
            "content": "x",
            "citizen": {"phone": "13812341234"},
        }
    elif body == "assign":
        body = {"lead_unit_id": city.units["xinhua"]}
    r = await city.post(who, path.format(n=number), body)
    assert r.status_code == 403, r.text
    assert r.json()["error"] == "role-not-permitted"
    assert r.json()["message"]


async def test_only_admin_manages_users_and_units(city: City) -> None:
    user = {
        "username": "newagent",
        "password": "long-enough-pw",
        "role": "intake_agent",
        "display_name": "新坐席",
    }
    r = await city.post("supervisor", "/users", user)
    assert r.status_code == 403
    r = await city.post("admin", "/users", user)
    assert r.status_code == 201, r.text
    assert r.json()["role"] == "intake_agent"
    assert (await city.post("admin", "/users", user)).status_code == 409
    handler = {**user, "username": "handler2", "role": "unit_handler"}
    r = await city.post("admin", "/users", handler)
    assert r.status_code == 422 and r.json()["error"] == "unit-required"
    r = await city.post("admin", "/users", {**handler, "unit_id": 999999})
    assert r.status_code == 422 and r.json()["error"] == "unknown-unit"
    unit = {"code": "ruzhou", "name": "汝州市", "assessment_group": "county"}
    assert (await city.post("agent", "/units", unit)).status_code == 403
    r = await city.post("admin", "/units", unit)
    assert r.status_code == 201 and r.json()["assessment_group"] == "county"
    again = await city.post("admin", "/units", unit)
    assert again.status_code == 409 and again.json()["error"] == "duplicate-unit-code"
    orphan = await city.post("admin", "/units", {**unit, "code": "x1", "parent_id": 999999})
    assert orphan.status_code == 422 and orphan.json()["error"] == "unknown-unit"
    counties = (await city.get("agent", "/units", params={"assessment_group": "county"})).json()
    assert {u["code"] for u in counties} == {"baofeng", "ruzhou"}
    assert (await city.get("agent", "/units/999999")).status_code == 404

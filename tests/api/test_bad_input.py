"""Bad input gets a 4xx with a reason and changes nothing."""

from __future__ import annotations

import pytest

from .city import City

pytestmark = pytest.mark.db

ORDER = {
    "channel": "wechat",
    "kind": "complaint",
    "category": "B",
    "content": "小区噪音扰民",
    "citizen": {"name": "赵先生", "phone": "13812341234"},
}


async def _count(city: City) -> int:
    return len((await city.get("supervisor", "/orders", params={"limit": 200})).json()["items"])


async def test_malformed_json(city: City) -> None:
    r = await city.client.post(
        "/api/v1/orders",
        content=b'{"channel": "phone", "content": ',
        headers={**city.headers("agent"), "Content-Type": "application/json"},
    )
    assert r.status_code == 422
    assert r.json()["error"] == "malformed-json"
    assert await _count(city) == 0


async def test_unknown_unit(city: City) -> None:
    number = (await city.create())["number"]
    r = await city.post("supervisor", f"/orders/{number}/assign", {"lead_unit_id": 987654})
    assert r.status_code == 422
    assert r.json()["error"] == "unknown-unit"
    r = await city.post(
        "supervisor",
        f"/orders/{number}/assign",
        {"lead_unit_id": city.units["xinhua"], "cooperating_unit_ids": [987654]},
    )
    assert r.status_code == 422
    order = (await city.get("supervisor", f"/orders/{number}")).json()
    assert order["state"] == "registered" and order["lead_unit_id"] is None


async def test_oversized_content_and_body(city: City) -> None:
    r = await city.post("agent", "/orders", {**ORDER, "content": "噪" * 5001})
    assert r.status_code == 422
    assert r.json()["error"] == "field-too-long"
    r = await city.post("agent", "/orders", {**ORDER, "content": "x" * 300_000})
    assert r.status_code == 413
    assert r.json()["error"] == "payload-too-large"
    assert await _count(city) == 0


@pytest.mark.parametrize("phone", ["12345abc", "1381234123", "999999999999999999", "138-1234-12345"])
async def test_invalid_phone(city: City, phone: str) -> None:
    r = await city.post("agent", "/orders", {**ORDER, "citizen": {"name": "赵", "phone": phone}})
    assert r.status_code == 422, phone
    assert "电话" in r.json()["message"]
    assert await _count(city) == 0


async def test_invalid_handler_phone_on_reply(city: City) -> None:
    number = await city.checked_in()
    await city.contacted(number)
    r = await city.post(
        "h_xinhua", f"/orders/{number}/reply", {"content": "好", "handler_name": "刘", "handler_phone": "abc"}
    )
    assert r.status_code == 422
    assert (await city.get("supervisor", f"/orders/{number}")).json()["state"] == "in_progress"


async def test_timezone_naive_times(city: City) -> None:
    r = await city.post("agent", "/orders", {**ORDER, "received_at": "2026-09-30T09:00:00"})
    assert r.status_code == 422
    assert r.json()["error"] == "naive-datetime"
    assert await _count(city) == 0
    number = await city.checked_in()
    r = await city.post(
        "h_xinhua", f"/orders/{number}/extension", {"new_due_at": "2026-10-20T00:00:00", "reason": "x"}
    )
    assert r.status_code == 422 and r.json()["error"] == "naive-datetime"
    r = await city.get("agent", "/orders", params={"registered_from": "2026-09-30T00:00:00"})
    assert r.status_code == 422
    assert (await city.get("supervisor", f"/orders/{number}")).json()["extensions"] == []


async def test_phone_channel_cannot_backdate_and_future_is_refused(city: City) -> None:
    r = await city.post(
        "agent", "/orders", {**ORDER, "channel": "phone", "received_at": "2026-09-30T09:00:00+08:00"}
    )
    assert r.status_code == 422
    r = await city.post("agent", "/orders", {**ORDER, "received_at": "2026-10-30T09:00:00+08:00"})
    assert r.status_code == 422 and r.json()["error"] == "received-in-future"
    assert await _count(city) == 0


async def test_unknown_enum_and_missing_fields(city: City) -> None:
    r = await city.post("agent", "/orders", {**ORDER, "category": "E"})
    assert r.status_code == 422 and r.json()["details"][0]["field"].endswith("category")
    r = await city.post("agent", "/orders", {"channel": "wechat"})
    assert r.status_code == 422 and r.json()["error"] == "validation-failed"
    assert (await city.get("agent", "/orders/not-a-number")).status_code == 422
    assert (await city.get("agent", "/orders/20260930-999999")).status_code == 404

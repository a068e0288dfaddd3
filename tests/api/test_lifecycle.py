"""The whole lifecycle over HTTP, including the worked example of RULES.md."""

from __future__ import annotations

from datetime import timedelta

import pytest

from .city import City

pytestmark = pytest.mark.db


async def test_given_phone_calls_when_registered_then_numbered_per_day(city: City) -> None:
    first = await city.create()
    second = await city.create()
    assert (first["number"], second["number"]) == ("20260930-000001", "20260930-000002")
    assert first["state"] == "registered"
    assert first["registered_at"] == first["received_at"] == "2026-09-30T10:00:00+08:00"
    city.clock.advance(timedelta(days=1))
    assert (await city.create())["number"] == "20261001-000001"


async def test_worked_example_b_received_wed_sep_30_is_due_end_of_tue_oct_13(city: City) -> None:
    number = (await city.create(category="B"))["number"]
    order = await city.ok("supervisor", f"/orders/{number}/assign", {"lead_unit_id": city.units["xinhua"]})
    assert order["state"] == "assigned"
    assert order["due_at"] == "2026-10-14T00:00:00+08:00"  # 24:00 of Tue 2026-10-13
    assert order["due_estimated"] is False
    preview = await city.get(
        "agent", "/deadlines/preview", params={"category": "B", "start": "2026-09-30T10:00:00+08:00"}
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["due_at"] == "2026-10-14T00:00:00+08:00"
    assert preview.json()["period_label"] == "5个工作日"


async def test_full_b_lifecycle_to_satisfied_closure_with_audit_trail(city: City) -> None:
    number = await city.assigned("xinhua")
    await city.ok("h_xinhua", f"/orders/{number}/check-in")
    await city.contacted(number, purpose="first_contact")
    await city.contacted(number)
    replied = await city.ok(
        "h_xinhua",
        f"/orders/{number}/reply",
        {"content": "已清理占道摊点", "handler_name": "刘洋", "handler_phone": "13903752001"},
    )
    assert replied["state"] == "replied"
    assert replied["replies"][0]["handler_phone"] == "13903752001"
    assert replied["revisit_due_at"] is not None
    city.clock.advance(timedelta(hours=1))
    closed = await city.ok(
        "agent", f"/orders/{number}/revisit-attempts", {"outcome": "answered", "satisfaction": "satisfied"}
    )
    assert closed["state"] == "closed"
    assert closed["closure_reason"] == "satisfied"

    trail = (await city.get("supervisor", f"/orders/{number}/audit")).json()
    assert [e["action"] for e in trail] == [
        "register",
        "assign",
        "check_in",
        "contact",
        "contact",
        "reply",
        "revisit_attempt",
    ]
    assert trail[1]["actor_id"] == "supervisor" and trail[1]["actor_role"] == "supervisor"
    assert trail[2]["actor_unit_id"] == str(city.units["xinhua"])
    assert all(e["via"] == "api" for e in trail)
    assert trail[-1]["from_state"] == "replied" and trail[-1]["to_state"] == "closed"


async def test_a_class_answered_on_the_call(city: City) -> None:
    number = (await city.create(category="A", kind="consultation", content="咨询养老保险缴费"))["number"]
    order = await city.ok("agent", f"/orders/{number}/answer-on-call", {"answer": "可在社保窗口或APP办理"})
    assert order["state"] == "answered_on_call"
    assert order["closed_at"] == "2026-09-30T10:00:00+08:00"


async def test_a_class_assigned_is_due_in_four_hours(city: City) -> None:
    number = (await city.create(category="A"))["number"]
    order = await city.ok("agent", f"/orders/{number}/assign", {"lead_unit_id": city.units["xinhua"]})
    assert order["due_at"] == "2026-09-30T14:00:00+08:00"


async def test_not_accepted_requests_are_recorded_with_their_reason(city: City) -> None:
    r = await city.post(
        "agent",
        "/orders/not-accepted",
        {
            "channel": "phone",
            "kind": "help",
            "content": "该纠纷已在法院起诉",
            "reason": "litigation",
            "note": "已告知通过诉讼途径解决",
            "citizen": {"name": "李先生", "phone": "13900001111"},
        },
    )
    assert r.status_code == 201, r.text
    assert r.json()["state"] == "not_accepted"
    assert r.json()["not_accepted_reason"] == "litigation"
    listed = (await city.get("agent", "/orders", params={"state": "not_accepted"})).json()
    assert [o["number"] for o in listed["items"]] == [r.json()["number"]]


async def test_non_phone_channel_keeps_its_original_received_at(city: City) -> None:
    order = await city.create(channel="mayor_mailbox", received_at="2026-09-29T22:15:00+08:00")
    assert order["received_at"] == "2026-09-29T22:15:00+08:00"
    assert order["registered_at"] == "2026-09-30T10:00:00+08:00"
    assigned = await city.ok(
        "agent", f"/orders/{order['number']}/assign", {"lead_unit_id": city.units["xinhua"]}
    )
    # Art. 14: mailbox items get 10 working days (Oct 1-8 holidays, Oct 10 a make-up day).
    assert assigned["due_at"] == "2026-10-21T00:00:00+08:00"


async def test_lead_and_cooperating_units(city: City) -> None:
    number = (await city.create())["number"]
    order = await city.ok(
        "supervisor",
        f"/orders/{number}/assign",
        {"lead_unit_id": city.units["xinhua"], "cooperating_unit_ids": [city.units["weidong"]]},
    )
    assert order["lead_unit_id"] == city.units["xinhua"]
    assert order["cooperating_unit_ids"] == [city.units["weidong"]]
    # The cooperating unit sees it, checks in, but may not reply in the lead's place.
    assert (await city.get("h_weidong", f"/orders/{number}")).status_code == 200
    await city.ok("h_weidong", f"/orders/{number}/check-in")
    await city.ok("h_xinhua", f"/orders/{number}/check-in")
    await city.contacted(number, "h_weidong")
    r = await city.post(
        "h_weidong",
        f"/orders/{number}/reply",
        {"content": "已处理", "handler_name": "陈静", "handler_phone": "13903752002"},
    )
    assert r.status_code == 403
    assert r.json()["error"] == "cooperating-unit-not-lead"
    assert r.json()["article"] == "第十条"


async def test_return_review_and_reassignment(city: City) -> None:
    number = await city.checked_in("xinhua")
    city.clock.advance(timedelta(hours=3))
    returned = await city.ok(
        "h_xinhua",
        f"/orders/{number}/return",
        {"reason": "不属于本单位职责", "basis": "职责清单第3条", "approved_by_leader": "分管副区长"},
    )
    assert returned["state"] == "returned"
    reviewed = await city.ok(
        "supervisor", f"/orders/{number}/return-review", {"accept": True, "note": "同意"}
    )
    assert reviewed["state"] == "registered"
    assert reviewed["lead_unit_id"] is None
    # The returning unit no longer sees it.
    assert (await city.get("h_xinhua", f"/orders/{number}")).status_code == 403
    same = await city.post("supervisor", f"/orders/{number}/assign", {"lead_unit_id": city.units["xinhua"]})
    assert same.status_code == 409 and same.json()["error"] == "reassign-to-returning-unit"
    other = await city.ok("supervisor", f"/orders/{number}/assign", {"lead_unit_id": city.units["weidong"]})
    assert other["state"] == "assigned" and other["lead_unit_id"] == city.units["weidong"]


async def test_refused_return_goes_back_to_the_unit(city: City) -> None:
    number = await city.checked_in("xinhua")
    await city.ok(
        "h_xinhua",
        f"/orders/{number}/return",
        {"reason": "不属于本单位职责", "basis": "无", "approved_by_leader": "分管副区长"},
    )
    order = await city.ok(
        "supervisor", f"/orders/{number}/return-review", {"accept": False, "note": "属地管理"}
    )
    assert order["state"] == "checked_in"


async def test_extension_requested_approved_and_citizen_told(city: City) -> None:
    number = await city.checked_in("xinhua")
    order = await city.ok(
        "h_xinhua",
        f"/orders/{number}/extension",
        {"new_due_at": "2026-10-20T00:00:00+08:00", "reason": "需联合执法"},
    )
    assert order["extensions"][0]["status"] == "pending"
    order = await city.ok("supervisor", f"/orders/{number}/extension-decision", {"approve": True})
    assert order["due_at"] == "2026-10-20T00:00:00+08:00"
    await city.contacted(number)
    body = {"content": "已处理", "handler_name": "刘洋", "handler_phone": "13903752001"}
    r = await city.post("h_xinhua", f"/orders/{number}/reply", body)
    assert r.status_code == 409 and r.json()["error"] == "extension-not-notified"
    await city.contacted(number, purpose="extension_notice")
    assert (await city.post("h_xinhua", f"/orders/{number}/reply", body)).status_code == 200


async def test_c_class_report_then_centre_sets_deadline(city: City) -> None:
    number = await city.checked_in("housing", "C")
    order = await city.ok(
        "h_housing",
        f"/orders/{number}/c-report",
        {
            "leader": "王副局长",
            "responsible": "李明",
            "contact_phone": "13903758888",
            "progress": "已现场勘查",
            "plan": "30日内拆除",
        },
    )
    assert order["c_report"]["leader"] == "王副局长"
    order = await city.ok("supervisor", f"/orders/{number}/deadline", {"due_at": "2026-11-30T00:00:00+08:00"})
    assert order["due_at"] == "2026-11-30T00:00:00+08:00"


async def test_two_rang_out_calls_three_hours_apart_are_deemed_satisfied(city: City) -> None:
    number = await city.replied()
    city.clock.set(city.clock.now().replace(hour=9, minute=0) + timedelta(days=1))
    first = await city.ok("agent", f"/orders/{number}/revisit-attempts", {"outcome": "rang_out"})
    assert first["state"] == "revisiting"
    assert first["revisit_attempts"][0]["counts_for_art17"] is True
    city.clock.advance(timedelta(hours=5))
    second = await city.ok("agent", f"/orders/{number}/revisit-attempts", {"outcome": "rang_out"})
    assert second["state"] == "closed"
    assert second["satisfaction"] == "deemed_satisfied"


async def test_dissatisfied_citizen_rehandling_and_third_party(city: City) -> None:
    number = await city.replied()
    order = await city.ok(
        "agent", f"/orders/{number}/revisit-attempts", {"outcome": "answered", "satisfaction": "dissatisfied"}
    )
    assert order["state"] == "rehandling"
    order = await city.ok("supervisor", f"/orders/{number}/rehandle", {"lead_unit_id": city.units["xinhua"]})
    assert order["state"] == "assigned" and order["handling_round"] == 1
    r = await city.post("supervisor", f"/orders/{number}/rehandle", {"lead_unit_id": city.units["xinhua"]})
    assert r.status_code == 409 and r.json()["error"] == "not-awaiting-rehandling"

    await city.ok("h_xinhua", f"/orders/{number}/check-in")
    await city.contacted(number)
    await city.ok(
        "h_xinhua",
        f"/orders/{number}/reply",
        {"content": "再次处理", "handler_name": "刘洋", "handler_phone": "13903752001"},
    )
    await city.ok(
        "agent", f"/orders/{number}/revisit-attempts", {"outcome": "answered", "satisfaction": "dissatisfied"}
    )
    order = await city.ok("supervisor", f"/orders/{number}/third-party-referral", {"note": "协调未果"})
    assert order["state"] == "third_party"
    order = await city.ok(
        "supervisor", f"/orders/{number}/third-party-assessment", {"verdict": "单位已依法履职"}
    )
    assert order["state"] == "closed" and order["closure_reason"] == "third_party_assessed"

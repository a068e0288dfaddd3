"""End to end in a real headless Chromium (Playwright): a scripted citizen dials 12345 on the
simulated PBX, walks Minhu's IVR over FastAGI (presses 1), waits in the queue and reaches the agent,
whose page at ``/desktop`` shows the screen pop, registers the order, makes the three-party call
(三方通话) and drops out. Also: a caller who abandons in the queue (the supervisor's wallboard), a
unit that does not answer (无人接听, two parties again), and a page whose websocket drops mid-call.

Chromium is Debian's (/usr/bin/chromium, installed by ``make test``); a missing browser fails the
tests with that advice instead of skipping them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from minhu.db.models import Unit
from minhu.settings import Settings
from pbx.simulator.citizen import Citizen, HangUp, Press
from pbx.simulator.scenarios import Answers, InboundCall, RingsOut, Scenario
from workorders.clock import FixedClock

from ..api.city import PASSWORD
from .browser_rig import ROOT, Stack, browser_page, require_browser, sign_in, stack
from .desk import eventually

CALLER = "13812341234"
UNIT_ANSWERS = "2001"
UNIT_SILENT = "2009"
SCREENSHOT = ROOT / "var" / "e2e-screenpop.png"


@pytest.fixture(autouse=True)
def _browser_installed() -> None:
    require_browser()


def citizen(hang_up_at: float = 5000.0) -> InboundCall:
    """王女士 calls, presses 1 (consultation) in the main menu, then waits for an agent."""
    return InboundCall(
        Citizen.scripted(Press("1", at=8.0), HangUp(at=hang_up_at), number=CALLER, name="王女士")
    )


def scenario(agent_answers_after: float = 2.0) -> Scenario:
    return Scenario(
        destinations=(
            ("PJSIP/1001", Answers(after=agent_answers_after)),
            (f"Local/{UNIT_ANSWERS}@*", Answers(after=1.0)),
            (f"Local/{UNIT_SILENT}@*", RingsOut()),
        ),
        queue_ring_timeout=600.0,
    )


async def unit_phones(s: Stack, db_session: AsyncSession) -> None:
    for code, phone in (("xinhua", UNIT_ANSWERS), ("weidong", UNIT_SILENT)):
        row = await db_session.get(Unit, s.city.units[code])
        assert row is not None
        row.phone = phone
    await db_session.commit()


async def agent_ready(page: Any) -> None:
    """The agent signs in on the page and joins the queue (签入)."""
    await sign_in(page, "agent", PASSWORD)
    await page.fill("#interface", "PJSIP/1001")
    await page.click("#sign-in")
    await page.wait_for_selector("#agent-state[data-state=available]")


async def text(page: Any, selector: str) -> str:
    value: str = await page.inner_text(selector)
    return value


async def test_given_a_citizen_walks_the_ivr_then_the_agent_registers_the_order_and_hands_over_to_a_unit(
    settings: Settings, clock: FixedClock, db_session: AsyncSession, tmp_path: Path
) -> None:
    async with stack(settings, clock, db_session, scenario()) as s:
        await unit_phones(s, db_session)
        earlier = [await s.city.create(citizen={"name": "王女士", "phone": CALLER}) for _ in range(2)]
        async with browser_page(s.base, tmp_path) as page:
            await agent_ready(page)
            record = s.simulator.engine.dial_in(citizen())

            # the screen pop: the call and the caller's earlier orders
            await page.wait_for_selector("#earlier-orders tbody tr >> nth=1")
            await page.wait_for_selector("#call.talking")
            assert CALLER in await text(page, "#caller-number")
            pop = await text(page, "#screen-pop")
            assert "138****1234" in pop and "共有 2 件历史工单" in pop
            assert all(o["number"] in pop for o in earlier) and "已登记" in pop
            assert await page.input_value("#order-phone") == CALLER
            assert await page.input_value("#order-name") == "王女士"
            SCREENSHOT.parent.mkdir(exist_ok=True)
            await page.screenshot(path=str(SCREENSHOT), full_page=True)
            # the IVR did its part: menu played, 1 pressed, the caller sent to the queue
            (ivr,) = record.agi
            assert ivr.status == "SUCCESS"
            assert record.channel is not None and record.channel.variables["MINHU_IVR_NEXT"] == "queue"

            # the order, registered while talking
            await page.select_option("#order-kind", "complaint")
            await page.select_option("#order-category", "B")
            await page.fill("#order-content", "小区门口道路破损多日无人修补，雨天积水严重，请尽快处理。")
            await page.fill("#order-address", "新华区建设路123号")
            await page.select_option("#order-unit", str(s.city.units["xinhua"]))
            await page.click("#order-save")
            await page.wait_for_selector("#order-number")
            saved = await text(page, "#order-number")
            assert "已交办" in saved and "已关联通话录音" in saved, saved
            number = saved.split("已保存工单 ", 1)[1].split("，", 1)[0]

            # 三方通话 with the unit that answers, then the agent drops out
            await page.select_option("#tp-unit", str(s.city.units["xinhua"]))
            await page.click("#three-party")
            await page.wait_for_function(
                "document.getElementById('three-party-state').textContent.startsWith('三方通话中')"
            )
            room = next(iter(s.rooms.rooms))
            assert len(s.rooms.members(room)) == 3
            await page.click("#tp-leave")
            await page.wait_for_selector("#call:not(.talking):not(.offered)")  # the agent's leg is gone
            assert await text(page, "#call") == "无通话"
            members = s.rooms.members(room)
            assert len(members) == 2 and record.channel.name in members
            assert any(m.startswith(f"Local/{UNIT_ANSWERS}@") for m in members)
            state = (await s.get("agent", "/agent/state")).json()
            assert state["three_party"]["state"] == "citizen_and_unit" and state["call"] is None

        # the order: the unit assigned, the call's recording on its audit trail
        order = (await s.get("agent", f"/orders/{number}")).json()
        assert order["state"] == "assigned" and order["kind"] == "complaint"
        assert order["lead_unit_id"] == s.city.units["xinhua"]
        assert order["address"] == "新华区建设路123号" and order["citizen"]["phone"] == CALLER
        audit = (await s.get("agent", f"/orders/{number}/audit")).json()
        (linked,) = [a for a in audit if a["action"] == "call_recording"]
        uniqueid = record.channel.uniqueid
        assert linked["details"]["recording"] == f"in-{uniqueid}.wav"
        assert linked["details"]["linkedid"] == uniqueid


async def test_given_no_free_agent_when_the_caller_hangs_up_in_the_queue_then_the_wallboard_shows_it(
    settings: Settings, clock: FixedClock, db_session: AsyncSession, tmp_path: Path
) -> None:
    async with stack(settings, clock, db_session, scenario()) as s:
        assert (await s.post("agent", "/agent/login", {"interface": "PJSIP/1001"})).status_code == 200
        assert (await s.post("agent", "/agent/pause", {"reason": "break"})).status_code == 200
        async with browser_page(s.base, tmp_path) as page:
            await sign_in(page, "supervisor", PASSWORD, "/desktop/supervisor")
            await page.wait_for_selector("#agents tr[data-agent=agent]")
            record = s.simulator.engine.dial_in(citizen(hang_up_at=80.0))  # 1.6 s after dialling
            await page.wait_for_selector("#stat-waiting:text-is('1')")
            await page.wait_for_selector("#stat-abandoned:text-is('1')")
            assert await text(page, "#stat-waiting") == "0"
            assert "小休" in await text(page, "#agents tr[data-agent=agent]")
            assert record.queue_status == "ABANDON"


async def test_given_a_unit_that_does_not_answer_then_the_page_says_so_and_citizen_and_agent_talk_on(
    settings: Settings, clock: FixedClock, db_session: AsyncSession, tmp_path: Path
) -> None:
    async with stack(settings, clock, db_session, scenario()) as s:
        await unit_phones(s, db_session)
        async with browser_page(s.base, tmp_path) as page:
            await agent_ready(page)
            record = s.simulator.engine.dial_in(citizen())
            await page.wait_for_selector("#call.talking")
            await page.select_option("#tp-unit", str(s.city.units["weidong"]))
            await page.click("#three-party")
            await page.wait_for_function(
                "document.getElementById('three-party-state').textContent.includes('无人接听')"
            )
            shown = await text(page, "#three-party-state")
            assert shown.startswith("双方通话"), shown
            assert "无人接听" in await text(page, "#error")
            room = next(iter(s.rooms.rooms))
            assert record.channel is not None
            assert s.rooms.members(room) == {
                record.channel.name,
                s.runtime.hub.tracker.calls["agent"].agent_channel,
            }
            state = (await s.get("agent", "/agent/state")).json()
            assert state["three_party"]["state"] == "two_party" and state["call"] is not None
            assert await page.get_attribute("#call", "class") == "talking"


async def test_given_the_browser_loses_the_network_mid_call_then_the_call_view_comes_back(
    settings: Settings, clock: FixedClock, db_session: AsyncSession, tmp_path: Path
) -> None:
    # the agent's phone rings for 60 s of call time (1.2 s): it is answered while the page is offline
    async with stack(settings, clock, db_session, scenario(agent_answers_after=60.0)) as s:
        number = (await s.city.create(citizen={"name": "王女士", "phone": CALLER}))["number"]
        async with browser_page(s.base, tmp_path) as page:
            await agent_ready(page)
            s.simulator.engine.dial_in(citizen())
            await page.wait_for_selector("#call.offered")
            await page.wait_for_selector("#earlier-orders tbody tr")

            await page.context.set_offline(True)
            await page.evaluate("window.__minhuSockets.forEach((s) => s.close())")
            await page.wait_for_function(
                "document.getElementById('ws-state').textContent.startsWith('已断开')"
            )
            await eventually(
                lambda: (
                    (c := s.runtime.hub.tracker.call_of("agent")) is not None and c.answered_at is not None
                ),
                10,
                "the agent's phone answered while the page is offline",
            )
            assert await page.get_attribute("#call", "class") == "offered"  # the page missed it
            await page.context.set_offline(False)

            await page.wait_for_function("document.getElementById('ws-state').textContent === '已连接'")
            await page.wait_for_selector("#call.talking")
            assert "通话中" in await text(page, "#call") and CALLER in await text(page, "#caller-number")
            assert number in await text(page, "#screen-pop")
            assert await page.get_attribute("#agent-state", "data-state") == "on_call"
            opened = await page.evaluate("window.__minhuSockets.filter((s) => s.readyState === 1).length")
            assert opened == 1 and len(s.runtime.hub.connections) == 1

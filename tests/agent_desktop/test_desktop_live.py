"""The agent desktop against the simulated PBX: sign-in, pauses, the screen pop, wrap-up, an
abandoned caller, a websocket that reconnects mid-call."""

from __future__ import annotations

import json

from sqlalchemy.ext.asyncio import AsyncSession

from minhu.settings import Settings
from pbx.simulator.citizen import Citizen, HangUp
from pbx.simulator.scenarios import Answers, InboundCall, Scenario
from workorders.clock import FixedClock

from .desk import desk, eventually

CALLER = "13812341234"


def citizen_call(hang_up_at: float = 60.0, number: str = CALLER) -> InboundCall:
    return InboundCall(Citizen.scripted(HangUp(at=hang_up_at), number=number, name="王女士"))


async def test_given_an_agent_signs_in_and_pauses_then_asterisk_queue_status_agrees(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    async with desk(settings, clock, db_session) as d:
        r = await d.post("agent", "/agent/login", {"interface": "PJSIP/1001"})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "available"
        member = await d.queue_member("agent")
        assert (
            member is not None and member.value("Location") == "PJSIP/1001" and member.value("Paused") == "0"
        )

        r = await d.post("agent", "/agent/pause", {"reason": "training"})
        assert r.status_code == 200 and r.json()["state"] == "paused" and r.json()["paused_label"] == "培训"
        member = await d.queue_member("agent")
        assert member is not None and (member.value("Paused"), member.value("PausedReason")) == (
            "1",
            "training",
        )

        r = await d.post("agent", "/agent/resume")
        assert r.json()["state"] == "available"
        member = await d.queue_member("agent")
        assert member is not None and member.value("Paused") == "0"

        refused = await d.post("agent", "/agent/pause", {"reason": "nap"})
        assert refused.status_code == 422 and refused.json()["error"] == "invalid-pause-reason"
        taken = await d.post("supervisor", "/agent/login", {"interface": "PJSIP/1001"})
        assert taken.status_code == 409 and taken.json()["error"] == "interface-taken"
        assert (await d.post("h_xinhua", "/agent/login", {"interface": "PJSIP/1009"})).status_code == 403

        r = await d.post("agent", "/agent/logout")
        assert r.json()["state"] == "logged_out"
        assert await d.queue_member("agent") is None


async def test_given_minhu_restarts_then_agent_states_come_back_from_asterisk(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    async with desk(settings, clock, db_session) as d:
        await d.post("agent", "/agent/login", {"interface": "PJSIP/1001"})
        await d.post("agent", "/agent/pause", {"reason": "break"})
        # a new Minhu: a fresh model, filled only by the resync (QueueStatus)
        runtime = d.runtime
        runtime.ami.model.queue_members.clear()
        await runtime.ami.resync()
        state = (await d.get("agent", "/agent/state")).json()["agent"]
        assert state["state"] == "paused" and state["paused_label"] == "小休"


async def test_given_a_call_is_offered_then_the_agent_gets_a_screen_pop_with_earlier_orders_then_wrapup(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    scenario = Scenario(destinations=(("PJSIP/1001", Answers(after=2.0, hang_up_after=10.0)),))
    async with desk(settings, clock, db_session, scenario=scenario, wrapup=0.5) as d:
        earlier = [await d.city.create(citizen={"name": "王女士", "phone": CALLER}) for _ in range(2)]
        await d.city.create(citizen={"name": "别人", "phone": "13900000000"})
        await d.post("agent", "/agent/login", {"interface": "PJSIP/1001"})
        socket = await d.socket("agent")

        # How fast the pop arrives is measured by bench/screen_pop_bench.py, not asserted here.
        d.simulator.engine.dial_in(citizen_call())
        pop = await socket.wait_for("screen_pop")
        assert pop["call"]["caller_number"] == CALLER and pop["caller_number_masked"] == "138****1234"
        assert sorted(o["number"] for o in pop["earlier_orders"]) == sorted(o["number"] for o in earlier)
        assert all(o["state_label"] == "已登记" and "address" not in o for o in pop["earlier_orders"])
        assert socket.of("call", event="offered")

        await socket.wait_for("call", event="answered")
        await eventually(lambda: any(m["agent"]["state"] == "on_call" for m in socket.of("agent_state")), 5)
        await socket.wait_for("call", event="ended")

        # after-call work: paused "wrapup" in Asterisk, then available again by itself
        await socket.wait_for("wrapup")
        await eventually(lambda: any(m["agent"]["state"] == "wrapup" for m in socket.of("agent_state")), 5)
        member = await d.queue_member("agent")
        assert member is not None and member.value("PausedReason") in ("wrapup", "")
        await eventually(
            lambda: socket.of("agent_state")[-1]["agent"]["state"] == "available", 5, "wrap-up over"
        )
        member = await d.queue_member("agent")
        assert member is not None and member.value("Paused") == "0"
        stats = (await d.get("supervisor", "/supervisor/wallboard")).json()["stats"]
        assert stats["answered"] == 1 and stats["answered_in_time"] == 1
        await socket.close()


async def test_given_no_free_agent_when_the_caller_hangs_up_in_the_queue_then_it_counts_as_abandoned(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    async with desk(settings, clock, db_session, scenario=Scenario()) as d:
        await d.post("agent", "/agent/login", {"interface": "PJSIP/1001"})
        await d.post("agent", "/agent/pause", {"reason": "break"})
        board = await d.socket("supervisor")
        # The caller waits 200 simulated seconds (4 s here; the queue gives up at 300), long enough
        # to be seen waiting on a busy machine, then hangs up.
        d.simulator.engine.dial_in(citizen_call(hang_up_at=200.0))
        await board.wait_for("wallboard")
        await eventually(lambda: board.of("wallboard")[-1]["stats"]["waiting"] == 1, 30, "caller waiting")
        await eventually(lambda: board.of("wallboard")[-1]["stats"]["abandoned"] == 1, 30, "abandon counted")
        last = board.of("wallboard")[-1]
        assert last["stats"]["waiting"] == 0 and last["stats"]["agents"]["paused"] == 1
        assert last["agents"][0]["username"] == "agent" and last["agents"][0]["paused_label"] == "小休"
        await board.close()


async def test_given_the_websocket_drops_mid_call_then_a_new_one_restores_the_call_view(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    scenario = Scenario(destinations=(("PJSIP/1001", Answers(after=1.0)),))
    async with desk(settings, clock, db_session, scenario=scenario) as d:
        number = (await d.city.create(citizen={"name": "王女士", "phone": CALLER}))["number"]
        await d.post("agent", "/agent/login", {"interface": "PJSIP/1001"})
        first = await d.socket("agent")
        d.simulator.engine.dial_in(citizen_call(hang_up_at=200.0))
        await first.wait_for("call", event="answered")
        await first.wait_for("screen_pop")
        linkedid = first.of("call", event="answered")[-1]["call"]["linkedid"]
        # what the live transcription (``minhu asr live``) sends on the desktop bus meanwhile
        for event in (
            {
                "type": "transcript",
                "linkedid": linkedid,
                "leg": "citizen",
                "stage": "final",
                "text": "电梯坏了三天",
                "transcript": "电梯坏了三天",
            },
            {
                "type": "transcript",
                "linkedid": linkedid,
                "leg": "citizen",
                "stage": "partial",
                "text": "没人修",
                "transcript": "电梯坏了三天 没人修",
            },
            {"type": "kb_suggestions", "linkedid": linkedid, "hits": [{"id": "kb-elevator"}]},
        ):
            await d.runtime.redis.publish(
                d.runtime.hub.bus_channel, json.dumps({"to": "agent", "event": event})
            )
        await first.wait_for("kb_suggestions")
        await first.close()  # the network goes away

        snapshot = (await d.get("agent", "/agent/state")).json()
        assert snapshot["call"]["caller_number"] == CALLER and snapshot["call"]["phase"] == "talking"
        assert [o["number"] for o in snapshot["screen_pop"]["earlier_orders"]] == [number]
        assert snapshot["agent"]["state"] == "on_call"

        second = await d.socket("agent")
        hello = second.of("hello")[0]["snapshot"]
        assert hello["call"]["linkedid"] == snapshot["call"]["linkedid"]
        assert hello["screen_pop"]["earlier_orders"][0]["number"] == number
        # the transcript so far and its suggestions come back too
        assert hello["transcript"]["transcript"] == "电梯坏了三天 没人修"
        assert hello["kb_suggestions"]["hits"] == [{"id": "kb-elevator"}]

        assert (await d.post("agent", "/agent/hangup")).status_code == 200
        await second.wait_for("call", event="ended")
        assert (await d.get("agent", "/agent/state")).json()["call"] is None
        await second.close()


async def test_given_a_second_tab_then_the_first_websocket_is_replaced(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    async with desk(settings, clock, db_session) as d:
        first = await d.socket("agent")
        second = await d.socket("agent")
        await first.wait_for("replaced")
        assert d.runtime.hub.connections["agent"].websocket is not None
        await second.close()
        await first.close()


async def test_given_two_api_workers_then_the_follower_pops_the_screen_and_takes_the_lead_when_needed(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    """The leader's desktop reads its own call model; another worker follows the leader's Redis
    messages. An agent is served wherever their websocket landed, and when the leader goes, the
    follower takes the lead and its desktop keeps following the PBX."""
    scenario = Scenario(
        destinations=(
            ("PJSIP/1001", Answers(after=1.0, hang_up_after=3.0)),
            ("PJSIP/1001", Answers(after=1.0, hang_up_after=3.0)),
        )
    )
    async with desk(settings, clock, db_session, scenario=scenario) as d:
        earlier = await d.city.create(citizen={"name": "王女士", "phone": CALLER})
        async with d.start_worker() as (base, follower):
            runtime = follower.state.pbx
            await eventually(lambda: runtime.hub.ready.is_set(), 30, "the follower's hub up")
            assert d.runtime.leader and not runtime.leader
            r = await d.post("agent", "/agent/login", {"interface": "PJSIP/1001"})
            assert r.status_code == 200, r.text
            socket = await d.socket("agent", base)  # the agent's page talks to the follower

            d.simulator.engine.dial_in(citizen_call(hang_up_at=30.0))
            pop = await socket.wait_for("screen_pop")
            assert pop["call"]["caller_number"] == CALLER
            assert [o["number"] for o in pop["earlier_orders"]] == [earlier["number"]]
            await socket.wait_for("call", event="answered")
            await socket.wait_for("call", event="ended")

            # the leader stops; the follower takes the lead and reads the PBX itself
            await d.runtime.stop()
            await eventually(lambda: runtime.leader, 30, "the follower became the leader")
            assert runtime.hub.view is runtime.ami.model
            d.simulator.engine.dial_in(citizen_call(hang_up_at=30.0, number="13900001111"))
            await eventually(
                lambda: any(m["call"]["caller_number"] == "13900001111" for m in socket.of("screen_pop")),
                30,
                "the second call's screen pop",
            )
            await socket.close()

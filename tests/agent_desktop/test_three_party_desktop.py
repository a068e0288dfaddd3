"""三方通话 from the desktop, against the simulator replaying the recorded Asterisk sessions
(``c-three-party-confbridge``; set2's redirect recording with a unit that does not answer)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from minhu.settings import Settings
from workorders.clock import FixedClock

from ..pbx.test_three_party import _scripted
from .desk import Desk, desk, eventually


async def _answered_call(d: Desk, interface: str, caller_id: str) -> None:
    """The recordings' first steps: the agent signs in (QueueAdd) and a citizen's call is answered."""
    r = await d.post("agent", "/agent/login", {"interface": interface})
    assert r.status_code == 200, r.text
    await d.runtime.ami.originate(
        "Local/12345@from-citizen", context="citizen-sim", exten="s", caller_id=caller_id
    )

    def answered() -> bool:
        call = d.runtime.hub.tracker.call_of("agent")
        return call is not None and call.answered_at is not None

    await eventually(answered, 30, "the agent answered")
    await eventually(lambda: d.runtime.agents._call("agent")[1] is not None, 30, "agent and citizen bridged")


async def test_given_a_unit_that_answers_then_three_talk_and_after_the_agent_drops_citizen_and_unit_remain(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    async with desk(
        settings, clock, db_session, recording=_scripted("c-three-party-confbridge"), time_scale=0.0
    ) as d:
        await _answered_call(d, "Local/1001@agent-sim", '"王五" <13900139000>')
        socket = await d.socket("agent")
        await d.runtime.ami.send({"Action": "BridgeList"})  # the recording checks the bridge here

        r = await d.post("agent", "/agent/three-party", {"number": "2001"})
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "three_party"
        await socket.wait_for("three_party")
        room = r.json()["room"]
        assert len(d.runtime.ami.model.conferences[room].members) == 3
        await eventually(lambda: socket.of("call", event="updated"), 30, "the call shows the room")
        assert socket.of("call", event="updated")[-1]["call"]["phase"] == "conference"

        await d.runtime.ami.send({"Action": "ConfbridgeList", "Conference": room})  # as recorded
        r = await d.post("agent", "/agent/three-party/leave")
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "citizen_and_unit"
        members = d.runtime.ami.model.conferences[room].members
        call = d.runtime.three_party.calls[room]
        assert members == {call.citizen, call.unit}
        await d.runtime.ami.send({"Action": "ConfbridgeList", "Conference": room})
        await socket.wait_for("call", event="ended")  # the agent's leg is gone, the others talk on
        assert (await d.get("agent", "/agent/state")).json()["three_party"]["state"] == "citizen_and_unit"
        await socket.close()


async def test_given_a_unit_that_does_not_answer_then_the_call_is_two_party_again_and_the_agent_is_told(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    recording = _scripted("set2-c-three-party-redirect-into-confbridge", unit_failure="orig-noanswer-local")
    async with desk(settings, clock, db_session, recording=recording, time_scale=0.0) as d:
        await _answered_call(d, "PJSIP/1002", '"张三丰" <13800138000>')
        socket = await d.socket("agent")
        unit = d.city.units["xinhua"]
        from minhu.db.models import Unit

        row = await db_session.get(Unit, unit)
        assert row is not None
        row.phone = "2001"
        await db_session.commit()

        r = await d.post("agent", "/agent/three-party", {"unit_id": unit})
        assert r.status_code == 409
        assert r.json()["error"] == "three-party-unit-unreachable" and "无人接听" in r.json()["message"]
        told = await socket.wait_for("three_party")
        assert told["call"]["state"] == "two_party" and told["call"]["unit_failure"] == "无人接听"
        assert "无人接听" in told["message"]
        state = (await d.get("agent", "/agent/state")).json()
        assert state["three_party"]["state"] == "two_party" and state["call"] is not None
        refused = await d.post("agent", "/agent/three-party/leave")
        assert refused.status_code == 409 and refused.json()["error"] == "three-party-unit-absent"

        r = await d.post("agent", "/agent/three-party/retry")
        assert r.status_code == 200, r.text
        assert r.json()["state"] == "three_party"
        await socket.close()

"""The IVR inside Minhu's call flow: the simulator's dialplan (minhu-citizen-entry) runs AGI()
against our server, then follows MINHU_IVR_NEXT into the queue or hangs up."""

from __future__ import annotations

import asyncio

from pbx.simulator.citizen import Citizen, HangUp, Press
from pbx.simulator.fastagi_client import SoundLibrary
from pbx.simulator.scenarios import Answers, InboundCall, MemberSpec, Scenario, ScenarioEngine
from pbx.simulator.world import World

from .harness import SCALE, SOUNDS, running_ivr


async def _walk(scenario: Scenario, citizen: Citizen, agi_server: str) -> tuple[ScenarioEngine, list[str]]:
    events: list[str] = []
    world = World(lambda message: events.append(message.event or ""))
    engine = ScenarioEngine(world, scenario, time_scale=SCALE, agi_server=agi_server)
    engine.start()
    try:
        record = engine.dial_in(InboundCall(citizen))
        async with asyncio.timeout(10):
            await record.ended.wait()
    finally:
        await engine.stop()
    return engine, events


async def test_given_a_citizen_who_presses_1_then_the_dialplan_queues_the_call_and_an_agent_answers() -> None:
    scenario = Scenario(
        members=(MemberSpec("PJSIP/1001", "坐席1001"),),
        destinations=(("PJSIP/1001", Answers(after=2.0, hang_up_after=5.0)),),
        sounds=SOUNDS,
    )
    citizen = Citizen.scripted(Press("1", at=8.0), HangUp(at=120.0), name="王小明")
    async with running_ivr() as ivr:
        engine, events = await _walk(scenario, citizen, ivr.server.address)
    record = engine.calls[0]
    [agi, *_] = record.agi
    assert agi.status == "SUCCESS"
    assert agi.variables["MINHU_IVR_NEXT"] == "queue"
    assert "QueueCallerJoin" in events
    assert record.answered_by == "PJSIP/1001"


async def test_given_a_booked_call_back_then_the_dialplan_hangs_up_without_queueing() -> None:
    scenario = Scenario(sounds=SOUNDS)
    citizen = Citizen.scripted(Press("1", at=8.0), Press("1", at=9.0))
    async with running_ivr(wait_s=900) as ivr:
        engine, events = await _walk(scenario, citizen, ivr.server.address)
    assert engine.calls[0].agi[0].variables["MINHU_IVR_NEXT"] == "hangup"
    assert "QueueCallerJoin" not in events
    assert engine.calls[0].ended_by == "dialplan"


async def test_given_a_prompt_missing_on_the_asterisk_host_then_the_call_still_reaches_the_queue() -> None:
    sounds = SoundLibrary({k: v for k, v in SOUNDS.durations.items() if k != "minhu/welcome"}, default=None)
    scenario = Scenario(sounds=sounds)
    citizen = Citizen.scripted(Press("1", at=6.0), HangUp(at=40.0))
    async with running_ivr() as ivr:
        engine, events = await _walk(scenario, citizen, ivr.server.address)
        failed = ivr.events("ivr.prompt_failed")
    assert engine.calls[0].agi[0].commands[0] == (
        'STREAM FILE minhu/welcome "0123456789*#"',
        "200 result=-1 endpos=0",
    )
    assert failed[0]["prompt"] == "minhu/welcome"
    assert engine.calls[0].agi[0].variables["MINHU_IVR_NEXT"] == "queue"
    assert "QueueCallerJoin" in events

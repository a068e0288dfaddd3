"""Scripted scenarios on the simulator, observed over TCP as Minhu would see them."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from panoramisk.fast_agi import Application

from pbx import events as ev
from pbx.ami_protocol import AmiMessage
from pbx.exceptions import AmiActionError
from pbx.manager import AmiConnection, AmiSettings
from pbx.simulator.citizen import Citizen, HangUp, Press
from pbx.simulator.recording import bundled_recordings, load_recording
from pbx.simulator.scenarios import (
    Answers,
    Busy,
    Congested,
    InboundCall,
    MemberSpec,
    RingsOut,
    Scenario,
    Unreachable,
)
from pbx.simulator.server import AmiSimulator, SimulatorSettings

from .pbx_polling import eventually
from .test_simulator import RawClient

SCALE = 0.005


@contextlib.asynccontextmanager
async def fastagi(routes: dict[str, Any]) -> AsyncIterator[str]:
    app = Application()
    for path, handler in routes.items():
        app.add_route(path, handler)
    server = await asyncio.start_server(app.handler, "127.0.0.1", 0)
    try:
        yield f"127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()


@contextlib.asynccontextmanager
async def pbx(
    scenario: Scenario,
    agi_server: str | None = None,
    scale: float = SCALE,
    calls: tuple[InboundCall, ...] = (),
) -> AsyncIterator[tuple[AmiSimulator, AmiConnection, list[ev.AmiEvent]]]:
    """A simulator playing ``scenario`` and Minhu's AMI connection to it; ``calls`` arrive once
    the connection is up, so that it sees them from their first event."""
    simulator = AmiSimulator(
        None, SimulatorSettings(time_scale=scale), scenario=scenario, agi_server=agi_server
    )
    port = await simulator.start()
    connection = AmiConnection(
        AmiSettings("127.0.0.1", port, "hotline", "hotline-secret", ping_interval=60, action_timeout=5)
    )
    seen: list[ev.AmiEvent] = []
    connection.on_event(seen.append)
    await connection.start()
    try:
        await connection.wait_connected(5)
        for call in calls:
            simulator.engine.dial_in(call)
        yield simulator, connection, seen
    finally:
        await connection.stop()
        await simulator.stop()


def _names(events: list[ev.AmiEvent]) -> list[str]:
    return [getattr(e, "event_name", "") or e.name for e in events]


def _shape(message: AmiMessage) -> tuple[str, tuple[str, ...]]:
    return (message.event or f"Response:{message.response}", message.header_names)


async def test_given_the_recorded_actions_then_the_generated_call_has_the_recordings_events() -> None:
    """b-inbound-queue-call: QueueAdd, a Local citizen Originated into Queue(citizens), the member
    answers, bridged, the citizen leg hung up, QueueRemove — event by event, header by header."""
    recording = load_recording(bundled_recordings()["b-inbound-queue-call"])
    simulator = AmiSimulator(None, SimulatorSettings(time_scale=0.0))
    port = await simulator.start()
    client = await RawClient.connect(port)
    try:
        for exchange in recording.exchanges:
            before = len(client.received)
            client.send(exchange.action)
            want = [item.message for item in exchange.replies]
            got = await client.read_until(before + len(want))
            if exchange.name == "Originate":
                # the recording stops once the agent's leg waits in the bridge: so must we
                await eventually(
                    lambda: any(len(b.channels) == 2 for b in simulator.model.bridges.values()), 2
                )
                await asyncio.sleep(0.05)
            got = client.received[before:]
            if exchange.name in ("CoreShowChannels", "BridgeList", "QueueStatus"):
                assert [m.event or m.response for m in got] == [m.event or m.response for m in want]
                continue
            assert [_shape(m) for m in got] == [_shape(m) for m in want], exchange.name
    finally:
        client.close()
        await simulator.stop()
    assert not simulator.model.channels


async def test_given_a_citizen_walks_the_ivr_into_the_queue_then_the_agent_answers_and_minhu_sees_it() -> (
    None
):
    heard: list[tuple[str, str]] = []

    async def ivr(request: Any) -> None:
        heard.append(("caller", request.headers["agi_calleridname"]))
        await request.send_command("ANSWER")
        await request.send_command('STREAM FILE minhu/welcome ""')
        choice = await request.send_command("GET DATA minhu/menu 5000 1")
        heard.append(("choice", choice["result"][0]))
        await request.send_command("SET VARIABLE MINHU_QUEUE_PRIO 0")

    citizen = Citizen.scripted(Press("1", at=2.5), HangUp(at=30.0), name="王小明")
    calls = (InboundCall(citizen),)
    scenario = Scenario(
        members=(MemberSpec("PJSIP/1001", "坐席1001"),),
        destinations=(("PJSIP/1001", Answers(after=3.0)),),
    )
    async with (
        fastagi({"ivr?did=12345": ivr}) as agi,
        pbx(scenario, agi, calls=calls) as (simulator, connection, seen),
    ):
        await eventually(lambda: any(isinstance(e, ev.AgentConnect) for e in seen), 30, "the agent answers")
        bridged = [b for b in connection.model.bridges.values() if len(b.channels) == 2]
        assert len(bridged) == 1
        await eventually(lambda: simulator.engine.calls[0].ended.is_set(), 30, "the citizen hangs up")
        await eventually(lambda: any(isinstance(e, ev.AgentComplete) for e in seen), 5)
    assert heard == [("caller", "王小明"), ("choice", "1")]
    names = _names(seen)
    for expected in (
        "Newchannel",
        "AGIExecStart",
        "QueueCallerJoin",
        "AgentCalled",
        "DialState",
        "AgentConnect",
        "BridgeEnter",
        "AgentComplete",
        "Hangup",
    ):
        assert expected in names, expected
    order = [names.index(n) for n in ("QueueCallerJoin", "AgentCalled", "AgentConnect", "AgentComplete")]
    assert order == sorted(order)
    complete = next(e for e in seen if isinstance(e, ev.AgentComplete))
    assert complete.reason == "caller"
    record = simulator.engine.calls[0]
    assert record.answered_by == "PJSIP/1001"
    assert record.ended_by == "citizen"
    await eventually(lambda: not connection.model.channels, 2)


async def test_given_no_free_agent_when_the_citizen_hangs_up_in_the_queue_then_it_is_an_abandon() -> None:
    calls = (InboundCall(Citizen.scripted(HangUp(at=20.0))),)
    scenario = Scenario(
        members=(MemberSpec("PJSIP/1001", "坐席1001", paused=True, reason="小休"),),
    )
    async with pbx(scenario, calls=calls) as (simulator, connection, seen):
        await eventually(lambda: connection.model.callers_in("citizens"), 30, "the citizen waits")
        await eventually(lambda: any(isinstance(e, ev.QueueCallerAbandon) for e in seen), 30, "abandon")
        await eventually(lambda: not connection.model.callers_in("citizens"), 2)
        await eventually(lambda: not connection.model.channels, 2)
    names = _names(seen)
    assert names.index("QueueCallerAbandon") < names.index("QueueCallerLeave") < names.index("Hangup")
    assert "AgentCalled" not in names
    assert simulator.engine.calls[0].queue_status == "ABANDON"


async def test_given_an_agent_who_never_answers_then_ring_no_answer_and_the_next_agent_takes_it() -> None:
    calls = (InboundCall(Citizen.scripted(HangUp(at=60.0))),)
    scenario = Scenario(
        members=(MemberSpec("PJSIP/1001", "坐席1001"), MemberSpec("PJSIP/1002", "坐席1002")),
        destinations=(("PJSIP/1001", RingsOut()), ("PJSIP/1002", Answers(after=1.0, hang_up_after=5.0))),
        queue_ring_timeout=4.0,
        queue_retry=1.0,
    )
    async with pbx(scenario, calls=calls) as (simulator, connection, seen):
        await eventually(lambda: simulator.engine.calls[0].ended.is_set(), 10)
        await eventually(lambda: any(isinstance(e, ev.AgentComplete) for e in seen), 5)
        await eventually(lambda: not connection.model.channels, 5)
    rna = [e for e in seen if isinstance(e, ev.AgentRingNoAnswer)]
    assert rna and rna[0].interface == "PJSIP/1001"
    connect = next(e for e in seen if isinstance(e, ev.AgentConnect))
    assert connect.interface == "PJSIP/1002"
    complete = next(e for e in seen if isinstance(e, ev.AgentComplete))
    assert complete.reason == "agent"
    assert simulator.engine.calls[0].queue_status == "CONTINUE"  # then the satisfaction rating


async def test_given_the_agent_hangs_up_then_the_citizen_goes_on_to_the_satisfaction_rating() -> None:
    rated: list[str] = []

    async def ivr(request: Any) -> None:
        await request.send_command("ANSWER")

    async def satisfaction(request: Any) -> None:
        reply = await request.send_command("GET DATA minhu/rate 5000 1")
        rated.append(reply["result"][0])

    calls = (InboundCall(Citizen.scripted(Press("5", at=12.0))),)
    scenario = Scenario(
        members=(MemberSpec("PJSIP/1001", "坐席1001"),),
        destinations=(("PJSIP/1001", Answers(after=1.0, hang_up_after=8.0)),),
    )
    routes = {"ivr?did=12345": ivr, "satisfaction": satisfaction}
    async with fastagi(routes) as agi, pbx(scenario, agi, calls=calls) as (simulator, connection, _seen):
        await eventually(lambda: simulator.engine.calls[0].ended.is_set(), 10)
        await eventually(lambda: not connection.model.channels, 2)
    assert rated == ["5"]


async def test_given_a_hangup_action_on_the_agent_then_the_call_ends_cleanly_on_both_sides() -> None:
    """A Local agent (the recording rig's agent-sim) hung up by AMI: AgentComplete says agent, the
    citizen goes on (queue option c) to the satisfaction context, which without FastAGI hangs up."""
    calls = (InboundCall(Citizen.scripted(HangUp(at=600.0))),)
    scenario = Scenario(members=(MemberSpec("Local/1001@agent-sim", "坐席1001"),))
    async with pbx(scenario, calls=calls) as (simulator, connection, seen):
        await eventually(lambda: any(isinstance(e, ev.AgentConnect) for e in seen), 5)
        agent = next(e for e in seen if isinstance(e, ev.AgentConnect)).dest.channel
        assert agent.startswith("Local/1001@agent-sim-") and agent.endswith(";1")
        await connection.hangup(agent)
        await eventually(lambda: simulator.engine.calls[0].ended.is_set(), 5)
        await eventually(lambda: not connection.model.channels and not connection.model.bridges, 5)
        with pytest.raises(AmiActionError, match="No such channel"):
            await connection.hangup(agent)
    complete = next(e for e in seen if isinstance(e, ev.AgentComplete))
    assert complete.reason == "agent"
    assert simulator.engine.calls[0].queue_status == "CONTINUE"


@pytest.mark.parametrize(
    ("channel", "behaviour", "reason"),
    [
        ("Local/13800000003@minhu-dial-citizen/n", RingsOut(), 3),
        ("Local/13800000005@minhu-dial-citizen/n", Busy(), 5),
        ("PJSIP/9999", Unreachable(), 0),
        ("Local/13800000008@minhu-dial-citizen/n", Congested(), 8),
        ("Local/13800000004@minhu-dial-citizen/n", Answers(after=2.0, hang_up_after=3.0), 4),
        ("PJSIP/2001", RingsOut(), 3),
        ("PJSIP/2002", Answers(after=1.0, hang_up_after=1.0), 4),
    ],
)
async def test_given_a_destination_behaviour_then_originate_reports_its_reason(
    channel: str, behaviour: Any, reason: int
) -> None:
    scenario = Scenario(destinations=((channel.split("/n")[0] + "*", behaviour),))
    async with pbx(scenario) as (_simulator, connection, seen):
        result = await connection.originate(
            channel, context="minhu-units", exten="s", caller_id='"12345回访" <12345>', ring_timeout=10
        )
        assert result.reason == reason
        if reason == 4:
            assert result.uniqueid == result.channel_id  # the preset ChannelId
        else:
            assert result.uniqueid in (result.channel_id, "<unknown>")
        await eventually(lambda: not connection.model.channels, 30, "every channel hung up")
    if reason != 0:
        assert any(isinstance(e, ev.Newchannel) for e in seen)


async def test_given_an_answered_survey_originate_then_the_citizen_answers_the_survey_over_fastagi() -> None:
    answers: list[tuple[str, str]] = []

    async def survey(request: Any) -> None:
        await request.send_command("ANSWER")
        reply = await request.send_command("GET DATA minhu/survey-q1 5000 1")
        answers.append((request.headers["agi_network_script"], reply["result"][0]))
        await request.send_command("HANGUP")

    respondent = Citizen.scripted(Press("1", at=1.0))
    scenario = Scenario(
        destinations=(("Local/139*@minhu-dial-citizen*", Answers(after=2.0, citizen=respondent)),)
    )
    async with (
        fastagi({"survey?revisit=R-1": survey}) as agi,
        pbx(scenario, agi) as (_sim, connection, _seen),
    ):
        result = await connection.originate(
            "Local/13900139000@minhu-dial-citizen/n",
            context="minhu-revisit-survey",
            exten="s",
            variables={"MINHU_REVISIT_ID": "R-1"},
        )
        assert result.reason == 4
        await eventually(lambda: bool(answers), 30, "the survey ran")
        await eventually(lambda: not connection.model.channels, 5)
    assert answers == [("survey?revisit=R-1", "1")]


async def test_given_queue_actions_then_members_change_as_recorded_and_status_agrees() -> None:
    async with pbx(Scenario()) as (simulator, connection, seen):
        await connection.queue_add("citizens", "PJSIP/1001", member_name="坐席1001")
        await connection.queue_pause("citizens", "PJSIP/1001", True, "小休")
        await eventually(lambda: connection.model.members_of("citizens")[0].paused, 2)
        assert connection.model.members_of("citizens")[0].paused_reason == "小休"
        await connection.resync()
        assert connection.model.members_of("citizens")[0].paused
        await connection.queue_remove("citizens", "PJSIP/1001")
        await eventually(lambda: not connection.model.members_of("citizens"), 2)
        with pytest.raises(AmiActionError, match="Not there"):
            await connection.queue_remove("citizens", "PJSIP/1001")
    assert [n for n in _names(seen) if n.startswith("QueueMember")] == [
        "QueueMemberAdded",
        "QueueMemberPause",
        "QueueMemberRemoved",
    ]
    assert not simulator.world.queues["citizens"].members

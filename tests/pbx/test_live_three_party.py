"""The three-party call on the live (scripted, non-recording) simulator: a citizen's queue call,
the agent's ``ThreePartyService`` dual-Redirects both legs into a ConfBridge room, the unit's
phone is Originated into it, the agent drops out, and the hang-ups end it, all through
``AmiConnection`` over TCP, with the event shapes of ``c-three-party-confbridge``."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from pbx.dialplan_names import THREE_PARTY_CONTEXT
from pbx.events import (
    AgentComplete,
    AmiEvent,
    ConfbridgeJoin,
    ConfbridgeLeave,
    Newexten,
    UnknownEvent,
    VarSet,
)
from pbx.manager import AmiConnection, AmiSettings
from pbx.simulator.citizen import Citizen, HangUp
from pbx.simulator.scenarios import Answers, InboundCall, MemberSpec, Scenario
from pbx.simulator.server import AmiSimulator, SimulatorSettings
from pbx.three_party import ThreePartyService, ThreePartyState

from .pbx_polling import eventually

AGENT = "PJSIP/1001"
UNIT = "2001"
SCENARIO = Scenario(
    members=(MemberSpec(AGENT, "坐席1001"),),
    destinations=((AGENT, Answers(after=0.5)), (f"Local/{UNIT}@minhu-dial-unit*", Answers(after=1.0))),
)


@pytest.fixture
async def live() -> AsyncIterator[tuple[AmiSimulator, AmiConnection, list[AmiEvent]]]:
    simulator = AmiSimulator(
        settings=SimulatorSettings(time_scale=0.01, restart_delay=0.0), scenario=SCENARIO
    )
    await simulator.start()
    connection = AmiConnection(
        AmiSettings(
            host="127.0.0.1",
            port=simulator.port,
            username="hotline",
            secret="hotline-secret",
            action_timeout=5.0,
            ping_interval=30.0,
        ),
        rng=random.Random(1),
    )
    seen: list[AmiEvent] = []
    connection.on_event(seen.append)
    await connection.start()
    await connection.wait_connected(5)
    # the citizen calls once the client is connected: AmiConnection.resync replaces the model
    # with status lists read one after the other, so a call set up meanwhile can be missed
    simulator.engine.dial_in(InboundCall(Citizen.scripted(HangUp(at=3600.0), name="张三")))
    try:
        yield simulator, connection, seen
    finally:
        await connection.stop()
        await simulator.stop()


def _agent_in_a_call(connection: AmiConnection) -> str | None:
    model = connection.model
    for channel in model.channels.values():
        bridge = model.bridge_of(channel.uniqueid)
        if channel.name.startswith(AGENT) and bridge is not None and len(bridge.channels) == 2:
            return channel.uniqueid
    return None


async def _agent_answers(connection: AmiConnection) -> str:
    await eventually(lambda: _agent_in_a_call(connection), what="the agent answers the queued citizen")
    agent = _agent_in_a_call(connection)
    assert agent is not None
    return agent


async def test_given_a_live_call_when_a_unit_joins_and_the_agent_leaves_then_citizen_and_unit_stay(
    live: tuple[AmiSimulator, AmiConnection, list[AmiEvent]],
) -> None:
    simulator, connection, seen = live
    model = connection.model
    agent = await _agent_answers(connection)
    service = ThreePartyService(connection, join_timeout=10.0, alone_grace=0.2)
    try:
        call = await service.start(agent, UNIT, room="800123")
        assert call.state is ThreePartyState.THREE_PARTY
        assert model.conferences["800123"].members == {call.citizen, call.agent, call.unit}
        # the member is still in a call while the agent talks in the room
        assert model.queue_members[("citizens", AGENT)].in_call

        listing = await connection.send({"Action": "ConfbridgeList", "Conference": "800123"})
        assert isinstance(listing, list)
        assert {m.value("Uniqueid") for m in listing if m.event == "ConfbridgeList"} == {
            call.citizen,
            call.agent,
            call.unit,
        }

        assert (await service.drop_agent(call)).state is ThreePartyState.CITIZEN_AND_UNIT
        assert model.conferences["800123"].members == {call.citizen, call.unit}
        await eventually(lambda: call.agent not in model.channels)
        await eventually(lambda: not model.queue_members[("citizens", AGENT)].in_call)

        # the unit hangs up: the citizen is alone, is taken out of the room to rate the call
        unit = call.unit
        assert unit is not None
        await connection.hangup(model.channels[unit].name)
        await eventually(lambda: call.state is ThreePartyState.ENDED)
        await eventually(lambda: not model.channels and not model.conferences and not model.bridges)
    finally:
        await service.aclose()

    joins = [e for e in seen if isinstance(e, ConfbridgeJoin)]
    leaves = [e for e in seen if isinstance(e, ConfbridgeLeave)]
    assert [e.channel.uniqueid for e in joins][-1] == call.unit
    assert {e.channel.uniqueid for e in joins} == {call.citizen, call.agent, call.unit}
    assert [e.channel.uniqueid for e in leaves] == [call.agent, call.unit, call.citizen]
    # the announcer counts in BridgeNumChannels, as recorded
    assert [e.bridge.num_channels for e in joins] == [2, 3, 4]
    assert [e.reason for e in seen if isinstance(e, AgentComplete)] == ["agent"]
    assert simulator.engine.calls[0].ended_by is not None


async def test_given_a_live_queue_call_when_the_legs_are_redirected_then_the_events_follow_the_recorded_order(
    live: tuple[AmiSimulator, AmiConnection, list[AmiEvent]],
) -> None:
    _, connection, seen = live
    agent = await _agent_answers(connection)
    service = ThreePartyService(connection, join_timeout=10.0)
    try:
        call = await service.start(agent, UNIT, room="800124")
        start = next(
            i
            for i, e in enumerate(seen)
            if isinstance(e, VarSet) and e.variable == "BRIDGEPEER" and not e.value
        )
        names = [_name(e) for e in seen[start:]]
        # c-three-party-confbridge after the dual Redirect: each leg at the room's extension but
        # still in its queue application, no AgentComplete, both legs leave the queue's bridge,
        # it goes away, the room starts and the legs join it
        assert names[:6] == ["VarSet", "Newexten", "VarSet", "Newexten", "BridgeLeave", "BridgeLeave"]
        first_steps = [e for e in seen[start:] if isinstance(e, Newexten)][:2]
        assert [(e.application, e.channel.context, e.channel.exten) for e in first_steps] == [
            ("AppQueue", THREE_PARTY_CONTEXT, "800124"),
            ("Queue", THREE_PARTY_CONTEXT, "800124"),
        ]
        expected = [
            "BridgeLeave",
            "BridgeLeave",
            "BridgeDestroy",
            "BridgeCreate",
            "ConfbridgeStart",
            "BridgeEnter",
        ]
        assert [n for n in names if n in set(expected)][: len(expected)] == expected
        assert "AgentComplete" not in names
        await service.hang_up(call)
    finally:
        await service.aclose()


def _name(event: AmiEvent) -> str:
    return event.event_name if isinstance(event, UnknownEvent) else event.name

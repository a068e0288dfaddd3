"""The three-party call against the simulator over TCP, through ``AmiConnection``.

The simulator answers each action with what the real Asterisk answered in the recordings
``c-three-party-confbridge`` and set2's ``c-three-party-redirect-into-confbridge``. Two steps are
spliced into those scripts here because the recordings lack them:

* the service's two ``Setvar`` of ``MINHU_THREEPARTY_ROLE`` before the Redirect (the recording
  rig's dialplan needed no roles). Their answer is built as Asterisk 22's ``action_setvar`` sends
  it: ``Response: Success`` / ``Message: Variable Set`` and a ``VarSet`` event of the channel;
* for an unanswered unit, one recorded failed Originate from set2's
  ``d-originate-failures-noanswer-unavailable-busy`` (Reason 3, 5 or 0) in place of the unit's
  first Originate.
"""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest

from pbx.ami_protocol import AmiMessage
from pbx.call_model import AgentAnswered, ModelChange
from pbx.dialplan_names import THREE_PARTY_ROLE_VARIABLE
from pbx.manager import AmiConnection, AmiSettings
from pbx.simulator.recording import (
    Exchange,
    Recording,
    Session,
    TimedMessage,
    bundled_recordings,
    load_recording,
)
from pbx.simulator.server import AmiSimulator, SimulatorSettings
from pbx.three_party import (
    CitizenAlone,
    InvalidUnitNumberError,
    NoBridgedCallError,
    ThreePartyCall,
    ThreePartyService,
    ThreePartyState,
    UnitNotInCallError,
    UnitUnreachableError,
)

from .pbx_polling import eventually

FAST = SimulatorSettings(time_scale=0.0, restart_delay=0.0)
_CHANNEL_HEADERS = (
    "Channel ChannelState ChannelStateDesc CallerIDNum CallerIDName ConnectedLineNum ConnectedLineName "
    "Language AccountCode Context Exten Priority Uniqueid Linkedid"
).split()


def _setvar_exchange(before: list[AmiMessage], channel: str, value: str) -> Exchange:
    """A Setvar on ``channel`` as Asterisk 22 answers it (see the module docstring)."""
    source = next(m for m in reversed(before) if m.get("Channel") == channel and m.get("Uniqueid"))
    snapshot = [(name, source.value(name)) for name in _CHANNEL_HEADERS]
    action_id = f"setvar-{value}"
    action = AmiMessage(
        (
            ("Action", "Setvar"),
            ("ActionID", action_id),
            ("Channel", channel),
            ("Variable", THREE_PARTY_ROLE_VARIABLE),
            ("Value", value),
        )
    )
    response = AmiMessage((("Response", "Success"), ("ActionID", action_id), ("Message", "Variable Set")))
    event = AmiMessage(
        (
            ("Event", "VarSet"),
            ("Privilege", "dialplan,all"),
            *snapshot,
            ("Variable", THREE_PARTY_ROLE_VARIABLE),
            ("Value", value),
        )
    )
    return Exchange(action, (TimedMessage(0.001, response), TimedMessage(0.001, event)))


def _scripted(name: str, unit_failure: str | None = None) -> Recording:
    """The recording with the role Setvars before its Redirect (and a failed unit Originate)."""
    recording = load_recording(bundled_recordings()[name])
    (session,) = recording.sessions
    exchanges: list[Exchange] = []
    received: list[AmiMessage] = [item.message for item in session.greeting]
    for exchange in session.exchanges:
        if exchange.name == "Redirect":
            exchanges.append(_setvar_exchange(received, exchange.action.value("Channel"), "citizen"))
            exchanges.append(_setvar_exchange(received, exchange.action.value("ExtraChannel"), "agent"))
        if exchange.name == "Redirect" and unit_failure is not None:
            failures = load_recording(
                bundled_recordings()["set2-d-originate-failures-noanswer-unavailable-busy"]
            )
            exchanges.append(exchange)
            exchanges.append(next(e for e in failures.exchanges if e.action.get("ActionID") == unit_failure))
            received.extend(item.message for item in exchange.replies)
            continue
        exchanges.append(exchange)
        received.extend(item.message for item in exchange.replies)
    return Recording(recording.name, (Session(session.banner, session.greeting, tuple(exchanges)),))


@dataclass
class Rig:
    simulator: AmiSimulator
    ami: AmiConnection
    service: ThreePartyService
    answered: list[AgentAnswered]

    def members(self, room: str) -> int:
        conference = self.ami.model.conferences.get(room)
        return len(conference.members) if conference is not None else 0

    async def answered_call(self, member: str, interface: str, caller_id: str) -> AgentAnswered:
        """Script steps 1-2 of every recording: a member signs in and a citizen's call is answered."""
        await self.ami.queue_add("citizens", interface, member)
        await self.ami.originate(
            "Local/12345@from-citizen", context="citizen-sim", exten="s", caller_id=caller_id
        )
        model = self.ami.model

        def bridged() -> bool:
            bridge = model.bridge_of(self.answered[-1].agent_uniqueid) if self.answered else None
            return bridge is not None and len(bridge.channels) == 2

        await eventually(bridged, what="agent and citizen bridged")
        return self.answered[-1]


async def _rig(recording: Recording, citizen_alone: CitizenAlone = CitizenAlone.RATE) -> Rig:
    simulator = AmiSimulator(recording, FAST)
    await simulator.start()
    ami = AmiConnection(
        AmiSettings(
            host="127.0.0.1",
            port=simulator.port,
            username="hotline",
            secret="hotline-secret",
            action_timeout=3.0,
            backoff_initial=0.05,
            backoff_max=0.2,
            ping_interval=30.0,
        ),
        rng=random.Random(3),
    )
    answered: list[AgentAnswered] = []

    def keep(changes: list[ModelChange]) -> None:
        answered.extend(c for c in changes if isinstance(c, AgentAnswered))

    ami.on_changes(keep)
    service = ThreePartyService(
        ami, join_timeout=3.0, alone_grace=0.05, citizen_alone=citizen_alone, rng=random.Random(4)
    )
    await ami.start()
    await ami.wait_connected(5)
    return Rig(simulator, ami, service, answered)


@pytest.fixture
async def rigs() -> AsyncIterator[list[Rig]]:
    started: list[Rig] = []
    yield started
    for rig in started:
        await rig.service.aclose()
        await rig.ami.stop()
        await rig.simulator.stop()


def _state(call: ThreePartyCall) -> ThreePartyState:
    """The call's state now (read through a call: it changes behind the test's back)."""
    return call.state


async def _conference_list(ami: AmiConnection, room: str) -> list[str]:
    reply = await ami.send({"Action": "ConfbridgeList", "Conference": room})
    assert isinstance(reply, list)
    return [m.value("Uniqueid") for m in reply if m.event == "ConfbridgeList"]


async def test_given_an_agent_and_a_citizen_when_a_unit_is_brought_in_then_three_talk_and_the_agent_can_leave(
    rigs: list[Rig],
) -> None:
    rig = await _rig(_scripted("c-three-party-confbridge"))
    rigs.append(rig)
    answered = await rig.answered_call("坐席1001", "Local/1001@agent-sim", '"王五" <13900139000>')
    await rig.ami.send({"Action": "BridgeList"})  # the recording checks the bridge here

    call = await rig.service.start(answered.agent_uniqueid, "2001", room="900")

    assert _state(call) is ThreePartyState.THREE_PARTY
    assert rig.members("900") == 3
    assert {call.citizen, call.agent, call.unit} == rig.ami.model.conferences["900"].members
    assert call.citizen == answered.caller_uniqueid
    assert call.unit is not None
    assert sorted(await _conference_list(rig.ami, "900")) == sorted({call.citizen, call.agent, call.unit})
    citizen = rig.ami.model.channels[call.citizen]
    assert citizen.conference == "900" and citizen.linkedid == answered.linkedid

    await rig.service.drop_agent(call)

    assert _state(call) is ThreePartyState.CITIZEN_AND_UNIT
    assert rig.members("900") == 2
    assert call.agent not in rig.ami.model.conferences["900"].members
    await _conference_list(rig.ami, "900")  # the recording lists the room again
    await eventually(lambda: call.agent not in rig.ami.model.channels, what="agent's leg hung up")
    assert _state(call) is ThreePartyState.CITIZEN_AND_UNIT

    # everybody hangs up: the call ends cleanly, nothing is left for the service to do
    await rig.ami.command("channel request hangup all")
    await eventually(lambda: _state(call) is ThreePartyState.ENDED, what="call ended")
    await eventually(lambda: not rig.ami.model.channels and "900" not in rig.ami.model.conferences)
    await rig.ami.queue_remove("citizens", "Local/1001@agent-sim")
    assert [e.name for e in rig.simulator.pending_exchanges] == ["Logoff"]
    assert call.to_public_dict() == {
        "room": "900",
        "state": "ended",
        "unit_number": "2001",
        "unit_failure": None,
    }


@pytest.mark.parametrize(
    ("failure", "reason", "text"),
    [
        ("orig-noanswer-local", 3, "无人接听"),
        ("orig-busy-local", 5, "忙线"),
        ("orig-unavailable-sip", 0, "无法接通"),
    ],
)
async def test_given_the_unit_does_not_answer_then_citizen_and_agent_stay_together_and_the_agent_is_told(
    rigs: list[Rig], failure: str, reason: int, text: str
) -> None:
    recording = _scripted("set2-c-three-party-redirect-into-confbridge", unit_failure=failure)
    rig = await _rig(recording, citizen_alone=CitizenAlone.HANG_UP)
    rigs.append(rig)
    answered = await rig.answered_call("坐席1002", "PJSIP/1002", '"张三丰" <13800138000>')

    with pytest.raises(UnitUnreachableError) as caught:
        await rig.service.start(answered.agent_uniqueid, "2001", room="8001")

    assert caught.value.error_id == "three-party-unit-unreachable"
    assert caught.value.details["reason"] == reason and text in caught.value.message
    call: ThreePartyCall = rig.service.calls["8001"]
    assert _state(call) is ThreePartyState.TWO_PARTY
    assert rig.ami.model.conferences["8001"].members == {call.citizen, call.agent}
    assert call.to_public_dict()["unit_failure"] == text
    with pytest.raises(UnitNotInCallError):
        await rig.service.drop_agent(call)

    # the agent tries again and the unit answers this time
    await rig.service.invite_unit(call)
    assert _state(call) is ThreePartyState.THREE_PARTY and rig.members("8001") == 3
    assert len(await _conference_list(rig.ami, "8001")) == 3

    # set2 goes on with the agent, then the unit hanging up their phones: the citizen is left
    # alone in the room, and the service hangs the citizen's leg up
    await rig.ami.send({"Action": "ConfbridgeListRooms"})
    await eventually(lambda: _state(call) is ThreePartyState.ENDED, what="call ended")
    await eventually(lambda: not rig.ami.model.channels, what="every leg hung up")
    await rig.ami.queue_remove("citizens", "PJSIP/1002")
    assert [e.name for e in rig.simulator.pending_exchanges] == ["Logoff"]


async def test_given_no_bridged_call_or_a_bad_number_then_nothing_is_sent(rigs: list[Rig]) -> None:
    rig = await _rig(_scripted("c-three-party-confbridge"))
    rigs.append(rig)
    with pytest.raises(NoBridgedCallError) as caught:
        await rig.service.start("1795360879.26", "2001")
    assert caught.value.error_id == "three-party-no-bridged-call"
    with pytest.raises(InvalidUnitNumberError):
        await rig.service.start("1795360879.26", "2001@evil-context")
    assert [e.name for e in rig.simulator.pending_exchanges][:2] == ["QueueAdd", "Originate"]

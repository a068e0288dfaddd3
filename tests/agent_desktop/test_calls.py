"""Which agent has which call, from the model's changes (pure)."""

from __future__ import annotations

from dataclasses import replace

from agent_desktop.agents.calls import (
    CallAnswered,
    CallEnded,
    CallOffered,
    CallTracker,
    CallUpdated,
    interface_of,
)
from pbx.call_model import (
    AgentAnswered,
    CallModel,
    Channel,
    ChannelChanged,
    ChannelGone,
    QueueCaller,
    QueueMemberState,
)

CITIZEN = Channel(
    "1.0",
    "1.0",
    "PJSIP/carrier-00000000",
    6,
    "Up",
    "13812341234",
    "王",
    "",
    "",
    "minhu-inbound-queue",
    "s",
    2,
)
AGENT_LEG = Channel(
    "1.1",
    "1.0",
    "PJSIP/1001-00000001",
    5,
    "Ringing",
    "<unknown>",
    "<unknown>",
    "13812341234",
    "王",
    "minhu-agents",
    "s",
    1,
)
MEMBER = QueueMemberState(
    "citizens", "PJSIP/1001", "agent", "PJSIP/1001", "dynamic", 0, 0, False, 1, False, ""
)


def view() -> CallModel:
    model = CallModel()
    model.channels[CITIZEN.uniqueid] = CITIZEN
    model.queue_callers[("citizens", "1.0")] = QueueCaller(
        "citizens", "1.0", CITIZEN.name, 1, "13812341234", "王"
    )
    model.queue_members[("citizens", "PJSIP/1001")] = MEMBER
    return model


def test_given_a_queue_call_rings_an_agent_then_offered_answered_and_ended_follow() -> None:
    model, tracker = view(), CallTracker()
    model.channels[AGENT_LEG.uniqueid] = AGENT_LEG
    (offered,) = tracker.apply([ChannelChanged(AGENT_LEG)], model, 10.0)
    assert isinstance(offered, CallOffered)
    assert offered.call.username == "agent" and offered.call.caller_number == "13812341234"
    assert offered.call.to_public_dict(masked=True)["caller_number"] == "138****1234"
    up = replace(AGENT_LEG, state=6, state_desc="Up")
    assert tracker.apply([ChannelChanged(up)], model, 11.0) == []
    (answered,) = tracker.apply(
        [AgentAnswered("citizens", "PJSIP/1001", "agent", "1.0", "1.1", "1.0")], model, 11.0
    )
    assert isinstance(answered, CallAnswered) and answered.call.answered_at == 11.0
    (updated,) = tracker.apply([ChannelChanged(replace(up, conference="900"))], model, 12.0)
    assert isinstance(updated, CallUpdated) and updated.call.phase.value == "conference"
    (ended,) = tracker.apply([ChannelGone(up)], model, 20.0)
    assert isinstance(ended, CallEnded) and ended.answered
    assert tracker.call_of("agent") is None


def test_given_a_channel_of_someone_not_signed_in_then_nothing() -> None:
    model, tracker = view(), CallTracker()
    other = replace(AGENT_LEG, uniqueid="1.5", name="PJSIP/1002-00000005")
    assert tracker.apply([ChannelChanged(other)], model, 1.0) == []


def test_given_a_reload_mid_call_then_the_call_is_answered_and_a_vanished_one_ends() -> None:
    model, tracker = view(), CallTracker()
    model.channels["1.1"] = replace(AGENT_LEG, state=6, state_desc="Up")
    (fact,) = tracker.reset(model, 5.0)
    assert isinstance(fact, CallAnswered) and fact.call.caller_number == "13812341234"
    del model.channels["1.1"]
    (gone,) = tracker.reset(model, 6.0)
    assert isinstance(gone, CallEnded)


def test_local_channels_match_only_their_first_half() -> None:
    interfaces = {"Local/1001@agent-sim": "agent", "PJSIP/1001": "agent"}
    assert interface_of("Local/1001@agent-sim-00000004;1", interfaces) == "Local/1001@agent-sim"
    assert interface_of("Local/1001@agent-sim-00000004;2", interfaces) is None
    assert interface_of("PJSIP/10010-00000001", interfaces) is None

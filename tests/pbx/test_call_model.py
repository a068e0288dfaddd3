from __future__ import annotations

from pbx import events as ev
from pbx.ami_protocol import AmiMessage, parse_frame
from pbx.call_model import (
    AgentAnswered,
    CallModel,
    ChannelGone,
    PbxSnapshot,
    QueueCallerJoined,
)
from pbx.simulator.recording import Exchange, Recording, bundled_recordings, load_recording


def _recording(name: str) -> Recording:
    return load_recording(bundled_recordings()[name])


def _unsolicited(exchange: Exchange) -> list[ev.AmiEvent]:
    return [
        ev.parse_event(item.message)
        for item in exchange.replies
        if item.message.is_event and item.message.action_id is None
    ]


def _play_until(recording: Recording, action_id: str) -> tuple[CallModel, list[object]]:
    model = CallModel()
    changes: list[object] = []
    for exchange in recording.exchanges:
        for event in _unsolicited(exchange):
            changes += model.apply(event)
        if exchange.action.get("ActionID") == action_id:
            break
    return model, changes


def test_every_recorded_event_becomes_a_typed_event_without_dicts() -> None:
    for path in bundled_recordings().values():
        for message in load_recording(path).received():
            if not message.is_event:
                continue
            event = ev.parse_event(message)
            assert isinstance(event, ev.AmiEvent)
            if isinstance(event, ev.UnknownEvent):
                assert event.event_name == message.event
                assert message.event not in ev.EVENT_TYPES
            else:
                assert type(event).name == message.event


def test_given_originate_responses_then_reason_codes_are_typed() -> None:
    reasons = {
        event.action_id: event.reason
        for exchange in _recording("d-originate-failures").exchanges
        for event in _unsolicited(exchange)
        + [ev.parse_event(i.message) for i in exchange.replies if i.message.event == "OriginateResponse"]
        if isinstance(event, ev.OriginateResponse)
    }
    assert reasons == {
        "orig-noans": 3,
        "orig-busy": 5,
        "orig-unavail": 0,
        "orig-badtech": 0,
        "orig-answer": 4,
    }


def test_given_dial_begin_from_originate_then_there_is_no_caller_snapshot() -> None:
    message = parse_frame(
        "Event: DialBegin\r\nPrivilege: call,all\r\nDestChannel: Local/1@x-1;1\r\nDestUniqueid: 9.1\r\n"
        "DestLinkedid: 9.1\r\nDialString: 1@x"
    )
    event = ev.parse_event(message)
    assert isinstance(event, ev.DialBegin)
    assert event.caller is None and event.dest.uniqueid == "9.1"


def test_given_an_unknown_event_then_headers_are_kept_as_pairs() -> None:
    event = ev.parse_event(AmiMessage((("Event", "Foo"), ("Privilege", "x"), ("A", "1"))))
    assert isinstance(event, ev.UnknownEvent)
    assert event.headers == (("Event", "Foo"), ("Privilege", "x"), ("A", "1"))


def test_given_an_inbound_queue_call_when_the_agent_answers_then_both_legs_are_bridged() -> None:
    model, changes = _play_until(_recording("b-inbound-queue-call"), "orig-1")
    citizen = model.channel_named("Local/12345@from-citizen-00000000;1")
    assert citizen is not None and citizen.caller_id_name == "李四"
    call = model.call(citizen.linkedid)
    assert len(call) == 4
    (bridge,) = model.bridges.values()
    assert {model.channels[u].name for u in bridge.channels} == {
        "Local/12345@from-citizen-00000000;2",
        "Local/1001@agent-sim-00000001;1",
    }
    member = model.queue_members[("citizens", "Local/1001@agent-sim")]
    assert member.member_name == "坐席1001" and member.in_call
    assert any(isinstance(c, QueueCallerJoined) for c in changes)
    assert not model.queue_callers  # the caller left the queue when the agent answered
    answered = [c for c in changes if isinstance(c, AgentAnswered)]
    assert answered and answered[0].member_name == "坐席1001"


def test_given_the_three_party_conference_when_the_agent_is_kicked_then_citizen_and_unit_stay() -> None:
    recording = _recording("c-three-party-confbridge")
    model, _ = _play_until(recording, "orig-unit")
    conference = model.conferences["900"]
    assert len(conference.members) == 3
    model, _ = _play_until(recording, "cbl-2")
    members = {model.channels[u].name for u in model.conferences["900"].members}
    assert members == {"Local/12345@from-citizen-0000000b;2", "Local/2001@agent-sim-0000000e;1"}
    assert model.channel_named("Local/1001@agent-sim-0000000c;1") is None


def test_given_bridgeadd_of_a_unit_then_the_queue_bridge_holds_three_channels() -> None:
    model, _ = _play_until(
        _recording("set2-c2-three-party-bridgeadd-into-queue-bridge"), "orig-unit-bridgeadd"
    )
    (bridge,) = model.bridges.values()
    assert len(bridge.channels) == 3
    assert model.channel_named("PJSIP/2001-00000005") is not None


def test_every_recording_ends_with_an_empty_model() -> None:
    for path in bundled_recordings().values():
        model = CallModel()
        changes = []
        for exchange in load_recording(path).exchanges:
            for event in _unsolicited(exchange):
                changes += model.apply(event)
        assert not model.channels and not model.bridges and not model.queue_callers, path.stem
        assert not model.queue_members and not model.conferences, path.stem


def _list_items(exchange: Exchange) -> list[ev.AmiEvent]:
    return [ev.parse_event(i.message) for i in exchange.replies if i.message.is_event and i.message.action_id]


def test_given_status_answers_when_resyncing_then_the_model_matches_the_event_built_one() -> None:
    recording = _recording("b-inbound-queue-call")
    live, _ = _play_until(recording, "qs-1")
    by_id = {e.action.get("ActionID"): e for e in recording.exchanges}
    items = _list_items(by_id["ch-1"]) + _list_items(by_id["bl-1"]) + _list_items(by_id["qs-1"])
    snapshot = PbxSnapshot(
        channels=tuple(i for i in items if isinstance(i, ev.CoreShowChannel)),
        bridges=tuple(i for i in items if isinstance(i, ev.BridgeListItem)),
        queue_members=tuple(i for i in items if isinstance(i, ev.QueueMember)),
    )
    fresh = CallModel()
    fresh.resync(snapshot)
    assert set(fresh.channels) == set(live.channels)
    assert {u: c.bridge_id for u, c in fresh.channels.items()} == {
        u: c.bridge_id for u, c in live.channels.items()
    }
    assert {b: x.channels for b, x in fresh.bridges.items()} == {
        b: x.channels for b, x in live.bridges.items()
    }
    assert set(fresh.queue_members) == set(live.queue_members)
    # a resync to an empty PBX reports every channel gone
    gone = fresh.resync(PbxSnapshot())
    assert sum(isinstance(c, ChannelGone) for c in gone) == 4

"""Queue statistics and agent states: pure functions over the model's changes."""

from __future__ import annotations

from dataclasses import replace

import pytest

from agent_desktop.agents.state import AgentState, agent_state, agent_view, valid_interface
from agent_desktop.agents.stats import QueueStatsTracker, queue_stats
from pbx.call_model import (
    AgentAnswered,
    ModelChange,
    QueueCaller,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueMemberState,
)

MEMBER = QueueMemberState(
    queue="citizens",
    interface="PJSIP/1001",
    member_name="agent",
    state_interface="PJSIP/1001",
    membership="dynamic",
    penalty=0,
    calls_taken=0,
    in_call=False,
    status=1,
    paused=False,
    paused_reason="",
)


def caller(uniqueid: str) -> QueueCaller:
    return QueueCaller("citizens", uniqueid, f"PJSIP/carrier-{uniqueid}", 1, "13812341234", "王")


def answered(uniqueid: str, interface: str = "PJSIP/1001") -> AgentAnswered:
    return AgentAnswered("citizens", interface, "agent", uniqueid, uniqueid + "-agent", uniqueid)


def test_given_calls_answered_in_and_out_of_time_and_an_abandon_then_the_figures_follow() -> None:
    timeline: list[tuple[float, list[ModelChange]]] = [
        (
            0.0,
            [QueueCallerJoined(caller("a")), QueueCallerJoined(caller("b")), QueueCallerJoined(caller("c"))],
        ),
        # Asterisk reports QueueCallerLeave before AgentConnect: the wait still counts
        (5.0, [QueueCallerLeft(caller("a")), answered("a")]),
        (12.0, [QueueCallerLeft(caller("c"), abandoned=True)]),
        (30.0, [QueueCallerLeft(caller("b")), answered("b")]),
        (40.0, [QueueCallerJoined(caller("d"))]),
    ]
    stats = queue_stats("citizens", 20.0, timeline, [MEMBER], now=52.0)
    assert stats.waiting == 1 and stats.longest_wait_s == 12.0
    assert (stats.answered, stats.answered_in_time, stats.abandoned) == (2, 1, 1)
    assert stats.average_answer_s == pytest.approx(17.5)
    assert stats.service_level_pct == pytest.approx(100 / 3)
    assert stats.agents["available"] == 1


def test_given_an_answered_call_then_its_hangup_is_not_an_abandon() -> None:
    tracker = QueueStatsTracker("citizens", 20.0)
    tracker.apply([QueueCallerJoined(caller("a"))], 0.0)
    tracker.apply([QueueCallerLeft(caller("a")), answered("a")], 3.0)
    tracker.apply([QueueCallerLeft(caller("a"), abandoned=True)], 9.0)  # a late duplicate
    tracker.apply([answered("a")], 9.0)
    stats = tracker.snapshot(10.0, [])
    assert (stats.answered, stats.abandoned, stats.waiting) == (1, 0, 0)


def test_given_another_queue_then_it_is_not_counted() -> None:
    other = replace(caller("x"), queue="callbacks")
    tracker = QueueStatsTracker("citizens", 20.0)
    tracker.apply([QueueCallerJoined(other), QueueCallerLeft(other, abandoned=True)], 1.0)
    assert tracker.snapshot(2.0, []).abandoned == 0


def test_given_no_calls_then_the_service_level_is_unknown_not_zero() -> None:
    stats = QueueStatsTracker("citizens", 20.0).snapshot(0.0, [])
    assert stats.service_level_pct is None and stats.to_public_dict()["service_level_pct"] is None


def test_given_a_reload_then_waiting_callers_keep_their_known_join_time() -> None:
    tracker = QueueStatsTracker("citizens", 20.0)
    tracker.apply([QueueCallerJoined(caller("a"))], 1.0)
    tracker.reset_waiting([caller("a"), caller("b")], 10.0)
    assert tracker.joined == {"a": 1.0, "b": 10.0}


@pytest.mark.parametrize(
    ("changes", "on_call", "state"),
    [
        ({}, False, AgentState.AVAILABLE),
        ({"paused": True, "paused_reason": "break"}, False, AgentState.PAUSED),
        ({"paused": True, "paused_reason": "wrapup"}, False, AgentState.WRAPUP),
        ({"status": 6}, False, AgentState.RINGING),
        ({"status": 2, "in_call": True}, False, AgentState.ON_CALL),
        ({"paused": True, "paused_reason": "break"}, True, AgentState.ON_CALL),
        ({"status": 5}, False, AgentState.UNAVAILABLE),
    ],
)
def test_given_a_member_then_the_agent_state_is_derived(
    changes: dict[str, object], on_call: bool, state: AgentState
) -> None:
    assert agent_state(replace(MEMBER, **changes), on_call=on_call) is state  # type: ignore[arg-type]


def test_given_no_member_then_logged_out_and_the_public_shape_is_chinese() -> None:
    assert agent_state(None) is AgentState.LOGGED_OUT
    view = agent_view("agent", replace(MEMBER, paused=True, paused_reason="training")).to_public_dict()
    assert view["state_label"] == "示忙" and view["paused_label"] == "培训"


@pytest.mark.parametrize(
    ("interface", "valid"),
    [
        ("PJSIP/1001", True),
        ("Local/1001@agent-sim", True),
        ("PJSIP/10 01", False),
        ("DAHDI/1", False),
        ("PJSIP/1001\r\nAction: x", False),
    ],
)
def test_interfaces_are_checked(interface: str, valid: bool) -> None:
    assert valid_interface(interface) is valid

"""An agent's state (坐席状态), derived from Asterisk's queue membership: pure functions.

Asterisk is the source of truth: an agent is signed in when the queue has a member whose
``MemberName`` is the agent's username, paused when that member is paused, and the pause reason
is the ``QueuePause`` reason Minhu sent (``PAUSE_REASONS``). Nothing else is stored, so after a
Minhu restart the states come back with the model's resync (QueueStatus).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from pbx.call_model import QueueMemberState
from pbx.dialplan_names import PAUSE_REASONS

WRAPUP: Final = "wrapup"
AGENT_PAUSE_REASONS: Final = ("break", "meal", "training", "meeting", "callback")
"""Reasons an agent may choose (``wrapup`` is set by Minhu after each call)."""

# app_queue's device states (AST_DEVICE_*)
DEVICE_NOT_INUSE: Final = 1
DEVICE_INUSE: Final = 2
DEVICE_BUSY: Final = 3
DEVICE_INVALID: Final = 4
DEVICE_UNAVAILABLE: Final = 5
DEVICE_RINGING: Final = 6
DEVICE_RINGINUSE: Final = 7
DEVICE_ONHOLD: Final = 8

_INTERFACE = re.compile(
    r"^(PJSIP|SIP|IAX2)/[A-Za-z0-9_.\-]{1,64}$|^Local/[A-Za-z0-9_.\-]{1,40}@[A-Za-z0-9_\-]{1,40}$"
)


class AgentState(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAPUP = "wrapup"
    PAUSED = "paused"
    UNAVAILABLE = "unavailable"
    """Signed in, but the phone is not registered (Asterisk: UNAVAILABLE / INVALID)."""


STATE_LABELS: Final = {
    AgentState.LOGGED_OUT: "未签入",
    AgentState.AVAILABLE: "空闲",
    AgentState.RINGING: "振铃",
    AgentState.ON_CALL: "通话中",
    AgentState.WRAPUP: "话后整理",
    AgentState.PAUSED: "示忙",
    AgentState.UNAVAILABLE: "话机未注册",
}


def valid_interface(interface: str) -> bool:
    """``PJSIP/1001`` (or SIP/IAX2, or ``Local/1001@context`` for test rigs)."""
    return bool(_INTERFACE.match(interface))


def pause_label(reason: str) -> str:
    return PAUSE_REASONS.get(reason, reason or "示忙")


def agent_state(member: QueueMemberState | None, *, on_call: bool = False) -> AgentState:
    """The state an agent is in, from the queue member (``None``: not signed in)."""
    if member is None:
        return AgentState.LOGGED_OUT
    if (
        on_call
        or member.in_call
        or member.status in (DEVICE_INUSE, DEVICE_BUSY, DEVICE_RINGINUSE, DEVICE_ONHOLD)
    ):
        return AgentState.ON_CALL
    if member.status == DEVICE_RINGING:
        return AgentState.RINGING
    if member.paused:
        return AgentState.WRAPUP if member.paused_reason == WRAPUP else AgentState.PAUSED
    if member.status in (DEVICE_UNAVAILABLE, DEVICE_INVALID):
        return AgentState.UNAVAILABLE
    return AgentState.AVAILABLE


@dataclass(frozen=True, slots=True)
class AgentView:
    """What the desktop shows of one agent."""

    username: str
    state: AgentState
    interface: str | None
    paused_reason: str
    calls_taken: int

    def to_public_dict(self) -> dict[str, Any]:
        return {
            "username": self.username,
            "state": self.state.value,
            "state_label": STATE_LABELS[self.state],
            "interface": self.interface,
            "paused_reason": self.paused_reason or None,
            "paused_label": pause_label(self.paused_reason) if self.paused_reason else None,
            "calls_taken": self.calls_taken,
        }


def agent_view(username: str, member: QueueMemberState | None, *, on_call: bool = False) -> AgentView:
    return AgentView(
        username=username,
        state=agent_state(member, on_call=on_call),
        interface=member.interface if member else None,
        paused_reason=member.paused_reason if member and member.paused else "",
        calls_taken=member.calls_taken if member else 0,
    )


def member_of(members: list[QueueMemberState], username: str) -> QueueMemberState | None:
    """The queue member signed in as ``username`` (MemberName), if any."""
    return next((m for m in members if m.member_name == username), None)

"""Which agent has which call: desktop facts derived from the PBX model's changes (pure).

A queue offers a call to an agent by creating a channel on the agent's interface
(``PJSIP/1001-0000002a``; ``Local/1001@ctx-…;1`` on test rigs) in the caller's call (same
Linkedid): that is the moment of the screen pop (``CallOffered``). ``AgentAnswered``
(AgentConnect) makes it ``CallAnswered``; the agent's channel hanging up ends it
(``CallEnded``), whatever happened in between (transfer, three-party room, the agent dropping
out). Works over anything shaped like the call model: ``CallModel`` in the AMI process,
``PbxMirror`` in an API worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Protocol, TypeAlias

from minhu.services.workorders import mask_phone
from pbx.call_model import (
    AgentAnswered,
    Channel,
    ChannelChanged,
    ChannelGone,
    ModelChange,
    QueueCaller,
    QueueMemberState,
)


class PbxView(Protocol):
    """What the tracker reads: ``CallModel`` and ``PbxMirror`` both have it."""

    channels: dict[str, Channel]
    queue_callers: dict[tuple[str, str], QueueCaller]
    queue_members: dict[tuple[str, str], QueueMemberState]


class CallPhase(StrEnum):
    RINGING = "ringing"
    TALKING = "talking"
    CONFERENCE = "conference"
    """The agent's leg is in a ConfBridge room (三方通话)."""


PHASE_LABELS = {CallPhase.RINGING: "来电振铃", CallPhase.TALKING: "通话中", CallPhase.CONFERENCE: "三方通话"}


@dataclass(frozen=True, slots=True)
class AgentCall:
    """One call on one agent's phone."""

    username: str
    interface: str
    agent_uniqueid: str
    agent_channel: str
    linkedid: str
    caller_uniqueid: str | None
    caller_number: str
    caller_name: str
    phase: CallPhase
    offered_at: float
    answered_at: float | None = None
    conference: str | None = None

    def to_public_dict(self, *, masked: bool = False) -> dict[str, Any]:
        """The agent sees the number (to register the order); a supervisor's view is masked."""
        return {
            "linkedid": self.linkedid,
            "agent_uniqueid": self.agent_uniqueid,
            "caller_number": mask_phone(self.caller_number) if masked else self.caller_number,
            "caller_number_masked": mask_phone(self.caller_number),
            "caller_name": self.caller_name,
            "phase": self.phase.value,
            "phase_label": PHASE_LABELS[self.phase],
            "offered_at": self.offered_at,
            "answered_at": self.answered_at,
            "conference": self.conference,
        }


@dataclass(frozen=True, slots=True)
class CallOffered:
    call: AgentCall


@dataclass(frozen=True, slots=True)
class CallAnswered:
    call: AgentCall


@dataclass(frozen=True, slots=True)
class CallUpdated:
    call: AgentCall


@dataclass(frozen=True, slots=True)
class CallEnded:
    call: AgentCall
    answered: bool


CallFact: TypeAlias = CallOffered | CallAnswered | CallUpdated | CallEnded


def _known(value: str) -> str:
    return "" if value in ("", "<unknown>") else value


def interface_of(channel_name: str, interfaces: Mapping[str, str]) -> str | None:
    """The member interface a channel belongs to (``PJSIP/1001-0000002a`` → ``PJSIP/1001``)."""
    if channel_name.startswith("Local/") and not channel_name.endswith(";1"):
        return None
    base, sep, _ = channel_name.rpartition("-")
    if sep and base in interfaces:
        return base
    return None


class CallTracker:
    """Follows the changes; ``calls`` holds the current call of each agent (by username)."""

    def __init__(self) -> None:
        self.calls: dict[str, AgentCall] = {}
        self._by_uniqueid: dict[str, str] = {}

    def call_of(self, username: str) -> AgentCall | None:
        return self.calls.get(username)

    def reset(self, view: PbxView, now: float) -> list[CallFact]:
        """Start again from a whole state (after a mirror reload): calls in progress are taken as
        answered; calls that disappeared end."""
        facts: list[CallFact] = []
        old = dict(self.calls)
        self.calls.clear()
        self._by_uniqueid.clear()
        interfaces = _interfaces(view)
        for channel in view.channels.values():
            interface = interface_of(channel.name, interfaces)
            if interface is None:
                continue
            call = self._new_call(view, channel, interfaces[interface], interface, now)
            if channel.is_up:
                previous = old.get(call.username)
                answered_at = previous.answered_at if previous and previous.answered_at else now
                call = replace(call, phase=_phase(channel), answered_at=answered_at)
            self._track(call)
        for username, call in old.items():
            current = self.calls.get(username)
            if current is None or current.agent_uniqueid != call.agent_uniqueid:
                facts.append(CallEnded(call, call.answered_at is not None))
        for username, call in self.calls.items():
            previous = old.get(username)
            if previous is None or previous.agent_uniqueid != call.agent_uniqueid:
                facts.append(CallOffered(call) if call.answered_at is None else CallAnswered(call))
        return facts

    def apply(self, changes: list[ModelChange], view: PbxView, now: float) -> list[CallFact]:
        facts: list[CallFact] = []
        interfaces: dict[str, str] | None = None
        for change in changes:
            if isinstance(change, ChannelChanged):
                channel = change.channel
                username = self._by_uniqueid.get(channel.uniqueid)
                if username is not None:
                    facts += self._refresh(username, channel)
                    continue
                if interfaces is None:
                    interfaces = _interfaces(view)
                interface = interface_of(channel.name, interfaces)
                if interface is None or interfaces[interface] in self.calls:
                    continue
                call = self._new_call(view, channel, interfaces[interface], interface, now)
                if not _in_queue(view, call.linkedid) and not call.caller_number:
                    continue  # not a queue call (e.g. the agent dialling out): no screen pop
                self._track(call)
                facts.append(CallOffered(call))
            elif isinstance(change, AgentAnswered):
                facts += self._answered(change, view, now)
            elif isinstance(change, ChannelGone):
                username = self._by_uniqueid.pop(change.channel.uniqueid, None)
                if username is not None:
                    call = self.calls.pop(username)
                    facts.append(CallEnded(call, call.answered_at is not None))
        return facts

    # --- internals -------------------------------------------------------------------------

    def _track(self, call: AgentCall) -> None:
        self.calls[call.username] = call
        self._by_uniqueid[call.agent_uniqueid] = call.username

    def _new_call(
        self, view: PbxView, channel: Channel, username: str, interface: str, now: float
    ) -> AgentCall:
        caller = view.channels.get(channel.linkedid)
        number = _known(caller.caller_id_num) if caller else ""
        name = _known(caller.caller_id_name) if caller else ""
        return AgentCall(
            username=username,
            interface=interface,
            agent_uniqueid=channel.uniqueid,
            agent_channel=channel.name,
            linkedid=channel.linkedid,
            caller_uniqueid=caller.uniqueid if caller else None,
            caller_number=number or _known(channel.connected_line_num),
            caller_name=name or _known(channel.connected_line_name),
            phase=CallPhase.RINGING,
            offered_at=now,
        )

    def _refresh(self, username: str, channel: Channel) -> list[CallFact]:
        call = self.calls[username]
        updated = replace(call, agent_channel=channel.name, conference=channel.conference)
        if call.answered_at is not None:
            updated = replace(updated, phase=_phase(channel))
        if not updated.caller_number and _known(channel.connected_line_num):
            updated = replace(
                updated,
                caller_number=_known(channel.connected_line_num),
                caller_name=_known(channel.connected_line_name),
            )
        if updated == call:
            return []
        self.calls[username] = updated
        return [CallUpdated(updated)] if call.answered_at is not None else []

    def _answered(self, change: AgentAnswered, view: PbxView, now: float) -> list[CallFact]:
        username = change.member_name
        call = self.calls.get(username)
        channel = view.channels.get(change.agent_uniqueid)
        if call is None or call.agent_uniqueid != change.agent_uniqueid:
            if channel is None:
                return []
            call = self._new_call(view, channel, username, change.interface, now)
        caller = view.channels.get(change.caller_uniqueid)
        call = replace(
            call,
            caller_uniqueid=change.caller_uniqueid,
            caller_number=call.caller_number or (_known(caller.caller_id_num) if caller else ""),
            caller_name=call.caller_name or (_known(caller.caller_id_name) if caller else ""),
            phase=CallPhase.TALKING,
            answered_at=now,
        )
        self._track(call)
        return [CallAnswered(call)]


def _phase(channel: Channel) -> CallPhase:
    return CallPhase.CONFERENCE if channel.conference else CallPhase.TALKING


def _interfaces(view: PbxView) -> dict[str, str]:
    """Member interface → username (MemberName)."""
    return {member.interface: member.member_name for member in view.queue_members.values()}


def _in_queue(view: PbxView, linkedid: str) -> bool:
    return any(
        caller.uniqueid == linkedid
        or (
            view.channels.get(caller.uniqueid) is not None
            and view.channels[caller.uniqueid].linkedid == linkedid
        )
        for caller in view.queue_callers.values()
    )

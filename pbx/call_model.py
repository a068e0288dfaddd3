"""The live model of the PBX: channels, bridges, queue callers, queue members, conferences.

Built only from typed events (``CallModel.apply``), or replaced wholesale from the answers to
CoreShowChannels / BridgeList / QueueStatus after a reconnect (``CallModel.resync``). Pure: no
I/O, no clock. Every mutation returns the list of ``ModelChange`` it caused so that a notifier
can publish exactly what changed. Channels are keyed by Uniqueid; a call (all channels that
Asterisk linked together) by Linkedid.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, fields, replace
from operator import attrgetter
from typing import Any, TypeAlias

from pbx import events as ev

CHANNEL_STATE_UP = 6
_HUNG_UP_MEMORY = 10_000


@dataclass(frozen=True, slots=True)
class Channel:
    uniqueid: str
    linkedid: str
    name: str
    state: int
    state_desc: str
    caller_id_num: str
    caller_id_name: str
    connected_line_num: str
    connected_line_name: str
    context: str
    exten: str
    priority: int
    application: str = ""
    app_data: str = ""
    bridge_id: str | None = None
    conference: str | None = None

    @property
    def is_up(self) -> bool:
        return self.state == CHANNEL_STATE_UP

    @property
    def is_local(self) -> bool:
        return self.name.startswith("Local/")


_CHANNEL_FIELDS = tuple(spec.name for spec in fields(Channel))
_channel_values = attrgetter(*_CHANNEL_FIELDS)
"""A channel's field values in declaration order (one C call: cheaper than ``replace``)."""


@dataclass(frozen=True, slots=True)
class Bridge:
    uniqueid: str
    bridge_type: str
    technology: str
    creator: str
    name: str
    channels: frozenset[str] = frozenset()
    """Uniqueids of the channels in the bridge."""


@dataclass(frozen=True, slots=True)
class QueueCaller:
    """A caller waiting in a queue (排队中的来电)."""

    queue: str
    uniqueid: str
    channel: str
    position: int
    caller_id_num: str
    caller_id_name: str


@dataclass(frozen=True, slots=True)
class QueueMemberState:
    """A queue member (坐席) as app_queue reports it."""

    queue: str
    interface: str
    member_name: str
    state_interface: str
    membership: str
    penalty: int
    calls_taken: int
    in_call: bool
    status: int
    paused: bool
    paused_reason: str


@dataclass(frozen=True, slots=True)
class Conference:
    """A ConfBridge conference (e.g. a three-party call, 三方通话)."""

    name: str
    bridge_uniqueid: str
    members: frozenset[str] = frozenset()


# --- changes ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ChannelChanged:
    channel: Channel


@dataclass(frozen=True, slots=True)
class ChannelGone:
    channel: Channel
    cause: int | None = None
    cause_txt: str = ""


@dataclass(frozen=True, slots=True)
class BridgeChanged:
    bridge: Bridge


@dataclass(frozen=True, slots=True)
class BridgeGone:
    bridge: Bridge


@dataclass(frozen=True, slots=True)
class QueueCallerJoined:
    caller: QueueCaller


@dataclass(frozen=True, slots=True)
class QueueCallerLeft:
    caller: QueueCaller
    abandoned: bool = False


@dataclass(frozen=True, slots=True)
class QueueMemberChanged:
    member: QueueMemberState


@dataclass(frozen=True, slots=True)
class QueueMemberGone:
    member: QueueMemberState


@dataclass(frozen=True, slots=True)
class AgentAnswered:
    """A queue member answered a queued caller (AgentConnect)."""

    queue: str
    interface: str
    member_name: str
    caller_uniqueid: str
    agent_uniqueid: str
    linkedid: str


@dataclass(frozen=True, slots=True)
class ConferenceChanged:
    conference: Conference


@dataclass(frozen=True, slots=True)
class ConferenceEnded:
    conference: Conference


ModelChange: TypeAlias = (
    ChannelChanged
    | ChannelGone
    | BridgeChanged
    | BridgeGone
    | QueueCallerJoined
    | QueueCallerLeft
    | QueueMemberChanged
    | QueueMemberGone
    | AgentAnswered
    | ConferenceChanged
    | ConferenceEnded
)


@dataclass(frozen=True, slots=True)
class PbxSnapshot:
    """What the status actions returned, for ``CallModel.resync``."""

    channels: tuple[ev.CoreShowChannel, ...] = ()
    bridges: tuple[ev.BridgeListItem, ...] = ()
    queue_members: tuple[ev.QueueMember, ...] = ()
    queue_entries: tuple[ev.QueueEntry, ...] = ()
    conference_members: tuple[ev.ConfbridgeList, ...] = ()


def _channel_from(snapshot: ev.ChannelSnapshot, previous: Channel | None = None) -> Channel:
    """The channel as ``snapshot`` describes it; what only the model knows (the running
    application, the bridge and conference) is kept from ``previous``."""
    kept = (
        ("", "", None, None)
        if previous is None
        else (previous.application, previous.app_data, previous.bridge_id, previous.conference)
    )
    return Channel(
        snapshot.uniqueid,
        snapshot.linkedid,
        snapshot.channel,
        snapshot.state,
        snapshot.state_desc,
        snapshot.caller_id_num,
        snapshot.caller_id_name,
        snapshot.connected_line_num,
        snapshot.connected_line_name,
        snapshot.context,
        snapshot.exten,
        snapshot.priority,
        *kept,
    )


def _describes(snapshot: ev.ChannelSnapshot, channel: Channel) -> bool:
    """True when ``snapshot`` tells nothing new about ``channel`` (most events do not)."""
    return (
        snapshot.priority == channel.priority
        and snapshot.exten == channel.exten
        and snapshot.state == channel.state
        and snapshot.context == channel.context
        and snapshot.channel == channel.name
        and snapshot.connected_line_num == channel.connected_line_num
        and snapshot.connected_line_name == channel.connected_line_name
        and snapshot.caller_id_num == channel.caller_id_num
        and snapshot.caller_id_name == channel.caller_id_name
        and snapshot.state_desc == channel.state_desc
        and snapshot.linkedid == channel.linkedid
        and snapshot.uniqueid == channel.uniqueid
    )


def _member_from(event: ev.QueueMemberEvent | ev.QueueMember) -> QueueMemberState:
    return QueueMemberState(
        queue=event.queue,
        interface=event.interface,
        member_name=event.member_name,
        state_interface=event.state_interface,
        membership=event.membership,
        penalty=event.penalty,
        calls_taken=event.calls_taken,
        in_call=event.in_call,
        status=event.status,
        paused=event.paused,
        paused_reason=event.paused_reason,
    )


def _bridge_from(snapshot: ev.BridgeSnapshot, members: frozenset[str] = frozenset()) -> Bridge:
    return Bridge(
        uniqueid=snapshot.bridge_uniqueid,
        bridge_type=snapshot.bridge_type,
        technology=snapshot.technology,
        creator=snapshot.creator,
        name=snapshot.name,
        channels=members,
    )


@dataclass
class CallModel:
    """Live PBX state; feed it events in wire order."""

    channels: dict[str, Channel] = field(default_factory=dict)
    bridges: dict[str, Bridge] = field(default_factory=dict)
    queue_callers: dict[tuple[str, str], QueueCaller] = field(default_factory=dict)
    queue_members: dict[tuple[str, str], QueueMemberState] = field(default_factory=dict)
    conferences: dict[str, Conference] = field(default_factory=dict)
    _hung_up: dict[str, None] = field(default_factory=dict, repr=False)
    """Recently hung-up Uniqueids (ordered, bounded): late events must not revive them."""

    # --- queries ---------------------------------------------------------------------------

    def call(self, linkedid: str) -> list[Channel]:
        """Every live channel of one call (same Linkedid), oldest first."""
        return [channel for channel in self.channels.values() if channel.linkedid == linkedid]

    def linkedids(self) -> set[str]:
        return {channel.linkedid for channel in self.channels.values()}

    def channel_named(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name == name), None)

    def callers_in(self, queue: str) -> list[QueueCaller]:
        return sorted(
            (caller for (q, _), caller in self.queue_callers.items() if q == queue),
            key=lambda caller: caller.position,
        )

    def members_of(self, queue: str) -> list[QueueMemberState]:
        return [member for (q, _), member in self.queue_members.items() if q == queue]

    def bridge_of(self, uniqueid: str) -> Bridge | None:
        channel = self.channels.get(uniqueid)
        if channel is None or channel.bridge_id is None:
            return None
        return self.bridges.get(channel.bridge_id)

    # --- events ----------------------------------------------------------------------------

    def apply(self, event: ev.AmiEvent) -> list[ModelChange]:
        """Update the model with one event; return what changed."""
        handler = _HANDLERS.get(type(event))
        if handler is not None:
            return handler(self, event)
        if isinstance(event, ev.ChannelEvent):
            return self._touch(event.channel)
        return []

    def _on_channel_event(self, event: ev.ChannelEvent) -> list[ModelChange]:
        return self._touch(event.channel)

    def _touch(self, snapshot: ev.ChannelSnapshot) -> list[ModelChange]:
        """Refresh a channel from any event describing it."""
        if not snapshot.uniqueid or snapshot.uniqueid in self._hung_up:
            return []
        previous = self.channels.get(snapshot.uniqueid)
        if previous is not None and _describes(snapshot, previous):
            return []
        updated = _channel_from(snapshot, previous)
        self.channels[snapshot.uniqueid] = updated
        return [ChannelChanged(updated)]

    def _set_channel(self, uniqueid: str, **updates: Any) -> list[ModelChange]:
        previous = self.channels.get(uniqueid)
        if previous is None:
            return []
        for name, value in updates.items():
            if getattr(previous, name) != value:
                break
        else:
            return []
        values = dict(zip(_CHANNEL_FIELDS, _channel_values(previous), strict=True))
        values.update(updates)
        updated = Channel(**values)
        if updated == previous:
            return []
        self.channels[uniqueid] = updated
        return [ChannelChanged(updated)]

    def _on_newexten(self, event: ev.Newexten) -> list[ModelChange]:
        changes = self._touch(event.channel)
        return changes + self._set_channel(
            event.uniqueid, application=event.application, app_data=event.app_data
        )

    def _on_dial(self, event: ev.DialBegin | ev.DialState | ev.DialEnd) -> list[ModelChange]:
        changes = self._touch(event.caller) if event.caller is not None else []
        return changes + self._touch(event.dest)

    def _on_rename(self, event: ev.Rename) -> list[ModelChange]:
        return self._set_channel(event.uniqueid, name=event.new_name)

    def _on_hangup(self, event: ev.Hangup) -> list[ModelChange]:
        changes: list[ModelChange] = []
        uniqueid = event.uniqueid
        for key, caller in list(self.queue_callers.items()):
            if caller.uniqueid == uniqueid:
                del self.queue_callers[key]
                changes.append(QueueCallerLeft(caller, abandoned=True))
        changes += self._leave_bridge(uniqueid)
        changes += self._leave_conferences(uniqueid)
        channel = self.channels.pop(uniqueid, None)
        self._hung_up[uniqueid] = None
        if len(self._hung_up) > _HUNG_UP_MEMORY:
            del self._hung_up[next(iter(self._hung_up))]
        if channel is None:
            channel = _channel_from(event.channel)
        changes.append(ChannelGone(channel, event.cause, event.cause_txt))
        return changes

    def _on_bridge_create(self, event: ev.BridgeCreate) -> list[ModelChange]:
        bridge = _bridge_from(event.bridge, self._members_of_bridge(event.bridge.bridge_uniqueid))
        self.bridges[bridge.uniqueid] = bridge
        return [BridgeChanged(bridge)]

    def _members_of_bridge(self, bridge_uniqueid: str) -> frozenset[str]:
        existing = self.bridges.get(bridge_uniqueid)
        return existing.channels if existing else frozenset()

    def _on_bridge_enter(self, event: ev.BridgeEnter) -> list[ModelChange]:
        changes = self._touch(event.channel)
        uniqueid = event.channel.uniqueid
        old = self.channels.get(uniqueid)
        if old is not None and old.bridge_id and old.bridge_id != event.bridge.bridge_uniqueid:
            changes += self._leave_bridge(uniqueid)
        members = self._members_of_bridge(event.bridge.bridge_uniqueid) | {uniqueid}
        existing = self.bridges.get(event.bridge.bridge_uniqueid)
        bridge = _bridge_from(event.bridge, members)
        if existing is not None:
            # the technology may change without an event (simple -> softmix on a third party)
            bridge = replace(existing, channels=members)
        self.bridges[bridge.uniqueid] = bridge
        changes.append(BridgeChanged(bridge))
        return changes + self._set_channel(uniqueid, bridge_id=bridge.uniqueid)

    def _on_bridge_leave(self, event: ev.BridgeLeave) -> list[ModelChange]:
        return self._touch(event.channel) + self._leave_bridge(event.channel.uniqueid)

    def _leave_bridge(self, uniqueid: str) -> list[ModelChange]:
        changes: list[ModelChange] = []
        for bridge in list(self.bridges.values()):
            if uniqueid in bridge.channels:
                updated = replace(bridge, channels=bridge.channels - {uniqueid})
                self.bridges[bridge.uniqueid] = updated
                changes.append(BridgeChanged(updated))
        return changes + self._set_channel(uniqueid, bridge_id=None)

    def _on_bridge_destroy(self, event: ev.BridgeDestroy) -> list[ModelChange]:
        bridge = self.bridges.pop(event.bridge.bridge_uniqueid, None) or _bridge_from(event.bridge)
        changes: list[ModelChange] = []
        for uniqueid in bridge.channels:
            changes += self._set_channel(uniqueid, bridge_id=None)
        changes.append(BridgeGone(bridge))
        return changes

    def _on_bridge_merge(self, event: ev.BridgeMerge) -> list[ModelChange]:
        source = self.bridges.pop(event.from_bridge.bridge_uniqueid, None)
        target_id = event.to_bridge.bridge_uniqueid
        moved = source.channels if source else frozenset()
        target = self.bridges.get(target_id) or _bridge_from(event.to_bridge)
        target = replace(target, channels=target.channels | moved)
        self.bridges[target_id] = target
        changes: list[ModelChange] = [BridgeChanged(target)]
        if source is not None:
            changes.append(BridgeGone(source))
        for uniqueid in moved:
            changes += self._set_channel(uniqueid, bridge_id=target_id)
        return changes

    def _on_queue_caller_join(self, event: ev.QueueCallerJoin) -> list[ModelChange]:
        changes = self._touch(event.channel)
        caller = QueueCaller(
            queue=event.queue,
            uniqueid=event.uniqueid,
            channel=event.channel.channel,
            position=event.position,
            caller_id_num=event.channel.caller_id_num,
            caller_id_name=event.channel.caller_id_name,
        )
        self.queue_callers[(caller.queue, caller.uniqueid)] = caller
        return [*changes, QueueCallerJoined(caller)]

    def _queue_caller_gone(self, queue: str, uniqueid: str, abandoned: bool) -> list[ModelChange]:
        caller = self.queue_callers.pop((queue, uniqueid), None)
        if caller is None:
            return []
        return [QueueCallerLeft(caller, abandoned)]

    def _on_queue_caller_leave(self, event: ev.QueueCallerLeave) -> list[ModelChange]:
        return self._touch(event.channel) + self._queue_caller_gone(event.queue, event.uniqueid, False)

    def _on_queue_caller_abandon(self, event: ev.QueueCallerAbandon) -> list[ModelChange]:
        return self._queue_caller_gone(event.queue, event.uniqueid, True)

    def _on_agent_connect(self, event: ev.AgentConnect) -> list[ModelChange]:
        changes = self._touch(event.channel) + self._touch(event.dest)
        return [
            *changes,
            AgentAnswered(
                queue=event.queue,
                interface=event.interface,
                member_name=event.member_name,
                caller_uniqueid=event.uniqueid,
                agent_uniqueid=event.dest.uniqueid,
                linkedid=event.linkedid,
            ),
        ]

    def _on_queue_member(self, event: ev.QueueMemberEvent) -> list[ModelChange]:
        member = _member_from(event)
        key = (member.queue, member.interface)
        if self.queue_members.get(key) == member:
            return []
        self.queue_members[key] = member
        return [QueueMemberChanged(member)]

    def _on_queue_member_removed(self, event: ev.QueueMemberRemoved) -> list[ModelChange]:
        member = self.queue_members.pop((event.queue, event.interface), None) or _member_from(event)
        return [QueueMemberGone(member)]

    def _on_confbridge_start(self, event: ev.ConfbridgeStart) -> list[ModelChange]:
        conference = Conference(event.conference, event.bridge.bridge_uniqueid)
        self.conferences[conference.name] = conference
        return [ConferenceChanged(conference)]

    def _on_confbridge_join(self, event: ev.ConfbridgeJoin) -> list[ModelChange]:
        changes = self._touch(event.channel)
        current = self.conferences.get(event.conference) or Conference(
            event.conference, event.bridge.bridge_uniqueid
        )
        conference = replace(current, members=current.members | {event.channel.uniqueid})
        self.conferences[conference.name] = conference
        changes.append(ConferenceChanged(conference))
        return changes + self._set_channel(event.channel.uniqueid, conference=conference.name)

    def _on_confbridge_leave(self, event: ev.ConfbridgeLeave) -> list[ModelChange]:
        return self._touch(event.channel) + self._leave_conferences(event.channel.uniqueid)

    def _leave_conferences(self, uniqueid: str) -> list[ModelChange]:
        changes: list[ModelChange] = []
        for conference in list(self.conferences.values()):
            if uniqueid in conference.members:
                updated = replace(conference, members=conference.members - {uniqueid})
                self.conferences[conference.name] = updated
                changes.append(ConferenceChanged(updated))
        return changes + self._set_channel(uniqueid, conference=None)

    def _on_confbridge_end(self, event: ev.ConfbridgeEnd) -> list[ModelChange]:
        conference = self.conferences.pop(event.conference, None) or Conference(
            event.conference, event.bridge.bridge_uniqueid
        )
        return [ConferenceEnded(conference)]

    def _on_fully_booted(self, event: ev.FullyBooted) -> list[ModelChange]:
        return []

    # --- resync ----------------------------------------------------------------------------

    def resync(self, snapshot: PbxSnapshot) -> list[ModelChange]:
        """Replace the whole state with what the status actions reported; return the diff."""
        channels: dict[str, Channel] = {}
        for item in snapshot.channels:
            channel = _channel_from(item.channel)
            channels[channel.uniqueid] = replace(
                channel,
                application=item.application,
                app_data=item.application_data,
                bridge_id=item.bridge_id or None,
            )
        bridges: dict[str, Bridge] = {}
        for listed in snapshot.bridges:
            in_bridge = frozenset(
                u for u, c in channels.items() if c.bridge_id == listed.bridge.bridge_uniqueid
            )
            bridges[listed.bridge.bridge_uniqueid] = _bridge_from(listed.bridge, in_bridge)
        callers: dict[tuple[str, str], QueueCaller] = {}
        for entry in snapshot.queue_entries:
            known = channels.get(entry.uniqueid)
            callers[(entry.queue, entry.uniqueid)] = QueueCaller(
                queue=entry.queue,
                uniqueid=entry.uniqueid,
                channel=entry.channel,
                position=entry.position,
                caller_id_num=known.caller_id_num if known else entry.caller_id_num,
                caller_id_name=known.caller_id_name if known else entry.caller_id_name,
            )
        members = {(m.queue, m.interface): _member_from(m) for m in snapshot.queue_members}
        conferences: dict[str, Conference] = {}
        for attendee in snapshot.conference_members:
            current = conferences.get(attendee.conference) or Conference(attendee.conference, "")
            conferences[attendee.conference] = replace(current, members=current.members | {attendee.uniqueid})
        for name, conference in conferences.items():
            for uniqueid in conference.members:
                if uniqueid in channels:
                    channels[uniqueid] = replace(channels[uniqueid], conference=name)
            bridge_ids = {channels[u].bridge_id for u in conference.members if u in channels}
            bridge_ids.discard(None)
            if len(bridge_ids) == 1:
                conferences[name] = replace(conference, bridge_uniqueid=str(next(iter(bridge_ids))))

        return self._take(channels, bridges, callers, members, conferences)

    def adopt(self, other: CallModel) -> list[ModelChange]:
        """Take ``other``'s whole state (a model rebuilt elsewhere); return the diff."""
        self._hung_up.update(other._hung_up)
        return self._take(
            dict(other.channels),
            dict(other.bridges),
            dict(other.queue_callers),
            dict(other.queue_members),
            dict(other.conferences),
        )

    def _take(
        self,
        channels: dict[str, Channel],
        bridges: dict[str, Bridge],
        callers: dict[tuple[str, str], QueueCaller],
        members: dict[tuple[str, str], QueueMemberState],
        conferences: dict[str, Conference],
    ) -> list[ModelChange]:
        changes: list[ModelChange] = []
        changes += _diff(self.channels, channels, ChannelChanged, ChannelGone)
        changes += _diff(self.bridges, bridges, BridgeChanged, BridgeGone)
        changes += _diff(self.queue_callers, callers, QueueCallerJoined, QueueCallerLeft)
        changes += _diff(self.queue_members, members, QueueMemberChanged, QueueMemberGone)
        changes += _diff(self.conferences, conferences, ConferenceChanged, ConferenceEnded)
        self.channels, self.bridges, self.queue_callers = channels, bridges, callers
        self.queue_members, self.conferences = members, conferences
        return changes

    def clear(self) -> list[ModelChange]:
        return self.resync(PbxSnapshot())


def _diff(
    old: Mapping[Any, Any],
    new: Mapping[Any, Any],
    changed: Callable[[Any], ModelChange],
    gone: Callable[[Any], ModelChange],
) -> list[ModelChange]:
    out: list[ModelChange] = [gone(value) for key, value in old.items() if key not in new]
    out += [changed(value) for key, value in new.items() if old.get(key) != value]
    return out


_Handler = Callable[[CallModel, Any], list[ModelChange]]

_HANDLERS: dict[type[ev.AmiEvent], _Handler] = {
    ev.Newexten: CallModel._on_newexten,
    ev.Rename: CallModel._on_rename,
    ev.DialBegin: CallModel._on_dial,
    ev.DialState: CallModel._on_dial,
    ev.DialEnd: CallModel._on_dial,
    ev.Hangup: CallModel._on_hangup,
    ev.BridgeCreate: CallModel._on_bridge_create,
    ev.BridgeEnter: CallModel._on_bridge_enter,
    ev.BridgeLeave: CallModel._on_bridge_leave,
    ev.BridgeDestroy: CallModel._on_bridge_destroy,
    ev.BridgeMerge: CallModel._on_bridge_merge,
    ev.QueueCallerJoin: CallModel._on_queue_caller_join,
    ev.QueueCallerLeave: CallModel._on_queue_caller_leave,
    ev.QueueCallerAbandon: CallModel._on_queue_caller_abandon,
    ev.AgentConnect: CallModel._on_agent_connect,
    ev.QueueMemberAdded: CallModel._on_queue_member,
    ev.QueueMemberStatus: CallModel._on_queue_member,
    ev.QueueMemberPause: CallModel._on_queue_member,
    ev.QueueMemberPenalty: CallModel._on_queue_member,
    ev.QueueMemberRemoved: CallModel._on_queue_member_removed,
    ev.ConfbridgeStart: CallModel._on_confbridge_start,
    ev.ConfbridgeJoin: CallModel._on_confbridge_join,
    ev.ConfbridgeLeave: CallModel._on_confbridge_leave,
    ev.ConfbridgeEnd: CallModel._on_confbridge_end,
    ev.FullyBooted: CallModel._on_fully_booted,
    # status-list items describe state, they are not changes: resync handles them
    ev.CoreShowChannel: lambda model, event: [],
    ev.ConfbridgeList: lambda model, event: [],
}
"""The one table from event type to model handler; other channel events refresh the channel."""
for _event_type in ev.EVENT_TYPES.values():
    if issubclass(_event_type, ev.ChannelEvent):
        _HANDLERS.setdefault(_event_type, CallModel._on_channel_event)


def apply_all(model: CallModel, events: Iterable[ev.AmiEvent]) -> list[ModelChange]:
    changes: list[ModelChange] = []
    for event in events:
        changes += model.apply(event)
    return changes

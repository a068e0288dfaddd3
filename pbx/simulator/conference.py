"""``ConfBridge()`` rooms (the three-party call, 三方通话) and the AMI actions on them.

A room is a softmix bridge created by ConfBridge with a hidden announcer channel in it (so
``BridgeNumChannels`` counts one more than the callers, as recorded). Joining, being kicked
(``ConfbridgeKick``), hanging up and the end of the room follow ``c-three-party-confbridge``:
``BridgeCreate``/``ConfbridgeStart`` for the first caller, ``BridgeEnter`` then the peers'
``BRIDGEPEER`` and ``ConfbridgeJoin``; a kick sets ``CONFBRIDGE_RESULT=KICKED`` and the leg goes
on in the dialplan; the last caller out ends the room (``ConfbridgeEnd``, ``BridgeDestroy``).
The profile's "marked user" rule is played too: when a marked user (the citizen, whose role
variable names a profile that ends the room for the others) leaves, the others are taken out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pbx import dialplan_names as names
from pbx.ami_protocol import AmiMessage
from pbx.simulator.call_record import CallRecord
from pbx.simulator.world import SimBridge, SimChannel

if TYPE_CHECKING:
    from pbx.simulator.scenario_engine import ScenarioEngine

MARKED_ROLES = frozenset({"citizen"})
"""Roles whose user profile is marked with ``end_marked`` for the others (deploy/asterisk)."""


@dataclass(eq=False)
class Room:
    name: str
    bridge: SimBridge
    members: list[SimChannel] = field(default_factory=list)
    kicked: dict[str, str] = field(default_factory=dict)
    """Uniqueid -> CONFBRIDGE_RESULT of the legs taken out (``KICKED`` by ConfbridgeKick,
    ``ENDMARKED`` when the marked user left) and not out yet."""


class ConferenceRooms:
    def __init__(self, engine: ScenarioEngine) -> None:
        self.engine = engine
        self.rooms: dict[str, Room] = {}

    # --- the application ----------------------------------------------------------------------

    async def confbridge(self, record: CallRecord, channel: SimChannel, data: str) -> bool:
        """``ConfBridge(<room>,...)``: until kicked (True: the dialplan goes on) or hung up (False)."""
        room = self._join(data.split(",")[0], channel)
        while True:
            if channel.hangup_requested.is_set() or channel.gone:
                self._leave(room, channel, "HANGUP")
                return False
            if channel.uniqueid in room.kicked:
                self._leave(room, channel, room.kicked[channel.uniqueid])
                return True
            record.wake.clear()
            await record.clock.advance(float("inf"), record.wake)

    def _join(self, name: str, channel: SimChannel) -> Room:
        world = self.engine.world
        room = self.rooms.get(name)
        if room is None:
            bridge = SimBridge(
                str(uuid.uuid4()), "base", "softmix", creator="ConfBridge", name=name, hidden=1
            )
            room = self.rooms[name] = Room(name, bridge)
            world.emit("BridgeCreate", **{**bridge.snapshot(), "BridgeNumChannels": "0"})
            world.emit("ConfbridgeStart", **bridge.snapshot(), Conference=name)
            world.device_state(f"confbridge:{name}", "INUSE")
        room.members.append(channel)
        world.enter_bridge(room.bridge, channel)
        self._bridge_peers(room)
        self._announce("ConfbridgeJoin", room, channel, Muted="No")
        return room

    def _leave(self, room: Room, channel: SimChannel, result: str) -> None:
        world = self.engine.world
        room.kicked.pop(channel.uniqueid, None)
        if channel not in room.members:
            return
        if result != "HANGUP":
            world.varset(channel, "CONFBRIDGE_RESULT", result)
        world.varset(channel, "BRIDGEPEER", "")
        self._announce("ConfbridgeLeave", room, channel)
        room.members.remove(channel)
        world.leave_bridge(channel)
        self._bridge_peers(room)
        if result == "HANGUP":
            world.varset(channel, "CONFBRIDGE_RESULT", result)
        if channel.variables.get(names.THREE_PARTY_ROLE_VARIABLE) in MARKED_ROLES:
            for other in room.members:
                self.kick_channel(room, other, "ENDMARKED")
        if not room.members:
            del self.rooms[room.name]
            world.device_state(f"confbridge:{room.name}", "NOT_INUSE")
            world.emit(
                "ConfbridgeEnd", **{**room.bridge.snapshot(), "BridgeNumChannels": "0"}, Conference=room.name
            )
            room.bridge.hidden = 0
            world.destroy_bridge(room.bridge)

    def _bridge_peers(self, room: Room) -> None:
        announcer = f"CBAnn/{room.name}-00000000;2"
        for member in room.members:
            others = [announcer, *(m.name for m in room.members if m is not member)]
            self.engine.world.varset(member, "BRIDGEPEER", ",".join(others))

    def _announce(self, event: str, room: Room, channel: SimChannel, **extra: str) -> None:
        self.engine.world.emit(
            event, channel, **room.bridge.snapshot(), Conference=room.name, Admin="No", **extra
        )

    # --- AMI actions --------------------------------------------------------------------------

    def kick(self, name: str, channel_name: str) -> tuple[bool, str]:
        """``ConfbridgeKick``: the leg leaves the room and goes on in its dialplan."""
        room = self.rooms.get(name)
        if room is None:
            return False, "No Conference by that name found."
        channel = next((m for m in room.members if m.name == channel_name), None)
        if channel is None:
            return False, "No Channel by that name found in Conference."
        self.kick_channel(room, channel)
        return True, "User kicked"

    def kick_channel(self, room: Room, channel: SimChannel, result: str = "KICKED") -> None:
        room.kicked[channel.uniqueid] = result
        wake = self.engine.wakes.get(channel.uniqueid)
        if wake is not None:
            wake.set()

    def members(self, name: str) -> list[SimChannel]:
        room = self.rooms.get(name)
        return list(room.members) if room is not None else []


def conference_list_item(room: str, channel: SimChannel, reply: list[tuple[str, str]]) -> AmiMessage:
    """One ``ConfbridgeList`` event (recorded header order), with the action's ActionID."""
    marked = "Yes" if channel.variables.get(names.THREE_PARTY_ROLE_VARIABLE) in MARKED_ROLES else "No"
    return AmiMessage(
        (
            ("Event", "ConfbridgeList"),
            *reply,
            ("Conference", room),
            ("Admin", "No"),
            ("MarkedUser", marked),
            ("WaitMarked", "No"),
            ("EndMarked", "No"),
            ("EndMarkedAny", "No"),
            ("Waiting", "No"),
            ("Muted", "No"),
            ("Talking", "No"),
            ("AnsweredTime", "0"),
            *channel.snapshot().items(),
        )
    )

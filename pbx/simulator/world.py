"""The simulated PBX's own state (channels, bridges, queues) and the events each change emits.

Every method that changes the state publishes the AMI event Asterisk 22 publishes for that
change, built from a recorded layout (``pbx.simulator.templates``). The call flows in
``pbx.simulator.scenarios`` decide the order; this module only knows single steps.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from pbx.ami_protocol import AmiMessage
from pbx.simulator.templates import build_event

STATE_DESC = {0: "Down", 3: "Dialing", 4: "Ring", 5: "Ringing", 6: "Up", 7: "Busy"}
DOWN, RING, RINGING, UP, BUSY = 0, 4, 5, 6, 7
CAUSE_TEXT = {
    0: "Unknown",
    16: "Normal Clearing",
    17: "User busy",
    19: "User alerting, no answer",
    20: "Subscriber absent",
    34: "Circuit/channel congestion",
}
UNKNOWN = "<unknown>"


@dataclass(eq=False)
class SimChannel:
    name: str
    uniqueid: str
    linkedid: str
    context: str
    exten: str
    priority: int = 1
    state: int = DOWN
    caller_num: str = UNKNOWN
    caller_name: str = UNKNOWN
    connected_num: str = UNKNOWN
    connected_name: str = UNKNOWN
    language: str = "en"
    account_code: str = ""
    application: str = ""
    app_data: str = ""
    variables: dict[str, str] = field(default_factory=dict)
    peer: SimChannel | None = None
    """The other half of a Local channel pair."""
    bridge: SimBridge | None = None
    gone: bool = False
    hangup_requested: asyncio.Event = field(default_factory=asyncio.Event)
    hangup_cause: int = 16
    hangup_by_action: bool = False
    redirect_to: tuple[str, str, int] | None = None
    """Where an AMI ``Redirect`` sends the channel (context, extension, priority), until the
    application it is in lets go of it."""

    @property
    def device(self) -> str:
        """The device name (``PJSIP/1001``, ``Local/1001@agent-sim``) of this channel."""
        base = self.name.rsplit(";", 1)[0] if self.name.startswith("Local/") else self.name
        return base.rsplit("-", 1)[0]

    def snapshot(self, prefix: str = "") -> dict[str, str]:
        return {
            f"{prefix}Channel": self.name,
            f"{prefix}ChannelState": str(self.state),
            f"{prefix}ChannelStateDesc": STATE_DESC.get(self.state, "Unknown"),
            f"{prefix}CallerIDNum": self.caller_num,
            f"{prefix}CallerIDName": self.caller_name,
            f"{prefix}ConnectedLineNum": self.connected_num,
            f"{prefix}ConnectedLineName": self.connected_name,
            f"{prefix}Language": self.language,
            f"{prefix}AccountCode": self.account_code,
            f"{prefix}Context": self.context,
            f"{prefix}Exten": self.exten,
            f"{prefix}Priority": str(self.priority),
            f"{prefix}Uniqueid": self.uniqueid,
            f"{prefix}Linkedid": self.linkedid,
        }


@dataclass(eq=False)
class SimBridge:
    uniqueid: str
    bridge_type: str = "basic"
    technology: str = "simple_bridge"
    channels: list[SimChannel] = field(default_factory=list)
    creator: str = UNKNOWN
    name: str = UNKNOWN
    hidden: int = 0
    """Channels in the bridge that show in no event (ConfBridge's announcer)."""

    def snapshot(self) -> dict[str, str]:
        return {
            "BridgeUniqueid": self.uniqueid,
            "BridgeType": self.bridge_type,
            "BridgeTechnology": self.technology,
            "BridgeCreator": self.creator,
            "BridgeName": self.name,
            "BridgeNumChannels": str(len(self.channels) + self.hidden),
            "BridgeVideoSourceMode": "none",
        }


@dataclass(eq=False)
class SimMember:
    queue: str
    interface: str
    member_name: str
    state_interface: str
    penalty: int = 0
    paused: bool = False
    paused_reason: str = ""
    calls_taken: int = 0
    last_call: int = 0
    last_pause: int = 0
    login_time: int = field(default_factory=lambda: int(time.time()))
    in_call: bool = False
    ringing: bool = False

    @property
    def status(self) -> int:
        """AST_DEVICE_*: 1 not in use, 2 in use, 6 ringing."""
        if self.ringing:
            return 6
        return 2 if self.in_call else 1

    def values(self) -> dict[str, str]:
        return {
            "Queue": self.queue,
            "MemberName": self.member_name,
            "Interface": self.interface,
            "StateInterface": self.state_interface,
            "Membership": "dynamic",
            "Penalty": str(self.penalty),
            "CallsTaken": str(self.calls_taken),
            "LastCall": str(self.last_call),
            "LastPause": str(self.last_pause),
            "LoginTime": str(self.login_time),
            "InCall": "1" if self.in_call else "0",
            "Status": str(self.status),
            "Paused": "1" if self.paused else "0",
            "PausedReason": self.paused_reason,
            "Ringinuse": "0",
            "Wrapuptime": "0",
        }


@dataclass(eq=False)
class SimQueue:
    name: str
    members: dict[str, SimMember] = field(default_factory=dict)
    callers: list[SimChannel] = field(default_factory=list)
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    rotation: int = 0

    def notify(self) -> None:
        """Wake every caller waiting in this queue (a member was added, unpaused or freed)."""
        self.changed.set()
        self.changed = asyncio.Event()


class World:
    """Channels, bridges and queues of the simulated PBX, publishing an event per change."""

    def __init__(
        self, publish: Callable[[AmiMessage], None], queues: tuple[str, ...] = ("citizens",)
    ) -> None:
        self.publish = publish
        self.epoch = int(time.time())
        self._ids = itertools.count()
        self._local_ids = itertools.count()
        self._tech_ids = itertools.count()
        self.channels: dict[str, SimChannel] = {}
        self.queues: dict[str, SimQueue] = {name: SimQueue(name) for name in queues}

    # --- identities -------------------------------------------------------------------------

    def next_uniqueid(self) -> str:
        return f"{self.epoch}.{next(self._ids)}"

    def channel_named(self, name: str) -> SimChannel | None:
        return next((c for c in self.channels.values() if c.name == name and not c.gone), None)

    # --- emission ---------------------------------------------------------------------------

    def emit(
        self, event: str, channel: SimChannel | None = None, dest: SimChannel | None = None, /, **extra: str
    ) -> None:
        values: dict[str, str] = {}
        if channel is not None:
            values.update(channel.snapshot())
        if dest is not None:
            values.update(dest.snapshot("Dest"))
        values.update(extra)
        self.publish(build_event(event, values))

    # --- channels ---------------------------------------------------------------------------

    def new_channel(
        self,
        name: str,
        context: str,
        exten: str,
        state: int,
        linkedid: str | None = None,
        uniqueid: str | None = None,
        caller: tuple[str, str] | None = None,
        language: str = "en",
    ) -> SimChannel:
        uid = uniqueid or self.next_uniqueid()
        channel = SimChannel(name, uid, linkedid or uid, context, exten, state=state, language=language)
        if caller is not None:
            channel.caller_num, channel.caller_name = caller
        self.channels[uid] = channel
        self.emit("Newchannel", channel)
        return channel

    def local_pair(
        self, exten: str, context: str, linkedid: str | None = None, uniqueids: tuple[str, str] | None = None
    ) -> tuple[SimChannel, SimChannel]:
        base = f"Local/{exten}@{context}-{next(self._local_ids):08x}"
        one = self.new_channel(
            f"{base};1", context, exten, DOWN, linkedid, uniqueids[0] if uniqueids else None
        )
        two = self.new_channel(
            f"{base};2", context, exten, RING, linkedid or one.linkedid, uniqueids[1] if uniqueids else None
        )
        one.peer, two.peer = two, one
        return one, two

    def tech_channel_name(self, device: str) -> str:
        return f"{device}-{next(self._tech_ids):08x}"

    def newexten(
        self,
        channel: SimChannel,
        application: str,
        data: str = "",
        context: str | None = None,
        exten: str | None = None,
        priority: int | None = None,
    ) -> None:
        if context is not None:
            channel.context = context
        if exten is not None:
            channel.exten = exten
        if priority is not None:
            channel.priority = priority
        channel.application, channel.app_data = application, data
        self.emit("Newexten", channel, Extension=channel.exten, Application=application, AppData=data)

    def set_state(self, channel: SimChannel, state: int) -> None:
        channel.state = state
        self.emit("Newstate", channel)

    def set_caller(self, channel: SimChannel, num: str, name: str) -> None:
        channel.caller_num, channel.caller_name = num, name
        self.emit("NewCallerid", channel, **{"CID-CallingPres": "0 (Presentation Allowed, Not Screened)"})

    def set_connected(self, channel: SimChannel, num: str, name: str) -> None:
        channel.connected_num, channel.connected_name = num, name
        self.emit("NewConnectedLine", channel)

    def varset(self, channel: SimChannel, variable: str, value: str) -> None:
        channel.variables[variable] = value
        self.emit("VarSet", channel, Variable=variable, Value=value)

    def device_state(self, device: str, state: str) -> None:
        self.emit("DeviceStateChange", Device=device, State=state)

    def local_bridge(self, one: SimChannel, two: SimChannel) -> None:
        values = {**one.snapshot("LocalOne"), **two.snapshot("LocalTwo")}
        values.update(Context=one.context, Exten=one.exten, LocalOptimization="Yes")
        self.publish(build_event("LocalBridge", values))

    def soft_hangup_request(self, channel: SimChannel, cause: int) -> None:
        self.emit("SoftHangupRequest", channel, Cause=str(cause))

    def hangup_request(self, channel: SimChannel, cause: int) -> None:
        self.emit("HangupRequest", channel, Cause=str(cause))

    def hangup(self, channel: SimChannel, cause: int) -> None:
        if channel.gone:
            return
        channel.gone = True
        channel.hangup_requested.set()
        self.emit("Hangup", channel, Cause=str(cause), **{"Cause-txt": CAUSE_TEXT.get(cause, "Unknown")})
        self.channels.pop(channel.uniqueid, None)

    # --- bridges ----------------------------------------------------------------------------

    def create_bridge(self) -> SimBridge:
        bridge = SimBridge(str(uuid.uuid4()))
        self.emit("BridgeCreate", **bridge.snapshot())
        return bridge

    def enter_bridge(self, bridge: SimBridge, channel: SimChannel) -> None:
        bridge.channels.append(channel)
        channel.bridge = bridge
        self.emit("BridgeEnter", channel, **bridge.snapshot())

    def leave_bridge(self, channel: SimChannel) -> None:
        bridge = channel.bridge
        if bridge is None:
            return
        bridge.channels.remove(channel)
        channel.bridge = None
        self.emit("BridgeLeave", channel, **bridge.snapshot())

    def destroy_bridge(self, bridge: SimBridge) -> None:
        self.emit("BridgeDestroy", **bridge.snapshot())

    # --- queue members ----------------------------------------------------------------------

    def member_event(self, event: str, member: SimMember) -> None:
        self.emit(event, **member.values())

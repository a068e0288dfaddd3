"""Typed AMI events: one frozen dataclass per event the hotline uses.

``parse_event(message)`` looks the event name up in ``EVENT_TYPES`` (the one table from name
to class); any other event becomes an ``UnknownEvent`` that keeps its headers as a tuple of
pairs. Field values are converted from the wire by the field's declared type (str, int,
bool, or a snapshot read from a header prefix such as ``Dest``).
"""

# ruff: noqa: RUF009  (header()/prefixed() are dataclasses.field() wrappers carrying the wire name)
from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar, Union

from pbx.ami_protocol import AmiMessage


def header(name: str) -> Any:
    """A field read from header ``name``."""
    return field(metadata={"header": name})


def prefixed(prefix: str) -> Any:
    """A snapshot field read from the headers starting with ``prefix`` (``Dest``, ``LocalOne``)."""
    return field(metadata={"prefix": prefix})


_Snapshot = TypeVar("_Snapshot")


def _to_int(raw: str) -> int:
    try:
        return int(raw.strip() or 0)
    except ValueError:
        return int(float(raw))


def _to_bool(raw: str) -> bool:
    return raw.strip().lower() in ("1", "yes", "true", "on")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


_Reader = Callable[[Mapping[str, str]], Any]


@functools.cache
def _reader(cls: type, prefix: str = "") -> _Reader:
    """A function that builds ``cls`` from a message's lower-cased header map.

    Worked out once per class (and header prefix) from the field declarations and compiled,
    as ``dataclasses`` does for ``__init__``: every event goes through one of these, so the
    per-event cost is one dict lookup and conversion per field, nothing else.
    """
    hints = _hints(cls)
    namespace: dict[str, Any] = {"cls": cls, "_to_int": _to_int, "_to_bool": _to_bool}
    body: list[str] = []
    arguments: list[str] = []
    for number, spec in enumerate(dataclasses.fields(cls)):
        if not spec.init:
            continue
        if spec.kw_only:
            raise TypeError(f"{cls.__name__}.{spec.name}: keyword-only event fields are not supported")
        kind = hints[spec.name]
        optional = False
        if typing.get_origin(kind) in (Union, types.UnionType):
            args = [arg for arg in typing.get_args(kind) if arg is not type(None)]
            optional, kind = True, args[0]
        value = f"v{number}"
        arguments.append(value)
        if dataclasses.is_dataclass(kind):
            sub_prefix = prefix + spec.metadata.get("prefix", "")
            namespace[f"read{number}"] = _reader(typing.cast(type, kind), sub_prefix)
            if optional:
                probe = sub_prefix + ("Channel" if kind is ChannelSnapshot else "BridgeUniqueid")
                body.append(f"{value} = read{number}(index) if {probe.lower()!r} in index else None")
            else:
                body.append(f"{value} = read{number}(index)")
            continue
        name = (prefix + spec.metadata.get("header", spec.name)).lower()
        convert = "_to_int" if kind is int else "_to_bool" if kind is bool else ""
        if optional:
            body.append(f"{value} = get({name!r})")
            if convert:
                body.append(f"if {value} is not None: {value} = {convert}({value})")
        else:
            body.append(f"{value} = {convert}(get({name!r}, ''))")
    lines = ["def read(index):", "    get = index.get", *(f"    {line}" for line in body)]
    lines.append(f"    return cls({', '.join(arguments)})")
    exec("\n".join(lines), namespace)  # noqa: S102 - source built above from field declarations only
    return typing.cast(_Reader, namespace["read"])


def _read(cls: type[_Snapshot], message: AmiMessage, prefix: str = "") -> _Snapshot:
    return typing.cast(_Snapshot, _reader(typing.cast(type, cls), prefix)(message.first_values))


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    """A channel as an event describes it (Asterisk's standard channel headers)."""

    channel: str = header("Channel")
    state: int = header("ChannelState")
    state_desc: str = header("ChannelStateDesc")
    caller_id_num: str = header("CallerIDNum")
    caller_id_name: str = header("CallerIDName")
    connected_line_num: str = header("ConnectedLineNum")
    connected_line_name: str = header("ConnectedLineName")
    language: str = header("Language")
    account_code: str = header("AccountCode")
    context: str = header("Context")
    exten: str = header("Exten")
    priority: int = header("Priority")
    uniqueid: str = header("Uniqueid")
    linkedid: str = header("Linkedid")


@dataclass(frozen=True, slots=True)
class BridgeSnapshot:
    bridge_uniqueid: str = header("BridgeUniqueid")
    bridge_type: str = header("BridgeType")
    technology: str = header("BridgeTechnology")
    creator: str = header("BridgeCreator")
    name: str = header("BridgeName")
    num_channels: int = header("BridgeNumChannels")
    video_source_mode: str = header("BridgeVideoSourceMode")


@dataclass(frozen=True, slots=True)
class AmiEvent:
    """Base of every typed event."""

    name: ClassVar[str] = ""
    privilege: str = header("Privilege")

    @classmethod
    def from_message(cls, message: AmiMessage) -> AmiEvent:
        return _read(cls, message)


@dataclass(frozen=True, slots=True)
class UnknownEvent(AmiEvent):
    """An event Minhu does not model; its headers are kept as they came."""

    event_name: str = header("Event")
    headers: tuple[tuple[str, str], ...] = ()

    @classmethod
    def from_message(cls, message: AmiMessage) -> UnknownEvent:
        return cls(message.value("Privilege"), message.event, message.headers)


@dataclass(frozen=True, slots=True)
class ChannelEvent(AmiEvent):
    channel: ChannelSnapshot = prefixed("")

    @property
    def uniqueid(self) -> str:
        return self.channel.uniqueid

    @property
    def linkedid(self) -> str:
        return self.channel.linkedid


# --- system ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FullyBooted(AmiEvent):
    name: ClassVar[str] = "FullyBooted"
    uptime: int = header("Uptime")
    last_reload: int = header("LastReload")
    status: str = header("Status")


@dataclass(frozen=True, slots=True)
class Shutdown(AmiEvent):
    name: ClassVar[str] = "Shutdown"
    shutdown: str = header("Shutdown")
    restart: str = header("Restart")


# --- channels -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Newchannel(ChannelEvent):
    name: ClassVar[str] = "Newchannel"


@dataclass(frozen=True, slots=True)
class Newstate(ChannelEvent):
    name: ClassVar[str] = "Newstate"


@dataclass(frozen=True, slots=True)
class Newexten(ChannelEvent):
    name: ClassVar[str] = "Newexten"
    extension: str = header("Extension")
    application: str = header("Application")
    app_data: str = header("AppData")


@dataclass(frozen=True, slots=True)
class NewCallerid(ChannelEvent):
    name: ClassVar[str] = "NewCallerid"
    calling_pres: str = header("CID-CallingPres")


@dataclass(frozen=True, slots=True)
class NewConnectedLine(ChannelEvent):
    name: ClassVar[str] = "NewConnectedLine"


@dataclass(frozen=True, slots=True)
class Rename(AmiEvent):
    name: ClassVar[str] = "Rename"
    channel: str = header("Channel")
    new_name: str = header("Newname")
    uniqueid: str = header("Uniqueid")


@dataclass(frozen=True, slots=True)
class Hangup(ChannelEvent):
    name: ClassVar[str] = "Hangup"
    cause: int = header("Cause")
    cause_txt: str = header("Cause-txt")


@dataclass(frozen=True, slots=True)
class HangupRequest(ChannelEvent):
    name: ClassVar[str] = "HangupRequest"
    cause: int | None = header("Cause")


@dataclass(frozen=True, slots=True)
class SoftHangupRequest(ChannelEvent):
    name: ClassVar[str] = "SoftHangupRequest"
    cause: int | None = header("Cause")


@dataclass(frozen=True, slots=True)
class VarSet(ChannelEvent):
    name: ClassVar[str] = "VarSet"
    variable: str = header("Variable")
    value: str = header("Value")


@dataclass(frozen=True, slots=True)
class DialBegin(AmiEvent):
    name: ClassVar[str] = "DialBegin"
    caller: ChannelSnapshot | None = prefixed("")
    dest: ChannelSnapshot = prefixed("Dest")
    dial_string: str = header("DialString")


@dataclass(frozen=True, slots=True)
class DialState(AmiEvent):
    name: ClassVar[str] = "DialState"
    caller: ChannelSnapshot | None = prefixed("")
    dest: ChannelSnapshot = prefixed("Dest")
    dial_status: str = header("DialStatus")


@dataclass(frozen=True, slots=True)
class DialEnd(AmiEvent):
    name: ClassVar[str] = "DialEnd"
    caller: ChannelSnapshot | None = prefixed("")
    dest: ChannelSnapshot = prefixed("Dest")
    dial_status: str = header("DialStatus")


@dataclass(frozen=True, slots=True)
class LocalBridge(AmiEvent):
    name: ClassVar[str] = "LocalBridge"
    local_one: ChannelSnapshot = prefixed("LocalOne")
    local_two: ChannelSnapshot = prefixed("LocalTwo")
    context: str = header("Context")
    exten: str = header("Exten")
    local_optimization: bool = header("LocalOptimization")


@dataclass(frozen=True, slots=True)
class DTMFEnd(ChannelEvent):
    name: ClassVar[str] = "DTMFEnd"
    digit: str = header("Digit")
    duration_ms: int = header("DurationMs")
    direction: str = header("Direction")


@dataclass(frozen=True, slots=True)
class OriginateResponse(AmiEvent):
    """Result of an async Originate. Reason: 4 answered, 3 no answer, 5 busy, 8 congestion,
    0 failed/unreachable. ``uniqueid`` is ``<unknown>`` on failure unless ChannelId was preset."""

    name: ClassVar[str] = "OriginateResponse"
    action_id: str = header("ActionID")
    response: str = header("Response")
    channel: str = header("Channel")
    context: str = header("Context")
    exten: str = header("Exten")
    application: str = header("Application")
    data: str = header("Data")
    reason: int = header("Reason")
    uniqueid: str = header("Uniqueid")
    caller_id_num: str = header("CallerIDNum")
    caller_id_name: str = header("CallerIDName")

    @property
    def answered(self) -> bool:
        return self.reason == 4


# --- bridges --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BridgeEvent(AmiEvent):
    bridge: BridgeSnapshot = prefixed("")


@dataclass(frozen=True, slots=True)
class BridgeCreate(BridgeEvent):
    name: ClassVar[str] = "BridgeCreate"


@dataclass(frozen=True, slots=True)
class BridgeDestroy(BridgeEvent):
    name: ClassVar[str] = "BridgeDestroy"


@dataclass(frozen=True, slots=True)
class BridgeMerge(AmiEvent):
    name: ClassVar[str] = "BridgeMerge"
    to_bridge: BridgeSnapshot = prefixed("To")
    from_bridge: BridgeSnapshot = prefixed("From")


@dataclass(frozen=True, slots=True)
class BridgeEnter(BridgeEvent):
    name: ClassVar[str] = "BridgeEnter"
    channel: ChannelSnapshot = prefixed("")
    swap_uniqueid: str | None = header("SwapUniqueid")


@dataclass(frozen=True, slots=True)
class BridgeLeave(BridgeEvent):
    name: ClassVar[str] = "BridgeLeave"
    channel: ChannelSnapshot = prefixed("")


# --- queues ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class QueueCallerJoin(ChannelEvent):
    name: ClassVar[str] = "QueueCallerJoin"
    queue: str = header("Queue")
    position: int = header("Position")
    count: int = header("Count")


@dataclass(frozen=True, slots=True)
class QueueCallerLeave(ChannelEvent):
    name: ClassVar[str] = "QueueCallerLeave"
    queue: str = header("Queue")
    position: int = header("Position")
    count: int = header("Count")


@dataclass(frozen=True, slots=True)
class QueueCallerAbandon(ChannelEvent):
    name: ClassVar[str] = "QueueCallerAbandon"
    queue: str = header("Queue")
    position: int = header("Position")
    original_position: int = header("OriginalPosition")
    hold_time: int = header("HoldTime")


@dataclass(frozen=True, slots=True)
class AgentEvent(ChannelEvent):
    """Queue agent events: ``channel`` is the caller, ``dest`` the member's channel."""

    dest: ChannelSnapshot = prefixed("Dest")
    queue: str = header("Queue")
    interface: str = header("Interface")
    member_name: str = header("MemberName")


@dataclass(frozen=True, slots=True)
class AgentCalled(AgentEvent):
    name: ClassVar[str] = "AgentCalled"


@dataclass(frozen=True, slots=True)
class AgentConnect(AgentEvent):
    name: ClassVar[str] = "AgentConnect"
    hold_time: int = header("HoldTime")
    ring_time: int = header("RingTime")


@dataclass(frozen=True, slots=True)
class AgentComplete(AgentEvent):
    name: ClassVar[str] = "AgentComplete"
    hold_time: int = header("HoldTime")
    talk_time: int = header("TalkTime")
    reason: str = header("Reason")


@dataclass(frozen=True, slots=True)
class AgentRingNoAnswer(AgentEvent):
    name: ClassVar[str] = "AgentRingNoAnswer"
    ring_time: int = header("RingTime")


@dataclass(frozen=True, slots=True)
class AgentDump(AgentEvent):
    name: ClassVar[str] = "AgentDump"


@dataclass(frozen=True, slots=True)
class QueueMemberEvent(AmiEvent):
    """``QueueMember*`` events name the member by ``MemberName``/``Interface``."""

    queue: str = header("Queue")
    member_name: str = header("MemberName")
    interface: str = header("Interface")
    state_interface: str = header("StateInterface")
    membership: str = header("Membership")
    penalty: int = header("Penalty")
    calls_taken: int = header("CallsTaken")
    last_call: int = header("LastCall")
    last_pause: int = header("LastPause")
    login_time: int = header("LoginTime")
    in_call: bool = header("InCall")
    status: int = header("Status")
    paused: bool = header("Paused")
    paused_reason: str = header("PausedReason")
    ringinuse: bool = header("Ringinuse")
    wrapuptime: int = header("Wrapuptime")


@dataclass(frozen=True, slots=True)
class QueueMemberAdded(QueueMemberEvent):
    name: ClassVar[str] = "QueueMemberAdded"


@dataclass(frozen=True, slots=True)
class QueueMemberRemoved(QueueMemberEvent):
    name: ClassVar[str] = "QueueMemberRemoved"


@dataclass(frozen=True, slots=True)
class QueueMemberPause(QueueMemberEvent):
    name: ClassVar[str] = "QueueMemberPause"


@dataclass(frozen=True, slots=True)
class QueueMemberStatus(QueueMemberEvent):
    name: ClassVar[str] = "QueueMemberStatus"


@dataclass(frozen=True, slots=True)
class QueueMemberPenalty(QueueMemberEvent):
    name: ClassVar[str] = "QueueMemberPenalty"


# --- ConfBridge -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConfbridgeStart(BridgeEvent):
    name: ClassVar[str] = "ConfbridgeStart"
    conference: str = header("Conference")


@dataclass(frozen=True, slots=True)
class ConfbridgeEnd(BridgeEvent):
    name: ClassVar[str] = "ConfbridgeEnd"
    conference: str = header("Conference")


@dataclass(frozen=True, slots=True)
class ConfbridgeJoin(BridgeEvent):
    """``BridgeNumChannels`` counts ConfBridge's hidden announcer channel too."""

    name: ClassVar[str] = "ConfbridgeJoin"
    conference: str = header("Conference")
    channel: ChannelSnapshot = prefixed("")
    admin: bool = header("Admin")
    muted: bool = header("Muted")


@dataclass(frozen=True, slots=True)
class ConfbridgeLeave(BridgeEvent):
    name: ClassVar[str] = "ConfbridgeLeave"
    conference: str = header("Conference")
    channel: ChannelSnapshot = prefixed("")
    admin: bool = header("Admin")


# --- recording ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MixMonitorStart(ChannelEvent):
    name: ClassVar[str] = "MixMonitorStart"


@dataclass(frozen=True, slots=True)
class MixMonitorStop(ChannelEvent):
    name: ClassVar[str] = "MixMonitorStop"


@dataclass(frozen=True, slots=True)
class MixMonitorMute(ChannelEvent):
    name: ClassVar[str] = "MixMonitorMute"
    direction: str = header("Direction")
    state: bool = header("State")


# --- list items of status actions (resync) --------------------------------------------------


@dataclass(frozen=True, slots=True)
class CoreShowChannel(ChannelEvent):
    name: ClassVar[str] = "CoreShowChannel"
    application: str = header("Application")
    application_data: str = header("ApplicationData")
    duration: str = header("Duration")
    bridge_id: str = header("BridgeId")


@dataclass(frozen=True, slots=True)
class BridgeListItem(BridgeEvent):
    name: ClassVar[str] = "BridgeListItem"


@dataclass(frozen=True, slots=True)
class QueueParams(AmiEvent):
    name: ClassVar[str] = "QueueParams"
    queue: str = header("Queue")
    max: int = header("Max")
    strategy: str = header("Strategy")
    calls: int = header("Calls")
    holdtime: int = header("Holdtime")
    talktime: int = header("TalkTime")
    completed: int = header("Completed")
    abandoned: int = header("Abandoned")


@dataclass(frozen=True, slots=True)
class QueueMember(AmiEvent):
    """QueueStatus's member item: ``Name``/``Location`` (not MemberName/Interface)."""

    name: ClassVar[str] = "QueueMember"
    queue: str = header("Queue")
    member_name: str = header("Name")
    interface: str = header("Location")
    state_interface: str = header("StateInterface")
    membership: str = header("Membership")
    penalty: int = header("Penalty")
    calls_taken: int = header("CallsTaken")
    in_call: bool = header("InCall")
    status: int = header("Status")
    paused: bool = header("Paused")
    paused_reason: str = header("PausedReason")


@dataclass(frozen=True, slots=True)
class QueueEntry(AmiEvent):
    """QueueStatus's caller item."""

    name: ClassVar[str] = "QueueEntry"
    queue: str = header("Queue")
    position: int = header("Position")
    channel: str = header("Channel")
    uniqueid: str = header("Uniqueid")
    caller_id_num: str = header("CallerIDNum")
    caller_id_name: str = header("CallerIDName")
    wait: int = header("Wait")


@dataclass(frozen=True, slots=True)
class ConfbridgeList(ChannelEvent):
    name: ClassVar[str] = "ConfbridgeList"
    conference: str = header("Conference")
    admin: bool = header("Admin")
    muted: bool = header("Muted")


EVENT_TYPES: dict[str, type[AmiEvent]] = {
    cls.name: cls
    for cls in (
        FullyBooted,
        Shutdown,
        Newchannel,
        Newstate,
        Newexten,
        NewCallerid,
        NewConnectedLine,
        Rename,
        Hangup,
        HangupRequest,
        SoftHangupRequest,
        VarSet,
        DialBegin,
        DialState,
        DialEnd,
        LocalBridge,
        DTMFEnd,
        OriginateResponse,
        BridgeCreate,
        BridgeDestroy,
        BridgeMerge,
        BridgeEnter,
        BridgeLeave,
        QueueCallerJoin,
        QueueCallerLeave,
        QueueCallerAbandon,
        AgentCalled,
        AgentConnect,
        AgentComplete,
        AgentRingNoAnswer,
        AgentDump,
        QueueMemberAdded,
        QueueMemberRemoved,
        QueueMemberPause,
        QueueMemberStatus,
        QueueMemberPenalty,
        ConfbridgeStart,
        ConfbridgeEnd,
        ConfbridgeJoin,
        ConfbridgeLeave,
        MixMonitorStart,
        MixMonitorStop,
        MixMonitorMute,
        CoreShowChannel,
        BridgeListItem,
        QueueParams,
        QueueMember,
        QueueEntry,
        ConfbridgeList,
    )
}
"""The one table from AMI event name to its typed class."""

_BY_LOWER_NAME = {key.lower(): cls for key, cls in EVENT_TYPES.items()}


_SELF_READING = [
    cls.__name__
    for cls in EVENT_TYPES.values()
    if getattr(cls.from_message, "__func__", None) is not getattr(AmiEvent.from_message, "__func__", None)
]
if _SELF_READING:
    raise TypeError(f"events in EVENT_TYPES must be read by their fields, not from_message: {_SELF_READING}")

_READERS: dict[str, _Reader] = {}
"""Lower-case event name -> its compiled reader, filled in on first sight of each name."""


def parse_event(message: AmiMessage) -> AmiEvent:
    """The typed event for an AMI event message (``UnknownEvent`` for unmodelled names)."""
    name = message.event.lower()
    reader = _READERS.get(name)
    if reader is None:
        cls = _BY_LOWER_NAME.get(name)
        if cls is None:
            return UnknownEvent.from_message(message)
        # every class of the table reads itself with AmiEvent.from_message, i.e. this reader
        reader = _READERS[name] = _reader(typing.cast(type, cls))
    return typing.cast(AmiEvent, reader(message.first_values))

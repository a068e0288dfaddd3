"""Event layouts learned from the recordings: which headers an event has, in which order.

The scripted scenarios never invent a header list. For every event name, the layouts (the
ordered header names, and the ``Privilege``) are collected from the bundled recordings of a real
Asterisk 22.10.1; an event is then built by filling one of those layouts with values. When an
event has several recorded layouts (``DialBegin`` with and without the calling channel, ``Hangup``
with ``TechCause``, ``OriginateResponse`` to a context or to an application), the layout chosen is
the longest one whose every header has a value.

Two queue events that the recordings do not contain (``QueueCallerAbandon``,
``AgentRingNoAnswer``) get their layout from app_queue's documented blob, in the same
channel-snapshot-first shape as the recorded ``AgentCalled`` and ``QueueCallerLeave``.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from pbx.ami_protocol import AmiMessage
from pbx.simulator.recording import bundled_recordings, load_recording

CHANNEL_FIELDS: tuple[str, ...] = (
    "Channel",
    "ChannelState",
    "ChannelStateDesc",
    "CallerIDNum",
    "CallerIDName",
    "ConnectedLineNum",
    "ConnectedLineName",
    "Language",
    "AccountCode",
    "Context",
    "Exten",
    "Priority",
    "Uniqueid",
    "Linkedid",
)
"""A channel snapshot as Asterisk writes it (prefixed ``Dest``, ``LocalOne``... for other legs)."""

BRIDGE_FIELDS: tuple[str, ...] = (
    "BridgeUniqueid",
    "BridgeType",
    "BridgeTechnology",
    "BridgeCreator",
    "BridgeName",
    "BridgeNumChannels",
    "BridgeVideoSourceMode",
)


@dataclass(frozen=True, slots=True)
class Layout:
    headers: tuple[str, ...]
    """Header names after ``Event`` and ``Privilege``."""
    privilege: str
    source: str
    """The recording it was learned from (or ``app_queue`` for the documented ones)."""


def _channel(prefix: str = "") -> tuple[str, ...]:
    return tuple(prefix + name for name in CHANNEL_FIELDS)


_DOCUMENTED: dict[str, Layout] = {
    # app_queue.c: queue_publish_multi_channel_snapshot_blob / ast_json_pack order.
    "QueueCallerAbandon": Layout(
        (*_channel(), "Queue", "Position", "OriginalPosition", "HoldTime"), "agent,all", "app_queue"
    ),
    "AgentRingNoAnswer": Layout(
        (*_channel(), *_channel("Dest"), "Queue", "Interface", "MemberName", "RingTime"),
        "agent,all",
        "app_queue",
    ),
}


class UnknownLayoutError(LookupError):
    pass


@functools.cache
def layouts() -> dict[str, tuple[Layout, ...]]:
    """Every recorded layout, by event name (first seen first)."""
    found: dict[str, dict[tuple[str, ...], Layout]] = {}
    for name, path in bundled_recordings().items():
        for message in load_recording(path).received():
            if not message.is_event or (
                message.action_id is not None and message.event != "OriginateResponse"
            ):
                continue
            names = message.header_names
            if len(names) < 2 or names[1] != "Privilege":
                continue
            variants = found.setdefault(message.event, {})
            variants.setdefault(names[2:], Layout(names[2:], message.value("Privilege"), name))
    result = {event: tuple(variants.values()) for event, variants in found.items()}
    for event, layout in _DOCUMENTED.items():
        result.setdefault(event, (layout,))
    return result


def build_event(event: str, values: Mapping[str, str]) -> AmiMessage:
    """An event with a recorded layout, filled from ``values`` (extra values are ignored)."""
    variants = layouts().get(event)
    if not variants:
        raise UnknownLayoutError(f"no recorded layout for event {event}")
    fitting = [layout for layout in variants if all(name in values for name in layout.headers)]
    if not fitting:
        best = min(variants, key=lambda layout: sum(name not in values for name in layout.headers))
        missing = [name for name in best.headers if name not in values]
        raise UnknownLayoutError(f"{event}: no value for {missing} (layout from {best.source})")
    layout = max(fitting, key=lambda layout: len(layout.headers))
    return AmiMessage(
        (
            ("Event", event),
            ("Privilege", layout.privilege),
            *((name, values[name]) for name in layout.headers),
        )
    )

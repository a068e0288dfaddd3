"""Publish what changed in the live call model on Redis, so that every API worker sees the PBX.

The AMI connection runs in one process; the API runs as several. This module is the bridge:
``PbxNotifier`` turns each ``ModelChange`` into a compact JSON message on a pub/sub channel and
keeps a copy of the current state in Redis hashes (written in the same pipeline), and
``PbxMirror`` is the other side: it loads that copy, follows the messages and rebuilds the same
typed objects (``Channel``, ``Bridge`` ...) in any process.

Channels (with the default prefix ``minhu:pbx``)::

    minhu:pbx:channels     channel_changed, channel_gone
    minhu:pbx:bridges      bridge_changed, bridge_gone
    minhu:pbx:queues       queue_caller_joined, queue_caller_left, queue_member_changed,
                           queue_member_gone, agent_answered
    minhu:pbx:conferences  conference_changed, conference_ended
    minhu:pbx:control      resync  (the state hashes were rewritten: reload them)

Every message is one JSON object (UTF-8, no spaces) carrying consecutive changes of one topic
that were waiting together, oldest first (one change when the PBX is quiet, more under load)::

    {"v":1,"epoch":"<publisher run>","seq":17,"changes":[{"type":"channel_changed","channel":{...}}]}
    {"v":1,"epoch":"<publisher run>","seq":18,"type":"resync","changes":[]}

``seq`` grows by one per message across all topics of one publisher run (``epoch``), and Redis
delivers one connection's subscriptions in publish order, so a subscriber sees a gap or a new
epoch and knows it must reload the state. A subscriber of every topic receives the changes in
the model's order: a batch is cut into one message per run of one topic, never regrouped by topic
(a hub that saw an AgentConnect before the agent's channel would lose the answer). The state copy lives in
``<prefix>:state:channels``, ``:bridges``, ``:queue_callers``, ``:queue_members``,
``:conferences`` (hash field = the object's key, value = its JSON) and ``<prefix>:state:seq``
(``"<epoch> <seq>"``). Each batch writes the state first, then the marker, then publishes, so
that a subscriber that subscribes, then reads the state (one MULTI) and then applies the messages
numbered after the marker always ends up right (every change sets or deletes a whole object, so
applying one again is harmless).

The AMI read loop never waits for Redis: ``PbxNotifier`` only appends to a bounded queue, and a
background task publishes in pipelined batches. If Redis is slow or gone and the queue fills up,
the pending messages are dropped with one warning, and once Redis answers again the whole state
is rewritten from the model and a ``resync`` is announced, so no subscriber stays wrong.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import orjson
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from pbx.call_model import (
    AgentAnswered,
    Bridge,
    BridgeChanged,
    BridgeGone,
    CallModel,
    Channel,
    ChannelChanged,
    ChannelGone,
    Conference,
    ConferenceChanged,
    ConferenceEnded,
    ModelChange,
    QueueCaller,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueMemberChanged,
    QueueMemberGone,
    QueueMemberState,
)

log = logging.getLogger(__name__)

DEFAULT_PREFIX: Final = "minhu:pbx"
MESSAGE_VERSION: Final = 1

CHANNELS: Final = "channels"
BRIDGES: Final = "bridges"
QUEUES: Final = "queues"
CONFERENCES: Final = "conferences"
CONTROL: Final = "control"
TOPICS: Final = (CHANNELS, BRIDGES, QUEUES, CONFERENCES, CONTROL)
"""Pub/sub channel suffixes; the full name is ``<prefix>:<topic>``."""

# state hashes (suffix of ``<prefix>:state:``)
_STATE_CHANNELS: Final = "channels"
_STATE_BRIDGES: Final = "bridges"
_STATE_QUEUE_CALLERS: Final = "queue_callers"
_STATE_QUEUE_MEMBERS: Final = "queue_members"
_STATE_CONFERENCES: Final = "conferences"
STATE_HASHES: Final = (
    _STATE_CHANNELS,
    _STATE_BRIDGES,
    _STATE_QUEUE_CALLERS,
    _STATE_QUEUE_MEMBERS,
    _STATE_CONFERENCES,
)


def _dumps(value: Mapping[str, Any]) -> str:
    """Compact JSON, non-ASCII kept as UTF-8: the same text as ``json.dumps(value,
    ensure_ascii=False, separators=(",", ":"))``, several times faster (every change is
    encoded in the AMI read loop)."""
    return orjson.dumps(value).decode()


# --- public shapes: typed object <-> JSON-ready dict ------------------------------------------


def channel_to_dict(channel: Channel) -> dict[str, Any]:
    return {
        "uniqueid": channel.uniqueid,
        "linkedid": channel.linkedid,
        "name": channel.name,
        "state": channel.state,
        "state_desc": channel.state_desc,
        "caller_id_num": channel.caller_id_num,
        "caller_id_name": channel.caller_id_name,
        "connected_line_num": channel.connected_line_num,
        "connected_line_name": channel.connected_line_name,
        "context": channel.context,
        "exten": channel.exten,
        "priority": channel.priority,
        "application": channel.application,
        "app_data": channel.app_data,
        "bridge_id": channel.bridge_id,
        "conference": channel.conference,
    }


def bridge_to_dict(bridge: Bridge) -> dict[str, Any]:
    return {
        "uniqueid": bridge.uniqueid,
        "bridge_type": bridge.bridge_type,
        "technology": bridge.technology,
        "creator": bridge.creator,
        "name": bridge.name,
        "channels": sorted(bridge.channels),
    }


def queue_caller_to_dict(caller: QueueCaller) -> dict[str, Any]:
    return {
        "queue": caller.queue,
        "uniqueid": caller.uniqueid,
        "channel": caller.channel,
        "position": caller.position,
        "caller_id_num": caller.caller_id_num,
        "caller_id_name": caller.caller_id_name,
    }


def queue_member_to_dict(member: QueueMemberState) -> dict[str, Any]:
    return {
        "queue": member.queue,
        "interface": member.interface,
        "member_name": member.member_name,
        "state_interface": member.state_interface,
        "membership": member.membership,
        "penalty": member.penalty,
        "calls_taken": member.calls_taken,
        "in_call": member.in_call,
        "status": member.status,
        "paused": member.paused,
        "paused_reason": member.paused_reason,
    }


def conference_to_dict(conference: Conference) -> dict[str, Any]:
    return {
        "name": conference.name,
        "bridge_uniqueid": conference.bridge_uniqueid,
        "members": sorted(conference.members),
    }


def agent_answered_to_dict(answered: AgentAnswered) -> dict[str, Any]:
    return {
        "queue": answered.queue,
        "interface": answered.interface,
        "member_name": answered.member_name,
        "caller_uniqueid": answered.caller_uniqueid,
        "agent_uniqueid": answered.agent_uniqueid,
        "linkedid": answered.linkedid,
    }


def channel_from_dict(data: Mapping[str, Any]) -> Channel:
    return Channel(**data)


def bridge_from_dict(data: Mapping[str, Any]) -> Bridge:
    return Bridge(**{**data, "channels": frozenset(data["channels"])})


def queue_caller_from_dict(data: Mapping[str, Any]) -> QueueCaller:
    return QueueCaller(**data)


def queue_member_from_dict(data: Mapping[str, Any]) -> QueueMemberState:
    return QueueMemberState(**data)


def conference_from_dict(data: Mapping[str, Any]) -> Conference:
    return Conference(**{**data, "members": frozenset(data["members"])})


def queue_caller_key(caller: QueueCaller) -> str:
    return f"{caller.queue}|{caller.uniqueid}"


def queue_member_key(member: QueueMemberState) -> str:
    return f"{member.queue}|{member.interface}"


def decode_change(message: Mapping[str, Any]) -> ModelChange | None:
    """The typed change a message carries (``None`` for control messages such as ``resync``)."""
    kind = message.get("type")
    if kind == "channel_changed":
        return ChannelChanged(channel_from_dict(message["channel"]))
    if kind == "channel_gone":
        return ChannelGone(channel_from_dict(message["channel"]), message.get("cause"), message["cause_txt"])
    if kind == "bridge_changed":
        return BridgeChanged(bridge_from_dict(message["bridge"]))
    if kind == "bridge_gone":
        return BridgeGone(bridge_from_dict(message["bridge"]))
    if kind == "queue_caller_joined":
        return QueueCallerJoined(queue_caller_from_dict(message["caller"]))
    if kind == "queue_caller_left":
        return QueueCallerLeft(queue_caller_from_dict(message["caller"]), message["abandoned"])
    if kind == "queue_member_changed":
        return QueueMemberChanged(queue_member_from_dict(message["member"]))
    if kind == "queue_member_gone":
        return QueueMemberGone(queue_member_from_dict(message["member"]))
    if kind == "agent_answered":
        return AgentAnswered(**message["answered"])
    if kind == "conference_changed":
        return ConferenceChanged(conference_from_dict(message["conference"]))
    if kind == "conference_ended":
        return ConferenceEnded(conference_from_dict(message["conference"]))
    return None


# --- the publishing side ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Outgoing:
    """One change waiting to be published, with the state write that goes with it."""

    topic: str
    text: str
    """The change as JSON (an element of a message's ``changes``)."""
    state_hash: str | None = None
    state_key: str = ""
    state_value: str | None = None
    """JSON to store under ``state_key``; ``None`` deletes it (the object is gone)."""


def _change(kind: str, name: str, value_json: str) -> str:
    return f'{{"type":"{kind}","{name}":{value_json}}}'


@dataclass
class NotifierStats:
    changes: int = 0
    messages: int = 0
    dropped: int = 0
    batches: int = 0
    full_resyncs: int = 0
    max_pending: int = 0
    redis_errors: int = 0


class PbxNotifier:
    """Publishes ``ModelChange`` lists (``AmiConnection.on_changes``) on Redis pub/sub.

    Give it the model too and it writes the whole state when it starts and after it had to drop
    changes. ``start()`` the publisher task in the process's lifespan and ``stop()`` it on shutdown.
    """

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        model: CallModel | None = None,
        prefix: str = DEFAULT_PREFIX,
        max_pending: int = 50_000,
        batch_size: int = 2_000,
        redis_timeout: float = 5.0,
        retry_delay: float = 0.5,
        warn_fraction: float = 0.5,
        epoch: str | None = None,
    ) -> None:
        self.redis = redis
        self.model = model
        self.prefix = prefix
        self.max_pending = max_pending
        self.batch_size = batch_size
        self.redis_timeout = redis_timeout
        self.retry_delay = retry_delay
        self.epoch = epoch or uuid.uuid4().hex[:12]
        self.stats = NotifierStats()
        self._warn_at = max(1, int(max_pending * warn_fraction))
        self._pending: deque[_Outgoing] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._seq = 0
        self._behind = False
        self._need_full_state = model is not None
        """Start by writing the whole state: the hashes may hold a previous run's calls."""
        if not self._need_full_state:
            self._idle.set()
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            ChannelChanged: self.channel_changed,
            ChannelGone: self.channel_gone,
            BridgeChanged: self.bridge_changed,
            BridgeGone: self.bridge_gone,
            QueueCallerJoined: self.queue_caller_joined,
            QueueCallerLeft: self.queue_caller_left,
            QueueMemberChanged: self.queue_member_changed,
            QueueMemberGone: self.queue_member_gone,
            AgentAnswered: self.agent_answered,
            ConferenceChanged: self.conference_changed,
            ConferenceEnded: self.conference_ended,
        }
        """The one table from change type to notifier method."""

    def channel(self, topic: str) -> str:
        """The full pub/sub channel name of ``topic``."""
        return f"{self.prefix}:{topic}"

    def state_key(self, name: str) -> str:
        return f"{self.prefix}:state:{name}"

    # --- intake (called from the AMI read loop: never awaits) ------------------------------

    def publish_changes(self, changes: list[ModelChange]) -> None:
        """The ``AmiConnection.on_changes`` hook."""
        handlers = self._handlers
        for change in changes:
            handlers[type(change)](change)

    def attach(self, connection: Any) -> None:
        """Follow an ``AmiConnection``'s model changes."""
        connection.on_changes(self.publish_changes)

    def channel_changed(self, change: ChannelChanged) -> None:
        value = _dumps(channel_to_dict(change.channel))
        text = _change("channel_changed", "channel", value)
        self._enqueue(_Outgoing(CHANNELS, text, _STATE_CHANNELS, change.channel.uniqueid, value))

    def channel_gone(self, change: ChannelGone) -> None:
        text = _dumps(
            {
                "type": "channel_gone",
                "channel": channel_to_dict(change.channel),
                "cause": change.cause,
                "cause_txt": change.cause_txt,
            }
        )
        self._enqueue(_Outgoing(CHANNELS, text, _STATE_CHANNELS, change.channel.uniqueid))

    def bridge_changed(self, change: BridgeChanged) -> None:
        value = _dumps(bridge_to_dict(change.bridge))
        text = _change("bridge_changed", "bridge", value)
        self._enqueue(_Outgoing(BRIDGES, text, _STATE_BRIDGES, change.bridge.uniqueid, value))

    def bridge_gone(self, change: BridgeGone) -> None:
        text = _change("bridge_gone", "bridge", _dumps(bridge_to_dict(change.bridge)))
        self._enqueue(_Outgoing(BRIDGES, text, _STATE_BRIDGES, change.bridge.uniqueid))

    def queue_caller_joined(self, change: QueueCallerJoined) -> None:
        value = _dumps(queue_caller_to_dict(change.caller))
        text = _change("queue_caller_joined", "caller", value)
        self._enqueue(_Outgoing(QUEUES, text, _STATE_QUEUE_CALLERS, queue_caller_key(change.caller), value))

    def queue_caller_left(self, change: QueueCallerLeft) -> None:
        text = _dumps(
            {
                "type": "queue_caller_left",
                "caller": queue_caller_to_dict(change.caller),
                "abandoned": change.abandoned,
            }
        )
        self._enqueue(_Outgoing(QUEUES, text, _STATE_QUEUE_CALLERS, queue_caller_key(change.caller)))

    def queue_member_changed(self, change: QueueMemberChanged) -> None:
        value = _dumps(queue_member_to_dict(change.member))
        text = _change("queue_member_changed", "member", value)
        self._enqueue(_Outgoing(QUEUES, text, _STATE_QUEUE_MEMBERS, queue_member_key(change.member), value))

    def queue_member_gone(self, change: QueueMemberGone) -> None:
        text = _change("queue_member_gone", "member", _dumps(queue_member_to_dict(change.member)))
        self._enqueue(_Outgoing(QUEUES, text, _STATE_QUEUE_MEMBERS, queue_member_key(change.member)))

    def agent_answered(self, change: AgentAnswered) -> None:
        text = _change("agent_answered", "answered", _dumps(agent_answered_to_dict(change)))
        self._enqueue(_Outgoing(QUEUES, text))

    def conference_changed(self, change: ConferenceChanged) -> None:
        value = _dumps(conference_to_dict(change.conference))
        text = _change("conference_changed", "conference", value)
        self._enqueue(_Outgoing(CONFERENCES, text, _STATE_CONFERENCES, change.conference.name, value))

    def conference_ended(self, change: ConferenceEnded) -> None:
        text = _change("conference_ended", "conference", _dumps(conference_to_dict(change.conference)))
        self._enqueue(_Outgoing(CONFERENCES, text, _STATE_CONFERENCES, change.conference.name))

    def _enqueue(self, item: _Outgoing) -> None:
        pending = self._pending
        if len(pending) >= self.max_pending:
            self.stats.dropped += len(pending) + 1
            log.warning(
                "PBX notifier is %d changes behind (limit %d): Redis is too slow or unreachable; "
                "dropping them, the whole state will be republished once Redis keeps up",
                len(pending),
                self.max_pending,
            )
            pending.clear()
            self._need_full_state = True
            self._idle.clear()
            self._behind = False
            return
        pending.append(item)
        self._idle.clear()
        size = len(pending)
        if size > self.stats.max_pending:
            self.stats.max_pending = size
        if size >= self._warn_at and not self._behind:
            self._behind = True
            log.warning(
                "PBX notifier falling behind: %d changes waiting for Redis (limit %d)",
                size,
                self.max_pending,
            )
        self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def wait_idle(self) -> None:
        """Until everything queued so far is published (bound it with ``asyncio.timeout``)."""
        while self._pending or self._need_full_state:
            await self._idle.wait()

    # --- the publisher task ----------------------------------------------------------------

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="pbx-notifier")
            if self._need_full_state:
                self._wake.set()

    async def stop(self, drain_within: float = 2.0) -> None:
        """Publish what is pending (for at most ``drain_within`` s), then stop the task."""
        task, self._task = self._task, None
        if task is None:
            return
        waiter = asyncio.ensure_future(self._idle.wait())
        try:
            await asyncio.wait({task, waiter}, timeout=drain_within, return_when=asyncio.FIRST_COMPLETED)
        finally:
            waiter.cancel()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        if self._pending:
            log.warning("PBX notifier stopped with %d changes unpublished", len(self._pending))

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending or self._need_full_state:
                try:
                    async with asyncio.timeout(self.redis_timeout):
                        if self._need_full_state and self.model is not None:
                            await self._write_full_state(self.model)
                        self._need_full_state = False
                        if self._pending:
                            await self._publish_batch()
                except (RedisError, OSError, TimeoutError) as exc:
                    self.stats.redis_errors += 1
                    log.warning(
                        "PBX notifier cannot reach Redis (%s); retrying in %.1f s", exc, self.retry_delay
                    )
                    await asyncio.sleep(self.retry_delay)
                except Exception:
                    # not Redis: a change that cannot be encoded; never retry it forever
                    log.exception(
                        "PBX notifier could not publish a batch; dropping it and rewriting the state"
                    )
                    self.stats.dropped += len(self._pending)
                    self._pending.clear()
                    self._need_full_state = self.model is not None
                    await asyncio.sleep(self.retry_delay)
            self._idle.set()
            if self._behind:
                self._behind = False
                log.info("PBX notifier caught up")

    async def _publish_batch(self) -> None:
        """One pipeline: the state writes, the marker, then one message per run of changes of
        one topic."""
        pending = self._pending
        count = min(len(pending), self.batch_size)
        # Consecutive changes of one topic share a message; a change of another topic starts a
        # new one, so that the messages keep the model's order across topics (an agent's channel
        # is known before the AgentConnect that answers on it).
        runs: list[tuple[str, list[str]]] = []
        state: dict[tuple[str, str], str | None] = {}
        for index in range(count):
            item = pending[index]
            if runs and runs[-1][0] == item.topic:
                runs[-1][1].append(item.text)
            else:
                runs.append((item.topic, [item.text]))
            if item.state_hash is not None:
                state[(item.state_hash, item.state_key)] = item.state_value  # the last write wins
        pipe = self.redis.pipeline(transaction=False)
        sets: dict[str, dict[Any, Any]] = {}
        deletes: dict[str, list[str]] = {}
        for (table, key), value in state.items():
            if value is None:
                deletes.setdefault(table, []).append(key)
            else:
                sets.setdefault(table, {})[key] = value
        for table, values in sets.items():
            pipe.hset(self.state_key(table), mapping=values)
        for table, keys in deletes.items():
            pipe.hdel(self.state_key(table), *keys)
        seq = self._seq + len(runs)
        pipe.set(self.state_key("seq"), f"{self.epoch} {seq}")
        number = self._seq
        for topic, texts in runs:
            number += 1
            pipe.publish(
                self.channel(topic),
                f'{{"v":{MESSAGE_VERSION},"epoch":"{self.epoch}","seq":{number},"changes":[{",".join(texts)}]}}',
            )
        await pipe.execute()
        # only now: a failed batch stays pending and is sent again with the same numbers
        self._seq = seq
        for _ in range(count):
            pending.popleft()
        self.stats.changes += count
        self.stats.messages += len(runs)
        self.stats.batches += 1

    async def _write_full_state(self, model: CallModel) -> None:
        """Replace the state hashes with the model and announce a ``resync``."""
        tables: dict[str, dict[Any, Any]] = {
            _STATE_CHANNELS: {k: _dumps(channel_to_dict(v)) for k, v in model.channels.items()},
            _STATE_BRIDGES: {k: _dumps(bridge_to_dict(v)) for k, v in model.bridges.items()},
            _STATE_QUEUE_CALLERS: {
                queue_caller_key(v): _dumps(queue_caller_to_dict(v)) for v in model.queue_callers.values()
            },
            _STATE_QUEUE_MEMBERS: {
                queue_member_key(v): _dumps(queue_member_to_dict(v)) for v in model.queue_members.values()
            },
            _STATE_CONFERENCES: {k: _dumps(conference_to_dict(v)) for k, v in model.conferences.items()},
        }
        # everything queued so far is already part of this state
        self._pending.clear()
        seq = self._seq + 1
        pipe = self.redis.pipeline(transaction=True)
        for name, values in tables.items():
            pipe.delete(self.state_key(name))
            if values:
                pipe.hset(self.state_key(name), mapping=values)
        pipe.set(self.state_key("seq"), f"{self.epoch} {seq}")
        message = {"v": MESSAGE_VERSION, "epoch": self.epoch, "seq": seq, "type": "resync", "changes": []}
        pipe.publish(self.channel(CONTROL), _dumps(message))
        await pipe.execute()
        self._seq = seq
        self.stats.full_resyncs += 1
        log.info(
            "PBX notifier wrote the whole state (%d channels) and announced a resync", len(model.channels)
        )


# --- the consuming side -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PbxMessage:
    """One decoded pub/sub message: the typed changes it carries, in order."""

    topic: str
    epoch: str
    seq: int
    type: str
    """``changes`` or a control message (``resync``)."""
    changes: tuple[ModelChange, ...]
    raw_changes: tuple[dict[str, Any], ...]


def parse_message(channel: str | bytes, data: str | bytes) -> PbxMessage:
    body: dict[str, Any] = json.loads(data)
    name = channel.decode() if isinstance(channel, bytes) else channel
    raw = tuple(body.get("changes", ()))
    decoded = (decode_change(item) for item in raw)
    return PbxMessage(
        topic=name.rsplit(":", 1)[-1],
        epoch=str(body.get("epoch", "")),
        seq=int(body.get("seq", 0)),
        type=str(body.get("type", "changes")),
        changes=tuple(change for change in decoded if change is not None),
        raw_changes=raw,
    )


class PbxSubscriber:
    """Receives the notifier's messages in publish order (an async context manager)::

    async with PbxSubscriber(redis) as subscriber:
        async for message in subscriber:
            ...
    """

    def __init__(
        self, redis: aioredis.Redis, *, prefix: str = DEFAULT_PREFIX, topics: tuple[str, ...] = TOPICS
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.channels = tuple(f"{prefix}:{topic}" for topic in topics)
        self._pubsub: Any = None

    async def __aenter__(self) -> PbxSubscriber:
        self._pubsub = self.redis.pubsub(ignore_subscribe_messages=True)
        await self._pubsub.subscribe(*self.channels)
        return self

    async def __aexit__(self, *_: object) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            await pubsub.aclose()

    async def next_message(self, within: float | None = None) -> PbxMessage | None:
        """The next message, or ``None`` when none came within ``within`` seconds."""
        if self._pubsub is None:
            raise RuntimeError("PbxSubscriber used outside 'async with'")
        loop = asyncio.get_running_loop()
        deadline = None if within is None else loop.time() + within
        while True:
            left = None if deadline is None else max(0.0, deadline - loop.time())
            raw = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=left)
            if raw is not None and raw.get("type") == "message":
                return parse_message(raw["channel"], raw["data"])
            if deadline is not None and loop.time() >= deadline:
                return None

    def __aiter__(self) -> AsyncIterator[PbxMessage]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[PbxMessage]:
        while True:
            message = await self.next_message()
            if message is not None:
                yield message


@dataclass
class PbxMirror:
    """The call model as another process sees it: loaded from the state copy, then kept up to
    date by the messages. ``follow`` does both and reloads after a gap, a new epoch or a resync."""

    prefix: str = DEFAULT_PREFIX
    channels: dict[str, Channel] = field(default_factory=dict)
    bridges: dict[str, Bridge] = field(default_factory=dict)
    queue_callers: dict[tuple[str, str], QueueCaller] = field(default_factory=dict)
    queue_members: dict[tuple[str, str], QueueMemberState] = field(default_factory=dict)
    conferences: dict[str, Conference] = field(default_factory=dict)
    epoch: str = ""
    seq: int = 0
    reloads: int = 0

    def apply(self, change: ModelChange) -> None:
        if isinstance(change, ChannelChanged):
            self.channels[change.channel.uniqueid] = change.channel
        elif isinstance(change, ChannelGone):
            self.channels.pop(change.channel.uniqueid, None)
        elif isinstance(change, BridgeChanged):
            self.bridges[change.bridge.uniqueid] = change.bridge
        elif isinstance(change, BridgeGone):
            self.bridges.pop(change.bridge.uniqueid, None)
        elif isinstance(change, QueueCallerJoined):
            self.queue_callers[(change.caller.queue, change.caller.uniqueid)] = change.caller
        elif isinstance(change, QueueCallerLeft):
            self.queue_callers.pop((change.caller.queue, change.caller.uniqueid), None)
        elif isinstance(change, QueueMemberChanged):
            self.queue_members[(change.member.queue, change.member.interface)] = change.member
        elif isinstance(change, QueueMemberGone):
            self.queue_members.pop((change.member.queue, change.member.interface), None)
        elif isinstance(change, ConferenceChanged):
            self.conferences[change.conference.name] = change.conference
        elif isinstance(change, ConferenceEnded):
            self.conferences.pop(change.conference.name, None)

    async def load(self, redis: aioredis.Redis) -> None:
        """Replace everything with the state copy in Redis (read in one transaction)."""
        pipe = redis.pipeline(transaction=True)
        for name in STATE_HASHES:
            pipe.hgetall(f"{self.prefix}:state:{name}")
        pipe.get(f"{self.prefix}:state:seq")
        channels, bridges, callers, members, conferences, marker = await pipe.execute()

        def values(table: dict[Any, Any]) -> list[dict[str, Any]]:
            return [json.loads(raw) for raw in table.values()]

        self.channels = {c.uniqueid: c for c in map(channel_from_dict, values(channels))}
        self.bridges = {b.uniqueid: b for b in map(bridge_from_dict, values(bridges))}
        self.queue_callers = {(c.queue, c.uniqueid): c for c in map(queue_caller_from_dict, values(callers))}
        self.queue_members = {(m.queue, m.interface): m for m in map(queue_member_from_dict, values(members))}
        self.conferences = {c.name: c for c in map(conference_from_dict, values(conferences))}
        if marker:
            text = marker.decode() if isinstance(marker, bytes) else str(marker)
            epoch, _, seq = text.partition(" ")
            self.epoch, self.seq = epoch, int(seq or 0)
        else:
            self.epoch, self.seq = "", 0
        self.reloads += 1

    def accept(self, message: PbxMessage) -> bool | None:
        """Apply one message in order. True: applied; None: already in the loaded state;
        False: a gap, a new epoch or a resync — the state must be reloaded."""
        if message.epoch == self.epoch and message.seq <= self.seq:
            return None
        if message.type == "resync" or message.epoch != self.epoch or message.seq != self.seq + 1:
            return False
        for change in message.changes:
            self.apply(change)
        self.seq = message.seq
        return True

    async def follow(
        self,
        redis: aioredis.Redis,
        on_message: Callable[[PbxMessage], None] | None = None,
        on_reload: Callable[[PbxMirror], None] | None = None,
    ) -> None:
        """Subscribe, load the state, then apply messages until cancelled."""
        async with PbxSubscriber(redis, prefix=self.prefix) as subscriber:
            await self.load(redis)
            if on_reload is not None:
                on_reload(self)
            async for message in subscriber:
                accepted = self.accept(message)
                if accepted is False:
                    log.info(
                        "PBX mirror reloads the state (message %s %d after %s %d, %s)",
                        message.epoch,
                        message.seq,
                        self.epoch,
                        self.seq,
                        message.type,
                    )
                    await self.load(redis)
                    if on_reload is not None:
                        on_reload(self)
                elif accepted and on_message is not None:
                    on_message(message)

"""Live transcription on the agent's desktop (实时转写): what the citizen says, as the recognizer
hears it, and the knowledge-base articles that fit, pushed to the agent's websocket during the call.

How a stream is tied to the agent's call:

1. When an agent answers a queue call (``CallAnswered`` from :class:`~.agents.calls.CallTracker`),
   the leader process (the one holding the AMI link) binds a new stream id (a UUID4) to the call
   — agent username, Linkedid, the agent's and the citizen's channel — in Redis
   (``<prefix>:transcribe:<stream id>``), then Originates ``Local/spy@minhu-transcribe/n`` with
   ``MINHU_SPY_TARGET`` = the citizen's channel and ``MINHU_STREAM_UUID`` = the stream id
   (``deploy/asterisk/extensions.conf``, context ``minhu-transcribe``).
2. Asterisk's ``AudioSocket(${MINHU_STREAM_UUID},…)`` connects to the AudioSocket server
   (:class:`asr.audiosocket.AudioSocketServer`); its UUID frame carries the stream id.
3. The server's listener (:class:`DesktopTranscriptListener`) looks the stream id up in Redis and
   publishes each partial and final result, and the knowledge-base suggestions computed from the
   transcript so far, on the desktop bus (``<prefix>:desktop``, the channel
   :meth:`~.agents.hub.DesktopHub.send_to` uses), so whichever API worker holds the agent's
   websocket delivers them. The server may run in an API process or in its own.

Websocket messages (added to those of :mod:`.agents.hub`)::

    transcript      {"linkedid", "leg", "stage": partial|final|ended, "text", "words"?,
                     "transcript"}       "transcript": the finals so far plus the current partial
    kb_suggestions  {"linkedid", "hits": [search hit, ...]}   when the best articles change
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from asr.audiosocket import AudioSocketServer
from asr.pool import TranscriptionPool
from asr.settings import AsrSettings
from asr.transcript import Event, Final, Partial
from knowledge_base import SearchHit
from minhu.services.knowledge_base import SessionScope
from minhu.settings import Settings
from pbx import dialplan_names as names
from pbx.call_model import ModelChange
from pbx.manager import AmiConnection

from .agents.calls import AgentCall, CallAnswered, CallEnded, CallTracker, PbxView
from .agents.hub import dumps
from .routers.kb import hit_json

log = logging.getLogger(__name__)

BINDING_TTL_SECONDS = 6 * 3600
"""How long a stream's binding is kept in Redis at most (a call longer than this loses its
transcript on the desktop; the binding is removed when the agent's call ends)."""

SPY_CHANNEL = f"Local/{names.TRANSCRIBE_SPY_EXTEN}@{names.TRANSCRIBE_CONTEXT}/n"

Publish = Callable[[str, dict[str, Any]], Awaitable[None]]
Suggest = Callable[[str], Sequence[SearchHit]]


@dataclass(frozen=True, slots=True)
class StreamBinding:
    """Which agent's call one AudioSocket stream belongs to."""

    stream_id: str
    username: str
    linkedid: str
    agent_uniqueid: str
    target_channel: str
    leg: str = "citizen"

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> StreamBinding:
        return cls(**json.loads(text))


class StreamRegistry:
    """The stream bindings, in Redis so that the AudioSocket server may run in any process."""

    def __init__(self, redis: aioredis.Redis, prefix: str, ttl_seconds: int = BINDING_TTL_SECONDS) -> None:
        self.redis = redis
        self.prefix = prefix
        self.ttl_seconds = ttl_seconds

    def _key(self, stream_id: str) -> str:
        return f"{self.prefix}:transcribe:{stream_id}"

    def _call_key(self, linkedid: str) -> str:
        return f"{self.prefix}:transcribe-call:{linkedid}"

    async def bind(self, binding: StreamBinding) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self._key(binding.stream_id), binding.to_json(), ex=self.ttl_seconds)
            pipe.set(self._call_key(binding.linkedid), binding.stream_id, ex=self.ttl_seconds)
            await pipe.execute()

    async def lookup(self, stream_id: str) -> StreamBinding | None:
        raw = await self.redis.get(self._key(stream_id))
        return None if raw is None else StreamBinding.from_json(raw)

    async def stream_of_call(self, linkedid: str) -> str | None:
        raw = await self.redis.get(self._call_key(linkedid))
        return None if raw is None else raw.decode() if isinstance(raw, bytes) else str(raw)

    async def forget_call(self, linkedid: str) -> None:
        stream_id = await self.stream_of_call(linkedid)
        keys = [self._call_key(linkedid)] + ([self._key(stream_id)] if stream_id else [])
        await self.redis.delete(*keys)


class TranscriptionStarter:
    """In every API process with an AMI link; acts only while ``is_leader()``: when an agent
    answers a queue call, binds a stream to it and has Asterisk stream the citizen's voice."""

    def __init__(
        self,
        ami: AmiConnection,
        registry: StreamRegistry,
        is_leader: Callable[[], bool],
        view: Callable[[], PbxView],
    ) -> None:
        self.ami = ami
        self.registry = registry
        self.is_leader = is_leader
        self.view = view
        self.tracker = CallTracker()
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self) -> None:
        self.ami.on_changes(self._on_changes)

    def _on_changes(self, changes: list[ModelChange]) -> None:
        for fact in self.tracker.apply(changes, self.view(), time.time()):
            if not self.is_leader():
                continue
            if isinstance(fact, CallAnswered):
                self._spawn(self.start(fact.call))
            elif isinstance(fact, CallEnded) and fact.answered:
                self._spawn(self.registry.forget_call(fact.call.linkedid))

    def _spawn(self, coroutine: Awaitable[object]) -> None:
        async def guarded() -> None:
            try:
                await coroutine
            except (RedisError, OSError, TimeoutError) as exc:
                log.warning("live transcription not started: %s", exc)
            except Exception:
                log.exception("live transcription not started")

        task = asyncio.get_running_loop().create_task(guarded(), name="transcription-start")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def start(self, call: AgentCall) -> StreamBinding | None:
        channels = self.view().channels
        citizen = channels.get(call.caller_uniqueid or "") or channels.get(call.linkedid)
        if citizen is None:
            log.warning("live transcription: the citizen's channel of %s is gone", call.linkedid)
            return None
        binding = StreamBinding(
            stream_id=str(uuid.uuid4()),
            username=call.username,
            linkedid=call.linkedid,
            agent_uniqueid=call.agent_uniqueid,
            target_channel=citizen.name,
        )
        await self.registry.bind(binding)
        result = await self.ami.originate(
            SPY_CHANNEL,
            context=names.TRANSCRIBE_CONTEXT,
            exten=names.TRANSCRIBE_STREAM_EXTEN,
            variables={names.VAR_SPY_TARGET: citizen.name, names.VAR_STREAM_UUID: binding.stream_id},
            ring_timeout=10.0,
        )
        if not result.answered:
            log.warning(
                "live transcription of %s not started: Originate reason %s", call.linkedid, result.reason
            )
        return binding

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def desktop_publisher(redis: aioredis.Redis, prefix: str) -> Publish:
    """Publishes to an agent's websocket on the desktop bus (as ``DesktopHub.send_to`` does),
    from any process."""
    channel = f"{prefix}:desktop"

    async def publish(username: str, event: dict[str, Any]) -> None:
        await redis.publish(channel, dumps({"to": username, "event": event}))

    return publish


@dataclass
class _Call:
    binding: StreamBinding | None
    finals: list[str] = field(default_factory=list)
    partial: str = ""
    suggested: tuple[str, ...] = ()
    suggested_text: str = ""
    suggested_at: float = 0.0

    @property
    def text(self) -> str:
        return " ".join(t for t in (*self.finals, self.partial) if t)


class DesktopTranscriptListener:
    """The AudioSocket server's listener: each result goes to the agent whose call the stream is
    bound to, with knowledge-base suggestions from the transcript so far (computed on each final
    and at most every ``suggest_every`` seconds on partials)."""

    def __init__(
        self,
        registry: StreamRegistry,
        publish: Publish,
        suggest: Suggest | None = None,
        *,
        suggest_every: float = 0.5,
    ) -> None:
        self.registry = registry
        self.publish = publish
        self.suggest = suggest
        self.suggest_every = suggest_every
        self._calls: dict[str, _Call] = {}

    async def _call(self, stream_id: str) -> _Call:
        state = self._calls.get(stream_id)
        if state is None:
            binding = await self.registry.lookup(stream_id)
            if binding is None:
                log.warning("AudioSocket stream %s is bound to no agent's call; not shown", stream_id)
            state = self._calls[stream_id] = _Call(binding)
        return state

    async def on_event(self, call_id: str, event: Event) -> None:
        state = await self._call(call_id)
        if state.binding is None:
            return
        message: dict[str, Any] = {"type": "transcript", "linkedid": state.binding.linkedid}
        message["leg"] = state.binding.leg
        if isinstance(event, Partial):
            if event.text == state.partial:
                return
            state.partial = event.text
            message.update(stage="partial", text=event.text)
        elif isinstance(event, Final):
            state.partial = ""
            if event.text:
                state.finals.append(event.text)
            message.update(stage="final", text=event.text, words=[w.to_dict() for w in event.words])
        message["transcript"] = state.text
        await self.publish(state.binding.username, message)
        await self._suggest(state, final=isinstance(event, Final))

    async def _suggest(self, state: _Call, *, final: bool) -> None:
        if self.suggest is None or state.binding is None:
            return
        text = state.text
        now = time.monotonic()
        if not text or text == state.suggested_text:
            return
        if not final and now - state.suggested_at < self.suggest_every:
            return
        state.suggested_text, state.suggested_at = text, now
        hits = list(self.suggest(text))
        ids = tuple(hit.article.id for hit in hits)
        if ids == state.suggested:
            return
        state.suggested = ids
        await self.publish(
            state.binding.username,
            {
                "type": "kb_suggestions",
                "linkedid": state.binding.linkedid,
                "hits": [hit_json(hit) for hit in hits],
            },
        )

    async def on_call_end(self, call_id: str, finals: list[Final], reason: str) -> None:
        state = self._calls.pop(call_id, None)
        if state is None or state.binding is None:
            return
        await self.publish(
            state.binding.username,
            {
                "type": "transcript",
                "linkedid": state.binding.linkedid,
                "leg": state.binding.leg,
                "stage": "ended",
                "text": "",
                "reason": reason,
                "transcript": " ".join(f.text for f in finals if f.text),
            },
        )


async def serve(
    settings: Settings,
    asr_settings: AsrSettings,
    *,
    stop: asyncio.Event | None = None,
    session_scope: SessionScope | None = None,
    on_ready: Callable[[AudioSocketServer], None] | None = None,
) -> None:
    """The live-transcription process (``minhu asr live``): the worker pool with the Vosk model,
    the AudioSocket server Asterisk streams to, and a knowledge-base index of its own (built from
    the database, kept current over Redis) for the suggestions. Runs until ``stop`` is set or the
    task is cancelled; calls in progress are drained on the way out. ``session_scope`` replaces
    the database sessions, ``on_ready`` is told of the listening server (tests use both)."""
    from minhu.db.engine import create_engine, create_session_factory
    from minhu.policy import load_profile
    from minhu.services.knowledge_base import KbIndex
    from workorders.clock import SystemClock

    policy = load_profile(settings.policy_profile, settings.policy_overrides)
    engine = create_engine(settings.database_url)
    sessions: SessionScope = session_scope or create_session_factory(engine)
    redis: aioredis.Redis = aioredis.Redis.from_url(settings.redis_url)
    kb = KbIndex(clock=SystemClock(settings.tz), policy=policy, channel=settings.kb_changes_channel)
    follower: asyncio.Task[None] | None = None
    try:
        await kb.load(sessions)
        if settings.kb_changes_channel:
            follower = asyncio.create_task(kb.follow(redis, sessions), name="kb-follow")

        def suggest(text: str) -> Sequence[SearchHit]:
            return [] if kb.index is None else kb.index.suggest(text, limit=5)

        registry = StreamRegistry(redis, settings.pbx_redis_prefix)
        listener = DesktopTranscriptListener(
            registry, desktop_publisher(redis, settings.pbx_redis_prefix), suggest
        )
        async with TranscriptionPool.from_settings(asr_settings) as pool:
            server = AudioSocketServer.from_settings(asr_settings, pool, listener)
            await server.start()
            log.info("live transcription: AudioSocket on %s:%s", server.host, server.port)
            if on_ready is not None:
                on_ready(server)
            try:
                await (stop or asyncio.Event()).wait()
            finally:
                await server.stop()
    finally:
        if follower is not None:
            follower.cancel()
            await asyncio.gather(follower, return_exceptions=True)
        await redis.aclose()
        await engine.dispose()

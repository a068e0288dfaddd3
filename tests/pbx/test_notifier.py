"""The notifier against the real Redis: recorded AMI events -> AmiConnection -> model -> Redis
pub/sub -> a subscriber in order, and a mirror that rebuilds the model in another "process"."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import uuid
from collections.abc import AsyncIterator

import pytest
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
from pbx.events import parse_event
from pbx.manager import AmiConnection, AmiSettings
from pbx.notifier import STATE_HASHES, PbxMessage, PbxMirror, PbxNotifier, PbxSubscriber, parse_message
from pbx.simulator.recording import bundled_recordings, load_recording
from pbx.simulator.server import AmiSimulator, SimulatorSettings

from .pbx_polling import eventually

REDIS_URL = os.environ.get("MINHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
FAST = SimulatorSettings(time_scale=0.0, restart_delay=0.0)


@pytest.fixture
async def redis_client() -> AsyncIterator[aioredis.Redis]:
    client = aioredis.from_url(REDIS_URL)
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        await client.aclose()
        pytest.skip(f"no Redis at {REDIS_URL}: {exc}")
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(redis_client: aioredis.Redis) -> AsyncIterator[str]:
    """A key prefix of this test alone; its keys are deleted afterwards."""
    name = f"minhu-test-{uuid.uuid4().hex[:8]}:pbx"
    yield name
    await redis_client.delete(*[f"{name}:state:{h}" for h in (*STATE_HASHES, "seq")])


def _settings(port: int) -> AmiSettings:
    return AmiSettings(
        host="127.0.0.1",
        port=port,
        username="hotline",
        secret="hotline-secret",
        action_timeout=3.0,
        backoff_initial=0.05,
        backoff_max=0.2,
        ping_interval=30.0,
    )


def _bridged(model: CallModel) -> bool:
    """The recorded call is up: agent and citizen in one bridge."""
    return any(len(bridge.channels) == 2 for bridge in model.bridges.values())


def _kind(change: ModelChange) -> str:
    """``ChannelChanged`` -> ``channel_changed``."""
    return "".join(f"_{ch.lower()}" if ch.isupper() else ch for ch in type(change).__name__).lstrip("_")


def _topic(change: ModelChange) -> str:
    prefix = _kind(change).split("_")[0]
    return {"channel": "channels", "bridge": "bridges", "agent": "queues", "queue": "queues"}.get(
        prefix, "conferences"
    )


async def _collect(subscriber: PbxSubscriber, into: list[PbxMessage]) -> None:
    async for message in subscriber:
        into.append(message)


async def test_given_a_recorded_call_when_the_model_changes_then_a_subscriber_sees_every_change_in_order(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    simulator = AmiSimulator(load_recording(bundled_recordings()["b-inbound-queue-call"]), FAST)
    await simulator.start()
    connection = AmiConnection(_settings(simulator.port), rng=random.Random(1))
    notifier = PbxNotifier(redis_client, model=connection.model, prefix=prefix)
    notifier.attach(connection)
    produced: list[ModelChange] = []
    connection.on_changes(produced.extend)
    received: list[PbxMessage] = []
    async with PbxSubscriber(redis_client, prefix=prefix) as subscriber:
        reader = asyncio.create_task(_collect(subscriber, received))
        await notifier.start()
        await connection.start()
        try:
            await connection.wait_connected(5)
            await connection.queue_add("citizens", "Local/1001@agent-sim", "坐席1001")
            await connection.originate(
                "Local/12345@from-citizen", context="citizen-sim", exten="s", caller_id='"李四" <13800138000>'
            )
            await eventually(lambda: _bridged(connection.model), what="bridged call")
            await connection.send({"Action": "CoreShowChannels"})
            await connection.send({"Action": "BridgeList"})
            await connection.send({"Action": "QueueStatus"})
            citizen = connection.model.channel_named("Local/12345@from-citizen-00000000;2")
            assert citizen is not None
            await connection.hangup(citizen.name)
            await eventually(lambda: not connection.model.channels, what="every channel hung up")
            await eventually(
                lambda: sum(len(m.changes) for m in received) == len(produced),
                what="every change at the subscriber",
            )
        finally:
            await connection.stop()
            await notifier.stop()
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await simulator.stop()

    # the subscriber sees exactly the model's changes in the model's order, across topics too
    # (an AgentConnect never overtakes the agent's channel), each message of one topic
    assert [c for m in received for c in m.changes] == produced
    for message in received[1:]:
        assert {_topic(c) for c in message.changes} == {message.topic}
    assert len(received) > len({m.topic for m in received})  # batches are cut where the topic changes
    # one publisher run, numbered without gaps (the first message is the initial state's resync)
    assert [m.seq for m in received] == list(range(1, len(received) + 1))
    assert received[0].type == "resync" and received[0].topic == "control"
    assert {m.epoch for m in received} == {notifier.epoch}
    kinds = {raw["type"] for m in received for raw in m.raw_changes}
    assert {"channel_changed", "channel_gone", "bridge_changed", "bridge_gone", "agent_answered"} <= kinds
    assert {"queue_caller_joined", "queue_caller_left", "queue_member_changed"} <= kinds
    changes = [c for m in received for c in m.changes]
    # UTF-8 survives the trip as text
    assert "李四" in {c.channel.caller_id_name for c in changes if isinstance(c, ChannelChanged)}
    assert any(isinstance(c, AgentAnswered) for c in changes)
    assert any(isinstance(c, ChannelGone) and c.cause == 16 for c in changes)
    member = next(c for c in changes if isinstance(c, QueueMemberChanged))
    assert member.member.member_name == "坐席1001"
    # the state copy now says what the model says: one member, no calls
    mirror = PbxMirror(prefix=prefix)
    await mirror.load(redis_client)
    assert mirror.channels == {} and mirror.bridges == {}
    assert mirror.queue_members == connection.model.queue_members
    assert (mirror.epoch, mirror.seq) == (notifier.epoch, received[-1].seq)


async def test_given_a_worker_that_starts_mid_call_then_its_mirror_loads_the_state_and_follows(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    simulator = AmiSimulator(load_recording(bundled_recordings()["b-inbound-queue-call"]), FAST)
    await simulator.start()
    connection = AmiConnection(_settings(simulator.port), rng=random.Random(2))
    notifier = PbxNotifier(redis_client, model=connection.model, prefix=prefix)
    notifier.attach(connection)
    await notifier.start()
    await connection.start()
    mirror = PbxMirror(prefix=prefix)
    follower: asyncio.Task[None] | None = None
    try:
        await connection.wait_connected(5)
        await connection.queue_add("citizens", "Local/1001@agent-sim", "坐席1001")
        await connection.originate("Local/12345@from-citizen", context="citizen-sim", exten="s")
        await eventually(lambda: _bridged(connection.model), what="bridged call")
        async with asyncio.timeout(5):
            await notifier.wait_idle()
        # the "API worker" starts now, in the middle of the call
        follower = asyncio.create_task(mirror.follow(redis_client))
        await eventually(lambda: mirror.reloads == 1, what="state loaded")
        assert mirror.channels == connection.model.channels
        assert mirror.bridges == connection.model.bridges
        for action in ("CoreShowChannels", "BridgeList", "QueueStatus"):
            await connection.send({"Action": action})
        citizen = connection.model.channel_named("Local/12345@from-citizen-00000000;2")
        assert citizen is not None
        await connection.hangup(citizen.name)
        await eventually(lambda: not connection.model.channels, what="call over")
        await eventually(lambda: not mirror.channels and not mirror.bridges, what="mirror follows")
        assert mirror.queue_members == connection.model.queue_members
        assert mirror.reloads == 1
    finally:
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        await connection.stop()
        await notifier.stop()
        await simulator.stop()


async def test_given_redis_falls_behind_then_the_read_loop_never_waits_and_the_state_is_republished(
    redis_client: aioredis.Redis, prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    model = CallModel()
    notifier = PbxNotifier(redis_client, model=model, prefix=prefix, max_pending=20)
    recording = load_recording(bundled_recordings()["b-inbound-queue-call"])
    mirror = PbxMirror(prefix=prefix)
    follower = asyncio.create_task(mirror.follow(redis_client))
    await eventually(lambda: mirror.reloads == 1, what="mirror started")
    # the publisher task is not running: nothing drains the queue, as with a stalled Redis
    with caplog.at_level(logging.WARNING, logger="pbx.notifier"):
        for message in recording.received():
            if message.is_event:
                notifier.publish_changes(model.apply(parse_event(message)))
    assert "falling behind" in caplog.text
    assert "dropping them" in caplog.text
    assert notifier.stats.dropped > 0 and notifier.pending < 20
    try:
        await notifier.start()
        await eventually(lambda: notifier.stats.full_resyncs == 1 and notifier.pending == 0, what="resync")
        await eventually(lambda: mirror.reloads == 2, what="mirror reloaded")
        assert mirror.channels == model.channels
        assert mirror.queue_members == model.queue_members
    finally:
        await notifier.stop()
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower


async def test_given_redis_is_unreachable_then_publishing_retries_without_blocking(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unreachable = aioredis.from_url("redis://127.0.0.1:1/15", socket_connect_timeout=0.2)
    notifier = PbxNotifier(unreachable, prefix="minhu-test-unreachable:pbx", retry_delay=0.05)
    try:
        with caplog.at_level(logging.WARNING, logger="pbx.notifier"):
            await notifier.start()
            channel = Channel("1.1", "1.1", "PJSIP/1001-00000001", 6, "Up", "1001", "", "", "", "x", "s", 1)
            notifier.publish_changes([ChannelChanged(channel)])
            await eventually(lambda: notifier.stats.redis_errors >= 2, what="retries")
        assert "cannot reach Redis" in caplog.text
        assert notifier.pending == 1  # kept for when Redis is back
    finally:
        await notifier.stop(drain_within=0.1)
        await unreachable.aclose()


def test_every_kind_of_change_survives_the_json_round_trip() -> None:
    channel = Channel(
        "1.1", "1.0", "PJSIP/1001-00000001", 6, "Up", "1001", "张三", "", "", "x", "s", 1, "Queue"
    )
    bridge = Bridge("b-1", "basic", "simple_bridge", "", "", frozenset({"1.1", "1.2"}))
    caller = QueueCaller("citizens", "1.2", "PJSIP/trunk-00000002", 1, "13800138000", "李四")
    member = QueueMemberState(
        "citizens", "PJSIP/1001", "坐席1001", "", "dynamic", 0, 3, True, 2, True, "小休"
    )
    conference = Conference("900", "b-2", frozenset({"1.1", "1.2", "1.3"}))
    changes: list[ModelChange] = [
        ChannelChanged(channel),
        ChannelGone(channel, 16, "Normal Clearing"),
        BridgeChanged(bridge),
        BridgeGone(bridge),
        QueueCallerJoined(caller),
        QueueCallerLeft(caller, abandoned=True),
        QueueMemberChanged(member),
        QueueMemberGone(member),
        AgentAnswered("citizens", "PJSIP/1001", "坐席1001", "1.2", "1.1", "1.0"),
        ConferenceChanged(conference),
        ConferenceEnded(conference),
    ]
    notifier = PbxNotifier(aioredis.Redis(), prefix="unused")  # nothing is sent: no task runs
    notifier.publish_changes(changes)
    texts = [item.text for item in notifier._pending]
    message = parse_message("unused:any", '{"v":1,"epoch":"e","seq":1,"changes":[' + ",".join(texts) + "]}")
    assert list(message.changes) == changes
    assert [raw["type"] for raw in message.raw_changes] == [_kind(c) for c in changes]

from __future__ import annotations

import logging
import random
from collections.abc import AsyncIterator

import pytest

from pbx import events as ev
from pbx.ami_protocol import AmiMessage
from pbx.call_model import ChannelGone, ModelChange
from pbx.exceptions import AmiActionError, AmiActionTimeoutError, AmiLinkLostError, AmiNotConnectedError
from pbx.manager import AmiConnection, AmiSettings
from pbx.simulator.recording import (
    Exchange,
    Recording,
    Session,
    TimedMessage,
    bundled_recordings,
    load_recording,
)
from pbx.simulator.server import AmiSimulator, SimulatorSettings

from .pbx_polling import eventually

FAST = SimulatorSettings(time_scale=0.0, restart_delay=0.0)


def _settings(port: int, **overrides: float) -> AmiSettings:
    values: dict[str, float] = dict(
        action_timeout=3.0, backoff_initial=0.05, backoff_max=0.2, ping_interval=30.0
    )
    values.update(overrides)
    return AmiSettings(host="127.0.0.1", port=port, username="hotline", secret="hotline-secret", **values)


async def _started(name: str | None) -> AmiSimulator:
    recording = load_recording(bundled_recordings()[name]) if name else None
    simulator = AmiSimulator(recording, FAST)
    await simulator.start()
    return simulator


@pytest.fixture
async def inbound() -> AsyncIterator[tuple[AmiSimulator, AmiConnection]]:
    simulator = await _started("b-inbound-queue-call")
    connection = AmiConnection(_settings(simulator.port), rng=random.Random(1))
    await connection.start()
    await connection.wait_connected(5)
    yield simulator, connection
    await connection.stop()
    await simulator.stop()


async def test_given_the_simulator_when_a_citizen_call_is_answered_then_the_model_follows(
    inbound: tuple[AmiSimulator, AmiConnection],
) -> None:
    _, connection = inbound
    seen: list[ev.AmiEvent] = []
    connection.on_event(seen.append)
    await connection.queue_add("citizens", "Local/1001@agent-sim", "坐席1001")
    result = await connection.originate(
        "Local/12345@from-citizen", context="citizen-sim", exten="s", caller_id='"李四" <13800138000>'
    )
    assert result.answered and result.reason == 4
    await eventually(lambda: len(connection.model.bridges) == 1, what="bridged call")
    names = {c.caller_id_name for c in connection.model.channels.values()}
    assert "李四" in names
    assert any(isinstance(e, ev.AgentConnect) for e in seen)
    member = connection.model.queue_members[("citizens", "Local/1001@agent-sim")]
    assert member.member_name == "坐席1001"


async def test_given_a_connected_client_when_asterisk_restarts_then_it_reconnects_and_resyncs(
    inbound: tuple[AmiSimulator, AmiConnection],
) -> None:
    simulator, connection = inbound
    await connection.queue_add("citizens", "Local/1001@agent-sim", "坐席1001")
    await connection.originate("Local/12345@from-citizen", context="citizen-sim", exten="s")
    await eventually(lambda: len(connection.model.channels) == 4, what="four channels")
    changes: list[ModelChange] = []
    connection.on_changes(changes.extend)
    before = connection.connections
    with pytest.raises(AmiLinkLostError):
        await connection.command("core restart now")
    await eventually(lambda: connection.connections > before and connection.is_connected, what="reconnect")
    # the restarted PBX has no calls: the resync removed them from the model
    assert not connection.model.channels and not connection.model.bridges
    assert sum(isinstance(c, ChannelGone) for c in changes) == 4
    assert simulator.restarts == 1


async def test_given_a_failed_action_then_an_error_is_raised_not_returned() -> None:
    simulator = await _started("set2-a3-command-ping-events-filter")
    connection = AmiConnection(_settings(simulator.port))
    await connection.start()
    try:
        await connection.wait_connected(5)
        assert (await connection.command("core show version"))[0].startswith("Asterisk 22")
        output = await connection.command("queue show citizens")
        assert output[1:3] == ["   No Members", "   No Callers"]
        with pytest.raises(AmiActionError):
            await connection.command("no such cli command")
    finally:
        await connection.stop()
        await simulator.stop()


async def test_given_the_originate_failures_recording_then_reason_codes_reach_the_caller() -> None:
    simulator = await _started("d-originate-failures")
    connection = AmiConnection(_settings(simulator.port))
    await connection.start()
    try:
        await connection.wait_connected(5)
        reasons = []
        for target in ("Local/777@noanswer-sim", "Local/778@busy-sim", "PJSIP/1002", "Nosuch/1"):
            result = await connection.originate(target, context="citizen-sim", exten="s", ring_timeout=5)
            reasons.append(result.reason)
        assert reasons == [3, 5, 0, 0]
    finally:
        await connection.stop()
        await simulator.stop()


async def test_given_a_silent_pbx_then_actions_time_out_and_handlers_errors_are_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Asterisk does not answer "core restart now"; here the restart is 5 s away
    simulator = AmiSimulator(None, SimulatorSettings(time_scale=1.0, restart_delay=5.0))
    await simulator.start()
    connection = AmiConnection(_settings(simulator.port, action_timeout=0.3))
    await connection.start()
    try:
        await connection.wait_connected(5)

        def broken(_: ev.AmiEvent) -> None:
            raise RuntimeError("handler bug")

        connection.on_event(broken)
        with caplog.at_level(logging.ERROR, logger="pbx.manager"):
            link = connection._link
            assert link is not None
            link.protocol.data_received(b"Event: FullyBooted\r\nPrivilege: system,all\r\n\r\n")
        assert "handler" in caplog.text and "failed" in caplog.text
        # no script: the simulator answers Hangup with an error
        with pytest.raises(AmiActionError):
            await connection.hangup("PJSIP/1001-00000001")
        with pytest.raises(AmiActionTimeoutError):
            await connection.send({"Action": "Command", "Command": "core restart now"})
    finally:
        await connection.stop()
        await simulator.stop()


async def test_given_no_connection_then_actions_fail_at_once() -> None:
    connection = AmiConnection(_settings(1))
    with pytest.raises(AmiNotConnectedError):
        await connection.hangup("x")
    delays = [connection.backoff_delay(n) for n in range(8)]
    assert all(0 < d <= 0.2 for d in delays) and delays[0] <= 0.05


def _with_a_call_arriving_during_the_resync() -> Recording:
    """b-inbound-queue-call, where a second citizen's channel appears (Newchannel, Newstate)
    right after the CoreShowChannels list and before the BridgeList is asked for: the race of
    a resync on a busy PBX."""
    recording = load_recording(bundled_recordings()["b-inbound-queue-call"])
    (session,) = recording.sessions
    exchanges = []
    for exchange in session.exchanges:
        if exchange.name == "CoreShowChannels":
            template = next(
                item.message
                for e in session.exchanges
                for item in e.replies
                if item.message.event == "Newchannel"
            )
            late = {"Uniqueid": "1790000000.900", "Linkedid": "1790000000.900"}
            late |= {"Channel": "PJSIP/carrier-00000900", "CallerIDNum": "13700137000"}
            newchannel = AmiMessage(tuple((k, late.get(k, v)) for k, v in template.headers))
            up = AmiMessage(
                tuple(
                    (k, {"Event": "Newstate", "ChannelState": "6", "ChannelStateDesc": "Up"}.get(k, v))
                    for k, v in newchannel.headers
                )
            )
            last = exchange.replies[-1].delay
            replies = (*exchange.replies, TimedMessage(last, newchannel), TimedMessage(last, up))
            exchange = Exchange(exchange.action, replies, exchange.closed_after)
        exchanges.append(exchange)
    return Recording(recording.name, (Session(session.banner, session.greeting, tuple(exchanges)),))


async def test_given_a_call_set_up_while_the_resync_asks_its_lists_then_the_model_keeps_it() -> None:
    simulator = AmiSimulator(_with_a_call_arriving_during_the_resync(), FAST)
    await simulator.start()
    connection = AmiConnection(_settings(simulator.port), rng=random.Random(1))
    changes: list[ModelChange] = []
    connection.on_changes(changes.extend)
    try:
        await connection.start()
        await connection.wait_connected(5)
        await connection.queue_add("citizens", "Local/1001@agent-sim", "坐席1001")
        await connection.originate(
            "Local/12345@from-citizen", context="citizen-sim", exten="s", caller_id='"李四" <13800138000>'
        )
        await eventually(lambda: len(connection.model.bridges) == 1, what="bridged call")
        bridged = {u: c.bridge_id for u, c in connection.model.channels.items() if c.bridge_id}

        await connection.resync()  # CoreShowChannels, then the new call's events, then the rest

        # (the simulator gives recorded Uniqueids its own epoch: find the channel by its name)
        late = connection.model.channel_named("PJSIP/carrier-00000900")
        assert late is not None and late.is_up and late.caller_id_num == "13700137000"
        assert {u: c.bridge_id for u, c in connection.model.channels.items() if c.bridge_id} == bridged
        assert not any(isinstance(c, ChannelGone) and c.channel.uniqueid == late.uniqueid for c in changes)
    finally:
        await connection.stop()
        await simulator.stop()

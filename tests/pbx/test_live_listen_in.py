"""A supervisor listens in (监听) on the live simulator: Minhu Originates the supervisor's phone
into ``ChanSpy(<agent interface>,qE)``; the spy starts when the agent's call is up and the
supervisor's call ends with the agent's (option E)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from pbx.events import AmiEvent, UnknownEvent
from pbx.manager import AmiConnection, AmiSettings
from pbx.simulator.citizen import Citizen, HangUp
from pbx.simulator.scenarios import Answers, InboundCall, MemberSpec, Scenario
from pbx.simulator.server import AmiSimulator, SimulatorSettings

from .pbx_polling import eventually

AGENT = "PJSIP/1001"
SUPERVISOR = "PJSIP/1901"


@pytest.fixture
async def live() -> AsyncIterator[tuple[AmiConnection, list[AmiEvent]]]:
    scenario = Scenario(
        members=(MemberSpec(AGENT, "坐席1001"),),
        destinations=((AGENT, Answers(after=0.5)), (SUPERVISOR, Answers(after=0.5))),
    )
    simulator = AmiSimulator(
        settings=SimulatorSettings(time_scale=0.01, restart_delay=0.0), scenario=scenario
    )
    await simulator.start()
    connection = AmiConnection(
        AmiSettings(
            host="127.0.0.1",
            port=simulator.port,
            username="hotline",
            secret="hotline-secret",
            action_timeout=5.0,
            ping_interval=30.0,
        ),
        rng=random.Random(1),
    )
    seen: list[AmiEvent] = []
    connection.on_event(seen.append)
    await connection.start()
    await connection.wait_connected(5)
    # the citizen calls once the client is connected: AmiConnection.resync replaces the model
    # with status lists read one after the other, so a call set up meanwhile can be missed
    simulator.engine.dial_in(InboundCall(Citizen.scripted(HangUp(at=3600.0), name="张三")))
    try:
        yield connection, seen
    finally:
        await connection.stop()
        await simulator.stop()


def _spy_events(seen: list[AmiEvent], name: str) -> list[dict[str, str]]:
    return [dict(e.headers) for e in seen if isinstance(e, UnknownEvent) and e.event_name == name]


async def test_given_an_agent_in_a_call_when_the_supervisor_listens_in_then_the_spy_follows_that_call(
    live: tuple[AmiConnection, list[AmiEvent]],
) -> None:
    connection, seen = live
    model = connection.model

    def agent_leg() -> str | None:
        return next(
            (c.uniqueid for c in model.channels.values() if c.name.startswith(f"{AGENT}-") and c.bridge_id),
            None,
        )

    await eventually(agent_leg, what="the agent answers the queued citizen")
    agent = agent_leg()
    assert agent is not None
    result = await connection.originate_answered(
        SUPERVISOR, application="ChanSpy", data=f"{AGENT},qE", caller_id='"监听 1001" <12345>'
    )
    await eventually(lambda: _spy_events(seen, "ChanSpyStart"), what="ChanSpyStart")
    (start,) = _spy_events(seen, "ChanSpyStart")
    assert start["SpyeeUniqueid"] == agent and start["SpyerUniqueid"] == result.uniqueid
    assert start["SpyerChannel"].startswith(f"{SUPERVISOR}-")
    assert result.uniqueid in model.channels

    # the agent's call ends: the spy stops and the supervisor's call ends with it (option E)
    await connection.hangup(model.channels[agent].name)
    await eventually(lambda: _spy_events(seen, "ChanSpyStop"), what="ChanSpyStop")
    assert _spy_events(seen, "ChanSpyStop")[0]["SpyeeUniqueid"] == agent
    await eventually(lambda: result.uniqueid not in model.channels, what="the supervisor's call ends")


async def test_given_no_call_yet_when_the_supervisor_listens_in_then_the_spy_waits_for_one(
    live: tuple[AmiConnection, list[AmiEvent]],
) -> None:
    connection, seen = live
    model = connection.model
    result = await connection.originate_answered(SUPERVISOR, application="ChanSpy", data="PJSIP/1002,qE")
    assert result.uniqueid in model.channels
    assert not _spy_events(seen, "ChanSpyStart")
    await connection.hangup(model.channels[result.uniqueid].name)
    await eventually(lambda: result.uniqueid not in model.channels, what="the supervisor hangs up")
    assert not _spy_events(seen, "ChanSpyStart") and not _spy_events(seen, "ChanSpyStop")

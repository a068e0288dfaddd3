"""Live transcription on the desktop, end to end: a citizen's call answered by an agent (PBX
simulator), the stream Minhu binds to that call and asks Asterisk for, Asterisk's AudioSocket
frames (played here by a client that talks like Asterisk 22), the real Vosk recognizer in the
worker pool, and the agent's real websocket receiving partial and final results and the
knowledge-base articles that fit what the citizen says."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from sqlalchemy.ext.asyncio import AsyncSession

from agent_desktop.live_transcript import SPY_CHANNEL, StreamRegistry, serve
from asr.audiosocket import AudioSocketServer, Kind, encode_frame
from asr.settings import AsrSettings
from minhu.settings import Settings
from pbx.call_model import ChannelChanged
from pbx.simulator.scenarios import Answers, Scenario
from tests.asr.conftest import read_pcm
from tests.asr.synth import GRAMMAR
from workorders.clock import FixedClock

from ..api.city import PASSWORD
from .browser_rig import browser_page, sign_in
from .desk import Desk, desk, eventually
from .test_desktop_live import citizen_call

pytestmark = pytest.mark.db

SPY_PREFIX = SPY_CHANNEL.removesuffix("/n")
REDIS_URL = os.environ.get("MINHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

ELEVATOR = {
    "id": "KO-01",
    "title": "병원 엘리베이터 고장 신고（医院电梯故障）",
    "body": "병원 엘리베이터가 멈추면 시설관리과에 연락하십시오。医院电梯停运请联系市住建局特种设备科。",
    "unit_id": "housing",
    "tags": ["电梯"],
    "valid_from": "2026-01-01",
}
PENSION = {
    "id": "SB-01",
    "title": "城乡居民养老保险缴费",
    "body": "每年1月至12月可在社区或手机上缴费。",
    "unit_id": "housing",
    "valid_from": "2026-01-01",
}


@contextlib.asynccontextmanager
async def transcription_process(
    d: Desk, settings: Settings
) -> AsyncIterator[tuple[AudioSocketServer, StreamRegistry]]:
    """``minhu asr live`` (``agent_desktop.live_transcript.serve``) with the real recognizer, on
    the desk's database and Redis prefix. Its recognizer is held to the words the synthetic
    test audio contains (see tests/asr/synth.py for why and how well it hears them)."""
    asr_settings = AsrSettings(_env_file=None, workers=1, queue_chunks=8, audiosocket_port=0)  # type: ignore[call-arg]
    ready: asyncio.Future[AudioSocketServer] = asyncio.get_running_loop().create_future()

    def on_ready(server: AudioSocketServer) -> None:
        server.grammar = GRAMMAR
        ready.set_result(server)

    stop = asyncio.Event()
    process = asyncio.create_task(
        serve(settings, asr_settings, stop=stop, session_scope=d.app.state.session_factory, on_ready=on_ready)
    )
    redis: aioredis.Redis = aioredis.Redis.from_url(REDIS_URL)
    try:
        server = await asyncio.wait_for(asyncio.shield(ready), 120)
        yield server, StreamRegistry(redis, d.runtime.prefix)
    finally:
        stop.set()
        await asyncio.wait_for(process, 60)
        await redis.aclose()


async def speak_as_asterisk(port: int, stream_id: str, pcm: bytes) -> None:
    """What ``AudioSocket(${MINHU_STREAM_UUID},…)`` sends: the UUID, 20 ms frames in real time,
    then the hang-up frame."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    loop = asyncio.get_running_loop()
    started = loop.time()
    writer.write(encode_frame(Kind.UUID, uuid.UUID(stream_id).bytes))
    for n, offset in enumerate(range(0, len(pcm), 320)):
        writer.write(encode_frame(Kind.AUDIO, pcm[offset : offset + 320]))
        await writer.drain()
        await asyncio.sleep(max(0.0, started + (n + 1) * 0.02 - loop.time()))
    writer.write(encode_frame(Kind.HANGUP))
    await writer.drain()
    await reader.read()  # the server closes once the call's transcript is done
    writer.close()


def live_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "live_transcription": True,
            "redis_url": REDIS_URL,
            "kb_changes_channel": f"minhu-test:{uuid.uuid4().hex[:8]}:kb",
        }
    )


SCENARIO = Scenario(destinations=(("PJSIP/1001", Answers(after=1.0, hang_up_after=5000.0)),))


async def bound_stream(registry: StreamRegistry, linkedid: str) -> str:
    """The stream id Minhu bound to the call (polled: the leader binds it on the answer)."""
    found: list[str | None] = [None]

    async def bound() -> bool:
        found[0] = await registry.stream_of_call(linkedid)
        return found[0] is not None

    await eventually_async(bound, "stream bound to the answered call")
    assert found[0] is not None
    return found[0]


async def test_given_an_answered_call_when_the_citizen_speaks_then_the_desktop_shows_words_and_articles(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    async with desk(live_settings(settings), clock, db_session, scenario=SCENARIO) as d:
        for article in (ELEVATOR, PENSION):
            assert (await d.post("supervisor", "/kb/articles", article)).status_code == 201
        await d.post("agent", "/agent/login", {"interface": "PJSIP/1001"})
        socket = await d.socket("agent")
        seen: set[str] = set()  # channel names the PBX reported (AMI events)
        d.runtime.ami.on_changes(
            lambda changes: seen.update(c.channel.name for c in changes if isinstance(c, ChannelChanged))
        )
        async with transcription_process(d, d.app.state.settings) as (server, registry):
            d.simulator.engine.dial_in(citizen_call(hang_up_at=5000.0))
            answered = await socket.wait_for("call", event="answered")
            linkedid = answered["call"]["linkedid"]

            # Minhu bound a stream to the agent's call and asked Asterisk to spy on the citizen.
            stream_id = await bound_stream(registry, linkedid)
            binding = await registry.lookup(stream_id)
            assert binding is not None and binding.username == "agent"
            citizen = d.runtime.ami.model.channels[linkedid]
            assert (
                binding.target_channel == citizen.name
                and binding.agent_uniqueid == (answered["call"]["agent_uniqueid"])
            )
            await eventually(
                lambda: any(n.startswith(SPY_PREFIX) for n in seen), 20, "Originate of the spy channel"
            )

            _rate, pcm = read_pcm("ko-phrase-8k.wav")  # 아니요 병원 엘리베이터 안녕하세요
            speaking = asyncio.create_task(speak_as_asterisk(server.port, stream_id, pcm))
            await socket.wait_for("transcript", within=30, stage="partial")
            assert not speaking.done(), "partial results must reach the desktop while the citizen speaks"
            await speaking
            ended = await socket.wait_for("transcript", within=30, stage="ended")

    transcript: list[dict[str, Any]] = socket.of("transcript", linkedid=linkedid)
    finals = [m for m in transcript if m["stage"] == "final"]
    words = [w["word"] for m in finals for w in m["words"]]
    assert "병원" in words and "엘리베이터" in words, words
    timed = [w for m in finals for w in m["words"]]
    assert all(0 <= w["start"] < w["end"] for w in timed)
    assert [w["start"] for w in timed] == sorted(w["start"] for w in timed)
    assert "병원" in ended["transcript"] and ended["leg"] == "citizen"
    suggestions = socket.of("kb_suggestions", linkedid=linkedid)
    assert suggestions and suggestions[-1]["hits"][0]["id"] == "KO-01"
    assert suggestions[-1]["hits"][0]["matched_terms"]
    assert all(h["id"] != "SB-01" for m in suggestions for h in m["hits"])


async def eventually_async(predicate: Any, what: str, within: float = 20.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await predicate():
        if loop.time() > deadline:
            raise AssertionError(f"{what} not reached within {within} s")
        await asyncio.sleep(0.02)


async def test_given_the_desktop_page_when_the_citizen_speaks_then_it_shows_the_transcript_and_suggestions(
    settings: Settings, clock: FixedClock, db_session: AsyncSession, tmp_path: Path
) -> None:
    async with desk(live_settings(settings), clock, db_session, scenario=SCENARIO) as d:
        for article in (ELEVATOR, PENSION):
            assert (await d.post("supervisor", "/kb/articles", article)).status_code == 201
        async with (
            browser_page(d.base, tmp_path) as page,
            transcription_process(d, d.app.state.settings) as (server, registry),
        ):
            await sign_in(page, "agent", PASSWORD)
            await page.fill("#interface", "PJSIP/1001")
            await page.click("#sign-in")
            await page.wait_for_selector("#agent-state[data-state=available]")
            d.simulator.engine.dial_in(citizen_call(hang_up_at=5000.0))
            await page.wait_for_selector("#call.talking")
            call = d.runtime.hub.tracker.call_of("agent")
            assert call is not None
            stream_id = await bound_stream(registry, call.linkedid)
            _rate, pcm = read_pcm("ko-phrase-8k.wav")  # 아니요 병원 엘리베이터 안녕하세요
            await speak_as_asterisk(server.port, stream_id, pcm)
            await page.wait_for_selector("#transcript .transcript-end")
            shown = await page.inner_text("#transcript")
            assert "병원" in shown and "엘리베이터" in shown and "通话转写结束" in shown
            await page.wait_for_selector("#kb-suggestions .kb-suggestion[data-article='KO-01']")
            assert "医院电梯故障" in await page.inner_text("#kb-suggestions")
            assert await page.query_selector("#kb-suggestions [data-article='SB-01']") is None

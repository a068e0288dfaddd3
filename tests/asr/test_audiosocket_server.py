"""The AudioSocket server over real loopback TCP, with a client that talks like Asterisk 22
(frames as in shared/ami-traces/k-audiosocket.txt) and the real recognizer behind it."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from asr.audiosocket import AudioSocketServer, AudioSocketSession, Frame, FrameParser, Kind, encode_frame
from asr.pool import TranscriptionPool
from asr.transcript import Event, Final, Partial
from tests.asr.conftest import read_pcm

TRACE_UUID = uuid.UUID("40325ec2-5efd-4bd3-805f-53576e581d13")  # k-audiosocket.txt's UUID frame


@dataclass
class Listener:
    events: dict[str, list[tuple[float, Event]]] = field(default_factory=dict)
    ended: dict[str, tuple[list[Final], str]] = field(default_factory=dict)
    all_ended: asyncio.Event = field(default_factory=asyncio.Event)
    expected_calls: int = 1

    async def on_event(self, call_id: str, event: Event) -> None:
        self.events.setdefault(call_id, []).append((time.perf_counter(), event))

    async def on_call_end(self, call_id: str, finals: list[Final], reason: str) -> None:
        self.ended[call_id] = (finals, reason)
        if len(self.ended) >= self.expected_calls:
            self.all_ended.set()


@dataclass
class Asterisk:
    """The Asterisk side of one AudioSocket() call."""

    call_id: uuid.UUID
    received: list[Frame] = field(default_factory=list)
    started: float = 0.0
    send_seconds: float = 0.0

    async def call(self, port: int, pcm: bytes, *, paced: bool, hang_up: bool = True) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        reading = asyncio.create_task(self._read(reader))
        self.started = time.perf_counter()
        writer.write(encode_frame(Kind.UUID, self.call_id.bytes))
        for offset in range(0, len(pcm), 320):  # 20 ms frames, as Asterisk sends them
            if reading.done():
                break  # the server hung up
            writer.write(encode_frame(Kind.AUDIO, pcm[offset : offset + 320]))
            if paced:
                await asyncio.sleep(max(0.0, self.started + (offset // 320 + 1) * 0.02 - time.perf_counter()))
            else:
                await writer.drain()
        self.send_seconds = time.perf_counter() - self.started
        if hang_up and not reading.done():
            writer.write(encode_frame(Kind.HANGUP))
        await writer.drain()
        await asyncio.wait_for(reading, 30)
        writer.close()

    async def _read(self, reader: asyncio.StreamReader) -> None:
        parser = FrameParser()
        while data := await reader.read(4096):
            self.received += parser.feed(data)


@pytest.fixture
async def listener() -> Listener:
    return Listener()


@pytest.fixture
async def server(
    pool: TranscriptionPool, listener: Listener, grammar: tuple[str, ...]
) -> AsyncIterator[AudioSocketServer]:
    running = AudioSocketServer(pool, listener, port=0, grammar=grammar)
    await running.start()
    yield running
    await running.stop()


async def test_given_a_live_call_then_partials_within_a_second_and_a_final_transcript(
    server: AudioSocketServer, listener: Listener
) -> None:
    _, pcm = read_pcm("ko-phrase-8k.wav")
    asterisk = Asterisk(TRACE_UUID)
    await asterisk.call(server.port, pcm, paced=True)
    await asyncio.wait_for(listener.all_ended.wait(), 10)

    finals, reason = listener.ended[str(TRACE_UUID)]
    assert reason == "hangup"
    assert finals and finals[0].words[0].text == "아니요"
    events = listener.events[str(TRACE_UUID)]
    first_partial_at = next(at for at, e in events if isinstance(e, Partial))
    first_word_spoken_by = asterisk.started + finals[0].words[0].end  # in real time, paced
    # Partials are pushed while the call's audio is still flowing, not only at its end (their
    # latency is a benchmark figure, not a test assertion).
    assert first_partial_at >= first_word_spoken_by - 1.0
    assert first_partial_at < asterisk.started + asterisk.send_seconds
    assert [e for _, e in events if isinstance(e, Final)] == finals


async def test_given_the_trace_scenario_then_server_sends_audio_back_and_hangs_up(
    pool: TranscriptionPool, listener: Listener
) -> None:
    """k-audiosocket.txt: after 100 frames the server sends 25 frames of audio, then a hang-up."""

    async def answer(session: AudioSocketSession) -> None:
        await session.wait_for_audio(2.0)  # 100 frames of 20 ms
        assert session.frames_received >= 100
        assert await session.send_audio(bytes(25 * 320)) == 25
        await session.hangup()

    server = AudioSocketServer(pool, listener, port=0, session_hook=answer)
    await server.start()
    try:
        asterisk = Asterisk(TRACE_UUID)
        _, pcm = read_pcm("ko-phrase-8k.wav")
        await asterisk.call(server.port, pcm, paced=True, hang_up=False)
        await asyncio.wait_for(listener.all_ended.wait(), 10)
    finally:
        await server.stop()
    assert [f.kind for f in asterisk.received] == [Kind.AUDIO] * 25 + [Kind.HANGUP]
    assert all(len(f.payload) == 320 for f in asterisk.received[:25])
    assert asterisk.send_seconds < 3.0  # the call ended at the server's hang-up, not at the audio's end
    assert listener.ended[str(TRACE_UUID)][1] == "server-hangup"


async def test_given_a_first_frame_that_is_not_a_uuid_then_connection_closed(
    server: AudioSocketServer, listener: Listener
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(encode_frame(Kind.AUDIO, bytes(320)))
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), 5) == b""
    writer.close()
    assert listener.ended == {}


async def test_given_a_burst_of_calls_on_a_small_pool_then_callers_never_wait_and_all_audio_is_transcribed(
    model_path: Path, grammar: tuple[str, ...]
) -> None:
    _, pcm = read_pcm("ko-phrase-8k.wav")
    calls = [Asterisk(uuid.uuid4()) for _ in range(4)]
    listener = Listener(expected_calls=len(calls))
    async with TranscriptionPool(model_path, workers=1, queue_chunks=1) as small:
        server = AudioSocketServer(small, listener, port=0, grammar=grammar, chunk_ms=100, max_chunk_ms=300)
        await server.start()
        try:
            await asyncio.gather(*(c.call(server.port, pcm, paced=False) for c in calls))
            await asyncio.wait_for(listener.all_ended.wait(), 30)
        finally:
            await server.stop()
        [stats] = await small.stats()
    assert all(c.send_seconds < 1.0 for c in calls)  # Asterisk was never held up
    assert server.max_backlog_seconds > 1.0  # audio waited in the server, not in the caller
    assert stats.audio_seconds == pytest.approx(len(calls) * len(pcm) / 16000)  # nothing dropped
    for call in calls:
        finals, reason = listener.ended[str(call.call_id)]
        assert reason == "hangup" and finals[0].words[0].text == "아니요"

"""Live transcription latency on the desktop: how long after the citizen finishes saying a word it
shows on the agent's desktop (as a partial result, or the final one if no partial had it).

The path is the production one from the AudioSocket socket on: a client sending Asterisk's 20 ms
frames in real time, the AudioSocket server, the one-worker Vosk pool, the desktop listener
publishing on the Redis desktop bus, and a subscriber standing in for the API worker that holds
the agent's websocket. The word's end comes from the final result's word timings (seconds from
the start of the stream); the audio is the synthetic Korean phrase shipped for the tests, with
the recognizer held to its words (tests/asr/synth.py: the model hears espeak-ng's Korean only
that way), several calls one after another.

Figures: ``asr_live_word_to_desktop_ms_p50`` / ``_max`` (target: within a second).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
import uuid
import wave
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis

from agent_desktop.live_transcript import (
    DesktopTranscriptListener,
    StreamBinding,
    StreamRegistry,
    desktop_publisher,
)
from asr.audiosocket import AudioSocketServer, Kind, encode_frame
from asr.pool import TranscriptionPool
from asr.settings import AsrSettings, resolve_model_path

DATA = Path(__file__).resolve().parent.parent / "tests" / "asr" / "data"
GRAMMAR = ("넷", "아니요", "엘리베이터", "하나", "안녕하세요", "병원")
CALLS = 5
REDIS_URL = os.environ.get("MINHU_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def phrase() -> bytes:
    with wave.open(str(DATA / "ko-phrase-8k.wav"), "rb") as wav:
        return wav.readframes(wav.getnframes())


async def one_call(port: int, stream_id: str, pcm: bytes) -> float:
    """Send like Asterisk, in real time; the moment the first frame went out."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(encode_frame(Kind.UUID, uuid.UUID(stream_id).bytes))
    started = time.perf_counter()
    for n, offset in enumerate(range(0, len(pcm), 320)):
        writer.write(encode_frame(Kind.AUDIO, pcm[offset : offset + 320]))
        await writer.drain()
        await asyncio.sleep(max(0.0, started + (n + 1) * 0.02 - time.perf_counter()))
    writer.write(encode_frame(Kind.HANGUP))
    await writer.drain()
    await reader.read()
    writer.close()
    return started


def latencies(started: float, messages: list[tuple[float, dict[str, Any]]]) -> list[float]:
    """Per final word: first arrival of a message showing it, minus when its audio ended (a word
    a partial showed before its audio ended counts 0)."""
    out: list[float] = []
    for _, message in messages:
        if message.get("stage") != "final":
            continue
        for word in message["words"]:
            said = started + float(word["end"])
            shown = next(at for at, m in messages if word["word"] in m.get("text", ""))
            out.append(max(0.0, shown - said))
    return out


async def measure() -> list[float]:
    prefix = f"minhu-bench:{uuid.uuid4().hex[:8]}"
    redis: aioredis.Redis = aioredis.Redis.from_url(REDIS_URL)
    registry = StreamRegistry(redis, prefix, ttl_seconds=600)
    received: list[tuple[float, dict[str, Any]]] = []
    pubsub: Any = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(f"{prefix}:desktop")

    async def listen() -> None:
        while True:
            raw = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if raw is not None and raw.get("type") == "message":
                received.append((time.perf_counter(), json.loads(raw["data"])["event"]))

    listening = asyncio.create_task(listen())
    samples: list[float] = []
    settings = AsrSettings(_env_file=None)  # type: ignore[call-arg]
    try:
        async with TranscriptionPool(resolve_model_path(settings), workers=1, queue_chunks=8) as pool:
            listener = DesktopTranscriptListener(registry, desktop_publisher(redis, prefix))
            server = AudioSocketServer(pool, listener, port=0, grammar=GRAMMAR)
            await server.start()
            pcm = phrase()
            for n in range(CALLS):
                stream_id = str(uuid.uuid4())
                await registry.bind(StreamBinding(stream_id, "bench", f"call-{n}", f"agent-{n}", "PJSIP/x"))
                received.clear()
                started = await one_call(server.port, stream_id, pcm)
                deadline = time.perf_counter() + 10
                while not any(m.get("stage") == "ended" for _, m in received):
                    if time.perf_counter() > deadline:
                        raise RuntimeError("the transcript of a benchmark call did not end")
                    await asyncio.sleep(0.01)
                samples += latencies(started, [(at, m) for at, m in received if m["type"] == "transcript"])
            await server.stop()
    finally:
        listening.cancel()
        await asyncio.gather(listening, return_exceptions=True)
        await pubsub.aclose()
        await redis.aclose()
    if not samples:
        raise RuntimeError("no word was recognized: the latency cannot be measured")
    return samples


def run() -> dict[str, float]:
    samples = asyncio.run(measure())
    return {
        "asr_live_word_to_desktop_ms_p50": statistics.median(samples) * 1000,
        "asr_live_word_to_desktop_ms_max": max(samples) * 1000,
        "asr_live_words_measured": float(len(samples)),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))

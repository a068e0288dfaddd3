"""ASR throughput: CPU seconds per audio second of one 8 kHz stream, and how many live calls
one core keeps up with (measured by running them in real time on a one-worker pool).

A stream costs more in its first seconds (the decoder's on-the-fly graph cache is per
recognizer): the Korean model measured 0.35 CPU s per audio s over a stream's first 12 s and
0.21 over 60 s, so both figures use long streams, as real calls are (minutes).

Audio: the synthetic Korean speech shipped for the tests (tests/asr/data, 8 kHz), decoded
free-form (no grammar) as live calls are, with the model the settings name (the packaged
Korean test model unless MINHU_ASR_MODEL_PATH is set: a Mandarin server model costs more).
"""

from __future__ import annotations

import asyncio
import time
import wave
from pathlib import Path

from asr.pool import TranscriptionPool
from asr.recognizer import RecognizerStream, load_model
from asr.settings import AsrSettings, resolve_model_path

DATA = Path(__file__).resolve().parent.parent / "tests" / "asr" / "data"
RATE = 8000
CHUNK_SECONDS = 0.2  # what the AudioSocket server sends a worker per live call
KEEP_UP_LAG_S = 1.0  # a call keeps up if its last words arrive within this after it ends


def speech(seconds: float) -> bytes:
    """``seconds`` of 8 kHz speech (the shipped WAVs, repeated)."""
    pcm = bytearray()
    for path in sorted(DATA.glob("*-8k.wav")):
        with wave.open(str(path), "rb") as wav:
            pcm += wav.readframes(wav.getnframes())
    needed = int(seconds * RATE) * 2
    return bytes((pcm * (needed // len(pcm) + 1))[:needed])


def rtf(model_path: Path, seconds: float = 60.0) -> float:
    load_model(model_path)
    pcm = speech(seconds)
    stream = RecognizerStream(model_path, RATE)
    step = int(RATE * CHUNK_SECONDS) * 2
    started = time.process_time()
    for offset in range(0, len(pcm), step):
        stream.accept(pcm[offset : offset + step])
    stream.finish()
    return (time.process_time() - started) / seconds


async def keeps_up(pool: TranscriptionPool, calls: int, seconds: float) -> tuple[bool, float]:
    """Run ``calls`` streams in real time; whether all ended within the lag, and the worst lag."""
    pcm = speech(seconds)
    step = int(RATE * CHUNK_SECONDS) * 2

    async def one_call(index: int) -> float:
        stream = await pool.open_stream(RATE)
        await asyncio.sleep(index * CHUNK_SECONDS / calls)  # calls don't all tick together
        started = time.perf_counter()
        for n, offset in enumerate(range(0, len(pcm), step)):
            await asyncio.sleep(max(0.0, started + n * CHUNK_SECONDS - time.perf_counter()))
            await stream.feed(pcm[offset : offset + step])
        audio_end = started + len(pcm) / (2 * RATE)
        await stream.close()
        return time.perf_counter() - audio_end

    lags = await asyncio.gather(*(one_call(i) for i in range(calls)))
    worst = max(lags)
    return worst <= KEEP_UP_LAG_S, worst


async def live_calls_per_core(model_path: Path, estimate: int, seconds: float = 45.0) -> int:
    """The most real-time calls one worker (one core) carries with every call's last words
    arriving within ``KEEP_UP_LAG_S`` of its end: search up or down from ``estimate``."""
    async with TranscriptionPool(model_path, workers=1, queue_chunks=64) as pool:
        results: dict[int, bool] = {}
        calls = max(1, estimate)
        while calls not in results:
            ok, worst = await keeps_up(pool, calls, seconds)
            if not ok:  # the machine is shared: one retry before calling it behind
                ok, worst = await keeps_up(pool, calls, seconds)
            results[calls] = ok
            print(f"  {calls} live calls on one core: worst lag {worst:.2f} s -> {'ok' if ok else 'behind'}")
            if ok and calls + 1 not in results:
                calls += 1
            elif not ok and calls > 1 and calls - 1 not in results:
                calls -= 1
        return max((n for n, ok in results.items() if ok), default=0)


def run() -> dict[str, float]:
    model_path = resolve_model_path(AsrSettings())
    measured_rtf = rtf(model_path)
    estimate = int(1 / measured_rtf) if measured_rtf > 0 else 1
    calls = asyncio.run(live_calls_per_core(model_path, estimate))
    return {"asr_rtf": measured_rtf, "asr_live_calls_per_core": float(calls)}


if __name__ == "__main__":
    print(run())

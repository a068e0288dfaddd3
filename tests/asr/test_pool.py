"""The worker pool with the real model: one load per process, sizing, back-pressure, failures."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest

from asr.errors import PoolClosedError, StreamClosedError, WorkerDiedError
from asr.pool import PoolStream, TranscriptionPool
from asr.settings import AsrSettings, pool_size, workers_for
from asr.transcript import Final, Partial
from tests.asr.conftest import read_pcm, word_pcm


async def feed_all(stream: PoolStream, pcm: bytes, chunk: int) -> None:
    for offset in range(0, len(pcm), chunk):
        await stream.feed(pcm[offset : offset + chunk])


@pytest.mark.parametrize(
    ("cpus", "memory_mb", "worker_mb", "expected"),
    [
        (8, 64_000, 600, 8),  # cores bound
        (8, 2_000, 600, 3),  # memory bound
        (2, None, 600, 2),  # memory unknown: cores
        (4, 100, 600, 1),  # never fewer than one
        (1, 24_000, 4_000, 1),
    ],
)
def test_pool_is_sized_to_cores_and_memory(
    cpus: int, memory_mb: int | None, worker_mb: int, expected: int
) -> None:
    assert pool_size(cpus, memory_mb, worker_mb) == expected


def test_given_workers_set_then_that_many() -> None:
    assert workers_for(AsrSettings(workers=3)) == 3
    assert workers_for(AsrSettings()) >= 1


async def test_given_streams_on_every_worker_then_each_process_loaded_the_model_once(
    pool: TranscriptionPool, grammar: tuple[str, ...]
) -> None:
    before = {s.pid: s.streams_served for s in await pool.stats()}
    streams = [await pool.open_stream(8000, grammar) for _ in range(4)]
    await asyncio.gather(*(feed_all(s, word_pcm("하나", 8000), 1600) for s in streams))
    results = await asyncio.gather(*(s.close() for s in streams))
    assert [[f.text for f in r] for r in results] == [["하나"]] * 4
    stats = await pool.stats()
    assert len(stats) == 2 and os.getpid() not in {s.pid for s in stats}
    assert {s.worker_pid for s in streams} == {s.pid for s in stats}  # spread over both
    assert all(s.model_loads == 1 for s in stats)
    assert sum(s.streams_served - before[s.pid] for s in stats) == 4


async def test_given_16k_and_8k_streams_side_by_side_then_both_recognized(
    pool: TranscriptionPool, grammar: tuple[str, ...]
) -> None:
    narrow = await pool.open_stream(8000, grammar)
    wide = await pool.open_stream(16000, grammar)
    await asyncio.gather(
        feed_all(narrow, word_pcm("안녕하세요", 8000), 1600),
        feed_all(wide, word_pcm("엘리베이터", 16000), 3200),
    )
    assert [f.text for f in await narrow.close()] == ["안녕하세요"]
    assert [f.text for f in await wide.close()] == ["엘리베이터"]


async def test_given_a_stream_then_partials_then_final_arrive_as_events(
    pool: TranscriptionPool, grammar: tuple[str, ...]
) -> None:
    rate, pcm = read_pcm("ko-phrase-8k.wav")
    stream = await pool.open_stream(rate, grammar)
    seen: list[Partial | Final] = []

    async def collect() -> None:
        async for event in stream.events():
            seen.append(event)

    collector = asyncio.create_task(collect())
    await feed_all(stream, pcm, 1600)
    finals = await stream.close()
    await collector
    assert [type(e) for e in seen].count(Partial) >= 3
    assert seen[-1] == finals[-1] and finals[0].text.startswith("아니요")
    with pytest.raises(StreamClosedError):
        await stream.feed(b"\0\0")


async def test_given_a_burst_beyond_the_queue_then_feeders_wait_and_no_audio_is_lost(
    model_path: Path, grammar: tuple[str, ...]
) -> None:
    """One worker, two queue slots, eight streams fed as fast as possible."""
    async with TranscriptionPool(model_path, workers=1, queue_chunks=2) as small:
        words = ["넷", "아니요", "엘리베이터", "하나", "안녕하세요", "병원", "아니요", "병원"]
        streams = [await small.open_stream(8000, grammar) for _ in words]
        peak = 0
        gaps: list[float] = []
        done = asyncio.Event()

        async def watch() -> None:
            nonlocal peak
            last = time.perf_counter()
            while not done.is_set():
                peak = max(peak, small.in_flight)
                await asyncio.sleep(0.005)
                now = time.perf_counter()
                gaps.append(now - last)
                last = now

        watcher = asyncio.create_task(watch())
        sent = 0
        for word in words:
            sent += len(word_pcm(word, 8000))
        await asyncio.gather(
            *(feed_all(s, word_pcm(w, 8000), 800) for s, w in zip(streams, words, strict=True))
        )
        results = await asyncio.gather(*(s.close() for s in streams))
        done.set()
        await watcher
        [stats] = await small.stats()

    assert [[f.text for f in r] for r in results] == [[w] for w in words]  # later, not lost
    assert peak <= 2  # the queue bound held
    assert sum(s.waited_seconds for s in streams) > 0.1  # feeders were made to wait
    assert sum(s.audio_bytes_sent for s in streams) == sent
    assert stats.audio_seconds == pytest.approx(sent / 16000)  # the worker decoded every byte
    assert max(gaps) < 1.0  # the event loop was never blocked while feeders waited


async def test_given_a_worker_killed_then_its_streams_fail_and_others_carry_on(
    model_path: Path, grammar: tuple[str, ...]
) -> None:
    async with TranscriptionPool(model_path, workers=2, queue_chunks=4) as doomed:
        victim = await doomed.open_stream(8000, grammar)
        survivor = await doomed.open_stream(8000, grammar)
        assert victim.worker_pid != survivor.worker_pid
        os.kill(victim.worker_pid, signal.SIGKILL)
        with pytest.raises(WorkerDiedError):
            for _ in range(200):  # until the pool has noticed
                await victim.feed(word_pcm("넷", 8000))
                await asyncio.sleep(0.01)
        with pytest.raises(WorkerDiedError):
            await victim.close()
        await feed_all(survivor, word_pcm("병원", 8000), 1600)
        assert [f.text for f in await survivor.close()] == ["병원"]
        replacement = await doomed.open_stream(8000, grammar)
        assert replacement.worker_pid == survivor.worker_pid
        await replacement.close()
    with pytest.raises(PoolClosedError):
        await doomed.open_stream(8000)

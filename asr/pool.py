"""A pool of transcription worker processes with a bounded queue per worker.

Each worker process holds one model and decodes the streams assigned to it. Audio goes to a
worker only against a credit: at most ``queue_chunks`` chunks may be in flight per worker, and
:meth:`PoolStream.feed` *awaits* a free slot. So a burst of calls makes results arrive later —
the callers' audio is buffered upstream (see :mod:`asr.audiosocket`) or the reader of a file
slows down — and nothing is dropped; the event loop itself never blocks on a worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import sys
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

from asr import wire
from asr.errors import AsrError, PoolClosedError, StreamClosedError, WorkerDiedError
from asr.recognizer import SUPPORTED_RATES
from asr.settings import AsrSettings, resolve_model_path, workers_for
from asr.transcript import Event, Final, event_from_dict

log = logging.getLogger("asr.pool")


@dataclass(frozen=True, slots=True)
class WorkerStats:
    pid: int
    model_loads: int
    load_seconds: float
    cpu_seconds: float
    audio_seconds: float
    open_streams: int
    streams_served: int


class PoolStream:
    """One leg of one call inside the pool: feed PCM, read events, close for the last final."""

    def __init__(self, stream_id: str, sample_rate: int, handle: _WorkerHandle, request_timeout: float):
        self.id = stream_id
        self.sample_rate = sample_rate
        self.finals: list[Final] = []
        self.audio_bytes_sent = 0
        self.waited_seconds = 0.0
        """Time :meth:`feed` spent waiting for queue space (back-pressure), in total."""
        self._handle = handle
        self._timeout = request_timeout
        self._events: asyncio.Queue[Event | None] = asyncio.Queue()
        self._closed: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._close_sent = False
        self._error: AsrError | None = None

    @property
    def worker_pid(self) -> int:
        return self._handle.pid

    async def feed(self, pcm: bytes) -> None:
        """Queue ``pcm`` for decoding; waits (never drops) while the worker's queue is full."""
        if self._close_sent:
            raise StreamClosedError("识别流已关闭，不能再送音频", stream=self.id)
        if self._error is not None:
            raise self._error
        if not pcm:
            return
        self.waited_seconds += await self._handle.acquire()
        self._handle.write(wire.encode({"op": "audio", "stream": self.id}, pcm))
        self.audio_bytes_sent += len(pcm)
        await self._handle.drain()

    async def events(self) -> AsyncIterator[Event]:
        """Partials and finals as they come; ends when the stream is closed (or fails)."""
        while True:
            event = await self._events.get()
            if event is None:
                return
            yield event

    async def close(self) -> list[Final]:
        """End of audio: wait for the decoder's last words; every final of the stream."""
        if not self._close_sent and self._error is None:
            self._close_sent = True
            self._handle.write(wire.encode({"op": "close", "stream": self.id}))
            await self._handle.drain()
        if self._error is None:
            # Queued chunks are decoded first: allow for a full queue on top of the deadline.
            await asyncio.wait_for(asyncio.shield(self._closed), self._timeout)
        if self._error is not None:
            raise self._error
        return list(self.finals)

    # — called by the worker handle's reader —
    def _on_event(self, event: Event) -> None:
        if isinstance(event, Final):
            self.finals.append(event)
        self._events.put_nowait(event)

    def _on_closed(self, audio_seconds: float) -> None:
        if not self._closed.done():
            self._closed.set_result(audio_seconds)
        self._events.put_nowait(None)

    def _on_error(self, error: AsrError) -> None:
        if self._error is None:
            self._error = error
        if not self._closed.done():
            self._closed.set_result(0.0)
        self._events.put_nowait(None)


class _WorkerHandle:
    """The pool's side of one worker process."""

    def __init__(self, index: int, capacity: int) -> None:
        self.index = index
        self.capacity = capacity
        self.in_flight = 0
        self.pid = 0
        self.dead = False
        self.streams: dict[str, PoolStream] = {}
        self.process: asyncio.subprocess.Process | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._space = asyncio.Event()
        self._ready: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._stats: deque[asyncio.Future[dict[str, Any]]] = deque()
        self._reader_task: asyncio.Task[None] | None = None

    async def start(self, model_path: Path, start_timeout: float) -> None:
        ours, theirs = socket.socketpair()
        try:
            # A fresh interpreter (not fork, not multiprocessing's spawn): no state inherited from
            # the event loop, and no re-import of the caller's __main__.
            self.process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "asr.worker",
                str(theirs.fileno()),
                str(model_path),
                pass_fds=(theirs.fileno(),),
                stdin=asyncio.subprocess.DEVNULL,
            )
        finally:
            theirs.close()
        self._reader, self._writer = await asyncio.open_connection(sock=ours, limit=wire.MAX_MESSAGE)
        self._reader_task = asyncio.create_task(self._read(), name=f"asr-worker-{self.index}-reader")
        ready = await asyncio.wait_for(asyncio.shield(self._ready), start_timeout)
        self.pid = int(ready["pid"])
        log.info(
            "asr worker %s ready (pid %s, model loaded in %.1f s)",
            self.index,
            self.pid,
            ready["load_seconds"],
        )

    async def acquire(self) -> float:
        """Take one queue slot, waiting for one if the queue is full; the seconds waited."""
        started = time.perf_counter()
        while not self.dead and self.in_flight >= self.capacity:
            self._space.clear()
            await self._space.wait()
        if self.dead:
            raise WorkerDiedError("语音识别进程已退出", worker=self.index, pid=self.pid)
        self.in_flight += 1
        return time.perf_counter() - started

    def write(self, data: bytes) -> None:
        if self.dead or self._writer is None:
            raise WorkerDiedError("语音识别进程已退出", worker=self.index, pid=self.pid)
        self._writer.write(data)

    async def drain(self) -> None:
        assert self._writer is not None
        try:
            await self._writer.drain()
        except ConnectionError as exc:
            raise WorkerDiedError("语音识别进程已退出", worker=self.index, pid=self.pid) from exc

    async def stats(self, request_timeout: float) -> WorkerStats:
        waiter: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._stats.append(waiter)
        self.write(wire.encode({"op": "stats"}))
        await self.drain()
        data = await asyncio.wait_for(waiter, request_timeout)
        return WorkerStats(**{f: data[f] for f in WorkerStats.__dataclass_fields__})

    async def _read(self) -> None:
        assert self._reader is not None
        try:
            while True:
                prefix = await self._reader.readexactly(wire.prefix_size())
                remaining, header_length = wire.unpack_prefix(prefix)
                header, _ = wire.decode(await self._reader.readexactly(remaining), header_length)
                self._dispatch(header)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._died()

    def _dispatch(self, header: dict[str, Any]) -> None:
        op = header["op"]
        stream = self.streams.get(header.get("stream", ""))
        if op == "done":
            self.in_flight -= 1
            self._space.set()
        elif op == "event" and stream is not None:
            stream._on_event(event_from_dict(header["event"]))
        elif op == "closed" and stream is not None:
            del self.streams[stream.id]
            stream._on_closed(float(header["audio_seconds"]))
        elif op == "error" and stream is not None:
            error = AsrError(header["message"], stream=stream.id)
            error.error_id = header["error_id"]
            stream._on_error(error)
        elif op == "ready" and not self._ready.done():
            self._ready.set_result(header)
        elif op == "stats" and self._stats:
            self._stats.popleft().set_result(header)

    def _died(self) -> None:
        if self.dead:
            return
        self.dead = True
        error = WorkerDiedError("语音识别进程已退出", worker=self.index, pid=self.pid)
        if not self._ready.done():
            self._ready.set_exception(error)
        while self._stats:
            self._stats.popleft().set_exception(error)
        for stream in list(self.streams.values()):
            stream._on_error(error)
        self.streams.clear()
        self._space.set()
        if self._writer is not None:
            self._writer.close()

    async def stop(self, join_timeout: float) -> None:
        if not self.dead and self._writer is not None:
            with contextlib.suppress(ConnectionError, WorkerDiedError):
                self.write(wire.encode({"op": "stop"}))
                await self.drain()
        if self.process is not None and self.process.returncode is None:
            try:
                await asyncio.wait_for(self.process.wait(), join_timeout)
            except TimeoutError:
                log.warning("asr worker %s did not stop in %.0f s: killed", self.index, join_timeout)
                self.process.kill()
                await self.process.wait()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader_task
        self._died()


class TranscriptionPool:
    """Worker processes sized to the machine; streams are placed on the least busy worker."""

    def __init__(
        self,
        model_path: Path,
        workers: int,
        queue_chunks: int = 32,
        *,
        start_timeout: float = 120.0,
        request_timeout: float = 30.0,
    ) -> None:
        if workers < 1 or queue_chunks < 1:
            raise ValueError("a pool needs at least one worker and one queue slot")
        self.model_path = model_path
        self.size = workers
        self.queue_chunks = queue_chunks
        self._start_timeout = start_timeout
        self._request_timeout = request_timeout
        self._handles: list[_WorkerHandle] = []
        self._accepting = False

    @classmethod
    def from_settings(cls, settings: AsrSettings) -> TranscriptionPool:
        return cls(
            resolve_model_path(settings),
            workers_for(settings),
            settings.queue_chunks,
            start_timeout=settings.worker_start_timeout_s,
            request_timeout=settings.request_timeout_s,
        )

    async def start(self) -> None:
        """Start every worker and wait until each has loaded its model."""
        self._handles = [_WorkerHandle(i, self.queue_chunks) for i in range(self.size)]
        try:
            await asyncio.gather(*(h.start(self.model_path, self._start_timeout) for h in self._handles))
        except BaseException:
            await self.stop()
            raise
        self._accepting = True

    async def stop(self, drain_timeout: float = 10.0) -> None:
        """Stop intake, let open streams finish within ``drain_timeout``, then stop the workers."""
        self._accepting = False
        open_streams = [s._closed for h in self._handles if not h.dead for s in h.streams.values()]
        if open_streams:
            await asyncio.wait(open_streams, timeout=drain_timeout)
        await asyncio.gather(*(h.stop(join_timeout=5.0) for h in self._handles))

    async def __aenter__(self) -> TranscriptionPool:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    async def open_stream(
        self, sample_rate: int = 8000, grammar: Sequence[str] | None = None, stream_id: str | None = None
    ) -> PoolStream:
        """A new stream on the least busy live worker."""
        if not self._accepting:
            raise PoolClosedError("语音识别服务未启动或正在停止")
        if sample_rate not in SUPPORTED_RATES:
            raise ValueError(f"unsupported sample rate {sample_rate}")
        alive = [h for h in self._handles if not h.dead]
        if not alive:
            raise WorkerDiedError("没有可用的语音识别进程")
        handle = min(alive, key=lambda h: (len(h.streams), h.in_flight))
        stream = PoolStream(stream_id or uuid.uuid4().hex, sample_rate, handle, self._request_timeout)
        handle.streams[stream.id] = stream
        header: dict[str, Any] = {"op": "open", "stream": stream.id, "rate": sample_rate}
        if grammar:
            header["grammar"] = list(grammar)
        handle.write(wire.encode(header))
        await handle.drain()
        return stream

    async def stats(self) -> list[WorkerStats]:
        alive = [h for h in self._handles if not h.dead]
        return list(await asyncio.gather(*(h.stats(self._request_timeout) for h in alive)))

    @property
    def in_flight(self) -> int:
        return sum(h.in_flight for h in self._handles)

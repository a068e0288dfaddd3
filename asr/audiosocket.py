"""Asterisk's AudioSocket protocol and the TCP server live calls are transcribed through.

Dialplan: ``same => n,AudioSocket(${UUID},127.0.0.1:9092)``. Asterisk connects, sends a UUID
frame, then a 320-byte audio frame (20 ms of 8 kHz signed-linear mono) every 20 ms, and ends
with a hang-up frame or by closing (see ``shared/ami-traces/k-audiosocket.txt``). The server may
send audio frames back (played to the channel) and may hang up by sending a hang-up frame.

Every frame is ``type (1 byte) | payload length (2 bytes, big-endian) | payload``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, Protocol

from asr.errors import AsrError, AudioSocketProtocolError
from asr.pool import PoolStream, TranscriptionPool
from asr.settings import AsrSettings
from asr.transcript import Event, Final

log = logging.getLogger("asr.audiosocket")

HEADER = struct.Struct(">BH")
MAX_PAYLOAD = 0xFFFF
FRAME_MS = 20


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    AUDIO = 0x10
    """Signed linear, 16-bit, 8 kHz, mono (Asterisk's ``slin``) — the only audio seen in the trace."""
    AUDIO_16K = 0x12
    """``slin16``, which newer Asterisk releases may send; taken the same way at 16 kHz."""
    ERROR = 0xFF


AUDIO_RATES: dict[int, int] = {Kind.AUDIO: 8000, Kind.AUDIO_16K: 16000}

ERROR_CODES = {0x01: "hangup", 0x02: "frame-forwarding", 0x04: "memory"}
"""Asterisk-generated error codes carried in an ERROR frame's 1-byte payload."""


@dataclass(frozen=True, slots=True)
class Frame:
    kind: int
    payload: bytes = b""

    def encode(self) -> bytes:
        return encode_frame(self.kind, self.payload)

    @property
    def call_id(self) -> uuid.UUID:
        if self.kind != Kind.UUID or len(self.payload) != 16:
            raise AudioSocketProtocolError("不是 UUID 帧", kind=self.kind, length=len(self.payload))
        return uuid.UUID(bytes=self.payload)


def encode_frame(kind: int, payload: bytes = b"") -> bytes:
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"AudioSocket payload too long: {len(payload)} > {MAX_PAYLOAD}")
    return HEADER.pack(kind, len(payload)) + payload


class FrameParser:
    """Bytes in, whole frames out, whatever the TCP reads' boundaries (pure, incremental)."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[Frame]:
        self._buffer += data
        frames: list[Frame] = []
        offset = 0
        while len(self._buffer) - offset >= HEADER.size:
            kind, length = HEADER.unpack_from(self._buffer, offset)
            end = offset + HEADER.size + length
            if end > len(self._buffer):
                break
            frames.append(Frame(kind, bytes(self._buffer[offset + HEADER.size : end])))
            offset = end
        del self._buffer[:offset]
        return frames

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back."""
        return len(self._buffer)


class TranscriptListener(Protocol):
    """Where a live call's transcript goes (the agent desktop's notifier implements this)."""

    async def on_event(self, call_id: str, event: Event) -> None: ...

    async def on_call_end(self, call_id: str, finals: list[Final], reason: str) -> None: ...


class AudioSocketSession:
    """One AudioSocket connection: the call's id, and the means to talk back or hang up."""

    def __init__(self, call_id: str, writer: asyncio.StreamWriter) -> None:
        self.call_id = call_id
        self.frames_received = 0
        self.audio_seconds = 0.0
        self._writer = writer
        self._hung_up = False
        self._hangup_sent = False
        self._progress = asyncio.Event()

    async def send_audio(self, pcm: bytes, *, pace: bool = False) -> int:
        """Send 8 kHz PCM back to the channel as 320-byte frames; the number of frames sent."""
        frame_bytes = 8000 * 2 * FRAME_MS // 1000
        sent = 0
        for offset in range(0, len(pcm), frame_bytes):
            if self._hung_up:
                break
            self._writer.write(encode_frame(Kind.AUDIO, pcm[offset : offset + frame_bytes]))
            sent += 1
            if pace:
                await asyncio.sleep(FRAME_MS / 1000)
        await self._writer.drain()
        return sent

    async def hangup(self) -> None:
        """Send the hang-up frame and close; Asterisk then ends the AudioSocket application."""
        if self._hung_up:
            return
        self._hung_up = True
        self._hangup_sent = True
        with contextlib.suppress(ConnectionError):
            self._writer.write(encode_frame(Kind.HANGUP))
            await self._writer.drain()
        self._writer.close()  # as the trace shows: hang-up frame, then close (ends the reader)

    async def wait_for_audio(self, seconds: float) -> None:
        """Until at least ``seconds`` of audio have arrived (or the call ended)."""
        while self.audio_seconds < seconds and not self._hung_up:
            self._progress.clear()
            await self._progress.wait()

    def _received(self, audio_seconds: float) -> None:
        self.frames_received += 1
        self.audio_seconds += audio_seconds
        self._progress.set()

    @property
    def _hung_up_by_us(self) -> bool:
        return self._hangup_sent

    def _ended(self) -> None:
        self._hung_up = True
        self._progress.set()


SessionHook = Callable[[AudioSocketSession], Coroutine[Any, Any, None]]


class _CallBuffer:
    """The caller's audio waiting for the pool. Reading from Asterisk never waits on the pool
    (a slow pool must not stall the channel), so under a burst audio piles up here and reaches
    the recognizer later — it is never dropped."""

    def __init__(self) -> None:
        self.rate: int | None = None
        self.backlog_bytes = 0
        self.max_backlog_bytes = 0
        self._frames: asyncio.Queue[bytes | None] = asyncio.Queue()

    def put(self, pcm: bytes) -> None:
        self.backlog_bytes += len(pcm)
        self.max_backlog_bytes = max(self.max_backlog_bytes, self.backlog_bytes)
        self._frames.put_nowait(pcm)

    def end(self) -> None:
        self._frames.put_nowait(None)

    async def next_chunk(self, min_ms: int, max_ms: int) -> bytes | None:
        """At least ``min_ms`` of audio (or what arrived within ``min_ms``), at most ``max_ms``;
        ``None`` once the call has ended and everything was handed out."""
        first = await self._frames.get()
        if first is None:
            self._frames.put_nowait(None)
            return None
        bytes_per_ms = 2 * (self.rate or 8000) // 1000
        min_bytes, max_bytes = min_ms * bytes_per_ms, max_ms * bytes_per_ms
        chunk = bytearray(first)
        deadline = time.monotonic() + min_ms / 1000
        while len(chunk) < max_bytes:
            if self._frames.empty():
                remaining = deadline - time.monotonic()
                if len(chunk) >= min_bytes or remaining <= 0:
                    break
                try:
                    item = await asyncio.wait_for(self._frames.get(), remaining)
                except TimeoutError:
                    break
            else:
                item = self._frames.get_nowait()
            if item is None:
                self._frames.put_nowait(None)  # the next call sees the end too
                break
            chunk += item
        self.backlog_bytes -= len(chunk)
        return bytes(chunk)


class AudioSocketServer:
    """Accepts Asterisk's AudioSocket connections and transcribes each call through the pool.

    Per call: a reader (frames from Asterisk into the call's buffer — never blocked by the pool),
    a feeder (buffer → pool stream, in chunks of ``chunk_ms``, larger when behind) and a
    forwarder (stream events → listener); the optional ``session_hook`` runs beside them and
    may send audio back or hang up.
    """

    def __init__(
        self,
        pool: TranscriptionPool,
        listener: TranscriptListener,
        *,
        host: str = "127.0.0.1",
        port: int = 9092,
        chunk_ms: int = 200,
        max_chunk_ms: int = 2000,
        first_frame_timeout: float = 5.0,
        read_timeout: float = 10.0,
        session_hook: SessionHook | None = None,
        grammar: Sequence[str] | None = None,
    ) -> None:
        self.pool = pool
        self.grammar = grammar
        self.listener = listener
        self.host = host
        self.port = port
        self.chunk_ms = chunk_ms
        self.max_chunk_ms = max_chunk_ms
        self.first_frame_timeout = first_frame_timeout
        self.read_timeout = read_timeout
        self.session_hook = session_hook
        self.max_backlog_seconds = 0.0
        """The most audio any call had waiting for the pool (how far behind a burst put us)."""
        self._server: asyncio.Server | None = None
        self._calls: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(
        cls, settings: AsrSettings, pool: TranscriptionPool, listener: TranscriptListener
    ) -> AudioSocketServer:
        return cls(
            pool,
            listener,
            host=settings.audiosocket_host,
            port=settings.audiosocket_port,
            chunk_ms=settings.chunk_ms,
            max_chunk_ms=settings.max_chunk_ms,
            first_frame_timeout=settings.first_frame_timeout_s,
            read_timeout=settings.read_timeout_s,
        )

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("AudioSocket server listening on %s:%s", self.host, self.port)

    async def stop(self, drain_timeout: float = 10.0) -> None:
        """Stop accepting, let calls in progress finish within ``drain_timeout``, then cancel them."""
        if self._server is not None:
            self._server.close()
        if self._calls:
            _, pending = await asyncio.wait(self._calls, timeout=drain_timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._calls.add(task)
        try:
            await self._serve(reader, writer)
        except (AsrError, TimeoutError, ConnectionError) as exc:
            log.warning("AudioSocket connection ended: %s", exc or type(exc).__name__)
        finally:
            self._calls.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        parser = FrameParser()
        frames: list[Frame] = []
        while not frames:
            data = await asyncio.wait_for(reader.read(4096), self.first_frame_timeout)
            if not data:
                return
            frames = parser.feed(data)
        if frames[0].kind != Kind.UUID:
            raise AudioSocketProtocolError("AudioSocket 连接的第一帧不是 UUID", kind=frames[0].kind)
        session = AudioSocketSession(str(frames[0].call_id), writer)
        buffer = _CallBuffer()
        hook = asyncio.create_task(self.session_hook(session)) if self.session_hook else None
        feeder = asyncio.create_task(self._transcribe(session, buffer))
        try:
            reason = await self._read_frames(reader, parser, frames[1:], session, buffer)
        finally:
            session._ended()
            buffer.end()
        finals = await feeder
        if hook is not None:
            await asyncio.gather(hook, return_exceptions=True)
        await _notify(self.listener.on_call_end(session.call_id, finals, reason))

    async def _read_frames(
        self,
        reader: asyncio.StreamReader,
        parser: FrameParser,
        frames: list[Frame],
        session: AudioSocketSession,
        buffer: _CallBuffer,
    ) -> str:
        """Take frames until the call ends; why it ended."""
        while True:
            for frame in frames:
                rate = AUDIO_RATES.get(frame.kind)
                if rate is not None:
                    if buffer.rate is None:
                        buffer.rate = rate
                    elif buffer.rate != rate:
                        raise AudioSocketProtocolError("通话中音频采样率改变", was=buffer.rate, now=rate)
                    buffer.put(frame.payload)
                    session._received(len(frame.payload) / (2 * rate))
                    self.max_backlog_seconds = max(
                        self.max_backlog_seconds, buffer.backlog_bytes / (2 * rate)
                    )
                elif frame.kind == Kind.HANGUP:
                    return "hangup"
                elif frame.kind == Kind.ERROR:
                    code = frame.payload[0] if frame.payload else 0
                    log.warning("AudioSocket error frame on %s: %s", session.call_id, code)
                    return "error-" + ERROR_CODES.get(code, str(code))
                else:
                    log.debug("AudioSocket frame 0x%02x ignored on %s", frame.kind, session.call_id)
            try:
                data = await asyncio.wait_for(reader.read(65536), self.read_timeout)
            except TimeoutError:
                return "timeout"
            except ConnectionError:
                return "connection-lost"
            if not data:
                return "server-hangup" if session._hung_up_by_us else "closed"
            frames = parser.feed(data)

    async def _transcribe(self, session: AudioSocketSession, buffer: _CallBuffer) -> list[Final]:
        """Feed the call's audio to the pool as it comes; the call's finals."""
        chunk = await buffer.next_chunk(self.chunk_ms, self.max_chunk_ms)
        if chunk is None or buffer.rate is None:
            return []
        stream: PoolStream | None = None
        forwarder: asyncio.Task[None] | None = None
        try:
            stream = await self.pool.open_stream(buffer.rate, self.grammar, stream_id=session.call_id)
            forwarder = asyncio.create_task(self._forward(session.call_id, stream))
            while chunk is not None:
                await stream.feed(chunk)
                chunk = await buffer.next_chunk(self.chunk_ms, self.max_chunk_ms)
            return await stream.close()
        except AsrError as exc:
            log.error("transcription of %s failed: %s", session.call_id, exc)
            while await buffer.next_chunk(0, self.max_chunk_ms) is not None:
                pass  # the call goes on without a transcript: keep the reader unblocked
            return list(stream.finals) if stream is not None else []
        finally:
            if forwarder is not None:
                await asyncio.gather(forwarder, return_exceptions=True)

    async def _forward(self, call_id: str, stream: PoolStream) -> None:
        async for event in stream.events():
            await _notify(self.listener.on_event(call_id, event))


async def _notify(call: Awaitable[None]) -> None:
    """A listener's failure is logged, never allowed to end the call's transcription."""
    try:
        await call
    except Exception:
        log.exception("transcript listener failed")

"""A transcription worker process: loads the model once, then serves many streams.

The pool talks to it over one socket pair (:mod:`asr.wire`). Messages from the pool:
``open`` (stream, rate, grammar), ``audio`` (stream + PCM payload), ``close`` (stream),
``stats`` and ``stop``. Every ``audio`` message is answered with ``done`` once decoded — the
credit that bounds the pool's queue — preceded by the ``event`` messages it produced; ``close``
is answered by the stream's last ``event`` (if any) and ``closed``.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from asr import wire
from asr.errors import AsrError
from asr.recognizer import RecognizerStream, load_model, model_load_seconds, model_loads

log = logging.getLogger("asr.worker")


class _Worker:
    def __init__(self, sock: socket.socket, model_path: Path) -> None:
        self.sock = sock
        self.model_path = model_path
        self.streams: dict[str, RecognizerStream] = {}
        self.cpu_seconds = 0.0
        self.audio_seconds = 0.0
        self.streams_served = 0

    def send(self, *messages: tuple[dict[str, Any], bytes]) -> None:
        self.sock.sendall(b"".join(wire.encode(header, payload) for header, payload in messages))

    def serve(self) -> None:
        load_model(self.model_path)
        self.send(({"op": "ready", "pid": os.getpid(), "load_seconds": model_load_seconds()}, b""))
        while True:
            message = wire.recv_message(self.sock)
            if message is None:
                return
            header, payload = message
            op = header["op"]
            if op == "stop":
                return
            if op == "open":
                self.open(header)
            elif op == "audio":
                self.audio(header["stream"], payload)
            elif op == "close":
                self.close(header["stream"])
            elif op == "stats":
                self.send(({"op": "stats", **self.stats()}, b""))

    def stats(self) -> dict[str, Any]:
        return {
            "pid": os.getpid(),
            "model_loads": model_loads(),
            "load_seconds": model_load_seconds(),
            "cpu_seconds": self.cpu_seconds,
            "audio_seconds": self.audio_seconds,
            "open_streams": len(self.streams),
            "streams_served": self.streams_served,
        }

    def open(self, header: dict[str, Any]) -> None:
        stream_id = header["stream"]
        try:
            self.streams[stream_id] = RecognizerStream(
                self.model_path, int(header["rate"]), header.get("grammar")
            )
            self.streams_served += 1
        except AsrError as exc:
            self.send(_error(stream_id, exc))

    def audio(self, stream_id: str, pcm: bytes) -> None:
        out: list[tuple[dict[str, Any], bytes]] = []
        stream = self.streams.get(stream_id)
        if stream is not None:
            started = time.process_time()
            try:
                events = stream.accept(pcm)
            except Exception as exc:  # noqa: BLE001 — Vosk fails with bare Exception; other streams go on
                del self.streams[stream_id]
                events = []
                out.append(_error(stream_id, AsrError(f"识别失败：{exc}")))
            self.cpu_seconds += time.process_time() - started
            self.audio_seconds += len(pcm) / (2 * stream.sample_rate)
            out.extend(({"op": "event", "stream": stream_id, "event": e.to_dict()}, b"") for e in events)
        out.append(({"op": "done", "stream": stream_id}, b""))
        self.send(*out)

    def close(self, stream_id: str) -> None:
        out: list[tuple[dict[str, Any], bytes]] = []
        stream = self.streams.pop(stream_id, None)
        audio_seconds = 0.0
        if stream is not None:
            started = time.process_time()
            final = stream.finish()
            self.cpu_seconds += time.process_time() - started
            audio_seconds = stream.audio_seconds
            if final is not None:
                out.append(({"op": "event", "stream": stream_id, "event": final.to_dict()}, b""))
        out.append(({"op": "closed", "stream": stream_id, "audio_seconds": audio_seconds}, b""))
        self.send(*out)


def _error(stream_id: str, exc: AsrError) -> tuple[dict[str, Any], bytes]:
    return {"op": "error", "stream": stream_id, "error_id": exc.error_id, "message": str(exc)}, b""


def main(sock: socket.socket, model_path: str) -> None:
    """Serve the pool on ``sock`` until it says stop or goes away."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when workers stop
    sock.setblocking(True)
    try:
        _Worker(sock, Path(model_path)).serve()
    except (BrokenPipeError, ConnectionResetError):
        pass  # the pool went away: nothing left to answer
    finally:
        sock.close()


if __name__ == "__main__":  # started by the pool: python -m asr.worker FD MODEL_PATH
    main(socket.socket(fileno=int(sys.argv[1])), sys.argv[2])

"""Framing between the pool and its worker processes, over a socket pair.

A message is ``u32 length | u32 header length | header (JSON, UTF-8) | payload (raw bytes)``:
metadata as JSON, audio as bytes, never pickle (a worker only ever trusts what it can parse).
"""

from __future__ import annotations

import json
import socket
import struct
from typing import Any

_PREFIX = struct.Struct(">II")
MAX_MESSAGE = 64 * 1024 * 1024

Header = dict[str, Any]


def encode(header: Header, payload: bytes = b"") -> bytes:
    head = json.dumps(header, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return _PREFIX.pack(4 + len(head) + len(payload), len(head)) + head + payload


def decode(body: bytes, header_length: int) -> tuple[Header, bytes]:
    header: Header = json.loads(body[:header_length].decode("utf-8"))
    return header, body[header_length:]


def prefix_size() -> int:
    return _PREFIX.size


def unpack_prefix(prefix: bytes) -> tuple[int, int]:
    """``(bytes still to read, header length)`` from the 8-byte prefix."""
    total, header_length = _PREFIX.unpack(prefix)
    if total > MAX_MESSAGE or header_length > total - 4:
        raise ValueError(f"corrupt frame prefix (total={total}, header={header_length})")
    return total - 4, header_length


def recv_message(sock: socket.socket) -> tuple[Header, bytes] | None:
    """Blocking read of one message (worker side); ``None`` at end of stream."""
    prefix = _recv_exact(sock, _PREFIX.size)
    if prefix is None:
        return None
    remaining, header_length = unpack_prefix(prefix)
    body = _recv_exact(sock, remaining)
    if body is None:
        return None
    return decode(body, header_length)


def _recv_exact(sock: socket.socket, size: int) -> bytes | None:
    chunks = bytearray()
    while len(chunks) < size:
        chunk = sock.recv(min(size - len(chunks), 1 << 20))
        if not chunk:
            return None
        chunks += chunk
    return bytes(chunks)

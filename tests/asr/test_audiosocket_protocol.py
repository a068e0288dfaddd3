"""The AudioSocket framing, checked against the frames a real Asterisk 22 sent."""

from __future__ import annotations

import random
import re
import uuid
from pathlib import Path

import pytest

from asr.audiosocket import Frame, FrameParser, Kind, encode_frame
from asr.errors import AudioSocketProtocolError

TRACE_LINE = re.compile(r"type=0x([0-9a-f]{2}) len=(\d+) payload\[:16\]=([0-9a-f]*)")


def trace_frames(shared_traces: Path) -> list[Frame]:
    """The trace's frames, each payload's recorded first 16 bytes padded to its recorded length,
    then the rest of the 100 frames Asterisk sent, and the hang-up."""
    frames = []
    for line in (shared_traces / "k-audiosocket.txt").read_text(encoding="utf-8").splitlines():
        match = TRACE_LINE.search(line)
        if match:
            kind, length, head = int(match[1], 16), int(match[2]), bytes.fromhex(match[3])
            frames.append(Frame(kind, head + bytes(length - len(head))))
    frames += [Frame(Kind.AUDIO, bytes(320))] * (101 - len(frames))
    return [*frames, Frame(Kind.HANGUP)]


def test_given_the_trace_then_uuid_frame_names_the_dialplan_uuid(shared_traces: Path) -> None:
    frames = trace_frames(shared_traces)
    assert frames[0].kind == Kind.UUID and len(frames[0].payload) == 16
    # The AMI side shows the same call: AppData: 40325ec2-5efd-4bd3-805f-53576e581d13,127.0.0.1:9092
    ami = (shared_traces / "k-ami-side-of-audiosocket.txt").read_text(encoding="utf-8")
    assert f"AppData: {frames[0].call_id},127.0.0.1:9092" in ami
    assert all(f.kind == Kind.AUDIO and len(f.payload) == 320 for f in frames[1:-1])


def test_given_a_stream_split_anywhere_then_the_same_frames(shared_traces: Path) -> None:
    frames = trace_frames(shared_traces)
    data = b"".join(f.encode() for f in frames)
    rng = random.Random(12345)
    for _ in range(20):
        parser = FrameParser()
        got: list[Frame] = []
        offset = 0
        while offset < len(data):
            step = rng.choice([1, 2, 3, 7, 320, 323, 1000])
            got += parser.feed(data[offset : offset + step])
            offset += step
        assert got == frames
        assert parser.pending == 0


def test_given_bytes_one_at_a_time_then_frames_only_when_complete() -> None:
    parser = FrameParser()
    data = encode_frame(Kind.AUDIO, b"\x01\x02\x03\x04")
    assert [parser.feed(data[i : i + 1]) for i in range(len(data) - 1)] == [[]] * (len(data) - 1)
    assert parser.pending == len(data) - 1
    assert parser.feed(data[-1:]) == [Frame(Kind.AUDIO, b"\x01\x02\x03\x04")]


@pytest.mark.parametrize(
    ("kind", "payload", "wire"),
    [
        (Kind.HANGUP, b"", b"\x00\x00\x00"),
        (Kind.UUID, uuid.UUID(int=1).bytes, b"\x01\x00\x10" + uuid.UUID(int=1).bytes),
        (Kind.DTMF, b"5", b"\x03\x00\x015"),
        (Kind.AUDIO, bytes(320), b"\x10\x01\x40" + bytes(320)),
        (Kind.ERROR, b"\x01", b"\xff\x00\x01\x01"),
    ],
)
def test_given_a_frame_then_header_is_type_and_big_endian_length(
    kind: int, payload: bytes, wire: bytes
) -> None:
    assert encode_frame(kind, payload) == wire
    assert FrameParser().feed(wire) == [Frame(kind, payload)]


def test_given_an_oversize_payload_then_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        encode_frame(Kind.AUDIO, bytes(0x10000))


def test_given_a_non_uuid_frame_then_no_call_id() -> None:
    with pytest.raises(AudioSocketProtocolError):
        _ = Frame(Kind.AUDIO, bytes(16)).call_id

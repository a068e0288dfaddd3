"""Read recorded AMI sessions (the ``ami-traces`` formats) into typed steps.

Two formats are understood, both holding the exact wire bytes with CRLF line endings while
their own marker lines end with a bare LF:

* ``<< +T`` / ``>> +T`` / ``-- +T`` blocks (received, sent, connection closed by Asterisk);
* ``#<<< RECV +T`` / ``#>>> SENT +T`` blocks, ``# --- Asterisk closed ...`` for a close.

A recording becomes a list of sessions (one per TCP connection); a session is the banner plus
a list of exchanges: one action the client sent and every message received after it until the
next action, each with its delay after the action.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pbx.ami_protocol import AmiFrameParser, AmiMessage

_MARKER = re.compile(rb"^(?:(<<|>>|--) \+(\d+(?:\.\d+)?)|#(<<<|>>>) (?:RECV|SENT) \+(\d+(?:\.\d+)?))")
_CLOSED_COMMENT = re.compile(rb"^# --- Asterisk closed", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TimedMessage:
    delay: float
    """seconds after the action that preceded it (or after connecting, before any action)"""
    message: AmiMessage


@dataclass(frozen=True, slots=True)
class Exchange:
    action: AmiMessage
    replies: tuple[TimedMessage, ...]
    closed_after: bool = False
    """Asterisk closed the connection after these replies."""

    @property
    def name(self) -> str:
        return self.action.value("Action")


@dataclass(frozen=True, slots=True)
class Session:
    banner: str | None
    greeting: tuple[TimedMessage, ...]
    exchanges: tuple[Exchange, ...]


@dataclass(frozen=True, slots=True)
class Recording:
    name: str
    sessions: tuple[Session, ...]

    @property
    def exchanges(self) -> tuple[Exchange, ...]:
        return tuple(exchange for session in self.sessions for exchange in session.exchanges)

    def received(self) -> list[AmiMessage]:
        """Every message received, in order (greetings included)."""
        out: list[AmiMessage] = []
        for session in self.sessions:
            out.extend(item.message for item in session.greeting)
            for exchange in session.exchanges:
                out.extend(item.message for item in exchange.replies)
        return out


@dataclass
class _Block:
    kind: str  # "recv" | "sent" | "closed"
    at: float
    data: bytearray = field(default_factory=bytearray)


def _blocks(raw: bytes) -> list[_Block]:
    blocks: list[_Block] = []
    current: _Block | None = None
    last_at = 0.0
    for line in raw.splitlines(keepends=True):
        if line.endswith(b"\r\n"):
            if current is not None and current.kind != "closed":
                current.data.extend(line)
            continue
        stripped = line.rstrip(b"\n")
        marker = _MARKER.match(stripped)
        if marker:
            arrow = (marker.group(1) or marker.group(3)).decode()
            at = float((marker.group(2) or marker.group(4)).decode())
            last_at = at
            kind = {"<<": "recv", "<<<": "recv", ">>": "sent", ">>>": "sent", "--": "closed"}[arrow]
            current = _Block(kind, at)
            blocks.append(current)
        elif _CLOSED_COMMENT.match(stripped):
            current = _Block("closed", last_at)
            blocks.append(current)
    return blocks


def parse_recording(raw: bytes, name: str = "") -> Recording:
    sessions: list[Session] = []
    parser = AmiFrameParser()
    banner: str | None = None
    greeting: list[TimedMessage] = []
    exchanges: list[Exchange] = []
    action: AmiMessage | None = None
    action_at = 0.0
    replies: list[TimedMessage] = []
    started = False

    def finish_exchange(closed: bool) -> None:
        nonlocal action, replies
        if action is not None:
            exchanges.append(Exchange(action, tuple(replies), closed))
        action, replies = None, []

    def finish_session() -> None:
        nonlocal banner, greeting, exchanges, parser, started
        if started:
            sessions.append(Session(banner, tuple(greeting), tuple(exchanges)))
        banner, greeting, exchanges, started = None, [], [], False
        parser = AmiFrameParser()

    for block in _blocks(raw):
        if block.kind == "closed":
            finish_exchange(closed=True)
            finish_session()
            continue
        started = True
        if block.kind == "sent":
            finish_exchange(closed=False)
            action, action_at = _as_action(bytes(block.data)), block.at
            continue
        if block.data.startswith(b"Asterisk Call Manager/") and parser.banner is not None:
            # a banner in the middle: a new connection whose close was not marked
            finish_exchange(closed=True)
            finish_session()
            started = True
        for message in parser.feed(bytes(block.data)):
            timed = TimedMessage(round(max(0.0, block.at - action_at), 3), message)
            (replies if action is not None else greeting).append(timed)
        if parser.banner is not None and banner is None:
            banner = parser.banner
    finish_exchange(closed=False)
    finish_session()
    return Recording(name, tuple(sessions))


def _as_action(data: bytes) -> AmiMessage:
    """An action frame: ``Action:`` first, ``Key: Value`` lines (parsed without the
    Event/Response requirement of received frames)."""
    text = data.decode("utf-8").strip("\r\n")
    pairs: list[tuple[str, str]] = []
    for line in text.split("\r\n"):
        key, sep, value = line.partition(":")
        if sep:
            pairs.append((key, value[1:] if value.startswith(" ") else value))
    return AmiMessage(tuple(pairs))


def load_recording(path: Path) -> Recording:
    return parse_recording(path.read_bytes(), path.stem)


RECORDINGS_DIR = Path(__file__).with_name("recordings")


def bundled_recordings() -> dict[str, Path]:
    """The recordings shipped with the simulator, by name (file stem)."""
    return {path.stem: path for path in sorted(RECORDINGS_DIR.glob("*.txt"))}

"""AMI wire framing: bytes -> complete, decoded messages.

Asterisk sends a one-line banner (``Asterisk Call Manager/11.0.0\\r\\n``) and then messages
made of ``Key: Value`` lines, each message terminated by an empty line (``\\r\\n\\r\\n``).
A TCP read may end anywhere, including inside a multi-byte UTF-8 character, so bytes are
buffered until a frame is complete and only whole frames are decoded (strict UTF-8).
A frame that cannot be decoded or parsed, or that grows beyond ``max_frame_bytes``, is
logged with its bytes and skipped; the connection carries on with the next frame.

``AmiProtocol`` plugs this parser into panoramisk (``Manager(protocol_factory=AmiProtocol)``)
and fixes its link-loss behaviour: actions in flight fail with ``AmiLinkLostError`` instead of
being queued for a silent re-send.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from panoramisk import actions as pk_actions
from panoramisk.ami_protocol import AMIProtocol as _PanoramiskProtocol
from panoramisk.message import Message as PanoramiskMessage

from pbx.exceptions import AmiLinkLostError

log = logging.getLogger(__name__)

EOL = b"\r\n"
TERMINATOR = b"\r\n\r\n"
BANNER_PREFIX = b"Asterisk Call Manager/"
DEFAULT_MAX_FRAME_BYTES = 1024 * 1024
_LOGGED_FRAME_BYTES = 2048
_LEGACY_COMMAND_END = "--END COMMAND--"


@dataclass(frozen=True, slots=True)
class AmiMessage:
    """One decoded AMI message (an event or a response), headers in wire order.

    ``body`` holds the raw output lines of a legacy ``Response: Follows`` frame (Asterisk < 14);
    Asterisk 22 sends command output as repeated ``Output:`` headers instead.
    """

    headers: tuple[tuple[str, str], ...]
    body: tuple[str, ...] = ()
    _index: dict[str, str] = field(default_factory=dict, init=False, repr=False, compare=False, hash=False)

    def __post_init__(self) -> None:
        index: dict[str, str] = {}
        for key, value in self.headers:
            index.setdefault(key.lower(), value)
        object.__setattr__(self, "_index", index)

    @classmethod
    def _parsed(
        cls, headers: tuple[tuple[str, str], ...], body: tuple[str, ...], index: dict[str, str]
    ) -> AmiMessage:
        """A message whose index the parser already built (the hot path: no second pass)."""
        message = object.__new__(cls)
        object.__setattr__(message, "headers", headers)
        object.__setattr__(message, "body", body)
        object.__setattr__(message, "_index", index)
        return message

    @classmethod
    def from_pairs(cls, pairs: Iterable[tuple[str, str]], body: Iterable[str] = ()) -> AmiMessage:
        return cls(tuple(pairs), tuple(body))

    @property
    def first_values(self) -> Mapping[str, str]:
        """Header name in lower case -> its first value (read-only: do not modify)."""
        return self._index

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of header ``name`` (case-insensitive), or ``default``."""
        return self._index.get(name.lower(), default)

    def value(self, name: str) -> str:
        """The first value of header ``name``; ``""`` when absent."""
        return self._index.get(name.lower(), "")

    def get_all(self, name: str) -> list[str]:
        lowered = name.lower()
        return [value for key, value in self.headers if key.lower() == lowered]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    @property
    def is_event(self) -> bool:
        """Events start with ``Event:`` (OriginateResponse also carries a Response header)."""
        return bool(self.headers) and self.headers[0][0].lower() == "event"

    @property
    def is_response(self) -> bool:
        return bool(self.headers) and self.headers[0][0].lower() == "response"

    @property
    def event(self) -> str:
        return self._index.get("event", "")

    @property
    def response(self) -> str:
        return self._index.get("response", "")

    @property
    def action_id(self) -> str | None:
        return self._index.get("actionid")

    @property
    def header_names(self) -> tuple[str, ...]:
        return tuple(key for key, _ in self.headers)

    def output_lines(self) -> list[str]:
        """Command output: the ``Output:`` headers (Asterisk 22) or the legacy body lines."""
        return self.get_all("Output") + list(self.body)

    def encode(self) -> bytes:
        """Serialise as Asterisk does: CRLF line endings, an empty line at the end."""
        lines = [f"{key}: {value}" for key, value in self.headers]
        lines.extend(self.body)
        if self.body:
            lines.append(_LEGACY_COMMAND_END)
        return ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8")

    def replace(self, **updates: str) -> AmiMessage:
        """A copy with some header values replaced (names case-insensitive, order kept)."""
        lowered = {key.lower(): value for key, value in updates.items()}
        return AmiMessage(
            tuple((key, lowered.get(key.lower(), value)) for key, value in self.headers), self.body
        )


class MalformedFrameError(ValueError):
    """A complete frame that is not a valid AMI message."""


_HEADER_NAMES: dict[str, str] = {}
"""Header names already seen to be valid -> their lower-case form (a bounded memo: Asterisk
uses a few hundred names, so the per-line validity check and ``lower()`` are done once each)."""
_MAX_HEADER_NAMES = 4096


def _header_name(key: str) -> str:
    """The lower-case form of a valid header name; raises for anything else."""
    if not key or any(ch.isspace() for ch in key):
        raise MalformedFrameError(f"not a header line: {key[:80]!r}")
    lowered = key.lower()
    if len(_HEADER_NAMES) < _MAX_HEADER_NAMES:
        _HEADER_NAMES[key] = lowered
    return lowered


def parse_frame(text: str) -> AmiMessage:
    """Parse one frame (already decoded, without its terminating empty line)."""
    lines = text.split("\r\n")
    if lines[0].replace(" ", "").lower() == "response:follows":
        return _parse_legacy_follows(lines)
    headers: list[tuple[str, str]] = []
    index: dict[str, str] = {}
    known = _HEADER_NAMES
    for line in lines:
        # nearly every line is "Name: value" with a name seen before: one split, one lookup
        key, sep, value = line.partition(": ")
        lowered = known.get(key) if sep else None
        if lowered is None:
            key, sep, value = line.partition(":")
            if not sep:
                raise MalformedFrameError(f"not a header line: {line[:80]!r}")
            try:
                lowered = _header_name(key)
            except MalformedFrameError:
                raise MalformedFrameError(f"not a header line: {line[:80]!r}") from None
            if value[:1] == " ":
                value = value[1:]
        headers.append((key, value))
        if lowered not in index:
            index[lowered] = value
    if "event" not in index and "response" not in index:
        raise MalformedFrameError("neither Event nor Response header")
    return AmiMessage._parsed(tuple(headers), (), index)


def _parse_legacy_follows(lines: list[str]) -> AmiMessage:
    """``Response: Follows`` (Asterisk < 14): headers, then raw output lines up to
    ``--END COMMAND--``."""
    headers: list[tuple[str, str]] = []
    body: list[str] = []
    in_body = False
    for line in lines:
        if in_body:
            body.extend(line.split("\n"))
            continue
        key, sep, value = line.partition(":")
        if sep and key and not any(ch.isspace() for ch in key):
            headers.append((key, value[1:] if value.startswith(" ") else value))
            continue
        in_body = True
        body.extend(line.split("\n"))
    while body and body[-1] in ("", _LEGACY_COMMAND_END):
        body.pop()
    if body and body[-1].endswith(_LEGACY_COMMAND_END):
        body[-1] = body[-1][: -len(_LEGACY_COMMAND_END)].rstrip("\n")
    message = AmiMessage(tuple(headers), tuple(body))
    if "event" not in message and "response" not in message:
        raise MalformedFrameError("neither Event nor Response header")
    return message


BadFrameCallback = Callable[[str, bytes], None]


class AmiFrameParser:
    """Incremental AMI framer: feed raw TCP reads, get complete decoded messages."""

    def __init__(
        self,
        *,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
        on_bad_frame: BadFrameCallback | None = None,
        expect_banner: bool = True,
    ) -> None:
        self.max_frame_bytes = max_frame_bytes
        self.banner: str | None = None
        self._on_bad_frame = on_bad_frame
        self._buffer = bytearray()
        self._scan_from = 0
        self._banner_pending = expect_banner
        self._discarding = False
        self.skipped_frames = 0

    def feed(self, data: bytes) -> list[AmiMessage]:
        """Add received bytes; return every message completed by them, in order."""
        return list(self.iter_feed(data))

    def iter_feed(self, data: bytes) -> Iterator[AmiMessage]:
        buffer = self._buffer
        buffer.extend(data)
        if self._banner_pending and not self._take_banner():
            return
        if buffer.find(TERMINATOR, self._scan_from) < 0:
            self._await_terminator()
            return
        # every complete frame at once; the incomplete rest stays buffered
        frames = bytes(buffer).split(TERMINATOR)
        buffer.clear()
        buffer.extend(frames.pop())
        if self._discarding:
            # the tail of a frame already rejected as oversized
            self._discarding = False
            del frames[0]
        self._await_terminator()
        for raw in frames:
            message = self._decode(raw)
            if message is not None:
                yield message

    def _await_terminator(self) -> None:
        """The buffer holds no complete frame: remember where to look next time, and give up
        on a frame that grows beyond ``max_frame_bytes``."""
        buffer = self._buffer
        self._scan_from = max(0, len(buffer) - len(TERMINATOR) + 1)
        if len(buffer) > self.max_frame_bytes:
            self._reject("oversized frame (no terminator yet)", bytes(buffer))
            keep = bytes(buffer[-(len(TERMINATOR) - 1) :])
            buffer.clear()
            buffer.extend(keep)
            self._scan_from = 0
            self._discarding = True

    def _take_banner(self) -> bool:
        """Consume the banner line if the stream starts with one. False: wait for more bytes."""
        buffer = self._buffer
        if len(buffer) < len(BANNER_PREFIX) and BANNER_PREFIX.startswith(bytes(buffer)):
            return False
        if not buffer.startswith(BANNER_PREFIX):
            self._banner_pending = False
            return True
        end = buffer.find(EOL)
        if end < 0:
            return False
        self.banner = bytes(buffer[:end]).decode("utf-8", "replace")
        del buffer[: end + len(EOL)]
        self._banner_pending = False
        return True

    def _decode(self, raw: bytes) -> AmiMessage | None:
        frame = raw.lstrip(b"\r\n")
        if frame.startswith(BANNER_PREFIX):
            # a banner glued to the next frame: a new session in a recorded stream
            line, _, frame = frame.partition(EOL)
            self.banner = line.decode("utf-8", "replace")
            frame = frame.lstrip(b"\r\n")
        if not frame:
            return None
        if len(frame) > self.max_frame_bytes:
            self._reject(f"oversized frame ({len(frame)} bytes)", frame)
            return None
        try:
            text = frame.decode("utf-8")
        except UnicodeDecodeError as exc:
            self._reject(f"invalid UTF-8 ({exc.reason} at byte {exc.start})", frame)
            return None
        try:
            return parse_frame(text)
        except MalformedFrameError as exc:
            self._reject(str(exc), frame)
            return None

    def _reject(self, reason: str, frame: bytes) -> None:
        self.skipped_frames += 1
        log.warning("skipping AMI frame: %s; frame=%r", reason, frame[:_LOGGED_FRAME_BYTES])
        if self._on_bad_frame is not None:
            self._on_bad_frame(reason, frame)


def to_panoramisk_message(message: AmiMessage) -> PanoramiskMessage:
    """The panoramisk view of a message (repeated headers become lists, as panoramisk does);
    the typed message stays reachable as ``.ami``."""
    headers: dict[str, Any] = {}
    for key, value in message.headers:
        if key in headers:
            previous = headers[key]
            headers[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            headers[key] = value
    converted = PanoramiskMessage(headers, "\n".join(message.body))
    converted.ami = message
    return converted


class AmiAction(pk_actions.Action):  # type: ignore[misc]
    """A panoramisk action whose completion follows Asterisk 22's rules.

    A reply is a list exactly when its first response says ``EventList: start``; the list ends
    with the event carrying ``EventList: Complete``. (panoramisk 1.4 guesses from the message
    text and waits forever on ``QueueAdd``'s "Added interface to queue".)
    """

    @property
    def multi(self) -> bool:
        if self.as_list is not None:
            return bool(self.as_list)
        first = self.responses[0]
        return str(first.get("EventList", "")).lower() == "start"

    @property
    def completed(self) -> bool:
        if not self.multi:
            return True
        last = self.responses[-1]
        return len(self.responses) > 1 and str(last.get("EventList", "")).lower() == "complete"


EventSink = Callable[[AmiMessage], None]


class AmiProtocol(_PanoramiskProtocol):  # type: ignore[misc]
    """panoramisk's protocol with whole-frame decoding and no silent re-send on link loss.

    With an ``event_sink`` set, an event that answers no action in flight (nearly every event:
    the hot path) goes straight to it as an ``AmiMessage``; replies to actions and ``Shutdown``
    take panoramisk's own route (``handle_message``), which builds its ``Message`` for them.
    """

    max_frame_bytes = DEFAULT_MAX_FRAME_BYTES
    version: str | None
    event_sink: EventSink | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.parser = AmiFrameParser(max_frame_bytes=self.max_frame_bytes)

    def data_received(self, data: bytes) -> None:
        parser = self.parser
        for message in parser.iter_feed(data):
            if self.version is None and parser.banner is not None:
                self.version = parser.banner.partition("/")[2].strip()
                self.log.info("AMI protocol version: %r", self.version)
            sink = self.event_sink
            if sink is not None and self.factory is not None and self._only_dispatched(message):
                sink(message)
            else:
                self.handle_message(to_panoramisk_message(message))
        if self.version is None and parser.banner is not None:
            self.version = parser.banner.partition("/")[2].strip()

    def _only_dispatched(self, message: AmiMessage) -> bool:
        """True for an event that panoramisk's ``handle_message`` would only dispatch: it
        answers no action in flight and is not ``Shutdown`` (which also ends the link)."""
        if not message.is_event:
            return False
        responses = self.responses
        if responses:
            headers = message.first_values
            action_id = headers.get("actionid")
            command_id = headers.get("commandid")
            if command_id is not None and command_id in responses:
                return False
            if action_id is not None and action_id in responses:
                return False
        return message.event.lower() != "shutdown"

    def handle_message(self, message: PanoramiskMessage) -> None:
        if self.factory is None:
            return
        super().handle_message(message)

    def close(self) -> None:
        pending: dict[int, pk_actions.Action] = {id(a): a for a in self.responses.values()}
        self.responses.clear()
        for action in pending.values():
            if not action.future.done():
                action.future.set_exception(
                    AmiLinkLostError(
                        "AMI 连接中断，动作未完成且不会重发",
                        action=str(action.get("Action", "")),
                        action_id=str(action.get("ActionID", "")),
                    )
                )
        super().close()

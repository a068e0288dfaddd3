"""The FastAGI wire protocol, server side: Asterisk's environment, commands and their replies.

What Asterisk sends (``../shared/ami-traces/f-fastagi-session.txt``): ``agi_*: value`` lines
(LF, the caller name as raw UTF-8) ending with an empty line, then one reply per command:
``200 result=<n> [(<data>)] [endpos=<n>]``; ``520-`` starts a multi-line usage error ending with
``520 End of proper usage.``; ``510`` an unknown command; ``511`` a command refused on a dead
channel. After a hang-up Asterisk writes one unsolicited ``HANGUP`` line and leaves the socket
open: the server must stop and close it.

Lines are read whole and decoded as UTF-8 afterwards, so a character split across TCP reads is
never damaged (panoramisk 1.4 decodes each read on its own). panoramisk's parser also turns
``200 result= (timeout)`` into an empty result; here the raw line is kept and parsed.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Final

ENVIRONMENT_LIMIT: Final = 64 * 1024
ESCAPE_ALL: Final = "0123456789*#"
_REPLY = re.compile(
    r"^(?P<code>\d{3})(?: result=(?P<result>\S*))?(?: \((?P<data>[^)]*)\))?(?: (?P<rest>.*))?$"
)


class CallerHungUp(Exception):
    """The channel is gone: Asterisk said HANGUP, refused a command on a dead channel (511), or
    closed the socket."""


class AgiError(Exception):
    """Asterisk answered a command with an error (510 unknown command, 520 usage)."""


@dataclass(frozen=True, slots=True)
class AgiReply:
    code: int
    result: str
    data: str | None
    rest: str
    line: str

    @property
    def failed(self) -> bool:
        return self.result == "-1"

    @property
    def timed_out(self) -> bool:
        return self.data == "timeout"

    def digit(self) -> str | None:
        """STREAM FILE / WAIT FOR DIGIT / SAY ...: the key pressed (result is its ASCII code)."""
        if not self.result.isdigit() or self.result == "0":
            return None
        return chr(int(self.result))


def parse_reply(line: str) -> AgiReply:
    match = _REPLY.match(line)
    if match is None:
        raise AgiError(f"unreadable AGI reply {line!r}")
    return AgiReply(
        code=int(match.group("code")),
        result=match.group("result") or "",
        data=match.group("data"),
        rest=match.group("rest") or "",
        line=line,
    )


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


async def read_environment(reader: asyncio.StreamReader, timeout_s: float) -> dict[str, str]:
    """The ``agi_*`` header, up to its empty line."""
    env: dict[str, str] = {}
    size = 0
    async with asyncio.timeout(timeout_s):
        while True:
            raw = await reader.readline()
            if not raw:
                raise CallerHungUp("the socket closed before the AGI environment ended")
            size += len(raw)
            if size > ENVIRONMENT_LIMIT:
                raise AgiError("AGI environment too large")
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if not line:
                return env
            key, _, value = line.partition(":")
            env[key.strip()] = value[1:] if value.startswith(" ") else value


class AgiChannel:
    """One FastAGI connection: send a command, read its reply; typed helpers for the commands
    the IVR uses. Every read is bounded by ``command_timeout_s`` plus what the command may
    legitimately take (a prompt playing, a key awaited)."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        command_timeout_s: float = 60.0,
        hangup_grace_s: float = 0.25,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._timeout = command_timeout_s
        self._grace = hangup_grace_s
        self.hung_up = False
        self.commands = 0

    async def command(self, line: str, *, expect_s: float = 0.0) -> AgiReply:
        if self.hung_up:
            raise CallerHungUp("the channel is already hung up")
        self._writer.write(line.encode("utf-8") + b"\n")
        self.commands += 1
        try:
            async with asyncio.timeout(self._timeout + expect_s):
                await self._writer.drain()
                reply = await self._reply()
            if reply.failed:
                await self._hangup_follows()
            return reply
        except ConnectionError as exc:
            self.hung_up = True
            raise CallerHungUp(f"the socket failed: {exc}") from exc

    async def _hangup_follows(self) -> None:
        """``result=-1`` is a missing prompt or a hang-up; after a hang-up Asterisk writes
        ``HANGUP`` right away, so wait a moment for it before calling it a failure."""
        try:
            async with asyncio.timeout(self._grace):
                raw = await self._reader.readline()
        except TimeoutError:
            return
        self.hung_up = True
        if raw and raw.rstrip(b"\r\n") != b"HANGUP":
            raise AgiError(f"unexpected line from Asterisk: {raw!r}")
        raise CallerHungUp("HANGUP after a failed command")

    async def _reply(self) -> AgiReply:
        usage: list[str] = []
        while True:
            raw = await self._reader.readline()
            if not raw:
                self.hung_up = True
                raise CallerHungUp("Asterisk closed the socket")
            line = raw.decode("utf-8", errors="replace").rstrip("\r\n")
            if line == "HANGUP":
                self.hung_up = True  # unsolicited; the reply to our command follows
                continue
            if line.startswith("520-"):
                usage.append(line[4:])
                continue
            reply = parse_reply(line)
            if reply.code == 511:
                self.hung_up = True
                raise CallerHungUp(line)
            if reply.code != 200:
                raise AgiError(" / ".join([line, *usage]))
            if self.hung_up:
                raise CallerHungUp("HANGUP before the reply")
            return reply

    # --- the commands ----------------------------------------------------------------------

    async def stream_file(self, prompt: str, escape: str = "") -> AgiReply:
        return await self.command(f"STREAM FILE {prompt} {_quote(escape)}", expect_s=600)

    async def wait_for_digit(self, timeout_s: float) -> AgiReply:
        return await self.command(f"WAIT FOR DIGIT {int(timeout_s * 1000)}", expect_s=timeout_s)

    async def get_data(self, prompt: str, timeout_s: float, max_digits: int) -> AgiReply:
        """The prompt (any key interrupts it and counts), then up to ``max_digits`` keys, each
        within ``timeout_s`` of the last; ``#`` ends early."""
        return await self.command(
            f"GET DATA {prompt} {int(timeout_s * 1000)} {max_digits}",
            expect_s=600 + timeout_s * (max_digits + 1),
        )

    async def say_digits(self, digits: str, escape: str = "") -> AgiReply:
        return await self.command(f"SAY DIGITS {digits} {_quote(escape)}", expect_s=len(digits) * 2.0)

    async def say_number(self, number: int, escape: str = "") -> AgiReply:
        return await self.command(f"SAY NUMBER {number} {_quote(escape)}", expect_s=30)

    async def set_variable(self, name: str, value: str) -> AgiReply:
        return await self.command(f"SET VARIABLE {name} {_quote(value)}")

    async def close(self, timeout_s: float = 2.0) -> None:
        self._writer.close()
        try:
            async with asyncio.timeout(timeout_s):
                await self._writer.wait_closed()
        except (ConnectionError, TimeoutError):
            pass

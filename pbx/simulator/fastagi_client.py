"""Asterisk's side of FastAGI: connect to a FastAGI server and run the commands it sends.

What goes over the socket is what Asterisk 22.10.1 sends (``../shared/ami-traces/f-fastagi-
session.txt`` and ``set2/f-fastagi-session.txt``): the ``agi_*`` environment in Asterisk's order
with LF line endings and the caller name as raw UTF-8, ``agi_network_script`` with the query
string, then one ``200 result=...`` line per command. GET DATA returns the scripted keys or
``(timeout)``; a prompt that does not exist answers ``200 result=-1 endpos=0``; when the caller
hangs up (or the script sends HANGUP) Asterisk writes an unsolicited ``HANGUP`` line and keeps
the socket open until the server closes it.

The AMI side (AGIExecStart/AGIExecEnd, VarSet for SET VARIABLE) is reported to an
``AgiChannel``, which the scenario engine implements on its simulated channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import shlex
import wave
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from pbx.simulator.citizen import CallClock, Keypad

log = logging.getLogger(__name__)

SAMPLE_RATE = 8000
SAY_DIGIT_SECONDS = 0.84
"""One spoken digit of SAY DIGITS (recorded: ``SAY DIGITS 12345`` took 4.2 s)."""
GET_DATA_DEFAULT_TIMEOUT = 5.0
DEAD_SAFE = frozenset(
    {
        "noop",
        "verbose",
        "get variable",
        "get full variable",
        "set variable",
        "database get",
        "database put",
        "database del",
        "database deltree",
        "asyncagi break",
        "channel status",
        "gosub",
    }
)
DEAD_REPLY = "511 Command Not Permitted on a dead channel or intercepted channel"


@dataclass(frozen=True, slots=True)
class SoundLibrary:
    """The prompts Asterisk can play, with their length in seconds; any other name is missing."""

    durations: Mapping[str, float]
    default: float | None = None
    """Length of a name not listed; None: such a name does not exist (``result=-1``)."""

    def duration(self, name: str) -> float | None:
        found = self.durations.get(name)
        if found is None and "/" in name:
            found = self.durations.get(name.rsplit("/", 1)[1])
        return found if found is not None else self.default

    @classmethod
    def from_directory(cls, root: Path, default: float | None = None) -> SoundLibrary:
        """Every sound file under ``root`` by its name without extension (``minhu/welcome``);
        WAV files get their real length, other formats one second."""
        durations: dict[str, float] = {}
        for path in sorted(root.rglob("*")):
            if not path.is_file():
                continue
            name = path.relative_to(root).with_suffix("").as_posix()
            seconds = 1.0
            if path.suffix.lower() == ".wav":
                with contextlib.suppress(wave.Error, EOFError), wave.open(str(path)) as sound:
                    seconds = sound.getnframes() / float(sound.getframerate() or SAMPLE_RATE)
            durations[name] = seconds
        return cls(durations, default)


STOCK_SOUNDS = SoundLibrary(
    {"beep": 0.44, "hello-world": 1.42, "silence/1": 1.0, "vm-goodbye": 0.8, "demo-congrats": 12.0},
    default=1.0,
)
"""Stock Asterisk prompts (the recorded lengths of ``beep`` and ``hello-world``); any other name
plays for a second unless a scenario passes a stricter library."""


class AgiChannel(Protocol):
    """The simulated channel an AGI session runs on (its AMI side)."""

    @property
    def environment(self) -> Mapping[str, str]: ...

    def command_started(self, command_id: str, command: str) -> None: ...

    def command_ended(self, command_id: str, command: str, result_code: str, result: str) -> None: ...

    def get_variable(self, name: str) -> str | None: ...

    def set_variable(self, name: str, value: str) -> None: ...

    def answer(self) -> None: ...

    def hangup(self) -> None:
        """The script hung the channel up (HANGUP)."""

    @property
    def hung_up(self) -> asyncio.Event:
        """Set when the channel is hung up from elsewhere (an AMI Hangup, the other party)."""


@dataclass
class AgiResult:
    status: str = "SUCCESS"
    """AGISTATUS: SUCCESS, FAILURE (no server), HANGUP."""
    commands: list[tuple[str, str]] = field(default_factory=list)
    """Every command and the reply line Asterisk gave."""
    variables: dict[str, str] = field(default_factory=dict)
    citizen_hung_up: bool = False


def agi_environment(
    url: str,
    channel: str,
    uniqueid: str,
    caller_num: str,
    caller_name: str,
    context: str,
    extension: str,
    priority: int,
    channel_type: str,
    language: str = "en",
    dnid: str = "unknown",
    args: Iterable[str] = (),
    thread_id: int | None = None,
) -> dict[str, str]:
    """The ``agi_*`` header of Asterisk 22, in its order."""
    parts = urlsplit(url)
    script = parts.path.lstrip("/") + (f"?{parts.query}" if parts.query else "")
    env = {
        "agi_network": "yes",
        "agi_network_script": script,
        "agi_request": url,
        "agi_channel": channel,
        "agi_language": language,
        "agi_type": channel_type,
        "agi_uniqueid": uniqueid,
        "agi_version": "22.10.1",
        "agi_callerid": caller_num,
        "agi_calleridname": caller_name,
        "agi_callingpres": "0",
        "agi_callingani2": "0",
        "agi_callington": "0",
        "agi_callingtns": "0",
        "agi_dnid": dnid,
        "agi_rdnis": "unknown",
        "agi_context": context,
        "agi_extension": extension,
        "agi_priority": str(priority),
        "agi_enhanced": "0.0",
        "agi_accountcode": "",
        "agi_threadid": str(thread_id if thread_id is not None else random.randrange(10**14, 10**15)),  # noqa: S311
    }
    for index, arg in enumerate(args, start=1):
        env[f"agi_arg_{index}"] = arg
    return env


def encode_environment(env: Mapping[str, str]) -> bytes:
    return ("".join(f"{key}: {value}\n" for key, value in env.items()) + "\n").encode("utf-8")


class FastAgiSession:
    """One AGI() run: Asterisk connects, sends the environment and executes commands."""

    def __init__(
        self,
        url: str,
        channel: AgiChannel,
        clock: CallClock,
        keypad: Keypad,
        hangup_at: float = math.inf,
        sounds: SoundLibrary = STOCK_SOUNDS,
        connect_timeout: float = 5.0,
        dead_socket_limit: float = 60.0,
    ) -> None:
        self.url = url
        self.channel = channel
        self.clock = clock
        self.keypad = keypad
        self.hangup_at = hangup_at
        self.sounds = sounds
        self.connect_timeout = connect_timeout
        self.dead_socket_limit = dead_socket_limit
        self.result = AgiResult()
        self.dead = False
        self._writer: asyncio.StreamWriter | None = None

    # --- the session ------------------------------------------------------------------------

    async def run(self) -> AgiResult:
        parts = urlsplit(self.url)
        host, port = parts.hostname or "127.0.0.1", parts.port or 4573
        try:
            async with asyncio.timeout(self.connect_timeout):
                reader, writer = await asyncio.open_connection(host, port)
        except (OSError, TimeoutError) as exc:
            log.warning("FastAGI %s unreachable: %s", self.url, exc)
            self.result.status = "FAILURE"
            return self.result
        self._writer = writer
        try:
            writer.write(encode_environment(self.channel.environment))
            await writer.drain()
            await self._command_loop(reader)
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()
        if self.dead:
            self.result.status = "HANGUP"
        return self.result

    async def _command_loop(self, reader: asyncio.StreamReader) -> None:
        while True:
            line = await self._next_line(reader)
            if line is None:
                return
            command = line.rstrip("\r\n")
            if not command.strip():
                continue
            reply = await self._execute(command)
            self.result.commands.append((command, reply))
            self._send(reply)
            if not self.dead and self._channel_gone():
                await self._die()

    async def _next_line(self, reader: asyncio.StreamReader) -> str | None:
        """The next command; meanwhile the caller may hang up (scripted or from elsewhere)."""
        self.clock.idle()
        read = asyncio.ensure_future(reader.readline())
        try:
            while True:
                if self.dead:
                    try:
                        async with asyncio.timeout(self.dead_socket_limit):
                            data = await read
                    except TimeoutError:
                        log.warning("FastAGI server kept %s open after HANGUP; closing", self.url)
                        return None
                    return data.decode("utf-8", errors="replace") if data else None
                due = self.hangup_at - self.clock.now()
                waiters: set[asyncio.Future[Any]] = {
                    read,
                    asyncio.ensure_future(self.channel.hung_up.wait()),
                }
                done, pending = await asyncio.wait(
                    waiters,
                    timeout=None if math.isinf(due) else max(0.0, due),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for other in pending:
                    if other is not read:
                        other.cancel()
                if read in done:
                    data = read.result()
                    return data.decode("utf-8", errors="replace") if data else None
                # the caller hung up while the server was thinking
                if not self.channel.hung_up.is_set():
                    self.result.citizen_hung_up = True
                await self._die()
        finally:
            if not read.done():
                read.cancel()

    def _send(self, line: str) -> None:
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(f"{line}\n".encode())

    def _channel_gone(self) -> bool:
        return self.channel.hung_up.is_set()

    async def _die(self) -> None:
        """The channel is gone: Asterisk tells the server once with an unsolicited HANGUP."""
        if self.dead:
            return
        self.dead = True
        self._send("HANGUP")
        if self._writer is not None:
            with contextlib.suppress(ConnectionError):
                await self._writer.drain()

    # --- commands ---------------------------------------------------------------------------

    async def _execute(self, command: str) -> str:
        try:
            words = shlex.split(command)
        except ValueError:
            words = command.split()
        upper = [w.upper() for w in words]
        name = _command_name(upper)
        command_id = str(random.randrange(10**8, 2 * 10**9))  # noqa: S311
        if self.dead and name.lower() not in DEAD_SAFE:
            return DEAD_REPLY
        self.channel.command_started(command_id, command)
        args = words[len(name.split()) :]
        handler = getattr(self, "_cmd_" + name.lower().replace(" ", "_"), None)
        if handler is None:
            reply = "510 Invalid or unknown command"
        else:
            start = self.clock.now()
            self.keypad.drop_before(start)
            reply = await handler(args)
        failed = " result=-1" in reply
        code = "-1" if failed else reply.split(" ", 1)[0]
        self.channel.command_ended(command_id, command, code, "Failure" if failed else "Success")
        return reply

    def _hangup_window(self, start: float, duration: float) -> float | None:
        """When, within [start, start + duration), the caller hangs up (scripted)."""
        if self.hangup_at < start + duration:
            return max(self.hangup_at, start)  # a hang-up already due hangs up at once
        return None

    async def _play(self, duration: float, escape: str) -> tuple[str, float, bool]:
        """Play for ``duration``; returns (digit or "", seconds played, hung up)."""
        start = self.clock.now()
        key = self.keypad.next_key(start, start + duration, lambda d: d in escape) if escape else None
        end = key[0] - start if key else duration
        hang = self._hangup_window(start, end)
        if hang is not None:
            end, key = hang - start, None
        played = await self.clock.advance(end, self.channel.hung_up)
        if hang is not None or self.channel.hung_up.is_set():
            if hang is not None:
                self.result.citizen_hung_up = True
                self._caller_gone()
            return "", played, True
        return (key[1] if key else ""), played, False

    def _caller_gone(self) -> None:
        self.channel.hung_up.set()

    async def _cmd_answer(self, args: list[str]) -> str:
        self.channel.answer()
        return "200 result=0"

    async def _cmd_noop(self, args: list[str]) -> str:
        return "200 result=0"

    async def _cmd_verbose(self, args: list[str]) -> str:
        return "200 result=1"

    async def _cmd_channel_status(self, args: list[str]) -> str:
        return "200 result=6"

    async def _cmd_get_variable(self, args: list[str]) -> str:
        value = self.channel.get_variable(args[0]) if args else None
        return "200 result=0" if value is None else f"200 result=1 ({value})"

    async def _cmd_get_full_variable(self, args: list[str]) -> str:
        expression = args[0] if args else ""
        name = expression[2:-1] if expression.startswith("${") and expression.endswith("}") else expression
        return await self._cmd_get_variable([name])

    async def _cmd_set_variable(self, args: list[str]) -> str:
        if len(args) >= 2:
            self.channel.set_variable(args[0], args[1])
            self.result.variables[args[0]] = args[1]
        return "200 result=1"

    async def _cmd_hangup(self, args: list[str]) -> str:
        self.channel.hangup()
        return "200 result=1"

    async def _cmd_set_context(self, args: list[str]) -> str:
        return "200 result=0"

    _cmd_set_extension = _cmd_set_context
    _cmd_set_priority = _cmd_set_context
    _cmd_set_callerid = _cmd_set_context

    async def _cmd_set_music(self, args: list[str]) -> str:
        return "200 result=0"

    async def _cmd_database_get(self, args: list[str]) -> str:
        return "200 result=0"

    async def _cmd_database_put(self, args: list[str]) -> str:
        return "200 result=1"

    async def _cmd_stream_file(self, args: list[str]) -> str:
        duration = self.sounds.duration(args[0]) if args else None
        if duration is None:
            return "200 result=-1 endpos=0"
        digit, played, hung = await self._play(duration, args[1] if len(args) > 1 else "")
        endpos = int(played * SAMPLE_RATE)
        if hung:
            return f"200 result=-1 endpos={endpos}"
        return f"200 result={ord(digit) if digit else 0} endpos={endpos}"

    _cmd_control_stream_file = _cmd_stream_file

    async def _cmd_get_option(self, args: list[str]) -> str:
        duration = self.sounds.duration(args[0]) if args else None
        if duration is None:
            return "200 result=-1 endpos=0"
        escape = args[1] if len(args) > 1 else ""
        digit, played, hung = await self._play(duration, escape)
        endpos = int(played * SAMPLE_RATE)
        if hung:
            return f"200 result=-1 endpos={endpos}"
        if not digit:
            wait = float(args[2]) / 1000 if len(args) > 2 else GET_DATA_DEFAULT_TIMEOUT
            digit, _, hung = await self._play(wait, escape)
            if hung:
                return f"200 result=-1 endpos={endpos}"
        return f"200 result={ord(digit) if digit else 0} endpos={endpos}"

    async def _cmd_wait_for_digit(self, args: list[str]) -> str:
        timeout_ms = float(args[0]) if args else -1
        wait = math.inf if timeout_ms < 0 else timeout_ms / 1000
        if math.isinf(wait) and math.isinf(self.hangup_at) and not self.keypad.pending:
            wait = 3600.0
        digit, _, hung = await self._play(wait, "0123456789*#ABCD")
        if hung:
            return "200 result=-1"
        return f"200 result={ord(digit) if digit else 0}"

    async def _say(self, text: str, escape: str) -> str:
        digit, _, hung = await self._play(SAY_DIGIT_SECONDS * len(text), escape)
        if hung:
            return "200 result=-1"
        return f"200 result={ord(digit) if digit else 0}"

    async def _cmd_say_digits(self, args: list[str]) -> str:
        return await self._say(args[0] if args else "", args[1] if len(args) > 1 else "")

    _cmd_say_number = _cmd_say_digits
    _cmd_say_alpha = _cmd_say_digits

    async def _cmd_get_data(self, args: list[str]) -> str:
        """Prompt (interruptible by any key), then up to ``max`` keys, ``#`` ends, each key
        within ``timeout`` of the previous one (Asterisk's ast_app_getdata)."""
        prompt = self.sounds.duration(args[0]) if args else None
        timeout = float(args[1]) / 1000 if len(args) > 1 and float(args[1]) > 0 else GET_DATA_DEFAULT_TIMEOUT
        max_digits = int(args[2]) if len(args) > 2 else 1024
        digits = ""
        first, _, hung = await self._play(prompt or 0.0, "0123456789*#")
        if hung:
            return "200 result=-1"
        if first:
            if first == "#":
                return f"200 result={digits}"
            digits += first
        while len(digits) < max_digits:
            key, _, hung = await self._play(timeout, "0123456789*#")
            if hung:
                return "200 result=-1"
            if not key:
                return f"200 result={digits} (timeout)"
            if key == "#":
                break
            digits += key
        return f"200 result={digits}"

    async def _cmd_exec(self, args: list[str]) -> str:
        application = args[0].lower() if args else ""
        data = " ".join(args[1:])
        if application == "wait":
            try:
                seconds = float(data.split(",")[0] or 0)
            except ValueError:
                seconds = 0.0
            _, _, hung = await self._play(seconds, "")
            return "200 result=-1" if hung else "200 result=0"
        if application in ("playback", "background"):
            missing = False
            for name in data.split(",")[0].split("&"):
                duration = self.sounds.duration(name)
                if duration is None:
                    missing = True
                    continue
                _, _, hung = await self._play(duration, "")
                if hung:
                    return "200 result=-1"
            return "200 result=-1" if missing and application == "background" else "200 result=0"
        if application == "hangup":
            self.channel.hangup()
            return "200 result=-1"
        return "200 result=0"


_TWO_WORDS = {
    "GET VARIABLE",
    "GET FULL VARIABLE",
    "SET VARIABLE",
    "STREAM FILE",
    "CONTROL STREAM FILE",
    "GET DATA",
    "GET OPTION",
    "SAY DIGITS",
    "SAY NUMBER",
    "SAY ALPHA",
    "WAIT FOR DIGIT",
    "CHANNEL STATUS",
    "SET MUSIC",
    "DATABASE GET",
    "DATABASE PUT",
    "DATABASE DEL",
    "DATABASE DELTREE",
    "ASYNCAGI BREAK",
    "SET CONTEXT",
    "SET EXTENSION",
    "SET PRIORITY",
    "SET CALLERID",
    "RECORD FILE",
}


def _command_name(upper: list[str]) -> str:
    for length in (3, 2):
        candidate = " ".join(upper[:length])
        if candidate in _TWO_WORDS:
            return candidate
    return upper[0] if upper else ""

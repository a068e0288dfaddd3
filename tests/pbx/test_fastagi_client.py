"""The simulator's FastAGI client (Asterisk's side) against a real panoramisk FastAGI server."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from panoramisk.fast_agi import Application

from pbx.simulator.citizen import CallClock, CitizenScript, HangUp, Keypad, Press
from pbx.simulator.fastagi_client import STOCK_SOUNDS, FastAgiSession, SoundLibrary, agi_environment

SCALE = 0.002
SOUNDS = SoundLibrary({**STOCK_SOUNDS.durations, "minhu/menu": 2.0, "minhu/welcome": 1.5}, default=None)


class FakeChannel:
    """The AMI side of the session, recorded."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.environment = env
        self.hung_up = asyncio.Event()
        self.variables: dict[str, str] = {"CALLERID(num)": env["agi_callerid"]}
        self.exec_events: list[tuple[str, str, str]] = []
        self.answered = False

    def command_started(self, command_id: str, command: str) -> None:
        self.exec_events.append(("start", command, ""))

    def command_ended(self, command_id: str, command: str, result_code: str, result: str) -> None:
        self.exec_events.append(("end", command, result_code))

    def get_variable(self, name: str) -> str | None:
        return self.variables.get(name)

    def set_variable(self, name: str, value: str) -> None:
        self.variables[name] = value

    def answer(self) -> None:
        self.answered = True

    def hangup(self) -> None:
        self.hung_up.set()


def _env(url: str) -> dict[str, str]:
    return agi_environment(
        url,
        "Local/5555@agi-test-00000009;2",
        "1795366126.26",
        "13800138000",
        "张三丰",
        "agi-test",
        "5555",
        1,
        "Local",
        thread_id=140142101092032,
    )


@contextlib.asynccontextmanager
async def panoramisk_server(route: str, handler: Callable[[Any], Awaitable[None]]) -> AsyncIterator[int]:
    app = Application()
    app.add_route(route, handler)
    server = await asyncio.start_server(app.handler, "127.0.0.1", 0)
    try:
        yield int(server.sockets[0].getsockname()[1])
    finally:
        server.close()
        await server.wait_closed()


async def run_session(
    port: int, script: CitizenScript, path: str = "hotline-ivr?lang=zh"
) -> tuple[FastAgiSession, FakeChannel]:
    url = f"agi://127.0.0.1:{port}/{path}"
    channel = FakeChannel(_env(url))
    session = FastAgiSession(
        url,
        channel,
        CallClock(SCALE),
        Keypad.of(script),
        script.hangup_at,
        sounds=SOUNDS,
        dead_socket_limit=5,
    )
    async with asyncio.timeout(10):
        await session.run()
    return session, channel


def _recorded_environment(shared_traces: Path) -> bytes:
    text = (shared_traces / "set2" / "f-fastagi-session.txt").read_bytes()
    start = text.index(b"(agi environment)\n") + len(b"(agi environment)\n")
    end = text.index(b"\n\n", start) + 2
    return text[start:end]


async def test_given_the_recorded_call_then_the_environment_bytes_equal_the_recording(
    shared_traces: Path,
) -> None:
    got: list[bytes] = []

    async def capture(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        got.append(await reader.readuntil(b"\n\n"))
        writer.close()

    server = await asyncio.start_server(capture, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    try:
        await run_session(port, CitizenScript())
    finally:
        server.close()
    recorded = _recorded_environment(shared_traces).replace(b"127.0.0.1:4573", f"127.0.0.1:{port}".encode())
    assert got == [recorded]
    assert b"\r" not in got[0]
    assert "agi_calleridname: 张三丰\n".encode() in got[0]
    assert b"agi_network_script: hotline-ivr?lang=zh\n" in got[0]


async def test_given_keys_during_get_data_then_the_server_gets_them_and_then_a_timeout() -> None:
    results: list[dict[str, Any]] = []

    async def ivr(request: Any) -> None:
        for command in (
            "ANSWER",
            "GET VARIABLE CALLERID(num)",
            "GET DATA minhu/menu 6000 4",
            "GET DATA beep 1500 1",
            'SAY DIGITS 123 ""',
        ):
            results.append(await request.send_command(command))

    script = CitizenScript((Press("123#", at=3.0),))
    async with panoramisk_server("hotline-ivr?lang=zh", ivr) as port:
        session, channel = await run_session(port, script)
    assert channel.answered
    assert [reply for _, reply in session.result.commands] == [
        "200 result=0",
        "200 result=1 (13800138000)",
        "200 result=123",
        "200 result= (timeout)",
        "200 result=0",
    ]
    assert results[2]["result"] == ("123", "")
    assert session.result.status == "SUCCESS"
    assert [e[0] for e in channel.exec_events] == ["start", "end"] * 5


async def test_given_keys_before_get_data_then_they_are_lost_and_a_partial_entry_times_out() -> None:
    async def ivr(request: Any) -> None:
        await request.send_command('STREAM FILE minhu/welcome ""')  # 0 .. 1.5 s, not interruptible
        await request.send_command("GET DATA beep 2000 4")  # prompt 1.5 .. 1.94 s, then 2 s per key

    script = CitizenScript((Press("9", at=0.5), Press("12", at=2.5)))
    async with panoramisk_server("hotline-ivr?lang=zh", ivr) as port:
        session, _ = await run_session(port, script)
    assert [reply for _, reply in session.result.commands] == [
        "200 result=0 endpos=12000",
        "200 result=12 (timeout)",
    ]


async def test_given_a_missing_prompt_then_stream_file_answers_minus_one_and_exec_end_says_failure() -> None:
    replies: list[dict[str, Any]] = []

    async def ivr(request: Any) -> None:
        replies.append(await request.send_command('STREAM FILE does-not-exist-xyz "#"'))
        replies.append(await request.send_command('STREAM FILE beep ""'))

    async with panoramisk_server("hotline-ivr?lang=zh", ivr) as port:
        session, channel = await run_session(port, CitizenScript())
    assert [reply for _, reply in session.result.commands] == [
        "200 result=-1 endpos=0",
        "200 result=0 endpos=3520",
    ]
    assert replies[0]["error"] == "AGIAppError"
    assert ("end", 'STREAM FILE does-not-exist-xyz "#"', "-1") in channel.exec_events


async def test_given_a_hang_up_mid_menu_then_get_data_fails_and_hangup_follows_unsolicited() -> None:
    replies: list[dict[str, Any]] = []

    async def ivr(request: Any) -> None:
        replies.append(await request.send_command("GET DATA minhu/menu 5000 1"))
        replies.append(await request.send_command("NOOP after-hangup"))

    script = CitizenScript((HangUp(at=1.0),))
    async with panoramisk_server("hotline-ivr?lang=zh", ivr) as port:
        session, channel = await run_session(port, script)
    assert session.result.commands[0] == ("GET DATA minhu/menu 5000 1", "200 result=-1")
    assert replies[0]["error"] == "AGIAppError"
    assert replies[1]["error"] == "AGIResultHangup"  # the HANGUP line
    assert session.result.status == "HANGUP"
    assert session.result.citizen_hung_up
    assert channel.hung_up.is_set()


async def test_given_a_hang_up_then_the_socket_stays_open_until_the_server_closes_it() -> None:
    lines: list[bytes] = []
    server_closed = asyncio.Event()

    async def server_side(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\n\n")
        writer.write(b"ANSWER\n")
        lines.append(await reader.readline())
        writer.write(b"HANGUP\n")
        lines.append(await reader.readline())
        lines.append(await reader.readline())
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await reader.read(1)  # nothing more, and no EOF: Asterisk waits for us
        writer.write(b'VERBOSE "dead" 1\nSTREAM FILE beep ""\n')
        lines.append(await reader.readline())
        lines.append(await reader.readline())
        writer.close()
        server_closed.set()

    server = await asyncio.start_server(server_side, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    try:
        session, _ = await run_session(port, CitizenScript())
    finally:
        server.close()
    assert server_closed.is_set()
    assert lines == [
        b"200 result=0\n",
        b"200 result=1\n",
        b"HANGUP\n",
        b"200 result=1\n",
        b"511 Command Not Permitted on a dead channel or intercepted channel\n",
    ]
    assert session.result.status == "HANGUP"
    assert not session.result.citizen_hung_up


async def test_given_the_citizen_hangs_up_while_the_server_thinks_then_hangup_arrives_between_commands() -> (
    None
):
    got: list[bytes] = []

    async def server_side(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\n\n")
        got.append(await reader.readline())  # the caller is gone before we send anything
        writer.close()

    server = await asyncio.start_server(server_side, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    try:
        session, _ = await run_session(port, CitizenScript((HangUp(at=0.05),)))
    finally:
        server.close()
    assert got == [b"HANGUP\n"]
    assert session.result.status == "HANGUP"


async def test_given_no_server_then_agistatus_is_failure() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = int(server.sockets[0].getsockname()[1])
    server.close()
    await server.wait_closed()
    session, _ = await run_session(port, CitizenScript())
    assert session.result.status == "FAILURE"


def test_call_time_runs_only_as_asterisk_works() -> None:
    script = CitizenScript((Press("12", at=1.0, gap=0.5), HangUp(at=7.0)))
    assert script.keys() == [(1.0, "1"), (1.5, "2")]
    assert script.hangup_at == 7.0
    assert CitizenScript().hangup_at == math.inf

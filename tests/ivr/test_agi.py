"""The FastAGI wire protocol as Asterisk speaks it (../shared/ami-traces/f-fastagi-session.txt)."""

from __future__ import annotations

import asyncio

import pytest

from ivr.agi import AgiChannel, CallerHungUp, parse_reply, read_environment
from ivr.engine import deadline_words, mask_number
from ivr.flows import DATE_PROMPTS
from workorders.clock import SHANGHAI


@pytest.mark.parametrize(
    ("line", "result", "data", "digit"),
    [
        ("200 result=0", "0", None, None),
        ("200 result=1 (13700137000)", "1", "13700137000", "\x01"),
        ("200 result=0 endpos=3520", "0", None, None),
        ("200 result=49 endpos=1200", "49", None, "1"),
        ("200 result=123", "123", None, "{"),
        ("200 result= (timeout)", "", "timeout", None),
        ("200 result=12 (timeout)", "12", "timeout", "\x0c"),
        ("200 result=-1 endpos=0", "-1", None, None),
    ],
)
def test_replies_are_read_from_the_raw_line(
    line: str, result: str, data: str | None, digit: str | None
) -> None:
    reply = parse_reply(line)
    assert (reply.code, reply.result, reply.data, reply.digit()) == (200, result, data, digit)
    assert reply.timed_out == (data == "timeout")


async def test_a_utf8_caller_name_split_across_reads_is_kept_whole() -> None:
    reader = asyncio.StreamReader()
    raw = "agi_network_script: ivr?did=12345\nagi_calleridname: 赵六\nagi_accountcode: \n\n".encode()
    cut = raw.index("六".encode()) + 1  # in the middle of the character
    reader.feed_data(raw[:cut])
    reader.feed_data(raw[cut:])
    env = await read_environment(reader, 1.0)
    assert env == {"agi_network_script": "ivr?did=12345", "agi_calleridname": "赵六", "agi_accountcode": ""}


class _Writer:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    async def drain(self) -> None:
        pass


async def test_an_unsolicited_hangup_then_a_511_means_the_caller_is_gone() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"HANGUP\n511 Command Not Permitted on a dead channel or intercepted channel\n")
    channel = AgiChannel(reader, _Writer(), command_timeout_s=1)  # type: ignore[arg-type]
    with pytest.raises(CallerHungUp):
        await channel.stream_file("minhu/welcome", "")
    assert channel.hung_up
    with pytest.raises(CallerHungUp):
        await channel.set_variable("MINHU_IVR_NEXT", "queue")


async def test_a_failed_prompt_without_hangup_is_only_a_failure() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(b"200 result=-1 endpos=0\n")
    channel = AgiChannel(reader, _Writer(), command_timeout_s=1, hangup_grace_s=0.05)  # type: ignore[arg-type]
    reply = await channel.stream_file("no-such-prompt", "")
    assert reply.failed and not channel.hung_up


def test_the_deadline_is_said_in_chinese_order() -> None:
    from datetime import datetime

    words = deadline_words(datetime(2026, 12, 7, 17, 30, tzinfo=SHANGHAI), DATE_PROMPTS)
    assert words == [
        ("digits", "2026"),
        ("prompt", "minhu/date-year"),
        ("number", "12"),
        ("prompt", "minhu/date-month"),
        ("number", "7"),
        ("prompt", "minhu/date-day"),
        ("number", "17"),
        ("prompt", "minhu/date-hour"),
        ("number", "30"),
        ("prompt", "minhu/date-minute"),
    ]


@pytest.mark.parametrize(
    ("number", "masked"),
    [("13800138000", "138****8000"), ("037112345678", "037*****5678"), ("110", "*10"), ("", "-")],
)
def test_caller_numbers_are_masked(number: str, masked: str) -> None:
    assert mask_number(number) == masked

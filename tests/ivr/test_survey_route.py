"""The revisit survey mounted on the IVR's FastAGI server: routing by the script's path and the
panoramisk-style replies the survey reads, over the server's own AGI channel."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ivr.agi import AgiChannel
from ivr.boot import load_checked_flows, routes
from ivr.callbacks import InMemoryCallbackRequests
from ivr.engine import IvrServices, StaticCalendar
from ivr.flows import FlowError
from ivr.hours import ServiceHours
from ivr.orders import InMemoryOrderStatusLookup
from ivr.server import split_script
from ivr.settings import IvrSettings
from ivr.survey import SURVEY_SCRIPT, ChannelRequest, survey_route
from ivr.waiting import FixedWait
from workorders.clock import SHANGHAI, FixedClock

from .harness import CALENDAR, WEDNESDAY_10AM


def services() -> IvrServices:
    return IvrServices(
        orders=InMemoryOrderStatusLookup(),
        callbacks=InMemoryCallbackRequests(),
        wait=FixedWait(None),
        calendar=StaticCalendar(CALENDAR),
        clock=FixedClock(WEDNESDAY_10AM),
        tz=SHANGHAI,
        hours=ServiceHours(),
    )


EXTENSIONS_CONF = Path(__file__).resolve().parents[2] / "deploy" / "asterisk" / "extensions.conf"


class _Writer:
    def __init__(self) -> None:
        self.sent: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.sent.append(data)

    async def drain(self) -> None:
        pass


def _request(*lines: str) -> tuple[ChannelRequest, _Writer, asyncio.StreamReader]:
    reader = asyncio.StreamReader()
    for line in lines:
        reader.feed_data(line.encode() + b"\n")
    writer = _Writer()
    channel = AgiChannel(reader, writer, command_timeout_s=1, hangup_grace_s=0.05)  # type: ignore[arg-type]
    return ChannelRequest(channel, {"agi_network_script": "survey?revisit=a-1"}), writer, reader


def test_the_dialplans_survey_script_is_routed_by_its_path() -> None:
    conf = EXTENSIONS_CONF.read_text(encoding="utf-8")
    [line] = [ln for ln in conf.splitlines() if "/survey?" in ln and "AGI(" in ln]
    script = line.split("}/", 1)[1].rstrip(")")  # agi://host:port/<script>
    assert script == "survey?revisit=${MINHU_REVISIT_ID}"
    path, query = split_script("survey?revisit=4b1c-attempt")
    assert (path, query) == (SURVEY_SCRIPT, {"revisit": "4b1c-attempt"})


async def test_replies_become_the_parsed_dicts_the_survey_reads() -> None:
    request, writer, _ = _request(
        "200 result=1 (4b1c)",
        "200 result= (timeout)",
        "200 result=2",
        "510 Invalid or unknown command",
    )
    assert request.headers["agi_network_script"] == "survey?revisit=a-1"
    assert (await request.send_command("GET VARIABLE MINHU_REVISIT_ID"))["result"] == ("1", "4b1c")
    reply = await request.send_command("GET DATA minhu/revisit-question 5000 1")
    assert (reply["status_code"], reply["result"]) == (200, ("", "timeout"))
    assert (await request.send_command("GET DATA minhu/revisit-confirm 5000 1"))["result"] == ("2", "")
    assert (await request.send_command("NO SUCH THING"))["error"] == "AGIUsageError"
    assert writer.sent[0] == b"GET VARIABLE MINHU_REVISIT_ID\n"


async def test_a_hang_up_and_a_failed_prompt_are_told_apart() -> None:
    hung, _, _ = _request("200 result=-1", "HANGUP")
    assert (await hung.send_command('STREAM FILE minhu/revisit-intro ""'))["error"] == "AGIResultHangup"
    assert (await hung.send_command("HANGUP"))["error"] == "AGIResultHangup"  # gone: no raise
    missing, _, reader = _request("200 result=-1")  # a missing sound file: no HANGUP follows
    assert (await missing.send_command('STREAM FILE minhu/no-such ""'))["error"] == "AGIAppError"
    reader.feed_data(b"200 result=0\n")
    assert (await missing.send_command("NOOP"))["result"] == ("0", "")
    recorded, _, _ = _request("200 result=0 (hangup) endpos=16000")
    assert (await recorded.send_command('RECORD FILE x wav "#" 30000 0 BEEP s=3'))["error"] == (
        "AGIResultHangup"
    )


async def test_a_script_served_by_a_flow_cannot_be_mounted_twice() -> None:
    async def survey(request: object) -> None:
        pass

    flows = load_checked_flows(IvrSettings(_env_file=None))  # type: ignore[call-arg]
    handler = survey_route(survey)  # type: ignore[arg-type]
    mounted = routes(flows, services(), {SURVEY_SCRIPT: handler})
    assert set(mounted) == {*flows, SURVEY_SCRIPT} and mounted[SURVEY_SCRIPT] is handler
    with pytest.raises(FlowError):
        routes(flows, services(), {next(iter(flows)): handler})

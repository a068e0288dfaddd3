"""The revisit survey on the IVR's FastAGI server.

The dialplan's ``minhu-revisit-survey`` context runs
``AGI(agi://${MINHU_AGI_HOST}:${MINHU_AGI_PORT}/survey?revisit=${MINHU_REVISIT_ID})``
(``deploy/asterisk/extensions.conf``); the server routes by the script's path, ``survey``, and the
query string stays in the environment (``agi_network_script``) where the survey reads the
attempt's id. The survey itself is :class:`callback_dialer.survey.SurveyHandler`, written against
panoramisk's request (``headers``, ``send_command`` returning a parsed dict);
:class:`ChannelRequest` gives it that interface over the server's :class:`~ivr.agi.AgiChannel`,
whose reader keeps UTF-8 whole and tells a hang-up from a failed command.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis.asyncio as aioredis

from callback_dialer.schedule import DialerKeys
from callback_dialer.survey import SurveyConfig, SurveyHandler
from ivr.agi import AgiChannel, AgiError, CallerHungUp
from ivr.server import Handler
from pbx import dialplan_names as names

SURVEY_SCRIPT = names.AGI_SURVEY_SCRIPT
MEDIA_EXPECT_S = 900.0
"""Extra time a command that plays, records or waits for keys may take (prompts, a 30 s reason)."""
_MEDIA = ("STREAM FILE", "GET DATA", "SAY ", "RECORD FILE", "WAIT FOR DIGIT", "EXEC", "CONTROL STREAM")

_HANGUP: dict[str, Any] = {"error": "AGIResultHangup", "msg": "User hungup during execution"}


class ChannelRequest:
    """panoramisk's ``fast_agi.Request`` as the survey uses it, over an :class:`AgiChannel`."""

    def __init__(self, channel: AgiChannel, env: Mapping[str, str]) -> None:
        self.headers: Mapping[str, str] = env
        self._channel = channel

    async def send_command(self, command: str) -> dict[str, Any]:
        expect = MEDIA_EXPECT_S if command.upper().startswith(_MEDIA) else 0.0
        try:
            reply = await self._channel.command(command, expect_s=expect)
        except CallerHungUp:
            return dict(_HANGUP)
        except AgiError as exc:
            return {"error": "AGIUsageError", "msg": str(exc)}
        if reply.data == "hangup":
            return dict(_HANGUP)
        if reply.failed:  # no HANGUP followed within the grace: the application failed
            return {"error": "AGIAppError", "msg": "Error executing application, or hangup"}
        return {"status_code": reply.code, "result": (reply.result, reply.data or ""), "msg": reply.rest}


def survey_route(survey: SurveyHandler) -> Handler:
    """The server's handler for ``survey?revisit=<id>``."""

    async def handle(channel: AgiChannel, env: Mapping[str, str], query: Mapping[str, str]) -> None:
        await survey(ChannelRequest(channel, env))

    return handle


def survey_routes(
    redis: aioredis.Redis,
    prefix: str,
    config: SurveyConfig | None = None,
    result_ttl: int = 3 * 24 * 3600,
) -> dict[str, Handler]:
    """``{"survey": handler}`` publishing results under the dialer's Redis ``prefix``
    (``MINHU_DIALER_REDIS_PREFIX``)."""
    handler = SurveyHandler(redis, DialerKeys(prefix), config, result_ttl=result_ttl)
    return {SURVEY_SCRIPT: survey_route(handler)}

"""The revisit survey (回访满意度调查), a FastAGI handler for ``agi://host/survey?revisit=<id>``.

The dialer's Originate lands the answered call in ``minhu-revisit-survey``, which runs this
script with the attempt's id. It names the order (the tail of its number), asks for 1 满意 /
2 基本满意 / 3 不满意, lets a dissatisfied citizen record a reason, confirms the choice, and
gives a bounded number of retries on no input or an invalid key. The result goes to Redis for
the dialer (``<prefix>:s:<attempt id>``, plus a wake-up list ``<prefix>:sw:<attempt id>``).

The IVR's FastAGI server mounts it (:func:`ivr.survey.survey_routes`), routed by the script's path
``survey`` with the query string left in ``agi_network_script``.
Prompts are named files under ``minhu/``; :data:`PROMPTS` gives the text the studio records.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any, Protocol
from urllib.parse import parse_qs

import redis.asyncio as aioredis

from pbx import dialplan_names as names
from workorders.enums import Satisfaction

from .outcomes import SurveyKey
from .schedule import DialerKeys

log = logging.getLogger(__name__)

PROMPTS: Mapping[str, str] = {
    "minhu/revisit-intro": "您好，这里是12345政务服务便民热线。现对您反映的、编号尾号为",
    "minhu/revisit-intro-2": "的工单办理情况进行回访。",
    "minhu/revisit-question": "满意请按1，基本满意请按2，不满意请按3。",
    "minhu/revisit-no-input": "没有听到您的按键。",
    "minhu/revisit-invalid": "您的按键有误。",
    "minhu/revisit-chose-1": "您的评价是：满意。",
    "minhu/revisit-chose-2": "您的评价是：基本满意。",
    "minhu/revisit-chose-3": "您的评价是：不满意。",
    "minhu/revisit-confirm": "确认请按1，重新评价请按2。",
    "minhu/revisit-reason": "请在提示音后说明不满意的原因，说完请按井号键。",
    "minhu/revisit-thanks": "感谢您的评价，再见。",
    "minhu/revisit-no-result": "未能收到您的评价，稍后工作人员将与您联系，再见。",
}


class AgiRequest(Protocol):
    """panoramisk's ``fast_agi.Request`` as the survey uses it."""

    headers: Mapping[str, str]

    async def send_command(self, command: str) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class SurveyConfig:
    max_tries: int = 3
    key_timeout_ms: int = 5000
    record_reason: bool = True
    reason_max_ms: int = 30000
    recordings_dir: str = "minhu-revisit"
    tail_digits: int = 6


@dataclass(frozen=True, slots=True)
class SurveyResult:
    """What the citizen did. ``satisfaction`` None: no valid answer (no key, hung up early)."""

    attempt_id: str
    satisfaction: Satisfaction | None
    key: str = ""
    confirmed: bool = False
    recording: str | None = None
    hung_up: bool = False
    tries: int = 0

    def to_json(self) -> str:
        data = asdict(self)
        data["satisfaction"] = None if self.satisfaction is None else self.satisfaction.value
        return json.dumps(data, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> SurveyResult:
        data = json.loads(text)
        raw = data.get("satisfaction")
        return cls(
            attempt_id=str(data["attempt_id"]),
            satisfaction=None if raw is None else Satisfaction(raw),
            key=str(data.get("key", "")),
            confirmed=bool(data.get("confirmed", False)),
            recording=data.get("recording"),
            hung_up=bool(data.get("hung_up", False)),
            tries=int(data.get("tries", 0)),
        )


class _HungUp(Exception):
    pass


def attempt_id_of(request: AgiRequest) -> str:
    script = request.headers.get("agi_network_script", "")
    _, _, query = script.partition("?")
    values = parse_qs(query).get("revisit", [])
    return values[0] if values else ""


class SurveyHandler:
    """One instance per FastAGI server; ``await handler(request)`` per call."""

    def __init__(
        self,
        redis: aioredis.Redis,
        keys: DialerKeys,
        config: SurveyConfig | None = None,
        result_ttl: int = 3 * 24 * 3600,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._config = config or SurveyConfig()
        self._ttl = result_ttl

    async def __call__(self, request: AgiRequest) -> None:
        attempt_id = attempt_id_of(request) or await self._variable(request, names.VAR_REVISIT_ID)
        if not attempt_id:
            log.error("survey started without a revisit id; hanging up")
            await request.send_command("HANGUP")
            return
        context: Any = await self._redis.hgetall(self._keys.attempt(attempt_id))
        order_number = _text(context.get(b"order_number") or context.get("order_number") or "")
        session = _Session(request, self._config, attempt_id, order_number)
        try:
            await session.run()
        except _HungUp:
            session.hung_up = True
        except Exception:
            log.exception("survey %s failed", attempt_id)
        finally:
            result = session.result()
            await self._publish(result)
        if not session.hung_up:
            with contextlib.suppress(ValueError, ConnectionError):
                await request.send_command("HANGUP")

    async def _publish(self, result: SurveyResult) -> None:
        pipe = self._redis.pipeline(transaction=True)
        pipe.set(self._keys.survey_result(result.attempt_id), result.to_json(), ex=self._ttl)
        pipe.rpush(self._keys.survey_wake(result.attempt_id), "1")
        pipe.expire(self._keys.survey_wake(result.attempt_id), self._ttl)
        await pipe.execute()
        log.info(
            "survey %s: %s (key %r, tries %d%s)",
            result.attempt_id,
            result.satisfaction or "no answer",
            result.key,
            result.tries,
            ", hung up" if result.hung_up else "",
        )

    @staticmethod
    async def _variable(request: AgiRequest, name: str) -> str:
        reply = await request.send_command(f"GET VARIABLE {name}")
        value, data = reply.get("result", ("0", ""))
        return str(data) if value == "1" else ""


class _Session:
    def __init__(self, request: AgiRequest, config: SurveyConfig, attempt_id: str, order_number: str) -> None:
        self.request = request
        self.config = config
        self.attempt_id = attempt_id
        self.order_number = order_number
        self.choice: SurveyKey | None = None
        self.pending: SurveyKey | None = None
        self.confirmed = False
        self.recording: str | None = None
        self.hung_up = False
        self.tries = 0
        self.last_key = ""

    def result(self) -> SurveyResult:
        chosen = self.choice or self.pending  # a key pressed, then the phone put down: it stands
        return SurveyResult(
            attempt_id=self.attempt_id,
            satisfaction=None if chosen is None else chosen.satisfaction,
            key=self.last_key,
            confirmed=self.confirmed,
            recording=self.recording,
            hung_up=self.hung_up,
            tries=self.tries,
        )

    async def run(self) -> None:
        await self._command("ANSWER")
        await self._play("minhu/revisit-intro")
        tail = "".join(ch for ch in self.order_number if ch.isdigit())[-self.config.tail_digits :]
        if tail:
            await self._command(f'SAY DIGITS {tail} ""')
        await self._play("minhu/revisit-intro-2")
        while self.choice is None and self.tries < self.config.max_tries:
            self.tries += 1
            key = await self._get_key("minhu/revisit-question")
            self.last_key = key
            if not key:
                await self._play("minhu/revisit-no-input")
                continue
            try:
                chosen = SurveyKey(key)
            except ValueError:
                await self._play("minhu/revisit-invalid")
                continue
            self.pending = chosen
            await self._play(f"minhu/revisit-chose-{chosen.value}")
            confirm = await self._get_key("minhu/revisit-confirm")
            if confirm == "2":
                self.pending = None
                continue
            self.choice, self.pending = chosen, None
            self.confirmed = confirm == "1"  # no key at the confirmation: the choice stands
        if self.choice is SurveyKey.DISSATISFIED and self.config.record_reason:
            await self._record_reason()
        await self._play("minhu/revisit-thanks" if self.choice else "minhu/revisit-no-result")

    async def _record_reason(self) -> None:
        await self._play("minhu/revisit-reason")
        path = f"{self.config.recordings_dir}/{self.attempt_id}"
        reply = await self.request.send_command(
            f'RECORD FILE {path} wav "#" {self.config.reason_max_ms} 0 BEEP s=3'
        )
        if reply.get("error") == "AGIResultHangup":
            self.recording = path  # Asterisk keeps what was recorded up to the hang-up
            raise _HungUp
        if "error" not in reply and reply.get("status_code") == 200:
            self.recording = path

    async def _get_key(self, prompt: str) -> str:
        reply = await self._command(f"GET DATA {prompt} {self.config.key_timeout_ms} 1")
        value, _ = reply.get("result", ("", ""))
        return str(value).strip()

    async def _play(self, prompt: str) -> None:
        await self._command(f'STREAM FILE {prompt} ""')

    async def _command(self, command: str) -> dict[str, Any]:
        try:
            reply = await self.request.send_command(command)
        except (ValueError, ConnectionError) as exc:  # a torn reply line: the channel went away
            raise _HungUp from exc
        error = reply.get("error")
        if error == "AGIResultHangup":
            raise _HungUp
        if error == "AGIAppError":
            # result=-1: the channel hung up, or the application failed (a missing prompt)
            probe = await self.request.send_command("NOOP")
            if "error" in probe:
                raise _HungUp
        return reply


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)

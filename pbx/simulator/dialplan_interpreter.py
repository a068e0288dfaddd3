"""Walks a simulated channel through the dialplan, one application at a time.

Each priority shows as a ``Newexten``; ``Answer``, ``Set``, ``Goto``, ``GotoIf``, ``Wait``,
``Playback`` and ``Hangup`` are played here, ``AGI()`` runs a real FastAGI session
(``AgiSide``) and ``Queue()`` goes to the queue (``QueueApplication``). ``${VAR}`` and the
few functions Minhu's dialplan uses are substituted from the channel.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pbx.simulator.agi_side import AgiSide
from pbx.simulator.call_record import CallRecord
from pbx.simulator.dialplan import ANSWER_SETTLE, App
from pbx.simulator.fastagi_client import FastAgiSession
from pbx.simulator.world import UP, SimChannel

if TYPE_CHECKING:
    from pbx.simulator.scenario_engine import ScenarioEngine


class Jump:
    """Where a ``Goto``/``GotoIf`` continues: context and extension ("" / None: the current)."""

    def __init__(self, context: str, exten: str | None, target: str | int) -> None:
        self.context, self.exten, self.target = context, exten, target


STOP = object()
"""An application's outcome: the channel's dialplan ends here."""

_COND = re.compile(
    r'^\$\[\s*"(?P<a>[^"]*)"\s*(?P<op>!?=)\s*"(?P<b>[^"]*)"\s*\]\?(?P<then>[^:]*)(?::(?P<else>.*))?$'
)
_VAR = re.compile(r"\$\{([^${}]+)\}")


class DialplanInterpreter:
    def __init__(self, engine: ScenarioEngine) -> None:
        self.engine = engine

    def variable(self, channel: SimChannel, name: str) -> str | None:
        special = {
            "EXTEN": channel.exten,
            "CONTEXT": channel.context,
            "CHANNEL": channel.name,
            "UNIQUEID": channel.uniqueid,
            "CALLERID(num)": channel.caller_num,
            "CALLERID(name)": channel.caller_name,
            "CALLERID(all)": f'"{channel.caller_name}" <{channel.caller_num}>',
            "CHANNEL(language)": channel.language,
            "MINHU_QUEUE_MAX_WAIT": str(int(self.engine.scenario.queue_max_wait)),
        }
        if name in channel.variables:
            return channel.variables[name]
        return special.get(name)

    def substitute(self, channel: SimChannel, text: str) -> str:
        previous = None
        while previous != text:
            previous = text
            text = _VAR.sub(lambda m: self.variable(channel, m.group(1)) or "", text)
        return text

    async def run_dialplan(
        self, record: CallRecord, channel: SimChannel, context: str, exten: str, start: str | int = 1
    ) -> None:
        dialplan = self.engine.dialplan
        steps = dialplan.get(context, ())
        index = self._index_of(steps, start)
        while not channel.hangup_requested.is_set() and not channel.gone:
            if index >= len(steps):
                return  # autofallthrough: hang up
            app = steps[index]
            data = self.substitute(channel, app.data)
            self.engine.world.newexten(
                channel, app.name, data, context=context, exten=exten, priority=index + 1
            )
            outcome = await self.application(record, channel, app.name, data)
            if outcome is STOP:
                return
            if isinstance(outcome, Jump):
                context = outcome.context or context
                exten = outcome.exten or exten
                steps = dialplan.get(context, ())
                index = self._index_of(steps, outcome.target)
                continue
            index += 1

    async def run_from(
        self, record: CallRecord, channel: SimChannel, context: str, exten: str, priority: int
    ) -> None:
        """Walk ``context`` from ``priority`` (a Local ;2 leg after the Answer the originate saw)."""
        steps = self.engine.dialplan.get(context, ())
        index = priority - 1
        try:
            while not channel.hangup_requested.is_set() and not channel.gone and index < len(steps):
                app = steps[index]
                data = self.substitute(channel, app.data)
                self.engine.world.newexten(
                    channel, app.name, data, context=context, exten=exten, priority=index + 1
                )
                outcome = await self.application(record, channel, app.name, data)
                if outcome is STOP:
                    return
                if isinstance(outcome, Jump):
                    await self.run_dialplan(
                        record, channel, outcome.context or context, outcome.exten or exten, outcome.target
                    )
                    return
                index += 1
        finally:
            if not channel.gone:
                self.engine.control.teardown(channel, record)
            record.ended.set()

    @staticmethod
    def _index_of(steps: tuple[App, ...], target: str | int) -> int:
        if isinstance(target, int):
            return target - 1
        labels = [i for i, step in enumerate(steps) if step.label == target]
        return labels[0] if labels else len(steps)

    @staticmethod
    def _jump(target: str) -> Jump:
        parts = [p.strip() for p in target.split(",")]
        if len(parts) == 3:
            return Jump(parts[0], parts[1], int(parts[2]) if parts[2].isdigit() else parts[2])
        if len(parts) == 2:
            return Jump("", parts[0], int(parts[1]) if parts[1].isdigit() else parts[1])
        return Jump("", None, int(parts[0]) if parts[0].isdigit() else parts[0])

    async def application(self, record: CallRecord, channel: SimChannel, name: str, data: str) -> object:
        """Play one application; its outcome: None (next priority), ``STOP`` or a ``Jump``."""
        engine = self.engine
        lowered = name.lower()
        if lowered == "answer":
            if channel.state != UP:
                engine.control.answer(channel)
            await self.wait(record, channel, ANSWER_SETTLE)
        elif lowered == "set":
            variable, _, value = data.partition("=")
            if variable == "CALLERID(name)":
                engine.world.set_caller(channel, channel.caller_num, value)
            elif variable == "CALLERID(num)":
                engine.world.set_caller(channel, value, channel.caller_name)
            elif variable == "CHANNEL(language)":
                channel.language = value
            elif not variable.startswith("CHANNEL("):
                engine.world.varset(channel, variable, value)
        elif lowered == "goto":
            return self._jump(data)
        elif lowered == "gotoif":
            match = _COND.match(data)
            if match is None:
                return None
            equal = match.group("a") == match.group("b")
            taken = equal if match.group("op") == "=" else not equal
            target = match.group("then") if taken else match.group("else")
            return self._jump(target) if target else None
        elif lowered == "wait":
            seconds = float(data.split(",")[0] or 0)
            if await self.wait(record, channel, seconds):
                return STOP
        elif lowered == "playback":
            for prompt in data.split(",")[0].split("&"):
                if await self.wait(record, channel, engine.scenario.sounds.duration(prompt) or 0.0):
                    return STOP
        elif lowered == "agi":
            return await self._agi(record, channel, data)
        elif lowered == "queue":
            return await engine.queue.run(record, channel, data)
        elif lowered == "confbridge":
            return None if await engine.conferences.confbridge(record, channel, data) else STOP
        elif lowered == "hangup":
            record.ended_by = record.ended_by or "dialplan"
            return STOP
        return None

    async def wait(self, record: CallRecord, channel: SimChannel, seconds: float) -> bool:
        """Let call time pass; True when the channel is hung up meanwhile."""
        until = record.clock.now() + seconds
        while not channel.hangup_requested.is_set():
            now = record.clock.now()
            if now >= until:
                return False
            if record.hangup_at <= now:
                self.engine.control.request_hangup(channel, by="citizen")
                return True
            record.wake.clear()
            await record.clock.advance(min(until, record.hangup_at) - now, record.wake)
        return True

    async def _agi(self, record: CallRecord, channel: SimChannel, url: str) -> object:
        engine = self.engine
        side = AgiSide(engine, channel, url)
        session = FastAgiSession(
            url, side, record.clock, record.keypad, record.hangup_at, sounds=engine.scenario.sounds
        )
        result = await session.run()
        record.agi.append(result)
        if result.citizen_hung_up:
            record.ended_by = "citizen"
        engine.world.varset(channel, "AGISTATUS", result.status)
        if channel.hangup_requested.is_set():
            return STOP
        return None

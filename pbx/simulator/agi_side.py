"""The AMI side of a FastAGI session on a simulated channel: the ``AGIExecStart``/``AGIExecEnd``
events of each command, the channel variables it reads and sets, its Answer and Hangup."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from pbx.simulator.fastagi_client import agi_environment
from pbx.simulator.world import UP, SimChannel

if TYPE_CHECKING:
    from pbx.simulator.scenario_engine import ScenarioEngine


class AgiSide:
    """Implements ``fastagi_client.AgiChannel`` on a ``SimChannel``."""

    def __init__(self, engine: ScenarioEngine, channel: SimChannel, url: str) -> None:
        self.engine, self.channel = engine, channel
        base = channel.name.split("/", 1)[0]
        self.environment = agi_environment(
            url,
            channel.name,
            channel.uniqueid,
            channel.caller_num,
            channel.caller_name,
            channel.context,
            channel.exten,
            channel.priority,
            base,
            language=channel.language,
            dnid=channel.variables.get("MINHU_DID", "unknown"),
        )

    @property
    def hung_up(self) -> asyncio.Event:
        return self.channel.hangup_requested

    def command_started(self, command_id: str, command: str) -> None:
        self.engine.world.emit("AGIExecStart", self.channel, CommandId=command_id, Command=command)

    def command_ended(self, command_id: str, command: str, result_code: str, result: str) -> None:
        self.engine.world.emit(
            "AGIExecEnd",
            self.channel,
            CommandId=command_id,
            Command=command,
            ResultCode=result_code,
            Result=result,
        )

    def get_variable(self, name: str) -> str | None:
        return self.engine.interpreter.variable(self.channel, name)

    def set_variable(self, name: str, value: str) -> None:
        self.engine.world.varset(self.channel, name, value)

    def answer(self) -> None:
        if self.channel.state != UP:
            self.engine.control.answer(self.channel)

    def hangup(self) -> None:
        self.engine.world.soft_hangup_request(self.channel, 32)
        self.channel.hangup_cause = 16
        self.engine.control.request_hangup(self.channel, by="dialplan")

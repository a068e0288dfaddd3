"""One simulated call in progress, for tests and logs: its clock and keypad, what the FastAGI
sessions did, who answered, how it ended."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from pbx.simulator.citizen import CallClock, Citizen, CitizenScript, Keypad
from pbx.simulator.fastagi_client import AgiResult
from pbx.simulator.world import SimChannel


@dataclass(eq=False)
class CallRecord:
    """One simulated call, for tests and logs: what the FastAGI sessions did, how it ended."""

    citizen: Citizen | None
    clock: CallClock
    keypad: Keypad
    hangup_at: float
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    channel: SimChannel | None = None
    agi: list[AgiResult] = field(default_factory=list)
    queue_status: str | None = None
    answered_by: str | None = None
    ended_by: str | None = None
    """"citizen", "agent", "ami", "dialplan"."""
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    def keys_at(self, script: CitizenScript) -> None:
        self.keypad = Keypad.of(script)
        self.hangup_at = script.hangup_at

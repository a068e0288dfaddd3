"""A scenario: who calls when, which agents are signed in, how every dialed destination behaves.

``InboundCall`` (a ``Citizen`` and their script dialing the hotline), ``MemberSpec`` (an agent in
a queue) and the destinations' ``Behaviour`` chosen by channel pattern. ``ScenarioEngine`` plays
it on the simulated PBX.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from pbx import dialplan_names as names
from pbx.simulator.behaviour import Answers, Behaviour, Busy, Congested, RingsOut
from pbx.simulator.citizen import Citizen
from pbx.simulator.dialplan import Dialplan
from pbx.simulator.fastagi_client import STOCK_SOUNDS, SoundLibrary


@dataclass(frozen=True, slots=True)
class InboundCall:
    """A citizen dials ``dialed`` through the carrier trunk ``at`` seconds after the start."""

    citizen: Citizen = field(default_factory=Citizen)
    at: float = 0.0
    dialed: str = names.HOTLINE_NUMBER
    trunk: str = "PJSIP/carrier"
    context: str = names.CARRIER_INBOUND_CONTEXT


@dataclass(frozen=True, slots=True)
class MemberSpec:
    interface: str
    name: str
    queue: str = names.INBOUND_QUEUE
    paused: bool = False
    reason: str = ""


@dataclass(frozen=True)
class Scenario:
    """What happens on the simulated PBX, besides what AMI clients ask for."""

    name: str = "idle"
    calls: tuple[InboundCall, ...] = ()
    members: tuple[MemberSpec, ...] = ()
    destinations: tuple[tuple[str, Behaviour], ...] = ()
    """(channel pattern, behaviour): ``("PJSIP/1001", Answers(after=2))``,
    ``("Local/139*@minhu-dial-citizen*", Busy())``; the first match wins."""
    default_behaviour: Behaviour = Answers()  # noqa: RUF009 - a frozen dataclass
    queue_ring_timeout: float = 15.0
    queue_retry: float = 5.0
    queue_max_wait: float = 300.0
    sounds: SoundLibrary = STOCK_SOUNDS
    dialplan: Dialplan | None = None
    """None: ``default_dialplan(agi_server)``."""

    def behaviour_for(self, target: str) -> Behaviour | None:
        for pattern, behaviour in self.destinations:
            if fnmatch.fnmatchcase(target, pattern):
                return behaviour
        return None


def dialed_behaviour(scenario: Scenario, dialplan: Dialplan, target: str) -> Behaviour:
    """How ``target`` behaves when dialed: the scenario's pattern, else a Local channel's first
    application (``Ringing``, ``Busy``, ``Congestion``), else the scenario's default."""
    found = scenario.behaviour_for(target)
    if found is not None:
        return found
    if target.startswith("Local/"):
        context = target.split("@", 1)[1].split("/", 1)[0] if "@" in target else ""
        first = next(iter(dialplan.get(context, ())), None)
        if first is not None:
            by_first_app: dict[str, Behaviour] = {
                "ringing": RingsOut(),
                "busy": Busy(),
                "congestion": Congested(),
            }
            return by_first_app.get(first.name.lower(), Answers())
    return scenario.default_behaviour

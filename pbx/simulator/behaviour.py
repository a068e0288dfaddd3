"""What a dialed party does: answers (after a while, maybe hanging up later), rings out, is busy,
congested or unreachable. A ``Scenario`` picks one per dialed channel pattern."""

from __future__ import annotations

from dataclasses import dataclass

from pbx.simulator.citizen import Citizen


@dataclass(frozen=True, slots=True)
class Answers:
    """Answers ``after`` seconds of ringing; hangs up ``hang_up_after`` seconds after answering
    (None: stays until the other side hangs up). ``citizen``: who answers (keys for a survey)."""

    after: float = 0.0
    hang_up_after: float | None = None
    citizen: Citizen | None = None


@dataclass(frozen=True, slots=True)
class RingsOut:
    """Rings and is never answered (OriginateResponse Reason 3, AgentRingNoAnswer)."""


@dataclass(frozen=True, slots=True)
class Busy:
    """Busy (Reason 5)."""


@dataclass(frozen=True, slots=True)
class Congested:
    """Congestion (Reason 8)."""


@dataclass(frozen=True, slots=True)
class Unreachable:
    """No such or unregistered endpoint (Reason 0, no channel at all)."""


Behaviour = Answers | RingsOut | Busy | Congested | Unreachable
ORIGINATE_REASON = {"answer": 4, "ringout": 3, "busy": 5, "congestion": 8, "unreachable": 0}

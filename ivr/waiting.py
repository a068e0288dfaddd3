"""The estimated wait in the inbound queue, which decides whether to offer a call back.

The queue statistics (callers waiting, answer speed, agents by state) are computed elsewhere
(the live call model / wallboard); the IVR only asks this protocol.
"""

from __future__ import annotations

from typing import Protocol


class WaitEstimator(Protocol):
    async def estimated_wait_s(self, queue: str) -> float | None:
        """Seconds a caller joining ``queue`` now would probably wait; None when unknown."""
        ...


class FixedWait:
    """A constant estimate (tests, a line without statistics yet: None never offers)."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds

    async def estimated_wait_s(self, queue: str) -> float | None:
        return self.seconds

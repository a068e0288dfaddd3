"""A scripted caller (市民) and the clock a simulated call runs on.

A script says what a person on the line does and when, in seconds of *call time* since the
call started (for a citizen who dials) or since they answered (for a citizen who is called):
``Press("1", at=3.0)``, ``Press("123#", at=9.0)`` (keys 0.25 s apart), ``HangUp(at=20.0)``.

Call time runs while Asterisk is busy with the call — a prompt playing, GET DATA waiting, a
queue ringing agents — at ``time_scale`` real seconds per call second, so a 6 s GET DATA
timeout takes 60 ms at a scale of 0.01. The FastAGI server's own thinking between commands is
real time and counts one for one, so what a script's keys hit does not depend on how fast the
test machine is.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, field

KEY_GAP = 0.25
"""Seconds between the keys of one ``Press`` (like SendDTMF's default 250 ms)."""


@dataclass(frozen=True, slots=True)
class Press:
    """Key ``digits`` (one after the other, ``gap`` apart) starting ``at`` seconds of call time."""

    digits: str
    at: float
    gap: float = KEY_GAP


@dataclass(frozen=True, slots=True)
class HangUp:
    """Put the phone down ``at`` seconds of call time."""

    at: float


Step = Press | HangUp


@dataclass(frozen=True, slots=True)
class CitizenScript:
    steps: tuple[Step, ...] = ()

    @property
    def hangup_at(self) -> float:
        return min((s.at for s in self.steps if isinstance(s, HangUp)), default=math.inf)

    def keys(self) -> list[tuple[float, str]]:
        out: list[tuple[float, str]] = []
        for step in self.steps:
            if isinstance(step, Press):
                out.extend((step.at + i * step.gap, digit) for i, digit in enumerate(step.digits))
        return sorted(out)


@dataclass(frozen=True, slots=True)
class Citizen:
    """Who calls (or is called), and what they do on the line."""

    number: str = "13800138000"
    name: str = "张三丰"
    script: CitizenScript = CitizenScript()

    @classmethod
    def scripted(cls, *steps: Step, number: str = "13800138000", name: str = "张三丰") -> Citizen:
        return cls(number, name, CitizenScript(tuple(steps)))


class CallClock:
    """Call time: advanced by what Asterisk does (scaled), and one for one while idle."""

    def __init__(self, time_scale: float, now: Callable[[], float] | None = None) -> None:
        self.time_scale = time_scale
        self._real = now or asyncio.get_running_loop().time
        self._base = 0.0
        self._mark = self._real()
        self._idle = False

    def now(self) -> float:
        return self._base + (self._real() - self._mark if self._idle else 0.0)

    def idle(self) -> None:
        """From now on until the next ``advance``, call time follows real time."""
        self._base, self._mark, self._idle = self.now(), self._real(), True

    async def advance(self, seconds: float, interrupt: asyncio.Event | None = None) -> float:
        """Let ``seconds`` of call time pass (scaled); stop early when ``interrupt`` is set.
        Returns the call time that passed."""
        self._base, self._idle = self.now(), False
        seconds = max(0.0, seconds)
        started = self._real()
        interrupted = False
        if interrupt is not None and interrupt.is_set():
            interrupted = True
        elif math.isinf(seconds) or (seconds > 0 and self.time_scale > 0):
            real_wait = None if math.isinf(seconds) else seconds * self.time_scale
            if interrupt is None:
                if real_wait is None:
                    raise ValueError("an endless wait needs an interrupt")
                await asyncio.sleep(real_wait)
            else:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(real_wait):
                        await interrupt.wait()
                interrupted = interrupt.is_set()
        if interrupted:
            spent = (self._real() - started) / self.time_scale if self.time_scale > 0 else 0.0
            passed = min(spent, seconds)
        else:
            passed = seconds
        self._base += passed
        return passed


@dataclass
class Keypad:
    """The keys a script will press, consumed as Asterisk reads them; keys pressed while
    nothing listens (between commands, during an uninterruptible prompt) are lost."""

    pending: list[tuple[float, str]] = field(default_factory=list)

    @classmethod
    def of(cls, script: CitizenScript) -> Keypad:
        return cls(script.keys())

    def drop_before(self, moment: float) -> None:
        while self.pending and self.pending[0][0] < moment:
            self.pending.pop(0)

    def next_key(
        self, start: float, end: float, accept: Callable[[str], bool] = lambda _: True
    ) -> tuple[float, str] | None:
        """The first accepted key in [start, end); keys before it in the window are lost."""
        self.drop_before(start)
        while self.pending and self.pending[0][0] < end:
            moment, digit = self.pending.pop(0)
            if accept(digit):
                return moment, digit
        return None

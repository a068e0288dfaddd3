"""Live queue statistics (实时队列统计), folded from the PBX model's changes: pure, ``now`` injected.

* callers waiting and the longest wait: the callers in the queue and when each joined;
* answered within the service level: ``AgentAnswered`` no later than ``threshold`` seconds after
  the caller joined;
* abandoned: the caller hung up in the queue (``QueueCallerLeft(abandoned=True)``);
* average speed of answer: the mean wait of the answered calls;
* service level: answered in time / (answered + abandoned);
* agents by state: from the queue members (:func:`agent_desktop.agents.state.agent_state`).

Counters start with the process (or :meth:`QueueStatsTracker.reset_counters`, e.g. at midnight).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pbx.call_model import (
    AgentAnswered,
    ModelChange,
    QueueCaller,
    QueueCallerJoined,
    QueueCallerLeft,
    QueueMemberState,
)

from .state import AgentState, agent_state

_MEMORY = 20_000


@dataclass(frozen=True, slots=True)
class QueueStats:
    queue: str
    waiting: int
    longest_wait_s: float
    answered: int
    answered_in_time: int
    abandoned: int
    average_answer_s: float
    service_level_pct: float | None
    threshold_s: float
    agents: dict[str, int] = field(default_factory=dict)

    def to_public_dict(self) -> dict[str, Any]:
        return {
            "queue": self.queue,
            "waiting": self.waiting,
            "longest_wait_s": round(self.longest_wait_s, 1),
            "answered": self.answered,
            "answered_in_time": self.answered_in_time,
            "abandoned": self.abandoned,
            "average_answer_s": round(self.average_answer_s, 1),
            "service_level_pct": None if self.service_level_pct is None else round(self.service_level_pct, 1),
            "threshold_s": self.threshold_s,
            "agents": dict(self.agents),
        }


@dataclass
class QueueStatsTracker:
    queue: str
    threshold: float
    joined: dict[str, float] = field(default_factory=dict)
    """Uniqueid → when the caller joined (waiting now)."""
    answered: int = 0
    answered_in_time: int = 0
    abandoned: int = 0
    total_wait: float = 0.0
    _joined_at: dict[str, float] = field(default_factory=dict, repr=False)
    """Join times, kept after QueueCallerLeave until AgentConnect (or forgotten, bounded)."""
    _answered: set[str] = field(default_factory=set, repr=False)

    def apply(self, changes: Iterable[ModelChange], now: float) -> bool:
        """Fold changes seen at ``now``; True when a statistic changed."""
        changed = False
        for change in changes:
            if isinstance(change, QueueCallerJoined) and change.caller.queue == self.queue:
                self.joined.setdefault(change.caller.uniqueid, now)
                self._joined_at.setdefault(change.caller.uniqueid, now)
                changed = True
            elif isinstance(change, AgentAnswered) and change.queue == self.queue:
                uniqueid = change.caller_uniqueid
                if uniqueid in self._answered:
                    continue
                self.joined.pop(uniqueid, None)
                start = self._joined_at.pop(uniqueid, None)
                wait = max(0.0, now - start) if start is not None else 0.0
                self._answered.add(uniqueid)
                self.answered += 1
                self.total_wait += wait
                if wait <= self.threshold:
                    self.answered_in_time += 1
                changed = True
            elif isinstance(change, QueueCallerLeft) and change.caller.queue == self.queue:
                # Asterisk reports QueueCallerLeave before AgentConnect: keep the join time
                uniqueid = change.caller.uniqueid
                waited = self.joined.pop(uniqueid, None) is not None
                if change.abandoned and waited and uniqueid not in self._answered:
                    self.abandoned += 1
                    self._joined_at.pop(uniqueid, None)
                changed = True
        if len(self._answered) > _MEMORY or len(self._joined_at) > _MEMORY:
            self._answered.clear()
            for key in list(self._joined_at)[: len(self._joined_at) // 2]:
                del self._joined_at[key]
        return changed

    def reset_waiting(self, callers: Iterable[QueueCaller], now: float) -> None:
        """After a reload: the callers waiting now (their join time unknown: from ``now``)."""
        current = {c.uniqueid for c in callers if c.queue == self.queue}
        self.joined = {u: self.joined.get(u, now) for u in current}

    def reset_counters(self) -> None:
        self.answered = self.answered_in_time = self.abandoned = 0
        self.total_wait = 0.0

    def snapshot(
        self, now: float, members: Iterable[QueueMemberState], on_call: Iterable[str] = ()
    ) -> QueueStats:
        busy = set(on_call)
        agents: Counter[str] = Counter(
            {state.value: 0 for state in AgentState if state is not AgentState.LOGGED_OUT}
        )
        for member in members:
            if member.queue == self.queue:
                agents[agent_state(member, on_call=member.member_name in busy).value] += 1
        offered = self.answered + self.abandoned
        return QueueStats(
            queue=self.queue,
            waiting=len(self.joined),
            longest_wait_s=max((now - t for t in self.joined.values()), default=0.0),
            answered=self.answered,
            answered_in_time=self.answered_in_time,
            abandoned=self.abandoned,
            average_answer_s=self.total_wait / self.answered if self.answered else 0.0,
            service_level_pct=100.0 * self.answered_in_time / offered if offered else None,
            threshold_s=self.threshold,
            agents=dict(agents),
        )


def queue_stats(
    queue: str,
    threshold: float,
    timeline: Iterable[tuple[float, list[ModelChange]]],
    members: Iterable[QueueMemberState],
    now: float,
) -> QueueStats:
    """The statistics of a recorded timeline of ``(seen_at, changes)``."""
    tracker = QueueStatsTracker(queue, threshold)
    for at, changes in timeline:
        tracker.apply(changes, at)
    return tracker.snapshot(now, members)

"""How a revisit call ended, told apart from Asterisk's own results, and the citizen's number as
logs may show it."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from workorders.enums import CallOutcome, Satisfaction

# OriginateResponse ``Reason`` (Asterisk's AST_CONTROL_* of the outgoing channel).
REASON_UNREACHABLE = 0  # no such number, no route, channel could not be created
REASON_HUNG_UP = 1  # the callee's side hung up before answering: rejected (拒接)
REASON_RANG_OUT = 3  # rang until the ring timeout (呼叫至自动挂断无应答)
REASON_ANSWERED = 4
REASON_BUSY = 5
REASON_CONGESTION = 8

_BY_REASON = {
    REASON_UNREACHABLE: CallOutcome.UNREACHABLE,
    REASON_HUNG_UP: CallOutcome.REJECTED,
    REASON_RANG_OUT: CallOutcome.RANG_OUT,
    REASON_ANSWERED: CallOutcome.ANSWERED,
    REASON_BUSY: CallOutcome.BUSY,
    REASON_CONGESTION: CallOutcome.CONGESTION,
}


def outcome_of(reason: int) -> CallOutcome:
    """The outcome of an Originate's ``Reason``; anything unknown is a failed call."""
    return _BY_REASON.get(reason, CallOutcome.FAILED)


class SurveyKey(StrEnum):
    """The survey's keys (回访满意度按键)."""

    SATISFIED = "1"
    BASICALLY_SATISFIED = "2"
    DISSATISFIED = "3"

    @property
    def satisfaction(self) -> Satisfaction:
        return {
            SurveyKey.SATISFIED: Satisfaction.SATISFIED,
            SurveyKey.BASICALLY_SATISFIED: Satisfaction.BASICALLY_SATISFIED,
            SurveyKey.DISSATISFIED: Satisfaction.DISSATISFIED,
        }[self]


def mask(phone: str | None) -> str:
    """``13812345678`` → ``138****5678``; never log a citizen's number in full."""
    if not phone:
        return "-"
    digits = phone.strip()
    if len(digits) >= 11:
        return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def citizen_key(phone: str) -> str:
    """A stable, non-reversible-at-a-glance name for a citizen's number in Redis key names."""
    return hashlib.sha1(phone.strip().encode(), usedforsecurity=False).hexdigest()[:20]

"""Domain errors. Each names the rule it enforces; HTTP codes are mapped at the edge, not here."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error the work-order domain raises.

    ``code`` is a stable slug clients rely on and that is never renamed; ``message`` is Chinese
    and says what to do; ``article`` names the rule (e.g. ``第九条``) or ``""`` when none applies.
    """

    code: str = "domain-error"

    def __init__(self, code: str, message: str, article: str = "", **details: object) -> None:
        super().__init__(f"[{code}] {message}" + (f"（{article}）" if article else ""))
        self.code = code
        self.message = message
        self.article = article
        self.details: dict[str, object] = dict(details)


class RuleViolation(DomainError):
    """The action breaks a rule of the hotline (RULES.md / the policy profile)."""


class IllegalTransition(RuleViolation):
    """The action is not possible in the order's current state."""


class NotPermitted(RuleViolation):
    """The actor's role or unit may not take this action on this order."""


class InvalidInput(DomainError):
    """A value given to the domain is malformed (naive datetime, empty reason, ...)."""


class PolicyError(DomainError):
    """A policy profile or override is malformed."""


class CalendarError(DomainError):
    """A working-day calendar year is malformed."""

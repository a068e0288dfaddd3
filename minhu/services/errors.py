"""Failures of the services that are not rules of the hotline (those are the domain's
:class:`~workorders.errors.RuleViolation`). Each carries a stable slug; HTTP status codes are
chosen in one place, the API's exception handler."""

from __future__ import annotations


class ServiceError(Exception):
    code = "service-error"

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message
        self.article = ""
        self.details: dict[str, object] = dict(details)


class NotFound(ServiceError):
    """The thing asked for does not exist (an order number in the path, ...)."""


class UnknownReference(ServiceError):
    """A request body names something that does not exist (an unknown unit, ...)."""


class Forbidden(ServiceError):
    """The signed-in user's role or unit may not do or see this."""


class Conflict(ServiceError):
    """The request collides with the stored state (duplicate username, concurrent update, ...)."""


class AuthenticationFailed(ServiceError):
    """Wrong credentials, or a missing, expired or malformed token."""


class BadInput(ServiceError):
    """A value is malformed in a way the schema could not tell."""

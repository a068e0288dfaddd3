"""Failures of the reports, each with a stable slug and a message a person can act on."""

from __future__ import annotations

from workorders.errors import DomainError


class ReportError(DomainError):
    """A report cannot be produced as asked (no CJK font, a bad period, ...)."""

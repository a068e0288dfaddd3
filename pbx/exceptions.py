"""Every failure of the PBX adapter, each with a stable ``error_id`` clients may rely on."""

from __future__ import annotations

from typing import Any


class PbxError(Exception):
    """Base of all PBX adapter errors."""

    error_id = "pbx-error"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    def __str__(self) -> str:
        if not self.details:
            return self.message
        extra = ", ".join(f"{key}={value!r}" for key, value in sorted(self.details.items()))
        return f"{self.message} ({extra})"


class AmiNotConnectedError(PbxError):
    """An action was sent while no authenticated AMI link exists."""

    error_id = "ami-not-connected"


class AmiLinkLostError(PbxError):
    """The AMI link dropped while the action was in flight; it was not re-sent."""

    error_id = "ami-link-lost"


class AmiActionTimeoutError(PbxError):
    """Asterisk did not answer an action within its deadline."""

    error_id = "ami-action-timeout"


class AmiActionError(PbxError):
    """Asterisk answered an action with ``Response: Error`` (or another failure)."""

    error_id = "ami-action-failed"


class AmiAuthenticationError(PbxError):
    """The AMI login was refused."""

    error_id = "ami-authentication-failed"


class OriginateFailedError(PbxError):
    """An Originate did not produce an answered channel (OriginateResponse Reason != 4)."""

    error_id = "originate-failed"

"""Failures of the agent desktop's telephony, with stable slugs; HTTP codes in one handler here.

``PbxError`` (from :mod:`pbx.exceptions`, including the three-party errors) carries its own
``error_id``; both are answered with the API's error body ``{"error", "article", "message"}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from minhu.logging import get_logger
from pbx.exceptions import (
    AmiActionError,
    AmiActionTimeoutError,
    AmiLinkLostError,
    AmiNotConnectedError,
    PbxError,
)
from pbx.three_party import (
    InvalidUnitNumberError,
    NoBridgedCallError,
    ThreePartyStateError,
    UnitNotInCallError,
    UnitUnreachableError,
)

from ..errors import ErrorBody

log = get_logger(__name__)


class DesktopError(Exception):
    """A refused desktop command: ``kind`` picks the HTTP status, ``code`` is the stable slug."""

    kind = "conflict"

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message
        self.details: dict[str, object] = dict(details)


class PbxUnavailable(DesktopError):
    """Telephony is not configured, or the AMI link is down."""

    kind = "unavailable"


class NotSignedIn(DesktopError):
    """The agent is not a member of the queue (未签入)."""


class NotInCall(DesktopError):
    """The command needs a call and the agent has none."""


class AgentConflict(DesktopError):
    """The interface or the agent is already taken, or the state does not allow it."""


class BadTarget(DesktopError):
    """An invalid pause reason, interface, transfer target or unit."""

    kind = "invalid"


class NoSuchAgent(DesktopError):
    kind = "not_found"


_STATUS = {"conflict": 409, "unavailable": 503, "invalid": 422, "not_found": 404}

_PBX_STATUS: tuple[tuple[type[PbxError], int], ...] = (
    (UnitUnreachableError, 409),
    (UnitNotInCallError, 409),
    (ThreePartyStateError, 409),
    (NoBridgedCallError, 409),
    (InvalidUnitNumberError, 422),
    (AmiNotConnectedError, 503),
    (AmiLinkLostError, 503),
    (AmiActionTimeoutError, 504),
    (AmiActionError, 409),
)


def _plain(details: dict[str, Any]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool | type(None)) else str(v) for k, v in details.items()
    }


async def _desktop_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DesktopError)
    status = _STATUS.get(exc.kind, 409)
    log.info("desktop.refused", path=request.url.path, status=status, error=exc.code)
    body = ErrorBody(error=exc.code, message=exc.message, details=_plain(exc.details) or None)
    return JSONResponse(body.model_dump(), status_code=status)


async def _pbx_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PbxError)
    status = next((code for cls, code in _PBX_STATUS if isinstance(exc, cls)), 502)
    log.info("desktop.pbx_refused", path=request.url.path, status=status, error=exc.error_id)
    message = exc.message
    if isinstance(exc, AmiActionError) and not any(ord(ch) > 127 for ch in message):
        message = f"电话系统拒绝了该操作：{message}"
    body = ErrorBody(error=exc.error_id, message=message, details=_plain(exc.details) or None)
    return JSONResponse(body.model_dump(), status_code=status)


def install(app: FastAPI) -> None:
    app.add_exception_handler(DesktopError, _desktop_error)
    app.add_exception_handler(PbxError, _pbx_error)

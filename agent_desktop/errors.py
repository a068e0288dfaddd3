"""The one place where failures become HTTP responses: ``{"error", "article", "message"}``.

Domain errors (:mod:`workorders.errors`) and service errors (:mod:`minhu.services.errors`) carry
stable slugs and Chinese messages; this module only picks the status code.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from minhu.logging import get_logger
from minhu.services.errors import (
    AuthenticationFailed,
    BadInput,
    Conflict,
    Forbidden,
    NotFound,
    ServiceError,
    UnknownReference,
)
from workorders.errors import (
    CalendarError,
    DomainError,
    IllegalTransition,
    InvalidInput,
    NotPermitted,
    PolicyError,
    RuleViolation,
)

log = get_logger(__name__)


class ErrorBody(BaseModel):
    """Every error the API returns."""

    error: str
    article: str = ""
    message: str
    details: dict[str, Any] | list[Any] | None = None


# Most specific first.
_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (NotPermitted, 403),
    (IllegalTransition, 409),
    (RuleViolation, 409),
    (InvalidInput, 422),
    (CalendarError, 422),
    (PolicyError, 422),
    (AuthenticationFailed, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (UnknownReference, 422),
    (Conflict, 409),
    (BadInput, 422),
)


def status_for(exc: Exception) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 400


def _jsonable(details: dict[str, object]) -> dict[str, Any]:
    return {
        k: v if isinstance(v, str | int | float | bool | type(None)) else str(v) for k, v in details.items()
    }


def _body(code: str, message: str, article: str = "", details: Any = None) -> dict[str, Any]:
    return ErrorBody(error=code, article=article, message=message, details=details).model_dump()


async def _known_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError | ServiceError)
    status = status_for(exc)
    log.info("request.refused", path=request.url.path, status=status, error=exc.code, article=exc.article)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        _body(exc.code, exc.message, exc.article, _jsonable(exc.details) or None),
        status_code=status,
        headers=headers,
    )


def _reason(err: dict[str, Any]) -> dict[str, Any]:
    loc = [str(p) for p in err.get("loc", ())]
    return {"field": ".".join(loc), "type": err.get("type"), "reason": err.get("msg")}


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    reasons = [_reason(e) for e in exc.errors()]
    if any(r["type"] == "json_invalid" for r in reasons):
        code, message = "malformed-json", "请求体不是有效的 JSON"
    elif any(r["type"] == "timezone_aware" for r in reasons):
        code, message = "naive-datetime", "时间须带时区信息（如 2026-09-30T10:00:00+08:00）"
    elif any(r["type"] == "string_too_long" for r in reasons):
        code, message = "field-too-long", "内容超过允许的长度"
    else:
        code, message = (
            "validation-failed",
            "请求参数不符合要求：" + "；".join(f"{r['field']}：{r['reason']}" for r in reasons[:5]),
        )
    return JSONResponse(_body(code, message, details=reasons), status_code=422)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    messages = {401: "未登录或登录凭证无效", 403: "无权访问", 404: "资源不存在", 405: "不支持该请求方法"}
    message = exc.detail if isinstance(exc.detail, str) and exc.detail and exc.status_code != 401 else ""
    return JSONResponse(
        _body(f"http-{exc.status_code}", message or messages.get(exc.status_code, "请求失败")),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _known_error)
    app.add_exception_handler(ServiceError, _known_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses=`` for a route: the error shape under each status it may return."""
    text = {
        401: "未登录或登录凭证无效 (missing, expired or invalid token)",
        403: "角色或单位无权执行 (wrong role, or another unit's order; error names the rule)",
        404: "对象不存在 (no such order/unit)",
        409: "违反工作规则或状态不允许 (rule violation: error, article, message)",
        413: "请求体过大 (request body too large)",
        422: "输入无效 (malformed JSON, validation, unknown unit, invalid phone, naive datetime)",
    }
    return {s: {"model": ErrorBody, "description": text[s]} for s in statuses}

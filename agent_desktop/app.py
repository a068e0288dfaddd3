"""The application factory: ``create_app(settings)`` wires settings, clock, policy, calendar and
database into one FastAPI app. Nothing is built at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from minhu.db.engine import create_engine, create_session_factory
from minhu.heap import freeze_startup_heap
from minhu.logging import get_logger
from minhu.policy import load_profile
from minhu.services.calendar import CalendarProvider
from minhu.services.directory import SignInCache
from minhu.settings import Settings
from workorders.clock import Clock, SystemClock

from . import errors, kb_lifecycle, live_transcript
from .agents import errors as desktop_errors
from .agents.runtime import PbxRuntime, RuntimeOptions
from .routers import agent, auth, calendar, directory, kb, live, orders, pages, supervisor
from .routers import assessment as assessment_routes
from .routers import dialer as dialer_routes
from .routers import drafts as draft_routes
from .routing import add_routes

log = get_logger(__name__)

API_PREFIX = "/api/v1"
MAX_BODY_BYTES = 256 * 1024

DESCRIPTION = """
民呼必应 12345 政务服务热线工单接口。Work orders of the 12345 hotline: intake from every channel,
assignment to network units, check-in, returns, extensions, citizen contacts, replies, revisits and
third-party assessment, each checked against the rules (平顶山市民呼必应工作规则 and the deployment's
policy profile).

Every error has the body `{"error": slug, "article": rule, "message": 中文说明}`: 401 not signed in,
403 wrong role or another unit's order, 404 unknown order, 409 refused by a rule or the order's
state, 413 body too large, 422 invalid input (malformed JSON, unknown unit, invalid phone,
timezone-naive time, text too long).
"""


class BodySizeLimit:
    """Refuses request bodies over ``limit`` bytes with 413, before the route reads them."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.limit:
            await self._refuse(scope, receive, send)
            return
        seen = 0

        async def counting_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except _TooLarge:
            await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = errors.ErrorBody(error="payload-too-large", message=f"请求体超过{self.limit // 1024}KB上限")
        await JSONResponse(body.model_dump(), status_code=413)(scope, receive, send)


class _TooLarge(Exception):
    pass


def create_app(settings: Settings, *, clock: Clock | None = None, freeze_heap: bool = False) -> FastAPI:
    """Build the API. ``clock`` defaults to the wall clock; tests pass a :class:`FixedClock`.

    ``freeze_heap``: a server process (``minhu serve``) excludes what start-up built from the
    garbage collector's passes once the lifespan has started (:mod:`minhu.heap`)."""
    policy = load_profile(settings.policy_profile, settings.policy_overrides)
    engine = create_engine(
        settings.database_url,
        echo=settings.database_echo,
        pool_size=settings.database_pool_size,
        max_overflow=settings.database_max_overflow,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info("api.start", database=engine.url.render_as_string(hide_password=True), policy=policy.name)
        if settings.jwt_secret_generated:
            log.warning(
                "api.jwt_secret_generated",
                message="未设置 MINHU_JWT_SECRET，本次运行使用随机密钥，重启后需重新登录",
            )
        kb_follower = await kb_lifecycle.start(app, settings)
        runtime: PbxRuntime | None = None
        starter: live_transcript.TranscriptionStarter | None = None
        if settings.ami_enabled:
            options = getattr(app.state, "pbx_options", None) or RuntimeOptions()
            runtime = PbxRuntime(settings, lambda: app.state.session_factory(), options=options)
            await runtime.start()
            app.state.pbx = runtime
            if settings.live_transcription:
                starter = live_transcript.TranscriptionStarter(
                    runtime.ami,
                    live_transcript.StreamRegistry(runtime.redis, settings.pbx_redis_prefix),
                    lambda: runtime.leader,
                    lambda: runtime.ami.model,
                )
                starter.attach()
        if freeze_heap:
            freeze_startup_heap("api")
        try:
            yield
        finally:
            await kb_lifecycle.stop(app, kb_follower)
            app.state.pbx = None
            if starter is not None:
                await starter.aclose()
            if runtime is not None:
                await runtime.stop()
            await engine.dispose()
            log.info("api.stop")

    app = FastAPI(
        title="Minhu 民呼必应 API",
        version="1",
        description=DESCRIPTION,
        lifespan=lifespan,
        responses=errors.responses(422),
    )
    app.state.settings = settings
    app.state.clock = clock or SystemClock(settings.tz)
    app.state.policy = policy
    app.state.calendars = CalendarProvider()
    app.state.sign_ins = SignInCache()
    app.state.engine = engine
    app.state.session_factory = create_session_factory(engine)
    app.state.kb = None  # the knowledge base's KbIndex, built from the database by the lifespan
    app.state.kb_announce = None  # tells other processes of changed articles (Redis pub/sub)
    app.state.pbx = None  # the PBX runtime, while the lifespan runs and MINHU_AMI_* is set

    errors.install(app)
    desktop_errors.install(app)
    # Flat, not include_router: see agent_desktop/routing.py.
    for router in (
        auth.router,
        directory.units,
        directory.users,
        orders.router,
        calendar.router,
        agent.router,
        supervisor.router,
        dialer_routes.router,
        kb.router,
        assessment_routes.router,
        draft_routes.router,
    ):
        add_routes(app, router, prefix=API_PREFIX)
    add_routes(app, live.router)
    add_routes(app, pages.router)
    app.mount("/desktop/static", StaticFiles(directory=pages.STATIC), name="desktop-static")

    @app.get("/", include_in_schema=False)
    async def root() -> RedirectResponse:
        return RedirectResponse("/docs")

    @app.get("/healthz", tags=["ops"])
    async def health() -> dict[str, Any]:
        """存活检查 (liveness)."""
        return {"status": "ok", "policy": policy.name}

    app.add_middleware(BodySizeLimit, limit=MAX_BODY_BYTES)
    return app


def create_app_from_env() -> FastAPI:
    """The app of one server worker process (``minhu serve --workers N``): settings from the
    environment, logging configured in the worker itself."""
    from minhu.logging import configure_logging

    settings = Settings()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings, freeze_heap=True)

"""``/api/v1/kb/search``: articles imported into the database are searchable at once, with
highlighted hits."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from agent_desktop.app import create_app
from agent_desktop.deps import get_session
from minhu.db.models import Unit
from minhu.settings import Settings
from workorders.clock import FixedClock

from ..api.city import build_city

pytestmark = pytest.mark.db

ARTICLES = Path(__file__).resolve().parent.parent / "knowledge_base" / "data" / "articles.md"


@contextlib.asynccontextmanager
async def _kb(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, dict[str, str]]]]:
    """The app with its lifespan run (that builds the index), a client and an agent's headers."""
    app = create_app(settings, clock=clock)

    async def the_test_session() -> AsyncIterator[AsyncSession]:
        yield db_session

    @contextlib.asynccontextmanager
    async def scope() -> AsyncIterator[AsyncSession]:
        yield db_session

    app.dependency_overrides[get_session] = the_test_session
    app.state.session_factory = scope
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://minhu.test") as client:
                city = await build_city(db_session, client, clock, settings)
                yield client, {"agent": city.headers("agent"), "admin": city.headers("admin")}
    finally:
        await app.state.engine.dispose()


async def test_given_a_markdown_file_imported_then_search_returns_highlighted_hits(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    text = ARTICLES.read_text(encoding="utf-8")
    codes = sorted(
        {line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("unit_id:")}
    )
    for code in codes:
        db_session.add(Unit(code=code, name=code, assessment_group="department", created_at=clock.now()))
    await db_session.flush()
    async with _kb(settings.model_copy(update={"kb_changes_channel": ""}), clock, db_session) as (
        client,
        who,
    ):
        files = {"file": ("kb.md", text.encode("utf-8"), "text/markdown")}
        r = await client.post("/api/v1/kb/import", files=files, headers=who["admin"])
        assert r.status_code == 200 and r.json()["errors"] == [] and r.json()["accepted"] == 151, r.text
        r = await client.get(
            "/api/v1/kb/search", params={"q": "养老保险断缴了怎么补缴"}, headers=who["agent"]
        )
    assert r.status_code == 200, r.text
    hits = r.json()["hits"]
    assert hits and hits[0]["id"] == "SB-03"
    assert "<em>" in hits[0]["title_html"] + hits[0]["snippet_html"]
    assert "<em>" not in hits[0]["snippet"] and hits[0]["title"] == "养老保险断缴后如何补缴"


async def test_given_no_articles_then_search_answers_no_hits_and_needs_a_signed_in_user(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    async with _kb(settings.model_copy(update={"kb_changes_channel": ""}), clock, db_session) as (
        client,
        who,
    ):
        headers = who["agent"]
        r = await client.get("/api/v1/kb/search", params={"q": "养老保险"}, headers=headers)
        assert r.status_code == 200 and r.json() == {"query": "养老保险", "hits": []}
        r = await client.get("/api/v1/kb/search", params={"q": "养老保险"})
        assert r.status_code == 401
        r = await client.get("/api/v1/kb/search", params={"q": ""}, headers=headers)
        assert r.status_code == 422

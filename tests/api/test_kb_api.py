"""``/api/v1/kb``: the knowledge base kept in the database — units edit their own articles, every
change is a version with who changed what, flagged articles, import with row errors, export, and the
search index built from the database and kept current (in one process and across processes)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from agent_desktop.app import create_app
from agent_desktop.deps import get_session
from minhu.db.kb_models import KbArticleVersionRow
from minhu.db.models import AuditRow
from minhu.settings import Settings
from workorders.clock import FixedClock

from ..agent_desktop.desk import eventually, shared_session
from .city import City, build_city

pytestmark = pytest.mark.db

REDIS_URL = os.environ.get("MINHU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

SEWER = {
    "id": "ZJ-01",
    "title": "小区污水管堵塞的报修",
    "body": "小区内部排水管道堵塞由物业负责疏通；市政道路下的污水管堵塞由市住建局排水所处理。",
    "unit_id": "housing",
    "tags": ["排水", "物业"],
    "valid_from": "2026-01-01",
}
PENSION = {
    "id": "XH-01",
    "title": "新华区老年人高龄津贴申领",
    "body": "年满80周岁的新华区户籍老人，持身份证到社区服务站申领高龄津贴，每月发放。",
    "unit_id": "xinhua",
    "tags": ["民政"],
    "valid_from": "2026-01-01",
}


@contextlib.asynccontextmanager
async def running_app(
    settings: Settings,
    clock: FixedClock,
    scope: Callable[[], contextlib.AbstractAsyncContextManager[AsyncSession]],
    channel: str = "",
    redis_url: str = REDIS_URL,
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app with its lifespan run (the index is built from the database at start-up)."""
    settings = settings.model_copy(update={"kb_changes_channel": channel, "redis_url": redis_url})
    app = create_app(settings, clock=clock)

    async def the_test_session() -> AsyncIterator[AsyncSession]:
        async with scope() as session:
            yield session

    app.dependency_overrides[get_session] = the_test_session
    app.state.session_factory = scope
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://minhu.test") as client:
                yield app, client
    finally:
        await app.state.engine.dispose()


async def _city(
    db_session: AsyncSession, client: httpx.AsyncClient, clock: FixedClock, settings: Settings
) -> City:
    return await build_city(db_session, client, clock, settings)


async def _create(city: City, who: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await city.post(who, "/kb/articles", body)
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _patch(city: City, who: str, article: str, body: dict[str, Any]) -> httpx.Response:
    return await city.client.patch(f"/api/v1/kb/articles/{article}", json=body, headers=city.headers(who))


async def test_given_a_unit_handler_when_editing_another_units_article_then_403_and_own_articles_are_editable(
    city: City,
) -> None:
    await _create(city, "h_housing", SEWER)
    await _create(city, "supervisor", PENSION)

    refused = await _patch(city, "h_xinhua", "ZJ-01", {"version": 1, "title": "改标题"})
    assert refused.status_code == 403 and refused.json()["error"] == "kb-not-owner"
    assert "housing" in refused.json()["message"]
    taken = await _patch(city, "h_xinhua", "XH-01", {"version": 1, "unit_id": "housing"})
    assert taken.status_code == 403 and taken.json()["error"] == "kb-not-owner"
    other_unit = await city.post("h_xinhua", "/kb/articles", {**SEWER, "id": "ZJ-02"})
    assert other_unit.status_code == 403 and other_unit.json()["error"] == "kb-not-owner"
    agent = await city.post("agent", "/kb/articles", {**PENSION, "id": "XH-02"})
    assert agent.status_code == 403 and agent.json()["error"] == "kb-forbidden-role"

    own = await _patch(city, "h_xinhua", "XH-01", {"version": 1, "body": "年满80周岁老人每月领取高龄津贴。"})
    assert own.status_code == 200, own.text
    assert own.json()["version"] == 2 and own.json()["updated_by"] == "h_xinhua"
    by_supervisor = await _patch(city, "supervisor", "ZJ-01", {"version": 1, "tags": ["排水"]})
    assert by_supervisor.status_code == 200 and by_supervisor.json()["tags"] == ["排水"]
    unknown_unit = await city.post("admin", "/kb/articles", {**SEWER, "id": "ZZ-01", "unit_id": "nowhere"})
    assert unknown_unit.status_code == 422 and unknown_unit.json()["error"] == "kb-unknown-unit"


async def test_given_an_article_edited_when_history_is_read_then_every_version_says_who_changed_what(
    city: City, db_session: AsyncSession
) -> None:
    await _create(city, "h_housing", SEWER)
    city.clock.advance(timedelta(hours=1))
    r = await _patch(
        city, "h_housing", "ZJ-01", {"version": 1, "title": "污水管堵塞报修", "note": "标题精简"}
    )
    assert r.status_code == 200, r.text
    stale = await _patch(city, "supervisor", "ZJ-01", {"version": 1, "body": "旧版本上的修改"})
    assert stale.status_code == 409 and stale.json()["error"] == "kb-version-conflict"
    r = await city.post("supervisor", "/kb/articles/ZJ-01/review", {"version": 2})
    assert r.status_code == 200 and r.json()["review_state"] == "reviewed"

    history = (await city.get("agent", "/kb/articles/ZJ-01/history")).json()["versions"]
    assert [(v["version"], v["action"], v["changed_by"]) for v in history] == [
        (1, "create", "h_housing"),
        (2, "update", "h_housing"),
        (3, "review", "supervisor"),
    ]
    assert history[1]["changes"] == [
        {"field": "title", "old": "小区污水管堵塞的报修", "new": "污水管堵塞报修"}
    ]
    assert history[1]["note"] == "标题精简" and history[1]["changed_by_unit"] == "housing"
    audit = (await db_session.execute(select(AuditRow.action, AuditRow.actor_id).order_by(AuditRow.id))).all()
    assert [tuple(a) for a in audit if a[0].startswith("kb_")] == [
        ("kb_create", "h_housing"),
        ("kb_update", "h_housing"),
        ("kb_review", "supervisor"),
    ]
    with pytest.raises(DBAPIError, match="append-only"):
        async with db_session.begin_nested():
            await db_session.execute(text("UPDATE kb_article_versions SET changed_by = 'someone'"))
    rows = (await db_session.execute(select(KbArticleVersionRow.changed_by))).scalars().all()
    assert "someone" not in rows


async def test_given_articles_past_valid_to_or_unreviewed_then_they_are_flagged_by_the_policy_interval(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    settings = settings.model_copy(update={"policy_overrides": {"kb_review_interval_days": 10}})
    scope = shared_session(db_session)
    async with running_app(settings, clock, scope) as (_app, client):
        city = await _city(db_session, client, clock, settings)
        await _create(city, "h_housing", {**SEWER, "valid_to": "2026-10-05"})
        await _create(city, "h_xinhua", PENSION)
        r = await city.post("h_xinhua", "/kb/articles/XH-01/review", {"version": 1})
        assert r.status_code == 200
        flagged = (await city.get("supervisor", "/kb/flagged")).json()["articles"]
        assert [(a["id"], a["flags"]) for a in flagged] == [("ZJ-01", ["expiring_soon"])]

        clock.advance(timedelta(days=11))  # 2026-10-11: past valid_to, and past the 10-day interval
        flagged = (await city.get("supervisor", "/kb/flagged")).json()["articles"]
        assert {a["id"]: a["flags"] for a in flagged} == {
            "ZJ-01": ["expired", "unreviewed"],
            "XH-01": ["unreviewed"],
        }
        assert "超期未复核" in flagged[0]["flag_labels"]
        own = (await city.get("h_xinhua", "/kb/flagged")).json()["articles"]
        assert [a["id"] for a in own] == ["XH-01"]


async def test_given_an_article_changed_or_expired_then_search_follows_at_once(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    scope = shared_session(db_session)
    async with running_app(settings, clock, scope) as (_app, client):
        city = await _city(db_session, client, clock, settings)
        await _create(city, "h_housing", SEWER)

        async def ids(q: str) -> list[str]:
            r = await city.get("agent", "/kb/search", params={"q": q})
            assert r.status_code == 200, r.text
            return [h["id"] for h in r.json()["hits"]]

        assert await ids("下水道堵了找谁") == ["ZJ-01"]
        r = await _patch(city, "h_housing", "ZJ-01", {"version": 1, "body": "化粪池满溢由环卫所抽运。"})
        assert r.status_code == 200
        assert await ids("化粪池满了") == ["ZJ-01"]
        later = await city.post("h_housing", "/kb/articles/ZJ-01/expire", {"version": 2, "on": "2026-10-31"})
        assert later.status_code == 422 and later.json()["error"] == "kb-bad-expiry"
        r = await city.post("h_housing", "/kb/articles/ZJ-01/expire", {"version": 2, "note": "职能调整"})
        assert r.status_code == 200 and r.json()["status"] == "expired" and "expired" in r.json()["flags"]
        assert r.json()["valid_to"] == "2026-09-29"  # the day before (the clock's today is 2026-09-30)
        history = (await city.get("agent", "/kb/articles/ZJ-01/history")).json()["versions"]
        assert history[-1]["action"] == "expire" and history[-1]["note"] == "职能调整"
        assert {"field": "status", "old": "active", "new": "expired"} in history[-1]["changes"]
        assert await ids("化粪池满了") == []
        again = await _patch(city, "h_housing", "ZJ-01", {"version": 3, "title": "复活"})
        assert again.status_code == 409 and again.json()["error"] == "kb-article-expired"


async def test_given_articles_in_the_database_when_the_app_starts_then_search_finds_them(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    scope = shared_session(db_session)
    async with running_app(settings, clock, scope) as (_app, client):
        city = await _city(db_session, client, clock, settings)
        await _create(city, "h_housing", SEWER)
    async with running_app(settings, clock, scope) as (app, client):
        city.client = client
        assert app.state.kb.index is not None and "ZJ-01" in app.state.kb.index
        r = await city.get("agent", "/kb/search", params={"q": "污水管"})
        assert [h["id"] for h in r.json()["hits"]] == ["ZJ-01"]


async def test_given_two_worker_processes_when_one_changes_an_article_then_the_other_hears_it_on_redis(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    scope = shared_session(db_session)
    channel = f"minhu-test:{uuid.uuid4().hex[:8]}:kb:changed"
    async with (
        running_app(settings, clock, scope, channel) as (first, client_a),
        running_app(settings, clock, scope, channel) as (second, _client_b),
    ):
        await eventually(lambda: second.state.kb.followed.is_set(), what="second worker subscribed")
        city = await _city(db_session, client_a, clock, settings)
        await _create(city, "h_housing", SEWER)

        def second_finds(q: str) -> bool:
            index = second.state.kb.index
            return index is not None and [h.article.id for h in index.search(q)] == ["ZJ-01"]

        await eventually(lambda: second_finds("污水管"), what="second worker indexed the new article")
        r = await _patch(city, "h_housing", "ZJ-01", {"version": 1, "body": "化粪池满溢由环卫所抽运。"})
        assert r.status_code == 200
        await eventually(lambda: second_finds("化粪池"), what="second worker indexed the change")
        assert first.state.kb.index is not None and "ZJ-01" in first.state.kb.index


CSV_WITH_PROBLEMS = (
    "id,title,body,unit_id,tags,valid_from,valid_to\r\n"
    "XH-10,新华区居住证办理,到辖区派出所办理,xinhua,户籍,2026-01-01,\r\n"
    "XH-11,,缺标题,xinhua,,2026-01-01,\r\n"
    "XH-12,日期错误,正文,xinhua,,2026-13-01,\r\n"
    "ZJ-10,别的单位,正文,housing,,2026-01-01,\r\n"
    "XH-13,不存在的单位,正文,nowhere,,2026-01-01,\r\n"
    "XH-10,重复编号,正文,xinhua,,2026-01-01,\r\n"
    "XH-14,新华区城管投诉,拨打12345或到城管局,xinhua,城管;投诉,2026-01-01,2026-12-31\r\n"
)


async def test_given_a_csv_with_bad_rows_when_imported_then_good_rows_are_saved_and_each_bad_row_is_reported(
    city: City,
) -> None:
    files = {"file": ("新华区.csv", CSV_WITH_PROBLEMS.encode("utf-8"), "text/csv")}
    r = await city.client.post("/api/v1/kb/import", files=files, headers=city.headers("h_xinhua"))
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["created"] == ["XH-10", "XH-14"] and report["accepted"] == 2
    assert report["rejected"] == 5
    problems = {e["location"].split(" ")[0].split("：")[0]: e for e in report["errors"]}
    assert set(problems) == {"第3行", "第4行", "第5行", "第6行", "第7行"}
    assert "title" in problems["第3行"]["message"] and problems["第3行"]["field"] == "title"
    assert "YYYY-MM-DD" in problems["第4行"]["message"]
    assert problems["第5行"]["error"] == "kb-not-owner"
    assert problems["第6行"]["error"] == "kb-unknown-unit"
    assert "重复" in problems["第7行"]["message"]

    listed = (await city.get("agent", "/kb/articles", params={"unit": "xinhua"})).json()["articles"]
    assert [(a["id"], a["tags"]) for a in listed] == [("XH-10", ["户籍"]), ("XH-14", ["城管", "投诉"])]
    history = (await city.get("agent", "/kb/articles/XH-14/history")).json()["versions"]
    assert history[0]["action"] == "import" and history[0]["changed_by"] == "h_xinhua"

    bad_file = {"file": ("x.json", b"[{", "application/json")}
    r = await city.client.post("/api/v1/kb/import", files=bad_file, headers=city.headers("h_xinhua"))
    assert r.status_code == 422 and r.json()["error"] == "kb-bad-import" and "第1行" in r.json()["message"]
    not_utf8 = {"file": ("x.csv", "id,title\r\n".encode("gbk") + "编号".encode("gbk"), "text/csv")}
    r = await city.client.post("/api/v1/kb/import", files=not_utf8, headers=city.headers("h_xinhua"))
    assert r.status_code == 422 and r.json()["error"] == "kb-bad-encoding"


@pytest.mark.parametrize("fmt", ["csv", "markdown", "json"])
async def test_given_an_export_when_reimported_then_nothing_changes_and_edits_become_new_versions(
    city: City, fmt: str
) -> None:
    await _create(city, "h_housing", SEWER)
    await _create(city, "h_xinhua", {**PENSION, "valid_to": "2027-06-30"})
    r = await city.get("supervisor", "/kb/export", params={"format": fmt})
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    exported = r.text
    assert "小区污水管堵塞的报修" in exported and "新华区老年人高龄津贴申领" in exported
    name = {"csv": "kb.csv", "markdown": "kb.md", "json": "kb.json"}[fmt]

    async def reimport(content: str) -> dict[str, Any]:
        files = {"file": (name, content.encode("utf-8"), "text/plain")}
        r = await city.client.post("/api/v1/kb/import", files=files, headers=city.headers("supervisor"))
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    report = await reimport(exported)
    assert sorted(report["unchanged"]) == ["XH-01", "ZJ-01"] and report["errors"] == []
    report = await reimport(exported.replace("每月发放", "按季度发放"))
    assert report["updated"] == ["XH-01"] and report["unchanged"] == ["ZJ-01"]
    article = (await city.get("agent", "/kb/articles/XH-01")).json()
    assert article["version"] == 2 and "按季度发放" in article["body"] and article["valid_to"] == "2027-06-30"
    if fmt == "json":
        assert {a["id"] for a in json.loads(exported)} == {"XH-01", "ZJ-01"}


class RedisLink:
    """A TCP relay to the real Redis that the test can cut (a worker losing its Redis link)."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.up = True
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not self.up:
            writer.close()
            return
        up_reader, up_writer = await asyncio.open_connection(*self.target)
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def cut(self) -> None:
        self.up = False
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def stop(self) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()


async def test_given_a_worker_that_lost_redis_when_it_reconnects_then_it_catches_up_from_the_database(
    settings: Settings, clock: FixedClock, db_session: AsyncSession
) -> None:
    scope = shared_session(db_session)
    channel = f"minhu-test:{uuid.uuid4().hex[:8]}:kb:changed"
    parsed = make_url(REDIS_URL)
    link = RedisLink(parsed.host or "127.0.0.1", parsed.port or 6379)
    await link.start()
    cut_off = f"redis://127.0.0.1:{link.port}/{parsed.database or 0}"
    try:
        async with (
            running_app(settings, clock, scope, channel) as (_first, client_a),
            running_app(settings, clock, scope, channel, cut_off) as (second, _client_b),
        ):
            await eventually(lambda: second.state.kb.followed.is_set(), what="second worker subscribed")
            link.cut()
            await eventually(lambda: not second.state.kb.followed.is_set(), what="second worker lost Redis")
            city = await _city(db_session, client_a, clock, settings)
            await _create(city, "h_housing", SEWER)  # announced while the second worker cannot hear
            link.up = True

            def second_finds() -> bool:
                index = second.state.kb.index
                return index is not None and "ZJ-01" in index

            await eventually(second_finds, what="second worker rebuilt its index after reconnecting")
    finally:
        await link.stop()

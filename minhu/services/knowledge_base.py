"""The knowledge base kept in the database (第二十二条: units enter laws, policies and standard answers
and keep them current): articles, their append-only version history, who may change what, the
review flags, import/export, and the per-process search index kept in step with the tables.

Who may write: supervisors (指挥中心) and administrators every article; a unit handler only the
articles of their own unit (403 ``kb-not-owner`` otherwise); intake agents read and search only.
Every change is a new version (``kb_article_versions``: who, when, each field's old and new
value, the article afterwards) and an audit entry (``audit_entries``, action ``kb_*``).

The search index (:class:`KbIndex`) is one per process. It is built from the database at start-up
and updated by the service after each commit in this process. Other processes (``minhu serve
--workers N``) learn of a change through Redis pub/sub: the service publishes the article's key on
``<prefix>:kb:changed`` and :class:`KbIndex.follow` re-reads that article from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from knowledge_base import (
    Article,
    ArticleFlag,
    ArticleVersion,
    FieldChange,
    IndexSettings,
    ReviewPolicy,
    SearchIndex,
    formats,
)
from knowledge_base import articles as kb_rules
from knowledge_base.errors import ArticleFormatError, InvalidArticle
from minhu.db.kb_models import KbArticleRow, KbArticleVersionRow
from minhu.db.mapping import unit_id_of
from minhu.db.models import Unit
from minhu.db.repositories.audit import AuditRepository
from minhu.logging import get_logger
from workorders.clock import Clock
from workorders.enums import Role
from workorders.model import Actor
from workorders.policy import PolicyProfile

from .errors import BadInput, Conflict, Forbidden, NotFound, UnknownReference

log = get_logger(__name__)

EDITOR_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN, Role.UNIT_HANDLER})
ALL_UNITS_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
EXPIRED = "expired"
ACTIVE = "active"


def review_policy(policy: PolicyProfile) -> ReviewPolicy:
    """The flagging intervals of the deployment's policy profile."""
    return ReviewPolicy(
        review_interval_days=policy.kb_review_interval_days,
        expiry_warning_days=policy.kb_expiry_warning_days,
    )


def local_today(clock: Clock, policy: PolicyProfile) -> date:
    return clock.now().astimezone(policy.tz).date()


# --- rows and articles -----------------------------------------------------------------------------


def article_of(row: KbArticleRow) -> Article:
    return Article(
        id=row.article_key,
        title=row.title,
        body=row.body,
        unit_id=row.unit_code,
        tags=tuple(row.tags or ()),
        valid_from=row.valid_from,
        valid_to=row.valid_to,
        version=row.version,
        updated_by=row.updated_by,
        updated_at=row.updated_at,
        reviewed_at=row.reviewed_at,
    )


def snapshot_of(article: Article, status: str) -> dict[str, Any]:
    return {
        "id": article.id,
        "title": article.title,
        "body": article.body,
        "unit_id": article.unit_id,
        "tags": list(article.tags),
        "valid_from": article.valid_from.isoformat(),
        "valid_to": None if article.valid_to is None else article.valid_to.isoformat(),
        "version": article.version,
        "status": status,
        "reviewed_at": None if article.reviewed_at is None else article.reviewed_at.isoformat(),
    }


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article as stored: the record, its status (``active``/``expired``) and its flags today."""

    article: Article
    status: str
    review_state: str
    flags: frozenset[ArticleFlag]


@dataclass(frozen=True, slots=True)
class VersionRecord:
    version: int
    action: str
    changed_at: datetime
    changed_by: str
    changed_by_role: str
    changed_by_unit: str | None
    changes: tuple[dict[str, str], ...]
    note: str


@dataclass(frozen=True, slots=True)
class ImportProblem:
    """One row not accepted: where (line / item), which field, and why (Chinese)."""

    location: str
    field: str
    line: int | None
    message: str
    code: str = "kb-bad-import"


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did. Every row is in exactly one of created, updated, unchanged, errors."""

    created: tuple[str, ...]
    updated: tuple[str, ...]
    unchanged: tuple[str, ...]
    errors: tuple[ImportProblem, ...]


# --- the live index --------------------------------------------------------------------------------


class SessionScope(Protocol):
    def __call__(self) -> contextlib.AbstractAsyncContextManager[AsyncSession]: ...


class KbIndex:
    """The process's search index over the database's articles. ``index`` is None until there is
    at least one article (jieba's dictionary is loaded only when something can be found)."""

    def __init__(self, *, clock: Clock, policy: PolicyProfile, channel: str) -> None:
        self.clock = clock
        self.policy = policy
        self.channel = channel
        self.index: SearchIndex | None = None
        self._build_lock = asyncio.Lock()
        self.followed = asyncio.Event()

    def _new_index(self) -> SearchIndex:
        return SearchIndex(
            settings=IndexSettings(review=review_policy(self.policy)),
            clock=lambda: local_today(self.clock, self.policy),
        )

    async def load(self, scope: SessionScope) -> int:
        """(Re)build from the database; the number of searchable articles."""
        async with scope() as session:
            count = (
                await session.execute(
                    select(func.count()).select_from(KbArticleRow).where(KbArticleRow.status == ACTIVE)
                )
            ).scalar_one()
            if not count:
                return 0
            rows = (
                (await session.execute(select(KbArticleRow).where(KbArticleRow.status == ACTIVE)))
                .scalars()
                .all()
            )
            found = [article_of(row) for row in rows]
        async with self._build_lock:
            index = self.index if self.index is not None else await asyncio.to_thread(self._new_index)
            await asyncio.to_thread(index.rebuild, found)
            self.index = index
        log.info("kb.index_built", articles=len(found))
        return len(found)

    async def apply(self, article: Article, status: str) -> None:
        """Bring one article up to date in the index (an expired one is taken out)."""
        async with self._build_lock:
            if status != ACTIVE:
                if self.index is not None:
                    self.index.remove(article.id)
                return
            if self.index is None:
                self.index = await asyncio.to_thread(self._new_index)
            self.index.upsert(article)

    async def refresh(self, scope: SessionScope, article_key: str) -> None:
        """Re-read one article from the database (a change made by another process)."""
        async with scope() as session:
            row = (
                await session.execute(select(KbArticleRow).where(KbArticleRow.article_key == article_key))
            ).scalar_one_or_none()
            if row is None:
                return
            article, status = article_of(row), row.status
        await self.apply(article, status)

    async def follow(self, redis: aioredis.Redis, scope: SessionScope) -> None:
        """Apply the changes other processes announce on ``channel`` until cancelled."""
        pubsub = redis.pubsub()
        await pubsub.subscribe(self.channel)
        self.followed.set()
        try:
            async for message in pubsub.listen():
                if message.get("type") != "message":
                    continue
                data = message["data"]
                key = data.decode() if isinstance(data, bytes) else str(data)
                try:
                    await self.refresh(scope, key)
                except Exception:  # one bad refresh must not stop following; it is logged loudly
                    log.exception("kb.refresh_failed", article=key)
        finally:
            with contextlib.suppress(RedisError, RuntimeError, OSError, TimeoutError):
                async with asyncio.timeout(2.0):  # a dead link must not hold up shutdown
                    await pubsub.aclose()  # type: ignore[no-untyped-call]


class ChangeAnnouncer(Protocol):
    async def __call__(self, article_key: str) -> None: ...


def redis_announcer(redis: aioredis.Redis, channel: str) -> ChangeAnnouncer:
    async def announce(article_key: str) -> None:
        try:
            await redis.publish(channel, article_key)
        except RedisError as exc:  # the change is committed; other workers catch up at restart
            log.warning("kb.announce_failed", article=article_key, error=str(exc))

    return announce


# --- the service -----------------------------------------------------------------------------------


class KnowledgeBaseService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        clock: Clock,
        policy: PolicyProfile,
        index: KbIndex | None = None,
        announce: ChangeAnnouncer | None = None,
        via: str = "api",
    ) -> None:
        self._session = session
        self._clock = clock
        self._policy = policy
        self._index = index
        self._announce = announce
        self._via = via

    # -- reading ------------------------------------------------------------------------------

    def _stored(self, row: KbArticleRow, today: date) -> StoredArticle:
        article = article_of(row)
        found = set(kb_rules.flags(article, today, review_policy(self._policy)))
        if row.status == EXPIRED:
            found.add(ArticleFlag.EXPIRED)
            found.discard(ArticleFlag.EXPIRING_SOON)
        return StoredArticle(article, row.status, row.review_state, frozenset(found))

    async def _row(self, article_key: str, *, for_update: bool = False) -> KbArticleRow:
        stmt = select(KbArticleRow).where(KbArticleRow.article_key == article_key)
        if for_update:
            stmt = stmt.with_for_update()
        row = (await self._session.execute(stmt)).scalar_one_or_none()
        if row is None:
            raise NotFound("kb-article-not-found", f"知识条目 {article_key} 不存在", article=article_key)
        return row

    async def get(self, article_key: str) -> StoredArticle:
        return self._stored(await self._row(article_key), self._today())

    async def list_articles(
        self, *, unit_code: str | None = None, tag: str | None = None, include_expired: bool = True
    ) -> list[StoredArticle]:
        stmt = select(KbArticleRow).order_by(KbArticleRow.unit_code, KbArticleRow.article_key)
        if unit_code:
            stmt = stmt.where(KbArticleRow.unit_code == unit_code)
        if not include_expired:
            stmt = stmt.where(KbArticleRow.status == ACTIVE)
        today = self._today()
        rows = (await self._session.execute(stmt)).scalars().all()
        out = [self._stored(row, today) for row in rows]
        return [s for s in out if tag is None or tag in s.article.tags]

    async def flagged(self, actor: Actor, *, unit_code: str | None = None) -> list[StoredArticle]:
        """Articles needing their unit's attention: expired (or past valid_to), expiring soon, not
        yet valid, not reviewed within the policy's interval. A unit handler sees their own unit's."""
        if actor.role is Role.UNIT_HANDLER:
            unit_code = await self._unit_code_of(actor)
        return [s for s in await self.list_articles(unit_code=unit_code) if s.flags]

    async def history(self, article_key: str) -> list[VersionRecord]:
        row = await self._row(article_key)
        stmt = (
            select(KbArticleVersionRow)
            .where(KbArticleVersionRow.article_id == row.id)
            .order_by(KbArticleVersionRow.version)
        )
        return [
            VersionRecord(
                v.version,
                v.action,
                v.changed_at,
                v.changed_by,
                v.changed_by_role,
                v.changed_by_unit,
                tuple(dict(c) for c in v.changes),
                v.note,
            )
            for v in (await self._session.execute(stmt)).scalars().all()
        ]

    # -- permissions ----------------------------------------------------------------------------

    async def _unit_code_of(self, actor: Actor) -> str:
        if actor.unit_id is None:
            raise Forbidden("kb-no-unit", "账号未关联网络单位，不能维护知识库")
        unit = await self._session.get(Unit, unit_id_of(actor.unit_id))
        if unit is None:
            raise Forbidden("kb-no-unit", "账号关联的网络单位不存在，不能维护知识库")
        return unit.code

    async def _require_may_edit(self, actor: Actor, unit_code: str) -> str | None:
        """Raises unless ``actor`` may change articles of ``unit_code``; the actor's unit code."""
        if actor.role not in EDITOR_ROLES:
            raise Forbidden(
                "kb-forbidden-role", "只有网络单位承办人、指挥中心和系统管理员可以维护知识库（第二十二条）"
            )
        if actor.role in ALL_UNITS_ROLES:
            return None
        own = await self._unit_code_of(actor)
        if own != unit_code:
            raise Forbidden(
                "kb-not-owner",
                f"该知识条目由单位 {unit_code} 维护，本单位（{own}）只能维护自己的条目（第二十二条）",
                owner=unit_code,
            )
        return own

    async def _require_unit_exists(self, unit_code: str) -> None:
        found = (await self._session.execute(select(Unit.id).where(Unit.code == unit_code))).first()
        if found is None:
            raise UnknownReference("kb-unknown-unit", f"网络单位 {unit_code} 不存在", unit=unit_code)

    # -- writing ------------------------------------------------------------------------------

    def _today(self) -> date:
        return local_today(self._clock, self._policy)

    async def _record(
        self,
        row: KbArticleRow,
        record: ArticleVersion,
        *,
        actor: Actor,
        actor_unit: str | None,
        action: str,
    ) -> None:
        changes = [{"field": c.field, "old": c.old, "new": c.new} for c in record.changes]
        self._session.add(
            KbArticleVersionRow(
                article_id=row.id,
                article_key=row.article_key,
                version=record.version,
                action=action,
                changed_at=record.changed_at,
                changed_by=actor.user_id,
                changed_by_role=actor.role.value,
                changed_by_unit=actor_unit,
                changes=changes,
                snapshot=snapshot_of(record.snapshot, row.status),
                note=record.note,
            )
        )
        await AuditRepository(self._session).append_admin(
            action=f"kb_{action}",
            at=record.changed_at,
            actor_id=actor.user_id,
            actor_name=actor.name,
            actor_role=actor.role.value,
            via=self._via,
            details={
                "article": row.article_key,
                "version": record.version,
                "unit": row.unit_code,
                "fields": [c["field"] for c in changes],
            },
        )

    @staticmethod
    def _write(row: KbArticleRow, article: Article) -> None:
        row.title = article.title
        row.body = article.body
        row.unit_code = article.unit_id
        row.tags = list(article.tags)
        row.valid_from = article.valid_from
        row.valid_to = article.valid_to
        row.version = article.version
        row.updated_by = article.updated_by
        if article.updated_at is not None:
            row.updated_at = article.updated_at
        row.reviewed_at = article.reviewed_at

    async def _create(self, actor: Actor, draft: Article, *, action: str) -> tuple[KbArticleRow, Article]:
        await self._require_unit_exists(draft.unit_id)
        own = await self._require_may_edit(actor, draft.unit_id)
        now = self._clock.now()
        article, record = kb_rules.create(draft, by=actor.user_id, at=now)
        row = KbArticleRow(
            article_key=article.id,
            title=article.title,
            body=article.body,
            unit_code=article.unit_id,
            tags=list(article.tags),
            valid_from=article.valid_from,
            valid_to=article.valid_to,
            status=ACTIVE,
            review_state="reviewed" if article.reviewed_at is not None else "unreviewed",
            reviewed_at=article.reviewed_at,
            reviewed_by=None,
            version=1,
            created_at=now,
            created_by=actor.user_id,
            updated_at=now,
            updated_by=actor.user_id,
        )
        self._session.add(row)
        await self._session.flush()
        await self._record(row, record, actor=actor, actor_unit=own, action=action)
        return row, article

    async def _revise(
        self, actor: Actor, row: KbArticleRow, changes: dict[str, object], note: str, *, action: str
    ) -> Article | None:
        own = await self._require_may_edit(actor, row.unit_code)
        if "unit_id" in changes and changes["unit_id"] != row.unit_code:
            new_unit = str(changes["unit_id"])
            await self._require_unit_exists(new_unit)
            await self._require_may_edit(actor, new_unit)
        current = article_of(row)
        updated, record = kb_rules.revise(
            current, by=actor.user_id, at=self._clock.now(), note=note, **changes
        )
        if record is None:
            return None
        self._write(row, updated)
        await self._record(row, record, actor=actor, actor_unit=own, action=action)
        return updated

    async def _commit(self, changed: Iterable[tuple[Article, str]]) -> None:
        try:
            await self._session.commit()
        except IntegrityError as exc:
            await self._session.rollback()
            raise Conflict(
                "kb-concurrent-change", "知识条目刚被他人修改或编号已存在，请刷新后重试", reason=str(exc.orig)
            ) from exc
        for article, status in changed:
            if self._index is not None:
                await self._index.apply(article, status)
            if self._announce is not None:
                await self._announce(article.id)

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[None]:
        """Turns invalid values into 422s and leaves nothing half-written on failure."""
        try:
            yield
        except InvalidArticle as exc:
            await self._session.rollback()
            raise BadInput(exc.code, exc.message) from exc
        except BaseException:
            await self._session.rollback()
            raise

    async def create(self, actor: Actor, fields: dict[str, Any]) -> StoredArticle:
        """A new article at version 1. ``fields``: id (optional), title, body, unit_id, tags,
        valid_from, valid_to."""
        async with self._writing():
            key = str(fields.get("id") or f"KB-{uuid.uuid4().hex[:10].upper()}")
            exists = (
                await self._session.execute(select(KbArticleRow.id).where(KbArticleRow.article_key == key))
            ).first()
            if exists is not None:
                raise Conflict("kb-duplicate-id", f"知识条目编号 {key} 已存在", article=key)
            draft = Article(
                id=key,
                title=str(fields.get("title") or ""),
                body=str(fields.get("body") or ""),
                unit_id=str(fields.get("unit_id") or ""),
                tags=tuple(fields.get("tags") or ()),
                valid_from=fields.get("valid_from") or self._today(),
                valid_to=fields.get("valid_to"),
            )
            row, article = await self._create(actor, draft, action="create")
        await self._commit([(article, ACTIVE)])
        return self._stored(row, self._today())

    async def update(
        self,
        actor: Actor,
        article_key: str,
        changes: dict[str, object],
        *,
        expected_version: int,
        note: str = "",
    ) -> StoredArticle:
        """Change some fields; refused with 409 when the article moved past ``expected_version``."""
        async with self._writing():
            row = await self._row(article_key, for_update=True)
            self._check_version(row, expected_version)
            if row.status == EXPIRED:
                raise Conflict("kb-article-expired", f"知识条目 {article_key} 已失效，不能再修改")
            updated = await self._revise(actor, row, changes, note, action="update")
        await self._commit([] if updated is None else [(updated, row.status)])
        return self._stored(row, self._today())

    async def review(self, actor: Actor, article_key: str, *, expected_version: int) -> StoredArticle:
        """The owning unit confirms the content is still current (复核)."""
        async with self._writing():
            row = await self._row(article_key, for_update=True)
            self._check_version(row, expected_version)
            own = await self._require_may_edit(actor, row.unit_code)
            updated, record = kb_rules.mark_reviewed(article_of(row), by=actor.user_id, at=self._clock.now())
            self._write(row, updated)
            row.review_state = "reviewed"
            row.reviewed_by = actor.user_id
            await self._record(row, record, actor=actor, actor_unit=own, action="review")
        await self._commit([(updated, row.status)])
        return self._stored(row, self._today())

    async def expire(
        self, actor: Actor, article_key: str, *, expected_version: int, on: date | None = None, note: str = ""
    ) -> StoredArticle:
        """Take an article out of force: its valid_to becomes ``on`` (default yesterday, so it is no
        longer valid today) and it leaves the search index. History is kept."""
        async with self._writing():
            row = await self._row(article_key, for_update=True)
            self._check_version(row, expected_version)
            if row.status == EXPIRED:
                raise Conflict("kb-article-expired", f"知识条目 {article_key} 已失效")
            own = await self._require_may_edit(actor, row.unit_code)
            if on is not None and on >= self._today():
                raise BadInput(
                    "kb-bad-expiry",
                    f"失效操作立即生效，最后有效日须早于今天（{self._today()}）；"
                    "将来的失效请修改条目的失效日期（valid_to）",
                )
            last_day = on or self._today() - timedelta(days=1)
            if row.valid_to is not None and row.valid_to < last_day:
                last_day = row.valid_to
            now = self._clock.now()
            current = article_of(row)
            updated, record = kb_rules.revise(
                current, by=actor.user_id, at=now, note=note or "失效", valid_to=last_day
            )
            if record is None:  # valid_to already ended earlier: only the status changes
                updated = dataclasses.replace(
                    current, version=current.version + 1, updated_by=actor.user_id, updated_at=now
                )
                record = ArticleVersion(
                    current.id, updated.version, actor.user_id, now, (), updated, note or "失效"
                )
            record = dataclasses.replace(
                record, changes=(*record.changes, FieldChange("status", ACTIVE, EXPIRED))
            )
            row.status = EXPIRED
            self._write(row, updated)
            await self._record(row, record, actor=actor, actor_unit=own, action="expire")
        await self._commit([(updated, EXPIRED)])
        return self._stored(row, self._today())

    @staticmethod
    def _check_version(row: KbArticleRow, expected: int) -> None:
        if row.version != expected:
            raise Conflict(
                "kb-version-conflict",
                f"知识条目 {row.article_key} 已更新到第{row.version}版"
                f"（您编辑的是第{expected}版），请刷新后再改",
                current_version=row.version,
            )

    # -- import / export ----------------------------------------------------------------------

    async def import_text(self, actor: Actor, fmt: str, text: str) -> ImportReport:
        """Import a CSV / Markdown / JSON file. Rows that are valid and the actor may write are saved
        (new articles created, existing ones revised as a new version); every other row is reported
        with its location and reason. A file unreadable as a whole is refused (422)."""
        if actor.role not in EDITOR_ROLES:
            raise Forbidden(
                "kb-forbidden-role", "只有网络单位承办人、指挥中心和系统管理员可以维护知识库（第二十二条）"
            )
        try:
            parsed = formats.parse(fmt, text, default_time=self._clock.now())
        except ArticleFormatError as exc:
            raise BadInput("kb-bad-import", exc.message, location=exc.location) from exc
        problems = [ImportProblem(e.location, e.field, e.line, e.message) for e in parsed.errors]
        created: list[str] = []
        updated: list[str] = []
        unchanged: list[str] = []
        changed: list[tuple[Article, str]] = []
        async with self._writing():
            for location, article in parsed.rows:
                try:
                    async with self._session.begin_nested():
                        outcome = await self._import_one(actor, article)
                except (Forbidden, UnknownReference, Conflict, InvalidArticle) as exc:
                    problems.append(
                        ImportProblem(
                            location,
                            "unit_id" if "unit" in exc.code else "",
                            None,
                            f"{location}：{exc.message}",
                            exc.code,
                        )
                    )
                    continue
                kind, stored = outcome
                {"created": created, "updated": updated, "unchanged": unchanged}[kind].append(article.id)
                if stored is not None:
                    changed.append(stored)
        await self._commit(changed)
        problems.sort(key=lambda p: (p.line is None, p.line or 0, p.location))
        return ImportReport(tuple(created), tuple(updated), tuple(unchanged), tuple(problems))

    async def _import_one(self, actor: Actor, article: Article) -> tuple[str, tuple[Article, str] | None]:
        row = (
            await self._session.execute(select(KbArticleRow).where(KbArticleRow.article_key == article.id))
        ).scalar_one_or_none()
        if row is None:
            draft = dataclasses.replace(article, version=1)
            _row, made = await self._create(actor, draft, action="import")
            return "created", (made, ACTIVE)
        if row.status == EXPIRED:
            raise Conflict("kb-article-expired", f"知识条目 {article.id} 已失效，不能再导入修改")
        changes = {name: getattr(article, name) for name in kb_rules.EDITABLE_FIELDS}
        revised = await self._revise(actor, row, changes, "导入", action="import")
        if revised is None:
            return "unchanged", None
        return "updated", (revised, row.status)

    async def export_text(
        self, fmt: str, *, unit_code: str | None = None, include_expired: bool = False
    ) -> str:
        stored = await self.list_articles(unit_code=unit_code, include_expired=include_expired)
        articles = [s.article for s in stored]
        writers: dict[str, Callable[[Sequence[Article]], str]] = {
            "csv": formats.write_csv,
            "json": formats.write_json,
            "markdown": formats.write_markdown,
        }
        writer = writers.get(fmt)
        if writer is None:
            raise BadInput("kb-bad-format", f"不支持的格式 {fmt}（应为 csv、markdown 或 json）")
        return writer(articles)

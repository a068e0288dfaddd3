"""Knowledge-base articles (第二十二条: units enter laws, policies and standard answers and keep them
current), their version history and the pure rules that flag an article as out of date.

Everything here is a pure function over frozen dataclasses; ``today`` / ``at`` are always passed in.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from datetime import date, datetime

from knowledge_base.errors import InvalidArticle, NotOwningUnit


@dataclass(frozen=True, slots=True)
class Article:
    """One knowledge-base entry (知识条目). ``valid_to`` None means open-ended; both dates inclusive."""

    id: str
    title: str
    body: str
    unit_id: str
    tags: tuple[str, ...] = ()
    valid_from: date = date(2000, 1, 1)
    valid_to: date | None = None
    version: int = 1
    updated_by: str = ""
    updated_at: datetime | None = None
    reviewed_at: datetime | None = None

    def __post_init__(self) -> None:
        if not self.id.strip():
            raise InvalidArticle("kb-empty-id", "知识条目编号不能为空")
        if not self.title.strip():
            raise InvalidArticle("kb-empty-title", f"知识条目 {self.id} 的标题不能为空", article_id=self.id)
        if not self.unit_id.strip():
            raise InvalidArticle("kb-empty-unit", f"知识条目 {self.id} 须注明责任单位", article_id=self.id)
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise InvalidArticle(
                "kb-bad-validity",
                f"知识条目 {self.id} 的失效日期 {self.valid_to} 早于生效日期 {self.valid_from}",
                article_id=self.id,
            )
        if self.version < 1:
            raise InvalidArticle(
                "kb-bad-version", f"知识条目 {self.id} 的版本号须从1开始", article_id=self.id
            )
        for stamp in (self.updated_at, self.reviewed_at):
            if stamp is not None and stamp.tzinfo is None:
                raise InvalidArticle("kb-naive-datetime", "时间须带时区", article_id=self.id)


class ArticleFlag(enum.StrEnum):
    """Why an article needs its unit's attention."""

    EXPIRED = "expired"  # 已失效
    NOT_YET_VALID = "not_yet_valid"  # 未生效
    UNREVIEWED = "unreviewed"  # 超期未复核
    EXPIRING_SOON = "expiring_soon"  # 即将失效


FLAG_LABELS: dict[ArticleFlag, str] = {
    ArticleFlag.EXPIRED: "已失效",
    ArticleFlag.NOT_YET_VALID: "未生效",
    ArticleFlag.UNREVIEWED: "超期未复核",
    ArticleFlag.EXPIRING_SOON: "即将失效",
}


@dataclass(frozen=True, slots=True)
class ReviewPolicy:
    """Settings for flagging. ``review_interval_days``: an article not reviewed (or changed) for longer
    is flagged unreviewed; ``expiry_warning_days``: how early an approaching valid_to is flagged."""

    review_interval_days: int = 180
    expiry_warning_days: int = 30


def is_valid_on(article: Article, today: date) -> bool:
    """In force on ``today`` (valid_from ≤ today ≤ valid_to)."""
    return article.valid_from <= today and (article.valid_to is None or today <= article.valid_to)


def last_checked(article: Article) -> datetime | None:
    """When the owning unit last confirmed the content: the later of review and update."""
    stamps = [s for s in (article.reviewed_at, article.updated_at) if s is not None]
    return max(stamps) if stamps else None


def flags(article: Article, today: date, policy: ReviewPolicy = ReviewPolicy()) -> frozenset[ArticleFlag]:
    """Every flag that applies to ``article`` on ``today``."""
    found: set[ArticleFlag] = set()
    if article.valid_to is not None and today > article.valid_to:
        found.add(ArticleFlag.EXPIRED)
    elif article.valid_to is not None and (article.valid_to - today).days <= policy.expiry_warning_days:
        found.add(ArticleFlag.EXPIRING_SOON)
    if today < article.valid_from:
        found.add(ArticleFlag.NOT_YET_VALID)
    checked = last_checked(article)
    if checked is None or (today - checked.date()).days > policy.review_interval_days:
        found.add(ArticleFlag.UNREVIEWED)
    return frozenset(found)


# --- version history -------------------------------------------------------------------------------

EDITABLE_FIELDS = ("title", "body", "unit_id", "tags", "valid_from", "valid_to")


@dataclass(frozen=True, slots=True)
class FieldChange:
    """One field's old and new value, as text (what an audit view shows)."""

    field: str
    old: str
    new: str


@dataclass(frozen=True, slots=True)
class ArticleVersion:
    """An immutable history record: who made version ``version`` of an article, when, and what changed.
    ``snapshot`` is the article as it was after the change."""

    article_id: str
    version: int
    changed_by: str
    changed_at: datetime
    changes: tuple[FieldChange, ...]
    snapshot: Article = field(repr=False)
    note: str = ""


def _as_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, tuple):
        return "；".join(str(v) for v in value)
    return str(value)


def create(article: Article, *, by: str, at: datetime) -> tuple[Article, ArticleVersion]:
    """A new article at version 1 and its first history record."""
    if at.tzinfo is None:
        raise InvalidArticle("kb-naive-datetime", "时间须带时区")
    first = dataclasses.replace(article, version=1, updated_by=by, updated_at=at)
    changes = tuple(FieldChange(name, "", _as_text(getattr(first, name))) for name in EDITABLE_FIELDS)
    return first, ArticleVersion(first.id, 1, by, at, changes, first, note="新建")


def ensure_may_edit(article: Article, unit_id: str) -> None:
    """Units edit only their own articles (第二十二条)."""
    if article.unit_id != unit_id:
        raise NotOwningUnit(
            "kb-not-owner",
            f"知识条目 {article.id} 由 {article.unit_id} 维护，本单位（{unit_id}）不能修改（第二十二条）",
            article_id=article.id,
            owner=article.unit_id,
            unit_id=unit_id,
        )


def revise(
    article: Article, *, by: str, at: datetime, note: str = "", **changes: object
) -> tuple[Article, ArticleVersion | None]:
    """Apply ``changes`` (fields from ``EDITABLE_FIELDS``) and return the next version with its record.
    Returns ``(article, None)`` when nothing actually changes."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidArticle("kb-unknown-field", f"不能修改字段：{'、'.join(unknown)}", fields=unknown)
    if at.tzinfo is None:
        raise InvalidArticle("kb-naive-datetime", "时间须带时区")
    if "tags" in changes:
        changes["tags"] = tuple(changes["tags"])  # type: ignore[arg-type]
    diff = tuple(
        FieldChange(name, _as_text(getattr(article, name)), _as_text(value))
        for name, value in changes.items()
        if getattr(article, name) != value
    )
    if not diff:
        return article, None
    updated = dataclasses.replace(
        article,
        **changes,  # type: ignore[arg-type]
        version=article.version + 1,
        updated_by=by,
        updated_at=at,
    )
    return updated, ArticleVersion(updated.id, updated.version, by, at, diff, updated, note=note)


def mark_reviewed(article: Article, *, by: str, at: datetime) -> tuple[Article, ArticleVersion]:
    """The owning unit confirms the content is still current (复核); recorded as its own version."""
    if at.tzinfo is None:
        raise InvalidArticle("kb-naive-datetime", "时间须带时区")
    old = _as_text(article.reviewed_at)
    updated = dataclasses.replace(article, version=article.version + 1, updated_by=by, reviewed_at=at)
    record = ArticleVersion(
        updated.id,
        updated.version,
        by,
        at,
        (FieldChange("reviewed_at", old, at.isoformat()),),
        updated,
        "复核",
    )
    return updated, record

"""``/api/v1/kb``: the knowledge base (知识库, 第二十二条) — search for agents, and the articles units
keep current: create, edit, review, expire, version history, flagged articles, import and export.

A thin layer over :class:`minhu.services.knowledge_base.KnowledgeBaseService` (rules, permissions,
history) and the process's :class:`~minhu.services.knowledge_base.KbIndex` (``app.state.kb``,
built from the database at start-up). Titles and snippets of search hits come back as escaped
HTML with ``<em>`` around the matched words (``title_html``, ``snippet_html``), and as plain text.
"""

from __future__ import annotations

import html
import re
from datetime import date
from pathlib import PurePath
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Query, Request, UploadFile
from fastapi.responses import Response
from pydantic import BaseModel, Field

from knowledge_base import SearchHit
from minhu.services.errors import BadInput
from minhu.services.knowledge_base import (
    ImportReport,
    KbIndex,
    KnowledgeBaseService,
    StoredArticle,
    VersionRecord,
)

from ..deps import ActorDep, CurrentUser, SessionDep
from ..errors import responses

router = APIRouter(prefix="/kb", tags=["kb 知识库"])

_TAGS = re.compile(r"<[^>]+>")
Format = Literal["csv", "markdown", "json"]
_SUFFIX_FORMAT: dict[str, Format] = {
    ".csv": "csv",
    ".md": "markdown",
    ".markdown": "markdown",
    ".json": "json",
}
_MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "markdown": "text/markdown; charset=utf-8",
    "json": "application/json",
}
_EXT = {"csv": "csv", "markdown": "md", "json": "json"}
MAX_IMPORT_BYTES = 200 * 1024


def _index(request: Request) -> KbIndex | None:
    index: KbIndex | None = getattr(request.app.state, "kb", None)
    return index


async def kb_service(request: Request, session: SessionDep) -> KnowledgeBaseService:
    state = request.app.state
    return KnowledgeBaseService(
        session,
        clock=state.clock,
        policy=state.policy,
        index=_index(request),
        announce=getattr(state, "kb_announce", None),
    )


KbDep = Annotated[KnowledgeBaseService, Depends(kb_service)]


# --- bodies ----------------------------------------------------------------------------------------


class ArticleIn(BaseModel):
    id: str | None = Field(default=None, max_length=64, description="条目编号；不填则自动生成")
    title: str = Field(min_length=1, max_length=300)
    body: str = Field(default="", max_length=50_000)
    unit_id: str = Field(min_length=1, max_length=64, description="责任单位代码（units.code）")
    tags: list[str] = Field(default_factory=list, max_length=30)
    valid_from: date | None = None
    valid_to: date | None = None


class ArticlePatch(BaseModel):
    version: int = Field(ge=1, description="所编辑的版本号（防止覆盖他人的修改）")
    title: str | None = Field(default=None, min_length=1, max_length=300)
    body: str | None = Field(default=None, max_length=50_000)
    unit_id: str | None = Field(default=None, min_length=1, max_length=64)
    tags: list[str] | None = Field(default=None, max_length=30)
    valid_from: date | None = None
    valid_to: date | None = None
    clear_valid_to: bool = Field(default=False, description="true：改为长期有效")
    note: str = Field(default="", max_length=500)


class VersionIn(BaseModel):
    version: int = Field(ge=1)


class ExpireIn(BaseModel):
    version: int = Field(ge=1)
    on: date | None = Field(default=None, description="最后有效日；不填则为昨天（今天起失效）")
    note: str = Field(default="", max_length=500)


# --- presenters ------------------------------------------------------------------------------------

_FLAG_LABELS = {
    "expired": "已失效",
    "not_yet_valid": "未生效",
    "unreviewed": "超期未复核",
    "expiring_soon": "即将失效",
}


def _article(stored: StoredArticle) -> dict[str, Any]:
    a = stored.article
    flags = sorted(f.value for f in stored.flags)
    return {
        "id": a.id,
        "title": a.title,
        "body": a.body,
        "unit_id": a.unit_id,
        "tags": list(a.tags),
        "valid_from": a.valid_from.isoformat(),
        "valid_to": None if a.valid_to is None else a.valid_to.isoformat(),
        "version": a.version,
        "status": stored.status,
        "review_state": stored.review_state,
        "reviewed_at": None if a.reviewed_at is None else a.reviewed_at.isoformat(),
        "updated_at": None if a.updated_at is None else a.updated_at.isoformat(),
        "updated_by": a.updated_by,
        "flags": flags,
        "flag_labels": [_FLAG_LABELS[f] for f in flags],
    }


def _version(v: VersionRecord) -> dict[str, Any]:
    return {
        "version": v.version,
        "action": v.action,
        "changed_at": v.changed_at.isoformat(),
        "changed_by": v.changed_by,
        "changed_by_role": v.changed_by_role,
        "changed_by_unit": v.changed_by_unit,
        "changes": list(v.changes),
        "note": v.note,
    }


def _report(report: ImportReport) -> dict[str, Any]:
    return {
        "created": list(report.created),
        "updated": list(report.updated),
        "unchanged": list(report.unchanged),
        "accepted": len(report.created) + len(report.updated) + len(report.unchanged),
        "rejected": len(report.errors),
        "errors": [
            {"location": e.location, "field": e.field, "line": e.line, "error": e.code, "message": e.message}
            for e in report.errors
        ],
    }


def _plain(html_text: str) -> str:
    return html.unescape(_TAGS.sub("", html_text))


def hit_json(hit: SearchHit) -> dict[str, Any]:
    """One search hit as the API and the desktop websocket show it."""
    return {
        "id": hit.article.id,
        "title": hit.article.title,
        "title_html": hit.title_html,
        "snippet": _plain(hit.snippet_html),
        "snippet_html": hit.snippet_html,
        "unit_id": hit.article.unit_id,
        "tags": list(hit.article.tags),
        "score": round(hit.score, 4),
        "matched_terms": list(hit.matched_terms),
        "flags": sorted(flag.value for flag in hit.flags),
    }


# --- search ----------------------------------------------------------------------------------------


@router.get("/search", responses=responses(401, 422))
async def search(
    request: Request,
    user: CurrentUser,
    q: Annotated[str, Query(min_length=1, max_length=200, description="检索词，如“养老保险 补缴”")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    tag: Annotated[list[str] | None, Query(description="只看带这些标签之一的条目")] = None,
    unit: Annotated[list[str] | None, Query(description="只看这些单位的条目")] = None,
) -> dict[str, Any]:
    """知识库检索：按相关度排序的有效条目，标题与摘要中命中的词以 ``<em>`` 标出。"""
    holder = _index(request)
    index = None if holder is None else holder.index
    if index is None or not len(index):
        return {"query": q, "hits": []}
    hits = index.search(q, tags=tag or None, unit_ids=unit or None, limit=limit)
    return {"query": q, "hits": [hit_json(hit) for hit in hits]}


# --- articles --------------------------------------------------------------------------------------


@router.get("/articles", responses=responses(401, 422))
async def list_articles(
    user: CurrentUser,
    kb: KbDep,
    unit: Annotated[str | None, Query(max_length=64)] = None,
    tag: Annotated[str | None, Query(max_length=50)] = None,
    include_expired: bool = True,
) -> dict[str, Any]:
    """知识条目列表（可按单位、标签筛选）。"""
    found = await kb.list_articles(unit_code=unit, tag=tag, include_expired=include_expired)
    return {"articles": [_article(s) for s in found]}


@router.post("/articles", status_code=201, responses=responses(401, 403, 409, 422))
async def create_article(actor: ActorDep, kb: KbDep, body: ArticleIn) -> dict[str, Any]:
    """新建知识条目（网络单位只能为本单位新建）。"""
    return _article(await kb.create(actor, body.model_dump()))


@router.get("/flagged", responses=responses(401, 422))
async def flagged(
    actor: ActorDep, kb: KbDep, unit: Annotated[str | None, Query(max_length=64)] = None
) -> dict[str, Any]:
    """需要处理的条目：已失效、即将失效、未生效、超期未复核（复核周期见政策配置）。网络单位只看本单位。"""
    return {"articles": [_article(s) for s in await kb.flagged(actor, unit_code=unit)]}


@router.get("/articles/{article_id}", responses=responses(401, 404))
async def get_article(user: CurrentUser, kb: KbDep, article_id: str) -> dict[str, Any]:
    return _article(await kb.get(article_id))


@router.patch("/articles/{article_id}", responses=responses(401, 403, 404, 409, 422))
async def update_article(actor: ActorDep, kb: KbDep, article_id: str, body: ArticlePatch) -> dict[str, Any]:
    """修改知识条目，生成新版本并记录修改人和修改内容。"""
    changes: dict[str, object] = body.model_dump(
        exclude_unset=True, exclude={"version", "note", "clear_valid_to"}
    )
    changes = {k: v for k, v in changes.items() if v is not None}
    if "tags" in changes:
        changes["tags"] = tuple(body.tags or ())
    if body.clear_valid_to:
        changes["valid_to"] = None
    stored = await kb.update(actor, article_id, changes, expected_version=body.version, note=body.note)
    return _article(stored)


@router.post("/articles/{article_id}/review", responses=responses(401, 403, 404, 409))
async def review_article(actor: ActorDep, kb: KbDep, article_id: str, body: VersionIn) -> dict[str, Any]:
    """复核：确认条目内容仍然有效。"""
    return _article(await kb.review(actor, article_id, expected_version=body.version))


@router.post("/articles/{article_id}/expire", responses=responses(401, 403, 404, 409, 422))
async def expire_article(actor: ActorDep, kb: KbDep, article_id: str, body: ExpireIn) -> dict[str, Any]:
    """使条目失效：不再出现在检索结果中，历史版本保留。"""
    stored = await kb.expire(actor, article_id, expected_version=body.version, on=body.on, note=body.note)
    return _article(stored)


@router.get("/articles/{article_id}/history", responses=responses(401, 404))
async def article_history(user: CurrentUser, kb: KbDep, article_id: str) -> dict[str, Any]:
    """版本历史：每一版的修改人、时间和各字段的修改前后内容。"""
    return {"id": article_id, "versions": [_version(v) for v in await kb.history(article_id)]}


# --- import / export -------------------------------------------------------------------------------


@router.post("/import", responses=responses(401, 403, 413, 422))
async def import_articles(
    actor: ActorDep,
    kb: KbDep,
    file: Annotated[UploadFile, File(description="CSV、Markdown 或 JSON 文件（UTF-8）")],
    format: Annotated[Format | None, Query(description="不填则按文件扩展名判断")] = None,
) -> dict[str, Any]:
    """导入知识条目。合格的行全部保存（新编号新建，已有编号生成新版本），不合格的行逐条报告位置和原因。"""
    fmt = format or _SUFFIX_FORMAT.get(PurePath(file.filename or "").suffix.lower())
    if fmt is None:
        raise BadInput("kb-bad-format", "无法判断文件格式，请用 .csv、.md 或 .json 文件，或指定 format")
    raw = await file.read(MAX_IMPORT_BYTES + 1)
    if len(raw) > MAX_IMPORT_BYTES:
        raise BadInput("kb-import-too-large", f"导入文件超过{MAX_IMPORT_BYTES // 1024}KB，请分批导入")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadInput(
            "kb-bad-encoding", f"文件不是 UTF-8 编码（第{exc.start + 1}个字节起），请另存为 UTF-8"
        ) from exc
    return _report(await kb.import_text(actor, fmt, text))


@router.get("/export", responses=responses(401, 422))
async def export_articles(
    user: CurrentUser,
    kb: KbDep,
    format: Format = "csv",
    unit: Annotated[str | None, Query(max_length=64)] = None,
    include_expired: bool = False,
) -> Response:
    """导出知识条目（可再导入）。"""
    text = await kb.export_text(format, unit_code=unit, include_expired=include_expired)
    return Response(
        content=text.encode("utf-8"),
        media_type=_MEDIA[format],
        headers={"Content-Disposition": f'attachment; filename="kb-{unit or "all"}.{_EXT[format]}"'},
    )

"""``/api/v1/kb/search``: the agent's knowledge-base search (知识库检索), a thin layer over
``knowledge_base.SearchIndex``.

The index is built once at start-up from ``MINHU_KB_ARTICLES_FILE`` (Markdown with front matter,
CSV or JSON, by the file's suffix; see ``knowledge_base.formats``). Without that setting the
index is empty and every search answers no hits. Titles and snippets come back as escaped HTML
with ``<em>`` around the matched words (``title_html``, ``snippet_html``), and as plain text.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from knowledge_base import SearchIndex
from knowledge_base.formats import read_csv, read_json, read_markdown
from minhu.logging import get_logger
from minhu.settings import Settings

from ..deps import CurrentUser
from ..errors import responses

log = get_logger(__name__)

router = APIRouter(prefix="/kb", tags=["kb 知识库"])

_READERS = {
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".csv": read_csv,
    ".json": read_json,
}
_TAGS = re.compile(r"<[^>]+>")


def build_index(settings: Settings) -> SearchIndex | None:
    """The index of ``settings.kb_articles_file`` (None when unset: no analyser is loaded). A file
    that is missing, of an unknown format or invalid is an error at start-up, not an empty search
    later."""
    if not settings.kb_articles_file:
        return None
    index = SearchIndex()
    path = Path(settings.kb_articles_file)
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise ValueError(
            f"MINHU_KB_ARTICLES_FILE: 不支持的知识库文件格式 {path.suffix}（应为 .md、.csv 或 .json）"
        )
    articles = reader(path.read_text(encoding="utf-8"))
    index.rebuild(articles)
    log.info("kb.index_built", file=str(path), articles=len(articles))
    return index


def _plain(html_text: str) -> str:
    return html.unescape(_TAGS.sub("", html_text))


@router.get("/search", responses=responses(401, 422))
async def search(
    request: Request,
    user: CurrentUser,
    q: Annotated[str, Query(min_length=1, max_length=200, description="检索词，如“养老保险 补缴”")],
    limit: Annotated[int, Query(ge=1, le=50)] = 10,
    tag: Annotated[list[str] | None, Query(description="只看带这些标签之一的条目")] = None,
) -> dict[str, Any]:
    """知识库检索：按相关度排序的有效条目，标题与摘要中命中的词以 ``<em>`` 标出。"""
    index: SearchIndex | None = getattr(request.app.state, "kb", None)
    if index is None or not len(index):
        return {"query": q, "hits": []}
    hits = index.search(q, tags=tag or None, limit=limit)
    return {
        "query": q,
        "hits": [
            {
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
            for hit in hits
        ],
    }

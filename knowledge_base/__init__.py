"""Knowledge-base articles (Art. 22: units keep laws, policies and standard answers current) and the
Chinese search agents use while answering (Art. 8's A-class answers).

- ``articles``: the ``Article`` record, validity and review flags, immutable version history.
- ``formats``: import/export as CSV, Markdown (front matter + body) and JSON.
- ``analysis``: jieba segmentation with the hotline dictionary, stop words, synonyms (``data/``).
- ``index``: the in-memory BM25 index (filters, highlighted snippets, live-transcript suggestions),
  fed from any ``ArticleSource``; storage stays outside.
"""

from knowledge_base.articles import (
    Article,
    ArticleFlag,
    ArticleVersion,
    FieldChange,
    ReviewPolicy,
    create,
    ensure_may_edit,
    flags,
    is_valid_on,
    mark_reviewed,
    revise,
)
from knowledge_base.errors import ArticleFormatError, InvalidArticle, KnowledgeBaseError, NotOwningUnit
from knowledge_base.index import ArticleSource, IndexSettings, MemorySource, SearchHit, SearchIndex

__all__ = [
    "Article",
    "ArticleFlag",
    "ArticleFormatError",
    "ArticleSource",
    "ArticleVersion",
    "FieldChange",
    "IndexSettings",
    "InvalidArticle",
    "KnowledgeBaseError",
    "MemorySource",
    "NotOwningUnit",
    "ReviewPolicy",
    "SearchHit",
    "SearchIndex",
    "create",
    "ensure_may_edit",
    "flags",
    "is_valid_on",
    "mark_reviewed",
    "revise",
]

"""Knowledge-base errors. Each carries a stable slug (``code``) and a Chinese message a person can act on;
HTTP codes are mapped at the edge, never here."""

from __future__ import annotations


class KnowledgeBaseError(Exception):
    """Base of every error the knowledge base raises. ``code`` is never renamed."""

    def __init__(self, code: str, message: str, **details: object) -> None:
        super().__init__(f"[{code}] {message}")
        self.code = code
        self.message = message
        self.details: dict[str, object] = dict(details)


class ArticleFormatError(KnowledgeBaseError):
    """An imported file or a field in it is malformed. ``location`` names the line / item and field."""

    def __init__(self, location: str, problem: str, *, field: str = "", line: int | None = None) -> None:
        super().__init__("kb-bad-import", f"{location}：{problem}", field=field, line=line)
        self.location = location
        self.problem = problem
        self.field = field
        self.line = line


class NotOwningUnit(KnowledgeBaseError):
    """A unit tried to change an article another unit owns."""


class InvalidArticle(KnowledgeBaseError):
    """A value given for an article is invalid (empty title, valid_to before valid_from, ...)."""

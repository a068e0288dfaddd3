"""Import and export of articles as CSV, Markdown (front matter + body) and JSON.

Import errors name where the problem is (CSV line and column, Markdown line, JSON item and field) in
Chinese, so the unit that prepared the file can fix it. Exports round-trip through the importers.

Fields: ``id``, ``title``, ``body``, ``unit_id``, ``tags``, ``valid_from``, ``valid_to``, ``version``,
``updated_by``, ``updated_at``, ``reviewed_at``. Required: id, title, unit_id, valid_from. Dates are
``YYYY-MM-DD``; times ISO 8601 with an offset (a time without one is read as Asia/Shanghai).
In CSV, tags are separated by ``;`` / ``；`` / ``|``; in Markdown front matter they are ``[a, b]``.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from knowledge_base.articles import Article
from knowledge_base.errors import ArticleFormatError, InvalidArticle

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIELDS = (
    "id",
    "title",
    "body",
    "unit_id",
    "tags",
    "valid_from",
    "valid_to",
    "version",
    "updated_by",
    "updated_at",
    "reviewed_at",
)
REQUIRED = ("id", "title", "unit_id", "valid_from")
_TAG_SPLIT = re.compile(r"[;；|,，、]")


# --- field parsing shared by the three formats ---------------------------------------------------


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"日期“{text}”格式不对，应为 YYYY-MM-DD") from None


def _parse_datetime(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"时间“{text}”格式不对，应为 ISO 8601，如 2025-03-01T09:30:00+08:00") from None
    return value if value.tzinfo is not None else value.replace(tzinfo=SHANGHAI)


def _parse_tags(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        items = [str(v) for v in value]
    elif isinstance(value, str):
        items = _TAG_SPLIT.split(value)
    else:
        raise ValueError("标签应为文字列表")
    return tuple(t.strip() for t in items if t.strip())


def _build(raw: Mapping[str, Any], where: Callable[[str], str], default_time: datetime | None) -> Article:
    """An Article from loosely typed values; ``where(field)`` says where a field came from."""
    for name in REQUIRED:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip()):
            raise ArticleFormatError(where(name), f"缺少必填字段 {name}", field=name)
    values: dict[str, Any] = {}
    for name in FIELDS:
        value = raw.get(name)
        if value is None or (isinstance(value, str) and not value.strip() and name not in ("body",)):
            continue
        try:
            if name in ("valid_from", "valid_to"):
                values[name] = _parse_date(str(value))
            elif name in ("updated_at", "reviewed_at"):
                values[name] = _parse_datetime(str(value))
            elif name == "version":
                if isinstance(value, bool) or not str(value).strip().isdigit():
                    raise ValueError(f"版本号“{value}”应为正整数")
                values[name] = int(str(value).strip())
            elif name == "tags":
                values[name] = _parse_tags(value)
            else:
                if not isinstance(value, str | int):
                    raise ValueError("应为文字")
                values[name] = str(value) if name == "body" else str(value).strip()
        except ValueError as exc:
            raise ArticleFormatError(where(name), str(exc), field=name) from None
    if "updated_at" not in values and default_time is not None:
        values["updated_at"] = default_time
    values.setdefault("body", "")
    try:
        return Article(**values)
    except InvalidArticle as exc:
        field = "valid_to" if exc.code == "kb-bad-validity" else ""
        raise ArticleFormatError(where(field or "id"), exc.message, field=field) from None


def _to_text(article: Article, name: str) -> str:
    value = getattr(article, name)
    if value is None:
        return ""
    if name == "tags":
        return ";".join(value)
    if isinstance(value, date | datetime):
        return value.isoformat()
    return str(value)


def _check_unique(
    articles: list[Article], locations: list[str], errors: list[ArticleFormatError] | None = None
) -> list[tuple[str, Article]]:
    """The articles with their locations; a repeated id is an error (collected: the later row is
    left out and reported)."""
    seen: dict[str, str] = {}
    kept: list[tuple[str, Article]] = []
    for article, location in zip(articles, locations, strict=True):
        if article.id in seen:
            problem = ArticleFormatError(location, f"编号 {article.id} 与{seen[article.id]}重复", field="id")
            _fail(problem, errors)
            continue
        seen[article.id] = location
        kept.append((location, article))
    return kept


def _fail(problem: ArticleFormatError, errors: list[ArticleFormatError] | None) -> None:
    """Raise ``problem``, or record it when the caller collects row errors."""
    if errors is None:
        raise problem
    errors.append(problem)


@dataclass(frozen=True, slots=True)
class ParsedFile:
    """An import read row by row: the articles accepted (with where each came from) and every row
    that was not, with its location and reason. A problem with the whole file raises instead."""

    rows: tuple[tuple[str, Article], ...]
    errors: tuple[ArticleFormatError, ...]


FORMATS = ("csv", "markdown", "json")


def parse(fmt: str, text: str, *, default_time: datetime | None = None) -> ParsedFile:
    """Read ``text`` as ``fmt`` (``csv``, ``markdown`` or ``json``), collecting row errors instead
    of stopping at the first. Raises ``ArticleFormatError`` only when the file as a whole is
    unreadable (no header, invalid JSON, unterminated front matter)."""
    errors: list[ArticleFormatError] = []
    if fmt == "csv":
        rows = _read_csv(text, default_time, errors)
    elif fmt == "json":
        rows = _read_json(text, default_time, errors)
    elif fmt == "markdown":
        rows = _read_markdown(text, default_time, errors)
    else:
        raise ArticleFormatError("文件", f"不支持的格式 {fmt}（应为 {'、'.join(FORMATS)}）")
    return ParsedFile(tuple(rows), tuple(errors))


# --- CSV -----------------------------------------------------------------------------------------------


def read_csv(text: str, *, default_time: datetime | None = None) -> list[Article]:
    """Articles from CSV text with a header row (a UTF-8 BOM from Excel is accepted)."""
    return [article for _, article in _read_csv(text, default_time, None)]


def _read_csv(
    text: str, default_time: datetime | None, errors: list[ArticleFormatError] | None
) -> list[tuple[str, Article]]:
    text = text.removeprefix("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise ArticleFormatError("第1行", "文件为空，缺少表头") from None
    except csv.Error as exc:
        raise ArticleFormatError("第1行", f"CSV 格式错误：{exc}") from None
    columns = [h.strip().lower() for h in header]
    unknown = [c for c in columns if c not in FIELDS]
    if unknown:
        raise ArticleFormatError(
            "第1行（表头）", f"不认识的列：{'、'.join(unknown)}；可用的列：{'、'.join(FIELDS)}"
        )
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise ArticleFormatError("第1行（表头）", f"缺少必需的列：{'、'.join(missing)}", field=missing[0])
    articles: list[Article] = []
    locations: list[str] = []
    while True:
        start = reader.line_num + 1
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise ArticleFormatError(f"第{start}行", f"CSV 格式错误：{exc}", line=start) from None
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(columns):
            _fail(
                ArticleFormatError(
                    f"第{start}行",
                    f"有 {len(row)} 列，表头有 {len(columns)} 列（正文含逗号时须加英文双引号）",
                    line=start,
                ),
                errors,
            )
            continue
        raw = dict(zip(columns, row, strict=True))

        def where(name: str, line: int = start) -> str:
            return f"第{line}行 {name} 列" if name else f"第{line}行"

        try:
            articles.append(_build(raw, where, default_time))
        except ArticleFormatError as exc:
            exc.line = start
            _fail(exc, errors)
            continue
        locations.append(f"第{start}行")
    return _check_unique(articles, locations, errors)


def write_csv(articles: Iterable[Article]) -> str:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(FIELDS)
    for article in articles:
        writer.writerow([_to_text(article, name) for name in FIELDS])
    return out.getvalue()


# --- JSON ----------------------------------------------------------------------------------------------


def read_json(text: str, *, default_time: datetime | None = None) -> list[Article]:
    """Articles from a JSON list of objects, or an object ``{"articles": [...]}``."""
    return [article for _, article in _read_json(text, default_time, None)]


def _read_json(
    text: str, default_time: datetime | None, errors: list[ArticleFormatError] | None
) -> list[tuple[str, Article]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ArticleFormatError(
            f"第{exc.lineno}行第{exc.colno}列", f"JSON 格式错误：{exc.msg}", line=exc.lineno
        ) from None
    if isinstance(data, dict) and "articles" in data:
        data = data["articles"]
    if not isinstance(data, list):
        raise ArticleFormatError("文件", "应为条目列表，或含 articles 列表的对象")
    articles: list[Article] = []
    locations: list[str] = []
    for number, item in enumerate(data, start=1):
        label = f"第{number}条" + (
            f"（{item.get('id')}）" if isinstance(item, dict) and item.get("id") else ""
        )
        if not isinstance(item, dict):
            _fail(ArticleFormatError(label, "应为对象"), errors)
            continue
        unknown = sorted(set(item) - set(FIELDS))
        if unknown:
            _fail(ArticleFormatError(label, f"不认识的字段：{'、'.join(unknown)}", field=unknown[0]), errors)
            continue

        def where(name: str, label: str = label) -> str:
            return f"{label} 字段 {name}" if name else label

        try:
            articles.append(_build(item, where, default_time))
        except ArticleFormatError as exc:
            _fail(exc, errors)
            continue
        locations.append(label)
    return _check_unique(articles, locations, errors)


def write_json(articles: Iterable[Article]) -> str:
    items = []
    for article in articles:
        item: dict[str, object] = {name: _to_text(article, name) or None for name in FIELDS}
        item["tags"] = list(article.tags)
        item["version"] = article.version
        item["body"] = article.body
        items.append({k: v for k, v in item.items() if v is not None})
    return json.dumps(items, ensure_ascii=False, indent=2) + "\n"


# --- Markdown ------------------------------------------------------------------------------------------

_FRONT = "---"


def _front_value(text: str) -> object:
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        return [part.strip().strip("\"'") for part in text[1:-1].split(",") if part.strip()]
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1]
    return text


_FRONT_KEY = re.compile(r"^\s*(" + "|".join(FIELDS) + r")\s*:")


def _starts_article(lines: list[str], i: int) -> bool:
    """A ``---`` line starts the next article only when a front-matter field follows it, so a body may
    use ``---`` as a horizontal rule."""
    if lines[i].strip() != _FRONT:
        return False
    following = next((line for line in lines[i + 1 :] if line.strip()), "")
    return bool(_FRONT_KEY.match(following))


def read_markdown(text: str, *, default_time: datetime | None = None) -> list[Article]:
    """Articles from Markdown: each starts with a front-matter block between ``---`` lines
    (``key: value``), followed by its body. A file may hold several articles one after another.
    When front matter has no ``title``, the body's first ``# heading`` is the title."""
    return [article for _, article in _read_markdown(text, default_time, None)]


def _read_markdown(
    text: str, default_time: datetime | None, errors: list[ArticleFormatError] | None
) -> list[tuple[str, Article]]:
    lines = text.removeprefix("\ufeff").splitlines()
    articles: list[Article] = []
    locations: list[str] = []
    i = 0
    while i < len(lines) and not lines[i].strip():
        i += 1
    if i == len(lines):
        return []
    while i < len(lines):
        problem: ArticleFormatError | None = None
        start = i + 1
        if lines[i].strip() != _FRONT:
            raise ArticleFormatError(
                f"第{start}行", "每个条目须以 --- 开始的前置信息（front matter）开头", line=start
            )
        raw: dict[str, object] = {}
        field_lines: dict[str, int] = {}
        i += 1
        while True:
            if i >= len(lines):
                raise ArticleFormatError(f"第{start}行", "前置信息没有以 --- 结束", line=start)
            line = lines[i]
            if line.strip() == _FRONT:
                i += 1
                break
            if line.strip() and not line.lstrip().startswith("#"):
                key, sep, value = line.partition(":")
                key = key.strip().lower()
                if not sep or not key:
                    problem = problem or ArticleFormatError(
                        f"第{i + 1}行", f"应为“字段: 值”，实为“{line.strip()}”", line=i + 1
                    )
                elif key not in FIELDS or key == "body":
                    problem = problem or ArticleFormatError(
                        f"第{i + 1}行", f"不认识的字段 {key}", field=key, line=i + 1
                    )
                else:
                    raw[key] = _front_value(value)
                    field_lines[key] = i + 1
            i += 1
        body_start = i
        while i < len(lines) and not _starts_article(lines, i):
            i += 1
        body_lines = lines[body_start:i]
        if "title" not in raw:
            for n, line in enumerate(body_lines):
                if line.startswith("# "):
                    raw["title"] = line[2:].strip()
                    field_lines["title"] = body_start + n + 1
                    del body_lines[n]
                    break
        raw["body"] = "\n".join(body_lines).strip("\n")

        def where(name: str, start: int = start, field_lines: dict[str, int] = field_lines) -> str:
            line = field_lines.get(name, start)
            return f"第{line}行 {name}" if name else f"第{line}行"

        if problem is not None:
            _fail(problem, errors)
            continue
        try:
            articles.append(_build(raw, where, default_time))
        except ArticleFormatError as exc:
            exc.line = field_lines.get(exc.field, start)
            _fail(exc, errors)
            continue
        locations.append(f"第{start}行")
    return _check_unique(articles, locations, errors)


def write_markdown(articles: Iterable[Article]) -> str:
    parts = []
    for article in articles:
        front = [_FRONT]
        for name in FIELDS:
            if name == "body":
                continue
            if name == "tags":
                front.append(f"tags: [{', '.join(article.tags)}]")
                continue
            value = _to_text(article, name)
            if value[:1] in ("[", '"', "'"):
                value = f'"{value}"'
            if value:
                front.append(f"{name}: {value}")
        front.append(_FRONT)
        body = article.body.strip("\n")
        parts.append("\n".join(front) + "\n" + body + "\n")
    return "\n".join(parts)

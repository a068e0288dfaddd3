from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from knowledge_base.articles import Article
from knowledge_base.errors import ArticleFormatError
from knowledge_base.formats import (
    parse,
    read_csv,
    read_json,
    read_markdown,
    write_csv,
    write_json,
    write_markdown,
)

from .kb_dataset import load_base

SH = ZoneInfo("Asia/Shanghai")


def tricky() -> Article:
    return Article(
        id="WY-99",
        title='物业费"收费"标准：A、B两类',
        body='第一行，含逗号和"引号"\n---\n第二行 <b>不是标签</b> & 符号\n\n结尾',
        unit_id="zjj",
        tags=("物业", "物业费"),
        valid_from=date(2025, 1, 1),
        valid_to=None,
        version=3,
        updated_by="住建局-王五",
        updated_at=datetime(2025, 2, 1, 10, 30, tzinfo=SH),
        reviewed_at=None,
    )


@pytest.mark.parametrize(
    ("write", "read"),
    [(write_csv, read_csv), (write_json, read_json), (write_markdown, read_markdown)],
    ids=["csv", "json", "markdown"],
)
def test_given_articles_when_exported_and_imported_then_identical(write, read) -> None:  # type: ignore[no-untyped-def]
    articles = [tricky(), *load_base()[:40]]
    assert read(write(articles)) == articles


def test_given_excel_csv_with_bom_and_semicolon_tags_when_read_then_parsed() -> None:
    text = "\ufeffid,title,unit_id,valid_from,tags,body\r\nA-1,路灯报修,csglj,2025-01-01,市政；路灯,正文\r\n"
    (a,) = read_csv(text)
    assert a.tags == ("市政", "路灯") and a.valid_to is None and a.body == "正文"


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("id,title,unit_id\nA,t,u\n", "第1行（表头）：缺少必需的列：valid_from"),
        ("id,title,unit_id,valid_from,colour\n", "不认识的列：colour"),
        ("id,title,unit_id,valid_from\nA,t,u,2025-01-01\nB,t,u,2025/01/02\n", "第3行 valid_from 列"),
        ("id,title,unit_id,valid_from\nA,,u,2025-01-01\n", "第2行 title 列：缺少必填字段 title"),
        (
            'id,title,unit_id,valid_from,body\nA,t,u,2025-01-01,"多行\n正文"\nB,t,u,2025-01-01\n',
            "第4行：有 4 列",
        ),
        ("id,title,unit_id,valid_from,version\nA,t,u,2025-01-01,二\n", "第2行 version 列"),
        ("id,title,unit_id,valid_from\nA,t,u,2025-01-01\nA,t,u,2025-01-01\n", "编号 A 与第2行重复"),
        ("id,title,unit_id,valid_from,valid_to\nA,t,u,2025-01-01,2024-01-01\n", "第2行 valid_to 列"),
    ],
)
def test_given_bad_csv_when_read_then_error_names_line_and_field(text: str, where: str) -> None:
    with pytest.raises(ArticleFormatError) as err:
        read_csv(text)
    assert where in err.value.message


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[{"id": "A", "title": "t", "unit_id": "u"}]', "第1条（A） 字段 valid_from：缺少必填字段"),
        ('[{"id": "A", "title": "t", "unit_id": "u", "valid_from": "2025-01-01"},\n {"id": "B"', "第2行"),
        ('[{"id": "A", "title": "t", "unit_id": "u", "valid_from": "2025-1-1x"}]', "字段 valid_from：日期"),
        (
            '[{"id": "A", "title": "t", "unit_id": "u", "valid_from": "2025-01-01", "owner": 1}]',
            "不认识的字段：owner",
        ),
        ('{"items": []}', "应为条目列表"),
        ('[{"id": "A", "title": "t", "unit_id": "u", "valid_from": "2025-01-01", "tags": 5}]', "字段 tags"),
    ],
)
def test_given_bad_json_when_read_then_error_names_item_and_field(text: str, where: str) -> None:
    with pytest.raises(ArticleFormatError) as err:
        read_json(text)
    assert where in err.value.message


def test_given_markdown_with_heading_title_when_read_then_title_taken_from_heading() -> None:
    text = (
        "---\nid: SZ-1\nunit_id: csglj\nvalid_from: 2025-01-01\ntags: [市政, 路灯]\n---\n"
        "# 路灯报修\n\n正文一段。\n"
    )
    (a,) = read_markdown(text)
    assert (a.title, a.body, a.tags) == ("路灯报修", "正文一段。", ("市政", "路灯"))


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("id: A\n", "第1行：每个条目须以 --- 开始"),
        ("---\nid: A\ntitle: t\n", "第1行：前置信息没有以 --- 结束"),
        ("---\nid: A\ntitle t\n---\n", "第3行：应为“字段: 值”"),
        (
            "---\nid: A\ntitle: t\nunit_id: u\nvalid_from: 2025-01-01\nreviewed_at: 昨天\n---\n",
            "第6行 reviewed_at",
        ),
        (
            "---\nid: A\ntitle: t\nunit_id: u\nvalid_from: 2025-01-01\n---\n正文\n---\nid: B\nunit: u\n---\n",
            "第10行：不认识的字段 unit",
        ),
    ],
)
def test_given_bad_markdown_when_read_then_error_names_line(text: str, where: str) -> None:
    with pytest.raises(ArticleFormatError) as err:
        read_markdown(text)
    assert where in err.value.message


def test_shipped_knowledge_base_is_realistic_size() -> None:
    base = load_base()
    assert len(base) >= 150
    assert len({a.unit_id for a in base}) >= 15


MIXED_MARKDOWN = """---
id: A-1
title: 第一条
unit_id: hrss
valid_from: 2026-01-01
---
正文一
---
id: A-2
title: 坏日期
unit_id: hrss
valid_from: 2026-02-30
---
正文二
---
id: A-3
colour: red
title: 不认识的字段
unit_id: hrss
valid_from: 2026-01-01
---
正文三
---
id: A-1
title: 重复
unit_id: hrss
valid_from: 2026-01-01
---
正文四
---
id: A-4
title: 第四条
unit_id: zjj
valid_from: 2026-01-01
---
正文五
"""


def test_given_a_file_with_bad_rows_when_parsed_then_good_rows_are_kept_and_each_bad_one_is_named() -> None:
    parsed = parse("markdown", MIXED_MARKDOWN)
    assert [(where, a.id) for where, a in parsed.rows] == [("第1行", "A-1"), ("第30行", "A-4")]
    problems = [(e.location, e.field) for e in parsed.errors]
    assert problems == [("第12行 valid_from", "valid_from"), ("第17行", "colour"), ("第23行", "id")]
    assert "YYYY-MM-DD" in parsed.errors[0].message and "重复" in parsed.errors[2].message


def test_given_json_with_a_bad_item_when_parsed_then_the_others_are_kept() -> None:
    text = '[{"id": "J-1", "title": "甲", "unit_id": "u", "valid_from": "2026-01-01"}, 7,' + (
        '{"id": "J-2", "title": "", "unit_id": "u", "valid_from": "2026-01-01"},'
        '{"id": "J-3", "title": "丙", "unit_id": "u", "valid_from": "2026-01-01"}]'
    )
    parsed = parse("json", text)
    assert [a.id for _, a in parsed.rows] == ["J-1", "J-3"]
    assert [e.location for e in parsed.errors] == ["第2条", "第3条（J-2） 字段 title"]
    with pytest.raises(ArticleFormatError, match="第1行"):
        parse("csv", "")

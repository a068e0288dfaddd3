from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from knowledge_base.articles import (
    Article,
    ArticleFlag,
    ReviewPolicy,
    create,
    ensure_may_edit,
    flags,
    is_valid_on,
    mark_reviewed,
    revise,
)
from knowledge_base.errors import InvalidArticle, NotOwningUnit

SH = ZoneInfo("Asia/Shanghai")
AT = datetime(2025, 3, 1, 9, 0, tzinfo=SH)


def article(**kw: object) -> Article:
    values: dict[str, object] = {
        "id": "GN-01",
        "title": "供暖期及室温标准",
        "body": "供暖期间室温不得低于18℃。",
        "unit_id": "csglj",
        "tags": ("供暖",),
        "valid_from": date(2024, 10, 1),
        "valid_to": date(2025, 9, 30),
        "updated_at": AT,
        "reviewed_at": AT,
    }
    values.update(kw)
    return Article(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2024, 9, 30), {ArticleFlag.NOT_YET_VALID}),
        (date(2024, 10, 1), set()),
        (date(2025, 9, 1), {ArticleFlag.EXPIRING_SOON}),
        (date(2025, 9, 30), {ArticleFlag.EXPIRING_SOON}),
        (date(2025, 10, 1), {ArticleFlag.EXPIRED}),
    ],
)
def test_given_validity_dates_when_flagged_then_expired_and_not_yet_valid_follow_them(
    today: date, expected: set[ArticleFlag]
) -> None:
    assert flags(article(), today, ReviewPolicy(review_interval_days=365)) == expected
    invalid = {ArticleFlag.EXPIRED, ArticleFlag.NOT_YET_VALID}
    assert is_valid_on(article(), today) == (not invalid & expected)


def test_given_review_interval_when_not_reviewed_for_longer_then_flagged_unreviewed() -> None:
    policy = ReviewPolicy(review_interval_days=90)
    a = article(valid_to=None)
    assert ArticleFlag.UNREVIEWED not in flags(a, AT.date() + timedelta(days=90), policy)
    assert ArticleFlag.UNREVIEWED in flags(a, AT.date() + timedelta(days=91), policy)
    assert ArticleFlag.UNREVIEWED in flags(article(updated_at=None, reviewed_at=None), AT.date(), policy)


def test_given_an_edit_when_revised_then_a_new_version_records_who_changed_what() -> None:
    first, record1 = create(article(), by="供热办-张三", at=AT)
    assert first.version == 1 and record1.version == 1 and record1.note == "新建"
    later = AT + timedelta(days=3)
    second, record2 = revise(
        first, by="供热办-李四", at=later, body="室温不得低于18℃，不热请报修。", tags=["供暖", "报修"]
    )
    assert record2 is not None
    assert second.version == 2 and second.updated_by == "供热办-李四" and second.updated_at == later
    assert {c.field for c in record2.changes} == {"body", "tags"}
    tags_change = next(c for c in record2.changes if c.field == "tags")
    assert (tags_change.old, tags_change.new) == ("供暖", "供暖；报修")
    assert record2.snapshot == second and first.body == "供暖期间室温不得低于18℃。"  # old version untouched
    unchanged, none = revise(second, by="x", at=later, body=second.body)
    assert unchanged is second and none is None


def test_given_review_when_marked_then_version_bumps_and_flag_clears() -> None:
    old = article(reviewed_at=AT - timedelta(days=400), updated_at=AT - timedelta(days=400), valid_to=None)
    assert ArticleFlag.UNREVIEWED in flags(old, AT.date())
    reviewed, record = mark_reviewed(old, by="供热办", at=AT)
    assert reviewed.version == old.version + 1 and record.changes[0].field == "reviewed_at"
    assert ArticleFlag.UNREVIEWED not in flags(reviewed, AT.date())


def test_given_another_unit_when_editing_then_refused_with_rule_named() -> None:
    with pytest.raises(NotOwningUnit) as err:
        ensure_may_edit(article(), "sw")
    assert err.value.code == "kb-not-owner" and "第二十二条" in err.value.message
    ensure_may_edit(article(), "csglj")


def test_given_bad_values_when_building_then_rejected() -> None:
    with pytest.raises(InvalidArticle, match="失效日期"):
        article(valid_to=date(2024, 1, 1))
    with pytest.raises(InvalidArticle):
        article(title=" ")
    with pytest.raises(InvalidArticle):
        revise(article(), by="x", at=AT, version=9)
    with pytest.raises(InvalidArticle):
        revise(article(), by="x", at=datetime(2025, 1, 1), body="x")

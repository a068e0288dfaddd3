from __future__ import annotations

import dataclasses
import re
from datetime import date

import pytest

from knowledge_base.analysis import Analyzer, SynonymTable
from knowledge_base.articles import Article, ArticleFlag
from knowledge_base.index import MemorySource, SearchIndex

from .kb_dataset import EVAL_DAY, load_queries, recall_at

TODAY = date(2025, 6, 16)


def art(
    aid: str, title: str, body: str, unit: str = "csglj", tags: tuple[str, ...] = (), **kw: object
) -> Article:
    return Article(aid, title, body, unit, tags, valid_from=kw.pop("valid_from", date(2024, 1, 1)), **kw)  # type: ignore[arg-type]


SMALL = [
    art("SEWER", "排水管道堵塞冒溢处置", "市政排水管道、污水井堵塞的，由排水管理处疏通。", tags=("市政",)),
    art("LIGHT", "道路照明设施报修", "城市道路照明设施损坏的，请说明灯杆编号。", tags=("市政", "路灯")),
    art("NOISE", "建筑施工噪声管理", "夜间22时至次日6时禁止产生噪声的施工。", unit="zjj", tags=("噪音",)),
    art("HEAT", "集中供热室温标准", "供热期间室温不得低于18℃。", tags=("供暖",)),
    art(
        "HEAT-OLD",
        "集中供热室温标准（旧）",
        "供热期间室温不得低于16℃。",
        tags=("供暖",),
        valid_to=date(2024, 3, 15),
    ),
    art(
        "HEAT-NEW",
        "集中供热室温标准（下一季）",
        "供热期间室温不得低于18℃。",
        tags=("供暖",),
        valid_from=date(2025, 10, 1),
    ),
    art("VEND", "占道经营治理", "流动摊贩占用人行道的，由城管查处。", tags=("占道经营",)),
    art("XSS", "<script>提示</script>说明 & 照明", '照明 <b>说明</b> & 更多 "引号"', tags=("测试",)),
]


@pytest.fixture(scope="module")
def small(analyzer: Analyzer) -> SearchIndex:
    index = SearchIndex(analyzer, clock=lambda: TODAY)
    index.rebuild(SMALL)
    return index


def ids(hits: list) -> list[str]:  # type: ignore[type-arg]
    return [h.article.id for h in hits]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("我家楼下那个下水道又堵了臭得不行找谁啊", "SEWER"),
        ("污水管冒水了", "SEWER"),
        ("路灯坏了晚上黑", "LIGHT"),
        ("工地晚上太吵了", "NOISE"),
        ("暖气不热", "HEAT"),
        ("门口好多摆地摊的", "VEND"),
    ],
)
def test_given_citizen_words_when_searching_then_synonyms_find_the_official_term(
    small: SearchIndex, query: str, expected: str
) -> None:
    assert ids(small.search(query))[0] == expected


def test_given_expired_and_future_articles_when_searching_then_hidden_unless_asked(
    small: SearchIndex,
) -> None:
    assert ids(small.search("供热室温标准")) == ["HEAT"]
    assert set(ids(small.search("供热室温标准", include_invalid=True))) == {"HEAT", "HEAT-OLD", "HEAT-NEW"}
    assert set(ids(small.search("供热室温标准", today=date(2025, 10, 2)))) == {"HEAT", "HEAT-NEW"}


def test_given_filters_when_searching_then_only_matching_unit_and_tag(small: SearchIndex) -> None:
    assert ids(small.search("噪声 照明 排水", unit_ids=["zjj"])) == ["NOISE"]
    assert set(ids(small.search("噪声 照明 排水", tags=["路灯", "噪音"]))) == {"LIGHT", "NOISE"}
    assert small.search("噪声", unit_ids=["no-such-unit"]) == []
    assert small.search("噪声", tags=[]) == []


def test_given_markup_in_article_when_highlighted_then_escaped_and_terms_wrapped(small: SearchIndex) -> None:
    (hit,) = small.search("照明说明", tags=["测试"])
    assert "<script>" not in hit.title_html and "&lt;script&gt;" in hit.title_html
    assert "<em>照明</em>" in hit.title_html and "&amp;" in hit.title_html
    assert "&lt;b&gt;<em>说明</em>&lt;/b&gt;" in hit.snippet_html and "&quot;" in hit.snippet_html
    assert re.sub(r"</?em>", "", hit.snippet_html).count("<") == 0


def test_given_long_body_when_snippet_then_window_around_matches(analyzer: Analyzer) -> None:
    body = "前言。" * 60 + "下水道堵塞请拨打排水抢修电话。" + "附则。" * 60
    index = SearchIndex(analyzer, clock=lambda: TODAY)
    index.rebuild([art("LONG", "说明", body)])
    (hit,) = index.search("下水道")
    assert "<em>下水道</em>" in hit.snippet_html
    assert hit.snippet_html.startswith("…") and hit.snippet_html.endswith("…")
    assert len(re.sub(r"</?em>", "", hit.snippet_html)) <= 92


def test_given_an_edit_when_upserted_then_searchable_at_once_and_old_text_gone(analyzer: Analyzer) -> None:
    source = MemorySource.of(SMALL)
    index = SearchIndex(analyzer, clock=lambda: TODAY)
    index.rebuild_from(source)
    assert "LIGHT" not in ids(index.search("井盖"))
    source.articles["LIGHT"] = dataclasses.replace(SMALL[1], body="窨井盖缺失请报修。", version=2)
    index.refresh("LIGHT", source)
    assert ids(index.search("井盖")) == ["LIGHT"] and index.get("LIGHT").version == 2  # type: ignore[union-attr]
    assert "LIGHT" not in ids(index.search("灯杆编号"))
    source.articles["NEW"] = art("NEW", "井盖丢失", "井盖丢失的处理办法。")
    index.refresh("NEW", source)
    assert set(ids(index.search("井盖"))) == {"LIGHT", "NEW"}
    del source.articles["NEW"]
    index.refresh("NEW", source)
    assert ids(index.search("井盖")) == ["LIGHT"] and len(index) == len(SMALL)
    before = index.search("室温 噪声 井盖")
    index.compact()  # recomputes BM25 length norms with the current average length: scores move a little
    after = index.search("室温 噪声 井盖")
    assert ids(after) == ids(before)
    assert [h.score for h in after] == pytest.approx([h.score for h in before], rel=0.02)


def test_given_many_updates_when_write_segment_overflows_then_merged_and_still_correct(
    analyzer: Analyzer,
) -> None:
    from knowledge_base.index import IndexSettings

    index = SearchIndex(analyzer, IndexSettings(write_segment_limit=5), clock=lambda: TODAY)
    index.rebuild(SMALL)
    for i in range(20):
        index.upsert(art(f"W{i}", f"井盖第{i}号", "井盖缺失报修。"))
        index.upsert(art("SEWER", "排水管道堵塞冒溢处置", f"第{i}次修改：污水井堵塞的疏通。"))
    assert len(index) == len(SMALL) + 20
    assert ids(index.search("下水道"))[0] == "SEWER"
    assert len(index.search("井盖", limit=50)) == 20


def test_given_unreviewed_article_when_found_then_hit_carries_flag(small: SearchIndex) -> None:
    (hit, *_) = small.search("排水管道")
    assert ArticleFlag.UNREVIEWED in hit.flags  # SMALL articles have never been reviewed


def test_given_a_live_transcript_when_suggesting_then_latest_words_weigh_more(small: SearchIndex) -> None:
    heat = "你好，我想反映我们家暖气的事，室温才十五度。"
    sewer = "另外还有个事，楼下的下水道又堵了往外冒。"
    assert ids(small.suggest(heat + sewer, recent_chars=len(sewer)))[0] == "SEWER"
    assert ids(small.suggest(sewer + heat, recent_chars=len(heat)))[0] == "HEAT"
    assert ids(small.suggest("很长的寒暄。" * 200 + heat, window_chars=40))[0] == "HEAT"
    assert small.suggest("") == []


def test_given_custom_synonyms_when_analyzing_then_each_word_expands_to_its_group() -> None:
    table = SynonymTable((("下水道", "排水管道", "污水管"), ("噪音", "噪声", "吵")))
    assert table.expand("污水管") == ("污水管", "下水道", "排水管道")
    assert table.expand("路灯") == ("路灯",)


def test_labelled_retrieval_set_recall_at_5(
    labelled_index: SearchIndex, capsys: pytest.CaptureFixture[str]
) -> None:
    queries = load_queries()
    assert len(queries) >= 300 and len(labelled_index) >= 150 + 3000
    ranked = [ids(labelled_index.search(q, limit=5, today=EVAL_DAY)) for q, _ in queries]
    recall = recall_at(5, ranked, [rel for _, rel in queries])
    with capsys.disabled():
        print(f"\nrecall@5 on {len(queries)} queries over {len(labelled_index)} articles: {recall:.3f}")
    assert recall >= 0.9

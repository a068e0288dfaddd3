"""The in-memory search index: BM25 over jieba terms, synonym expansion at query time, filters by unit,
tag and validity, highlighted snippets, and suggestions from a live call transcript.

Storage is not the index's business: articles come from anything that satisfies ``ArticleSource``
(the database later, a file import, a test list). The index can be rebuilt from a source or updated
one article at a time; updates go to a small write segment that is merged into the frozen posting
arrays when it grows (or when ``compact()`` is called), so an edit is searchable at once.

Not thread-safe for concurrent writers; a lock serialises writers with readers.
"""

from __future__ import annotations

import math
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

from knowledge_base.analysis import Analyzer, default_analyzer, normalize
from knowledge_base.articles import Article, ArticleFlag, ReviewPolicy, flags
from knowledge_base.highlight import highlight, snippet

SHANGHAI = ZoneInfo("Asia/Shanghai")
_NO_END = np.iinfo(np.int32).max

IntArray = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float32]


class ArticleSource(Protocol):
    """Where articles live (the database, an import, a list). The index only reads from it."""

    def all_articles(self) -> Iterable[Article]: ...

    def get(self, article_id: str) -> Article | None: ...


@dataclass
class MemorySource:
    """An ``ArticleSource`` over a dict, for imports and tests."""

    articles: dict[str, Article] = field(default_factory=dict)

    @classmethod
    def of(cls, articles: Iterable[Article]) -> MemorySource:
        return cls({a.id: a for a in articles})

    def all_articles(self) -> Iterable[Article]:
        return list(self.articles.values())

    def get(self, article_id: str) -> Article | None:
        return self.articles.get(article_id)


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """BM25 parameters and weights. ``synonym_weight`` scales a synonym's term frequency against the
    word the citizen used; title and tag words count ``title_weight`` / ``tag_weight`` times."""

    k1: float = 1.2
    b: float = 0.75
    title_weight: float = 3.0
    tag_weight: float = 2.0
    synonym_weight: float = 0.8
    max_query_term_weight: float = 3.0
    snippet_chars: int = 90
    write_segment_limit: int = 2000
    review: ReviewPolicy = field(default_factory=ReviewPolicy)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One result: the article, its score, the title and a body snippet as escaped HTML with ``<em>``
    around matched words, the words matched, and the article's flags (e.g. unreviewed)."""

    article: Article
    score: float
    title_html: str
    snippet_html: str
    matched_terms: tuple[str, ...]
    flags: frozenset[ArticleFlag]


def shanghai_today() -> date:
    return datetime.now(SHANGHAI).date()


def _day(d: date | None) -> int:
    return _NO_END if d is None else d.toordinal()


class SearchIndex:
    """BM25 index over articles. ``clock`` gives "today" for validity filtering."""

    def __init__(
        self,
        analyzer: Analyzer | None = None,
        settings: IndexSettings = IndexSettings(),
        clock: Callable[[], date] = shanghai_today,
    ) -> None:
        self.analyzer = analyzer if analyzer is not None else default_analyzer()
        self.settings = settings
        self.clock = clock
        self._lock = threading.RLock()
        self._reset()

    # --- building ---------------------------------------------------------------------------------

    def _reset(self) -> None:
        self._vocab: dict[str, int] = {}
        self._terms_list: list[str] = []
        self._df = np.zeros(1024, dtype=np.int64)
        cap = 1024
        self._alive = np.zeros(cap, dtype=bool)
        self._doc_len = np.zeros(cap, dtype=np.float32)
        self._unit = np.zeros(cap, dtype=np.int32)
        self._valid_from = np.zeros(cap, dtype=np.int32)
        self._valid_to = np.zeros(cap, dtype=np.int32)
        self._articles: list[Article | None] = []
        self._slot_terms: list[tuple[IntArray, FloatArray] | None] = []
        self._slot_of: dict[str, int] = {}
        self._units: dict[str, int] = {}
        self._tag_slots: dict[str, list[int]] = {}
        self._tag_arrays: dict[str, IntArray] = {}
        self._total_len = 0.0
        self._frozen_upto = 0
        self._csr_ptr = np.zeros(1, dtype=np.int64)
        self._csr_slot: IntArray = np.zeros(0, dtype=np.int32)
        self._csr_tf: FloatArray = np.zeros(0, dtype=np.float32)
        self._csr_sat: FloatArray = np.zeros(0, dtype=np.float32)
        self._delta: dict[int, tuple[list[int], list[float]]] = {}
        self._scratch = np.zeros(cap, dtype=np.float32)
        self._scores = np.zeros(cap, dtype=np.float32)

    def __len__(self) -> int:
        return len(self._slot_of)

    def __contains__(self, article_id: object) -> bool:
        return article_id in self._slot_of

    def get(self, article_id: str) -> Article | None:
        slot = self._slot_of.get(article_id)
        return None if slot is None else self._articles[slot]

    def rebuild(self, articles: Iterable[Article]) -> None:
        """Replace the whole index with ``articles``."""
        with self._lock:
            self._reset()
            for article in articles:
                if article.id in self._slot_of:
                    self._remove(article.id)
                self._insert(article, to_write_segment=False)
            self._compact()

    def rebuild_from(self, source: ArticleSource) -> None:
        self.rebuild(source.all_articles())

    def upsert(self, article: Article) -> None:
        """Add an article or replace the indexed version of it; searchable on return."""
        with self._lock:
            if article.id in self._slot_of:
                self._remove(article.id)
            self._insert(article, to_write_segment=True)
            if len(self._articles) - self._frozen_upto > self.settings.write_segment_limit:
                self._compact()

    def remove(self, article_id: str) -> bool:
        with self._lock:
            if article_id not in self._slot_of:
                return False
            self._remove(article_id)
            dead = len(self._articles) - len(self._slot_of)
            if dead > max(1000, len(self._articles) // 4):
                self._compact()
            return True

    def refresh(self, article_id: str, source: ArticleSource) -> None:
        """Bring one article in line with ``source`` (re-index it, or drop it when it is gone)."""
        article = source.get(article_id)
        if article is None:
            self.remove(article_id)
        else:
            self.upsert(article)

    def compact(self) -> None:
        """Merge the write segment into the frozen arrays and drop removed articles."""
        with self._lock:
            self._compact()

    def _term_id(self, term: str) -> int:
        tid = self._vocab.get(term)
        if tid is None:
            tid = len(self._terms_list)
            self._vocab[term] = tid
            self._terms_list.append(term)
            if tid >= len(self._df):
                self._df = np.concatenate([self._df, np.zeros(len(self._df), dtype=np.int64)])
        return tid

    def _grow(self, need: int) -> None:
        cap = len(self._alive)
        if need <= cap:
            return
        new = max(need, cap * 2)
        for name in ("_alive", "_doc_len", "_unit", "_valid_from", "_valid_to", "_scratch", "_scores"):
            old = getattr(self, name)
            grown = np.zeros(new, dtype=old.dtype)
            grown[:cap] = old
            setattr(self, name, grown)

    def _article_terms(self, article: Article) -> dict[str, float]:
        s = self.settings
        counts: defaultdict[str, float] = defaultdict(float)
        for term in self.analyzer.terms(article.body):
            counts[term] += 1.0
        for term in self.analyzer.terms(article.title):
            counts[term] += s.title_weight
        for tag in article.tags:
            for term in {normalize(tag), *self.analyzer.terms(tag)}:
                counts[term] += s.tag_weight
        return counts

    def _insert(self, article: Article, *, to_write_segment: bool) -> None:
        counts = self._article_terms(article)
        tids = np.fromiter((self._term_id(t) for t in counts), dtype=np.int32, count=len(counts))
        tfs = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
        slot = len(self._articles)
        self._grow(slot + 1)
        self._articles.append(article)
        self._slot_terms.append((tids, tfs))
        self._slot_of[article.id] = slot
        self._alive[slot] = True
        self._doc_len[slot] = float(tfs.sum())
        self._total_len += float(tfs.sum())
        self._unit[slot] = self._units.setdefault(article.unit_id, len(self._units))
        self._valid_from[slot] = _day(article.valid_from)
        self._valid_to[slot] = _day(article.valid_to)
        self._df[tids] += 1
        for tag in article.tags:
            self._tag_slots.setdefault(normalize(tag), []).append(slot)
            self._tag_arrays.pop(normalize(tag), None)
        if to_write_segment:
            for tid, tf in zip(tids.tolist(), tfs.tolist(), strict=True):
                slots, freqs = self._delta.setdefault(tid, ([], []))
                slots.append(slot)
                freqs.append(tf)

    def _remove(self, article_id: str) -> None:
        slot = self._slot_of.pop(article_id)
        terms = self._slot_terms[slot]
        assert terms is not None
        self._df[terms[0]] -= 1
        self._total_len -= float(self._doc_len[slot])
        self._alive[slot] = False
        self._articles[slot] = None
        self._slot_terms[slot] = None

    def _compact(self) -> None:
        """Renumber live articles densely and rebuild the frozen posting arrays (CSR by term id)."""
        live = [i for i, a in enumerate(self._articles) if a is not None]
        if len(live) != len(self._articles):
            articles = [self._articles[i] for i in live]
            slot_terms = [self._slot_terms[i] for i in live]
            keep = np.asarray(live, dtype=np.int64)
            n = len(live)
            for name in ("_alive", "_doc_len", "_unit", "_valid_from", "_valid_to"):
                arr = getattr(self, name)
                fresh = np.zeros(max(1024, n * 2), dtype=arr.dtype)
                fresh[:n] = arr[keep]
                setattr(self, name, fresh)
            self._scratch = np.zeros(len(self._alive), dtype=np.float32)
            self._scores = np.zeros(len(self._alive), dtype=np.float32)
            self._articles = list(articles)
            self._slot_terms = list(slot_terms)
            self._slot_of = {a.id: i for i, a in enumerate(articles) if a is not None}
            self._tag_slots = {}
            for i, a in enumerate(articles):
                assert a is not None
                for tag in a.tags:
                    self._tag_slots.setdefault(normalize(tag), []).append(i)
            self._tag_arrays = {}
        n = len(self._articles)
        pairs = [t for t in self._slot_terms if t is not None]
        if pairs:
            tids = np.concatenate([p[0] for p in pairs])
            tfs = np.concatenate([p[1] for p in pairs])
            slots = np.repeat(np.arange(n, dtype=np.int32), [len(p[0]) for p in pairs])
        else:
            tids = np.zeros(0, dtype=np.int32)
            tfs = np.zeros(0, dtype=np.float32)
            slots = np.zeros(0, dtype=np.int32)
        order = np.argsort(tids, kind="stable")
        self._csr_slot = slots[order].astype(np.int32)
        self._csr_tf = tfs[order].astype(np.float32)
        # BM25's saturated term frequency, computed once per posting with the average length of now;
        # the write segment's postings are computed at query time.
        s = self.settings
        avgdl = self._total_len / max(1, len(self._slot_of))
        norm = s.k1 * (1.0 - s.b + s.b * self._doc_len[self._csr_slot] / max(avgdl, 1e-9))
        self._csr_sat = (self._csr_tf * (s.k1 + 1.0) / (self._csr_tf + norm)).astype(np.float32)
        counts = np.bincount(tids, minlength=len(self._terms_list))
        self._csr_ptr = np.zeros(len(self._terms_list) + 1, dtype=np.int64)
        np.cumsum(counts, out=self._csr_ptr[1:])
        self._frozen_upto = n
        self._delta = {}

    # --- searching --------------------------------------------------------------------------------

    def _postings(self, tid: int) -> tuple[IntArray, FloatArray, FloatArray]:
        """Slots, raw term frequencies and saturated frequencies of one term (frozen + write segment)."""
        if tid + 1 < len(self._csr_ptr):
            a, b = int(self._csr_ptr[tid]), int(self._csr_ptr[tid + 1])
            slots, tfs, sat = self._csr_slot[a:b], self._csr_tf[a:b], self._csr_sat[a:b]
        else:
            slots, tfs, sat = self._csr_slot[:0], self._csr_tf[:0], self._csr_sat[:0]
        extra = self._delta.get(tid)
        if extra:
            d_slots = np.asarray(extra[0], dtype=np.int32)
            d_tfs = np.asarray(extra[1], dtype=np.float32)
            slots = np.concatenate([slots, d_slots])
            tfs = np.concatenate([tfs, d_tfs])
            sat = np.concatenate([sat, self._saturate(d_slots, d_tfs)])
        return slots, tfs, sat

    def _saturate(self, slots: IntArray, tfs: FloatArray) -> FloatArray:
        s = self.settings
        avgdl = self._total_len / max(1, len(self._slot_of))
        norm = s.k1 * (1.0 - s.b + s.b * self._doc_len[slots] / max(avgdl, 1e-9))
        return (tfs * (s.k1 + 1.0) / (tfs + norm)).astype(np.float32)

    def _tag_array(self, tag: str) -> IntArray:
        arr = self._tag_arrays.get(tag)
        if arr is None:
            arr = np.asarray(sorted(set(self._tag_slots.get(tag, []))), dtype=np.int32)
            self._tag_arrays[tag] = arr
        return arr

    def query_weights(self, text: str) -> dict[str, float]:
        """The query's terms and their weights (repeats add up to ``max_query_term_weight``)."""
        counts: Counter[str] = Counter(self.analyzer.terms(text))
        cap = self.settings.max_query_term_weight
        return {t: min(float(c), cap) for t, c in counts.items()}

    def search(
        self,
        query: str,
        *,
        unit_ids: Iterable[str] | None = None,
        tags: Iterable[str] | None = None,
        today: date | None = None,
        include_invalid: bool = False,
        limit: int = 10,
    ) -> list[SearchHit]:
        """Articles best matching ``query``. Filters: ``unit_ids`` (any of), ``tags`` (any of). Only
        articles valid on ``today`` unless ``include_invalid``."""
        return self.search_weighted(
            self.query_weights(query),
            unit_ids=unit_ids,
            tags=tags,
            today=today,
            include_invalid=include_invalid,
            limit=limit,
        )

    def suggest(
        self,
        transcript: str,
        *,
        recent_chars: int = 60,
        recent_weight: float = 2.0,
        window_chars: int = 600,
        limit: int = 5,
        unit_ids: Iterable[str] | None = None,
        tags: Iterable[str] | None = None,
        today: date | None = None,
    ) -> list[SearchHit]:
        """Best articles for a live call: the transcript so far, its last ``recent_chars`` characters
        weighted ``recent_weight`` times (what the citizen is saying now matters most), and nothing
        older than ``window_chars``."""
        text = transcript[-window_chars:]
        cut = max(0, len(text) - recent_chars)
        weights: defaultdict[str, float] = defaultdict(float)
        for term in self.analyzer.terms(text[:cut]):
            weights[term] += 1.0
        for term in self.analyzer.terms(text[cut:]):
            weights[term] += recent_weight
        cap = self.settings.max_query_term_weight * recent_weight
        return self.search_weighted(
            {t: min(w, cap) for t, w in weights.items()},
            unit_ids=unit_ids,
            tags=tags,
            today=today,
            limit=limit,
        )

    def search_weighted(
        self,
        weights: Mapping[str, float],
        *,
        unit_ids: Iterable[str] | None = None,
        tags: Iterable[str] | None = None,
        today: date | None = None,
        include_invalid: bool = False,
        limit: int = 10,
    ) -> list[SearchHit]:
        with self._lock:
            return self._search(weights, unit_ids, tags, today, include_invalid, limit)

    def _search(
        self,
        weights: Mapping[str, float],
        unit_ids: Iterable[str] | None,
        tags: Iterable[str] | None,
        today: date | None,
        include_invalid: bool,
        limit: int,
    ) -> list[SearchHit]:
        n_docs = len(self._slot_of)
        n_slots = len(self._articles)
        if n_docs == 0 or not weights or limit <= 0:
            return []
        s = self.settings
        scores = self._scores
        scratch = self._scratch
        touched: list[IntArray] = []
        query_tids: set[int] = set()
        for term, qweight in weights.items():
            members = []
            for rank, word in enumerate(self.analyzer.synonyms.expand(term)):
                tid = self._vocab.get(word)
                if tid is not None and self._df[tid] > 0:
                    members.append((tid, 1.0 if rank == 0 else s.synonym_weight))
            if not members:
                continue
            query_tids.update(tid for tid, _ in members)
            if len(members) == 1 and members[0][1] == 1.0:
                slots, _, sat = self._postings(members[0][0])
                df = int(self._df[members[0][0]])
            else:
                # One concept: the members' frequencies add up in each article (BM25 saturates once),
                # with the document frequency of the most common member (as Lucene's SynonymQuery).
                parts = []
                for tid, weight in members:
                    m_slots, m_tfs, _ = self._postings(tid)
                    scratch[m_slots] += m_tfs * weight
                    parts.append(m_slots)
                # Duplicated slots read the same summed value, and a buffered ``+=`` applies it once.
                slots = np.concatenate(parts) if len(parts) > 1 else parts[0]
                sat = self._saturate(slots, scratch[slots])
                scratch[slots] = 0.0
                df = max(int(self._df[tid]) for tid, _ in members)
            idf = math.log(1.0 + (n_docs - df + 0.5) / (df + 0.5))
            scores[slots] += sat * np.float32(qweight * idf)
            touched.append(slots)
        positive = scores[:n_slots] > 0
        candidates = np.flatnonzero(positive)
        cand_all_scores = scores[candidates]
        for slots in touched:
            scores[slots] = 0.0
        if candidates.size == 0:
            return []
        keep = self._alive[candidates]
        day = (today or self.clock()).toordinal()
        if not include_invalid:
            keep &= (self._valid_from[candidates] <= day) & (self._valid_to[candidates] >= day)
        if unit_ids is not None:
            codes = [self._units[u] for u in unit_ids if u in self._units]
            keep &= np.isin(self._unit[candidates], np.asarray(codes, dtype=np.int32))
        if tags is not None:
            tag_list = [normalize(t) for t in tags]
            wanted = [self._tag_array(t) for t in tag_list]
            allowed = np.concatenate(wanted) if wanted else np.zeros(0, dtype=np.int32)
            keep &= np.isin(candidates, allowed)
        candidates = candidates[keep]
        if candidates.size == 0:
            return []
        cand_scores = cand_all_scores[keep]
        if candidates.size > limit:
            top = np.argpartition(-cand_scores, limit - 1)[:limit]
            candidates, cand_scores = candidates[top], cand_scores[top]
        order = np.lexsort((candidates, -cand_scores))
        today_date = date.fromordinal(day)
        return [self._hit(int(candidates[i]), float(cand_scores[i]), query_tids, today_date) for i in order]

    def _hit(self, slot: int, score: float, query_tids: set[int], today: date) -> SearchHit:
        article = self._articles[slot]
        terms = self._slot_terms[slot]
        assert article is not None and terms is not None
        matched = tuple(self._terms_list[t] for t in terms[0].tolist() if t in query_tids)
        # A single character (月, 上 …) lit up all over a snippet is noise; keep those the synonym
        # table names (吵, 狗 …).
        shown = [t for t in matched if len(t) > 1 or t in self.analyzer.synonyms.words]
        return SearchHit(
            article=article,
            score=score,
            title_html=highlight(article.title, shown),
            snippet_html=snippet(article.body, shown, self.settings.snippet_chars),
            matched_terms=matched,
            flags=flags(article, today, self.settings.review),
        )

"""Topics of requests (诉求主题), derived from the request's text: orders carry no topic column.

The dictionary is data (``minhu/reports/data/topics.toml``): categories (一级分类, e.g. 城市管理)
hold topics (二级主题, e.g. 占道经营), each with the words that reveal it. The text is segmented
by an injected :class:`Segmenter` (jieba in production, with every dictionary word added, so that a
keyword is one token and a short word never matches inside a longer one: 水 is not found in 下水道).

Classification of one request: every token equal to a topic's keyword is a hit for that topic; the
topic with the most hits wins, ties going to the topic listed first in the dictionary (the
dictionary's order is its priority). No hit: the dictionary's fallback topic (其他). One request
has exactly one topic, so the shares of the topics (and of the categories) add up to 100 %.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from workorders.errors import InvalidInput


class Segmenter(Protocol):
    """Splits Chinese text into words (分词)."""

    def __call__(self, text: str) -> Sequence[str]: ...


@dataclass(frozen=True, slots=True)
class Topic:
    """二级主题: a topic within a category."""

    category: str
    name: str
    keywords: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.category}/{self.name}"


@dataclass(frozen=True)
class TopicDictionary:
    """The documented domain dictionary: categories in order, each with its topics in order."""

    topics: tuple[Topic, ...]
    fallback: Topic

    def __post_init__(self) -> None:
        keys = [t.key for t in self.topics]
        if len(set(keys)) != len(keys):
            raise InvalidInput("topic-duplicate", "主题词典中有重复的主题")
        if any(not t.keywords for t in self.topics):
            raise InvalidInput("topic-no-keywords", "主题词典中每个主题至少需要一个关键词")

    @classmethod
    def from_mapping(
        cls, data: Mapping[str, Iterable[Mapping[str, object]]], fallback: str
    ) -> TopicDictionary:
        """``{"城市管理": [{"name": "占道经营", "keywords": [...]}, ...], ...}`` in priority order."""
        topics: list[Topic] = []
        for category, items in data.items():
            for item in items:
                words = item.get("keywords")
                if not isinstance(words, list | tuple):
                    raise InvalidInput("topic-bad-keywords", f"主题“{item.get('name')}”的关键词须为列表")
                topics.append(Topic(str(category), str(item["name"]), tuple(str(w) for w in words)))
        category, _, name = fallback.partition("/")
        return cls(tuple(topics), Topic(category, name or category, ()))

    @property
    def categories(self) -> tuple[str, ...]:
        """Category names in dictionary order, the fallback's last."""
        seen = dict.fromkeys(t.category for t in self.topics)
        seen.setdefault(self.fallback.category)
        return tuple(seen)

    @property
    def words(self) -> frozenset[str]:
        """Every keyword: the segmenter must keep each of them as one token."""
        return frozenset(w for t in self.topics for w in t.keywords)

    def index(self) -> Mapping[str, tuple[int, ...]]:
        """keyword → positions of the topics it belongs to."""
        out: dict[str, list[int]] = {}
        for i, topic in enumerate(self.topics):
            for word in topic.keywords:
                out.setdefault(word, []).append(i)
        return {w: tuple(ix) for w, ix in out.items()}


@dataclass(frozen=True, slots=True)
class TopicMatch:
    topic: Topic
    hits: tuple[str, ...]  # the keywords found, in text order


class TopicClassifier:
    """One topic per request text (see the module's rule)."""

    def __init__(self, dictionary: TopicDictionary, segmenter: Segmenter) -> None:
        self.dictionary = dictionary
        self._segment = segmenter
        self._index = dictionary.index()

    def classify(self, text: str) -> TopicMatch:
        counts: dict[int, int] = {}
        found: list[str] = []
        for token in self._segment(text):
            positions = self._index.get(token)
            if positions is None:
                continue
            found.append(token)
            for i in positions:
                counts[i] = counts.get(i, 0) + 1
        if not counts:
            return TopicMatch(self.dictionary.fallback, ())
        best = min(counts, key=lambda i: (-counts[i], i))
        topic = self.dictionary.topics[best]
        return TopicMatch(topic, tuple(w for w in found if w in topic.keywords))

"""The analysis data (``data/topics.toml``) and the jieba segmenter the topic classifier uses."""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import jieba

from workorders.analysis import (
    AnalysisSettings,
    LeaderDayRules,
    PlaceRules,
    TopicClassifier,
    TopicDictionary,
    WindowKind,
)
from workorders.enums import RequestKind
from workorders.errors import PolicyError


@dataclass(frozen=True)
class AnalysisData:
    dictionary: TopicDictionary
    places: PlaceRules
    settings: AnalysisSettings
    leader_day: LeaderDayRules


def parse_analysis_data(text: str) -> AnalysisData:
    try:
        raw = tomllib.loads(text)
        categories: dict[str, list[dict[str, Any]]] = {
            c["name"]: list(c["topics"]) for c in raw["categories"]
        }
        dictionary = TopicDictionary.from_mapping(categories, str(raw["fallback"]))
        p = raw["places"]
        places = PlaceRules(
            tuple(p["area_suffixes"]),
            tuple(p["subarea_suffixes"]),
            tuple(p["community_suffixes"]),
            tuple(p["road_suffixes"]),
        )
        a = raw["analysis"]
        settings = AnalysisSettings(
            trend_windows=MappingProxyType({WindowKind(k): int(v) for k, v in a["trend_windows"].items()}),
            top_topics=int(a["top_topics"]),
            rising_min_orders=int(a["rising_min_orders"]),
            rising_min_share_points=Decimal(str(a["rising_min_share_points"])),
            cluster_min_orders=int(a["cluster_min_orders"]),
            difficult_min_periods=int(a["difficult_min_periods"]),
            difficult_lookback_days=int(a["difficult_lookback_days"]),
            difficult_kinds=frozenset(RequestKind(k) for k in a["difficult_kinds"]),
        )
        leader = LeaderDayRules(**{k: int(v) for k, v in raw["leader_day"].items()})
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise PolicyError("analysis-bad-data", f"分析词典文件无效：{exc}") from exc
    return AnalysisData(dictionary, places, settings, leader)


def load_analysis_data(path: Path | None = None) -> AnalysisData:
    """The shipped data file, or a deployment's own copy."""
    if path is not None:
        return parse_analysis_data(path.read_text(encoding="utf-8"))
    return _shipped()


@lru_cache(maxsize=1)
def _shipped() -> AnalysisData:
    text = resources.files("minhu.reports").joinpath("data/topics.toml").read_text(encoding="utf-8")
    return parse_analysis_data(text)


class JiebaSegmenter:
    """jieba (precise mode, no HMM new-word guessing) on a private tokenizer holding the topic words."""

    def __init__(self, words: Sequence[str]) -> None:
        jieba.setLogLevel(logging.WARNING)
        self._tk = jieba.Tokenizer()
        self._tk.initialize()
        for word in sorted(words):
            self._tk.add_word(word, 100_000)

    def __call__(self, text: str) -> Sequence[str]:
        return [w for w in self._tk.lcut(text, HMM=False) if w.strip()]


def classifier_for(data: AnalysisData) -> TopicClassifier:
    return TopicClassifier(data.dictionary, JiebaSegmenter(sorted(data.dictionary.words)))

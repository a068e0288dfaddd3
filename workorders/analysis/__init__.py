"""分析报告 — hot and difficult topics of the requests (Art. 19; seeds 000, 003) and the leaders'
hotline day (Art. 6), as pure computation over orders: no I/O, exact fractions of integer counts.

- :mod:`.windows` — the day, week, month or year a bulletin covers.
- :mod:`.topics` — topics derived from the request text with a documented dictionary (data).
- :mod:`.places` — the place an address names, for clusters.
- :mod:`.hot` — shares, trends, rising topics, clusters and difficult requests.
- :mod:`.leader_day` — the leaders' hotline day schedule and its rule check.
"""

from .hot import (
    Cluster,
    DifficultMatter,
    HotTopicAnalysis,
    RequestRecord,
    RisingTopic,
    Share,
    ShareSeries,
    ShareTable,
    Trend,
    analyse,
    data_start,
    percent,
)
from .leader_day import LeaderDayIssue, LeaderDayRules, LeaderHotlineDay, check_schedule
from .places import Place, PlaceRules, place_of
from .settings import DEFAULT_ANALYSIS_SETTINGS, AnalysisSettings
from .topics import Segmenter, Topic, TopicClassifier, TopicDictionary, TopicMatch
from .windows import Window, WindowKind

__all__ = [
    "DEFAULT_ANALYSIS_SETTINGS",
    "AnalysisSettings",
    "Cluster",
    "DifficultMatter",
    "HotTopicAnalysis",
    "LeaderDayIssue",
    "LeaderDayRules",
    "LeaderHotlineDay",
    "Place",
    "PlaceRules",
    "RequestRecord",
    "RisingTopic",
    "Segmenter",
    "Share",
    "ShareSeries",
    "ShareTable",
    "Topic",
    "TopicClassifier",
    "TopicDictionary",
    "TopicMatch",
    "Trend",
    "Window",
    "WindowKind",
    "analyse",
    "check_schedule",
    "data_start",
    "percent",
    "place_of",
]

from __future__ import annotations

import pytest

from knowledge_base.analysis import Analyzer, default_analyzer
from knowledge_base.index import SearchIndex

from .kb_dataset import EVAL_DAY, labelled_kb


@pytest.fixture(scope="session")
def analyzer() -> Analyzer:
    return default_analyzer()


@pytest.fixture(scope="session")
def labelled_index(analyzer: Analyzer) -> SearchIndex:
    """The labelled knowledge base (base articles + ≥ 3,000 distractors), built once."""
    index = SearchIndex(analyzer, clock=lambda: EVAL_DAY)
    index.rebuild(labelled_kb())
    return index

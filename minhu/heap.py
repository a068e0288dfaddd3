"""Keep the garbage collector's full passes short in long-running servers.

A worker imports and builds a large, long-lived heap at start-up (SQLAlchemy's and pydantic's
machinery, the policy, the calendars, the knowledge base's index, jieba's dictionary). CPython's
full (generation 2) collection walks every tracked object, so with that heap each one paused the
event loop for about 130 ms, and every request waiting on it saw the pause: it was the whole of
the list endpoint's p99 under load. :func:`freeze_startup_heap` moves what start-up built into
the permanent generation, which collections skip; garbage made by requests is still collected.
"""

from __future__ import annotations

import gc

from minhu.logging import get_logger

log = get_logger(__name__)


def freeze_startup_heap(process: str) -> None:
    """Collect once, then exclude every object alive now from later collections (``gc.freeze``).

    Call it when start-up is complete, before serving. Objects that start-up built and later
    drops are not freed until the process ends; that is start-up's own state, a bounded amount.
    """
    gc.collect()
    gc.freeze()
    log.info("heap.frozen", process=process, frozen_objects=gc.get_freeze_count())

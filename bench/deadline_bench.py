"""How long one deadline computation takes (µs per call), over a realistic mix of orders.

The mix: B and C orders (working days, the expensive case) spread over a year of start times
including holiday periods, plus A (hours) and mailbox items (10 working days).
"""

from __future__ import annotations

import random
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from minhu.calendar_source import build_calendar
from minhu.policy import load_profile
from workorders.enums import Category, Channel
from workorders.lifecycle import handling_deadline

SH = ZoneInfo("Asia/Shanghai")


def run(calls: int = 200_000, seed: int = 7) -> dict[str, float]:
    rng = random.Random(seed)
    policy = load_profile()
    calendar = build_calendar()
    start = datetime(2026, 1, 1, tzinfo=SH)
    cases = []
    for _ in range(10_000):
        at = start + timedelta(minutes=rng.randrange(0, 360 * 24 * 60))
        category = rng.choice([Category.A, Category.B, Category.B, Category.B, Category.C])
        channel = Channel.MAYOR_MAILBOX if rng.random() < 0.1 else Channel.PHONE
        cases.append((category, channel, at))
    for case in cases[:1000]:  # warm-up
        handling_deadline(*case, policy, calendar)
    t0 = time.perf_counter()
    for i in range(calls):
        category, channel, at = cases[i % len(cases)]
        handling_deadline(category, channel, at, policy, calendar)
    elapsed = time.perf_counter() - t0
    return {"deadline_us_per_call": elapsed / calls * 1e6}


if __name__ == "__main__":
    print(run())

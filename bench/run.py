"""``make bench``: run every benchmark and merge its figures into bench/results.json."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable

from bench import (
    ami_bench,
    api_bench,
    asr_bench,
    assessment_bench,
    deadline_bench,
    dialer_bench,
    draft_bench,
    draft_service_bench,
    kb_bench,
    live_transcript_bench,
    screen_pop_bench,
)
from bench.results_file import RESULTS, record

BENCHMARKS: dict[str, Callable[[], dict[str, float]]] = {
    "deadline": deadline_bench.run,
    "api": api_bench.run,
    "asr": asr_bench.run,
    "kb": kb_bench.run,
    "draft": draft_bench.run,
    "draft_service": draft_service_bench.run,
    "ami": ami_bench.run,
    "dialer": dialer_bench.run,
    "screen_pop": screen_pop_bench.run,
    "assessment": assessment_bench.run,
    "live_transcript": live_transcript_bench.run,
}


def main(argv: list[str]) -> int:
    wanted = argv or list(BENCHMARKS)
    unknown = [w for w in wanted if w not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    for name in wanted:
        print(f"== {name}", flush=True)
        figures = BENCHMARKS[name]()
        print(json.dumps(figures, indent=2), flush=True)
        record(figures)
    print(f"figures written to {RESULTS}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

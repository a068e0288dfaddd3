"""The one results file: a flat JSON object of number values, merged benchmark by benchmark."""

from __future__ import annotations

import json
import math
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.json"


def record(figures: dict[str, float]) -> dict[str, float]:
    """Merge ``figures`` into the results file and return the whole object."""
    for key, value in figures.items():
        if not isinstance(value, int | float) or isinstance(value, bool) or not math.isfinite(value):
            raise ValueError(f"benchmark figure {key} must be a finite number, got {value!r}")
    current: dict[str, float] = {}
    if RESULTS.exists():
        current = json.loads(RESULTS.read_text(encoding="utf-8"))
    current.update({k: round(float(v), 3) for k, v in figures.items()})
    tmp = RESULTS.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(RESULTS)
    return current

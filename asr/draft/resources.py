"""The small data files shipped in ``asr/data`` (keyword rules, the default unit directory, place
names, the segmenter's domain dictionary), read once and cached."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from asr.draft.model import UnitRef

DATA = Path(__file__).resolve().parent.parent / "data"
RULES = DATA / "draft_rules.json"
UNITS = DATA / "draft_units.json"
PLACES = DATA / "draft_places.txt"
DICTIONARY = DATA / "draft_dict.txt"

Weighted = tuple[tuple[str, float], ...]


@dataclass(frozen=True, slots=True)
class Topic:
    """A subject of requests (供暖, 占道经营 …) with its keywords and who usually handles it."""

    id: str
    label: str
    unit: str
    local: bool
    kind: str
    category: str
    keywords: Weighted


@dataclass(frozen=True, slots=True)
class Rules:
    kind_cues: dict[str, Weighted]
    danger_cues: Weighted
    planning_cues: Weighted
    topics: tuple[Topic, ...]
    asr_fixes: dict[str, str]
    fillers: tuple[str, ...]
    smalltalk: frozenset[str]
    surnames: frozenset[str]
    compound_surnames: tuple[str, ...]
    surname_spellings: dict[str, str]
    male_titles: tuple[str, ...]
    female_titles: tuple[str, ...]


def _weighted(items: list[list[Any]]) -> Weighted:
    return tuple((str(w), float(v)) for w, v in items)


def _lines(path: Path) -> list[str]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


@lru_cache(maxsize=1)
def rules() -> Rules:
    raw = json.loads(RULES.read_text(encoding="utf-8"))
    topics = tuple(
        Topic(
            id=t["id"],
            label=t["label"],
            unit=t["unit"],
            local=bool(t["local"]),
            kind=t["kind"],
            category=t["category"],
            keywords=_weighted(t["keywords"]),
        )
        for t in raw["topics"]
    )
    return Rules(
        kind_cues={k: _weighted(v) for k, v in raw["kind_cues"].items()},
        danger_cues=_weighted(raw["danger_cues"]),
        planning_cues=_weighted(raw["planning_cues"]),
        topics=topics,
        asr_fixes=dict(raw["asr_fixes"]),
        fillers=tuple(sorted(raw["fillers"], key=len, reverse=True)),
        smalltalk=frozenset(raw["smalltalk"]),
        surnames=frozenset(raw["surnames"]),
        compound_surnames=tuple(raw["compound_surnames"]),
        surname_spellings=dict(raw["surname_spellings"]),
        male_titles=tuple(sorted(raw["male_titles"], key=len, reverse=True)),
        female_titles=tuple(sorted(raw["female_titles"], key=len, reverse=True)),
    )


@lru_cache(maxsize=1)
def default_units() -> tuple[UnitRef, ...]:
    """The default directory (a Pingdingshan-like city); callers normally pass their own."""
    raw = json.loads(UNITS.read_text(encoding="utf-8"))
    return tuple(
        UnitRef(
            unit_id=u["id"],
            name=u["name"],
            aliases=tuple(u.get("aliases", ())),
            areas=tuple(u.get("areas", ())),
            is_district=bool(u.get("district", False)),
        )
        for u in raw["units"]
    )


@lru_cache(maxsize=1)
def place_names() -> tuple[str, ...]:
    """Known place names, longest first."""
    names = set(_lines(PLACES))
    for unit in default_units():
        names.update(unit.areas)
    return tuple(sorted(names, key=len, reverse=True))

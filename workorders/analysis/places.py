"""Places named in an order's address (地点), for the clusters of the bulletin (聚集地点).

The address is free text written by the intake agent (``卫东区东安路12号院``, ``矿工路街道光明小区``,
``建设路中兴路口``). :func:`place_of` reads two things from it with the suffix lists of
:class:`PlaceRules` (data, in the topic dictionary file):

- the **area** (所属区县): a leading name ending in an area suffix (区, 县, 市), e.g. 卫东区;
- the **place** (地点): the first named community-like place (小区, 社区, 院, 村, 市场, 公园, ...),
  cut after the last road suffix before it (南环路锦华小区 → 锦华小区) unless that leaves a bare
  common noun, which keeps its road without the number (东安路55号菜市场 → 东安路菜市场);
  otherwise the first road (路, 街, 大道, 巷) after the area and street-office prefix
  (新华区建设路西段 → 建设路).

An address with neither gives no place; such orders are not in any cluster.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_CJK = "\u4e00-\u9fff"


@dataclass(frozen=True)
class PlaceRules:
    area_suffixes: tuple[str, ...]
    subarea_suffixes: tuple[str, ...]
    community_suffixes: tuple[str, ...]
    road_suffixes: tuple[str, ...]
    area: re.Pattern[str] = field(init=False, repr=False, compare=False)
    subarea: re.Pattern[str] = field(init=False, repr=False, compare=False)
    community: re.Pattern[str] = field(init=False, repr=False, compare=False)
    road: re.Pattern[str] = field(init=False, repr=False, compare=False)
    road_tail: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        def alt(words: tuple[str, ...]) -> str:
            return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))

        object.__setattr__(self, "area", re.compile(rf"^([{_CJK}]{{1,6}}?(?:{alt(self.area_suffixes)}))"))
        object.__setattr__(
            self, "subarea", re.compile(rf"^([{_CJK}]{{1,8}}?(?:{alt(self.subarea_suffixes)}))")
        )
        object.__setattr__(
            self, "community", re.compile(rf"([{_CJK}0-9０-９号]{{1,16}}?(?:{alt(self.community_suffixes)}))")
        )
        object.__setattr__(self, "road", re.compile(rf"([{_CJK}]{{1,8}}?(?:{alt(self.road_suffixes)}))"))
        object.__setattr__(self, "road_tail", re.compile(rf".*(?:{alt(self.road_suffixes)})[0-9号]*"))


@dataclass(frozen=True, slots=True)
class Place:
    name: str
    area: str = ""

    @property
    def label(self) -> str:
        return f"{self.area}{self.name}" if self.area and not self.name.startswith(self.area) else self.name


def place_of(address: str, rules: PlaceRules) -> Place | None:
    text = re.sub(r"\s+", "", address)
    if not text:
        return None
    area = ""
    if (m := rules.area.match(text)) is not None and not _is_community(m.group(1), rules):
        area = m.group(1)
        text = text[len(area) :]
    rest = text
    if (m := rules.subarea.match(rest)) is not None:
        rest = rest[len(m.group(1)) :]
    if (m := rules.community.search(rest)) is not None:
        name = m.group(1)
        if (tail := rules.road_tail.match(name)) is not None and tail.end() < len(name) - 1:
            stripped = name[tail.end() :]
            suffix = max((x for x in rules.community_suffixes if stripped.endswith(x)), key=len)
            if len(stripped) - len(suffix) >= 2:
                name = stripped  # 南环路锦华小区 → 锦华小区
            else:  # a bare common noun keeps its road: 东安路55号菜市场 → 东安路菜市场
                name = name[: tail.end()].rstrip("0123456789０１２３４５６７８９号") + stripped
        return Place(name, area)
    if (m := rules.road.search(rest)) is not None:
        return Place(m.group(1), area)
    return None


def _is_community(word: str, rules: PlaceRules) -> bool:
    return any(word.endswith(s) for s in rules.community_suffixes)

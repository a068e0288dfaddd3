"""Loads policy profiles from their data files (``minhu/policy_profiles/*.toml``).

A profile file may name another with ``inherits`` and replace some of its settings. A deployment
picks one by name (``MINHU_POLICY_PROFILE``) and may override any setting
(``MINHU_POLICY_OVERRIDES``, a JSON object of the same keys as the files).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from importlib import resources
from typing import Any

from workorders.errors import PolicyError
from workorders.policy import PolicyProfile

DEFAULT_PROFILE = "pingdingshan-2022"
_PACKAGE = "minhu.policy_profiles"


def available_profiles() -> list[str]:
    return sorted(
        entry.name.removesuffix(".toml")
        for entry in resources.files(_PACKAGE).iterdir()
        if entry.name.endswith(".toml")
    )


def _raw(name: str, seen: tuple[str, ...] = ()) -> dict[str, Any]:
    if name in seen:
        raise PolicyError("policy-inheritance-loop", f"政策配置继承出现循环：{' → '.join((*seen, name))}")
    path = resources.files(_PACKAGE).joinpath(f"{name}.toml")
    if not path.is_file():
        known = "、".join(available_profiles())
        raise PolicyError("policy-unknown-profile", f"没有名为“{name}”的政策配置（可选：{known}）")
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    parent = data.pop("inherits", None)
    if parent is None:
        return data
    merged = _raw(str(parent), (*seen, name))
    merged.update(data)
    return merged


def load_profile(name: str = DEFAULT_PROFILE, overrides: Mapping[str, Any] | None = None) -> PolicyProfile:
    """The named profile, with a deployment's overrides applied."""
    data = _raw(name)
    if overrides:
        data.update(overrides)
    return PolicyProfile.from_mapping(data)

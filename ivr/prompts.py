"""The prompt catalogue (语音提示目录): every prompt by its Asterisk name, with its Chinese text.

Prompts are Chinese sound files on the Asterisk host, referenced by name (``minhu/welcome``,
relative to the sounds directory of the channel's language, no extension). The catalogue
(``ivr/prompts/catalogue.yaml``) lists each name with what it says; with a prompt directory
configured, a name is only playable when a sound file of that name exists there too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Final

import yaml  # type: ignore[import-untyped, unused-ignore]

DEFAULT_CATALOGUE: Final = Path(__file__).parent / "prompts" / "catalogue.yaml"

SOUND_EXTENSIONS: Final = frozenset(
    {".wav", ".WAV", ".wav16", ".sln", ".sln16", ".gsm", ".ulaw", ".alaw", ".g722", ".g729", ".mp3"}
)
"""Formats Asterisk can play (file names as Asterisk's file.c looks them up)."""


class PromptCatalogueError(Exception):
    error_id = "ivr-prompt-catalogue-invalid"


@dataclass(frozen=True)
class PromptCatalogue:
    texts: Mapping[str, str]
    source: str = ""
    directory: Path | None = None
    """Set: a prompt also needs a sound file here (``<directory>/<name>.<format>``)."""
    _files: frozenset[str] = field(default=frozenset(), repr=False)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.problem(name) is None

    def text(self, name: str) -> str:
        return self.texts[name]

    def problem(self, name: str) -> str | None:
        """Why ``name`` cannot be played, or None."""
        if name not in self.texts:
            return f"不在提示音目录 {self.source} 中"
        if self.directory is not None and name not in self._files:
            return f"在 {self.directory} 中没有声音文件"
        return None

    def with_directory(self, directory: Path) -> PromptCatalogue:
        """The same catalogue, checked against the sound files under ``directory``."""
        if not directory.is_dir():
            raise PromptCatalogueError(f"提示音目录 {directory} 不存在")
        files = frozenset(
            path.relative_to(directory).with_suffix("").as_posix()
            for path in directory.rglob("*")
            if path.is_file() and path.suffix in SOUND_EXTENSIONS
        )
        return PromptCatalogue(self.texts, self.source, directory, files)


def load_catalogue(path: Path = DEFAULT_CATALOGUE) -> PromptCatalogue:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PromptCatalogueError(f"无法读取提示音目录 {path}：{exc}") from exc
    prompts = data.get("prompts") if isinstance(data, dict) else None
    if not isinstance(prompts, dict) or not prompts:
        raise PromptCatalogueError(f"{path} 应包含 prompts：名称 → 文字")
    bad = [str(k) for k, v in prompts.items() if not isinstance(k, str) or not isinstance(v, str) or not v]
    if bad:
        raise PromptCatalogueError(f"{path}：提示音 {', '.join(bad)} 缺少文字")
    return PromptCatalogue(MappingProxyType(dict(prompts)), str(path))

"""Chinese text analysis shared by indexing and queries: jieba segmentation (search mode, so 公积金提取
also yields 公积金 and 提取) with the hotline's domain dictionary, normalisation, stop words and the
synonym table that maps a citizen's words to the ones the articles use."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba

DATA = Path(__file__).resolve().parent / "data"
DOMAIN_DICT = DATA / "domain_dict.txt"
SYNONYMS = DATA / "synonyms.txt"
STOPWORDS = DATA / "stopwords.txt"

_WORD = re.compile(r"[\w\u4e00-\u9fff]")
_SENTENCE = re.compile(r"(?<=[。！？；;!?\n])")


def _data_lines(path: Path) -> Iterable[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            yield line


def normalize(text: str) -> str:
    """Full-width to half-width (NFKC) and lower case: ＡＢＣ１２ → abc12."""
    return unicodedata.normalize("NFKC", text).lower()


@dataclass(frozen=True, slots=True)
class SynonymTable:
    """Groups of interchangeable words (下水道 排水管道 污水管 …). Expansion is symmetric within a group;
    a word may belong to several groups."""

    groups: tuple[tuple[str, ...], ...]

    @classmethod
    def load(cls, path: Path = SYNONYMS) -> SynonymTable:
        groups = []
        for line in _data_lines(path):
            members = tuple(dict.fromkeys(normalize(w) for w in re.split(r"[\s,，/、]+", line) if w))
            if len(members) > 1:
                groups.append(members)
        return cls(tuple(groups))

    @property
    def words(self) -> frozenset[str]:
        return _words(self)

    def expand(self, word: str) -> tuple[str, ...]:
        """``word`` followed by every word sharing a group with it, without repeats."""
        return _expand(self, word)


@lru_cache(maxsize=64)
def _words(table: SynonymTable) -> frozenset[str]:
    return frozenset(w for group in table.groups for w in group)


@lru_cache(maxsize=65536)
def _expand(table: SynonymTable, word: str) -> tuple[str, ...]:
    found = [word]
    for group in table.groups:
        if word in group:
            found.extend(w for w in group if w != word)
    return tuple(dict.fromkeys(found))


class Analyzer:
    """Turns text into index terms. One instance per process is enough; it is safe to share once built.

    ``extra_words`` are added to jieba's dictionary on top of the domain dictionary and every synonym,
    so each synonym survives segmentation as one word.
    """

    def __init__(
        self,
        *,
        domain_dict: Path | None = DOMAIN_DICT,
        synonyms: SynonymTable | None = None,
        stopwords: Path | None = STOPWORDS,
        extra_words: Sequence[str] = (),
        hmm: bool = False,
    ) -> None:
        logging.getLogger("jieba").setLevel(logging.WARNING)
        self.synonyms = synonyms if synonyms is not None else SynonymTable.load()
        self.stopwords: frozenset[str] = (
            frozenset(normalize(w) for line in _data_lines(stopwords) for w in line.split())
            if stopwords is not None
            else frozenset()
        )
        self._hmm = hmm
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        words: list[tuple[str, int | None]] = []
        if domain_dict is not None:
            for line in _data_lines(domain_dict):
                parts = line.split()
                freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                words.append((normalize(parts[0]), freq))
        words.extend((w, None) for w in sorted(self.synonyms.words))
        words.extend((normalize(w), None) for w in extra_words)
        for word, freq in words:
            if len(word) > 1:
                self._jieba.add_word(word, freq)
        self._sentence_terms = lru_cache(maxsize=200_000)(self._terms_uncached)

    def _terms_uncached(self, sentence: str) -> tuple[str, ...]:
        out = []
        for token in self._jieba.cut_for_search(sentence, HMM=self._hmm):
            token = token.strip()
            if not token or token in self.stopwords or not _WORD.search(token):
                continue
            if token.isdigit() and len(token) < 2:
                continue
            out.append(token)
        return tuple(out)

    def terms(self, text: str) -> list[str]:
        """Index terms of ``text`` in order (search-mode segmentation: a long word is followed by the
        shorter dictionary words inside it). Sentences are cached: templates and boilerplate repeat."""
        out: list[str] = []
        for sentence in _SENTENCE.split(normalize(text)):
            if sentence:
                out.extend(self._sentence_terms(sentence))
        return out

    def words(self, text: str) -> list[str]:
        """Plain segmentation (precise mode), normalised, stop words kept: for display and debugging."""
        return [w for w in self._jieba.lcut(normalize(text), HMM=self._hmm) if w.strip()]


@lru_cache(maxsize=1)
def default_analyzer() -> Analyzer:
    """The analyzer built from the shipped data files (built once per process: jieba takes ~1 s)."""
    return Analyzer()

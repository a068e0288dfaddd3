"""Segmentation with jieba and the draft's own domain dictionary (a private ``jieba.Tokenizer``, so
the knowledge base's segmenter and its dictionary are never touched)."""

from __future__ import annotations

import logging
import re
from functools import lru_cache

import jieba

from asr.draft.resources import DICTIONARY, default_units, place_names, rules

_WORD = re.compile(r"[\w\u4e00-\u9fff]")
STOPWORDS = frozenset(
    "的 了 是 我 你 他 她 我们 你们 他们 这 那 这个 那个 就 都 也 还 在 有 和 跟 与 啊 吧 呢 吗 嗯 呃 哦 喂 "
    "就是 然后 一个 一下 什么 怎么 没有 不是 可以 现在 已经 还是 因为 所以 但是 他们 这边 那边 您好 你好 "
    "好的 谢谢 对 是的 咱们 俺 给 把 被 让 说 去 来 要 想 能 会 又 再 才 很 太 多 少 个 些 么".split()
)


@lru_cache(maxsize=1)
def tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tk = jieba.Tokenizer()
    tk.load_userdict(str(DICTIONARY))
    r = rules()
    words = {w for t in r.topics for w, _ in t.keywords} | set(place_names())
    for unit in default_units():
        words.update(unit.names)
    for w in sorted(words):
        if len(w) > 1:
            tk.add_word(w, freq=2000)
    return tk


def tokens(text: str) -> list[str]:
    """Content words of ``text`` (no punctuation, no stop words)."""
    return [w for w in tokenizer().lcut(text) if _WORD.search(w) and w not in STOPWORDS and not w.isspace()]

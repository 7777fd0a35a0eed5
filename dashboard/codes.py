"""Codes the pipeline stores inside text, in the page's language: aspect tags ("质量:neg")
and the triage's reasons ("tier 5: 安全：人身伤害 safety: harm to a person: 烫伤; reach 12;
reading neg (model); motive 补偿: 退款").

The triage writes its reasons in a fixed machine wording (sentiment/triage.py), each signal's
kind in both languages; the pages keep the kind in the page's language, translate the fixed
words and keep the matched words from the mention as they are.
"""

from __future__ import annotations

import re

import pandas as pd

from dashboard.i18n import aspect_name, current_lang, t, t_value

ASPECT_TAG = re.compile(r"([^\s:]+):(pos|neu|neg)")
# The triage's fixed phrases -> their code in the "reason" family, longest first so a phrase
# wins over a word inside it.
REASON_PHRASES = {
    "no remedy, respect or suggestion words": "no_motive_words",
    "complaint, no urgent signal": "complaint_calm",
    "complaint with reach": "complaint_reach",
    "no complaint": "no_complaint",
    "question": "question",
    "reach": "reach",
    "reading": "reading",
    "model": "model",
    "motive": "motive",
    "pos": "pos",
    "neu": "neu",
    "neg": "neg",
}
# A signal's kind as the triage writes it: "安全：人身伤害 safety: harm to a person: 烫伤".
_KIND = re.compile(r"([^\s;:]+：[^\s;]+) ([a-z][a-z ]*: [^:;]+): ")
_PHRASE = re.compile(r"\b(" + "|".join(re.escape(p) for p in REASON_PHRASES) + r")\b")
_TIER = re.compile(r"^tier (\d): ")


def aspect_words(tags: object) -> str:
    """ "质量:neg 物流:pos" as "质量 (负面)、物流 (正面)" in the page's language."""
    if not isinstance(tags, str):
        return ""
    return "、".join(f"{aspect_name(a)} ({t_value('label', p)})" for a, p in ASPECT_TAG.findall(tags))


def aspect_column(tags: pd.Series) -> pd.Series:
    """A column of aspect tags in words, each distinct tag string put in words once: a name looks at
    koubei.toml and the session's language (about 0.4 ms a row, 0.2 s for a 500-row page)."""
    words = {tag: aspect_words(tag) for tag in tags.dropna().unique()}
    return tags.map(lambda tag: words.get(tag, ""))


def reason_words(reason: object) -> str:
    """A triage reason with its fixed words in the page's language."""
    if not isinstance(reason, str):
        return ""
    text = _TIER.sub(lambda m: t("triage.tier_n", n=m.group(1)) + ": ", reason)
    english = current_lang() == "en"
    text = _KIND.sub(lambda m: f"{m.group(2)}: " if english else f"{m.group(1)}：", text)
    return _PHRASE.sub(lambda m: t_value("reason", REASON_PHRASES[m.group(1)]), text)

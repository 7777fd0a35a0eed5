"""Codes the pipeline stores inside text, in the page's language: aspect tags ("质量:neg")
and the triage's reasons ("tier 5: safety 烫伤 (reach 12); motive 补偿: 退款").

The triage writes its reasons in a fixed machine wording (sentiment/triage.py); the pages
translate its fixed words and keep the matched words from the mention as they are.
"""

from __future__ import annotations

import re

from dashboard.i18n import t, t_value

ASPECT_TAG = re.compile(r"([^\s:]+):(pos|neu|neg)")
# The triage's fixed phrases -> their code in the "reason" family, longest first so a phrase
# wins over a word inside it.
REASON_PHRASES = {
    "no remedy, respect or suggestion words": "no_motive_words",
    "negative, no urgent signal": "negative_calm",
    "no complaint signal": "no_complaint",
    "negative with reach": "negative_reach",
    "at low reach": "low_reach",
    "reach": "reach",
    "motive": "motive",
    "safety": "safety",
    "legal": "legal",
    "regulator": "regulator",
    "media": "media",
    "mass": "mass",
    "critical": "critical",
    "urgent": "urgent",
    "pos": "pos",
    "neu": "neu",
}
_PHRASE = re.compile(r"\b(" + "|".join(re.escape(p) for p in REASON_PHRASES) + r")\b")
_TIER = re.compile(r"^tier (\d): ")


def aspect_words(tags: object) -> str:
    """ "质量:neg 物流:pos" as "质量 (负面)、物流 (正面)" in the page's language."""
    if not isinstance(tags, str):
        return ""
    return "、".join(f"{t_value('aspect', a)} ({t_value('label', p)})" for a, p in ASPECT_TAG.findall(tags))


def reason_words(reason: object) -> str:
    """A triage reason with its fixed words in the page's language."""
    if not isinstance(reason, str):
        return ""
    text = _TIER.sub(lambda m: t("triage.tier_n", n=m.group(1)) + ": ", reason)
    return _PHRASE.sub(lambda m: t_value("reason", REASON_PHRASES[m.group(1)]), text)

"""The previous release's triage tier, kept as the baseline `koubei eval triage` compares with.

A frozen copy of the tier rules and signal words of sentiment/triage.py and
sentiment/lexicons/triage.tsv as they were at commit 6b1ae3d (before issue 15),
so that the comparison runs from an installed package without git. Motive and
reply are left out: only the tier is compared. Do not edit: it is a measurement.
"""

from __future__ import annotations

import re
from functools import lru_cache

from sentiment.text import to_simplified

RED_KINDS = ("safety", "legal", "regulator", "media", "mass")
REACH_STEPS = (50, 1000)
# kind, weight, words: sentiment/lexicons/triage.tsv at 6b1ae3d.
SIGNALS = (
    (
        "safety",
        3,
        "食物中毒,中毒,起火,着火,自燃,爆炸,炸了,烫伤,烧伤,触电,漏电,受伤,划伤,送医,住院,急诊,过敏,窒息,致癌,有毒,"
        "死人,出人命,异物,玻璃渣,鼓包,冒烟",
    ),
    ("legal", 2, "律师,起诉,诉讼,法院,报警,警察,立案,欺诈,索赔,维权,仲裁,违法,犯法,侵权,告你们,告上法庭"),
    ("regulator", 2, "315,3·15,消协,消费者协会,市场监管,工商,12315,12345,质监,食药监,市场监督管理局,监管部门"),
    ("media", 2, "曝光,记者,媒体,新闻,报道,上热搜,热搜,电视台,发微博,发抖音,全网,大V"),
    ("mass", 2, "集体维权,集体投诉,大批,很多人,所有人,一大批,批量,大面积,群里都,都出现,不止我一个,大家都"),
    (
        "urgent",
        1,
        "急,急用,马上,立刻,今天,明天,赶紧,还没到,没收到,没到账,扣款,扣费,多扣,重复扣,被扣,乱扣,退款没到,钱没退,"
        "没退款,等了,好几天,一周了,超时,取消不了,退不了,联系不上,打不通,没人管",
    ),
    (
        "critical",
        1,
        "第三次,多次,再次,又一次,一直没,三次,反复,屡次,再也不买,再也不会,拉黑,投诉到底,找你们领导,要求领导,经理,"
        "升级投诉,12315见",
    ),
)


@lru_cache(maxsize=1)
def _patterns() -> dict[str, tuple[int, re.Pattern[str]]]:
    return {
        kind: (weight, re.compile("|".join(map(re.escape, sorted(words.split(","), key=len, reverse=True)))))
        for kind, weight, words in SIGNALS
    }


def previous_tier(text: str, label: str, reach: int = 0) -> int:
    """The tier the previous release gave a mention with the model's `label`."""
    text = to_simplified(text)
    found = {kind for kind, (_, pattern) in _patterns().items() if pattern.search(text)}
    red = [kind for kind in found if kind in RED_KINDS]
    bonus = sum(reach >= step for step in REACH_STEPS)
    if red and sum(_patterns()[k][0] for k in red) + bonus >= 3:
        return 5
    if red:
        return 4
    if "critical" in found and label != "pos":
        return 4
    if label == "neg" and bonus >= 2:
        return 4
    if "urgent" in found and label != "pos":
        return 3
    return 2 if label == "neg" else 1

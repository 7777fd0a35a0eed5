"""Triage's reading and escalation, tenth round (issue 15, blind set 13 spent): mass incidents told plainly
(everyone, or many people counted, then what failed), a risk averted told as an alarm that worked, a worry
negated, a previous product's harm or a conditional one, and sarcasm cues (five stars given to a flaw,
"real" praise of a portion, 真是…呢 after a flaw, thanks for an update that took something away). The sentences
are written for these tests (none is a suite row); labels are given as the model might give them, so each
test pins the rule, not the model."""

from __future__ import annotations

import pytest

from sentiment.triage import triage
from tests.sentiment.test_triage_reading9 import tier_and_reading


# ---------------------------------------------------------------- mass incidents told plainly
@pytest.mark.parametrize(
    "text",
    [
        "Checkout has been down for everyone in our city since noon, nobody can pay",
        "Half the reviews this month say the new bottles leak. Something is wrong with this batch.",
        "医保卡今天刷不了，问了好几个邻居都一样，药都拿不到",
        "所有乘客都滞留在登机口五个小时，航空公司一个通知都没有",
        "這批尿布好多媽媽都說會漏，社團裡已經幾百則留言了",
    ],
)
def test_everyone_or_many_people_counted_then_what_failed_is_tier_5(text: str) -> None:
    # Cue scope, as the ninth round's count: the mention must complain (a neutral label with only a stranded
    # word, 所有乘客都滞留, stays the tier-3 loss).
    found = triage(text, "neg")
    assert found.urgency == 5, found.reason


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("好多妈妈都说好用，买了果然不错", "pos"),  # many people, praise
        ("Works great for everyone in the family, even grandma", "pos"),
        ("Half the reviews said it runs small, so I sized up and it fits perfectly", "pos"),
        ("所有住客都有免费早餐，不过咖啡有点淡", "neg"),  # everyone has a perk: nothing failed
        ("入口很难找，前台说好多客人都找不到，建议加个指示牌", "neg"),  # a search, not a loss
    ],
)
def test_many_people_with_nothing_failing_are_no_mass_incident(text: str, label: str) -> None:
    found = triage(text, label)
    assert found.urgency < 5, found.reason


# ---------------------------------------------------------------- a risk averted or handled well
@pytest.mark.parametrize(
    "text",
    [
        "Someone used my card online, the bank froze it within minutes and I lost nothing. Great team.",
        "监护器半夜报警提醒宝宝呛奶了，幸好及时发现，推荐",  # 报警 of a monitor is its alarm
        "积木块都做得很大，宝宝吞不下去，不用担心误吞，推荐",  # a worry negated
        "小零件都缝得很牢，扯不下来，不用担心噎到",  # a hazard word, then the worry of it negated
        "之前那个吹风机会冒火花，换了这个完全没问题，很安心",  # the previous product's harm
    ],
)
@pytest.mark.parametrize("label", ["neg", "neu"])
def test_a_risk_averted_or_only_feared_told_with_praise_is_tier_1_praise(text: str, label: str) -> None:
    assert tier_and_reading(text, label) == (1, "pos"), triage(text, label).reason


@pytest.mark.parametrize(
    "text", ["過敏的話店家可以不放蝦，很貼心，吃了完全沒事", "过敏的话可以备注不要芒果，老板很贴心"]
)
@pytest.mark.parametrize("label", ["neu", "pos"])
def test_a_harm_told_as_a_condition_is_no_signal(text: str, label: str) -> None:
    # 的话 after the harm word is a condition; a "neg" label stays the model's here, as for any praise
    # that reverses nothing (the rules flip a negative label only for what they read, e.g. a harm averted).
    assert tier_and_reading(text, label) == (1, "pos"), triage(text, label).reason
    assert triage(text, "neg").urgency < 5


@pytest.mark.parametrize(
    "text",
    [
        "店员动手推人，我已经报警了",  # the police
        "之前那台会漏电，换了这台还是漏电",  # the harm again in this product
        "过敏的话别买，我吃了起了一身疹子",  # the harm happened
        "不用担心？宝宝已经噎到送医了",
        "小零件掉了一地，不用担心噎到是骗人的",  # the reassurance denied
        "有小零件，不用担心噎到？宝宝已经噎到了",
    ],
)
def test_a_harm_that_happened_beside_those_frames_is_still_tier_5(text: str) -> None:
    found = triage(text, "neg")
    assert found.urgency == 5, found.reason


# ---------------------------------------------------------------- sarcasm cues
@pytest.mark.parametrize(
    "text",
    [
        "五星好评送给床底下的蟑螂，陪了我一整晚",
        "分量是真的精致，我还以为是送的小样",
        "用完脸更油了，真是神仙水呢",
        "服务真是一流，排了一个小时轮到我就说关门了",
        "謝謝這次更新，讓我的聊天記錄全部消失",
        "感谢新版本，让夜间模式直接没了",
        "感谢这次升级，让原来好用的筛选全部消失",  # praise of what it was before praises nothing now
        "五星好评送给房间里的小强，半夜出来打招呼",  # 小强: the cockroach
    ],
)
@pytest.mark.parametrize("label", ["pos", "neu"])
def test_praise_with_a_sarcasm_cue_beside_a_flaw_is_a_complaint(text: str, label: str) -> None:
    assert tier_and_reading(text, label) == (2, "neg"), triage(text, label).reason


@pytest.mark.parametrize(
    "text",
    [
        "五星好评送给前台小姐姐，服务太贴心了",
        "分量是真的足，两个人都吃不完",
        "真是神仙水呢，用完脸水润了好多",
        "服务真是一流，十分钟就办好了",
        "谢谢这次更新，广告全部消失了",  # what disappeared was a flaw
        "排了十来分钟，但是服务真是一流，问题一次解决",  # a wait of minutes is no failure beside praise
        "味道真香，一口下去烦恼都没了",  # 都没了 of a worry
    ],
)
def test_the_same_praise_without_a_flaw_stays_praise(text: str) -> None:
    assert tier_and_reading(text, "pos") == (1, "pos"), triage(text, "pos").reason

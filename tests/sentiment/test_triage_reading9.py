"""Triage's reading and escalation, ninth round (issue 15, blind set 12 spent): a risk averted or handled
well, a negation that reaches a harm a few words away or an "even my sensitive skin is fine" frame, crises
told plainly or as a question (bed bugs, other users' data shown, many people unable to reach their money),
and sarcasm cues (stars or thanks beside a loss, a mocking frame, a failure repeated). The sentences are
written for these tests (none is a suite row); labels are given as the model might give them, so each test
pins the rule, not the model."""

from __future__ import annotations

import pytest

from sentiment.reading import parse, read
from sentiment.triage import triage


def tier_and_reading(text: str, label: str) -> tuple[int, str]:
    found = triage(text, label)
    return found.urgency, found.reading


# ---------------------------------------------------------------- a risk averted or handled well
@pytest.mark.parametrize(
    "text",
    [
        "信用卡被人盗刷了两笔，银行第二天就全额退回了，服务真好",
        "差点被电信诈骗转账，幸好支付宝及时拦截，钱一分没少，感谢",
        "帳戶被盜刷，客服馬上幫我止付，錢都追回來了，超感謝",
        "儿子骑车摔了一跤，戴着这款头盔毫发无伤，买对了，推荐",
        "A fraudulent charge showed up on my card, the bank froze the card within minutes and refunded it. Great service.",
        "My son fell down the stairs in these knee pads and was totally fine. Thank you!",
        "Someone tried a fraudulent charge on my account, the bank caught it and reversed it. Impressed.",
    ],
)
@pytest.mark.parametrize("label", ["neg", "neu"])
def test_a_harm_or_loss_undone_or_hurting_nobody_told_with_praise_is_tier_1_praise(text: str, label: str) -> None:
    found = triage(text, label)
    assert (found.urgency, found.reading) == (1, "pos"), found.reason
    assert "harm averted" in found.reason


@pytest.mark.parametrize(
    ("text", "tier"),
    [
        ("卡被盗刷了，银行说会帮我冻结，到现在钱还没退回", 3),  # the undoing only promised
        ("My card was charged twice, they said they would refund it and nothing yet", 3),
        ("孩子摔了一跤，头盔一点事都没有，孩子的手却摔破了皮", 5),  # a harm after the report of none
        ("钱一分没少，谢谢", 1),  # nothing undone: no loss before it (and no alert either)
    ],
)
def test_an_undoing_promised_or_followed_by_a_harm_is_no_risk_averted(text: str, tier: int) -> None:
    found = triage(text, "neg")
    assert found.urgency == tier and "harm averted" not in found.reason, found.reason


# ---------------------------------------------------------------- negated harm at a distance
@pytest.mark.parametrize(
    "text",
    [
        "点了二十几次外卖，从来没吃出过头发虫子，很放心",  # 没 reaches 吃出, and 吃出 the words it names
        "這家吃了快一年，從來沒吃出過頭髮或蟲子，很乾淨",
        "连我这种吃一点辣就拉肚子的人都能吃，推荐",  # the "even I" frame: the harm is a trait
        "連我這種一擦就過敏的皮膚都沒問題，很溫和",
        "This moisturiser has never given me a rash, love it",  # a causing verb carries "never" on
        "Doesn't cause any breakouts on my oily skin, five stars",
    ],
)
@pytest.mark.parametrize("label", ["neg", "neu"])
def test_a_negation_or_an_even_frame_reaches_a_harm_a_few_words_away(text: str, label: str) -> None:
    assert tier_and_reading(text, label) == (1, "pos"), triage(text, label).reason


@pytest.mark.parametrize(
    "text",
    [
        "没吃出头发，但是吃出了虫子",  # the second clause is not negated
        "连我都用过敏了，脸红了一大片",  # 连 with no "is fine" after it
        "The new formula gave me a rash within a day",
    ],
)
def test_a_harm_outside_the_negation_or_the_even_frame_is_still_tier_5(text: str) -> None:
    assert triage(text, "neg").urgency == 5, triage(text, "neg").reason


def test_a_negated_finding_carries_its_negation_only_to_the_words_right_after_it() -> None:
    """没 reaches 头发 through 吃出过, not a complaint word a clause later, and a negated complaint word
    that finds nothing (超时) does not carry it to the duration after it."""
    assert read("从来没吃出过头发虫子", "neg").polarity == "pos"
    assert read("从来没吃出过头发，菜都是凉的很难吃", "neu").polarity == "neg"
    assert read("高峰期也不能超时一个半小时吧", "neg").polarity == "neg"


@pytest.mark.parametrize(
    ("text", "label", "polarity"),
    [
        ("新买的书桌没有一点油漆味，装好就能用", "neg", "pos"),
        ("這款App完全沒有開屏廣告，介面清爽", "neg", "pos"),
        ("乳液擦起来不黏不厚重，吸收很快", "neu", "pos"),
        ("新沙发一点胶味都没有，坐着也舒服", "neg", "pos"),
        ("衣柜一股油漆味，散了一周还有", "neu", "neg"),
    ],
)
def test_everyday_flaws_of_smell_ads_and_feel_read_negated_as_praise(text: str, label: str, polarity: str) -> None:
    assert read(text, label).polarity == polarity, read(text, label).why


# ---------------------------------------------------------------- crises told plainly or as a question
@pytest.mark.parametrize(
    "text",
    [
        "酒店床上有臭虫，被咬了一身包",
        "房間有床蝨，整晚都睡不好",
        "Found bedbugs in the mattress seam. My arms are covered in bites.",
        "打开app看到的是别人的订单和地址，我的信息是不是也被别人看到了",
        "My app is showing someone else's address and payment details",
        "好多人的网银都登不上，是全省都这样吗",
        "今天好多用戶都無法提款，是全台都這樣嗎",
    ],
)
def test_bed_bugs_a_privacy_leak_and_many_people_cut_off_are_tier_5(text: str) -> None:
    assert triage(text, "neg").urgency == 5, triage(text, "neg").reason


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("No bed bugs, spotless room, lovely staff", "pos"),  # negated
        ("看了别人的评价才下单的，果然不错", "pos"),  # others' reviews, no data shown
        ("好多人都说好吃，果然名不虚传", "pos"),  # many people, no complaint
        ("很多人一般都选这家，不过这次上菜太慢了", "neg"),  # a habit of many, not what happened to them
        ("担心信息泄露，所以没绑卡", "neu"),  # a fear
    ],
)
def test_the_crisis_words_need_an_event(text: str, label: str) -> None:
    assert triage(text, label).urgency <= 2, triage(text, label).reason


# ---------------------------------------------------------------- sarcasm cues
@pytest.mark.parametrize(
    "text",
    [
        "五星好评，新买的雨伞第一次打开就断成两截⭐⭐⭐⭐⭐",  # stars beside a break
        "I just love a charger that died in a week",  # a mocking frame and a failure
        "又双叒叕闪退了，每次都要重新登录，真贴心",  # a repeat of repeats
        "每次打开都要重新登录，安全意识真的一流👏",  # a wink after a login asked for every time
        "卖家真用心，六个碗只剩两个完整，谢谢喔",  # thanks that close after a loss
        "謝謝店家讓我吃到一份只有飯沒有菜的便當，好省喔",  # thanks for a loss told as a saving
    ],
)
def test_stars_thanks_or_a_mocking_frame_beside_a_loss_are_sarcasm(text: str) -> None:
    found = read(text, "pos")
    assert found.polarity == "neg" and found.why.startswith("sarcasm"), found.why


@pytest.mark.parametrize(
    "text",
    [
        "五星好评⭐⭐⭐⭐⭐，第一次用就爱上了",  # stars, no failure
        "I just love a charger that lasts all week",  # the frame, no failure
        "快递弄丢了，客服帮我找回来了，谢谢",  # a remedy, not thanks for the loss
        "真的很好用👏，推荐",  # a wink, no story
    ],
)
def test_stars_thanks_or_a_frame_without_a_loss_stay_praise(text: str) -> None:
    assert read(text, "pos").polarity == "pos", read(text, "pos").why


def test_the_cues_of_a_loss_with_stars_are_features() -> None:
    """The learned reading sees the stars as a wink and the break as a loss (triage_polarity.irony_tokens)."""
    assert {"praise", "loss", "wink"} <= parse("五星好评，杯子第一次用就裂成两半⭐⭐⭐⭐⭐").cues

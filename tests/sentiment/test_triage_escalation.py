"""Escalation classes and praise guards of the seventh round (issue 15, blind sets 9 and 10): one
test per rule and scope of triage.tsv's seventh-round rows and sentiment/triage.py's guards, each
with the case its scope leaves alone. The sentences are written for these tests (none is a suite
row), and labels are given as the model might give them, so each test pins the rule, not the model."""

from __future__ import annotations

import pytest

from sentiment.reading import read
from sentiment.triage import triage
from sentiment.triage_model import anchors


def tier(text: str, label: str, reach: int = 0) -> int:
    return triage(text, label, reach).urgency


# ---------------------------------------------------------------- tier 4: someone who can decide
@pytest.mark.parametrize(
    "text",
    [
        "退款拖了两周，麻烦找个能做主的人给我回个电话",  # 能做主的人, whatever the reading
        "叫你们老板出来，这到底怎么回事",  # 把/叫 … 出来
        "This needs someone with real authority, not another chatbot.",
        "I've explained it three times already, I need a manager now.",
        "Please get this escalated to someone who can actually make a decision.",
    ],
)
@pytest.mark.parametrize("label", ["pos", "neu", "neg"])
def test_a_demand_for_someone_who_can_decide_is_tier_4(text: str, label: str) -> None:
    assert tier(text, label) == 4, triage(text, label).reason


def test_talking_to_a_manager_is_tier_4_only_in_a_complaint() -> None:
    """Cue scope: "跟你们…经理通话" is a demand in a complaint, a story in praise."""
    assert tier("我要求跟你们管售后的经理通话，这件事拖太久了", "neg") == 4
    assert tier("和店长沟通以后，问题很快就解决了，很满意", "pos") == 1


# ---------------------------------------------------------------- tier 4: a threat to post everywhere
@pytest.mark.parametrize(
    "text",
    [
        "再不给说法，我就把聊天记录发到小红书、微博、抖音所有平台",
        "不退款的话我会在各个平台都发一遍",
        "If this isn't fixed by Monday I'm posting about it on every review site I can find.",
    ],
)
def test_a_threat_to_post_everywhere_is_tier_4_even_as_a_condition(text: str) -> None:
    """Kind publicise: a hypothetical frame (如果, if) does not cancel it: the condition is the threat."""
    assert tier(text, "neg") == 4, triage(text, "neg").reason


def test_being_on_every_platform_is_no_threat() -> None:
    assert tier("各大平台都有卖，这家发货最快，好评", "pos") == 1


# ---------------------------------------------------------------- tier 4: passed from agent to agent
def test_being_passed_around_is_a_repeated_failure_in_a_complaint() -> None:
    assert tier("客服和仓库互相踢皮球，我的问题到现在没人解决", "neg") == 4
    assert tier("打了一下午电话，转了好几个部门，没有一个能说清楚", "neg") == 4
    assert tier("Three calls, and every time I'm passed around to another department.", "neg") == 4


def test_a_rate_is_no_repeated_failure() -> None:
    """How often something happens (一天弹十几次) is no failure repeated (第三次反映)."""
    assert tier("这个app一天弹十几次广告，太烦了", "neg") == 2
    assert tier("The app sends me notifications ten times a day, annoying.", "neg") == 2
    assert tier("这是我第三次反映这个问题了，还是没人管", "neg") == 4


# ---------------------------------------------------------------- tier 5: harm by what it did to the body
@pytest.mark.parametrize(
    "text",
    [
        "My lips swelled up within minutes of using the lip scrub.",
        "The crib rail came loose and now he has a lump on his forehead.",
        "My daughter fell off the scooter when the handlebar came apart.",
        "The stool collapsed with my dad still on it.",
        "穿了这双鞋跑步，脚踝疼得走不了路",
        "吃了这个减肥茶心跳加速，晚上去了er",
    ],
)
@pytest.mark.parametrize("label", ["neu", "neg"])
def test_harm_told_by_what_it_did_to_the_body_is_tier_5(text: str, label: str) -> None:
    assert tier(text, label) == 5, triage(text, label).reason


def test_a_fall_of_a_thing_is_no_injury() -> None:
    assert tier("The phone fell off the table and the screen cracked.", "neg") == 2


def test_an_illness_after_feeding_is_a_story_of_harm() -> None:
    """Cause rows: a baby fed the product (喂了) before an illness (发烧) tells harm however calm."""
    assert tier("喂了三天这个牌子的辅食，宝宝晚上开始发烧", "neu") == 5
    assert tier("The swing's strap snapped, the doctor says he's bruised but fine.", "neu") == 5


# ---------------------------------------------------------------- tier 5: many people affected, counted
@pytest.mark.parametrize(
    "text",
    [
        "我们单位二十多个人吃了这家的盒饭，下午都拉肚子",  # a count that is many, and what happened to them
        "几百个用户都收到了同样的扣费短信",
        "整个小区的人都停水三天了，物业一个电话都不接",  # a whole group
        "这种情况不是个例，你们好好查查这批货",  # not an isolated case
        "Half the guests at the party got sick after the buffet.",
        "It's not just me, the whole building has had no heating since Friday.",
    ],
)
def test_many_people_affected_is_tier_5_in_a_complaint(text: str) -> None:
    assert tier(text, "neg") == 5, triage(text, "neg").reason


def test_a_few_people_or_a_whole_flight_are_no_mass() -> None:
    assert tier("我们几个人都觉得菜有点咸", "neg") == 2
    assert tier("My knees were pressed into the seat in front the whole flight.", "neg") == 2


# ---------------------------------------------------------------- tier 3: a repair that does not come back
def test_a_repair_away_for_weeks_is_time_lost() -> None:
    assert tier("电脑寄修三个星期了，到现在还没寄回来", "neu") == 3


# ---------------------------------------------------------------- praise guards
@pytest.mark.parametrize(
    "text",
    [
        "我表姐是当记者的，她推荐的这家粉店真的绝了",
        "做律师的朋友都说这家的合同写得清清楚楚",
        "当消保官的同事推荐的这家店，服务真的很好",  # 当 … 的同事: a person, no step taken
        "My lawyer friend recommended this bakery and the croissants are amazing.",
        "My cousin works at the FDA and she swears by these vitamins.",
        "我哥在市场监管局上班，他都说这家的后厨干净",
    ],
)
@pytest.mark.parametrize("label", ["pos", "neg"])
def test_an_authority_that_names_a_person_or_a_workplace_is_no_step(text: str, label: str) -> None:
    assert tier(text, label) <= 2, triage(text, label).reason


def test_an_authority_step_still_counts_beside_a_person() -> None:
    assert tier("我朋友是律师，已经帮我发了律师函", "neg") == 5


def test_a_feature_asked_for_is_no_event() -> None:
    assert tier("建议增加一个一键冻结账户的功能，更安心", "neg") <= 2
    assert tier("卡被冻结了三天，客服一直说在处理", "neg") == 3


def test_a_step_meant_and_not_taken_is_no_threat() -> None:
    """本来/差点/was about to before an authority, a remedy or praise after it and nothing that complains."""
    assert tier("本来都想打12345了，后来店长亲自打电话道歉还退了款，挺好的", "neg") <= 2
    assert tier("I was about to report them to the BBB, but they refunded me the same day. Great service.", "pos") == 1
    # A complaint after it: the threat stands.
    assert tier("本来想打12315的，结果客服又挂我电话，我明天就去投诉", "neg") == 5


@pytest.mark.parametrize(
    "text",
    [
        "儿子坚果过敏，跟店员说了以后他们单独做了一份，很贴心",  # an allergy by its allergen: a trait
        "下单时备注了海鲜过敏，商家打电话来确认，服务很好",  # an allergy noted
        "I'm allergic to most sunscreens and this one is perfect.",
        "孩子出湿疹期间一直用这款洗护，很温和",  # 期间: a condition before the product
    ],
)
def test_an_allergy_or_condition_named_before_the_product_is_no_harm(text: str) -> None:
    assert tier(text, "pos") == 1, triage(text, "pos").reason


def test_an_allergic_reaction_still_counts() -> None:
    assert tier("吃了你们的蛋糕，坚果过敏了，全身起红疹", "neg") == 5
    assert tier("吃了虾过敏，脸都肿了", "neu") == 5


def test_a_manner_between_negator_and_word_keeps_the_negation() -> None:
    """A manner (偷偷 in "也不会偷偷自动续费") sits between 不会 and the word it negates."""
    assert tier("这个会员不会偷偷自动续费，良心", "pos") == 1
    assert tier("偷偷自动续费，扣了我两百", "neg") == 3


def test_a_negation_carries_over_a_run_of_harm_words() -> None:
    assert tier("这个暖手宝用了一冬天，从来没有发烫冒烟过", "pos") == 1
    assert tier("这个暖手宝用了一周就冒烟了", "neg") == 5


# ---------------------------------------------------------------- the learned layer's anchors
def test_an_anchor_feared_heard_of_or_naming_a_person_is_not_named() -> None:
    """The crisis model may raise a mention only on an anchor named as an event; a harm feared (怕), a
    word inside hearsay (新闻说) or an authority that names someone is none."""
    for text in (
        "能不能加个防误触的开关，怕孩子摔下来",
        "看了新闻说有人吃了这种药过敏",
        "A journalist friend sent me here.",
    ):
        found = anchors().find(read(text, "neg"))
        assert found and all(a.negated for a in found), (text, found)
    named = anchors().find(read("孩子从床上摔下来了", "neg"))
    assert any(not a.negated for a in named)


def test_an_anchor_named_as_a_trait_or_a_condition_is_not_named() -> None:
    """An anchor inside a word that is no signal (花生过敏 as a trait, i'm allergic) or before a frame
    word (湿疹期间) tells no event; an allergy that happened is named."""
    for text in (
        "孩子花生过敏，商家特别细心",
        "I'm allergic to most creams, this one is fine.",
        "湿疹期间用的这款面霜",
    ):
        found = [a for a in anchors().find(read(text, "neg")) if a.kind == "harm"]
        assert found and all(a.negated for a in found), (text, found)
    assert any(not a.negated for a in anchors().find(read("孩子吃了花生过敏了", "neg")))

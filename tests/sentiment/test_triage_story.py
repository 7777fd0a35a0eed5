"""Harm told as a plain story and reports of no harm (issue 15, fourth round): one test per rule
and scope, with the scope that cancels, and a property: harm told as a story always reaches tier 5.

Labels are given as the model would give them (often positive or neutral for a calm story), so
each test pins the rule, not the model."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evaluation.triage import load_suite, suite_paths
from sentiment.reading import normalise, read, reading_lexicon
from sentiment.signals import escalation_lexicon, first_chars
from sentiment.triage import triage


def tier(text: str, label: str, reach: int = 0) -> int:
    return triage(text, label, reach).urgency


# ---------------------------------------------------------------- harm told as a story
@pytest.mark.parametrize(
    "text",
    [
        "宝宝啃了一会儿牙胶，额头和下巴冒出一片小红点",  # spots after a body part
        "电热毯开了一夜，床单上烧出一个洞",  # a hole burnt
        "充电宝放在包里，下车时包里在冒白烟",  # smoke of any colour
        "空气炸锅炸薯条的时候底下蹿出火苗",  # flames out of a device
        "外卖的麻辣烫里捞出一根长长的头发",  # a foreign object fished out
        "面包吃到一半，吐出来是一小截订书钉",
        "用了快一年的吹风机，上周头发烧焦了一小撮",  # 头发烧焦, not 发烧
        "孩子用了这个保温杯，嘴唇被烫了个泡",
        "The kettle base was scorched black when I pulled the plug out",
        "Ate the chicken wrap at lunch, spent the whole night on the bathroom floor",
        "The stroller folded on my hand and took a chunk of skin off my knuckle",
        "My son played with the toy and a small wheel came off in his mouth",
        "The heater started smoking after an hour",
    ],
)
@pytest.mark.parametrize("label", ["pos", "neu"])
def test_harm_told_without_complaint_words_is_tier_5_and_read_negative(text: str, label: str) -> None:
    result = triage(text, label)
    assert (result.urgency, result.reading) == (5, "neg"), result.reason


def test_a_medical_visit_after_the_product_was_used_is_harm_whatever_the_tone() -> None:
    """Cue-scoped harm words (去医院, 开了药, hospital) need a complaint; a story that uses, eats or
    wears the product before them is one."""
    assert tier("孩子用了两天这款面霜，带他去社区医院开了点药膏", "pos") == 5
    assert tier("We had the oysters on Friday and by Saturday my husband was in hospital", "neu") == 5
    # No product used before it: a visit in passing.
    assert tier("在医院陪护了一个月，每天点他们家的粥，很暖心", "pos") == 1


def test_a_cure_after_the_harm_is_praise_of_the_product() -> None:
    assert tier("孩子打疫苗发烧，用了这个退热贴很快就退了，家里常备", "pos") == 1


# ---------------------------------------------------------------- scopes that keep harm non-harm
@pytest.mark.parametrize(
    "text",
    [
        "用了兩個月完全沒有長痘痘或過敏，敏感肌可以放心",
        "用了一个月没有红肿和刺痛，会回购",
    ],
)
def test_a_negation_reaches_every_item_of_its_list(text: str) -> None:
    assert tier(text, "pos") == 1


@pytest.mark.parametrize(
    "text",
    [
        "担心会过敏，先在手腕上试了一下，一切正常",
        "怕烫所以买了带隔热套的杯子，很好用",
        "In case it catches fire I bought the one with the auto shut-off",
    ],
)
def test_a_hypothetical_or_precaution_stays_non_harm(text: str) -> None:
    assert tier(text, "pos") == 1


def test_hearsay_about_others_is_no_event() -> None:
    assert tier("新闻里说很多充电宝起火，所以挑了这款有3C认证的", "pos") == 1
    assert tier("Read a news story about cheap chargers, this one never got hot", "pos") == 1


@pytest.mark.parametrize(
    "text",
    [
        "我在消协工作，平时最挑剔，这家店的售后真的没话说",
        "I work in an emergency room and these socks get me through twelve-hour shifts",
    ],
)
def test_who_someone_is_or_where_they_work_is_no_event(text: str) -> None:
    assert tier(text, "pos") == 1


def test_coverage_that_praises_is_no_threat_but_coverage_of_a_complaint_is() -> None:
    """Scope report: the clause scope, cancelled when the mention reads as praise and nothing complains."""
    assert tier("The local news did a segment on this bakery, worth every minute in the queue", "pos") == 1
    assert tier("The local news is doing a story on your filthy kitchen", "neg") == 5


def test_a_feared_harm_is_no_complaint_in_the_reading() -> None:
    lexicon = reading_lexicon()
    assert lexicon.figures("怕宝宝过敏，放心用了").complaint == 0
    assert lexicon.figures("宝宝过敏了").complaint < 0


def test_a_word_holding_its_own_negation_continues_a_negated_list() -> None:
    """Regression: in "一点都不红不痒" the 一点都不 flipped 不痒 into a complaint."""
    figures = reading_lexicon().figures("一点都不红不痒")
    assert figures.complaint == 0 and figures.score > 0


def test_a_business_trip_holds_no_complaint() -> None:
    """Regression: 出差 read as 差 (bad): a lawyer's praise of a quiet hotel read negative."""
    assert reading_lexicon().figures("经常出差住酒店，这家隔音最好").complaint == 0


# ---------------------------------------------------------------- the property
WHO = ["孩子", "宝宝", "我", "我妈", "老公", "女儿"]
USED = ["用了两天这款面霜", "吃了他们家的外卖", "戴了这个手环", "喝了这款奶粉", "用了这个吹风机"]
WHEN = ["，", "，第二天", "，当天晚上", "，没过多久"]
PART = ["脸上", "手背", "额头", "嘴唇", "脖子", "膝盖"]
HARM = ["起了一片红疹", "肿了", "红了一大片", "起了两个水泡", "一直渗血", "冒出好多红点"]
TAIL = ["", "，去医院开了药", "，拍了照片", "，记录一下"]


@settings(max_examples=200, deadline=None)
@given(
    who=st.sampled_from(WHO),
    used=st.sampled_from(USED),
    when=st.sampled_from(WHEN),
    part=st.sampled_from(PART),
    harm=st.sampled_from(HARM),
    tail=st.sampled_from(TAIL),
    label=st.sampled_from(["pos", "neu", "neg"]),
)
def test_harm_told_as_a_story_always_reaches_tier_5(
    who: str, used: str, when: str, part: str, harm: str, tail: str, label: str
) -> None:
    text = f"{who}{used}{when}{part}{harm}{tail}"
    result = triage(text, label)
    assert (result.urgency, result.reading) == (5, "neg"), (text, result.reason)


def test_a_plain_report_that_nothing_happened_is_praise() -> None:
    """Reports of no harm (reading.tsv): the model has no verdict for them, the words do."""
    assert read("之前追尾了一次，孩子一点事都没有", "neu").polarity == "pos"
    assert read("Checked every dish and she had no reaction", "neu").polarity == "pos"


def test_protection_and_grooming_hold_no_complaint_word() -> None:
    """Regression: 防烫手套 read as 烫手 (too hot to hold), 吹完头发 as 头发 (a hair in the food)."""
    assert reading_lexicon().figures("买了防烫手套").complaint == 0
    assert reading_lexicon().figures("吹完头发很顺").complaint == 0


# ---------------------------------------------------------------- speed: one search of every expression
def test_first_chars_tells_where_an_expression_can_start() -> None:
    assert first_chars(r"(?<![a-z])(?:手指|脚背)肿") == frozenset("手脚")
    assert first_chars(r"[\d两三]+人") == frozenset("0123456789０１２３４５６７８９两三")
    assert first_chars(r"(?:被)?锁") is None  # may start with either: not told
    assert first_chars(r"[^，。]{0,4}水泡") is None


def test_the_guarded_search_finds_what_the_expressions_find() -> None:
    """Words.search tries every expression at once behind a look-ahead on their first characters;
    it must agree with the expressions tried one by one (Words.matches) on every suite review."""
    words = escalation_lexicon().words
    texts = [normalise(c.text) for path in suite_paths() for c in load_suite(path)]
    texts += ["孩子吃了三颗磁力珠", "３ times in a row", "no match here at all", "被锁了"]
    assert [words.search(t) for t in texts] == [bool(words.matches(t)) for t in texts]

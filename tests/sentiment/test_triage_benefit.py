"""Triage, sixth round (issue 15): situational sarcasm - a concrete failure told as a benefit - and
risk words in praise that compares or reports no harm. Labels are given as the model would give
them (it reads the praise of sarcasm as praise), so each test pins the rule, not the model."""

from __future__ import annotations

import pytest

from sentiment.reading import read, reading_lexicon
from sentiment.triage import triage


@pytest.mark.parametrize(
    "text",
    [
        "羽绒服洗了一次就缩了两个码，正好给我儿子穿，真贴心",
        "外卖汤洒了一半在袋子里，贴心地帮我控制了饭量，谢谢骑手",
        "新买的保溫瓶漏了一整個包包，包包也順便洗乾淨了，一舉兩得",
        "The app update wiped all my notes, thanks for the fresh start",
        "So grateful the hotel wifi dies every evening, I finally read a whole book",
        "新买的耳机壳一周就裂了，quality 真 top，感谢",
    ],
)
def test_a_failure_told_as_a_benefit_reads_negative_as_sarcasm(text: str) -> None:
    """Bug (blind set, sixth round): praise or thanks after a failure that claims a benefit from it
    read as praise (tier 1); the reason names the sarcasm."""
    found = read(text, "pos")
    assert found.polarity == "neg"
    assert found.why.startswith("sarcasm: ")
    assert triage(text, "pos").urgency >= 2


@pytest.mark.parametrize(
    "text",
    [
        "本来担心会漏了，结果一滴没漏，省心",  # a feared failure
        "虽然晚到了两天，东西很好，谢谢",  # conceded before the turn
        "等了半小时才上菜，味道很好",  # another aspect praised: no benefit claimed
        "手机屏幕碎了，客服给换了新的，谢谢",  # remedied
    ],
)
def test_a_failure_without_a_claimed_benefit_is_not_told_as_one(text: str) -> None:
    assert not read(text, "pos").why.startswith("sarcasm: a failure told as a benefit")


RISK_IN_PRAISE = [
    "比消保官还认真，客服一条一条帮我确认保单内容",
    "比医院还专业，月嫂把宝宝照顾得特别好",
    "More thorough than my lawyer, the bank advisor explained every clause",
    "宝宝是过敏体质，用了这款乳液一点红疹都没有，太好了",
    "玩具的小零件都拧得特别牢，不怕宝宝误吞，做工良心",
]


@pytest.mark.parametrize("text", RISK_IN_PRAISE)
@pytest.mark.parametrize("label", ["pos", "neu", "neg"])
def test_praise_with_a_compared_or_absent_risk_word_never_escalates(text: str, label: str) -> None:
    """Bug (blind set, sixth round): a risk word as a comparison's standard (比消保官还认真) or with 都没有
    after it got tier 5, whatever the model's label."""
    assert triage(text, label).urgency <= 2


@pytest.mark.parametrize("label", ["pos", "neg"])
@pytest.mark.parametrize("frame", ["比{w}还专业", "比{w}更认真", "一点{w}都没有，很满意", "连{w}也没有，好用"])
@pytest.mark.parametrize("word", ["过敏", "红疹", "律师", "消协", "医院", "警察", "烫伤", "起火", "记者"])
def test_property_praise_with_a_risk_word_in_a_comparison_or_absence_never_escalates(
    frame: str, word: str, label: str
) -> None:
    """Property: every risk word, in every comparison or absence frame of praise, stays below tier 3
    whatever the model's label."""
    text = frame.format(w=word)
    assert triage(text, label).urgency < 3, text


@pytest.mark.parametrize("label", ["pos", "neg"])
@pytest.mark.parametrize(
    "frame", ["本来担心会{w}，结果完全没有，很好用", "以为会{w}，结果完全没事，五星", "防{w}设计很贴心，好评"]
)
@pytest.mark.parametrize("word", ["过敏", "红疹", "烫伤", "起火", "漏电", "食物中毒"])
def test_property_a_feared_or_prevented_harm_in_praise_never_escalates(frame: str, word: str, label: str) -> None:
    """Property: a harm feared before it did not happen, or one a feature prevents (防漏电设计: a bug
    when the model read the text negative, tier 5), stays below tier 3."""
    text = frame.format(w=word)
    assert triage(text, label).urgency < 3, text


def test_a_harm_compared_with_an_earlier_one_still_escalates() -> None:
    """The comparison scope is the standard's: 这次比上次更过敏了 reports an allergy (tier 5)."""
    assert triage("这次比上次更过敏了，脸都肿了", "neg").urgency == 5


LONG_HOTEL = (
    "先说优点，房间挺大，装修也新，前台小姐姐态度不错，入住很快。这次是陪领导出差，一共住了三晚，订的是行政大床房，"
    "酒店在开发区，周边比较安静，楼下有家便利店，买东西还算方便。缺点嘛，空调噪音大，晚上被吵醒好几次，早餐种类少。"
)


def test_a_long_reviews_summing_up_decides_against_the_models_label_of_the_whole() -> None:
    """Bug (blind set, sixth round): a long review that praises first and sums up against it at the end
    kept the model's label of the whole (tier 1 for a complaint)."""
    text = LONG_HOTEL + "总的来说这个价位不值，下次出差不会再选这家了。"
    found = read(text, "pos", "neg")
    assert found.polarity == "neg" and found.why.startswith("verdict at the end: ")
    assert found.parsed.turn_text() == found.parsed.summing_up


def test_a_summing_up_the_lexicon_reads_the_other_way_keeps_the_model() -> None:
    text = LONG_HOTEL + "总的来说很满意，会继续回购。"
    assert read(text, "neg", "neg").polarity == "neg"
    found = read(text, "pos", "neg")  # the model's label of the last sentence against its words
    assert found.polarity == "pos" and found.why == "model (long text)"


def test_a_long_review_without_a_summing_up_keeps_the_model() -> None:
    found = read(LONG_HOTEL + "房间的窗户朝南。", "pos", None)
    assert found.parsed.summing_up is None and found.polarity == "pos"


def test_a_loss_found_again_is_no_urgent_loss() -> None:
    """Bug (fresh8): a loss word after the remedy that found it (帮我找回了丢失的快递) got tier 3."""
    assert triage("比派出所还负责，物业帮我找回了丢失的快递", "pos").urgency < 3
    assert triage("没帮我找回丢失的行李，投诉", "neg").urgency == 3


@pytest.mark.parametrize("text", ["零过敏", "一点红疹都没有", "一点问题都没有", "过敏也没有"])
def test_a_complaint_word_denied_after_it_or_by_zero_is_relief(text: str) -> None:
    figures = reading_lexicon().figures(text)
    assert figures.relief > 0 and figures.complaint == 0

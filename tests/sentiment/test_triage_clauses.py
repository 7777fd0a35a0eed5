"""Triage's clause-aware reading, third round (issue 15): concessions and English turn words,
a start in time that a turn overrides, sarcastic questions and closers, wider ironic openers,
remedies that make a complaint praise, harm after the turn of a long text. One test per rule and
scope; labels are given as the model would give them, so each test pins the rule, not the model."""

from __future__ import annotations

import pytest

from sentiment.reading import read
from sentiment.triage import triage


def polarity(text: str, label: str, turn_label: str | None = None) -> str:
    return read(text, label, turn_label).polarity


# ---------------------------------------------------------------- turns
@pytest.mark.parametrize(
    "text",
    [
        "虽然价格便宜，用了两次拉链就坏了",  # a concession without a turn word: the next clause turns
        "although the screen is gorgeous, the battery dies by lunchtime every day",
        "lovely packaging, shame the foundation oxidises orange within an hour.",  # shame, pity, sadly
    ],
)
def test_the_clause_after_a_concession_or_an_english_turn_carries_the_verdict(text: str) -> None:
    assert polarity(text, "pos", "neg") == "neg"


def test_a_start_in_time_is_overridden_by_the_praise_after_the_turn() -> None:
    assert polarity("一开始宝宝不太习惯，后来越用越喜欢，现在离不开了", "neg", "neg") == "pos"


def test_a_turn_after_a_concession_is_not_read_as_praise_by_the_mirror_rule() -> None:
    """The mirror (praise after the turn wins) needs a start in time: after 虽说, the turn is the complaint."""
    assert polarity("虽说颜值很高，但是续航实在太拉了，半天就没电", "pos", "neg") == "neg"


# ---------------------------------------------------------------- sarcasm
@pytest.mark.parametrize(
    "text",
    [
        "这就是你们的五星服务？",
        "這就是旗艦機的水準嗎？拍照糊到不行",  # zh-TW
        "So this is what you call customer service? Forty minutes of hold music.",
    ],
)
def test_a_rhetorical_question_about_a_standard_is_sarcasm(text: str) -> None:
    assert polarity(text, "pos") == "neg"


def test_a_question_that_names_no_standard_asks() -> None:
    assert polarity("这就是你们的新款吗？", "neu") == "neu"


@pytest.mark.parametrize(
    "text",
    [
        "呵呵，熱湯送到的時候已經是冰湯了，真是好棒的服務",
        "Three hours on the tarmac and a single cup of water. Truly world class.",
        "哈哈哈哈用完脸更油了，这控油效果真是绝了",  # laughter is no praise before the closer
    ],
)
def test_praise_closing_a_complaint_is_sarcasm(text: str) -> None:
    assert polarity(text, "pos") == "neg"


@pytest.mark.parametrize(
    "text",
    [
        "菜很好吃，送得也快，真是太好了",  # praise before the closer
        "行李晚到了一天，前台帮忙送到房间，谢谢了",  # a remedy before the closer
    ],
)
def test_a_closer_after_praise_or_a_remedy_is_thanks(text: str) -> None:
    assert polarity(text, "pos") == "pos"


def test_an_ironic_opener_before_a_delay_is_sarcasm() -> None:
    """The failures an opener looks for include delays and 'only' (延误五个小时只发了一瓶水)."""
    assert polarity("航空公司真贴心，延误五个小时只发了一瓶水", "pos") == "neg"


def test_an_opener_before_praise_is_praise() -> None:
    assert polarity("great app, simple to use and the support team replies within minutes", "pos") == "pos"


# ---------------------------------------------------------------- remedies
@pytest.mark.parametrize(
    "text", ["店长很负责，发现少送了马上补过来", "去年差點被詐騙，銀行行員主動打來攔下那筆轉帳，真的很感謝"]
)
def test_a_remedy_with_praise_or_thanks_is_praise(text: str) -> None:
    assert polarity(text, "neg") == "pos"


@pytest.mark.parametrize(
    "text",
    [
        "客服说帮我处理，三天了还没消息",  # a promise
        "等了一个多小时才帮我处理好，服务太差",  # a failure in the remedy's clause, a complaint after it
        "没人帮我处理，只能自己想办法，谢谢了",  # negated
    ],
)
def test_a_promised_negated_or_late_remedy_is_no_praise(text: str) -> None:
    assert polarity(text, "neg") == "neg"


# ---------------------------------------------------------------- long texts: harm after the turn
LONG_CRISIS = (
    "本来挺期待这个婴儿床的，看了很多测评，也问了客服好几个问题，收到以后安装也还算顺利，宝宝睡了一周都挺好，"
    "结果昨天半夜听到哭声，过去一看护栏的一根木条松了，孩子的胳膊卡在缝里，今天带去医院检查，我真的后怕"
)


def test_harm_after_the_turn_of_a_long_text_the_model_calls_praise_is_tier_5() -> None:
    assert triage(LONG_CRISIS, "pos").urgency == 5


def test_a_long_text_that_praises_after_its_turn_is_no_alert() -> None:
    """Harm words after the turn of a long praising review count only when nothing after the turn praises."""
    text = (
        "本来担心这家酒店离市区远，看了很多评价还是订了，入住那天下着大雨，路上堵了两个小时，"
        "结果朋友发烧了，前台帮忙叫车送医院，还给我们送了姜茶，服务人员很热情，房间干净舒服，推荐大家入住"
    )
    assert triage(text, "pos").urgency == 1

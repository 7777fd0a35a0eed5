"""Triage's reading, fifth round (issue 15): irony that praises a concrete failure, negation and its
scope, mild complaints. One test per form; labels are given as the model would give them (it reads
the praise words of sarcasm as praise), so each test pins the rule, not the model."""

from __future__ import annotations

import pytest

from sentiment.reading import read
from sentiment.triage import triage


def reading(text: str, label: str, turn_label: str | None = None) -> tuple[str, str]:
    found = read(text, label, turn_label)
    return found.polarity, found.why


# ---------------------------------------------------------------- irony: praise beside a failure
@pytest.mark.parametrize(
    "text",
    [
        "真是太棒了，用了三天就坏了",
        "做工真精致，拉链第一次拉就掉了",  # plain praise before the failure, no ironic opener
        "呵呵，服务真周到，箱子轮子摔掉了一个",  # the praise after the laughter is the butt too
        "Great, another charger that died in a week",
        "Lovely, the pram wheel snapped on our second walk",
        "厉害了，第三次返修",
        "質量真好呢，穿一次就脫線了😅",  # zh-TW, emoji after the failure
    ],
)
def test_praise_then_a_concrete_failure_reads_negative_as_sarcasm(text: str) -> None:
    """The reason names the failure (praise beside a failure: 就掉) or the ironic opener before it."""
    polarity, why = reading(text, "pos")
    assert polarity == "neg"
    assert why.startswith("sarcasm: ")


@pytest.mark.parametrize("text", ["👍 充电器第二天就不亮了", "🙂 会员费扣了，权益一个都用不了", "😅 刚买的杯子就漏了"])
def test_an_emoji_before_a_failure_is_an_ironic_opener(text: str) -> None:
    assert reading(text, "pos")[0] == "neg"


@pytest.mark.parametrize(
    "text", ["好评！客服一周都没回我", "谢谢你们让我等了一个月", "'优质'服务", "“优质”服务，问了三遍没人理"]
)
def test_the_briefs_other_sarcastic_forms_read_negative(text: str) -> None:
    assert reading(text, "pos")[0] == "neg"


def test_a_sneer_before_short_praise_is_sarcasm_but_friendly_laughter_is_not() -> None:
    assert reading("呵呵，质量真好", "pos")[0] == "neg"
    assert reading("呵呵，真的很不错哦！！[鼓掌]", "pos")[0] == "pos"


@pytest.mark.parametrize(
    "text",
    [
        "质量真好，摔了好几次都没坏",  # a failure negated
        "Solid build, never broke once in two years",
        "服务很好，箱子摔坏了当场就给换了新的",  # a remedy
        "用了三天就坏了，不过客服马上换了新的，很满意",  # a turn to praise after the failure
        "很好吃，全吃掉了",  # 吃掉了 is no part that fell off
    ],
)
def test_a_failure_negated_remedied_or_outweighed_after_it_is_no_irony(text: str) -> None:
    assert reading(text, "pos", "pos")[0] == "pos"


def test_harm_the_praise_hides_is_still_a_red_alert() -> None:
    """优秀 before a hair in the food read as praise, so the harm word needed no complaint: tier 1 before."""
    found = triage("优秀，一份麻辣香锅里吃出了三根头发", "pos")
    assert found.urgency == 5
    assert found.reading == "neg"


def test_harm_with_its_cure_after_praise_is_no_alert() -> None:
    assert triage("儿科医生推荐的这款润肤露，宝宝湿疹好了很多", "pos").urgency == 1


# ---------------------------------------------------------------- negation and its scope
@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        ("不算差", "neg", "pos"),
        ("不太好", "pos", "neg"),
        ("并不满意", "pos", "neg"),
        ("没有想象中好", "pos", "neg"),  # a complaint word that holds its negation
        ("not bad", "neg", "pos"),
        ("not great", "pos", "neg"),
        ("Hardly worth the money, the portion was tiny", "pos", "neg"),
        ("never again", "pos", "neg"),
        ("wouldn't recommend", "pos", "neg"),
    ],
)
def test_negated_praise_and_negated_complaint(text: str, label: str, expected: str) -> None:
    assert reading(text, label)[0] == expected


@pytest.mark.parametrize("text", ["不推荐也不反对，看个人需求吧", "无功无过，能用"])
def test_neither_praise_nor_complaint_is_neutral(text: str) -> None:
    assert reading(text, "neg")[0] == "neu"


@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [("不得不说很好用", "neg", "pos"), ("不能不吐槽一下这个包装，拆了十分钟", "pos", "neg")],
)
def test_a_double_negation_affirms_what_follows(text: str, label: str, expected: str) -> None:
    polarity, why = reading(text, label)
    assert polarity == expected
    assert why.startswith("affirmed by 不")


@pytest.mark.parametrize(
    ("text", "label", "expected"), [("从来没遇到过这么耐心的客服", "neu", "pos"), ("没见过这么烂的服务", "pos", "neg")]
)
def test_a_superlative_frame_is_no_negation(text: str, label: str, expected: str) -> None:
    assert reading(text, label)[0] == expected


def test_negated_praise_needs_the_negator_right_before_the_word() -> None:
    """没装 carried over 服务很好 by the degree word read as negated praise on a benchmark text."""
    assert reading("还没装 服务很好", "pos")[0] == "pos"


@pytest.mark.parametrize(
    "text", ["没有任何过敏，敏感肌也放心用", "充了一整晚也不烫手", "Not a single rash after a month"]
)
def test_negated_risk_words_in_praise_stay_tier_1(text: str) -> None:
    assert triage(text, "neg").urgency == 1


def test_a_hotel_that_smelled_of_smoke_is_no_fire() -> None:
    assert triage("Never again, the room smelled of smoke and nobody cared", "neg").urgency < 5


# ---------------------------------------------------------------- mild complaints
@pytest.mark.parametrize(
    "text",
    [
        "有点小贵",
        "包装一般",
        "稍微有点吵，晚上开着睡不太着",
        "物流慢了点",
        "手续费略高",
        "口红颜色比图片深一点",
        "A bit pricey for what you get",
        "Could be quieter, the fan is noticeable at night",
        "Packaging so-so, one corner was dented",
        "Works well, though the app could be more intuitive",
    ],
)
def test_a_mild_complaint_is_a_tier_2_negative(text: str) -> None:
    polarity, why = reading(text, "pos")
    assert polarity == "neg"
    assert why.startswith("mild complaint")
    assert triage(text, "pos").urgency >= 2


def test_praise_then_a_mild_complaint_without_a_turn_word_is_negative() -> None:
    assert reading("总体挺好，客服回复稍慢", "pos")[0] == "neg"


@pytest.mark.parametrize(
    ("text", "turn_label"),
    [
        ("有点小贵，不过质量对得起", "pos"),  # the turn praises
        ("送的有点晚，挺好吃", None),  # praise after it
        ("有点惊喜，比想象中好用", None),  # a hedge before praise
        ("我一般在这家买，一直很满意", None),  # 一般 that is not clause-final means usually
        ("slightly better than my old one", None),
    ],
)
def test_a_hedge_that_praise_follows_or_that_praises_is_no_complaint(text: str, turn_label: str | None) -> None:
    assert reading(text, "pos", turn_label)[0] == "pos"

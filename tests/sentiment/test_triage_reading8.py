"""Triage's reading and praise guards, eighth round (issue 15, blind set 11 spent): sarcasm by kinds of
cue (praise beside a story told as a loss, a hyperbole or a measured wait, marked as irony by a claim,
a wink or a mocking frame), the cues as features of the learned reading, additive pairs (不仅…而且) that
do not turn, and authorities named as landmarks or a step abandoned after a settlement. The sentences
are written for these tests (none is a suite row); labels are given as the model might give them, so
each test pins the rule, not the model."""

from __future__ import annotations

import pytest

from sentiment.reading import parse, read, reading_lexicon
from sentiment.triage import triage
from sentiment.triage_model import anchors
from sentiment.triage_polarity import irony_tokens


def reading(text: str, label: str) -> tuple[str, str]:
    found = read(text, label)
    return found.polarity, found.why


# ---------------------------------------------------------------- sarcasm by kinds of cue
@pytest.mark.parametrize(
    ("text", "story", "marker"),
    [
        ("这吹风机真是神器，吹了二十分钟头发还是湿的🙂", "measured", "wink"),  # rating frame, a wait, a wink
        ("这家的牛排真嫩，硬得跟轮胎一样👏", "hyperbole", "wink"),  # hyperbole in a clause that praises nothing
        ("号称三天到货，物流真给力，第九天才见到快递", "measured", "claimed"),  # a claim against what came
        (
            "Wonderful airline. My bag was supposed to land with me and it turned up four days later",
            "measured",
            "claimed",
        ),
        ("Thrilled to report the 'heavy-duty' shelf held a grand total of three books", "hyperbole", "mock"),
    ],
)
def test_praise_beside_a_story_marked_as_irony_is_sarcasm(text: str, story: str, marker: str) -> None:
    cues = parse(text).cues
    assert {"praise", story, marker} <= cues, cues
    for label in ("pos", "neg"):  # praise slang the model does not know keeps no sarcasm positive
        polarity, why = reading(text, label)
        assert polarity == "neg", why
    assert reading(text, "pos")[1].startswith("sarcasm")


@pytest.mark.parametrize(
    "text",
    [
        "物流真快，两天就到了",  # praise and a measured story, nothing marks irony
        "真的很好用🙂",  # a wink, no story
        "吹了二十分钟就全干了🙂，真的很好用，推荐",  # earnest praise after the story
        "说好的三天到，结果两天就到了，超级满意",  # a turn: the contrast reads it
        "Love that the battery lasts two days",  # a mocking frame and a measured story: no claim or wink
        "朋友说是开了二十年的老店，去吃了果然名不虚传",  # a claim the text confirms
    ],
)
def test_praise_with_one_kind_of_cue_or_earnest_praise_after_the_story_stays_praise(text: str) -> None:
    assert reading(text, "pos")[0] == "pos", reading(text, "pos")


def test_thanks_that_open_a_loss_or_a_hyperbole_are_sarcasm() -> None:
    """Thanks in the first clause mark what follows as irony when it is a loss or a hyperbole, not a wait:
    "谢谢快递小哥，下雨天送了两个小时" thanks for an effort."""
    assert reading("谢谢航空公司，我的行李箱直接变成了两半", "pos")[0] == "neg"
    assert reading("谢谢快递小哥，下雨天送了两个小时", "pos")[0] == "pos"


def test_a_hyperbole_of_praise_is_no_story() -> None:
    """The hyperbole must sit in a clause that praises nothing: 好吃到可以舔盘子 praises."""
    assert "hyperbole" not in parse("真的太好吃了，好吃到可以舔盘子👏").cues
    assert reading("真的太好吃了，好吃到可以舔盘子👏", "pos")[0] == "pos"


def test_the_cues_are_features_of_the_learned_reading() -> None:
    found = irony_tokens(frozenset({"praise", "measured", "wink"}))
    assert {"cue:praise", "cue:measured", "cue:wink", "cue:praise+story+marker"} <= set(found)
    assert irony_tokens(frozenset({"praise"})) == ["cue:praise"]
    confirmed = irony_tokens(frozenset({"praise", "measured", "claimed", "confirmed"}))
    assert not [t for t in confirmed if "+" in t]  # a claim borne out combines into no irony
    assert parse("这是一段超过六十个字的长评论，" * 6).cues == frozenset()  # long texts keep the model's label


# ---------------------------------------------------------------- additive pairs
@pytest.mark.parametrize(
    ("text", "label", "expected"),
    [
        ("不仅便宜而且好用", "neg", "pos"),  # the model takes 不 in 不仅 for a negation
        ("不光价格实惠，质量也很好", "neg", "pos"),
        ("不仅价格贵而且质量差", "pos", "neg"),
    ],
)
def test_an_additive_pair_adds_and_does_not_turn(text: str, label: str, expected: str) -> None:
    polarity, why = reading(text, label)
    assert (polarity, why.split(":")[0]) == (expected, "additive")


def test_an_additive_pair_with_words_on_both_sides_keeps_the_model() -> None:
    assert reading("不仅价格便宜，而且质量差", "neg")[1] != "additive: 不仅…而且 adds, it does not turn"


def test_no_longer_needing_to_is_no_complaint() -> None:
    """再也不用 + a verb is a benefit ("no longer need to"), not 再也不 (never again): after a turn it
    used to outweigh the praise it follows."""
    assert reading("界面是有点老气，但是真的很好用，报销再也不用手抄单据了", "neu")[0] == "pos"
    assert reading_lexicon().figures("再也不来了").complaint < 0  # 再也不 stays a complaint word
    assert reading_lexicon().figures("报销再也不用手抄单据了").complaint == 0


# ---------------------------------------------------------------- praise guards
@pytest.mark.parametrize(
    "text",
    [
        "民宿就在派出所旁边，很好找，老板人也热情",
        "酒店在公安局对面，晚上出门很安心",
        "The guesthouse is right next to the police station, felt very safe and the staff were lovely",
    ],
)
@pytest.mark.parametrize("label", ["pos", "neg"])
def test_an_authority_named_as_a_landmark_is_no_threat(text: str, label: str) -> None:
    assert triage(text, label).urgency <= 2, triage(text, label).reason


def test_a_police_report_next_to_a_place_word_still_escalates() -> None:
    assert triage("行李在酒店被偷了，已经去派出所报案了", "neg").urgency == 5


def test_a_step_abandoned_after_a_call_and_compensation_is_no_threat() -> None:
    text = "本来想打12315的，结果店家主动打来处理，还赔了50块，服务到位"
    assert triage(text, "neg").urgency <= 2, triage(text, "neg").reason


# ---------------------------------------------------------------- the crisis model's anchors
def named(text: str) -> list[str]:
    return [a.word for a in anchors().find(read(text, "neg")) if not a.negated]


def test_a_doctor_who_approves_the_product_names_no_visit() -> None:
    assert "医生" not in named("孕期用的这款身体乳，很温和，医生也说可以用")
    assert "doctor" not in named("Gentle on my son's eczema, his doctor recommended it")
    assert "医生" in named("用完脸上全是红疹，医生说是接触性皮炎")  # a doctor who diagnoses: a visit


def test_a_harm_feared_as_what_would_happen_is_not_named() -> None:
    assert "burn" not in named("I was scared the curling iron would burn my fingers, but it stays cool")
    assert "sparked" in named("I was scared the whole time the heater sparked")  # nothing supposed

"""Triage's reading, seventh round (issue 15): sarcasm told as a purpose, closed by ironic praise or
aimed at a quoted claim; turns that reading.tsv names and the present set against the past; a long
review's summing-up; suggestions with a mild reason; plain statements; negated everyday flaws. One
test per rule, with texts written for this round (not the blind sets'); labels are given as the model
would give them, so each test pins the rule, not the model."""

from __future__ import annotations

import pytest

from sentiment.reading import read


def reading(text: str, label: str, turn_label: str | None = None) -> tuple[str, str]:
    found = read(text, label, turn_label)
    return found.polarity, found.why


# ---------------------------------------------------------------- sarcasm
@pytest.mark.parametrize(
    "text",
    [
        "字印得这么小，估计是想锻炼我的眼力",
        "客服回复要等三天，是在培养顾客的耐心",
        "Instructions in six-point font, clearly testing my eyesight",
    ],
)
def test_a_flaw_told_as_the_sellers_purpose_of_training_the_customer_is_sarcasm(text: str) -> None:
    polarity, why = reading(text, "pos")
    assert (polarity, why.split(":")[0]) == ("neg", "sarcasm")
    assert "purpose" in why


def test_training_someone_else_is_no_imputed_purpose() -> None:
    assert reading("这套拼图很好，能培养孩子的耐心", "pos")[0] == "pos"


@pytest.mark.parametrize("text", ["物流真给力，送了整整一周，真稳定", "做工真精致，用了两天就坏了，佩服"])
def test_praise_then_a_failure_closed_by_ironic_praise_is_sarcasm(text: str) -> None:
    """Praise after the failure used to keep the text as it read; a short closer row is the irony's end."""
    polarity, why = reading(text, "pos")
    assert polarity == "neg" and why.startswith("sarcasm: praise beside a failure")


def test_praise_of_another_aspect_after_a_failure_is_no_closer() -> None:
    assert reading("做工真精致，用了两天就坏了，味道很好闻", "pos")[0] == "pos"


@pytest.mark.parametrize(
    "text",
    [
        "这款“速干”毛巾，晾了一天还是湿的",  # a feature claim in quotes, no praise word in it
        'My "leak-proof" bottle soaked my whole bag. Brilliant.',  # praise around the quote that is irony
    ],
)
def test_a_quoted_claim_the_text_belies_is_sarcasm(text: str) -> None:
    polarity, why = reading(text, "pos")
    assert polarity == "neg" and why.startswith("sarcasm: praise in quotes")


def test_a_quoted_word_that_claims_nothing_is_no_sarcasm() -> None:
    assert reading("买的“网红”面包很好吃", "pos")[0] == "pos"


@pytest.mark.parametrize(
    "text",
    [
        "老板真贴心，裤子做大了两个码",
        "民宿隔音真好，隔壁说话听得一清二楚",
        "充电宝真耐用，下午就没电了",
        "冰咖啡送到变成温的了，谢谢骑手帮我加热",
    ],
)
def test_everyday_failures_beside_praise_or_thanks_read_as_sarcasm(text: str) -> None:
    """A size off by codes, a battery empty by the afternoon, neighbours heard through the wall, a drink gone warm."""
    assert reading(text, "pos")[0] == "neg"


@pytest.mark.parametrize(
    "text",
    [
        "真棒，用完皮肤反而更干了",
        "太好了，买的黑色收到是白色的",
        "绝了，电脑自己重启了五次",
        "好评，外卖送了整整两个小时",
    ],
)
def test_the_new_failure_rows_after_praise_read_as_sarcasm(text: str) -> None:
    """The opposite of the promised effect, another item than the one bought, restarts, whole days' delay."""
    assert reading(text, "pos")[0] == "neg"


# ---------------------------------------------------------------- turns
@pytest.mark.parametrize(
    "text",
    ["The screen is lovely; the speakers, on the other hand, sound tinny.", "这家的面很筋道，相比之下汤头就寡淡多了"],
)
def test_a_turn_row_of_reading_tsv_carries_the_verdict(text: str) -> None:
    polarity, why = reading(text, "pos", "neg")
    assert polarity == "neg" and why.startswith("turn: ")


def test_the_present_set_against_the_past_turns_at_the_present() -> None:
    assert reading("之前一直很喜欢这家的咖啡豆，这次的豆子喝起来一股糊味", "pos", "neg")[0] == "neg"
    assert reading("以前用别家的，这次换了这家，很好用", "pos", "pos")[0] == "pos"


def test_a_past_told_without_praise_is_no_turn() -> None:
    """The old trouble the new product ends: 以前要等好久 praises nothing, so 现在 does not turn."""
    assert read("控油效果明显，以前一天一洗，现在两天洗一次", "pos").parsed.turn is None


def test_a_then_clause_alone_is_no_turn() -> None:
    assert read("以前一直买这家的咖啡豆，味道很稳定", "pos").parsed.turn is None


# ---------------------------------------------------------------- a long review's summing-up
LONG = (
    "这台空气炸锅是去年双十一买的，当时对比了好几个牌子，最后看评价选了它。刚开始用的时候觉得还行，"
    "薯条鸡翅都能做，清洗也算方便。后来发现涂层开始一点点掉，内胆边缘也有些变形，联系客服说过了保修期。"
)


def test_the_summing_up_clause_decides_not_a_should_be_better_clause_after_it() -> None:
    """ "应该可以做得更好才对" praises nothing: the clause with the summing-up word (有点失望) decides."""
    text = LONG + "整体来说有点失望，以这个价格来说，应该可以做得更好才对。"
    assert reading(text, "pos", "neg") == (
        "neg",
        "verdict at the end: 整体来说有点失望，以这个价格来说，应该可以做得更好才对",
    )


def test_a_closing_request_leaves_the_summing_up_to_the_sentence_before() -> None:
    text = (
        "Bought this blender after my old one died and used it most mornings for smoothies and soups. "
        "The motor got louder every week and the lid started leaking around the seal. Returning it. "
        "Please bring back the older model."
    )
    polarity, why = reading(text, "pos", "neg")
    assert polarity == "neg" and "returning it" in why


# ---------------------------------------------------------------- suggestions and statements
@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("建议出一个大号的收纳盒，现在的放东西有点挤", "neg"),
        ("希望以后能出无糖款，控糖的人也能喝", "pos"),
        ("Would love a family size, our kids drink a lot", "pos"),
    ],
)
def test_a_suggestion_with_a_mild_reason_is_neutral(text: str, label: str) -> None:
    assert reading(text, label) == ("neu", "a suggestion; its reason only hedges")


@pytest.mark.parametrize(
    "text",
    ["建议改进一下，用了两天就坏了", "希望尽快发货，已经等了三天了", "建议加强管理，服务员态度太差劲了，非常恶心"],
)
def test_a_suggestion_beside_a_failure_a_delay_or_a_strong_complaint_complains(text: str) -> None:
    assert reading(text, "neg")[0] == "neg"


@pytest.mark.parametrize(
    "text",
    [
        "今天在柜台开了一个账户。",
        "Opened a new account at the branch on Monday.",
        "买来送同事的，还没拆",
        "住了三晚，订的是大床房",
    ],
)
def test_plain_statements_of_the_new_kinds_are_neutral(text: str) -> None:
    assert reading(text, "neg") == ("neu", "a plain statement: no verdict word")


def test_a_statement_of_something_not_yet_arrived_is_no_plain_statement() -> None:
    assert reading("今天下单了，到现在还没发货", "neg")[0] == "neg"


# ---------------------------------------------------------------- negated everyday flaws, slang
@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("这款拖把不掉毛，地板擦完也不发黏", "neg"),
        ("菜放了一晚上也没蔫，没有怪味", "neg"),
        ("The new formula didn't upset her stomach at all", "neu"),
        ("没有隐藏费用，也没乱扣费，很放心", "neg"),
    ],
)
def test_negated_everyday_flaws_are_praise(text: str, label: str) -> None:
    assert reading(text, label)[0] == "pos"


@pytest.mark.parametrize(
    "text",
    ["Cheaply made and it shows.", "Don't waste your money on the deluxe version.", "Mediocre pizza, skip it"],
)
def test_negative_english_idioms_read_negative(text: str) -> None:
    assert reading(text, "pos")[0] == "neg"

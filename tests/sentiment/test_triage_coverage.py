"""Triage's coverage by construction (issue 15, third round): harm named by a body part and what
happened to it, medical visits, remedies that make an incident praise, authorities and the press
of every kind, and tier-3 situations - one test per rule and scope, with the scope that cancels.

Labels are given as the model would give them, so each test pins the rule, not the model."""

from __future__ import annotations

import pytest

from sentiment.reading import read
from sentiment.triage import triage


def tier(text: str, label: str = "neg", reach: int = 0) -> int:
    return triage(text, label, reach).urgency


# ---------------------------------------------------------------- body part x what happened to it
@pytest.mark.parametrize(
    "text",
    [
        "吹风机用了两分钟，我手背现在一片通红",
        "牛肉面里咬到一块碎骨头，门牙缺了一个角",
        "学步鞋穿了一下午，脚后跟磨得全是血泡",
        "嬰兒推車的扣環夾到我女兒的手指，整個指甲都瘀紫了",  # zh-TW, converted
        "按摩仪用完膝盖肿得走不了路",
    ],
)
def test_a_body_part_and_its_harm_is_tier_5_in_a_complaint(text: str) -> None:
    assert tier(text) == 5


@pytest.mark.parametrize(
    "text",
    [
        "这个唇膏用了嘴唇不会干裂，很滋润",  # negation: the construction's fillers skip negators
        "腿上的淤青涂了三天就好了，效果很好",  # praise frame in the clause of a positive mention
    ],
)
def test_a_body_part_and_its_harm_is_cancelled_by_negation_or_praise(text: str) -> None:
    assert tier(text, "pos") == 1


@pytest.mark.parametrize("text", ["桌腿断了一根，客服不理", "裤子腰带断了，质量太差", "三脚架断了，很失望"])
def test_a_furniture_leg_or_a_belt_is_no_body_part(text: str) -> None:
    """The construction's body parts exclude 桌腿, 腰带, 三脚架: quality complaints, not harm."""
    assert tier(text) == 2


# ---------------------------------------------------------------- medical visits: cue scope
def test_a_medical_visit_in_a_complaint_is_tier_5() -> None:
    assert tier("吃完他们家的凉皮全家上吐下泻，我老公还在输液") == 5
    assert tier("昨天点的sushi吃完一直不舒服，今天还在clinic") == 5


def test_a_medical_visit_without_a_complaint_is_no_alert() -> None:
    """Cue-scoped: "在医院输液的时候点的，送得很快" thanks a shop."""
    assert tier("在医院输液的时候点的粥，送得很快，很贴心", "pos") == 1


# ---------------------------------------------------------------- remedies: an incident handled well
@pytest.mark.parametrize(
    "text",
    [
        "孩子在飞机上流鼻血，空姐马上拿来冰袋和纸巾，特别暖心",
        "A passenger fainted mid-flight and the crew handled it calmly and professionally. Impressed.",
    ],
)
def test_harm_followed_by_a_remedy_in_praise_is_not_escalated(text: str) -> None:
    assert tier(text, "pos") == 1


def test_a_remedy_does_not_cancel_harm_when_a_complaint_follows() -> None:
    assert tier("孩子在店里摔倒了，店员帮忙扶起来，但是地面一直没人处理，太差了", "pos") == 5


def test_a_customer_acting_alone_is_no_remedy() -> None:
    """The remedy words are another's help (帮忙, handled, brought), not the customer's own
    action: "the battery started swelling and I unplugged it right away" stays a red alert."""
    text = "The battery started swelling and I unplugged it right away. Setup was easy though."
    assert tier(text, "pos") == 5


def test_mid_flight_is_not_the_slang_mid() -> None:
    """Bug: "mid" (slang for mediocre) matched inside "mid-flight", so the reading of
    "A passenger fainted mid-flight and the crew handled it calmly" held a complaint."""
    figures = read("the crew handled it mid-flight", "pos").parsed.figures
    assert figures.complaint == 0


# ---------------------------------------------------------------- authorities and the press
@pytest.mark.parametrize(
    "text",
    [
        "美白霜查出来有汞，我已经向药品监督管理局举报了",
        "外卖吃出蟑螂腿，卫生监督所的人说会来查",
        "酒店押金三个月不退，我在派出所做了笔录",
        "今天已经去法院立了案，下周开庭",
        "儿童座椅的卡扣断了，我把视频发给了本地电视台",
        "銀行理專亂推銷，我已經向金融監督管理委員會申訴",  # zh-TW
        "I have filed a complaint with Trading Standards and my solicitor is drafting a letter.",
        "Your app sold my data. I've reported it to the ICO.",
        "A reporter from the local paper is writing about the bed bugs in your rooms.",
        "这件事已经五十万播放了，好多记者来问",
    ],
)
def test_every_kind_of_authority_and_the_press_is_tier_5(text: str) -> None:
    assert tier(text, reach=0) == 5


def test_a_bare_number_is_no_police_call() -> None:
    """Bug found on benchmark texts: 110 alone fired as a police call ("外送110分钟")."""
    assert tier("外送非常慢,110分钟,味道也一般") == 2


# ---------------------------------------------------------------- tier 3: losing money or time now
@pytest.mark.parametrize(
    "text",
    [
        "我根本没去过那家商场，手机却收到一条消费八千多的短信",  # unauthorised charge
        "There's a $640 charge on my account from a store I've never heard of.",
        "我的 debit card 被 charge 了两次同一笔 payment",  # mixed
        "退货寄回去十天了，退款一直显示处理中",  # refund held back
        "钱到现在没回来，客服只说在查",
        "寄修的电脑在售后点弄丢了",  # lost goods
        "下单了一个iPad，收到的盒子里是空的",
        "My bag never made it to Lisbon and nobody can tell me where it is.",
        "工资卡被莫名其妙地锁了，房租明天就到期了",  # locked, a deadline
        "班機臨時取消，我們一家四口被困在機場",  # zh-TW, stranded
        "Your fraud line keeps disconnecting me.",  # nobody answers
    ],
)
def test_a_loss_happening_now_is_tier_3(text: str) -> None:
    assert tier(text) == 3


@pytest.mark.parametrize("text", ["明天一早扫货，期待", "等了一个小时外卖，凉了", "学费太贵了，性价比一般"])
def test_plans_waits_and_prices_are_no_loss(text: str) -> None:
    assert tier(text, "neg" if "凉" in text or "贵" in text else "pos") <= 2


def test_a_loss_in_praise_that_resolves_it_is_no_alert() -> None:
    assert tier("包裹弄丢了，第二天客服就补发了，点赞", "pos") == 1


# ---------------------------------------------------------------- classes found by the blind set triage_fresh3
def test_hyperbole_about_a_body_part_is_no_injury() -> None:
    """Bug from the blind check: "跑得我腿都快断了" (my legs almost broke: running) was tier 5."""
    assert tier("登机口临时换了三次，跑得我腿都快断了") == 2


def test_an_allergy_as_a_condition_is_no_harm() -> None:
    """Bug from the blind check: "because of my son's allergy" in praise of a careful restaurant was tier 5."""
    text = "Asked for no peanuts because of my son's allergy and they called to double check. Amazing care."
    assert tier(text, "pos") == 1


def test_the_full_name_of_a_regulator_is_not_cancelled_by_its_own_protection() -> None:
    """Bug from the blind check: 金融消费权益保护部门 was cancelled by 保护 (the frame of 过热保护)."""
    assert tier("理财产品亏了一半，我已经向金融消费权益保护部门递交了材料") == 5


@pytest.mark.parametrize(
    "text",
    [
        "手机银行显示有人把钱被划走了三千，我人一直在家",
        "Someone changed my phone number on the account and drained $2,000.",
        "笔记本送修三周还没修好，我下周就要答辩",
        "房卡打不开门，行李被收走了，只能在大堂坐着等到第二天",
    ],
)
def test_withdrawals_deadlines_and_locked_rooms_are_tier_3(text: str) -> None:
    assert tier(text) == 3

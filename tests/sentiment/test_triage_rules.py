"""Triage's tier rules and the scope of each escalation word (issue 15), one test per rule
and scope, and a property: negating a risk word in praise never escalates.

Labels are given as the model would give them, so each test pins the rule, not the model."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sentiment.signals import escalation_lexicon
from sentiment.triage import triage


def tier(text: str, label: str = "neg", reach: int = 0) -> int:
    return triage(text, label, reach).urgency


# ---------------------------------------------------------------- tier 5, whatever the reach
@pytest.mark.parametrize(
    "text",
    [
        "用了这个面膜脸上起了一片红疹子，又痒又疼",  # injury in everyday words
        "热水壶的把手断了，开水全泼在我手上，起了好几个水泡",  # burn
        "婴儿床的栏杆有毛刺，把宝宝的手划出血了",  # cut
        "玩具上的小零件一拉就掉，孩子差点吞下去",  # choking hazard
        "充电器插上就冒烟，一股塑料烧焦的味道",  # smoke
        "外卖里吃出一块玻璃碴，嘴都划破了",  # foreign object in food
        "After using this serum my face broke out in hives and I ended up at urgent care",
        "这个power bank充着充着就鼓起来了，还发烫冒烟",  # mixed
    ],
)
def test_harm_to_a_person_is_tier_5_at_reach_0(text: str) -> None:
    assert tier(text) == 5


@pytest.mark.parametrize(
    "text",
    [
        "已经向市场监管局举报了，等着被查吧",
        "航班超售不让登机，我已经向民航局投诉",
        "乱扣我信用卡年费，已经向金融监管总局投诉了",
        "我已經向消基會申訴了，等著吧",  # zh-TW, converted before matching
        "賣假貨還不退款，我會直接提告",
        "I've filed a complaint with the FTC and my state attorney general",
        "这个app偷偷扣费，我已经report给consumer council了",
        "我已经找好律师了，准备起诉你们虚假宣传",
        "等着吧，我会把聊天记录发给记者",
    ],
)
def test_legal_regulator_and_media_threats_are_tier_5_at_any_reach(text: str) -> None:
    """DOMAIN.md: legal, regulator and media attention are red alerts whatever the reach
    (the previous release needed reach >= 50 for them)."""
    assert tier(text, reach=0) == tier(text, reach=5000) == 5


def test_reach_still_raises_a_plain_complaint_to_tier_4() -> None:
    assert (tier("一般般，不太好用", reach=5), tier("一般般，不太好用", reach=5000)) == (2, 4)


# ---------------------------------------------------------------- scope: clause
@pytest.mark.parametrize(
    "text",
    [
        "用了一个月完全没有过敏，敏感肌也能放心用",  # Chinese negation
        "宝宝吃了不上火，也没有拉肚子，会回购",
        "No breakouts, no irritation, no allergic reaction at all. Holy grail",  # English negation
        "Not greasy, not sticky, and my skin didn't break out once",
    ],
)
def test_a_negation_in_the_same_clause_cancels_a_harm_word(text: str) -> None:
    assert tier(text, "pos") == 1


def test_a_hypothetical_or_other_product_frame_cancels_a_harm_word() -> None:
    assert tier("一开始担心会过敏，结果用了一周皮肤状态超好", "pos") == 1
    assert tier("之前在别家买的过敏了，这家的用了完全没事，回购", "pos") == 1


def test_a_protection_after_the_word_cancels_it() -> None:
    assert tier("电热毯有过热保护，不用担心着火，睡得很安心", "pos") == 1
    assert tier("这个heater有倾倒断电保护，不会起火，很安心", "pos") == 1


def test_a_question_asks_about_a_risk_without_reporting_it() -> None:
    assert tier("这款热水壶会不会漏电啊？", "neu") == 2  # a question, answered in queue order
    assert tier("Is this formula suitable for babies with a milk allergy?", "neu") == 2


def test_a_praise_frame_in_a_positive_mention_cancels_a_hazard_word() -> None:
    assert tier("积木的小零件做得很精致，孩子很喜欢", "pos") == 1
    assert tier("积木的小零件一碰就掉，孩子差点吞下去", "neg") == 5


def test_an_english_praise_frame_cancels_a_harm_word_in_its_clause() -> None:
    """Bug (held-out suite, second round): "burned my tongue in the best way" praised a spicy dish
    but reached tier 5, because "in the best way" and "is killer" were not read as praise."""
    assert tier("The hot sauce is killer, it burned my mouth in the best way", "pos") == 1
    assert tier("Hot pot night was killer, the broth burned my lips in a good way", "pos") == 1
    assert tier("The kettle handle burned my hand, the worst way to start the day", "neg") == 5


def test_a_harm_word_after_a_turn_is_not_cancelled_by_the_praise_before_it() -> None:
    assert tier("雖然外觀很可愛，但是奶嘴的孔太大，寶寶一直嗆到", "pos") == 5


def test_words_that_hold_a_signal_word_are_no_signal() -> None:
    assert tier("音响发烧友推荐，低音很足", "pos") == 1  # 发烧友 holds 发烧
    assert tier("挨着火车站，出行方便", "pos") == 1  # 着火车 is not 着火
    assert tier("孩子对花生过敏，请问这款有花生吗？", "neu") == 2  # a condition, not a reaction


# ---------------------------------------------------------------- scope: cue, threat, own
def test_manager_escalates_only_when_a_complaint_asks_for_one() -> None:
    assert tier("酒店的大堂经理特别热情，帮我们升级了房间", "pos") == 1
    assert tier("经理很nice，主动帮我们免了延迟退房的费用", "pos") == 1
    assert tier("东西坏了三周没人管，我要找你们经理", "neg") == 4


def test_a_bare_legal_or_media_word_needs_a_threat_cue() -> None:
    assert tier("律师朋友推荐的，果然靠谱", "pos") == 1
    assert tier("这家店上过新闻报道，味道确实名不虚传", "pos") == 1
    assert tier("起诉离婚那段时间心情很差，这家店的蛋糕治愈了我", "neg") == 2  # negative, but no threat
    assert tier("再不退款我就找律师", "neg") == 5  # 再不 is the threat


def test_a_repeat_is_a_repeated_failure_only_in_a_clause_that_complains() -> None:
    assert tier("第三次入住了，还是很满意", "pos") == 1
    assert tier("第二次入住，房间太小，早餐一般", "neg") == 2
    assert tier("这是我第三次反映同一个问题了，到现在也没人管", "neg") == 4


def test_urgent_words_count_only_in_a_complaint() -> None:
    assert tier("快递显示已签收，可我根本没收到，驿站也说没有", "neg") == 3
    assert tier("银行卡莫名其妙被扣了两笔钱，我根本没消费过", "neg") == 3
    assert tier("前几天手机丢了，客服很快帮我冻结了卡，真心感谢", "pos") == 1


# ---------------------------------------------------------------- held-out-2 classes
@pytest.mark.parametrize(
    "text",
    [
        "高速上刹车失灵，差点追尾前面的货车",  # vehicle hazard
        "The oven door slammed on my daughter's fingers, two nails came off",  # a mechanism on a body part
        "Their pharmacy mislabelled my dad's pills and he ended up in A&E",  # medical visit
        "热水器一直有股燃气泄漏的味道，师傅来了也没修好",  # gas
        "孩子吃了以后高烧不退，还抽搐了一次",  # illness in everyday words
    ],
)
def test_everyday_harm_words_are_tier_5(text: str) -> None:
    """Held-out-2 (injury): crises described in words outside the lexicon's few terms got tier 2."""
    assert tier(text) == 5


def test_a_near_miss_or_medication_error_escalates_only_in_a_complaint() -> None:
    """A caught error is praise (药师发现剂量写错了), an uncaught one a red alert."""
    assert tier("药店拿错药了，老人要是吃下去指不定出什么事", "neg") == 5
    assert tier("药师一眼看出处方剂量写错了，帮我改好了，太感谢了", "pos") == 1


@pytest.mark.parametrize(
    "text",
    [
        "已经向消委会投诉，他们说收到很多同样的个案",  # Hong Kong consumer council
        "退费拖了两个月，我们已经去教育局投诉了",  # education regulator
        "Filed a complaint with the state board of pharmacy today",
        "We reported you to the health department after the kitchen inspection",
        "有记者联系我了解情况，聊天记录我都给他了",  # the press, no threat word
        "本地电视台想采访我这件事",
        "我们二十几位家长约好一起去维权",  # many people
        "Going to the consumer association with 30+ other families",
    ],
)
def test_authorities_the_press_and_mass_impact_are_tier_5(text: str) -> None:
    """Held-out-2 (legal_regulator_media): regulators beyond 12315, the press without a threat word
    and groups of customers got tier 1-2."""
    assert tier(text, "neg") == 5


def test_cantonese_reports_escalate_and_cantonese_negations_cancel() -> None:
    assert tier("向消委會投訴咗，等佢哋處理", "neg") == 5
    assert tier("踩剎車完全冇反應，差啲撞車", "neg") == 5
    assert tier("呢個奶瓶完全冇異味，BB飲奶都唔會嗆到", "neu") == 1


def test_a_praise_frame_or_word_cancels_only_from_outside_the_signal() -> None:
    """The word "better" in Better Business Bureau is no praise; a test by an authority is no complaint to it."""
    assert tier("Reported you to the Better Business Bureau today", "pos") == 5
    assert tier("看了消费者协会的测评才买的，确实好用", "pos") == 1
    assert tier("有人想盗刷我的卡，银行马上拦截了，很靠谱", "pos") == 1  # an attempt that failed
    assert tier("我是过敏的体质，这款用了一个月完全没事", "pos") == 1


def test_a_loss_no_praise_follows_is_urgent_whatever_the_models_label() -> None:
    """Held-out-2 (money_time_loss): the model called "Charged twice ..." positive, and a positive
    label cancelled every loss word."""
    assert tier("Charged twice for the same order and support closes the chat", "pos") == 3
    assert tier("显示已签收，可我根本没收到", "pos") == 3
    assert tier("行李丢了，第二天就送到酒店，服务很好", "pos") == 1  # praise after it: a remedy
    assert tier("转账从来没出过错，手续费也不贵", "pos") == 1
    long_review = "酒店位置很方便，房间宽敞舒适，早餐种类很多，前台也很热情，" * 2 + "原来的充电器丢了，前台借了一个"
    assert tier(long_review, "pos") == 1  # a long review keeps the model's label


@pytest.mark.parametrize(
    "text",
    [
        "退回去一个月了钱还没到",  # money not back
        "收了我两次年费，打电话还说是我按错",  # charged twice
        "网络断了五天，在家上班完全没法工作",  # an outage that lasts
        "来回请了两天假，油钱谁给我补",  # time lost
        "Missed my connection and no hotel offered",
        "My parcel is lost and nobody can tell me where it is",
    ],
)
def test_losing_money_or_time_now_is_tier_3(text: str) -> None:
    assert tier(text, "neg") == 3


def test_nobody_is_urgent_only_when_nobody_answers_or_helps() -> None:
    assert tier("It's not the course, it's that nobody told us the schedule changed", "neg") == 2
    assert tier("I need my documents today and nobody answers the phone", "neg") == 3


def test_senior_decision_makers_of_any_business_and_english_repeats_are_tier_4() -> None:
    assert tier("这学期换了三个老师，我要求你们校长出来给个说法", "neg") == 4
    assert tier("I want a senior manager to call me, not another ticket", "neg") == 4
    assert tier("The general manager welcomed us personally, lovely stay", "pos") == 1
    assert tier("I reported it three times and nothing happened", "neg") == 4


@pytest.mark.parametrize(
    "text",
    [
        "吹风机用到一半突然冒火星",  # sparks
        "宝宝用了这个湿巾屁屁红了一大片，还破了皮",  # skin
        "The scooter handlebar snapped and my son chipped his tooth",
        "奶粉里喝出一只小虫子，孩子已经喝了半罐",  # a foreign object in a drink
        "房间地毯太湿，我爸滑了一跤",  # a fall
        "這件事我已經找了議員服務處協助",  # a legislator's office (Taiwan)
        "Posted this on Twitter and it's got 50k views",  # the public
    ],
)
def test_more_everyday_crises_are_tier_5(text: str) -> None:
    assert tier(text, "neu") == 5


def test_a_red_alert_fact_anywhere_in_a_long_positive_review_escalates() -> None:
    """Held-out-2 (long_rambling): a crisis inside a long review must reach tier 5 even when the
    model reads the review as praise."""
    praise = "这家酒店位置很好，早餐种类很多，前台也很热情，房间干净宽敞，" * 2
    text = praise + "就是浴室的玻璃门突然炸裂，我女儿的脚被划伤了，其他都还行"
    assert len(text) > 60 and tier(text, "pos") == 5
    english = "Lovely stay, great breakfast and friendly staff, the pool was clean. " * 2
    assert tier(english + "The kettle sparked and gave my husband an electric shock.", "pos") == 5


def test_a_conditional_threat_is_still_a_threat() -> None:
    """Bug: the hypothetical frames that cancel a harm word (如果, if) cancelled legal and regulator
    threats too, so "如果再不退款我就去12315投诉" and "if this is not fixed I will sue you" got tier 2."""
    assert tier("如果再不退款我就去12315投诉", "neg") == 5
    assert tier("If this is not fixed by Monday I will contact a lawyer and sue you", "neg") == 5
    assert tier("If this isn't sorted by Friday I'm taking it to small claims", "neu") == 5
    assert tier("担心会过敏，结果用了一周皮肤很好", "pos") == 1  # a hypothetical harm stays cancelled


@pytest.mark.parametrize(
    "text",
    [
        "The hair straightener left a second-degree burn on my neck",
        "My toddler found a loose button battery from the toy inside the box",
        "我会把这件事post到小红书和微博，让大家都看看",  # a customer going public
    ],
)
def test_burns_choking_hazards_and_going_public_are_tier_5(text: str) -> None:
    assert tier(text, "neu") == 5


def test_warnings_and_safety_equipment_are_no_crisis() -> None:
    """A fall someone warns of, a smoke alarm that works, shares in a company are no harm and no press."""
    assert tier("卫生间的地砖不防滑，洗完澡要小心滑倒", "neg") == 2
    assert tier("The smoke alarm went off from my shower steam and staff came at once, very reassuring", "pos") == 1
    assert tier("In 1980 he bought 40 shares of the company", "neu") == 1


@pytest.mark.parametrize(
    "text",
    [
        "手機被鎖咗唔俾我登入，入面有晒公司資料",  # locked out (Hong Kong)
        "房间被超订了，前台让我们去另一家酒店",  # overbooked
        "app更新后所有聊天记录都没了",  # data lost
        "打了十个电话没一个人接",  # nobody answers
        "My flight got cancelled and the app won't let me rebook",  # stranded
    ],
)
def test_more_losses_of_money_or_time_are_tier_3(text: str) -> None:
    assert tier(text, "neg") == 3


# ---------------------------------------------------------------- lower tiers
def test_questions_are_tier_2_suggestions_and_statements_tier_1() -> None:
    assert tier("请问这款奶粉适合几个月的宝宝？", "neu") == 2
    assert tier("建议增加一个夜间模式", "neu") == 1
    assert tier("今天收到货了", "neu") == 1


def test_the_reading_wins_over_the_model_for_the_tier() -> None:
    """The model calls the sarcastic complaint positive; triage's reading makes it a complaint."""
    result = triage("呵呵，真是好质量，用一天就坏了", "pos")
    assert (result.urgency, result.reading) == (2, "neg")
    assert "sarcasm" in result.reason and "model pos" in result.reason


def test_the_reason_names_the_rule_the_word_and_the_reach() -> None:
    reason = triage("充电宝起火了，差点烧到孩子", "neg", reach=7).reason
    assert reason.startswith(
        "tier 5: 安全：起火、冒烟、触电、窒息隐患 safety: fire, smoke, shock or choking hazard: 起火"
    )
    assert "reach 7" in reason


def test_the_motive_comes_from_the_clauses_that_complain() -> None:
    """Regression: 态度 in a praising clause made the complaint 尊重."""
    result = triage("客服态度很好，但问题到现在都没解决", "neg")
    assert result.motive == "发泄"
    assert triage("客服态度太差，爱答不理", "neg").motive == "尊重"


# ---------------------------------------------------------------- the property
PRAISE_BEFORE = ["用了一个月", "宝宝用了", "充电一整晚", "全家吃了", "敏感肌用了", "孩子玩了两周"]
NEGATIONS = ["没有", "完全没有", "一点都不", "不会", "没", "从来没有", "也没有"]
PRAISE_AFTER = ["，很满意", "，推荐购买", "，会回购", "，五星好评", "，放心"]


def _risk_words() -> list[str]:
    """The Chinese harm words of triage.tsv (injury, hazard, food), plain words only."""
    return sorted(w for w in escalation_lexicon().harm if not w.isascii() and not re.search(r"[()\[\]|?]", w))


@settings(max_examples=300, deadline=None)
@given(
    before=st.sampled_from(PRAISE_BEFORE),
    negation=st.sampled_from(NEGATIONS),
    risk=st.sampled_from(_risk_words()),
    after=st.sampled_from(PRAISE_AFTER),
    label=st.sampled_from(["pos", "neu", "neg"]),
)
def test_negating_a_risk_word_in_praise_never_escalates(
    before: str, negation: str, risk: str, after: str, label: str
) -> None:
    text = f"{before}{negation}{risk}{after}"
    assert tier(text, label) <= 2, triage(text, label).reason


def test_at_one_position_the_longest_escalation_match_wins() -> None:
    """Found by the property above in CI: 没送到 (a lost parcel, a word) beat the longer 没送到儿童医院 (no
    hospital visit: no signal, a pattern) that starts where it does."""
    assert tier("用了一个月没送到儿童医院，很满意", "neg") <= 2
    assert tier("快递三天了还没送到，客服也不回", "neg") == 3  # the lost parcel itself still counts
    assert tier("包裹一直没送到，医院的药也耽误了", "neg") == 3

from datetime import datetime, timedelta

from sentiment.aspects import AspectTagger
from sentiment.triage import triage
from sentiment.trust import find_duplicates, is_default_review, rating_conflict

T0 = datetime(2026, 11, 1)


def test_aspects_with_their_own_polarity() -> None:
    tagger = AspectTagger()
    assert tagger.tag("物流很快，但是质量太差了，客服也不理人", "neg") == {"物流": "pos", "质量": "neg", "客服": "neg"}
    # No sentiment word in the clause: the mention's label decides.
    assert tagger.tag("快递三天才到", "neg") == {"物流": "neg"}
    assert tagger.tag("收到的是假货，和图片不符", "neg")["描述不符/假货"] == "neg"
    assert tagger.tag("卖我信息，天天接到骚扰电话", "neg")["隐私"] == "neg"
    assert tagger.tag("今天天气不错", "pos") == {}


def test_aspect_polarity_reads_turns_questions_requests_and_verdict_keywords() -> None:
    tagger = AspectTagger()
    # 说好 (as promised) praises nothing; the turn after it carries the verdict.
    assert tagger.tag("保修说好上门，结果一直没人来", "neg") == {"售后": "neg"}
    # A turn inside one clause still splits it; 不但 is not a turn.
    assert tagger.tag("价格不便宜但质量确实好", "pos") == {"价格": "neg", "质量": "pos"}
    assert tagger.tag("不但价格便宜而且质量好", "pos") == {"价格": "pos", "质量": "pos"}
    # Verdict keywords, flipped by a negator; a negated plain keyword is a failure.
    assert tagger.tag("用了两天就鼓包了", "pos") == {"质量": "neg"}
    assert tagger.tag("这个不耐用", "neg") == {"质量": "neg"}
    assert tagger.tag("客服半天不回复，女朋友很喜欢", "pos") == {"客服": "neg"}
    # A question asks, a request asks for something: neither judges.
    assert tagger.tag("请问支持无线充电吗", "pos") == {}
    assert tagger.tag("请问电池支持快充吗", "neg") == {"质量": "neu"}
    assert tagger.tag("快递等了三天还没到呢", "neg") == {"物流": "neg"}
    assert tagger.tag("发货太慢了，希望商家重视", "neg") == {"物流": "neg"}
    # The clause after the aspect speaks only when it is a turn.
    assert tagger.tag("申请退款一周了还没处理，外婆很喜欢", "neg") == {"售后": "neg"}


def test_words_built_on_a_negator_that_negate_nothing_leave_the_praise_after_them() -> None:
    """The demo report's after-sales "top complaints" were praise: 七天无理由退货很痛快 read 售后 neg,
    the 无 of the return policy's name flipping 痛快. Surprise, concession and "not only" did the same."""
    tagger = AspectTagger()
    assert tagger.tag("七天无理由退货很痛快", "pos") == {"售后": "pos"}
    assert tagger.tag("没想到物流这么快", "pos") == {"物流": "pos"}
    assert tagger.tag("不管是包装还是质量都很好", "pos") == {"包装": "pos", "质量": "pos"}
    assert tagger.tag("无论客服还是物流都很满意", "pos") == {"客服": "pos", "物流": "pos"}
    # The same words before a complaint, and a negator that does negate, still read negative.
    assert tagger.tag("没想到质量这么差", "neg") == {"质量": "neg"}
    assert tagger.tag("物流不快", "neg") == {"物流": "neg"}
    assert tagger.tag("客服根本不管", "neg") == {"客服": "neg"}


def test_product_names_name_no_aspect() -> None:
    tagger = AspectTagger({"电池": ("电池", "充电"), "物流": ("配送",)}, names=["声浪P20充电宝", "鲜到家生鲜配送"])
    assert tagger.tag("声浪P20充电宝的颜色很好看", "pos") == {}
    assert tagger.tag("鲜到家生鲜配送的菜很新鲜", "pos") == {}
    assert tagger.tag("声浪P20充电宝充电太慢", "neg") == {"电池": "neg"}


def test_brand_aspects_from_config() -> None:
    tagger = AspectTagger(brand_aspects={"声浪": {"续航": ["续航", "待机"]}})
    assert tagger.tag("待机时间太短", "neg", "声浪") == {"续航": "neg"}
    assert tagger.tag("待机时间太短", "neg", "鲜到家") == {}


def test_lower_tiers_and_motives() -> None:
    urgent = triage("快递一周了还没到，急用", "neg", aspects={"物流": "neg"})
    assert (urgent.urgency, urgent.motive) == (3, "发泄")
    assert "物流" in urgent.reply or "加急" in urgent.reply
    refund = triage("质量太差，要求退款", "neg", aspects={"质量": "neg"})
    assert (refund.urgency, refund.motive) == (2, "补偿") and "motive 补偿: " in refund.reason
    respect = triage("客服态度太差，爱答不理", "neg", aspects={"客服": "neg"})
    assert respect.motive == "尊重" and "主管" in respect.reply
    assert triage("第三次坏了，找你们领导", "neg").urgency == 4
    assert triage("一般般，不太好用", "neg", reach=5000).urgency == 4
    suggestion = triage("建议增加黑色款", "neu")
    assert (suggestion.urgency, suggestion.motive) == (1, "建议")
    praise = triage("很好用，推荐", "pos")
    assert (praise.urgency, praise.motive) == (1, "")


def test_replies_offer_a_solution() -> None:
    for text, label, aspects in [
        ("物流太慢了", "neg", {"物流": "neg"}),
        ("要求退款", "neg", {}),
        ("客服骂人", "neg", {"客服": "neg"}),
        ("太烂了", "neg", {}),
    ]:
        reply = triage(text, label, aspects=aspects).reply
        assert "今天" in reply or "立即" in reply or "可以" in reply
        assert "缺货" not in reply


def test_rating_conflicts() -> None:
    assert rating_conflict(5, 0.05, (0.4, 0.6)) == "high_rating_negative_text"
    assert rating_conflict(1, 0.95, (0.4, 0.6)) == "low_rating_positive_text"
    assert rating_conflict(5, 0.5, (0.4, 0.6)) is None
    assert rating_conflict(None, 0.05, (0.4, 0.6)) is None


def test_default_reviews() -> None:
    assert is_default_review("系统默认好评")
    assert is_default_review("此用户未填写评价内容")
    assert not is_default_review("质量好，好评")


def test_near_duplicates_across_accounts() -> None:
    template = "宝贝收到了，质量非常好，物流很快，五星好评！！"
    items = [("jd", f"c{i}", f"acct{i}", template, T0 + timedelta(minutes=i)) for i in range(3)]
    items.append(("jd", "v1", "acct9", "宝贝收到啦，质量非常好，物流很快，五星好评", T0 + timedelta(hours=1)))
    items.append(("jd", "own", "acct0", "耳机音质一般，续航还行，降噪可以", T0))
    items.append(("jd", "short1", "a", "好评", T0))
    items.append(("jd", "short2", "b", "好评", T0))
    members = {m.native_id: m for m in find_duplicates(items, min_accounts=3)}
    assert set(members) == {"c0", "c1", "c2", "v1"}
    assert not members["c0"].excluded and all(members[k].excluded for k in ("c1", "c2", "v1"))
    assert members["c0"].accounts == 4 and len({m.group for m in members.values()}) == 1


def test_one_account_repeating_itself_is_not_a_campaign() -> None:
    text = "这个店铺的东西真的很不错，推荐大家来买"
    items = [("jd", f"s{i}", "same", text, T0 + timedelta(minutes=i)) for i in range(5)]
    assert find_duplicates(items, min_accounts=3) == []

from sentiment.lexicon import builtin_lexicon
from sentiment.text import detect_language, to_simplified


def test_traditional_converted_and_simplified_untouched() -> None:
    assert to_simplified("這個產品質量很差，客服態度也不好") == "这个产品质量很差，客服态度也不好"
    simplified = "著名品牌的余额，覆盖面广"
    assert to_simplified(simplified) == simplified  # 著/余/覆 are simplified characters too


def test_language_detection() -> None:
    assert detect_language("This phone is terrible, never again") == "en"
    assert detect_language("iPhone 手机太烫了") == "zh"
    assert detect_language("😀😀 123") == "und"


def test_negation_degree_and_emoticons() -> None:
    lex = builtin_lexicon()
    assert lex.score("很好").words > lex.score("好").words > 0
    assert lex.score("不好").words < 0
    assert lex.score("不是很满意").words < 0
    assert lex.score("没有问题，很满意").words > 0
    # The negator's effect ends at the clause boundary.
    assert lex.score("不贵，质量好").words > 0
    assert lex.score("今天好开心[哈哈]").emoticons > 0
    assert lex.score("又加班[泪][抓狂]").emoticons < 0
    assert lex.score("[不存在的表情]").hits == 0


def test_domain_lexicon_extends_the_general_one() -> None:
    general, domain = builtin_lexicon(), builtin_lexicon(domain=True)
    assert set(general.polarity) < set(domain.polarity)
    assert all(domain.polarity[w] == v for w, v in general.polarity.items())  # general entries win
    # Food-delivery and hotel phrases the general lexicon does not know.
    assert "送得太慢" not in general.polarity and domain.score("送得太慢").words < 0
    assert domain.score("隔音差，不会再住").words < general.score("隔音差，不会再住").words
    assert domain.score("分量很足，还会再点").words > 0

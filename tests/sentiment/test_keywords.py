from sentiment.keywords import stopwords, top_keywords


def test_names_the_topic_of_a_spike() -> None:
    spike = ["声浪P20充电宝充电时发热严重，电池鼓包了", "充电宝发热烫手，电池有问题", "电池发热，真的不敢用了"]
    words = [w for w, _ in top_keywords(spike, k=3)]
    assert "发热" in words and "电池" in words


def test_background_drops_words_that_are_always_there() -> None:
    spike = ["物流太慢了，声浪耳机等了十天", "声浪耳机物流延迟一周", "物流延迟，声浪客服也不回"]
    background = ["声浪耳机音质很好", "声浪耳机续航不错", "声浪耳机做工精致", "声浪耳机降噪好"]
    words = [w for w, _ in top_keywords(spike, k=5, background=background)]
    assert words[0] == "物流"
    assert "声浪" not in words and "耳机" not in words


def test_stopwords_and_empty_input() -> None:
    assert top_keywords([], k=5) == []
    assert top_keywords(["", "  "], k=5) == []
    # Every word of this text but 充电 and 发热 is a stopword (这个, 真的, 非常, 失望, 感觉, 不错).
    words = [w for w, _ in top_keywords(["这个充电宝真的非常失望，感觉发热不错"] * 3, k=10)]
    assert words == ["充电", "发热"]
    assert {"这个", "真的", "非常", "失望", "感觉", "不错"} <= stopwords()


def test_deterministic_and_bounded() -> None:
    texts = ["包装破损，快递员态度差", "包装破了，快递很慢", "外包装压坏了"]
    first = top_keywords(texts, k=2)
    assert first == top_keywords(list(texts), k=2)
    assert len(first) == 2 and first[0][1] >= first[1][1] > 0


def test_keywords_are_words_not_segmentation_debris_or_times() -> None:
    """Bug: incident keywords included fragments jieba guessed across two words (宝一 of
    充电宝一天, 充着) and times of day (三点, 上午)."""
    texts = [
        "声浪P20充电宝一天就发烫，充着充着就烫手",
        "今天上午三点充电宝一直发烫，吓得不敢用",
        "充电宝一晚上鼓包了，充着电就发烫",
    ] * 5
    words = [word for word, _ in top_keywords(texts, k=10)]
    assert "发烫" in words and "鼓包" in words  # known to koubei's lexicons, not to jieba's dictionary
    for debris in ("宝一", "充着", "三点", "上午", "今天上午"):
        assert debris not in words, (debris, words)


def test_the_idf_table_is_jieba_s_without_importing_jieba_analyse() -> None:
    """Bug: the IDF table came from jieba.analyse's IDFLoader, whose import loads jieba.posseg's
    tables: 0.78 of the 1.04 CPU seconds it cost each `koubei run` process. It is read from the
    same file as IDFLoader reads it, without that import, and equals IDFLoader's."""
    import subprocess
    import sys

    from jieba.analyse.tfidf import DEFAULT_IDF, IDFLoader

    from sentiment.keywords import _load_idf

    loader = IDFLoader(DEFAULT_IDF)
    assert _load_idf() == (loader.idf_freq, loader.median_idf)
    check = "import sys; from sentiment.keywords import _idf; _idf(); print('jieba.analyse' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True).stdout.strip()
        == "False"
    )

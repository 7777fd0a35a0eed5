import numpy as np

from koubei.config import parse_settings
from sentiment.model import Scorer, SnowNLPModel, label_of, load_model, scorer_from_settings

TEXTS = [
    "这个手机质量太差了，客服也不理人",
    "非常好用，推荐购买",
    "物流很快",
    "一般般吧",
    "這個產品很好",
    "电池发热严重",
    "包装破损",
    "服务周到",
    "不会再买了",
    "性价比很高",
] * 6


def test_snownlp_parallel_equals_serial() -> None:
    serial = SnowNLPModel(workers=1).score(TEXTS)
    parallel = SnowNLPModel(workers=2, parallel_min=10).score(TEXTS)
    assert np.array_equal(serial, parallel)
    assert serial[0] < 0.1 and serial[1] > 0.5


def test_english_goes_to_vader_chinese_to_the_chinese_model() -> None:
    scorer = Scorer(load_model("builtin"))
    scores, labels = scorer.score(
        ["I love this phone, it is great", "Terrible battery, it broke in two days", "质量很好，非常满意"]
    )
    assert labels == ["pos", "neg", "pos"]
    vader = scorer.english.score(["I love this phone, it is great"])  # type: ignore[union-attr]
    assert scores[0] == vader[0]
    # A stored language wins over detection: stored as Chinese, the English text goes to the
    # Chinese model, which reads it as negative (VADER: positive).
    forced_scores, forced = scorer.score(["I love this phone, it is great"], languages=["zh"])
    chinese = scorer.chinese.score(["I love this phone, it is great"])
    assert forced_scores[0] == chinese[0] != vader[0]
    assert forced == [label_of(float(chinese[0]), scorer.neutral)] == ["neg"]


def test_neutral_band_from_config_and_labels() -> None:
    assert [label_of(s, (0.4, 0.6)) for s in (0.1, 0.4, 0.5, 0.6, 0.9)] == ["neg", "neu", "neu", "neu", "pos"]
    scorer = scorer_from_settings(parse_settings({"sentiment": {"neutral_band": [0.2, 0.8]}}))
    assert scorer.neutral == (0.2, 0.8)
    assert load_model("builtin").neutral != (0.2, 0.8)  # the cached model itself is untouched

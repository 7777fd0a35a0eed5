"""The learned reading (sentiment/triage_polarity.py), the in-passing praise guard
(sentiment/triage.py) and the leave-one-suite-out estimate (evaluation/triage.py).
Texts here are written for these tests (none is a suite row)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from evaluation.triage import CROSS_SYSTEMS, leave_one_suite_out, load_suite, suite_paths
from sentiment.analysis import analyse, rule_triage
from sentiment.aspects import AspectTagger
from sentiment.model import Scorer
from sentiment.triage import triage
from sentiment.triage_polarity import (
    BUCKETS,
    PolarityModel,
    features,
    fit,
    load,
    relabel,
    rule_tokens,
    shipped_model,
    verdict_clause,
)
from sentiment.triage_train import reading_pass, suite_examples, written_examples


def always(polarity: int) -> PolarityModel:
    """A layer with no features that always reads pos (0), neu (1) or neg (2)."""
    bias = np.full(3, -5.0)
    bias[polarity] = 5.0
    return PolarityModel(np.zeros(0, dtype=np.int64), np.zeros((3, 0)), bias, {})


def test_the_verdict_clause_is_after_the_turn_else_the_last_clause(scorer: Scorer, tagger: AspectTagger) -> None:
    texts = ["包装很精美，但是用了两天就坏了", "物流很快，包装也好，很满意！"]
    readings = rule_triage(scorer, tagger, texts, learned_reading=False).readings
    assert [verdict_clause(r) for r in readings] == ["但是用了两天就坏了", "很满意"]


def test_features_are_text_and_verdict_clause_ngrams_and_the_rules_findings(
    scorer: Scorer, tagger: AspectTagger
) -> None:
    batch = rule_triage(scorer, tagger, ["包装很精美，但是坏了", "好"], learned_reading=False)
    named = rule_tokens(batch.readings[0], "pos", 0.9)
    assert {"model:pos", "score:4", "turn", f"rule:{batch.readings[0].polarity}"} <= set(named)
    found = features(batch.readings, ["pos", "pos"], [0.9, 0.9])
    text, clause = len("包装很精美，但是坏了"), len("但是坏了")
    short = rule_tokens(batch.readings[1], "pos", 0.9)  # the five findings; no story or marker, no sarcasm cue
    assert not [t for t in short if t.startswith("cue:")]
    expected = [text + (text - 1) + (text - 2) + clause + (clause - 1) + len(named), 1 + 1 + len(short)]
    assert list(np.bincount(found.rows)) == expected  # 1-3-grams of the text, 1-2-grams of the verdict clause
    assert found.buckets.min() >= 0 and found.buckets.max() < BUCKETS
    again = features(batch.readings, ["pos", "pos"], [0.9, 0.9])
    assert np.array_equal(found.buckets, again.buckets)  # hashing is stable


def test_the_layer_decides_the_reading_and_says_what_the_rules_read(scorer: Scorer, tagger: AspectTagger) -> None:
    """World-knowledge sarcasm the rules read as praise: a layer that reads it as a complaint wins,
    and the reason keeps the rules' reading for the duty manager."""
    text = "感谢快递让我的包裹免费环游了全国一圈"
    rules = rule_triage(scorer, tagger, [text], learned_reading=False)
    learned = rule_triage(scorer, tagger, [text], learned_reading=always(2))
    assert learned.readings[0].polarity == learned.triages[0].reading == "neg"
    assert learned.triages[0].urgency >= 2
    assert f"rules: {rules.readings[0].polarity}" in learned.readings[0].why
    agreeing = relabel(
        rules.readings, rules.labels, rules.scores, always(("pos", "neu", "neg").index(rules.readings[0].polarity))
    )
    assert agreeing == rules.readings  # a layer that agrees changes nothing


def test_a_layer_reading_praise_never_lowers_a_crisis(scorer: Scorer, tagger: AspectTagger) -> None:
    """Harm is a complaint whatever the tone: a tier-5 harm stays tier 5 under a layer that reads
    everything as praise."""
    texts = ["充电宝冒烟了，幸好客服态度很好，给退了", "孩子吃了这个果冻噎住了，送医院抢救"]
    batch = rule_triage(scorer, tagger, texts, learned_reading=always(0))
    assert [t.urgency for t in batch.triages] == [5, 5], [t.reason for t in batch.triages]


def test_training_is_reproducible_and_saved_files_score_the_same(
    scorer: Scorer, tagger: AspectTagger, tmp_path: Path
) -> None:
    examples = suite_examples()[:300]
    _, found = reading_pass(scorer, tagger, examples)
    polarities = [e.polarity for e in examples]
    first, second = fit(found, polarities), fit(found, polarities)
    assert np.array_equal(first.columns, second.columns) and np.array_equal(first.weights, second.weights)
    first.save(tmp_path)
    again = load(tmp_path)
    some = found.select(range(50))
    assert np.allclose(first.probabilities(some), again.probabilities(some), atol=1e-5)


def test_the_shipped_files_are_the_training_output(scorer: Scorer, tagger: AspectTagger) -> None:
    """sentiment/models/triage/polarity.* is what `koubei train-triage` writes from the suites."""
    shipped = shipped_model()
    assert shipped is not None
    examples = suite_examples() + written_examples()
    _, found = reading_pass(scorer, tagger, examples)
    trained = fit(found, [e.polarity for e in examples])
    assert np.array_equal(trained.columns, shipped.columns)
    assert np.allclose(trained.probabilities(found), shipped.probabilities(found), atol=1e-4)


def test_scoring_a_batch_equals_scoring_each_text(scorer: Scorer, tagger: AspectTagger) -> None:
    model = shipped_model()
    assert model is not None
    batch = rule_triage(scorer, tagger, ["很好用", "", "差评，再也不买了", "请问有货吗？"], learned_reading=False)
    found = features(batch.readings, batch.labels, batch.scores)
    together = model.probabilities(found)
    alone = np.vstack([model.probabilities(found.select([i])) for i in range(4)])
    assert np.allclose(together, alone) and np.allclose(together.sum(axis=1), 1.0)
    assert model.probabilities(found.select([])).shape == (0, 3)


# ---------------------------------------------------------------- the in-passing praise guard
@pytest.mark.parametrize(
    "text",
    [
        "被烫伤过一次所以特别挑热水壶，这款防烫设计很贴心，推荐",  # a harm as the reason for a choice
        "朋友是记者，推荐的这家店，菜很好吃",  # an occupation
        "my friend is a lawyer, she recommended this place, the food was amazing",
    ],
)
def test_a_risk_word_told_as_background_in_praise_does_not_escalate(text: str) -> None:
    assert triage(text, "pos").urgency == 1


@pytest.mark.parametrize(
    "text",
    [
        "充电宝冒烟了，幸好客服态度很好，给退了",  # a harm that happened, then praise
        "律师函已经发了，不过客服态度还不错",  # a legal step taken
        "被烫伤过一次所以再也不买了，太差",  # background, but the mention complains
    ],
)
def test_a_risk_word_that_happened_still_escalates_beside_praise(text: str) -> None:
    assert triage(text, "pos").urgency == 5


def test_praise_with_a_risk_word_in_an_informational_clause_is_never_escalated(
    scorer: Scorer, tagger: AspectTagger
) -> None:
    """Issue 15's praise guard through the whole path (model, learned reading, rules, learned tier)."""
    texts = [
        "充电一晚上一点都不烫，很满意",
        "朋友是律师推荐的，果然名不虚传",
        "孩子过敏体质，用了这款面霜一点反应都没有，太好了",
    ]
    assert all(a.triage.urgency < 3 for a in analyse(scorer, tagger, texts))


# ---------------------------------------------------------------- the leave-one-suite-out estimate
def test_each_held_out_suite_is_read_by_layers_trained_without_it(scorer: Scorer, tagger: AspectTagger) -> None:
    chosen = {"triage_hard_cases", "triage_fresh3", "triage_fresh6"}
    suites = [(p.stem, load_suite(p)) for p in suite_paths() if p.stem in chosen]
    run = leave_one_suite_out(suites, scorer, tagger)
    assert run.folds == 2 and set(run.groups) == {"triage_fresh3", "triage_fresh6"}  # hard cases: training only
    assert len(run.cases) == sum(len(c) for n, c in suites if n != "triage_hard_cases")
    assert set(run.verdicts) == set(CROSS_SYSTEMS)
    assert all(len(v) == len(run.cases) for v in run.verdicts.values())
    scores = run.scores()
    assert scores["rules+reading+model"].praise_escalated == 0
    assert run.category_accuracy("rules", "negation", "triage_fresh6") is not None

"""The learned triage layer (sentiment/triage_model.py, sentiment/triage_train.py): what it may
change, the praise guard, the shipped model on phrasings the rules miss, training and
cross-validation. Texts here are written for these tests (none is a suite row)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from evaluation.triage import Case, cross_validate, load_suite, score, suite_paths
from sentiment.analysis import Ruled, analyse, rule_triage
from sentiment.aspects import AspectTagger
from sentiment.model import Scorer
from sentiment.triage_model import (
    CRISIS_RAISE,
    TriageModel,
    anchors,
    candidate,
    load,
    refine,
    shipped_model,
)
from sentiment.triage_train import fit, rule_pass, suite_examples

# Injuries and hazards in everyday words the escalation lexicon does not hold.
EVERYDAY_HARM = [
    "电热毯开了一晚上，早上发现大腿内侧红了好几块，一碰就疼",
    "烤箱门的玻璃突然炸开，碎片溅了一地，我胳膊上划了好几道",
    "孩子吃了这个果冻噎得脸都紫了，拍了好久才吐出来",
    # Not "the heater started smoking ...": the rules read that one since the fourth round.
    "the heater made a weird noise and my son's hand got a nasty burn",
]
# Praise that names a risk only to say it did not happen.
PRAISE_WITH_RISK = [
    "完全没有过敏，敏感肌也能用，很温和",
    "用了三个月一次都没有发烫，很安心",
    "宝宝用了一个月屁屁一点没红，也没起疹子，回购",
    "no burns, no sparks, my kids use it every day, love it",
    "酒店的经理很热心，帮我们处理了行李的问题，点赞",
    "边吃边夸，完全没有拉肚子，干净又好吃",
]


def always(crisis: float, tiers: tuple[float, ...] = (0, 0, 0, 0, 0)) -> TriageModel:
    """A model with no features whose probabilities are fixed by its bias."""
    logit = float(np.log(crisis / (1 - crisis)))
    return TriageModel({}, np.zeros((6, 0)), np.array([logit, *tiers]), {})


def ruled(scorer: Scorer, tagger: AspectTagger, texts: list[str]) -> Ruled:
    return rule_triage(scorer, tagger, texts)


def test_an_anchor_under_negation_or_in_a_question_is_not_named(scorer: Scorer, tagger: AspectTagger) -> None:
    texts = ["用了以后脸上过敏了", "完全没有过敏", "请问孕妇用会不会过敏？", "no rash at all", "got a rash"]
    found = [anchors().find(r) for r in ruled(scorer, tagger, texts).readings]
    assert [[a.negated for a in f] for f in found] == [[False], [True], [True], [True], [False]]


def test_weibo_emoticons_name_no_harm(scorer: Scorer, tagger: AspectTagger) -> None:
    """Bug found on benchmark posts: [晕] and [悲伤] were read as harm words and the layer raised
    chatter to tier 5."""
    reading = ruled(scorer, tagger, ["热的一塌糊涂[晕][悲伤]"]).readings[0]
    assert anchors().find(reading) == []


def test_a_confident_crisis_model_raises_only_with_a_named_anchor(scorer: Scorer, tagger: AspectTagger) -> None:
    texts = [*EVERYDAY_HARM, "物流太慢了，等了一个星期才到", "发货慢，还好没有摔坏也没有过敏"]
    batch = ruled(scorer, tagger, texts)
    assert all(t.urgency < 5 for t in batch.triages), [t.reason for t in batch.triages]
    raised = refine(batch.readings, batch.triages, batch.labels, batch.scores, always(0.99))
    assert [t.urgency for t in raised] == [5, 5, 5, 5, batch.triages[4].urgency, batch.triages[5].urgency]
    assert all("model: crisis" in t.reason and t.reading == "neg" for t in raised[:4])


def test_an_unsure_crisis_model_changes_nothing(scorer: Scorer, tagger: AspectTagger) -> None:
    batch = ruled(scorer, tagger, EVERYDAY_HARM)
    kept = refine(batch.readings, batch.triages, batch.labels, batch.scores, always(CRISIS_RAISE - 0.05))
    assert kept == batch.triages


def test_the_layer_never_escalates_praise_that_names_a_risk(scorer: Scorer, tagger: AspectTagger) -> None:
    """The praise guard: with a crisis model that calls everything a crisis, a review triage
    reads as praise stays below tier 3 (issue 15: praise escalated must be 0)."""
    batch = ruled(scorer, tagger, PRAISE_WITH_RISK)
    assert [t.reading for t in batch.triages] == ["pos"] * len(PRAISE_WITH_RISK), [t.reason for t in batch.triages]
    raised = refine(batch.readings, batch.triages, batch.labels, batch.scores, always(0.999, (0, 0, 9, 9, 9)))
    assert [t.urgency for t in raised] == [t.urgency for t in batch.triages]
    assert all(t.urgency < 3 for t in raised)


def test_the_shipped_model_raises_harm_in_everyday_words_and_spares_praise(
    scorer: Scorer, tagger: AspectTagger
) -> None:
    assert shipped_model() is not None
    assert [a.triage.urgency for a in analyse(scorer, tagger, EVERYDAY_HARM)] == [5, 5, 5, 5]
    assert all(a.triage.urgency == 1 for a in analyse(scorer, tagger, PRAISE_WITH_RISK))


def test_mentions_the_layer_cannot_change_cost_no_features(scorer: Scorer, tagger: AspectTagger) -> None:
    texts = ["很好用，推荐", "已经向市场监管局投诉了", "发货太慢了"]
    batch = ruled(scorer, tagger, texts)
    found = [candidate(i, batch.readings[i], batch.triages[i], batch.labels[i], batch.scores[i]) for i in range(3)]
    assert found == [None, None, None]  # praise; already tier 5; no harm or authority named


def test_training_is_reproducible_and_a_saved_model_scores_the_same(
    scorer: Scorer, tagger: AspectTagger, tmp_path: Path
) -> None:
    examples = suite_examples()[:240]
    _, tokens = rule_pass(scorer, tagger, examples)
    tiers = [e.tier for e in examples]
    first, second = fit(tokens, tiers), fit(tokens, tiers)
    assert np.array_equal(first.weights, second.weights) and first.vocabulary == second.vocabulary
    first.save(tmp_path / "m")
    again = load(tmp_path / "m")
    ours, theirs = first.probabilities(tokens[:20]), again.probabilities(tokens[:20])
    assert np.allclose(ours[0], theirs[0], atol=1e-5) and np.allclose(ours[1], theirs[1], atol=1e-5)


def test_cross_validation_reads_each_case_with_a_layer_trained_without_its_fold(
    scorer: Scorer, tagger: AspectTagger
) -> None:
    """Rules alone are the rules' own verdicts; the layer trained on the three older suites raises
    crises of the fresh suite (written after the rules, never used to write them) that the
    rules miss, and escalates no more praise."""
    suites = [(p.stem, load_suite(p)) for p in suite_paths()]
    run = cross_validate(suites, scorer, tagger, by="suite", folds=4)
    cases: list[Case] = run.cases
    assert len(run.rules) == len(run.learned) == len(cases) == sum(len(c) for _, c in suites)
    fresh_rules, fresh_learned = run.scores("triage_fresh")["rules"], run.scores("triage_fresh")["rules+model"]
    assert fresh_rules.crisis_recall is not None and fresh_learned.crisis_recall is not None
    assert fresh_learned.crisis_recall >= fresh_rules.crisis_recall + 0.1
    assert fresh_learned.praise_escalated <= fresh_rules.praise_escalated
    assert score(cases, run.learned).within_one >= score(cases, run.rules).within_one

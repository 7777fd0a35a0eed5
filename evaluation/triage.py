"""`koubei eval triage`: the triage on the team's hard-case suites, beside the previous
release and snownlp.

A suite is a TSV of reviews written by the team (sentiment/corpora/triage_*.tsv;
`#` lines are provenance) with columns text, expected_tier, expected_polarity,
category, domain, language. Three systems read each review:
  koubei    the product's own path: the shipped default model, then
            sentiment.analysis.analyse (reading, aspects, triage); polarity is
            triage's reading;
  previous  the previous release: the model's label (no neutral class) and the
            tier rules of evaluation/triage_previous.py;
  snownlp   snownlp's label (band 0.35-0.65) with the previous release's rules:
            koubei as it was with snownlp as its model.
Reach is 0 for every review (the suites have no reach column).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from evaluation.triage_previous import previous_tier
from koubei.errors import KoubeiError
from sentiment.analysis import Ruled, analyse
from sentiment.aspects import AspectTagger
from sentiment.model import Scorer, SnowNLPModel, label_of
from sentiment.triage_train import Example, layer_tokens, reading_pass, written_examples

if TYPE_CHECKING:
    from sentiment.triage_polarity import Features

SUITES_DIR = Path(__file__).resolve().parent.parent / "sentiment" / "corpora"
SUITE_GLOB = "triage_*.tsv"
COLUMNS = ("text", "expected_tier", "expected_polarity", "category", "domain", "language")
POLARITIES = ("pos", "neu", "neg")
# Categories where the model's reading of a sentence is known to fail (issue 15).
HARD = frozenset(
    {"negation", "contrast", "sarcasm", "slang_praise", "slang_negative", "praise_with_risk_word", "long_rambling"}
)
SYSTEMS = ("koubei", "previous", "snownlp")


class SuiteError(KoubeiError):
    """A suite file is malformed; the message names the file, row and column."""


@dataclass(frozen=True)
class Case:
    text: str
    tier: int
    polarity: str
    category: str
    domain: str
    language: str


@dataclass(frozen=True)
class Verdict:
    tier: int
    polarity: str


def load_suite(path: Path) -> list[Case]:
    if not path.exists():
        raise SuiteError(f"triage suite not found: {path}")
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    reader = csv.DictReader(lines, delimiter="\t", quoting=csv.QUOTE_NONE)
    missing = [c for c in COLUMNS if c not in (reader.fieldnames or [])]
    if missing:
        raise SuiteError(f"{path}: header lacks column(s) {', '.join(missing)}")
    cases: list[Case] = []
    for row_no, row in enumerate(reader, start=2):
        for column in COLUMNS:
            if not (row.get(column) or "").strip():
                raise SuiteError(f"{path}: row {row_no}, column {column}: empty")
        tier, polarity = row["expected_tier"].strip(), row["expected_polarity"].strip()
        if tier not in {"1", "2", "3", "4", "5"}:
            raise SuiteError(f"{path}: row {row_no}, column expected_tier: {tier!r} is not 1-5")
        if polarity not in POLARITIES:
            raise SuiteError(f"{path}: row {row_no}, column expected_polarity: {polarity!r} is not pos/neu/neg")
        cases.append(
            Case(row["text"], int(tier), polarity, row["category"].strip(), row["domain"].strip(), row["language"])
        )
    return cases


@dataclass(frozen=True)
class Scores:
    n: int
    polarity: float  # share of reviews whose polarity is the expected one
    exact: float  # tier equal to the expected
    within_one: float  # tier at most one from the expected
    crisis_recall: float | None  # expected tier 5 given 5 (None: no tier-5 review)
    praise_escalated: int  # expected-positive reviews given tier >= 3
    hard: float | None  # polarity accuracy on the pos/neg reviews of the hard categories


def score(cases: Sequence[Case], verdicts: Sequence[Verdict]) -> Scores:
    pairs = list(zip(cases, verdicts))
    n = len(pairs)
    crises = [v for c, v in pairs if c.tier == 5]
    hard = [(c, v) for c, v in pairs if c.category in HARD and c.polarity != "neu"]
    return Scores(
        n=n,
        polarity=sum(c.polarity == v.polarity for c, v in pairs) / n if n else 0.0,
        exact=sum(c.tier == v.tier for c, v in pairs) / n if n else 0.0,
        within_one=sum(abs(c.tier - v.tier) <= 1 for c, v in pairs) / n if n else 0.0,
        crisis_recall=sum(v.tier == 5 for v in crises) / len(crises) if crises else None,
        praise_escalated=sum(c.polarity == "pos" and v.tier >= 3 for c, v in pairs),
        hard=sum(c.polarity == v.polarity for c, v in hard) / len(hard) if hard else None,
    )


TARGETS: dict[str, tuple[str, float, Callable[[Scores], float | None]]] = {
    "crisis recall": (">=", 0.90, lambda s: s.crisis_recall),
    "praise escalated": ("<=", 0, lambda s: s.praise_escalated),
    "tier within one": (">=", 0.92, lambda s: s.within_one),
    "hard pos/neg accuracy": (">=", 0.88, lambda s: s.hard),
}


def missed_targets(suite: str, scores: Scores) -> list[str]:
    """One line per target the koubei system misses on a suite."""
    lines: list[str] = []
    for name, (op, target, value_of) in TARGETS.items():
        value = value_of(scores)
        if value is None:
            continue
        if (value < target) if op == ">=" else (value > target):
            shown = str(value) if isinstance(value, int) else f"{value:.3f}"
            lines.append(f"{suite}: {name} {shown} misses the target {op} {target:g}")
    return lines


@dataclass
class SuiteReport:
    name: str
    cases: list[Case]
    verdicts: dict[str, list[Verdict]] = field(default_factory=dict)

    def overall(self, system: str) -> Scores:
        return score(self.cases, self.verdicts[system])

    def categories(self) -> list[str]:
        return sorted({c.category for c in self.cases})

    def by_category(self, system: str, category: str) -> Scores:
        chosen = [(c, v) for c, v in zip(self.cases, self.verdicts[system]) if c.category == category]
        return score([c for c, _ in chosen], [v for _, v in chosen])

    def missed(self) -> list[str]:
        return missed_targets(self.name, self.overall("koubei"))


def koubei_verdicts(
    texts: Sequence[str], scorer: Scorer, tagger: AspectTagger, reaches: Sequence[int]
) -> list[Verdict]:
    return [Verdict(a.triage.urgency, a.triage.reading) for a in analyse(scorer, tagger, texts, reaches=reaches)]


def previous_verdicts(texts: Sequence[str], labels: Sequence[str]) -> list[Verdict]:
    return [Verdict(previous_tier(t, label), label) for t, label in zip(texts, labels)]


def evaluate_suite(path: Path, scorer: Scorer, tagger: AspectTagger, snownlp: bool = True) -> SuiteReport:
    cases = load_suite(path)
    texts = [c.text for c in cases]
    report = SuiteReport(path.stem, cases)
    report.verdicts["koubei"] = koubei_verdicts(texts, scorer, tagger, [0] * len(texts))
    _, model_labels = scorer.score(texts, verdicts=False)
    report.verdicts["previous"] = previous_verdicts(texts, model_labels)
    if snownlp:
        model = SnowNLPModel(workers=1)
        report.verdicts["snownlp"] = previous_verdicts(texts, [label_of(s, model.neutral) for s in model.score(texts)])
    return report


def suite_paths(directory: Path = SUITES_DIR) -> list[Path]:
    return sorted(directory.glob(SUITE_GLOB))


@dataclass(frozen=True)
class CorrectionCheck:
    total: int
    agree: int  # corrections the current rules now give the same tier as the person


def check_corrections(
    corrections: Sequence[tuple[str, int, int]], scorer: Scorer, tagger: AspectTagger
) -> CorrectionCheck:
    """How many stored tier corrections (text, reach, tier) the current rules would now get right."""
    if not corrections:
        return CorrectionCheck(0, 0)
    verdicts = koubei_verdicts([t for t, _, _ in corrections], scorer, tagger, [r for _, r, _ in corrections])
    return CorrectionCheck(len(corrections), sum(v.tier == tier for v, (_, _, tier) in zip(verdicts, corrections)))


def _cell(value: float | None) -> str:
    return "  -  " if value is None else f"{value:5.3f}"


def report_lines(reports: Sequence[SuiteReport]) -> list[str]:
    """The tables `koubei eval triage` prints: per category and overall, each system's
    polarity accuracy, tier exact and tier within one; then the target figures."""
    lines: list[str] = []
    for report in reports:
        systems = [s for s in SYSTEMS if s in report.verdicts]
        lines.append(f"suite {report.name}: {len(report.cases)} reviews, reach 0")
        header = f"{'':22} {'':>4}" + "".join(f" | {s:^17}" for s in systems)
        columns = f"{'category':22} {'n':>4}" + f" | {'pol':>5} {'exact':>5} {'±1':>5}" * len(systems)
        lines += [header, columns, "-" * len(columns)]
        for category in [*report.categories(), None]:
            chosen = [c for c in report.cases if category is None or c.category == category]
            row = f"{category or 'all':22} {len(chosen):4}"
            for system in systems:
                s = report.overall(system) if category is None else report.by_category(system, category)
                row += f" | {_cell(s.polarity)} {_cell(s.exact)} {_cell(s.within_one)}"
            lines.append(row)
        for system in systems:
            s = report.overall(system)
            lines.append(
                f"{system:9} crisis recall {_cell(s.crisis_recall)}, praise escalated {s.praise_escalated},"
                f" tier within one {_cell(s.within_one)}, hard pos/neg accuracy {_cell(s.hard)},"
                f" polarity {_cell(s.polarity)}, tier exact {_cell(s.exact)}"
            )
        lines.append("")
    return lines


def as_json(reports: Sequence[SuiteReport], corrections: CorrectionCheck) -> dict[str, object]:
    def scores(s: Scores) -> dict[str, object]:
        return {k: getattr(s, k) for k in Scores.__dataclass_fields__}

    return {
        "suites": {
            r.name: {
                "reviews": len(r.cases),
                "systems": {system: scores(r.overall(system)) for system in r.verdicts},
                "categories": {
                    c: {system: scores(r.by_category(system, c)) for system in r.verdicts} for c in r.categories()
                },
                "missed": r.missed(),
            }
            for r in reports
        },
        "targets": {name: f"{op} {target:g}" for name, (op, target, _) in TARGETS.items()},
        "corrections": {"stored": corrections.total, "agree": corrections.agree},
    }


# The suites written after the rules (fresh rounds, blind hold-outs): the ones a leave-one-suite-out
# estimate holds out in turn. triage_hard_cases.tsv, written with the rules, is only trained on.
HELD_OUT_PREFIXES = ("triage_fresh", "triage_holdout")
# The systems of a cross-validation: the rules alone (no learned layer), the rules with the crisis and
# tier layer (the previous round's product), and with the learned reading under both (this round's).
CROSS_SYSTEMS = ("rules", "rules+model", "rules+reading+model")
# Categories whose polarity the cross table shows apart (pos/neg rows).
READING_CATEGORIES = ("sarcasm", "contrast", "negation")


@dataclass(frozen=True)
class CrossValidation:
    by: str  # suite | domain | category | held-out suite: what the folds keep together
    folds: int
    cases: list[Case]
    verdicts: dict[str, list[Verdict]]  # per system of CROSS_SYSTEMS; each case read by layers trained without its fold
    groups: list[str]  # each case's fold key (its suite, domain or category)

    @property
    def rules(self) -> list[Verdict]:
        return self.verdicts["rules"]

    @property
    def learned(self) -> list[Verdict]:
        """The product's verdicts: the rules with both learned layers."""
        return self.verdicts[CROSS_SYSTEMS[-1]]

    def scores(self, group: str | None = None) -> dict[str, Scores]:
        chosen = [i for i, g in enumerate(self.groups) if group is None or g == group]
        cases = [self.cases[i] for i in chosen]
        return {k: score(cases, [v[i] for i in chosen]) for k, v in self.verdicts.items()}

    def category_accuracy(self, system: str, category: str, group: str | None = None) -> float | None:
        """Polarity accuracy on the pos/neg cases of a category (of a group)."""
        chosen = [
            i
            for i, (c, g) in enumerate(zip(self.cases, self.groups))
            if c.category == category and c.polarity != "neu" and (group is None or g == group)
        ]
        if not chosen:
            return None
        verdicts = self.verdicts[system]
        return sum(self.cases[i].polarity == verdicts[i].polarity for i in chosen) / len(chosen)


FOLD_KEYS = ("suite", "domain", "category")


@dataclass(frozen=True)
class _Rows:
    """Every row read once by the rules alone, and its features for both learned layers."""

    examples: list[Example]  # the suites' rows, then the stored corrections
    written: list[Example]  # polarity rows only, after them in reading_features
    ruled: Ruled
    reading_features: Features
    layer_tokens: list[set[str]]


def _rows(
    cases: Sequence[Case],
    groups: Sequence[str],
    scorer: Scorer,
    tagger: AspectTagger,
    corrections: Sequence[tuple[str, int, int]],
) -> _Rows:
    examples = [Example(c.text, 0, c.tier, g, c.polarity) for c, g in zip(cases, groups)]
    examples += [Example(t, r, tier, "corrections") for t, r, tier in corrections]
    written = written_examples()
    ruled, found = reading_pass(scorer, tagger, examples + written)
    ruled = Ruled(*(getattr(ruled, f)[: len(examples)] for f in Ruled.__dataclass_fields__))
    return _Rows(examples, written, ruled, found, layer_tokens(ruled))


def _layer(
    ruled: Ruled, tokens: list[set[str]], examples: list[Example], train: Sequence[int], test: Sequence[int]
) -> dict[int, Verdict]:
    """The test rows' verdicts: the ruled triage, adjusted by a crisis and tier layer fitted on train."""
    from sentiment.triage_model import candidate, combine
    from sentiment.triage_train import fit

    out = {i: Verdict(ruled.triages[i].urgency, ruled.triages[i].reading) for i in test}
    items = [
        c
        for i in test
        if (c := candidate(i, ruled.readings[i], ruled.triages[i], ruled.labels[i], ruled.scores[i])) is not None
    ]
    if items:
        model = fit([tokens[i] for i in train], [examples[i].tier for i in train])
        crisis, tiers = model.probabilities([c.tokens for c in items])
        for item, p, t in zip(items, crisis, tiers):
            result = combine(item, float(p), t)
            out[item.index] = Verdict(result.urgency, result.reading)
    return out


def _fold(
    rows: _Rows, tagger: AspectTagger, train: Sequence[int], test: Sequence[int]
) -> dict[str, dict[int, Verdict]]:
    """One fold's verdicts of its test rows by each system, every layer fitted on train only."""
    from sentiment.analysis import retriage
    from sentiment.triage_polarity import fit as fit_polarity
    from sentiment.triage_polarity import relabel

    examples, ruled = rows.examples, rows.ruled
    rules = {i: Verdict(ruled.triages[i].urgency, ruled.triages[i].reading) for i in test}
    before = _layer(ruled, rows.layer_tokens, examples, train, test)
    read = [i for i in train if examples[i].polarity] + list(range(len(examples), len(examples) + len(rows.written)))
    labels = [examples[i].polarity for i in read if i < len(examples)] + [e.polarity for e in rows.written]
    polarity = fit_polarity(rows.reading_features.select(read), labels)
    readings = relabel(ruled.readings, ruled.labels, ruled.scores, polarity)
    reaches = [e.reach for e in examples]
    reread = retriage(ruled, readings, tagger, reaches=reaches)
    after = _layer(reread, layer_tokens(reread), examples, train, test)
    return dict(zip(CROSS_SYSTEMS, (rules, before, after)))


def _run(
    by: str,
    cases: list[Case],
    groups: list[str],
    splits: Sequence[tuple[Sequence[int], Sequence[int]]],
    rows: _Rows,
    tagger: AspectTagger,
) -> CrossValidation:
    """Each test row read by layers trained on its split's train rows and every stored correction."""
    corrections = range(len(cases), len(rows.examples))
    verdicts: dict[str, dict[int, Verdict]] = {k: {} for k in CROSS_SYSTEMS}
    for train, test in splits:
        for system, found in _fold(rows, tagger, [*train, *corrections], test).items():
            verdicts[system].update(found)
    tested = sorted(verdicts["rules"])
    return CrossValidation(
        by,
        len(splits),
        [cases[i] for i in tested],
        {k: [v[i] for i in tested] for k, v in verdicts.items()},
        [groups[i] for i in tested],
    )


def cross_validate(
    suites: Sequence[tuple[str, Sequence[Case]]],
    scorer: Scorer,
    tagger: AspectTagger,
    by: str = "domain",
    folds: int = 5,
    corrections: Sequence[tuple[str, int, int]] = (),
) -> CrossValidation:
    """Rules alone vs rules + the learned layers (sentiment/triage_model.py, triage_polarity.py),
    each case read by layers trained without its fold. Folds keep every case of a suite, domain or
    category together, so the layers are measured on phrasings of a kind they never saw. Stored
    corrections are training rows in every fold, never test rows."""
    from sklearn.model_selection import GroupKFold

    cases = [c for _, chosen in suites for c in chosen]
    groups = [name if by == "suite" else getattr(c, by) for name, chosen in suites for c in chosen]
    rows = _rows(cases, groups, scorer, tagger, corrections)
    splitter = GroupKFold(n_splits=min(folds, len(set(groups))))
    splits = list(splitter.split(cases, groups=groups))
    return _run(by, cases, groups, splits, rows, tagger)


def leave_one_suite_out(
    suites: Sequence[tuple[str, Sequence[Case]]],
    scorer: Scorer,
    tagger: AspectTagger,
    corrections: Sequence[tuple[str, int, int]] = (),
) -> CrossValidation:
    """The generalisation estimate: each suite written after the rules (HELD_OUT_PREFIXES) read by
    layers trained on every other suite, as a blind set is read by the shipped layers. The suites'
    rows still shaped the rules (they were written to fix them), so this is an upper bound on
    what a blind set gives, but a far closer one than the in-sample table."""
    cases = [c for _, chosen in suites for c in chosen]
    groups = [name for name, chosen in suites for _ in chosen]
    rows = _rows(cases, groups, scorer, tagger, corrections)
    held_out = sorted({g for g in groups if g.startswith(HELD_OUT_PREFIXES)})
    splits = [
        ([i for i, g in enumerate(groups) if g != name], [i for i, g in enumerate(groups) if g == name])
        for name in held_out
    ]
    return _run("held-out suite", cases, groups, splits, rows, tagger)


def cross_validation_lines(runs: Sequence[CrossValidation]) -> list[str]:
    lines: list[str] = []
    for run in runs:
        lines.append(
            f"cross-validated by {run.by}: {run.folds} folds over {len(run.cases)} reviews,"
            " each read by layers trained without its fold"
        )
        parts = [None, *sorted(set(run.groups))] if "suite" in run.by else [None]
        for group, system, s in [(g, k, v) for g in parts for k, v in run.scores(g).items()]:
            categories = ", ".join(f"{c} {_cell(run.category_accuracy(system, c, group))}" for c in READING_CATEGORIES)
            lines.append(
                f"  {group or 'all':20} {system:19} crisis recall {_cell(s.crisis_recall)},"
                f" praise escalated {s.praise_escalated}, tier within one {_cell(s.within_one)},"
                f" hard pos/neg {_cell(s.hard)}, {categories}, tier exact {_cell(s.exact)}"
            )
    return lines


def cross_validation_json(runs: Sequence[CrossValidation]) -> dict[str, object]:
    def scores(run: CrossValidation, system: str, s: Scores, group: str | None) -> dict[str, object]:
        found: dict[str, object] = {k: getattr(s, k) for k in Scores.__dataclass_fields__}
        return found | {c: run.category_accuracy(system, c, group) for c in READING_CATEGORIES}

    return {
        run.by: {
            "folds": run.folds,
            "systems": {k: scores(run, k, s, None) for k, s in run.scores().items()},
            "groups": {g: {k: scores(run, k, v, g) for k, v in run.scores(g).items()} for g in sorted(set(run.groups))},
        }
        for run in runs
    }

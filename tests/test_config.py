"""koubei.toml is typed and strict: a mistyped key, a wrong type or a value out of range is one line
naming the file, the table, the key, the value and what is expected, and exit 2 before any work.

Regression (issue 11, part 3): typos such as `[alerts] lookback_day = 3` or a source's
`min_intervall = 5` were ignored without a word, and bad values crashed later with a traceback
(`bucket = "0s"`: ZeroDivisionError) or broke every pass (`timezone = "Mars/Olympus"`,
`interval = "0s"` running passes back to back).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from dataclasses import fields
from datetime import timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from alerts.config import load_alert_settings
from alerts.detectors import NegativeParams, VolumeParams
from collectors.base import DemoPlace, registry
from collectors.options import HttpSourceOptions, parse_source
from collectors.sources.jd import JdOptions
from koubei.config import REPO_CONFIG, parse_settings, read_toml
from koubei.errors import ConfigError
from koubei.settings.alerts import NEGATIVE_KEYS, VOLUME_KEYS
from koubei.settings.types import BucketLength, WatchInterval

KOUBEI = str(Path(sys.executable).with_name("koubei"))
REPO_TOML = REPO_CONFIG.read_text(encoding="utf-8")
DURATION = 'a duration such as "30s", "5m", "1h" or "1d"'

# (what the repository's koubei.toml says, the mistake, the command it used to break, the error line)
MISTAKES = [
    (
        'timezone = "Asia/Shanghai"',
        'timezone = "Mars/Olympus"',
        ["alerts", "--deliver"],
        '[alerts] timezone = "Mars/Olympus": expected an IANA time zone name such as "Asia/Shanghai" or "UTC"',
    ),
    (
        'bucket = "1h"\nmin_negatives',
        'bucket = "0s"\nmin_negatives',
        ["detect"],
        f'[alerts.rules.negative-spike] bucket = "0s": expected {DURATION}, from 1m to 7d',
    ),
    (
        "duplicate_min_accounts = 3",
        'duplicate_min_accounts = "three"',
        ["score"],
        '[sentiment] duplicate_min_accounts = "three": expected an integer from 2 to 1000 (distinct accounts)',
    ),
    (
        "lookback_days = 28",
        "lookback_days = 1e8",
        ["detect"],
        "[alerts] lookback_days = 100000000.0: expected a number from 1 to 3650 (days)",
    ),
    (
        "negative_excess = [15, 50, 150]",
        "negative_excess = []",
        ["detect"],
        "[alerts.severity] negative_excess = []: expected a list of 3 values, each a number from 0 to 1000000",
    ),
    (
        "z_min = 4.0",
        'z_min = "high"',
        ["detect"],
        '[alerts.rules.negative-spike] z_min = "high": expected a number from 0.5 to 100',
    ),
    (
        "retry_base_seconds = 30",
        "retry_base_seconds = 1e300",
        ["alerts", "--deliver"],
        "[alerts] retry_base_seconds = 1e+300: expected a number from 1 to 3600 (seconds)",
    ),
    (
        'interval = "5m"',
        'interval = "0s"',
        ["watch", "--max-passes", "1"],
        f'[sources.demo] interval = "0s": expected {DURATION}, from 1s to 30d',
    ),
    (
        'interval = "5m"',
        "interval = -10",
        ["watch", "--max-passes", "1"],
        f"[sources.demo] interval = -10: expected {DURATION}, from 1s to 30d",
    ),
    (
        "lookback_days = 28",
        "lookback_day = 3",
        ["detect"],
        "[alerts] unknown key 'lookback_day' (did you mean 'lookback_days'?)",
    ),
    (
        "min_interval = 3.0",
        "min_intervall = 5",
        ["collect", "jd"],
        "[sources.jd] unknown key 'min_intervall' (did you mean 'min_interval'?)",
    ),
]


def koubei(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([KOUBEI, *args], capture_output=True, text=True, timeout=120)


def with_mistake(tmp_path: Path, said: str, instead: str) -> Path:
    """The repository's koubei.toml with one line changed."""
    assert REPO_TOML.count(said) >= 1, said
    path = tmp_path / "koubei.toml"
    path.write_text(REPO_TOML.replace(said, instead, 1), encoding="utf-8")
    return path


def assert_config_error(result: subprocess.CompletedProcess[str], line: str) -> None:
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"error: {line}\n"
    assert "Traceback" not in result.stdout


@pytest.mark.parametrize(("said", "instead", "command", "line"), MISTAKES, ids=[m[1] for m in MISTAKES])
def test_each_mistake_is_one_line_and_exit_2_before_any_work(
    tmp_path: Path, said: str, instead: str, command: list[str], line: str
) -> None:
    config = with_mistake(tmp_path, said, instead)
    db = tmp_path / "k.duckdb"
    result = koubei("--config", str(config), "--db", str(db), *command)
    assert_config_error(result, f"{config}: {line}")
    assert not db.exists()  # nothing ran: the file was refused when it was read


@pytest.mark.parametrize(
    ("said", "instead", "line"), [(m[0], m[1], m[3]) for m in MISTAKES], ids=[m[1] for m in MISTAKES]
)
def test_config_check_names_each_mistake(tmp_path: Path, said: str, instead: str, line: str) -> None:
    config = with_mistake(tmp_path, said, instead)
    result = koubei("config", "check", str(config))
    assert_config_error(result, f"{config}: {line}")
    assert result.stdout == ""


def test_config_check_prints_the_effective_settings_with_secrets_only_as_names(tmp_path: Path) -> None:
    secrets = {
        "KOUBEI_WEBHOOK_URL": "https://hooks.example.com/T0K3N-webhook",
        "KOUBEI_DINGTALK_SECRET": "SEC-dingtalk-0xdeadbeef",
        "KOUBEI_JD_COOKIE": "pin=someone; thor=C00KIE",
    }
    result = subprocess.run(
        [KOUBEI, "config", "check", str(REPO_CONFIG)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **secrets},
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == f"{REPO_CONFIG}: valid\n"
    for value in secrets.values():
        assert value not in result.stdout + result.stderr
    shown = tomllib.loads(result.stdout)
    assert shown["alerts"]["channels"]["ops-webhook"] == {"type": "webhook", "url_env": "KOUBEI_WEBHOOK_URL"}
    assert shown["sources"]["jd"]["cookie_env"] == "KOUBEI_JD_COOKIE"
    # Defaults filled in, built-in rules resolved, and the whole of it is a valid koubei.toml again.
    assert shown["sources"]["demo"]["batch_items"] == 25_000 and shown["sources"]["weibo"]["retries"] == 3
    assert shown["alerts"]["rules"]["volume-spike"]["tail_factor"] == 1.6
    assert shown["alerts"]["severity"]["volume_excess"] == [20, 100, 500]
    again, original = parse_settings(shown), parse_settings(read_toml(REPO_CONFIG))
    assert load_alert_settings(again) == load_alert_settings(original)
    assert {**again.effective(), "alerts": None} == {**original.effective(), "alerts": None}


def test_config_check_reads_the_file_koubei_would_load(tmp_path: Path) -> None:
    config = tmp_path / "mine.toml"
    config.write_text('[alerts]\ntimezone = "UTC"\n', encoding="utf-8")
    result = subprocess.run(
        [KOUBEI, "config", "check"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "KOUBEI_CONFIG": str(config)},
    )
    assert result.returncode == 0 and result.stderr == f"{config}: valid\n"
    assert tomllib.loads(result.stdout)["alerts"]["timezone"] == "UTC"


def test_the_repository_config_and_every_key_in_it_load() -> None:
    settings = parse_settings(read_toml(REPO_CONFIG), REPO_CONFIG)
    assert settings.alerts.lookback_days == 28 and settings.alerts.merge_gap == timedelta(hours=6)
    assert settings.sentiment.exclude_mode == "positive" and settings.dashboard.refresh_seconds == 30
    assert [b.name for b in settings.brands] == ["声浪", "鲜到家", "律动", "邻鲜"]
    jd = settings.sources["jd"].options
    assert isinstance(jd, JdOptions) and jd.min_interval == 3.0 and jd.interval == timedelta(hours=1)
    assert settings.sources["forum"].kind == "html" and settings.sources["news"].kind == "feed"
    cfg = load_alert_settings(settings)
    assert cfg.rule("negative-spike").negative.min_negatives == 8 and cfg.severity.negative_excess == (15, 50, 150)
    assert [r.name for r in cfg.routes] == ["everything-to-ops", "safety-to-pr", "logistics-to-cs"]


def test_effective_settings_read_back_as_the_same_settings() -> None:
    settings = parse_settings(read_toml(REPO_CONFIG), REPO_CONFIG)
    effective = settings.effective()
    again = parse_settings(effective, REPO_CONFIG)
    assert again.effective() == effective
    assert effective["sources"]["demo"]["interval"] == "5m" and effective["alerts"]["merge_gap"] == "6h"
    assert effective["sources"]["jd"]["retries"] == 3  # defaults filled in


def test_every_source_reads_the_table_its_demo_writes() -> None:
    place = DemoPlace("http://127.0.0.1:9", "声浪", "鲜到家", "声浪X1耳机")
    for kind, cls in registry().items():
        if cls.demo is not None:
            config = parse_source(kind, cls.demo.table(place))
            assert isinstance(config.options, cls.options_type) and config.kind == kind


def test_collect_defaults_reach_the_sources_that_take_them() -> None:
    settings = parse_settings(
        {
            "collect": {"min_interval": 7.0, "proxy": "http://127.0.0.1:3128"},
            "sources": {"jd": {"skus": ["1"], "min_interval": 2.0}, "weibo": {"keywords": ["k"]}, "demo": {}},
        }
    )
    jd, weibo = settings.sources["jd"].options, settings.sources["weibo"].options
    assert isinstance(jd, HttpSourceOptions) and isinstance(weibo, HttpSourceOptions)
    assert jd.min_interval == 2.0  # its own key wins
    assert weibo.min_interval == 7.0 and weibo.proxy == "http://127.0.0.1:3128"
    assert not hasattr(settings.sources["demo"].options, "proxy")  # the demo stream makes no requests


def test_source_errors_name_the_source_and_the_key() -> None:
    cases: dict[str, dict[str, Any]] = {
        "[sources.jd] skus[0]: unknown key 'scor' (did you mean 'score'?)": {"skus": [{"id": "1", "scor": 2}]},
        "[sources.jd] skus[0].score = 9: expected an integer from 0 to 5": {"skus": [{"id": "1", "score": 9}]},
        "[sources.jd] missing key 'skus' (expected a non-empty list": {},
        "[sources.jd] kind = \"jdd\": no source of that kind (did you mean 'jd'?)": {"kind": "jdd", "skus": ["1"]},
    }
    for line, table in cases.items():
        with pytest.raises(ConfigError) as caught:
            parse_source("jd", table)
        assert str(caught.value).startswith(f"koubei.toml: {line}")


def test_references_between_tables_are_checked() -> None:
    channels = {"ops": {"url_env": "OPS_URL"}}
    with pytest.raises(ConfigError, match=r"routes\[0\]: unknown channel 'opss' \(did you mean 'ops'\?\)"):
        parse_settings({"alerts": {"channels": channels, "routes": [{"channels": ["opss"]}]}})
    with pytest.raises(ConfigError, match="unknown keyword group 'safty'"):
        route = {"channels": ["ops"], "keyword_groups": ["safty"]}
        parse_settings({"alerts": {"channels": channels, "keyword_groups": {"safety": ["火"]}, "routes": [route]}})
    with pytest.raises(ConfigError, match="min_negatives is not a threshold of a volume rule"):
        parse_settings({"alerts": {"rules": {"volume-spike": {"min_negatives": 3}}}})
    with pytest.raises(ConfigError, match=r"url_env = \"https://x\": expected the name of an environment variable"):
        parse_settings({"alerts": {"channels": {"ops": {"url_env": "https://x"}}}})


def test_a_rule_table_changes_only_the_keys_it_sets() -> None:
    settings = parse_settings({"alerts": {"rules": {"volume-spike": {"z_min": 5.0}, "late": {"min_factor": 3.0}}}})
    cfg = load_alert_settings(settings)
    builtin = load_alert_settings(parse_settings({})).rule("volume-spike")
    volume = cfg.rule("volume-spike")
    assert volume.kind == "volume" and volume.scopes == builtin.scopes and volume.volume.z_min == 5.0
    assert volume.volume.tail_factor == builtin.volume.tail_factor
    late = cfg.rule("late")  # a new rule: negative, per brand, hourly
    assert (late.kind, late.scopes, late.bucket, late.negative.min_factor) == (
        "negative",
        ("brand",),
        timedelta(hours=1),
        3.0,
    )


def test_threshold_keys_are_the_detectors_parameters() -> None:
    assert VOLUME_KEYS == {f.name for f in fields(VolumeParams)}
    assert NEGATIVE_KEYS == {f.name for f in fields(NegativeParams)}


def test_durations() -> None:
    assert WatchInterval.parse("90s") == timedelta(seconds=90) and WatchInterval.parse(30) == timedelta(seconds=30)
    assert str(BucketLength.parse("60m")) == "1h" and str(WatchInterval.parse("1d")) == "1d"
    for bad in ("0s", -10, "5 minutes", "1.5h", True, 31 * 86400):
        with pytest.raises(ValueError, match="from 1s to 30d"):
            WatchInterval.parse(bad)


def test_a_source_requires_only_what_it_watches() -> None:
    """A table left out of koubei.toml is its defaults; a source needs only its targets (html its selectors)."""
    for kind, cls in registry().items():
        required = {f.name for f in msgspec.structs.fields(cls.options_type) if f.required}
        assert required == {getattr(cls, "target_key", None), "selectors" if kind == "html" else None} - {None}
    assert parse_settings({}).effective()["sources"] == {}


def test_aspect_names_are_read_and_must_name_an_aspect() -> None:
    """Issue 13: an aspect configured for a brand (电池) had no English name: the English pages showed 电池."""
    settings = parse_settings(
        {
            "brands": [{"name": "声浪", "aspects": {"续航": ["续航", "待机"]}}],
            "sentiment": {
                "aspects": {"电池": ["电池", "鼓包"]},
                "aspect_names": {"电池": {"en": "battery"}, "续航": {"en": "battery life"}, "物流": {"en": "shipping"}},
            },
        }
    )
    names = settings.sentiment.aspect_names
    assert {aspect: n.en for aspect, n in names.items()} == {
        "电池": "battery",
        "续航": "battery life",
        "物流": "shipping",
    }
    assert parse_settings({}).sentiment.aspect_names == {}
    sentiment = {"aspects": {"电池": ["电池"]}, "aspect_names": {"电池组": {"en": "battery"}}}
    with pytest.raises(ConfigError, match=r"sentiment.aspect_names: '电池组' is no aspect \(did you mean '电池'\?\)"):
        parse_settings({"sentiment": sentiment})
    with pytest.raises(ConfigError, match=r"unknown key 'fr' \(valid: en\)"):
        parse_settings({"sentiment": {"aspect_names": {"物流": {"fr": "livraison"}}}})
    with pytest.raises(ConfigError, match="expected a non-empty string"):
        parse_settings({"sentiment": {"aspect_names": {"物流": {"en": ""}}}})

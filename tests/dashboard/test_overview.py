"""AppTest (no browser) of the overview: KPIs, chart, incidents, language,
filters from the URL, untrusted text only in dataframe cells, PII masked."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, timedelta, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from collectors.options import parse_source
from collectors.sources.demo import DemoCollector
from dashboard.i18n import t
from storage import open_store, queries
from storage.db import migration_files
from storage.incidents import Incident, list_incidents
from storage.sentiment import excluded_keys
from tests.dashboard.conftest import DEMO_OPTIONS, MASKED_PHONE, PHONE, hostile_mentions, is_seeded_crisis

BEIJING = timezone(timedelta(hours=8))
APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
HOSTILE_MARKERS = ("evil.example", "onerror", ":red[", "**粗体**", "<img", PHONE, "HYPERLINK")


def run_app(query: dict[str, str | list[str]] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def expected_counts(db: Path, first: date | None = None, last: date | None = None) -> Counter[str]:
    """Mentions per brand (published on Beijing days first..last if given), from the demo
    generator itself, less those the trust signals excluded (template and copy-paste reviews)."""
    with open_store(db, read_only=True) as store:
        excluded = excluded_keys(store)
    keys: dict[tuple[str, str], tuple[str, date]] = {}
    mentions = [m for page in DemoCollector(parse_source("demo", dict(DEMO_OPTIONS))).pages() for m in page.mentions]
    for m in [*mentions, *hostile_mentions()]:
        keys[(m.source, m.native_id)] = (m.brand or "", m.published_at.astimezone(BEIJING).date())
    return Counter(
        brand
        for key, (brand, day) in keys.items()
        if key not in excluded and (first is None or day >= first) and (last is None or day <= last)
    )


def open_incidents(db: Path) -> list[Incident]:
    with open_store(db, read_only=True) as store:
        return [i for i in list_incidents(store) if i.status in ("open", "acknowledged")]


def metric_values(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def chart_spec(at: AppTest) -> dict[str, Any]:
    charts = at.get("plotly_chart")
    assert len(charts) == 1
    return json.loads(charts[0].proto.spec)


def frame_by_column(at: AppTest, column: str) -> pd.DataFrame:
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no dataframe with a {column!r} column")


def all_rendered_text(at: AppTest) -> list[str]:
    """Every string Streamlit renders as Markdown (or shows as a label)."""
    texts: list[str] = []
    for kind in (
        "markdown",
        "caption",
        "title",
        "header",
        "subheader",
        "info",
        "warning",
        "error",
        "success",
        "toast",
        "exception",
    ):
        texts += [str(getattr(e, "value", "")) for e in at.get(kind)]
    texts += [m.label for m in at.metric] + [str(m.value) for m in at.metric]
    texts += [str(getattr(b, "label", "")) for b in at.get("download_button")]
    return texts


def test_kpis_chart_and_open_incidents(dashboard_env: Path) -> None:
    at = run_app()
    assert [m.label for m in at.metric] == ["提及量", "平均情感", "负面占比", "未关闭案件"]
    values = metric_values(at)
    assert values["提及量"] == f"{sum(expected_counts(dashboard_env).values()):,}"
    incidents = open_incidents(dashboard_env)
    assert incidents, "the demo's seeded crisis should have opened an incident"
    assert values["负面占比"].endswith("%") and 0 < float(values["负面占比"].rstrip("%")) < 100

    spec = chart_spec(at)
    names = [trace.get("name") for trace in spec["data"]]
    assert names[:3] == ["提及量", "平均情感", "负面占比"]
    markers = next(trace for trace in spec["data"] if trace.get("name") == "事件")
    marked = {incident_id for cluster in markers["customdata"] for incident_id in cluster}
    crisis = [i for i in incidents if is_seeded_crisis(i)]
    assert len(crisis) == 1, incidents
    assert {i.id for i in crisis} <= marked
    assert len(spec["layout"]["shapes"]) >= 1  # shaded windows (overlapping ones merged)

    # One row per case: the crisis's brand, product, aspect and channel incidents are one row.
    table = frame_by_column(at, "scope_value")
    assert len(table) + table["related"].sum() == len(incidents)
    assert len(table) < len(incidents)
    # the KPI counts what the table lists: cases, not incidents
    assert values["未关闭案件"] == str(len(table))
    # the crisis's case is headed by its product incident, not one of its channels
    assert crisis[0].scope_value in set(table["scope_value"])


def test_deltas_against_the_previous_period(dashboard_env: Path) -> None:
    # The default range covers all the demo data: nothing before it to compare with.
    at = run_app()
    assert len(at.metric) == 4 and all(m.proto.delta == "" for m in at.metric)
    assert any("上一周期" in c.value and "没有数据" in c.value for c in at.caption)
    # The last three days against the three before.
    at = run_app({"dates": ["2026-11-18", "2026-11-20"]})
    now = sum(expected_counts(dashboard_env, date(2026, 11, 18), date(2026, 11, 20)).values())
    before = sum(expected_counts(dashboard_env, date(2026, 11, 15), date(2026, 11, 17)).values())
    mentions = at.metric[0]
    assert mentions.value == f"{now:,}"
    assert mentions.proto.delta == str(now - before)
    assert any("2026-11-15 – 2026-11-17" in c.value for c in at.caption)


def test_language_switch_to_english(dashboard_env: Path) -> None:
    at = run_app()
    at.segmented_control(key="lang").set_value("en").run()
    assert not at.exception
    assert at.title[0].value == "Word-of-mouth overview"
    assert [m.label for m in at.metric] == ["Mentions", "Average sentiment", "Negative share", "Open cases"]
    names = [trace.get("name") for trace in chart_spec(at)["data"]]
    assert "Incidents" in names and "Mentions" in names
    # The same from a shared URL.
    for code in ("en", "English"):  # the URL holds the code; links made before held the shown name
        shared = run_app({"lang": code})
        assert shared.title[0].value == "Word-of-mouth overview"


def test_untrusted_text_only_in_dataframe_cells_and_masked(dashboard_env: Path) -> None:
    at = run_app()
    for text in all_rendered_text(at):
        for marker in HOSTILE_MARKERS:
            assert marker not in text, (marker, text)
    negative = frame_by_column(at, "text")
    hostile = negative[negative["text"].str.contains("onerror", regex=False, na=False)]
    assert len(hostile) == 1, "the hostile mention is shown, as a plain cell"
    cell = hostile["text"].iloc[0]
    assert ":red[hi]" in cell and MASKED_PHONE in cell and PHONE not in cell
    assert pd.isna(hostile["url"].iloc[0]), "javascript: links are dropped"
    assert not negative["text"].str.contains(PHONE, regex=False, na=False).any()
    links = negative["url"].dropna()
    assert len(links) > 0 and links.str.match(r"^https?://").all()


def test_filters_come_from_the_url(dashboard_env: Path) -> None:
    at = run_app({"brand": "鲜到家"})
    assert metric_values(at)["提及量"] == f"{expected_counts(dashboard_env)['鲜到家']:,}"
    negative = frame_by_column(at, "text")
    assert set(negative["brand"]) == {"鲜到家"}
    cases = [f.value for f in at.dataframe if "scope_value" in f.value.columns]
    shown = len(cases[0]) if cases else 0
    assert metric_values(at)["未关闭案件"] == str(shown)
    assert not cases or set(cases[0]["brand"]) == {"鲜到家"}


def test_selecting_a_case_opens_its_brief(dashboard_env: Path) -> None:
    at = run_app()
    table = frame_by_column(at, "scope_value")
    at.session_state["overview_open_incidents"] = {"selection": {"rows": [0], "columns": [], "cells": []}}
    at.run()
    assert not at.exception
    assert at.query_params["incident"] == table["id"].iloc[0]
    assert at.header[0].value == t("incidents.title")


def test_missing_database_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOUBEI_DB", str(tmp_path / "nothing.duckdb"))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception
    assert any("koubei run" in e.value for e in at.error)
    assert not (tmp_path / "nothing.duckdb").exists(), "the dashboard never creates a database"


def test_database_from_an_older_version_says_how_to_migrate(
    dashboard_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # This code knowing one migration more than the database has applied is what an
    # old database looks like to a new dashboard (which, read-only, cannot migrate).
    known = migration_files()
    monkeypatch.setattr(queries, "migration_files", lambda: [*known, (999, "999_future", "")])
    st.cache_data.clear()  # the same database was read (and cached) by other tests
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == ["无法读取数据库："]
    assert any("999_future" in x.value and "koubei run" in x.value for x in at.text)


def test_export_buttons(dashboard_env: Path) -> None:
    at = run_app()
    labels = [getattr(b, "label", None) for b in at.get("download_button")]
    assert labels == ["下载 CSV", "下载 Excel"]

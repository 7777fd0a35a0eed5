"""The dashboard's strings: every key the code uses is in dashboard/strings.py in Chinese
and English, every key there is used, and t() looks keys up directly."""

from __future__ import annotations

import ast
import os
import re
import string
import time
from pathlib import Path

import pytest

from dashboard.i18n import LANGUAGES, query_error_words, t, t_value
from dashboard.strings import QUERY_ERRORS_ZH, QUERY_TERMINALS_ZH, STRINGS
from querylang import QueryError, parse
from querylang.errors import MESSAGES, TERMINALS

REPO = Path(__file__).resolve().parents[2]
# The code that shows strings; not the table itself, where every key is a constant (with it,
# the check for unused keys could never fail).
SOURCES = [
    path
    for path in sorted((REPO / "dashboard").rglob("*.py")) + sorted((REPO / "reports").rglob("*.py"))
    if path.name != "strings.py"
] + [REPO / "streamlit_app.py"]
TEMPLATES = sorted((REPO / "reports" / "templates").glob("*.j2"))
PREFIXES = {key.split(".")[0] for key in STRINGS}
KEY = re.compile(r"[a-z]+\.[a-z0-9_]+")


def _trees() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(encoding="utf-8"), str(path))) for path in SOURCES]


def _calls(name: str) -> list[tuple[Path, ast.Call]]:
    return [
        (path, node)
        for path, tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == name
    ]


def keys_in_code() -> set[str]:
    """Every string constant in the dashboard's code shaped like a key of the table
    (t("incidents.title"), and keys kept in constants: PAGES, export headers, tier labels)."""
    in_templates = {
        key for path in TEMPLATES for key in re.findall(r't\("([a-z]+\.[a-z0-9_]+)"', path.read_text("utf-8"))
    }
    return in_templates | {
        node.value
        for _, tree in _trees()
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and KEY.fullmatch(node.value)
        and node.value.split(".")[0] in PREFIXES
    }


def value_families() -> set[str]:
    """The families of stored codes translated with t_value(family, code)."""
    families = set()
    for path, call in _calls("t_value"):
        family = call.args[0]
        assert isinstance(family, ast.Constant) and isinstance(family.value, str), (
            f"{path}:{call.lineno}: t_value's family must be a literal"
        )
        families.add(family.value)
    return families


def test_keys_are_never_built_at_run_time() -> None:
    """A key made by formatting (t(f"tier_label_{n}")) would escape the checks below."""
    built = [
        f"{path.relative_to(REPO)}:{call.lineno}"
        for path, call in _calls("t")
        if call.args and isinstance(call.args[0], (ast.JoinedStr, ast.BinOp))
    ]
    assert not built, built
    assert len(_calls("t")) > 100  # the scan sees the pages, not an empty tree


def test_every_key_used_has_both_languages() -> None:
    used = keys_in_code()
    assert {"app.page_overview", "incidents.title", "triage.title", "col.id"} <= used
    missing = sorted(key for key in used if key not in STRINGS)
    assert not missing, f"keys used in the code but not in dashboard/strings.py: {missing}"
    for family in value_families():
        assert any(key.startswith(f"{family}.") for key in STRINGS), f"no strings for t_value family {family!r}"
    for key, values in STRINGS.items():
        assert set(values) == set(LANGUAGES), (key, values)
        assert all(text.strip() for text in values.values()), (key, values)


def test_every_key_in_the_table_is_used() -> None:
    used = keys_in_code()
    families = value_families()
    unused = sorted(key for key in STRINGS if key not in used and key.split(".")[0] not in families)
    assert not unused, f"strings no code shows: {unused}"


def test_both_languages_take_the_same_placeholders() -> None:
    for key, values in STRINGS.items():
        assert fields(values["zh"]) == fields(values["en"]), key


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}


def test_every_query_error_has_chinese_words_with_the_same_placeholders() -> None:
    assert QUERY_ERRORS_ZH.keys() == MESSAGES.keys()
    for code, english in MESSAGES.items():
        assert fields(QUERY_ERRORS_ZH[code]) == fields(english), code
    assert QUERY_TERMINALS_ZH.keys() <= TERMINALS.keys()


@pytest.mark.parametrize(
    ("query", "chinese"),
    [
        ("充电宝 AND NOT", "NOT 后面应跟一个词或短语，这里却是 查询结尾"),
        ("(a OR b", "括号没有闭合：应为 )，这里却是 查询结尾"),
        ("a )", "多了一个 )，前面没有与之对应的 ("),
        ("colour:red", "未知字段 colour:（可用：source:, lang:, brand:, product:）"),
        ("a NEAR/0 b", "NEAR/0：距离须在 1 到 1000 个字之间"),
    ],
)
def test_a_query_error_in_either_language(query: str, chinese: str) -> None:
    with pytest.raises(QueryError) as raised:
        parse(query)
    assert query_error_words(raised.value, "zh") == chinese
    assert query_error_words(raised.value, "en") == raised.value.message


def test_lookup_formatting_and_stored_codes() -> None:
    assert t("overview.kpi_mentions", "zh") == "提及量" and t("overview.kpi_mentions", "en") == "Mentions"
    assert t("overview.updated_at", "en", at="12:00", every=30) == "Data as of 12:00 (refreshes every 30s)"
    assert t("overview.kpi_mentions") == "提及量"  # outside a Streamlit run: Chinese
    # A page's own wording is its own key: the triage page's label column does not rename the overview's.
    assert (t("triage.col_label"), t("col.label")) == ("模型标签", "情感")
    assert t_value("status", "resolved", "en") == "Resolved"
    assert t_value("status", "merged", "en") == "merged"  # an unknown code is shown as it is
    with pytest.raises(KeyError):
        t("no_such_key")


def test_a_count_of_one_is_singular_in_english() -> None:
    """Bug: the dashboard said "1 rows"."""
    assert t("export.trailer", "en", rows=1, what="x", period="p", scope="s").startswith("# koubei export: 1 row ·")
    assert t("incidents.act_ack", "en", n=1) == "Acknowledge 1 incident"
    assert t("incidents.act_ack", "en", n=11) == "Acknowledge 11 incidents"
    assert t("overview.export_rows", "en", mentions="1", negative="1").startswith("CSV: all 1 mention in")
    assert "all 1 negative mention and" in t("overview.export_rows", "en", mentions="2", negative="1")
    assert t("incidents.act_ack", "zh", n=1) == "确认 1 个事件"


def test_an_aspect_scope_is_named_in_the_page_s_language() -> None:
    """Regression: in English the incident queue and the overview's cases showed "aspect 物流"."""
    from dashboard.i18n import scope_value_words

    assert scope_value_words("aspect", "物流", "en") == "delivery"
    assert scope_value_words("aspect", "物流", "zh") == "物流"
    assert scope_value_words("aspect", "续航", "en") == "续航"  # a brand's own aspect stays as configured
    assert scope_value_words("product", "物流", "en") == "物流"  # only aspects are codes


def test_a_configured_aspect_is_named_in_english_and_a_changed_file_is_read_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 13: a brand-specific aspect (电池) showed untranslated on the English pages."""
    from dashboard.i18n import aspect_name, scope_value_words

    config = tmp_path / "koubei.toml"
    config.write_text(
        '[sentiment.aspects]\n"电池" = ["电池"]\n[sentiment.aspect_names]\n"电池" = { en = "battery" }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KOUBEI_CONFIG", str(config))
    assert aspect_name("电池", "en") == "battery"
    assert aspect_name("电池", "zh") == "电池"
    assert scope_value_words("aspect", "电池", "en") == "battery"
    assert aspect_name("物流", "en") == "delivery", "a built-in aspect without a name keeps its own"
    assert aspect_name("续航", "en") == "续航", "an aspect without any name shows as configured"
    config.write_text(
        '[sentiment.aspects]\n"电池" = ["电池"]\n[sentiment.aspect_names]\n"电池" = { en = "cell" }\n"物流" = { en = "shipping" }\n',
        encoding="utf-8",
    )
    os.utime(config, ns=(time.time_ns() + 10**9, time.time_ns() + 10**9))  # a new mtime however coarse the clock
    assert aspect_name("电池", "en") == "cell"
    assert aspect_name("物流", "en") == "shipping"
    config.write_text("[sentiment]\nmodell = 1\n", encoding="utf-8")
    os.utime(config, ns=(time.time_ns() + 2 * 10**9, time.time_ns() + 2 * 10**9))
    assert aspect_name("电池", "en") == "电池", "a wrong file names nothing (the CLI reports it)"


def test_the_triage_and_mentions_aspect_column_names_a_configured_aspect(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen in the browser: the English triage queue's aspects column showed 电池 (Negative) while the
    aspect table under it said battery (aspect_words named only built-in aspects)."""
    import pandas as pd

    import dashboard.i18n
    from dashboard.codes import aspect_column, aspect_words

    config = tmp_path / "koubei.toml"
    config.write_text(
        '[sentiment.aspects]\n"电池" = ["电池"]\n[sentiment.aspect_names]\n"电池" = { en = "battery" }\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KOUBEI_CONFIG", str(config))
    monkeypatch.setattr(dashboard.i18n, "current_lang", lambda: "en")
    assert aspect_words("电池:neg 物流:pos") == "battery (Negative)、delivery (Positive)"
    column = aspect_column(pd.Series(["电池:neg", None, "物流:pos", "电池:neg"]))
    assert list(column) == ["battery (Negative)", "", "delivery (Positive)", "battery (Negative)"]

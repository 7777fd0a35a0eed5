"""The collector commands as a user runs them: koubei parse / collect / sources / import / demo-sources."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug.wrappers import Response

from collectors.base import registry
from collectors.demo.server import demo_sources_config, fixture_path
from koubei.cli import run
from koubei.settings.toml import to_toml
from storage import open_store
from tests.collectors.conftest import source_options

# The kinds that parse a saved response, each with its demo's saved response and config.
PARSERS = {kind: cls for kind, cls in registry().items() if cls.parse is not None}


def koubei(
    args: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[int, str, str]:
    monkeypatch.setattr("sys.argv", ["koubei", *args])
    code = 0
    try:
        run()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_lists_sources_and_prints_the_contract(
    tmp_path: Path, fixtures_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = koubei(["parse", "--list"], capsys, monkeypatch)
    assert code == 0 and out.split() == sorted(PARSERS) and "demo" not in out.split()
    # Each kind's saved response, parsed as a configured source named after the kind plus "-saved"
    # (so that its options, such as html's selectors, apply).
    tables = {f"{kind}-saved": table for kind, table in demo_sources_config("http://127.0.0.1:9").items()}
    config = _config(tmp_path, tables)
    for kind, cls in PARSERS.items():
        assert cls.demo is not None, f"{kind} has no Demo: no saved response to parse"
        saved = fixture_path(cls.demo.fixtures[0], kind, fixtures_dir)
        assert saved is not None
        code, out, err = koubei(["--config", str(config), "parse", f"{kind}-saved", str(saved)], capsys, monkeypatch)
        assert code == 0, err
        records = [json.loads(line) for line in out.splitlines()]
        assert records, kind
        for record in records:
            assert list(record) == ["source", "native_id", "text", "author", "url", "rating", "published_at", "reach"]
            assert record["source"] == f"{kind}-saved" and record["native_id"] and record["text"]
            assert record["published_at"].endswith("Z") and len(record["published_at"]) == 20
            assert set(record["reach"]) <= {"likes", "reposts", "replies"}


def test_parse_masks_personal_data_and_rejects_unknown_sources(
    tmp_path: Path, fixtures_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads((fixtures_dir / "jd_comments.json").read_text(encoding="utf-8"))
    data["comments"][0]["content"] = "物流太慢了，联系我 13812345678"
    saved = tmp_path / "jd.json"
    saved.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out, _ = koubei(["parse", "jd", str(saved)], capsys, monkeypatch)
    assert code == 0 and "13812345678" not in out and "138****5678" in out
    code, _, err = koubei(["parse", "tieba", str(saved)], capsys, monkeypatch)
    assert code == 2 and "no parser for 'tieba'" in err
    code, _, err = koubei(["parse", "weibo", str(saved)], capsys, monkeypatch)
    assert code == 1 and "weibo" in err and "no 'ok' field" in err


def test_parse_names_each_item_it_skips(
    tmp_path: Path, fixtures_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    data = json.loads((fixtures_dir / "jd_comments.json").read_text(encoding="utf-8"))
    data["comments"][0]["content"] = ["not", "text"]
    saved = tmp_path / "jd.json"
    saved.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    code, out, err = koubei(["parse", "jd", str(saved)], capsys, monkeypatch)
    assert code == 0 and len(out.splitlines()) == 1
    assert f"skipped jd: comments[0] from {saved}: content: expected `str | null`, got `array`" in err


def _config(tmp_path: Path, sources: dict) -> Path:
    path = tmp_path / "koubei.toml"
    path.write_text(to_toml({"storage": {"db": str(tmp_path / "k.duckdb")}, "sources": sources}), encoding="utf-8")
    return path


def test_collect_prints_a_table_and_exits_one_only_when_every_source_failed(
    tmp_path: Path,
    served: HTTPServer,
    faults: dict,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("KOUBEI_DB", raising=False)
    options = source_options(served)
    config = _config(
        tmp_path, {"jd": options["jd"], "reddit": options["reddit"], "douban": {**options["douban"], "enabled": False}}
    )
    faults["/reddit/"] = lambda request: Response(b"", status=403)
    code, out, _ = koubei(["--config", str(config), "collect"], capsys, monkeypatch)
    assert code == 0
    assert "jd" in out and "reddit" in out and "blocked" in out and "HTTP 403" in out and "douban" not in out
    assert "6 new mentions from 1/2 sources; failed: reddit" in out
    code, out, _ = koubei(["--config", str(config), "collect", "reddit"], capsys, monkeypatch)
    assert code == 1 and "0 new mentions from 0/1 sources" in out
    code, _, err = koubei(["--config", str(config), "collect", "nosuch"], capsys, monkeypatch)
    assert code == 2 and "unknown source(s) nosuch" in err
    code, out, _ = koubei(["--config", str(config), "sources"], capsys, monkeypatch)
    assert code == 0
    lines = {line.split()[1]: line for line in out.splitlines() if line.startswith("│")}
    assert "ok" in lines["jd"] and "error" in lines["reddit"] and "never run" in lines["douban"]
    assert "HTTP 403" in lines["reddit"] and "error (blocked, 2 runs)" in lines["reddit"]


def test_import_command_uses_the_file_importer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    export = tmp_path / "export.csv"
    export.write_text(
        "编号,内容,时间\n1,电池发热严重,2026-11-01 10:00:00\n2,物流很快,2026-11-02 11:00:00\n", encoding="utf-8"
    )
    db = tmp_path / "k.duckdb"
    code, out, err = koubei(
        [
            "--db",
            str(db),
            "import",
            str(export),
            "--source",
            "crm",
            "--map",
            "native_id=编号",
            "--map",
            "text=内容",
            "--map",
            "published_at=时间",
            "--brand",
            "声浪",
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    assert "imported 2 rows" in out
    with open_store(db) as store:
        assert store.query("SELECT count(*) FROM mentions WHERE source = 'crm' AND brand = '声浪'")[0][0] == 2
    code, _, err = koubei(
        ["--db", str(db), "import", str(export), "--source", "crm", "--map", "text"], capsys, monkeypatch
    )
    assert code == 2 and "expected field=column" in err


def test_demo_sources_fills_the_database_from_every_source(
    tmp_path: Path, fixtures_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db, config = tmp_path / "demo.duckdb", tmp_path / "demo.toml"
    code, _, err = koubei(
        [
            "--db",
            str(db),
            "demo-sources",
            "--fixtures",
            str(fixtures_dir),
            "--port",
            "0",
            "--write-config",
            str(config),
            "--collect",
        ],
        capsys,
        monkeypatch,
    )
    assert code == 0, err
    import tomllib

    written = tomllib.loads(config.read_text(encoding="utf-8"))
    assert set(written["sources"]) == {kind for kind, cls in registry().items() if cls.demo is not None}
    with open_store(db) as store:
        counts = dict(store.query("SELECT source, count(*) FROM mentions GROUP BY source"))
        health = dict(store.query("SELECT source, status FROM source_health"))
    assert set(counts) == set(written["sources"]) and all(n > 0 for n in counts.values())
    assert set(health.values()) == {"ok"}
    code, _, err = koubei(["demo-sources", "--fixtures", str(tmp_path / "missing")], capsys, monkeypatch)
    assert code == 2 and "fixtures directory not found" in err
    (tmp_path / "empty").mkdir()
    code, _, err = koubei(["demo-sources", "--fixtures", str(tmp_path / "empty")], capsys, monkeypatch)
    assert code == 2 and "lacks" in err and "jd_comments.json" in err

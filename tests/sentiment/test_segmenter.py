"""jieba's dictionary from koubei's cache, and its warm-up (sentiment/segmenter.py). Each process
test runs in a new Python: jieba's dictionary is loaded once per process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sentiment import segmenter

REPO = Path(__file__).resolve().parents[2]
TEXT = "声浪P20充电宝一天就发烫了，客服也不理人，物流也很慢"


def _python(code: str, cache: Path) -> str:
    env = {**os.environ, "KOUBEI_CACHE_DIR": str(cache)}
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


def test_a_new_process_loads_the_dictionary_from_the_cache_the_first_wrote(tmp_path: Path) -> None:
    first = _python(
        "import json; from sentiment.keywords import keyword_tokens; print(json.dumps(keyword_tokens("
        + repr(TEXT)
        + ")))",
        tmp_path,
    )
    caches = list(tmp_path.glob("jieba-*.cache"))
    assert [c.name for c in caches] == [segmenter.cache_name()]
    written = caches[0].stat().st_mtime_ns
    # Building the dictionary again would fail: the second process must read the cache.
    second = _python(
        "import json, jieba\n"
        "def refuse(*_):\n    raise AssertionError('built the prefix dictionary instead of loading the cache')\n"
        "jieba.Tokenizer.gen_pfdict = refuse\n"
        "from sentiment.keywords import keyword_tokens\n"
        f"print(json.dumps(keyword_tokens({TEXT!r})))",
        tmp_path,
    )
    assert json.loads(second) == json.loads(first)
    assert {"发烫", "客服", "物流"} <= set(json.loads(first))
    assert caches[0].stat().st_mtime_ns == written


def test_segmenting_while_the_warm_up_runs_gives_the_same_words(tmp_path: Path) -> None:
    cold = _python(
        f"import json; from sentiment.keywords import keyword_tokens; print(json.dumps(keyword_tokens({TEXT!r})))",
        tmp_path / "a",
    )
    warming = _python(
        "import json\n"
        "from sentiment.segmenter import warm_in_background\n"
        "from sentiment.keywords import keyword_tokens\n"
        "thread = warm_in_background()\n"
        f"words = keyword_tokens({TEXT!r})\n"  # most likely before the thread has loaded the dictionary
        "assert warm_in_background() is thread, 'a second warm-up thread'\n"
        "thread.join(60)\n"
        "assert not thread.is_alive()\n"
        "print(json.dumps(words))",
        tmp_path / "b",
    )
    assert json.loads(warming) == json.loads(cold)


def test_another_jieba_version_is_another_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    mine = segmenter.cache_name()
    monkeypatch.setattr(segmenter.metadata, "version", lambda name: "0.0.1")
    assert segmenter.cache_name() != mine
    assert segmenter.cache_name().startswith(segmenter.CACHE_PREFIX)


def test_caches_of_other_dictionaries_are_dropped(tmp_path: Path) -> None:
    (tmp_path / "jieba-old.cache").write_bytes(b"x")
    (tmp_path / "jieba-new.cache").write_bytes(b"y")
    (tmp_path / "notes.txt").write_text("kept")
    segmenter.drop_stale(tmp_path, "jieba-new.cache")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jieba-new.cache", "notes.txt"]


def test_cache_folder_falls_back_when_the_given_one_cannot_be_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("KOUBEI_CACHE_DIR", str(blocker / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert segmenter.cache_dir() == tmp_path / "xdg" / "koubei"
    monkeypatch.setenv("KOUBEI_CACHE_DIR", str(tmp_path / "given"))
    assert segmenter.cache_dir() == tmp_path / "given"

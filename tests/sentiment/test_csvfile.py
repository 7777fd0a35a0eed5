"""Both CSV inputs (batch contract, training labels) fail the same clear way."""

from __future__ import annotations

from pathlib import Path

import pytest

from sentiment.batch import BatchFileError, read_input
from sentiment.corpus import LabelFileError, read_labels


@pytest.mark.parametrize(
    ("reader", "error", "header"),
    [(read_input, BatchFileError, "id,text"), (read_labels, LabelFileError, "text,label")],
)
def test_bad_bytes_missing_columns_and_missing_files_are_named(tmp_path: Path, reader, error, header) -> None:  # noqa: ANN001
    undecodable = tmp_path / "latin.csv"
    undecodable.write_bytes(f"{header}\n".encode() + b"\xff\xfe bad,1\n")
    with pytest.raises(error, match=r"latin.csv: not UTF-8"):
        reader(undecodable)
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("content,score\nx,1\n", encoding="utf-8")
    with pytest.raises(error, match=rf"wrong.csv: missing column\(s\).*need {header}"):
        reader(wrong)
    with pytest.raises(error, match="absent.csv: file not found"):
        reader(tmp_path / "absent.csv")

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


@pytest.mark.parametrize("reach", ["inf", "-inf", "nan", "lots"])
def test_a_reach_that_is_no_count_is_named(tmp_path: Path, reach: str) -> None:
    """Regression: a reach of "inf" raised OverflowError (a traceback from `koubei score --input`)."""
    path = tmp_path / "in.csv"
    path.write_text(f"id,text,reach\na1,很好,3\na2,太差了,{reach}\n", encoding="utf-8")
    with pytest.raises(BatchFileError, match=rf"in.csv: row 3, column reach: '{reach}' is not a number"):
        read_input(path)


def test_optional_columns_are_read(tmp_path: Path) -> None:
    path = tmp_path / "in.csv"
    path.write_text("id,text,reach,rating,brand,language\na1,很好,12.7,4.5,声浪,zh\na2,太差了,,,,\n", encoding="utf-8")
    first, second = read_input(path)
    assert (first.reach, first.rating, first.brand, first.language) == (12, 4.5, "声浪", "zh")
    assert (second.reach, second.rating, second.brand, second.language) == (0, None, None, None)

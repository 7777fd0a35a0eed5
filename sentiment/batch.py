"""The batch contract: `koubei score --input FILE.csv --output OUT.csv`.

Input: a UTF-8 CSV with columns id,text (other columns are ignored; optional
rating, reach, brand and language columns are used when present). Output:
id,score,label,urgency,motive,aspects - score in [0, 1], label pos|neu|neg,
aspects as "物流:neg;质量:neg". Ids are exported through koubei.privacy's
formula defusing; the texts themselves are not written back.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from koubei.errors import KoubeiError
from koubei.privacy import neutralize_formula
from sentiment.analysis import analyse_rows
from sentiment.aspects import AspectTagger
from sentiment.csvfile import csv_rows
from sentiment.model import Scorer

OUTPUT_COLUMNS = ("id", "score", "label", "urgency", "motive", "aspects")


class BatchFileError(KoubeiError):
    """An input CSV is malformed; the message names the file, row and column."""


@dataclass(frozen=True)
class BatchSummary:
    rows: int
    negatives: int
    urgent: int


@dataclass(frozen=True)
class InputRow:
    id: str
    text: str
    brand: str | None
    language: str | None
    rating: float | None
    reach: int


def _number(path: Path, row_no: int, column: str, value: str | None) -> float | None:
    if value is None or not value.strip():
        return None
    try:
        return float(value)
    except ValueError:
        raise BatchFileError(f"{path}: row {row_no}, column {column}: {value!r} is not a number") from None


def _count(path: Path, row_no: int, column: str, value: str | None) -> int:
    number = _number(path, row_no, column, value)
    try:
        return 0 if number is None else int(number)
    except (OverflowError, ValueError):  # inf, nan
        raise BatchFileError(f"{path}: row {row_no}, column {column}: {value!r} is not a number") from None


def read_input(path: Path) -> list[InputRow]:
    rows: list[InputRow] = []
    seen: dict[str, int] = {}
    for row_no, row in csv_rows(path, ("id", "text"), BatchFileError):
        ident = (row.get("id") or "").strip()
        if not ident:
            raise BatchFileError(f"{path}: row {row_no}, column id: empty")
        if ident in seen:
            raise BatchFileError(f"{path}: row {row_no}, column id: {ident!r} repeats row {seen[ident]}")
        seen[ident] = row_no
        text = row.get("text")
        if text is None:
            raise BatchFileError(f"{path}: row {row_no}, column text: missing (row too short)")
        rows.append(
            InputRow(
                id=ident,
                text=text,
                brand=row.get("brand") or None,
                language=row.get("language") or None,
                rating=_number(path, row_no, "rating", row.get("rating")),
                reach=_count(path, row_no, "reach", row.get("reach")),
            )
        )
    return rows


def score_file(scorer: Scorer, tagger: AspectTagger, input_path: Path, output_path: Path) -> BatchSummary:
    rows = read_input(input_path)
    results = analyse_rows(scorer, tagger, rows)
    # Write to a temporary name and rename, so a failure never leaves half a file.
    output_path.parent.mkdir(parents=True, exist_ok=True)
    partial = output_path.with_name(output_path.name + ".partial")
    with partial.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(OUTPUT_COLUMNS)
        for row, r in zip(rows, results):
            writer.writerow(
                [
                    neutralize_formula(row.id),
                    f"{r.score:.4f}",
                    r.label,
                    r.triage.urgency,
                    r.triage.motive,
                    ";".join(f"{a}:{p}" for a, p in sorted(r.aspects.items())),
                ]
            )
    partial.replace(output_path)
    return BatchSummary(
        rows=len(rows),
        negatives=sum(r.label == "neg" for r in results),
        urgent=sum(r.triage.urgency >= 4 for r in results),
    )

"""Reading the CSV files people hand to `koubei score` and `koubei train`."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path


def csv_rows(path: Path, required: tuple[str, ...], error: type[Exception]) -> Iterator[tuple[int, dict[str, str]]]:
    """(row number as a spreadsheet counts it, row) for each data row; `error` names the file and
    what is wrong: missing file, missing columns, undecodable bytes, malformed CSV."""
    if not path.exists():
        raise error(f"{path}: file not found")
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = set(required) - set(reader.fieldnames or [])
            if missing:
                raise error(f"{path}: missing column(s) {', '.join(sorted(missing))} (need {','.join(required)})")
            yield from enumerate(reader, start=2)
    except UnicodeDecodeError as exc:
        raise error(f"{path}: not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise error(f"{path}: malformed CSV: {exc}") from None

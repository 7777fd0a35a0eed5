"""Reading DuckDB's JSON query profiles in tests: which scans a statement made of a table."""

from __future__ import annotations

import json
from pathlib import Path


def scans_in(profile: Path, table: str) -> set[str]:
    """The scan types (Sequential Scan, Index Scan ...) of `table` in the profile DuckDB wrote to
    `profile` for the last statement (SET enable_profiling = 'json', profiling_output = profile)."""
    found: set[str] = set()
    nodes = [json.loads(profile.read_text())]
    while nodes:
        node = nodes.pop()
        info = node.get("extra_info") or {}
        if node.get("operator_type") == "TABLE_SCAN" and str(info.get("Table", "")).endswith(f".{table}"):
            found.add(info["Type"])
        nodes += node.get("children", [])
    return found

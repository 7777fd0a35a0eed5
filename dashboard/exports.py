"""Review-summary exports: CSV (utf-8-sig, so Excel shows Chinese) and XLSX.

Every text cell goes through koubei.privacy.safe_cell: PII masked, and cells a
spreadsheet would run as a formula (=, +, -, @ ...) defused. Column headers are
localised; times are local (naive, as spreadsheets have no zones).
"""

from __future__ import annotations

import io
from collections.abc import Mapping

import pandas as pd

from dashboard.components import json_list, safe_url
from dashboard.i18n import t, t_value
from koubei.privacy import safe_cell

SUMMARY_COLUMNS = {
    "brand": "col.brand",
    "product": "col.product",
    "source": "col.source",
    "mentions": "col.mentions",
    "scored": "col.scored",
    "avg_score": "col.score",
    "positive": "col.positive",
    "neutral": "col.neutral",
    "negative": "col.negative",
    "negative_share": "col.negative_share",
    "avg_rating": "col.avg_rating",
    "reach": "col.reach",
    "first_at": "col.first",
    "last_at": "col.last",
}
NEGATIVE_COLUMNS = {
    "published_at": "col.time",
    "source": "col.source",
    "brand": "col.brand",
    "product": "col.product",
    "text": "col.text",
    "url": "col.link",
    "score": "col.score",
    "rating": "col.rating",
    "likes": "col.likes",
    "reposts": "col.reposts",
    "replies": "col.replies",
}
INCIDENT_COLUMNS = {
    "id": "col.id",
    "kind": "col.kind",
    "brand": "col.brand",
    "scope_value": "col.scope",
    "window_start": "col.window_start",
    "window_end": "col.window_end",
    "peak_at": "col.peak",
    "observed": "col.observed",
    "expected": "col.expected",
    "severity": "col.severity",
    "status": "col.status",
    "keywords": "col.keywords",
}


def _local(frame: pd.DataFrame, tz: str) -> pd.DataFrame:
    out = frame.copy()
    for column in out.columns:
        if pd.api.types.is_datetime64_any_dtype(out[column]):
            out[column] = out[column].dt.tz_localize("UTC").dt.tz_convert(tz).dt.tz_localize(None)
    return out


def _prepare(frame: pd.DataFrame, columns: Mapping[str, str], tz: str, lang: str | None) -> pd.DataFrame:
    out = _local(frame[[c for c in columns if c in frame.columns]], tz)
    if "url" in out.columns:
        out["url"] = out["url"].map(safe_url)
    if "kind" in out.columns:
        out["kind"] = out["kind"].map(lambda v: t_value("kind", v, lang))
    if "status" in out.columns:
        out["status"] = out["status"].map(lambda v: t_value("status", v, lang))
    if "keywords" in out.columns:
        out["keywords"] = out["keywords"].map(json_list)
    for column in out.columns:
        if pd.api.types.is_float_dtype(out[column]):
            out[column] = out[column].round(4)  # scores and shares: 4 places are plenty in a sheet
        if out[column].dtype == object or pd.api.types.is_string_dtype(out[column]):
            out[column] = out[column].map(safe_cell).astype(object)
    return out.rename(columns={c: t(key, lang) for c, key in columns.items()})


def summary_table(summary: pd.DataFrame, tz: str, lang: str | None = None) -> pd.DataFrame:
    return _prepare(summary, SUMMARY_COLUMNS, tz, lang)


def negative_table(negative: pd.DataFrame, tz: str, lang: str | None = None) -> pd.DataFrame:
    return _prepare(negative, NEGATIVE_COLUMNS, tz, lang)


def incidents_table(incidents: pd.DataFrame, tz: str, lang: str | None = None) -> pd.DataFrame:
    return _prepare(incidents, INCIDENT_COLUMNS, tz, lang)


def to_csv(frame: pd.DataFrame) -> bytes:
    """CSV with a BOM (utf-8-sig) so Excel opens Chinese text correctly."""
    return frame.to_csv(index=False).encode("utf-8-sig")


def to_xlsx(sheets: Mapping[str, pd.DataFrame]) -> bytes:
    """One workbook, one sheet per frame (sheet names cut to Excel's 31 characters)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name[:31], index=False)
    return buffer.getvalue()

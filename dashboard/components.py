"""Safe ways to show text written by strangers.

Mention text (and anything derived from it: keywords, product names from an
import) is untrusted. st.markdown, st.write(str), st.caption and st.toast all
render Markdown (remote images, links, :red[...]), so such text goes only into
st.dataframe cells (drawn on a canvas), st.text or st.code, always masked with
mask_pii first. Plotly renders a subset of HTML in labels (<a href>, <b>),
so text put into a chart is HTML-escaped as well. Links: http and https only.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import pandas as pd

from dashboard.loaders import DISPLAY_TZ
from koubei.privacy import mask_pii

SAFE_SCHEMES = ("http", "https")


def safe_url(url: object) -> str | None:
    """The URL if it is a plain http(s) link with a host, else None (javascript:, data:, ...)."""
    if not isinstance(url, str):
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in SAFE_SCHEMES or not parts.netloc:
        return None
    return url


def chart_text(text: object) -> str:
    """An untrusted string made safe for a plotly label or hover (masked, HTML-escaped)."""
    return html.escape(mask_pii(text if isinstance(text, str) else str(text or "")))


def _mask_cell(value: Any) -> Any:
    return mask_pii(value) if isinstance(value, str) else value


def masked(frame: pd.DataFrame, text_columns: Iterable[str]) -> pd.DataFrame:
    """A copy with PII masked in the given text columns and unsafe links removed from `url`."""
    out = frame.copy()
    for column in text_columns:
        if column in out.columns:
            out[column] = out[column].map(_mask_cell)
    if "url" in out.columns:
        out["url"] = out["url"].map(safe_url)
    return out


def local_times(frame: pd.DataFrame, columns: Iterable[str], tz: str = DISPLAY_TZ) -> pd.DataFrame:
    """Stored naive-UTC timestamps as zone-aware local times (the table shows them as such)."""
    out = frame.copy()
    for column in columns:
        if column in out.columns:
            out[column] = pd.to_datetime(out[column]).dt.tz_localize("UTC").dt.tz_convert(tz)
    return out


def json_list(value: object) -> str:
    """A JSON array cell (keywords, aspects, sources) as 'a, b, c' for a table cell."""
    import json

    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, str):
        try:
            parsed = json.loads(value)
        except ValueError:
            return value
        return parsed if isinstance(parsed, str) else json_list(parsed)
    if isinstance(value, (list, tuple)):
        return ", ".join(str(v) for v in value)
    return str(value)

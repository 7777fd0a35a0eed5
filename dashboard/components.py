"""Safe ways to show text written by strangers, and the display clock.

Mention text (and anything derived from it: keywords, product names from an
import) is untrusted. st.markdown, st.write(str), st.caption and st.toast all
render Markdown (remote images, links, :red[...]), so such text goes only into
st.dataframe cells (drawn on a canvas), st.text or st.code, or HTML-escaped into
st.html or a plotly label (both render a subset of HTML and no Markdown), always
masked with mask_pii first. Links: http and https only.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pandas as pd

from koubei.privacy import mask_pii

SAFE_SCHEMES = ("http", "https")
_MARKDOWN_PUNCTUATION = re.compile(f"([{re.escape(string.punctuation)}])")


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


def escaped(text: object) -> str:
    """An untrusted string made safe for st.html or a plotly label or hover (masked, HTML-escaped)."""
    return html.escape(mask_pii(text if isinstance(text, str) else str(text or "")))


def markdown_literal(text: str) -> str:
    """Text shown as typed inside Streamlit markdown (st.error, st.info): every ASCII punctuation
    mark backslash-escaped, so `**`, links, `:red[...]` or `$...$` in it are not markup."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def _mask_cell(value: Any) -> str:
    # A missing text is an empty cell, not the word "None".
    return mask_pii(value) if isinstance(value, str) else ""


def masked(frame: pd.DataFrame, text_columns: Iterable[str]) -> pd.DataFrame:
    """A copy with PII masked in the given text columns (missing ones empty) and unsafe links
    removed from `url`."""
    out = frame.copy()
    for column in text_columns:
        if column in out.columns:
            out[column] = out[column].map(_mask_cell)
    if "url" in out.columns:
        out["url"] = out["url"].map(safe_url)
    return out


def local_times(frame: pd.DataFrame, columns: Iterable[str], tz: str) -> pd.DataFrame:
    """Stored naive-UTC timestamps as zone-aware local times (the table shows them as such)."""
    out = frame.copy()
    for column in columns:
        if column in out.columns:
            out[column] = pd.to_datetime(out[column]).dt.tz_localize("UTC").dt.tz_convert(tz)
    return out


def local(moment: datetime, tz: str) -> datetime:
    """A stored (naive UTC) time in the display zone."""
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz))


def when(moment: datetime | None, tz: str, fmt: str = "%m-%d %H:%M") -> str:
    """A stored time as the pages write it: local, to the minute ("" for none)."""
    return "" if moment is None else local(moment, tz).strftime(fmt)

"""The shared filters (brand, product, source, date range) and the language switch.

They are created in the entrypoint before the page runs, with
bind="query-params", so every page sees the same selection and a URL such as
`/?brand=声浪&dates=2026-11-01...` can be shared. Pages read them with
`current()`. Dates are local days in DISPLAY_TZ; queries get UTC bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard.i18n import DEFAULT_LANG, LANG_KEY, LANGUAGES, t
from dashboard.loaders import DISPLAY_TZ

DEFAULT_DAYS = 14
KEYS = {"brands": "brand", "products": "product", "sources": "source", "dates": "dates"}
FILTERS_STATE = "koubei_filters"


@dataclass(frozen=True)
class Filters:
    start_day: date  # local, inclusive
    end_day: date  # local, inclusive
    brands: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def start(self) -> datetime:
        """UTC start (naive, as stored) of the first local day."""
        return _utc(self.start_day)

    @property
    def end(self) -> datetime:
        """UTC end, exclusive: the start of the local day after the last one."""
        return _utc(self.end_day + timedelta(days=1))

    @property
    def days(self) -> int:
        return (self.end_day - self.start_day).days + 1


def _utc(day: date) -> datetime:
    local = datetime.combine(day, time.min, tzinfo=ZoneInfo(DISPLAY_TZ))
    return local.astimezone(UTC).replace(tzinfo=None)


def local_day(moment: datetime | None) -> date | None:
    """The local date of a stored (naive UTC) timestamp."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(DISPLAY_TZ)).date()


def language_switch() -> str:
    """Sidebar switch; the label is bilingual and fixed so the widget keeps its identity."""
    choice = st.sidebar.segmented_control(
        "语言 / Language",
        options=list(LANGUAGES),
        format_func=LANGUAGES.__getitem__,
        default=DEFAULT_LANG,
        required=True,
        key=LANG_KEY,
        bind="query-params",
    )
    return choice or DEFAULT_LANG


def render(options: dict[str, Any]) -> Filters:
    """Draw the filters in the sidebar and remember the selection for the pages."""
    sidebar = st.sidebar
    sidebar.subheader(t("filters.title"))
    brands = sidebar.multiselect(
        t("filters.brand"), options["brands"], key=KEYS["brands"], placeholder=t("filters.all"), bind="query-params"
    )
    product_options = sorted(
        {p for brand, products in options["products"].items() if not brands or brand in brands for p in products}
    )
    products = sidebar.multiselect(
        t("filters.product"), product_options, key=KEYS["products"], placeholder=t("filters.all"), bind="query-params"
    )
    sources = sidebar.multiselect(
        t("filters.source"), options["sources"], key=KEYS["sources"], placeholder=t("filters.all"), bind="query-params"
    )
    last = local_day(options["last"]) or datetime.now(UTC).date()
    first = local_day(options["first"]) or last
    default_start = max(first, last - timedelta(days=DEFAULT_DAYS - 1))
    picked = sidebar.date_input(
        t("filters.date_range"),
        value=(default_start, last),
        min_value=first,
        max_value=max(last, first),
        key=KEYS["dates"],
        bind="query-params",
    )
    # While a range is being picked the widget returns one date; treat it as a one-day range.
    if isinstance(picked, (tuple, list)):
        start_day = picked[0] if picked else default_start
        end_day = picked[1] if len(picked) > 1 else start_day
    else:
        start_day = end_day = picked or last
    chosen = Filters(
        start_day=start_day,
        end_day=end_day,
        brands=tuple(brands),
        products=tuple(p for p in products if p in product_options),
        sources=tuple(sources),
    )
    st.session_state[FILTERS_STATE] = chosen
    return chosen


def current() -> Filters | None:
    """The selection the entrypoint drew this run (None if there is no data yet)."""
    return st.session_state.get(FILTERS_STATE)

"""The shared filters (brand, product, source, date range) and the language switch.

They are created in the entrypoint before the page runs, so every page sees the same
selection through `current()`, and every query of every page takes it as one
`storage.queries.MentionFilter` (`Filters.query`). The choices are names and ISO
dates, the same in either language, so they are bound to the URL by Streamlit
(`/?brand=声浪&dates=2026-11-01...`); the language is kept as a code (dashboard/url.py).
Dates are local days in the display time zone; queries get UTC bounds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import streamlit as st

from dashboard import url
from dashboard.i18n import DEFAULT_LANG, LANG_ALIASES, LANG_KEY, LANGUAGES, t
from storage.queries import MentionFilter

DEFAULT_DAYS = 14
KEYS = {"brands": "brand", "products": "product", "sources": "source", "dates": "dates"}
FILTERS_STATE = "koubei_filters"


@dataclass(frozen=True)
class Filters:
    start_day: date  # local, inclusive
    end_day: date  # local, inclusive
    tz: str  # the display time zone the days are in
    brands: tuple[str, ...] = ()
    products: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()

    @property
    def start(self) -> datetime:
        """UTC start (naive, as stored) of the first local day."""
        return utc_start(self.start_day, self.tz)

    @property
    def end(self) -> datetime:
        """UTC end, exclusive: the start of the local day after the last one."""
        return utc_start(self.end_day + timedelta(days=1), self.tz)

    @property
    def days(self) -> int:
        return (self.end_day - self.start_day).days + 1

    @property
    def query(self) -> MentionFilter:
        """What every query of every page is given."""
        return MentionFilter(self.start, self.end, self.brands, self.products, self.sources)


def utc_start(day: date, tz: str) -> datetime:
    local = datetime.combine(day, time.min, tzinfo=ZoneInfo(tz))
    return local.astimezone(UTC).replace(tzinfo=None)


def local_day(moment: datetime | None, tz: str) -> date | None:
    """The local date of a stored (naive UTC) timestamp."""
    if moment is None:
        return None
    return moment.replace(tzinfo=UTC).astimezone(ZoneInfo(tz)).date()


def default_days(options: dict[str, Any], tz: str) -> tuple[date, date, date]:
    """The data's first local day, the default window's first (DEFAULT_DAYS back from the last, not
    before the first) and the data's last (today when there is none), from load_filter_options."""
    last = local_day(options["last"], tz) or datetime.now(UTC).date()
    first = local_day(options["first"], tz) or last
    return first, max(first, last - timedelta(days=DEFAULT_DAYS - 1)), last


def language_switch() -> str:
    """Sidebar switch; the label is bilingual and fixed so the widget keeps its identity."""
    url.seed(LANG_KEY, list(LANGUAGES), DEFAULT_LANG, LANG_ALIASES)
    choice = st.sidebar.segmented_control(
        "语言 / Language", options=list(LANGUAGES), format_func=LANGUAGES.__getitem__, required=True, key=LANG_KEY
    )
    url.keep(LANG_KEY, choice, DEFAULT_LANG)
    return choice or DEFAULT_LANG


def render(options: dict[str, Any], tz: str) -> Filters:
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
    first, default_start, last = default_days(options, tz)
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
        tz=tz,
        brands=tuple(brands),
        products=tuple(p for p in products if p in product_options),
        sources=tuple(sources),
    )
    st.session_state[FILTERS_STATE] = chosen
    return chosen


def current() -> Filters | None:
    """The selection the entrypoint drew this run (None if there is no data yet)."""
    return st.session_state.get(FILTERS_STATE)

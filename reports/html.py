"""The report as one self-contained HTML file, from one Jinja2 template.

Autoescaping is on for everything the template prints, so mention text (masked first
with koubei.privacy.mask_pii) is always text, never markup. Styles, plotly.js and the
charts' data are inline; nothing is fetched when the file is opened. The PDF is this
same HTML printed by Chromium (reports/pdf.py); `page_numbers` fills the table of
contents once the first print has shown where each section landed.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import jinja2
from markupsafe import Markup

from dashboard.i18n import t
from koubei.privacy import mask_pii
from reports import charts
from reports.changes import Move
from reports.exports import CODE_WORDS
from reports.facts import AspectWords, CitedMove, ReportFacts, aspect_name
from reports.period import Period

# (anchor, title key): the sections in order; the table of contents and the PDF's page lookup follow it.
SECTIONS = (
    ("kpis", "report.section_kpis"),
    ("changes", "report.section_changes"),
    ("trend", "report.section_trend"),
    ("aspects", "report.section_aspects"),
    ("cases", "report.section_cases"),
    ("faq", "report.section_faq"),
    ("method", "report.section_method"),
    ("cited", "report.section_cited"),
)
BUCKET_NAMES = {3600: "report.bucket_hour", 6 * 3600: "report.bucket_6h", 86400: "report.bucket_day"}
MOVE_KEYS = {
    ("negative_share", True): "report.move_share_up",
    ("negative_share", False): "report.move_share_down",
    ("volume", True): "report.move_volume_up",
    ("volume", False): "report.move_volume_down",
    ("product", True): "report.move_product_up",
    ("product", False): "report.move_product_down",
    ("aspect", True): "report.move_aspect_up",
    ("aspect", False): "report.move_aspect_down",
    ("source", True): "report.move_source_up",
    ("source", False): "report.move_source_down",
}
DRIVER_KEYS = {True: "report.driver_up", False: "report.driver_down"}
KIND_TITLES = {"week": "report.kind_week", "month": "report.kind_month", "range": "report.kind_range"}
QUOTE_CHARS = 160
PLOT_CONFIG = {"displaylogo": False, "responsive": False, "displayModeBar": "hover"}


@lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@lru_cache(maxsize=1)
def plotly_js() -> str:
    from plotly.offline import get_plotlyjs

    # "</script" cannot appear inside an inline script; plotly.js has none, the check keeps it so.
    js = get_plotlyjs()
    assert "</script" not in js.lower()
    return js


@dataclass
class Citations:
    """Mentions quoted in the report, numbered in the order they first appear."""

    entries: list[dict[str, object]] = field(default_factory=list)
    numbers: dict[tuple[str, str], int] = field(default_factory=dict)

    def cite(self, source: str, native_id: str, published_at: datetime, text: str) -> int:
        key = (source, native_id)
        if key not in self.numbers:
            self.numbers[key] = len(self.entries) + 1
            self.entries.append(
                {"n": self.numbers[key], "source": source, "native_id": native_id, "at": published_at, "text": text}
            )
        return self.numbers[key]


def quote(text: object, limit: int = QUOTE_CHARS) -> str:
    """Untrusted text as shown: masked, whitespace collapsed, clipped (the template escapes it)."""
    clean = " ".join(mask_pii(str(text or "")).split())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def pct(value: float | None, digits: int = 1) -> str:
    return "—" if value is None else f"{value * 100:.{digits}f}%"


def points(delta: float | None) -> str:
    return "—" if delta is None else f"{delta * 100:+.1f} pp"


def number(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def signed(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:+,.{digits}f}"


def _local(tz: str) -> Callable[[datetime | None], str]:
    zone = ZoneInfo(tz)

    def local(moment: datetime | None) -> str:
        if moment is None:
            return "—"
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return f"{aware.astimezone(zone):%Y-%m-%d %H:%M}"

    return local


def scope_title(facts: ReportFacts) -> str:
    scope, lang = facts.request.scope, facts.request.lang
    names = scope.products or scope.brands
    return " / ".join(names) if names else t("report.all_brands", lang)


def export_command(period: Period, scope_args: list[str], label: str | None = None) -> str:
    """The `koubei export` line that lists the mentions a figure counts."""
    words = ["koubei", "export", "--what", "mentions", "--period", f"{period.first_day}..{period.last_day}"]
    words += scope_args
    if label:
        words += ["--label", label]
    return " ".join(shlex.quote(w) for w in [*words, "--format", "csv", "--output", "mentions.csv"])


def _scope_args(facts: ReportFacts, product: str | None = None, source: str | None = None) -> list[str]:
    scope = facts.request.scope
    args: list[str] = []
    for brand in scope.brands:
        args += ["--brand", brand]
    for p in (product,) if product else scope.products:
        args += ["--product", p]
    for s in (source,) if source else scope.sources:
        args += ["--source", s]
    return args


def _what(move: Move, lang: str, names: AspectWords) -> str:
    driver = move.driver
    if driver is None:
        return ""
    if driver.dimension == "product_aspect" and move.kind == "product":
        return t(
            "report.what_aspect", lang, aspect=aspect_name(driver.key[1], lang, names)
        )  # the product is the subject
    if driver.dimension == "product_aspect" and move.kind == "aspect":
        return driver.key[0]  # the aspect is the sentence's subject: the product is what is left to name
    if driver.dimension == "product_aspect":
        return t(
            "report.what_product_aspect", lang, product=driver.key[0], aspect=aspect_name(driver.key[1], lang, names)
        )
    return t("report.what_source", lang, source=driver.key[0])


def move_sentence(move: Move, lang: str, names: AspectWords = ()) -> str:
    """One sentence per move, every figure from the move's stored counts."""
    if move.kind == "negative_share":
        before, after = pct(move.before), pct(move.after)
    else:
        before, after = number(move.before), number(move.after)
    subject = aspect_name(move.subject, lang, names) if move.kind == "aspect" else move.subject
    text = t(MOVE_KEYS[move.kind, move.rising], lang, subject=subject or "", before=before, after=after)
    if move.driver is not None:
        text += t(DRIVER_KEYS[move.rising], lang, what=_what(move, lang, names), delta=signed(move.driver.delta))
    return text + ("。" if lang == "zh" else ".")


def move_basis(facts: ReportFacts, cited: CitedMove) -> str:
    """What a move counts and the `koubei export` line that lists those mentions."""
    lang, period, move = facts.request.lang, facts.request.period, cited.move
    what, count = t("report.basis_scope", lang), int(facts.headline.mentions.current or 0)
    product = source = label = None
    if move.kind in ("product", "aspect", "source") and move.subject is not None:
        what, count, label = move.subject, int(move.after), "neg"
        if move.kind == "aspect":
            what = aspect_name(move.subject, lang, facts.request.aspect_names)
        product = move.subject if move.kind == "product" else None
        source = move.subject if move.kind == "source" else None
    return t(
        "report.basis",
        lang,
        what=what,
        period=period.label(),
        n=number(count),
        command=export_command(period, _scope_args(facts, product, source), label),
    )


def page_css(lang: str) -> str:
    """The footer's "page N of M" as CSS content (Chromium fills the counters when printing)."""
    template = t("report.page", lang)
    parts = template.replace("{page}", "\x00page\x00").replace("{pages}", "\x00pages\x00").split("\x00")
    return " ".join(f"counter({p})" if p in ("page", "pages") else _css_string(p) for p in parts if p)


def _css_string(text: str) -> str:
    """A CSS string literal; "<" escaped too, so no text can close the style element."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("<", "\\3c ") + '"'


def render_html(facts: ReportFacts, page_numbers: dict[str, int] | None = None) -> str:
    """The report as HTML; `page_numbers` (section anchor -> PDF page) fills the table of contents."""
    lang = facts.request.lang
    period = facts.request.period

    def tr(key: str, **fmt: object) -> str:
        return t(key, lang, **fmt)

    def tv(family: str, value: object) -> str:
        return CODE_WORDS[family](value, lang)

    trend = charts.trend_figure(facts).to_html(
        full_html=False, include_plotlyjs=False, div_id="chart-trend", config=PLOT_CONFIG
    )
    aspects = (
        charts.aspect_figure(facts).to_html(
            full_html=False, include_plotlyjs=False, div_id="chart-aspects", config=PLOT_CONFIG
        )
        if facts.aspects
        else ""
    )
    return (
        _environment()
        .get_template("report.html.j2")
        .render(
            f=facts,
            lang=lang,
            period=period,
            previous=period.previous(),
            title=t("report.title", lang, scope=scope_title(facts)),
            kind_title=t(KIND_TITLES[period.kind], lang),
            sections=SECTIONS,
            page_numbers=page_numbers or {},
            bucket=t(BUCKET_NAMES.get(facts.bucket_seconds, "report.bucket_day"), lang),
            trend_chart=Markup(trend),
            aspect_chart=Markup(aspects),
            plotly_js=Markup(plotly_js()),
            page_css=Markup(page_css(lang)),
            header_css=Markup(_css_string(f"{t('report.title', lang, scope=scope_title(facts))} · {period.label()}")),
            citations=Citations(),
            t=tr,
            tv=tv,
            quote=quote,
            pct=pct,
            points=points,
            number=number,
            signed=signed,
            local=_local(period.tz),
            move_sentence=lambda m: move_sentence(m, lang, facts.request.aspect_names),
            aspect=lambda a: aspect_name(a, lang, facts.request.aspect_names),
            move_basis=lambda cm: move_basis(facts, cm),
        )
    )

"""Writing a report file: HTML as rendered, PDF printed from the same HTML."""

from __future__ import annotations

from pathlib import Path

from dashboard.i18n import t
from reports.facts import ReportFacts
from reports.html import SECTIONS, render_html
from reports.pdf import render_pdf

FORMATS = ("html", "pdf")


def headings(lang: str) -> dict[str, str]:
    """Each section's heading as printed ("1 核心指标"): what the PDF's page lookup searches for."""
    return {anchor: f"{number} {t(key, lang)}" for number, (anchor, key) in enumerate(SECTIONS, 1)}


def write_report(facts: ReportFacts, fmt: str, out: Path) -> Path:
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, not {fmt!r}")
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "html":
        out.write_text(render_html(facts), encoding="utf-8")
    else:
        render_pdf(lambda pages: render_html(facts, pages), headings(facts.request.lang), out)
    return out

"""The PDF report, printed by the headless Chromium the browser tests use: its text (read back
with pypdf) holds the brand, the period, each heading and the KPI values SQL gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pytest
from pypdf import PdfReader

from reports.build import headings, write_report
from reports.facts import ReportFacts
from reports.pdf import PdfError, find_chromium, section_pages
from tests.conftest import ARTIFACTS
from tests.dashboard.conftest import MASKED_PHONE, PHONE
from tests.reports.conftest import BRAND

pytestmark = pytest.mark.browser


def _squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.fixture(scope="module")
def pdf(facts: ReportFacts) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return write_report(facts, "pdf", ARTIFACTS / "report.pdf")


def test_the_pdf_holds_brand_period_headings_and_the_kpis_sql_gives(
    pdf: Path, facts: ReportFacts, demo_db: Path
) -> None:
    reader = PdfReader(str(pdf))
    pages = [page.extract_text() for page in reader.pages]
    text = _squeezed("\n".join(pages))
    period = facts.request.period
    with duckdb.connect(str(demo_db), read_only=True) as con:
        mentions, avg, negative, scored = con.execute(
            "SELECT count(*), avg(s.score), count(*) FILTER (WHERE s.label = 'neg'), count(s.score)"
            " FROM trusted_mentions m LEFT JOIN sentiment s USING (source, native_id)"
            " WHERE m.brand = ? AND m.published_at >= ? AND m.published_at < ?",
            [BRAND, period.start, period.end],
        ).fetchall()[0]
    assert BRAND in text and _squeezed(period.label()) in text
    for heading in headings("zh").values():
        assert _squeezed(heading) in text, heading
    kpi_page = _squeezed(pages[0] + pages[1] if len(pages) > 1 else pages[0])
    for value in (f"{mentions:,}", f"{avg:.2f}", f"{negative / scored * 100:.1f}%"):
        assert value in kpi_page, value
    assert len(pages) >= 4 and "第1页，共" in _squeezed(pages[0])  # page numbers in the footer


def test_the_table_of_contents_gives_each_sections_page(pdf: Path) -> None:
    pages = [page.extract_text() for page in PdfReader(str(pdf)).pages]
    found = section_pages(pages, headings("zh"))
    assert list(found) == list(headings("zh"))  # every section found, in order
    assert list(found.values()) == sorted(found.values())
    toc = _squeezed(pages[0])
    for anchor, heading in headings("zh").items():
        assert f"{_squeezed(heading)}{found[anchor]}" in toc, heading


def test_chinese_fonts_are_embedded(pdf: Path) -> None:
    fonts: dict[str, Any] = {}
    for page in PdfReader(str(pdf)).pages:
        resources: Any = page["/Resources"]
        for ref in (resources.get("/Font") or {}).values():
            font: Any = ref.get_object()
            fonts[str(font.get("/BaseFont"))] = font
    cjk = [name for name in fonts if "WenQuanYi" in name]
    assert cjk, sorted(fonts)
    for name in cjk:
        descriptor = fonts[name]["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor or "/FontFile3" in descriptor, name


def test_a_hostile_mention_prints_as_text_masked(hostile_facts: ReportFacts, tmp_path: Path) -> None:
    text = "\n".join(
        p.extract_text() for p in PdfReader(str(write_report(hostile_facts, "pdf", tmp_path / "h.pdf"))).pages
    )
    squeezed = _squeezed(text)
    assert (
        _squeezed("<img src=x onerror=alert(1)>") in squeezed
        and _squeezed('=HYPERLINK("http://evil.example"') in squeezed
    )
    assert MASKED_PHONE in squeezed and PHONE not in squeezed


def test_without_chromium_the_pdf_path_says_how_to_get_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOUBEI_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(PdfError, match="KOUBEI_CHROMIUM"):
        find_chromium()
    monkeypatch.delenv("KOUBEI_CHROMIUM")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(PdfError, match="apt-get install chromium fonts-wqy-microhei"):
        find_chromium()

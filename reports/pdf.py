"""The report as a PDF: the same HTML, printed by headless Chromium.

Chromium runs the inline plotly.js, so the charts print as the vector SVG the HTML
shows; it embeds the fonts it used (a subset of WenQuanYi Micro Hei for Chinese) and
fills the page counters of the template's @page rules. A table of contents needs the
page each section landed on, which only the printed file knows: the first print is
read back with pypdf, then the report is printed again with the numbers filled in
(the numbers take the place of nothing, so the pages do not move).

Chromium is Debian's `chromium` (what `make browser` installs); $KOUBEI_CHROMIUM names
another binary. Nothing is downloaded at run time.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from koubei.errors import KoubeiError

CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
CHROMIUM_ENV = "KOUBEI_CHROMIUM"
TIMEOUT = 120.0
# Time Chromium lets the page's scripts run before printing (virtual time: no real waiting
# once the page is idle); plotly draws a report's charts in well under a second.
SCRIPT_BUDGET_MS = 20_000


class PdfError(KoubeiError):
    """The PDF could not be printed (no Chromium, or Chromium failed)."""


def find_chromium() -> str:
    """The Chromium binary to print with, or a PdfError that says how to get one."""
    configured = os.environ.get(CHROMIUM_ENV)
    if configured:
        if shutil.which(configured):
            return str(shutil.which(configured))
        raise PdfError(f"${CHROMIUM_ENV} names {configured!r}, which is not an executable")
    for name in CANDIDATES:
        found = shutil.which(name)
        if found:
            return found
    raise PdfError(
        "PDF reports are printed by headless Chromium, and none was found: install Debian's"
        " `chromium` and `fonts-wqy-microhei` (`make browser`, or `apt-get install chromium fonts-wqy-microhei`),"
        f" or set ${CHROMIUM_ENV} to a Chromium binary; `--format html` needs neither"
    )


def print_pdf(html: str, out: Path, chromium: str | None = None) -> None:
    """Print one HTML document to `out` (A4 and margins come from the document's @page rule)."""
    binary = chromium or find_chromium()
    with tempfile.TemporaryDirectory(prefix="koubei-pdf-") as tmp:
        page = Path(tmp) / "page.html"
        page.write_text(html, encoding="utf-8")
        target = Path(tmp) / "printed.pdf"
        command = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-extensions",
            f"--user-data-dir={Path(tmp) / 'profile'}",
            "--no-pdf-header-footer",
            "--generate-pdf-document-outline",
            f"--virtual-time-budget={SCRIPT_BUDGET_MS}",
            f"--print-to-pdf={target}",
            page.as_uri(),
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, timeout=TIMEOUT)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfError(f"Chromium ({binary}) could not print the report: {exc}") from exc
        if result.returncode != 0 or not target.exists() or target.stat().st_size == 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise PdfError(f"Chromium ({binary}) exited with {result.returncode}: {' | '.join(tail)}")
        out.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(target), out)


def page_texts(pdf: Path) -> list[str]:
    from pypdf import PdfReader

    return [page.extract_text() or "" for page in PdfReader(str(pdf)).pages]


def section_pages(texts: list[str], headings: dict[str, str]) -> dict[str, int]:
    """The page (1-based) of each section heading. Each heading's text is in the table of contents
    first and at its section second; the second place is the section's page."""
    found: dict[str, int] = {}
    squeezed = ["".join(text.split()) for text in texts]
    for anchor, heading in headings.items():
        needle = "".join(heading.split())
        seen = 0
        for number, text in enumerate(squeezed, 1):
            seen += text.count(needle)
            if seen >= 2:
                found[anchor] = number
                break
    return found


def render_pdf(render: Callable[[dict[str, int] | None], str], headings: dict[str, str], out: Path) -> None:
    """Print `render(None)`, find where each section landed, print `render(pages)` to `out`."""
    chromium = find_chromium()
    with tempfile.TemporaryDirectory(prefix="koubei-toc-") as tmp:
        first = Path(tmp) / "first.pdf"
        print_pdf(render(None), first, chromium)
        pages = section_pages(page_texts(first), headings)
    print_pdf(render(pages), out, chromium)

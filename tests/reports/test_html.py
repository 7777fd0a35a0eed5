"""The HTML report: one self-contained file, every section, nothing fetched, mention text as text."""

from __future__ import annotations

import re

import lxml.html

from reports.build import headings
from reports.facts import ReportFacts
from reports.html import render_html
from tests.dashboard.conftest import HOSTILE_TEXT, MASKED_PHONE, PHONE
from tests.reports.conftest import BRAND

EXTERNAL = re.compile(r"^\s*(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)


def test_the_html_holds_every_section_and_references_nothing_outside(facts: ReportFacts) -> None:
    html = render_html(facts)
    tree = lxml.html.document_fromstring(html)
    text = tree.text_content()
    assert BRAND in tree.findtext(".//title") and facts.request.period.label() in text
    for heading in headings("zh").values():
        assert heading in text, heading
    for element in tree.iter():
        for name, value in element.attrib.items():
            assert not EXTERNAL.match(value), (element.tag, name, value)
            assert "url(" not in value, (element.tag, name, value)
    styles = " ".join(style.text_content() for style in tree.iter("style"))
    assert "url(" not in styles and "@import" not in styles
    assert len(tree.findall(".//script")) == 3  # plotly.js and the two charts
    assert [s.get("src") for s in tree.iter("script") if s.get("src")] == []
    assert len(html) > 4_000_000  # plotly.js is inline


def test_english_report_comes_from_the_same_template(facts: ReportFacts) -> None:
    from dataclasses import replace

    english = replace(facts, request=replace(facts.request, lang="en"))
    text = lxml.html.document_fromstring(render_html(english)).text_content()
    for heading in headings("en").values():
        assert heading in text, heading
    assert "核心指标" not in text


def test_an_english_report_names_the_built_in_aspects_in_english(facts: ReportFacts) -> None:
    """Regression: the English report printed stored aspect names as they are ("mainly from its
    质量", "Negative verdicts on 质量"), Chinese words in an English sentence."""
    from dataclasses import replace

    from dashboard.i18n import STRINGS

    english = replace(facts, request=replace(facts.request, lang="en"))
    tree = lxml.html.document_fromstring(render_html(english))
    section = tree.get_element_by_id("aspects")
    # the report's own words: the table's aspect column and the headings (quoted mentions may say 质量)
    named = [row.findtext("td") or "" for row in section.iter("tr")] + [h.text_content() for h in section.iter("h3")]
    built_in = {a.aspect for a in facts.aspects if f"aspect.{a.aspect}" in STRINGS}
    assert built_in, "the demo's aspects include built-in ones"
    for name in built_in:
        assert STRINGS[f"aspect.{name}"]["en"] in named, name
        assert not any(name in words for words in named), name


def test_a_hostile_mention_is_text_and_its_personal_data_masked(hostile_facts: ReportFacts) -> None:
    html = render_html(hostile_facts)
    tree = lxml.html.document_fromstring(html)
    assert tree.findall(".//img") == [] and len(tree.findall(".//script")) == 3
    text = tree.text_content()
    assert "<img src=x onerror=alert(1)>" in text and "![x](http://evil.example/p.png)" in text
    assert "=HYPERLINK(" in text
    assert MASKED_PHONE in text and PHONE not in html
    assert "<img src=x" not in html  # escaped in the file itself, not only in the parsed tree
    assert HOSTILE_TEXT.split("<img")[0].strip() in text

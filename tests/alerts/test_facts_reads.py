"""An incident's facts read each large table once (issue 18, part 4)."""

from __future__ import annotations

from pathlib import Path

from alerts.config import load_alert_settings
from alerts.detect import detect_incidents
from alerts.facts import gather_facts
from storage import incidents, open_store
from tests.alerts.conftest import DEMO_NOW, settings_with
from tests.test_pass_reads import LARGE, reads, recorded


def test_incident_facts_read_each_large_table_once(demo_db: Path) -> None:
    """Bug: an incident's facts (driving mentions, texts of the window and the week before,
    negative aspects twice, sources, tier-5 count) were eight queries, each joining the large
    tables again: about 1.5 s per incident at 1M mentions and growing with the store."""
    settings = settings_with({})
    detect_incidents(lambda: open_store(demo_db), settings, now=DEMO_NOW)
    with open_store(demo_db) as store:
        found = [i for i in incidents.list_incidents(store) if i.kind == "negative"]
    assert found, "the demo data holds negative bursts"
    seen: list[str] = []
    with recorded(demo_db, seen)() as store:
        del seen[:]  # opening migrates nothing here, but keep only the facts' statements
        mentions, incident = gather_facts(store, load_alert_settings(settings), found[0])
    assert mentions and incident.sources
    for table in LARGE:
        assert len(reads(seen, table)) <= 1, (table, reads(seen, table))


def test_a_detection_pass_reads_the_labels_once_for_all_its_incidents(demo_db: Path) -> None:
    """Bug: each incident a pass stored read sentiment, triage and mention_aspects whole for its
    scope's labels (no index serves a join by key): 1.7 s per incident at 10M mentions, 34 s of
    a pass that stored 17 (load 8). The labels of every mention an incident can reach are now
    read once per pass."""
    seen: list[str] = []
    summary = detect_incidents(recorded(demo_db, seen), settings_with({}), now=DEMO_NOW)
    assert summary.opened + summary.updated > 3
    assert len(reads(seen, "triage")) == 1, reads(seen, "triage")
    assert len([s for s in reads(seen, "mention_aspects") if "polarity" in s]) == 1


def test_an_incident_s_keywords_cut_each_text_once_across_passes(demo_db: Path) -> None:
    """Bug: each pass cut up to 600 texts per incident with jieba again (each `koubei run` is a
    new process, so the in-memory cache was cold): 20-28 s of a pass at 1M-10M mentions. A
    text's keyword tokens are kept in the store; a later pass reads them back, and the
    keywords are the same."""
    from sentiment.keywords import keyword_tokens

    settings = settings_with({})
    detect_incidents(lambda: open_store(demo_db), settings, now=DEMO_NOW)
    with open_store(demo_db) as store:
        found = [i for i in incidents.list_incidents(store) if i.kind == "negative" and i.keywords]
        assert found, "the demo data holds negative bursts with keywords"
        keyword_tokens.cache_clear()
        _, again = gather_facts(store, load_alert_settings(settings), found[0])
    assert keyword_tokens.cache_info().misses == 0
    assert again.keywords == found[0].keywords

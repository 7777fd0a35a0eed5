"""An incident's facts read each large table once (issue 18, part 4)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

from alerts.config import load_alert_settings
from alerts.detect import detect_incidents
from alerts.facts import gather_facts
from storage import Store, incidents, open_store, rollups
from storage.alerts_series import PassRows, ScopeRows, ScopeWindow, bucket_counts
from tests.alerts.conftest import DEMO_NOW, settings_with
from tests.profiles import scans_in
from tests.test_pass_reads import LARGE, Recorder, reads, recorded


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


def test_an_aspect_scope_s_rows_read_mention_aspects_by_key(demo_db: Path, tmp_path: Path) -> None:
    """Bug: ScopeRows found an aspect scope's mentions by joining the whole mention_aspects table
    (0.9 s per incident at 10M mentions, of a pass's 17 s of incident facts). The window's mention
    keys are taken first and their aspects looked up through the index on native_id; the facts are
    the same."""
    with open_store(demo_db) as store:
        window, expected = aspect_window(store)
        scans, profiled = scans_of(store, tmp_path, "mention_aspects")
        with ScopeRows(profiled, window, window.start) as rows:  # a few hours: fewer keys than LOOKUP_KEYS
            assert rows.sources(window) == expected
    assert scans == {"Index Scan"}


def test_in_a_pass_an_aspect_scope_s_rows_read_no_aspects(demo_db: Path) -> None:
    """Bug: in a detection pass, each aspect-scope incident's ScopeRows joined the whole
    mention_aspects table to find the scope's mentions, though the pass had read the aspects
    already. The pass's PassRows keeps every aspect of the mentions it covers, and ScopeRows
    reads none of the stored tables; the facts are the same."""
    with open_store(demo_db) as store:
        window, expected = aspect_window(store)
        since = window.start - timedelta(days=7)
        with PassRows(store) as recent:
            recent.cover([(window.brand, since, window.end)])
            recorder = Recorder(store.con)
            store.con = recorder  # type: ignore[assignment]
            with ScopeRows(store, window, since, recent) as rows:
                assert rows.sources(window) == expected
    assert recorder.statements
    for table in LARGE:
        assert reads(recorder.statements, table) == [], table


def test_a_window_the_pass_did_not_read_is_read_by_key(demo_db: Path) -> None:
    """A window PassRows does not hold (another brand, or reaching before what it read) is read
    from the stored tables, with the same facts."""
    with open_store(demo_db) as store:
        window, expected = aspect_window(store)
        since = window.start - timedelta(days=7)
        for held in ((window.brand, since + timedelta(hours=1), window.end), ("another brand", since, window.end)):
            with PassRows(store) as recent:
                recent.cover([held])
                assert not recent.holds(window.brand, since, window.end)
                with ScopeRows(store, window, since, recent) as rows:
                    assert rows.sources(window) == expected


def test_a_pass_reads_its_incidents_rows_once(demo_db: Path) -> None:
    """Bug: each incident a pass updated read its scope's mentions of the window and the week
    before, and joined them to the pass's labels: 0.4-0.9 s per incident at 10M mentions (17
    incidents, 14.5 s of a 29 s detection, load 9). The pass reads every updated incident's
    rows in one statement per table, and each incident selects its own from them."""
    seen: list[str] = []
    summary = detect_incidents(recorded(demo_db, seen), settings_with({}), now=DEMO_NOW)
    assert summary.opened + summary.updated > 3
    texts = [s for s in reads(seen, "mentions") if "m.text" in s]
    assert len(texts) == 1, texts
    # The detectors' counts (their edge buckets' labels too), not the facts.
    bucket_counts = [s for s in seen if "scope_value" in s or "koubei_edge" in s]
    for table in ("sentiment", "triage", "mention_aspects"):
        facts = [s for s in reads(seen, table) if s not in bucket_counts]
        assert len(facts) == 1, facts


def test_a_pass_s_facts_equal_each_incident_s_own_read(demo_db: Path, tmp_path: Path, monkeypatch: Any) -> None:
    """The facts of every incident a pass records (driving mentions, keywords, aspects, sources,
    red-alert tier) are the same read from the pass's rows as read for each incident alone, over
    two passes (the second extends and merges the first's incidents) on a store with aspects
    and tier-5 triage."""
    with open_store(demo_db) as store:
        aspect_window(store)
        store.con.execute(
            "INSERT INTO triage (source, native_id, urgency, reason) SELECT source, native_id,"
            " if(hash(native_id) % 3 = 0, 5, 2), 'test' FROM mentions"
        )
    alone = tmp_path / "alone.duckdb"
    shutil.copy(demo_db, alone)
    settings = settings_with({})
    for now in (DEMO_NOW - timedelta(hours=20), DEMO_NOW):
        detect_incidents(lambda: open_store(demo_db), settings, now=now)
        with monkeypatch.context() as patch:
            patch.setattr(PassRows, "holds", lambda *_: False)
            detect_incidents(lambda: open_store(alone), settings, now=now)
    found = recorded_facts(demo_db)
    assert len(found) > 5 and any(i.severity == 5 for i, _ in found) and any(i.aspects for i, _ in found)
    assert found == recorded_facts(alone)


def recorded_facts(path: Path) -> list[tuple[incidents.Incident, list[incidents.IncidentMention]]]:
    with open_store(path) as store:
        return [
            (i, incidents.incident_mentions(store, i.id))
            for i in sorted(incidents.list_incidents(store), key=lambda i: i.id)
        ]


def aspect_window(store: Store) -> tuple[ScopeWindow, dict[str, int]]:
    """Aspects given to a third of the demo's mentions (it has none) and to 5,000 other keys; an
    aspect scope's window of six hours, and its mentions per source."""
    store.con.execute(
        "INSERT INTO mention_aspects SELECT source, native_id, '质量', if(hash(native_id) % 2 = 0, 'neg', 'pos')"
        " FROM mentions WHERE hash(native_id) % 3 = 0 UNION ALL"
        " SELECT 'demo.jd', 'other' || i, '质量', 'neg' FROM range(5000) t(i)"
    )
    brand, aspect, published = store.query(
        "SELECT m.brand, a.aspect, m.published_at FROM mentions m JOIN mention_aspects a USING (source, native_id)"
        " WHERE m.brand IS NOT NULL ORDER BY m.published_at DESC, m.native_id, a.aspect LIMIT 1"
    )[0]
    window = ScopeWindow("aspect", brand, aspect, published - timedelta(hours=6), published + timedelta(hours=1))
    expected = store.query(
        "SELECT m.source, count(*) FROM mentions m JOIN mention_aspects a USING (source, native_id)"
        " WHERE m.brand = ? AND a.aspect = ? AND m.published_at >= ? AND m.published_at < ? GROUP BY 1 ORDER BY 2 DESC, 1",
        [brand, aspect, window.start, window.end],
    )
    assert expected, "the window holds mentions with the aspect"
    return window, {str(source): int(count) for source, count in expected}


def scans_of(store: Store, tmp_path: Path, table: str) -> tuple[set[str], Store]:
    """The scan types DuckDB's profile shows for `table` in every statement the returned store
    (`store`, profiled) runs, filled as it runs them."""
    out = tmp_path / "profile.json"
    store.con.execute("SET enable_profiling = 'json'")
    store.con.execute(f"SET profiling_output = '{out}'")
    found: set[str] = set()

    class Profiled(Recorder):
        def execute(self, sql: str, params: Any = None) -> Any:
            result = super().execute(sql, params)
            found.update(scans_in(out, table))
            return result

    store.con = Profiled(store.con)  # type: ignore[assignment]
    return found, store


def test_detector_counts_read_the_edge_buckets_labels_and_aspects_by_key(demo_db: Path, tmp_path: Path) -> None:
    """Bug: the rows of a detection window's partial 5-minute buckets (the second after `now`)
    were joined to sentiment and mention_aspects, which scanned or hashed both whole tables: an
    aspect scope's counts took 4.4 s at 10M mentions (load 9). The few edge mentions are read
    first and their labels and aspects looked up through the native_id index; the counts equal
    those of the rows."""
    with open_store(demo_db) as store:
        window, _ = aspect_window(store)
        rollups.rebuild(store)  # the aspects were inserted as they are, not through the rollups
        # Up to the second after the newest mention with the aspect, as detection reads up to `now`.
        until = window.end - timedelta(hours=1) + timedelta(seconds=1)
        since = until - timedelta(days=3, seconds=17)
        expected = store.query(
            "SELECT count(*), count(*) FILTER (WHERE s.label = 'neg') FROM mentions m"
            " JOIN mention_aspects a USING (source, native_id) LEFT JOIN sentiment s USING (source, native_id)"
            " WHERE m.brand = ? AND a.aspect = ? AND m.published_at >= ? AND m.published_at < ?",
            [window.brand, window.scope_value, since, until],
        )[0]
        condition, params = rollups.split(since, until).edge_sql("published_at")
        edges = store.query(f"SELECT count(*) FROM mentions WHERE {condition}", params)[0][0]
        for table in ("mention_aspects", "sentiment"):
            scans, profiled = scans_of(store, tmp_path, table)
            counts = bucket_counts(profiled, "aspect", 3600, since, until, (window.brand, window.scope_value))
            assert (counts["total"].sum(), counts["negative"].sum()) == expected
            assert scans <= {"Index Scan"}, (table, scans)
            store.con = profiled.con._con  # type: ignore[attr-defined]
    assert 0 < edges <= 500

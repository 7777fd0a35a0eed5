"""Sign-in and roles without a browser (AppTest): the sign-in form, sessions that expire, a viewer
whose forced action is refused by the server side, a responder's action logged under their name
and audited, the audit page for admins only."""

from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from dashboard import auth, data, loaders
from dashboard.i18n import t
from storage import open_store, users
from storage.audit import entries
from storage.incidents import list_incidents, responses
from tests.dashboard.conftest import demo_copy, is_seeded_crisis

APP = Path(__file__).resolve().parents[2] / "streamlit_app.py"
PASSWORD = "correct horse battery"
CLI = users.Actor("ops", "admin", "test", signed_in=False)


@pytest.fixture(params=["duckdb", "ducklake"])
def team_db(demo_db: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Path | str:
    """A copy of the demo database with a viewer, a responder and an admin, on each backend:
    every action below works on the single file and on a lake."""
    return team(demo_copy(demo_db, request, request.param), monkeypatch)


def team(db: Path | str, monkeypatch: pytest.MonkeyPatch) -> Path | str:
    with open_store(db) as store:
        for name, role in (("vera", "viewer"), ("rui", "responder"), ("ada", "admin")):
            users.add(store, name, role, PASSWORD, CLI)
    monkeypatch.setenv("KOUBEI_DB", str(db))
    return db


def test_every_page_opens_on_a_lake(
    demo_db: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every page, the admins' audit page too, reads a lake as it reads the file (on the file the
    pages are opened in Chromium: tests/dashboard/test_pages_in_chromium.py)."""
    pages = [
        "dashboard/overview.py",
        *(f"dashboard/pages/{p.name}" for p in (APP.parent / "dashboard" / "pages").glob("*.py")),
    ]
    team(demo_copy(demo_db, request, "ducklake"), monkeypatch)
    at = sign_in("ada")
    for path in pages:
        at.switch_page(path).run()
        assert not at.exception, (path, [e.message for e in at.exception])
        assert not at.error, (path, [e.value for e in at.error])
        assert at.title or at.header, path


def crisis_id(db: Path | str) -> str:
    with open_store(db, read_only=True) as store:
        return next(i.id for i in list_incidents(store) if is_seeded_crisis(i) and i.status == "open")


def sign_in(name: str, password: str = PASSWORD, query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    assert at.title[0].value == t("auth.title")
    at.text_input(key="auth_name").input(name)
    at.text_input(key="auth_password").input(password)
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_without_accounts_nobody_is_asked_to_sign_in(dashboard_env: Path) -> None:
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception
    assert t("auth.title") not in [title.value for title in at.title]
    assert not [b for b in at.button if b.key == "auth_sign_out"]


def test_whether_accounts_exist_is_read_again_when_the_store_changed_and_only_then(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bug: the answer was kept 5 s (CACHE_TTL), so nearly every page run opened and closed the file to
    ask (0.1-0.2 s at 10M mentions); keyed by the store's stamp, the first account is seen at once."""
    db = tmp_path / "accounts.duckdb"
    with open_store(db):
        pass
    monkeypatch.setenv("KOUBEI_DB", str(db))
    opened: list[int] = []
    reading = loaders.reading

    def counted() -> Any:
        opened.append(1)
        return reading()

    monkeypatch.setattr(data, "reading", counted)
    auth._accounts_exist.clear()
    assert not auth.accounts_exist(str(db)) and not auth.accounts_exist(str(db))
    time.sleep(loaders.CACHE_TTL + 0.5)
    assert not auth.accounts_exist(str(db))
    assert len(opened) == 1, "an unchanged store is asked once"
    with open_store(db) as store:
        users.add(store, "vera", "admin", PASSWORD, CLI)
    assert auth.accounts_exist(str(db)), "the first account is seen on the next run"


def test_sign_in_form_refuses_a_wrong_password_and_lets_the_right_one_in(team_db: Path | str) -> None:
    at = sign_in("vera", "not the password")
    assert [e.value for e in at.error] == [t("auth.wrong")]
    assert t("auth.title") in [title.value for title in at.title]  # still at the form: no page ran
    at = sign_in("vera")
    assert t("auth.title") not in [title.value for title in at.title]
    assert any("vera" in text.value for text in at.sidebar.text)


def test_a_disabled_account_cannot_sign_in(team_db: Path | str) -> None:
    with open_store(team_db) as store:
        users.disable(store, "vera", CLI)
    at = sign_in("vera")
    assert [e.value for e in at.error] == [t("auth.wrong")]


def test_sessions_expire(team_db: Path | str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KOUBEI_SESSION_MINUTES", "1")
    at = sign_in("vera")
    at.run()
    assert at.title[0].value != t("auth.title")  # within its minute the session holds
    session = at.session_state["auth_session"]
    at.session_state["auth_session"] = replace(session, since=session.since - 61)  # a minute and more later
    at.run()
    assert at.title[0].value == t("auth.title")
    assert t("auth.expired") in [i.value for i in at.info]


def test_a_viewer_forcing_an_incident_action_is_refused(team_db: Path | str) -> None:
    """Hidden and disabled buttons are not the check: a viewer who opens the dialog anyway
    (its state set directly) and submits it changes nothing and is told why."""
    incident = crisis_id(team_db)
    at = sign_in("vera", query={"incident": incident})
    at.switch_page("dashboard/pages/incidents.py").run()
    assert all(b.disabled for b in at.button if str(b.key).startswith("inc_btn_"))
    at.session_state["incidents_dialog"] = "acknowledge"
    at.run()
    submit = [b for b in at.button if b.label.startswith(t("action.acknowledge"))][-1]  # the dialog's
    submit.click().run()
    assert not at.exception
    assert t("auth.refused", role=t("role.viewer")) in [e.value for e in at.error]
    with open_store(team_db, read_only=True) as store:
        assert responses(store, incident) == []
        assert not entries(store, action="incident-")


def test_a_responder_acknowledges_as_themselves_and_it_is_audited(team_db: Path | str) -> None:
    incident = crisis_id(team_db)
    at = sign_in("rui", query={"incident": incident})
    at.switch_page("dashboard/pages/incidents.py").run()
    at.button(key="inc_btn_acknowledge").click().run()
    assert not [ti for ti in at.text_input if ti.label == t("incidents.actor")]  # no free-text name
    submit = [b for b in at.button if b.label.startswith(t("action.acknowledge"))][-1]  # the dialog's
    submit.click().run()
    assert not at.exception
    with open_store(team_db, read_only=True) as store:
        logged = responses(store, incident)
        trail = entries(store, action="incident-acknowledge")
    assert [(r.actor, r.action) for r in logged] == [("rui", "acknowledge")]
    assert [(e.actor, e.detail["incident"]) for e in trail][:1] == [("rui", incident)]
    assert trail[0].origin.startswith("dashboard@")


@pytest.mark.parametrize("page", ["triage", "mentions"])
def test_a_viewer_cannot_save_corrections(team_db: Path | str, page: str) -> None:
    """On the Mentions page too (its corrections were first saved without a role check)."""
    at = sign_in("vera")
    at.switch_page(f"dashboard/pages/{page}.py").run()
    at.session_state[f"{page}_editor"] = {"edited_rows": {0: {"corrected_label": "pos"}}}
    at.button(key=f"{page}_save").click().run()
    assert t("auth.refused", role=t("role.viewer")) in [e.value for e in at.error]
    with open_store(team_db, read_only=True) as store:
        assert store.query("SELECT count(*) FROM sentiment_labels")[0][0] == 0
        assert not entries(store, action="correct")


def test_corrections_name_the_signed_in_responder(team_db: Path | str) -> None:
    at = sign_in("rui")
    at.switch_page("dashboard/pages/triage.py").run()
    at.session_state["triage_editor"] = {"edited_rows": {0: {"corrected_label": "pos"}}}
    at.button(key="triage_save").click().run()
    assert not at.exception
    with open_store(team_db, read_only=True) as store:
        assert store.query("SELECT labelled_by FROM sentiment_labels") == [("rui",)]
        (entry,) = entries(store, action="correct")
    assert (entry.actor, entry.target, len(entry.detail["mentions"])) == ("rui", "label", 1)


def test_the_audit_page_is_for_admins_and_offers_no_edit(team_db: Path | str) -> None:
    at = sign_in("vera")
    with pytest.raises(Exception):  # noqa: B017, PT011 - not in a viewer's navigation at all
        at.switch_page("dashboard/pages/audit.py").run()
    at = sign_in("ada")
    at.switch_page("dashboard/pages/audit.py").run()
    assert not at.exception
    assert at.title[0].value == t("audit.title")
    assert len(at.dataframe) == 1
    assert "user-add" in set(at.dataframe[0].value["action"])
    # Nothing on the page writes: no editor, no button but the sidebar's sign-out, no form.
    assert not at.get("data_editor")
    assert [b.key for b in at.button] == ["auth_sign_out"]


def test_a_dashboard_export_of_mentions_is_audited(team_db: Path | str) -> None:
    from dashboard import exports
    from tests.reports.test_dashboard import FILTERS

    who = users.Actor("rui", "responder", "dashboard@test from 10.0.0.7")
    assert exports.csv_bytes(str(team_db), FILTERS, "zh", who).decode("utf-8-sig").count("\n") > 1
    with open_store(team_db, read_only=True) as store:
        (entry,) = entries(store, action="export")
    assert (entry.actor, entry.origin, entry.target, entry.detail["format"]) == ("rui", who.origin, "mentions", "csv")


def test_nothing_in_the_code_changes_or_removes_audit_entries() -> None:
    """The trail is append-only: no UPDATE or DELETE of audit_log anywhere koubei runs."""
    repo = APP.parent
    sources = [p for folder in ("storage", "dashboard", "koubei", "alerts") for p in (repo / folder).rglob("*.py")]
    sources.append(APP)
    found = [
        str(p.relative_to(repo))
        for p in sources
        if any(
            s in p.read_text("utf-8").upper()
            for s in ("UPDATE AUDIT_LOG", "DELETE FROM AUDIT_LOG", "TRUNCATE AUDIT_LOG")
        )
    ]
    assert len(sources) > 50 and not found, found


def test_assigning_names_a_user_who_is_told_through_the_channels(
    team_db: Path | str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alerts.channels import render_text

    config = tmp_path / "koubei.toml"
    config.write_text(
        '[alerts.channels.team]\ntype = "webhook"\nurl_env = "KOUBEI_TEST_HOOK"\n\n'
        '[[alerts.routes]]\nname = "everyone"\nchannels = ["team"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("KOUBEI_CONFIG", str(config))
    monkeypatch.setenv("KOUBEI_TEST_HOOK", "http://127.0.0.1:9/hook")
    incident = crisis_id(team_db)
    at = sign_in("rui", query={"incident": incident})
    at.switch_page("dashboard/pages/incidents.py").run()
    at.button(key="inc_btn_assign").click().run()
    assert at.selectbox[-1].options == ["ada", "rui", "vera"]  # the active accounts, not free text
    at.selectbox[-1].select("vera")
    [b for b in at.button if b.label.startswith(t("action.assign"))][-1].click().run()
    assert not at.exception
    assert t("incidents.assigned_to", name="vera") in [x.value for x in at.text]
    with open_store(team_db, read_only=True) as store:
        assert ("rui", "assign", "vera") in [(r.actor, r.action, r.note) for r in responses(store, incident)]
        told = store.query("SELECT channel, event, payload FROM alert_outbox WHERE event LIKE 'assigned:%'")
        assert entries(store, action="incident-assign")[0].detail["assignee"] == "vera"
    assert {(channel, event) for channel, event, _ in told} == {("team", "assigned:vera")}
    assert render_text(json.loads(told[0][2]) | {"event": "assigned:vera"}).startswith("[koubei] 指派给 vera ")


def test_a_click_after_the_session_ran_out_is_refused(team_db: Path | str) -> None:
    """A button's callback runs before the page's sign-in gate: it must not act for an expired session."""
    at = sign_in("rui")
    at.switch_page("dashboard/pages/triage.py").run()
    session = at.session_state["auth_session"]
    at.session_state["auth_session"] = replace(session, since=session.since - 9 * 3600)
    at.session_state["triage_editor"] = {"edited_rows": {0: {"corrected_label": "pos"}}}
    at.button(key="triage_save").click().run()
    assert at.title[0].value == t("auth.title")
    with open_store(team_db, read_only=True) as store:
        assert store.query("SELECT count(*) FROM sentiment_labels")[0][0] == 0


def test_only_an_admin_may_change_settings(team_db: Path | str) -> None:
    """The Settings page's hook let anyone change settings once sign-in existed."""
    at = sign_in("rui")
    at.switch_page("dashboard/pages/settings.py").run()
    assert t("settings.admins_only") in [i.value for i in at.info]
    assert at.button(key="settings_save_backtest").disabled
    at = sign_in("ada")
    at.switch_page("dashboard/pages/settings.py").run()
    assert t("settings.admins_only") not in [i.value for i in at.info]

"""Sign-in in Debian's headless Chromium: a local account through the form, and a real OpenID
Connect sign-in through st.login against a local provider (oidc-provider-mock, run on a
thread of this process), each ending on the dashboard with the audit trail written; a
viewer's actions are disabled in the page (the server-side refusal is in test_auth.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from oidc_provider_mock import User, run_server_in_thread
from playwright.sync_api import Browser, Page

from storage import open_store, users
from storage.audit import entries
from storage.incidents import list_incidents, responses
from tests.dashboard.browser import dashboard_server, free_port
from tests.dashboard.conftest import is_seeded_crisis

pytestmark = pytest.mark.browser
MAIN = "[data-testid=stMainBlockContainer]"
SIDEBAR = "[data-testid=stSidebar]"
PASSWORD = "correct horse battery"
CLI = users.Actor("ops", "admin", "test", signed_in=False)
OIDC_EMAIL = "olga@corp.example"


def team_copy(demo_db: Path, tmp_path: Path, accounts: dict[str, str]) -> Path:
    db = tmp_path / "team.duckdb"
    shutil.copy(demo_db, db)
    with open_store(db) as store:
        for name, role in accounts.items():
            users.add(store, name, role, PASSWORD, CLI)
    return db


def signed_in_page(page: Page) -> str:
    page.wait_for_selector(f"{SIDEBAR} [data-testid=stText]", timeout=60_000)
    page.wait_for_selector(f"{MAIN} h1, {MAIN} h2", timeout=60_000)
    return page.locator(SIDEBAR).inner_text()


def test_local_account_signs_in_and_a_responder_action_is_audited(
    demo_db: Path, tmp_path: Path, browser: Browser, artifacts_dir: Path
) -> None:
    db = team_copy(demo_db, tmp_path, {"rui": "responder"})
    with open_store(db, read_only=True) as store:
        incident = next(i.id for i in list_incidents(store) if is_seeded_crisis(i) and i.status == "open")
    with dashboard_server(db, tmp_path / "streamlit.log") as url:
        page = browser.new_page(viewport={"width": 1400, "height": 1600})
        page.goto(f"{url}/incidents?incident={incident}", wait_until="domcontentloaded")
        page.wait_for_selector("input[type=password]", timeout=60_000)
        assert page.locator("[data-testid=stSidebarNav]").count() == 0  # no page before signing in
        page.screenshot(path=str(artifacts_dir / "sign_in_form.png"))
        page.get_by_label("用户名").fill("rui")
        page.get_by_label("密码").fill(PASSWORD)
        page.get_by_role("button", name="登录").click()
        assert "rui" in signed_in_page(page)
        page.locator(".st-key-inc_btn_acknowledge button").click()
        dialog = page.locator("[role=dialog]")
        dialog.wait_for(timeout=30_000)
        assert "处理人：rui" in dialog.inner_text()
        dialog.locator("[data-testid=stFormSubmitButton] button").click()
        page.wait_for_selector("[role=dialog]", state="detached", timeout=30_000)
        page.screenshot(path=str(artifacts_dir / "signed_in_responder.png"))
    with open_store(db, read_only=True) as store:
        assert [(r.actor, r.action) for r in responses(store, incident)] == [("rui", "acknowledge")]
        trail = entries(store, action="incident-acknowledge", actor="rui")
    assert trail and all(e.origin.startswith("dashboard@") and e.origin.endswith(" from localhost") for e in trail)


def test_openid_connect_sign_in_through_a_local_provider(
    demo_db: Path, tmp_path: Path, browser: Browser, artifacts_dir: Path
) -> None:
    """st.login against a real provider: the first sign-in makes a viewer account (audited), whose
    action buttons are disabled."""
    db = team_copy(demo_db, tmp_path, {})
    port = free_port()
    claims = {"email": OIDC_EMAIL, "name": "Olga"}
    with run_server_in_thread(user_claims=[User(sub="olga", claims=claims)]) as provider:
        issuer = f"http://localhost:{provider.server_port}"
        secrets = tmp_path / "cwd" / ".streamlit" / "secrets.toml"
        secrets.parent.mkdir(parents=True)
        secrets.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            'cookie_secret = "a-test-cookie-secret-of-some-length"\n'
            'client_id = "koubei"\nclient_secret = "koubei-secret"\n'
            f'server_metadata_url = "{issuer}/.well-known/openid-configuration"\n',
            encoding="utf-8",
        )
        with dashboard_server(db, tmp_path / "streamlit.log", cwd=secrets.parents[1], port=port) as url:
            page = browser.new_page(viewport={"width": 1400, "height": 1600})
            page.goto(url, wait_until="domcontentloaded")
            page.get_by_role("button", name="通过单点登录（OIDC）登录").click()
            page.wait_for_url(f"{issuer}/**", timeout=60_000)
            page.screenshot(path=str(artifacts_dir / "oidc_provider.png"))
            page.get_by_role("button", name="olga").click()
            assert OIDC_EMAIL in signed_in_page(page)
            page.goto(f"{url}/incidents", wait_until="domcontentloaded")
            page.wait_for_selector("[class*=st-key-inc_btn_] button", timeout=60_000)
            page.screenshot(path=str(artifacts_dir / "signed_in_oidc_viewer.png"))
            buttons = page.locator("[class*=st-key-inc_btn_] button")
            assert buttons.count() and all(b.is_disabled() for b in buttons.all())
    with open_store(db, read_only=True) as store:
        account = users.get(store, OIDC_EMAIL)
        (made,) = entries(store, action="user-add")
    assert account is not None and account.role == "viewer" and not account.has_password
    assert (made.actor, made.detail["via"]) == (OIDC_EMAIL, "oidc")

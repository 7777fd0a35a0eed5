"""Sign-in and roles for the dashboard: who is looking, and whether they may do what they ask.

Sign-in is on when the database has accounts (`koubei users add`) or when
.streamlit/secrets.toml has an [auth] table for Streamlit's own `st.login`
(OpenID Connect). Otherwise the dashboard is the one person's tool it always was
(and serves only 127.0.0.1): everyone is that person, with every right.

A local account signs in with a form checked against its argon2 hash
(storage/users.py); an OIDC user by the provider, then by the account of the
e-mail it vouched for (made on the first sign-in with [koubei_auth]
oidc_default_role, "viewer" unless set; "" admits only accounts an admin added).
A session ends after [koubei_auth] session_minutes ($KOUBEI_SESSION_MINUTES),
480 by default, and at a browser reload for a local account.

`require(permission)` is what an action handler calls before it writes; storage
checks the same permission again (storage.users.authorize) in the transaction's
store, so a page that forgot a check still cannot write.
"""

from __future__ import annotations

import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import streamlit as st

from dashboard import data
from dashboard.i18n import t, t_value
from storage import StorageError, users

SESSION_KEY = "auth_session"
NOTICE_KEY = "auth_notice"
DEFAULT_SESSION_MINUTES = 480
LOOPBACK = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class Session:
    name: str
    role: str
    via: str  # password | oidc
    since: float  # time.time() at sign-in


def _secrets_table(name: str) -> dict[str, Any]:
    try:
        return dict(st.secrets.get(name) or {})
    except (FileNotFoundError, KeyError, st.errors.StreamlitSecretNotFoundError):
        return {}


def oidc_configured() -> bool:
    return bool(_secrets_table("auth").get("client_id") or _secrets_table("auth").get("redirect_uri"))


def accounts_exist(db: str) -> bool:
    """Whether the store holds any account, read again only when the store changed (every page run
    asks: kept for CACHE_TTL, each run more than 5 s after the last opened and closed the file for it,
    0.1-0.2 s at 10M mentions)."""
    return _accounts_exist(db, data.store_stamp(db))


@st.cache_data(max_entries=4, show_spinner=False)
def _accounts_exist(db: str, stamp: tuple[int, ...]) -> bool:
    try:
        with data.reading() as store:
            return users.any_accounts(store)
    except StorageError:  # no database yet: nobody to sign in; the app says what to run
        return False


def sign_in_configured() -> bool:
    return oidc_configured() or accounts_exist(str(data.db_path()))


def session_minutes() -> int:
    configured = os.environ.get("KOUBEI_SESSION_MINUTES") or _secrets_table("koubei_auth").get("session_minutes")
    return int(configured) if configured else DEFAULT_SESSION_MINUTES


def origin() -> str:
    """From where: this server and the browser's address."""
    # Streamlit gives no address for a browser on this machine (localhost).
    ip = getattr(st.context, "ip_address", None) or "localhost"
    return f"dashboard@{socket.gethostname()} from {ip}"


def current() -> Session | None:
    """The signed-in session, while it lasts (a click's callback runs before the gate looks)."""
    found = st.session_state.get(SESSION_KEY)
    return found if isinstance(found, Session) and not _expired(found) else None


def actor(typed_name: str = "") -> users.Actor:
    """Who acts: the signed-in user, or without sign-in the name typed in the form (as before)."""
    session = current()
    if session is not None:
        return users.Actor(session.name, session.role, origin())
    return users.Actor(typed_name.strip() or "dashboard", "admin", origin(), signed_in=False)


def allowed(permission: str) -> bool:
    """Whether whoever is looking may: without sign-in configured, the one local person may do anything."""
    session = current()
    if session is None:
        return not sign_in_configured()
    return users.role_allows(session.role, permission)


def require(permission: str) -> bool:
    """The server-side check of an action handler: False (and a message for the next run) when refused."""
    if allowed(permission):
        return True
    session = current()
    st.session_state[NOTICE_KEY] = (
        t("auth.refused", role=t_value("role", session.role)) if session else t("auth.expired")
    )
    return False


def _sign_out() -> None:
    session = st.session_state.pop(SESSION_KEY, None)
    if isinstance(session, Session) and session.via == "oidc":
        st.logout()


def _expired(session: Session) -> bool:
    return time.time() - session.since > session_minutes() * 60


def _password_form() -> None:
    with st.form("auth_sign_in"):
        name = st.text_input(t("auth.name"), key="auth_name")
        password = st.text_input(t("auth.password"), type="password", key="auth_password")
        submitted = st.form_submit_button(t("auth.sign_in"), type="primary")
    if not submitted:
        return
    with data.reading() as store:
        user = users.check_password(store, name.strip(), password)
    if user is None:
        st.error(t("auth.wrong"))
        return
    st.session_state[SESSION_KEY] = Session(user.name, user.role, "password", time.time())
    st.rerun()


def _oidc_session() -> Session | None:
    """The session of someone st.login signed in, once their account is known and active."""
    if not getattr(st.user, "is_logged_in", False):
        return None
    email = str(st.user.get("email") or st.user.get("sub") or "")
    default_role = str(_secrets_table("koubei_auth").get("oidc_default_role", "viewer"))
    with data.writing() as store:
        user = users.signed_in_through_provider(store, email, default_role, origin())
    if user is None:
        st.error(t("auth.no_account", name=email))
        st.button(t("auth.sign_out"), on_click=st.logout)
        st.stop()
    # When the provider signed them in (the id token's iat), so a reload does not restart the clock.
    issued = st.user.get("iat")
    session = Session(user.name, user.role, "oidc", float(issued) if isinstance(issued, int | float) else time.time())
    if _expired(session):
        st.session_state[NOTICE_KEY] = t("auth.expired")
        st.logout()  # forgets the provider's cookie and reruns at the sign-in
        st.stop()
    return session


def gate(hidden_navigation: Callable[[], object]) -> Session | None:
    """Before any page: the signed-in session, or a sign-in form and st.stop(). None: no sign-in configured.
    `hidden_navigation` declares the pages unseen before the form stops, so the address asked for
    (/incidents?incident=...) is where the sign-in lands."""
    if not sign_in_configured():
        # Unset (a bare `streamlit run`, AppTest) is left as it was; `koubei dashboard` always sets it.
        if (address := st.get_option("server.address")) and str(address) not in LOOPBACK:
            st.error(t("auth.refuse_open"))
            st.stop()
        return None
    session = current()
    if session is None and isinstance(st.session_state.get(SESSION_KEY), Session):  # it ran out
        _sign_out()
        st.session_state[NOTICE_KEY] = t("auth.expired")
    if session is None and oidc_configured():
        session = _oidc_session()
        if session is not None:
            st.session_state[SESSION_KEY] = session
    if session is None:
        hidden_navigation()
        st.title(t("auth.title"))
        if notice := st.session_state.pop(NOTICE_KEY, None):
            st.info(notice)
        if oidc_configured():
            st.button(t("auth.sign_in_oidc"), on_click=st.login, type="primary", key="auth_oidc")
        if accounts_exist(str(data.db_path())):
            _password_form()
        st.stop()
    return session


def sidebar(session: Session) -> None:
    """Who is signed in, as what, and the way out (the name is escaped: it may be an e-mail)."""
    st.sidebar.text(t("auth.signed_in_as", name=session.name, role=t_value("role", session.role)))
    st.sidebar.button(t("auth.sign_out"), on_click=_sign_out, key="auth_sign_out")


def notice() -> None:
    """A refusal from the last click, in our own words."""
    if message := st.session_state.pop(NOTICE_KEY, None):
        st.error(message)

"""Translation: Chinese by default, English on request.

Every string lives in dashboard/strings.py under an explicit, page-prefixed key
(`t("incidents.title")`); t() looks the key up directly, so a page's wording
never depends on which file asks. The language lives in
st.session_state["lang"] (the sidebar switch, kept in the URL as ?lang=en or
?lang=zh); outside Streamlit the default applies.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from dashboard.strings import QUERY_ERRORS_ZH, QUERY_TERMINALS_ZH, STRINGS
from querylang.errors import TERMINALS, QueryError

if TYPE_CHECKING:
    from koubei.settings.sections import AspectNames

LANGUAGES = {"zh": "中文", "en": "English"}
DEFAULT_LANG = "zh"
LANG_KEY = "lang"
# Links made before the URL held codes said ?lang=English.
LANG_ALIASES = {name: code for code, name in LANGUAGES.items()}


def current_lang() -> str:
    try:
        import streamlit as st

        lang = st.session_state.get(LANG_KEY, DEFAULT_LANG)
    except Exception:  # noqa: BLE001 - outside a Streamlit run (plain scripts, unit tests)
        lang = DEFAULT_LANG
    return lang if lang in LANGUAGES else DEFAULT_LANG


# English counts of one take the singular ("1 row", not "1 rows"); Chinese has no plural.
SINGULAR = {
    "rows": "row",
    "incidents": "incident",
    "cases": "case",
    "mentions": "mention",
    "firings": "firing",
    "copies": "copy",
    "days": "day",
    "negatives": "negative",
}
_ONE = re.compile(r"(?<![\d.,])\b1 ((?:[a-z]+ )?)(" + "|".join(SINGULAR) + r")\b")


def t(key: str, lang: str | None = None, **fmt: object) -> str:
    """The text for `key` in `lang` (default: the current language), formatted with `fmt`.
    An unknown key is a KeyError: the test of the string table keeps that from shipping."""
    lang = lang or current_lang()
    text = STRINGS[key][lang]
    if not fmt:
        return text
    text = text.format(**fmt)
    return _ONE.sub(lambda m: f"1 {m.group(1)}{SINGULAR[m.group(2)]}", text) if lang == "en" else text


def query_error_words(error: QueryError, lang: str | None = None) -> str:
    """A malformed query's error in the reader's language (querylang words it in English)."""
    if (lang or current_lang()) == "en":
        return error.message
    return error.worded(QUERY_ERRORS_ZH, TERMINALS | QUERY_TERMINALS_ZH, separator=" 或 ")


def t_value(family: str, value: object, lang: str | None = None) -> str:
    """A stored code such as an incident kind (`kind.volume`) in words; unknown codes as they are."""
    key = f"{family}.{value}"
    return t(key, lang) if key in STRINGS else str(value)


def aspect_name(aspect: str, lang: str | None = None) -> str:
    """An aspect in the page's language: the name koubei.toml gives it ([sentiment.aspect_names]), else
    a built-in aspect's own, else the aspect as it is (its Chinese name)."""
    lang = lang or current_lang()
    names = configured_aspect_names().get(aspect)
    named: str | None = getattr(names, lang, None) if names is not None else None
    return named or t_value("aspect", aspect, lang)


def configured_aspect_names() -> dict[str, AspectNames]:
    """[sentiment.aspect_names] of the koubei.toml koubei reads, read again when the file changes;
    none when there is no file or it is wrong (the CLI reports configuration errors)."""
    from koubei.config import find_config
    from koubei.errors import ConfigError

    try:
        path = find_config()
        stamp = (str(path.resolve()), path.stat().st_mtime_ns) if path else None
    except (ConfigError, OSError):
        return {}
    return _aspect_names(stamp)


@lru_cache(maxsize=4)
def _aspect_names(stamp: tuple[str, int] | None) -> dict[str, AspectNames]:
    from koubei.config import load_settings
    from koubei.errors import ConfigError

    if stamp is None:
        return {}
    try:
        return dict(load_settings(Path(stamp[0])).sentiment.aspect_names)
    except ConfigError:
        return {}


def scope_value_words(scope_type: str, value: str, lang: str | None = None) -> str:
    """A scope's value in words: an aspect in the page's language; a brand, product or source as it is."""
    return aspect_name(value, lang) if scope_type == "aspect" else value


def widget_key(key: str, lang: str | None = None) -> str:
    """A choice widget's key in the current language. Streamlit keeps showing a keyed widget's
    options as first formatted (a status chip stayed 待处理 in English), so each language draws
    its own widget, seeded from the choice kept under `key` (see remember)."""
    return f"{key}_{lang or current_lang()}"


def remember(key: str, default: object) -> str:
    """Before drawing the widget: its per-language key, holding the choice made in any language."""
    import streamlit as st

    mine = widget_key(key)
    if mine not in st.session_state:
        st.session_state[mine] = st.session_state.get(key, default)
    return mine

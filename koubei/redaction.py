"""Secrets never stored or shown: the one function every error message that can carry a URL, a
header or a credential goes through before it is logged, stored or printed.

Webhook URLs are credentials (WeCom `?key=`, DingTalk `?access_token=`, the path
of Slack, Feishu and Discord hooks), and an HTTP library's error names the URL
it failed on. `redact` removes:

- every secret koubei read from the environment in this process (`remember`
  is called where secrets are read: channel URLs and signing secrets, SMTP
  credentials, cookies, headers and proxies of sources), whole or in parts;
- in any URL or bare path: user and password, the fragment, the value of a
  query parameter named like a credential (key, token, sign, secret, auth,
  code, session ...) or that looks like a token (20+ characters of letters
  and digits), whatever follows a hook marker (`/services/`, `/hook/`,
  `/webhooks/`, `/bot`) and any path segment that looks like a token;
- header values of Authorization, Cookie, Set-Cookie and *-Key / *-Token
  headers, Bearer / Basic credentials, and `password=`, `token=`, `secret=`,
  `key=`, `sign=` ... pairs in free text.

What stays (scheme, host, port, the path up to a secret, parameter names, a
page number or product id) is what one needs to tell which channel or page
failed. A short secret under an innocent name (`?k=abc`) that koubei did not
read from the environment itself is the one thing this cannot know.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

MASK = "***"
MIN_SECRET = 6  # shorter values (a port, "true") would mask ordinary text
MIN_TOKEN_SEGMENT = 16  # a path segment this long in a secret URL is taken for a token

_known: set[str] = set()

# A URL, or the bare path an HTTP library names ("Max retries exceeded with url: /send?key=...").
_URL = re.compile(r"""[A-Za-z][A-Za-z0-9+.-]*://[^\s'"<>]+|(?<=url: )/[^\s'"<>]+""")
_ORIGIN = re.compile(r"""^([A-Za-z][A-Za-z0-9+.-]*://[^/?#]*)""")
_TRAILING = re.compile(r"""[.,:;!?)\]]+$""")  # sentence punctuation after a URL is not part of it
_USERINFO = re.compile(r"""(://)[^/@]+@""")
_QUERY_VALUE = re.compile(r"""([?&])([^=&]+)=([^&]*)""")
_SECRET_NAME = re.compile(
    r"""^(.*[_.-])?(api)?(key|token|secret|sig|sign|signature|password|passwd|pass|pwd|auth|authorization|code"""
    r"""|ticket|sid|session|sessionid|sessdata|credentials?)$""",
    re.IGNORECASE,
)
_TOKEN_VALUE = re.compile(r"""^(?=.*\d)(?=.*[A-Za-z])[A-Za-z0-9_.~%+/=-]{20,}$""")
_HOOK_PATH = re.compile(r"""(/(?:services|hooks?|webhooks|bot)/?)(?=[A-Za-z0-9_-]).*""", re.IGNORECASE)
_TOKEN_SEGMENT = re.compile(r"""(?<=/)(?=[A-Za-z0-9_-]*\d)(?=[A-Za-z0-9_-]*[A-Za-z])[A-Za-z0-9_-]{20,}""")
_HEADER = re.compile(
    r"""((?:proxy-)?authorization|set-cookie|cookie|[\w-]*(?:api|auth|access)[-_]?(?:key|token)|x-[\w-]*(?:key|token|secret))"""
    r"""(["']?\s*:\s*["']?)[^\r\n"']+""",
    re.IGNORECASE,
)
_SCHEME_CREDENTIAL = re.compile(r"""\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}""", re.IGNORECASE)
_PAIR = re.compile(
    r"""\b((?:access_|api_?|app_?|client_|refresh_|session_?)?"""
    r"""(?:token|secret|password|passwd|pwd|key|sign|signature|sessdata|ticket)\s*[=:]\s*)["']?[^\s&,;"']+""",
    re.IGNORECASE,
)


def remember(value: str | None) -> None:
    """A secret read from the environment: never shown, whole or (for a URL) in its telling parts."""
    if not value:
        return
    parts = [value]
    if "://" in value:  # an error may quote only a piece: the password, a query value, a token in the path
        url = urlsplit(value)
        if not (url.username or url.password or url.query or url.path.strip("/")):
            parts = []  # a bare origin (a proxy at http://host:port) names a machine, not a secret
        parts += [url.password or "", *(pair.partition("=")[2] for pair in url.query.split("&"))]
        parts += [segment for segment in url.path.split("/") if len(segment) >= MIN_TOKEN_SEGMENT]
    _known.update(part for part in parts if len(part) >= MIN_SECRET)


def _query_pair(match: re.Match[str]) -> str:
    mark, name, value = match.groups()
    secret = _SECRET_NAME.match(name) or _TOKEN_VALUE.match(value)
    return f"{mark}{name}={MASK if secret and value else value}"


def _clean_url(match: re.Match[str]) -> str:
    found = match.group(0)
    trailing = _TRAILING.search(found)
    url, after = (found[: trailing.start()], trailing.group(0)) if trailing else (found, "")
    url = _USERINFO.sub(rf"\1{MASK}@", url).partition("#")[0]
    origin = _ORIGIN.match(url)
    head, rest = (origin.group(1), url[origin.end() :]) if origin else ("", url)
    path, question, query = rest.partition("?")
    path = _TOKEN_SEGMENT.sub(MASK, _HOOK_PATH.sub(rf"\1{MASK}", path))
    return head + path + _QUERY_VALUE.sub(_query_pair, question + query) + after


def redact(text: object) -> str:
    """`text` with every URL credential, header value and known secret masked."""
    out = str(text)
    for secret in sorted(_known, key=len, reverse=True):
        out = out.replace(secret, MASK)
    out = _URL.sub(_clean_url, out)
    out = _HEADER.sub(rf"\1\2{MASK}", out)
    out = _SCHEME_CREDENTIAL.sub(rf"\1 {MASK}", out)
    return _PAIR.sub(rf"\1{MASK}", out)

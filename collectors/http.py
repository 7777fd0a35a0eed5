"""The one HTTP layer below every source (snscrape's `_request`, dlt's session).

Collectors never call `requests` directly. This module gives them:
- connect and read timeouts;
- retries with exponential backoff and full jitter on connection errors,
  timeouts, 5xx and 429, honouring `Retry-After` (seconds or HTTP date);
- a per-host rate limit shared by every source in the process;
- robots.txt, respected by default (`robots = false` per source turns it off);
- a descriptive User-Agent, an optional proxy, and headers / cookies per
  source, from config or from environment variables the config names;
- body decoding that works for GBK, GB18030, Big5 and UTF-8 sites.

Failures become koubei's named errors: `SourceBlocked` (401/403/412/451,
robots.txt), `SourceUnavailable` (timeouts, 5xx, 429 that outlast retries).
A client given a `stop` event ends its waits (rate limit, backoff, Retry-After)
as soon as it is set, raising `Stopped`: a stopped `koubei watch` does not sit
out a five-minute Retry-After first.
Their messages name URLs through koubei.redaction.redact, and every secret read
from the environment (cookies, headers, proxies) is remembered there, so no
error shows a key, a token or a cookie.
"""

from __future__ import annotations

import email.utils
import os
import random
import re
import threading
import time
import urllib.robotparser
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from collectors.options import HttpSourceOptions
from koubei.errors import ConfigError, SourceBlocked, SourceUnavailable, Stopped
from koubei.redaction import redact, remember

BLOCKED_STATUSES = {401, 403, 412, 451}
RETRY_STATUSES = {429, 500, 502, 503, 504}


@dataclass
class HttpOptions:
    """How a client behaves: a source's HTTP keys (collectors/options.py), with the secrets
    its *_env keys name read from the environment."""

    connect_timeout: float
    read_timeout: float
    retries: int  # extra attempts after the first
    backoff: float  # first backoff in seconds, doubled each attempt
    backoff_max: float
    retry_after_max: float  # a longer Retry-After gives up instead of stalling a run
    min_interval: float  # seconds between two requests to the same host
    robots: bool
    user_agent: str
    proxy: str | None
    headers: dict[str, str]
    cookies: dict[str, str]

    @classmethod
    def from_options(cls, source: str, options: HttpSourceOptions) -> HttpOptions:
        """Secrets never sit in the file: `cookie_env = "VAR"` reads a whole Cookie header from
        $VAR, `headers_env = {Name = "VAR"}` a header from $VAR, `proxy_env = "VAR"` the proxy URL."""
        headers = dict(options.headers)
        for header, var in options.headers_env.items():
            headers[header] = _env(source, var)
        if options.cookie_env:
            headers["Cookie"] = _env(source, options.cookie_env)
        proxy = options.proxy or (_env(source, options.proxy_env) if options.proxy_env else None)
        remember(proxy)  # a proxy URL may carry a password
        return cls(
            connect_timeout=options.timeout or options.connect_timeout,
            read_timeout=options.timeout or options.read_timeout,
            retries=options.retries,
            backoff=options.backoff,
            backoff_max=options.backoff_max,
            retry_after_max=options.retry_after_max,
            min_interval=options.min_interval,
            robots=options.robots,
            user_agent=options.user_agent,
            proxy=proxy,
            headers=headers,
            cookies=dict(options.cookies),
        )


def _env(source: str, var: str) -> str:
    value = os.environ.get(var)
    if not value:
        # Missing credentials are reported, not silently skipped: the site would
        # answer with a login wall that looks like a layout change.
        raise ConfigError(f"[sources.{source}] needs environment variable {var} (set it or remove the *_env key)")
    remember(value)
    return value


@dataclass
class Response:
    url: str
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return decode_body(self.body, self.headers.get("Content-Type"))


# ---------------------------------------------------------------- encodings

_CHARSET_HEADER = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.IGNORECASE)
_CHARSET_META = re.compile(
    rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)|<\?xml[^>]+encoding\s*=\s*["']([\w.:-]+)""", re.IGNORECASE
)
# GB2312 and GBK are subsets of GB18030: decoding with the superset never loses a
# character a site mislabelled (JD and old forums often say gb2312 but send GBK).
_CHARSET_ALIASES = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "big5": "big5hkscs", "utf8": "utf-8"}


def _normalise_charset(name: str) -> str | None:
    name = name.strip().lower()
    name = _CHARSET_ALIASES.get(name, name)
    try:
        "".encode(name)
    except LookupError:
        return None
    return name


def detect_encoding(body: bytes, content_type: str | None = None) -> str:
    """The charset a body is in: header, then <meta>/<?xml?>, then sniffing."""
    if (
        content_type
        and (match := _CHARSET_HEADER.search(content_type))
        and (charset := _normalise_charset(match.group(1)))
    ):
        return charset
    if meta := _CHARSET_META.search(body[:2048]):
        declared = (meta.group(1) or meta.group(2) or b"").decode("ascii", "ignore")
        if charset := _normalise_charset(declared):
            return charset
    if body.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        body.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    # Not UTF-8: a Chinese site sends GB18030-family or Big5. charset_normalizer
    # (a requests dependency) tells them apart by which decoding reads as text.
    from charset_normalizer import from_bytes

    best = from_bytes(body, cp_isolation=["gb18030", "big5", "big5hkscs"]).best()
    if best is not None and best.encoding:
        return _normalise_charset(best.encoding) or "gb18030"
    return "gb18030"


def decode_body(body: bytes | str, content_type: str | None = None) -> str:
    if isinstance(body, str):
        return body
    declared = content_type and _CHARSET_HEADER.search(content_type)
    if not declared and not _CHARSET_META.search(body[:2048]):
        try:  # the common case, decoded once rather than checked and then decoded
            return body.decode("utf-8-sig" if body.startswith(b"\xef\xbb\xbf") else "utf-8")
        except UnicodeDecodeError:
            pass
    encoding = detect_encoding(body, content_type)
    return body.decode(encoding, errors="replace")


# ---------------------------------------------------------------- rate limit


class HostLimiter:
    """Spaces requests to one host at least `interval` apart, across sources and threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}

    def wait(self, host: str, interval: float, stop: threading.Event | None = None) -> None:
        if interval <= 0:
            return
        with self._lock:
            now = time.monotonic()
            slot = max(now, self._next.get(host, 0.0))
            self._next[host] = slot + interval
        if slot > now:
            pause(slot - now, stop)


def pause(seconds: float, stop: threading.Event | None) -> None:
    """Sleep `seconds`; raise Stopped as soon as `stop` is set."""
    if stop is None:
        time.sleep(seconds)
    elif stop.wait(seconds):
        raise Stopped


LIMITER = HostLimiter()


# ---------------------------------------------------------------- client


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class HttpClient:
    """One per collector instance; `get` returns a `Response` or raises a named error."""

    def __init__(
        self,
        source: str,
        options: HttpOptions,
        session: requests.Session | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.source = source
        self.options = options
        self.stop = stop  # ends the client's waits early (Stopped)
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = options.user_agent
        self.session.headers["Accept-Language"] = "zh-CN,zh;q=0.9,en;q=0.8"
        self.session.headers.update(options.headers)
        for name, value in options.cookies.items():
            self.session.cookies.set(name, value)
        if options.proxy:
            self.session.proxies = {"http": options.proxy, "https": options.proxy}
        self._robots: dict[str, urllib.robotparser.RobotFileParser | None] = {}

    def close(self) -> None:
        self.session.close()

    # -- robots.txt
    def _robots_allows(self, url: str) -> bool:
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._robots:
            self._robots[origin] = self._load_robots(origin)
        parser = self._robots[origin]
        return True if parser is None else parser.can_fetch(self.options.user_agent, url)

    def _load_robots(self, origin: str) -> urllib.robotparser.RobotFileParser | None:
        robots_url = f"{origin}/robots.txt"
        LIMITER.wait(urlsplit(origin).netloc, self.options.min_interval, self.stop)
        try:
            resp = self.session.get(robots_url, timeout=(self.options.connect_timeout, self.options.read_timeout))
        except requests.RequestException as exc:
            raise SourceUnavailable(self.source, f"cannot read {robots_url}: {type(exc).__name__}") from exc
        if 400 <= resp.status_code < 500:
            return None  # no robots.txt: everything is allowed (RFC 9309, 2.3.1.3)
        if resp.status_code >= 500:
            # RFC 9309 2.3.1.4: an unreachable robots.txt means "assume complete disallow".
            raise SourceBlocked(
                self.source,
                f"{robots_url} answered HTTP {resp.status_code}; robots.txt unreachable means disallow "
                "(set robots = false for this source only if you have permission)",
            )
        parser = urllib.robotparser.RobotFileParser(robots_url)
        parser.parse(decode_body(resp.content, resp.headers.get("Content-Type")).splitlines())
        return parser

    # -- requests
    def get(
        self, url: str, params: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> Response:
        prepared = requests.Request("GET", url, params=params).prepare()
        full_url = prepared.url or url
        shown = redact(full_url)  # what error messages name: query values and path tokens masked
        if self.options.robots and not self._robots_allows(full_url):
            raise SourceBlocked(
                self.source,
                f"robots.txt disallows {shown} for our user agent "
                "(set robots = false for this source only if you have permission)",
            )
        host = urlsplit(full_url).netloc
        attempt = 0
        while True:
            LIMITER.wait(host, self.options.min_interval, self.stop)
            problem: str
            wait_hint: float | None = None
            try:
                resp = self.session.get(
                    full_url,
                    headers=dict(headers or {}),
                    timeout=(self.options.connect_timeout, self.options.read_timeout),
                )
            except requests.Timeout:
                problem = f"timed out after {self.options.read_timeout:g}s reading {shown}"
            except requests.ConnectionError as exc:
                problem = f"connection failed to {host} ({type(exc).__name__})"
            except requests.RequestException as exc:
                raise SourceUnavailable(self.source, redact(f"request to {shown} failed: {exc}")) from None
            else:
                status = resp.status_code
                if status < 400 and status not in RETRY_STATUSES:
                    return Response(resp.url, status, resp.headers, resp.content)
                if status in BLOCKED_STATUSES:
                    raise SourceBlocked(
                        self.source,
                        f"HTTP {status} from {shown}: the site refused us "
                        "(check cookie/Referer config, rate and terms)",
                    )
                if status not in RETRY_STATUSES:
                    raise SourceUnavailable(self.source, f"HTTP {status} from {shown}")
                problem = f"HTTP {status} from {shown}"
                wait_hint = _retry_after(resp.headers.get("Retry-After"))
                if wait_hint is not None and wait_hint > self.options.retry_after_max:
                    raise SourceUnavailable(
                        self.source,
                        f"{problem} with Retry-After {wait_hint:.0f}s, longer than "
                        f"retry_after_max {self.options.retry_after_max:g}s; try again later",
                    )
            if attempt >= self.options.retries:
                raise SourceUnavailable(self.source, f"{problem}; gave up after {attempt + 1} attempts")
            if wait_hint is None:
                # Exponential backoff with full jitter (AWS architecture blog), capped.
                wait_hint = random.uniform(0, min(self.options.backoff_max, self.options.backoff * 2**attempt))
            pause(wait_hint, self.stop)
            attempt += 1

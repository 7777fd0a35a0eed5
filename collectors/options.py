"""The options of a [sources.NAME] table: the keys every source takes, and those of HTTP sources.

A source module declares its own options as a subclass (JdOptions adds `skus`
and `referer`, ...) and names it as its collector's `options_type`;
`parse_source` reads a table into the options of its kind, so a mistyped key or
a wrong value in any source is an error naming the source and the key. A
top-level [collect] table gives defaults for keys the sources share (proxy,
user_agent, timeouts, min_interval ...); a source's own keys win.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import msgspec

from koubei import __version__
from koubei.errors import ConfigError
from koubei.settings.errors import convert, suggest
from koubei.settings.toml import toml_value
from koubei.settings.types import EnvName, Table, Text, WatchInterval

if TYPE_CHECKING:
    from collectors.base import SourceConfig

# A write batch closes at this many mentions or this age, whichever comes first. Sources
# that wait on the network reach the age first (a few pages a batch); the count matters for
# fast replays and bulk loads, where each batch pays a connection, a commit and a
# checkpoint: 25,000 instead of 10,000 cuts that to ~4 us a mention (JD, measured), and
# holds the database for ~0.5-1 s a batch.
BATCH_ITEMS = 25_000
BATCH_SECONDS = 2.0
DEFAULT_USER_AGENT = (
    f"koubei/{__version__} (brand review monitor; +https://github.com/koubei/koubei; polite, honours robots.txt)"
)

Seconds = Annotated[float, msgspec.Meta(ge=0, le=3600, description="seconds")]
Timeout = Annotated[float, msgspec.Meta(gt=0, le=600, description="seconds")]


class SourceOptions(Table):
    """The keys of every [sources.NAME] table."""

    kind: Text | None = None  # which collector; the table's name when not given
    enabled: bool = True  # false: only `koubei collect NAME` runs it
    interval: WatchInterval = WatchInterval(minutes=5)  # between passes of `koubei watch`
    batch_items: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)] = BATCH_ITEMS  # mentions per write
    batch_seconds: Annotated[float, msgspec.Meta(gt=0, le=600, description="seconds")] = BATCH_SECONDS


class HttpSourceOptions(SourceOptions):
    """A source that pages through a site over HTTP (collectors/paging.py, collectors/http.py)."""

    brand: Text | None = None  # whose mentions these are; a target table may say otherwise
    product: Text | None = None
    base_url: str = ""  # every site's is configurable: a gateway, a test server
    max_pages: Annotated[int, msgspec.Meta(ge=1, le=1000)] = 10  # per target and run
    # HTTP (collectors/http.py); secrets only through environment variables (*_env)
    timeout: Timeout | None = None  # one number for both timeouts
    connect_timeout: Timeout = 5.0
    read_timeout: Timeout = 20.0
    retries: Annotated[int, msgspec.Meta(ge=0, le=20)] = 3  # extra attempts after the first
    backoff: Seconds = 1.0  # first backoff, doubled each attempt
    backoff_max: Seconds = 60.0
    retry_after_max: Annotated[float, msgspec.Meta(ge=0, le=86400, description="seconds")] = 300.0
    min_interval: Seconds = 1.0  # between two requests to the same host
    robots: bool = True  # respect robots.txt
    user_agent: Text = DEFAULT_USER_AGENT
    proxy: Text | None = None
    proxy_env: EnvName | None = None
    headers: dict[str, str] = {}
    headers_env: dict[str, EnvName] = {}  # {Header = "VAR"}: the header's value from $VAR
    cookie_env: EnvName | None = None  # a whole Cookie header from this variable
    cookies: dict[str, str] = {}


class TargetTable(Table):
    """A target written as a table: {id = "...", brand = "...", product = "..."} overrides the
    source's brand and product; a source's own subclass adds keys (JD's `score`, ...)."""

    id: str | int
    brand: Text | None = None
    product: Text | None = None


TargetType = TypeVar("TargetType", bound=TargetTable)
# What a source watches: ids, keywords or URLs, each a string (or number) or a table.
Targets = Annotated[tuple[str | int | TargetType, ...], msgspec.Meta(min_length=1)]
# [collect] sets what every HTTP source shares, not what names a source or its site.
_NOT_SHARED = {"kind", "enabled", "brand", "product", "base_url"}
COLLECT_KEYS = frozenset(f.encode_name for f in msgspec.structs.fields(HttpSourceOptions)) - _NOT_SHARED


def parse_sources(
    tables: Mapping[str, Mapping[str, Any]], collect: Mapping[str, Any], file: str
) -> dict[str, SourceConfig]:
    """Every [sources.NAME] table of `file` read by its kind's options, with [collect]'s defaults."""
    if unknown := sorted(collect.keys() - COLLECT_KEYS):
        raise ConfigError(f"{file}: [collect] unknown key {unknown[0]!r}{suggest(unknown[0], COLLECT_KEYS)}")
    convert(collect, HttpSourceOptions, file, "collect")
    return {name: parse_source(name, table, collect, file) for name, table in tables.items()}


def parse_source(
    name: str, table: Mapping[str, Any], defaults: Mapping[str, Any] | None = None, file: str = "koubei.toml"
) -> SourceConfig:
    """One [sources.NAME] table: its kind (default NAME) picks the options it is read by."""
    from collectors.base import SourceConfig, registry

    kinds = registry()
    kind = table.get("kind", name)
    if not isinstance(kind, str) or kind not in kinds:
        hint = suggest(str(kind), kinds)
        raise ConfigError(f"{file}: [sources.{name}] kind = {toml_value(kind)}: no source of that kind{hint}")
    options_type = kinds[kind].options_type
    accepted = {f.encode_name for f in msgspec.structs.fields(options_type)}
    inherited = {k: v for k, v in (defaults or {}).items() if k in accepted}
    options = convert({**inherited, **table, "kind": kind}, options_type, file, f"sources.{name}")
    return SourceConfig(name, kind, options)

"""The items of a page, each parsed on its own against a typed schema, and what raw keeps of one.

A source declares what it reads of an item as a msgspec Struct (its schema) and maps a
typed item to a Mention; `parse_items` does that for every item of a page. An item that
does not fit - a field of the wrong type, an empty id, a time that is not one, a count
past 64 bits - is skipped: an ItemError naming the source, the page, the item and the
field joins the page's context (and from there the source's health), and the rest of the
page is kept. Only a page on which every item fails is an error (LayoutChanged): that is
the site's format changing, not one bad item.

What raw keeps of an item is declared too (RawFields): the fields that carry meaning, as
plain JSON values, not avatars, images and UI flags (whole items are 1-4 KB of presentation
data: keeping them would make storage the bottleneck), and never the fields that name a
person - the author is stored only as its keyed hash (storage.mentions.author_hash).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import msgspec
import orjson

from collectors.text import from_origin
from koubei.errors import CollectorError, LayoutChanged

if TYPE_CHECKING:
    from collectors.base import ParseContext
    from koubei.records import Mention

Item = TypeVar("Item")
INT64 = 2**63 - 1
MAX_RAW_TEXT = 2_000  # characters of one raw string value kept
MAX_RAW_BYTES = 16_000  # a payload past this is cut value by value
MAX_RAW_LIST = 50  # entries of one raw list kept


@dataclass(frozen=True)
class ItemError:
    """One item skipped: where it was and what was wrong with it."""

    source: str
    page: str  # the URL or file the page came from ("" when unknown)
    item: str  # its place on the page: "comments[3]"
    field: str  # the field that was wrong ("content", "user.screen_name"), "" when not one field
    problem: str

    def __str__(self) -> str:
        field = f"{self.field}: " if self.field else ""
        return f"{self.source}: {self.item}{from_origin(self.page)}: {field}{self.problem}"


class BadItem(Exception):
    """Raised by a source's mapping for an item that cannot be a mention (an empty id, a missing text)."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}" if field else problem)
        self.field, self.problem = field, problem


def item_id(value: str | int | None, field: str) -> str:
    """An item's id as stored; an empty one is a BadItem naming `field`."""
    text = "" if value is None else str(value).strip()
    if not text:
        raise BadItem(field, "empty id")
    return text


def parse_items(
    context: ParseContext,
    items: Iterable[tuple[str, Any]],
    build: Callable[[Item, Any], Mention | None],
    schema: type[Item] | None = None,
) -> list[Mention]:
    """Every item of a page as a mention: each (place, item) converted to `schema` (when given)
    and mapped by `build(typed, item)`, which may return None to leave an item out on purpose.
    Items that fail are reported in context.errors and skipped."""
    mentions: list[Mention] = []
    failed = 0
    for place, item in items:
        try:
            typed = msgspec.convert(item, schema) if schema is not None else item
            mention = build(typed, item)
            if mention is not None:
                mentions.append(storable(mention))
        except (BadItem, msgspec.ValidationError, CollectorError, ValueError, TypeError, RecursionError) as exc:
            field, problem = _what_failed(exc, context.source)
            context.errors.append(ItemError(context.source, context.origin, place, field, problem))
            failed += 1
    if failed > 1 and not mentions:
        raise LayoutChanged(
            context.source,
            f"every item of the page failed ({failed}){context.at}: the format changed? The first: {context.errors[-failed]}",
        )
    return mentions


def _what_failed(exc: Exception, source: str) -> tuple[str, str]:
    """(field, problem) of an item's failure."""
    if isinstance(exc, BadItem):
        return exc.field, exc.problem
    message = str(exc)
    if isinstance(exc, msgspec.ValidationError):
        # "Expected `str | null`, got `int` - at `$.user.name`"; "Object missing required field `id`"
        problem, _, path = message.partition(" - at `")
        field = path.rstrip("`").removeprefix("$").lstrip(".")
        if missing := problem.partition("required field `")[2].rstrip("`"):
            field = f"{field}.{missing}" if field else missing
        return field, problem[:1].lower() + problem[1:]
    if isinstance(exc, CollectorError):
        return "", message.removeprefix(f"{source}: ")
    return "", f"{type(exc).__name__}: {message}"[:300]


def storable(mention: Mention) -> Mention:
    """The mention as storage can take it: counts within 64 bits, a finite rating (else BadItem),
    and text fields valid Unicode (a lone surrogate from a JSON escape becomes U+FFFD)."""
    for name in ("likes", "reposts", "replies"):
        count = getattr(mention, name)
        if count is not None and not -INT64 <= count <= INT64:
            raise BadItem(name, f"{count} is out of range")
    if mention.rating is not None and not math.isfinite(mention.rating):
        raise BadItem("rating", f"{mention.rating} is not a number")
    for name in ("native_id", "text", "url", "author", "brand", "product", "language"):
        value = getattr(mention, name)
        if value is not None and not value.isascii():
            setattr(mention, name, valid_unicode(value))
    return mention


def valid_unicode(text: str) -> str:
    """The text, with any lone surrogate (from a JSON escape such as \\ud800) as U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")
    return text


@dataclass(frozen=True)
class RawFields:
    """What raw keeps of an item: the `keep` fields, as plain JSON values, less what names a
    person: the `personal` fields, and in a list field the entries starting with a prefix
    (`personal_tags`: Algolia's ("_tags", "author_") for its "author_<name>" tags)."""

    keep: tuple[str, ...]
    personal: tuple[str, ...] = ()
    personal_tags: tuple[tuple[str, str], ...] = ()
    _kept: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_kept", tuple(k for k in self.keep if k not in self.personal))

    def of(self, item: Mapping[str, Any]) -> dict[str, Any]:
        raw = {key: item[key] for key in self._kept if key in item}
        # One C-speed look at the whole payload (this runs for every item); value by value only
        # when it is not what storage takes as it is.
        try:
            dumped = orjson.dumps(raw)
        except (orjson.JSONEncodeError, TypeError):  # an int past 64 bits, a lone surrogate, deep nesting
            dumped = b""
        # Not storable as it is, too long, holding NUL, or holding objects or nested lists: value by value.
        if (
            not dumped
            or len(dumped) > MAX_RAW_BYTES
            or b"\\u0000" in dumped
            or dumped.find(b"{", 1) > 0
            or b"[[" in dumped
        ):
            raw = {key: value for key, value in ((k, raw_value(v)) for k, v in raw.items()) if value is not _DROPPED}
        for key, prefix in self.personal_tags:
            if isinstance(tags := raw.get(key), list):
                raw[key] = [t for t in tags if not (isinstance(t, str) and t.startswith(prefix))]
        return raw


_DROPPED = object()


def raw_value(value: Any) -> Any:
    """A value as raw keeps it: a JSON scalar (strings cut to MAX_RAW_TEXT, valid Unicode, without
    NUL characters; ints in 64 bits; finite floats; times in ISO 8601), or a short list of them;
    anything else (objects, nesting) is dropped."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return valid_unicode(value[:MAX_RAW_TEXT].replace("\x00", ""))
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, int):
        return value if -INT64 <= value <= INT64 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, list):
        kept = [raw_value(v) for v in value[:MAX_RAW_LIST] if not isinstance(v, (list, dict))]
        return [v for v in kept if v is not _DROPPED]
    return _DROPPED

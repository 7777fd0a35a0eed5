"""Which configured brand and product a mention is about, from its text: for every source at
ingest (collectors/runner.py, collectors/file_import.py) and for stored mentions when the brand
configuration changes (`koubei retag`).

A product name is the surest sign: "声浪P20充电宝" names both the product and its brand. Else
the first brand whose name or keyword occurs earliest in the text. What a source or an import
already said (a JD listing's brand, `--brand`) is kept; only what is missing is filled in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from koubei.records import Mention
from koubei.settings.sections import Brand
from storage import Store
from storage.mentions import set_brands, untagged_mentions


@dataclass(frozen=True)
class BrandMatcher:
    products: tuple[tuple[str, str], ...]  # (product, brand), longest name first
    names: tuple[tuple[str, str], ...]  # (name or keyword, brand), in configuration order

    @classmethod
    def of(cls, brands: Sequence[Brand]) -> BrandMatcher:
        products = sorted(((p, b.name) for b in brands for p in b.products if p), key=lambda pb: -len(pb[0]))
        names = tuple((word, b.name) for b in brands for word in dict.fromkeys([b.name, *b.keywords]) if word)
        return cls(tuple(products), names)

    def product(self, text: str, brand: str | None = None) -> tuple[str, str] | None:
        """(product, its brand) of the longest configured product name in the text (of `brand` only, if given)."""
        return next(((p, b) for p, b in self.products if (brand is None or b == brand) and p in text), None)

    def brand(self, text: str) -> str | None:
        """The brand whose name or keyword occurs first in the text."""
        found = [(text.find(word), n, brand) for n, (word, brand) in enumerate(self.names) if word in text]
        return min(found)[2] if found else None

    def fill(self, text: str, brand: str | None, product: str | None) -> tuple[str | None, str | None]:
        """(brand, product) with what is missing filled in from the text."""
        if brand and product:
            return brand, product
        named = self.product(text, brand or None)
        if named is not None:
            return brand or named[1], product or named[0]
        return brand or self.brand(text), product

    def tag(self, mention: Mention) -> Mention:
        """The mention with its missing brand and product filled in from its text."""
        brand, product = self.fill(mention.text, mention.brand, mention.product)
        if (brand, product) == (mention.brand, mention.product):
            return mention
        return replace(mention, brand=brand, product=product)

    def tag_all(self, mentions: Iterable[Mention]) -> list[Mention]:
        return [self.tag(m) for m in mentions]


def retag(store: Store, brands: Sequence[Brand]) -> int:
    """Fill in the brand and product of stored mentions that lack them, from the configuration
    as it is now (after a brand or product was added); returns how many mentions changed."""
    matcher = BrandMatcher.of(brands)
    changed = []
    for source, native_id, text, brand, product in untagged_mentions(store):
        filled = matcher.fill(text, brand, product)
        if filled != (brand, product):
            changed.append((source, native_id, *filled))
    return set_brands(store, changed)

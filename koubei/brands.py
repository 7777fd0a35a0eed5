"""Which configured brand and product a mention is about, from its text: for every source at
ingest (collectors/runner.py, collectors/file_import.py) and for stored mentions when the brand
configuration changes (`koubei retag`, which runs in the database: storage/tagging.py).

Each brand and product is a watch query (docs/queries.md); without one, its name and keywords
(any of them). A product is the surest sign: "声浪P20充电宝" names both the product and its brand;
products are tried longest name first. Else the brand whose query matches with one of its words
earliest in the text (configuration order breaks ties). What a source or an import already said
(a JD listing's brand, `--brand`) is kept; only what is missing is filled in.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from koubei.records import Mention
from koubei.settings.sections import Brand
from querylang import Document, Query, matches, parse
from querylang.match import normalise
from storage import Store
from storage.tagging import BrandRule, ProductRule, retag_in_database


@dataclass(frozen=True)
class BrandMatcher:
    products: tuple[ProductRule, ...]  # longest name first
    brands: tuple[BrandRule, ...]  # in configuration order

    @classmethod
    def of(cls, brands: Sequence[Brand]) -> BrandMatcher:
        products = [ProductRule(p, b.name, parse(b.product_query(p))) for b in brands for p in b.products if p]
        products.sort(key=lambda rule: -len(rule.product))
        return cls(tuple(products), tuple(BrandRule(b.name, parse(b.watch_query())) for b in brands))

    def product(self, document: Document, brand: str | None = None) -> ProductRule | None:
        """The first product (of `brand` only, if given) whose query matches."""
        return next(
            (p for p in self.products if (brand is None or p.brand == brand) and matches(p.query, document)), None
        )

    def brand(self, document: Document) -> str | None:
        """The brand whose query matches with a word earliest in the text."""
        text = document.normalised
        found = [
            (_first_word_at(rule.query, text), n, rule.brand)
            for n, rule in enumerate(self.brands)
            if matches(rule.query, document)
        ]
        return min(found)[2] if found else None

    def fill(
        self, text: str, brand: str | None, product: str | None, source: str = "", language: str | None = None
    ) -> tuple[str | None, str | None]:
        """(brand, product) with what is missing filled in from the text."""
        if brand and product:
            return brand, product
        document = Document(text, source, language, brand, product)
        named = self.product(document, brand or None)
        if named is not None:
            return brand or named.brand, product or named.product
        return brand or self.brand(document), product

    def tag(self, mention: Mention) -> Mention:
        """The mention with its missing brand and product filled in from its text."""
        brand, product = self.fill(mention.text, mention.brand, mention.product, mention.source, mention.language)
        if (brand, product) == (mention.brand, mention.product):
            return mention
        return replace(mention, brand=brand, product=product)

    def tag_all(self, mentions: Iterable[Mention]) -> list[Mention]:
        return [self.tag(m) for m in mentions]


def _first_word_at(query: Query, text: str) -> int:
    """Where the first of the query's words occurs in the (normalised) text; the end when none does."""
    found = [at for word in query.words() if (at := text.find(normalise(word))) >= 0]
    return min(found, default=len(text))


def retag(store: Store, brands: Sequence[Brand]) -> int:
    """Fill in the brand and product of stored mentions that lack them, from the configuration
    as it is now (after a brand, product or query was added); returns how many mentions changed."""
    matcher = BrandMatcher.of(brands)
    return retag_in_database(store, matcher.products, matcher.brands)

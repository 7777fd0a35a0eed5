"""What changed between two periods: the largest moves, each from stored counts only.

Candidates, each measured in mentions so they compare:
- the negative share: the negatives above (or below) what the previous share would give,
  driven by the product's aspect whose negatives moved most the same way;
- the volume: the change in mentions, driven by the source that moved most;
- each product's, aspect's and source's negative mentions: the change in their count,
  driven by the aspect (for a product) or the product (for an aspect) that moved most.
The three largest are kept, leaving out a candidate whose subject an earlier one already
names (the same crisis told three times says less than three different things).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from storage.queries import Kpis
from storage.reports import SegmentCount

MOVES = 3
MIN_SHARE_POINTS = 0.005  # a share that moved less than half a point reads as "from 21% to 21%"


@dataclass(frozen=True)
class Driver:
    """The segment that moved most in a move's direction."""

    dimension: str  # product | source | aspect | product_aspect
    key: tuple[str, ...]
    before: int
    after: int

    @property
    def delta(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class Move:
    kind: str  # negative_share | volume | product | aspect | source
    subject: str | None  # the product, aspect or source; None for the scope's own figures
    before: float
    after: float
    magnitude: float  # in mentions
    driver: Driver | None

    @property
    def rising(self) -> bool:
        return self.after > self.before

    def names(self) -> set[str]:
        """The products, aspects and sources this move speaks of."""
        found = {self.subject} if self.subject else set()
        if self.driver is not None:
            found |= set(self.driver.key)
        return found


@dataclass(frozen=True)
class SegmentPair:
    """A segment's counts in both periods (zero where it had none)."""

    key: tuple[str, ...]
    before: SegmentCount
    after: SegmentCount


def pair_segments(before: Sequence[SegmentCount], after: Sequence[SegmentCount]) -> list[SegmentPair]:
    """Segments of either period side by side; a segment without a name (no product) is left out."""
    zero = SegmentCount((), 0, 0, 0)
    old = {tuple(str(k) for k in c.key): c for c in before if all(k is not None for k in c.key)}
    new = {tuple(str(k) for k in c.key): c for c in after if all(k is not None for k in c.key)}
    return [SegmentPair(key, old.get(key, zero), new.get(key, zero)) for key in sorted(old.keys() | new.keys())]


def _driver(
    pairs: Iterable[SegmentPair], dimension: str, rising: bool, value: str = "negative", within: str | None = None
) -> Driver | None:
    """The pair whose `value` moved most in the given direction (optionally only pairs whose key holds `within`)."""
    best: Driver | None = None
    for pair in pairs:
        if within is not None and within not in pair.key:
            continue
        before, after = getattr(pair.before, value), getattr(pair.after, value)
        delta = after - before
        if (delta > 0) != rising or delta == 0:
            continue
        if best is None or abs(delta) > abs(best.delta):
            best = Driver(dimension, pair.key, before, after)
    return best


def _share(k: Kpis) -> float | None:
    return k.negative_share


def candidates(
    current: Kpis, previous: Kpis, segments: Mapping[str, tuple[Sequence[SegmentCount], Sequence[SegmentCount]]]
) -> list[Move]:
    """Every move worth a sentence. `segments` maps product, source, aspect and product_aspect to
    their counts (previous period, current period)."""
    pairs = {name: pair_segments(*counts) for name, counts in segments.items()}
    moves: list[Move] = []
    old_share, new_share = _share(previous), _share(current)
    if old_share is not None and new_share is not None and abs(new_share - old_share) >= MIN_SHARE_POINTS:
        rising = new_share > old_share
        excess = abs(current.negative - current.scored * old_share)
        moves.append(
            Move(
                "negative_share",
                None,
                old_share,
                new_share,
                excess,
                _driver(pairs["product_aspect"], "product_aspect", rising),
            )
        )
    if previous.mentions and current.mentions != previous.mentions:
        rising = current.mentions > previous.mentions
        moves.append(
            Move(
                "volume",
                None,
                previous.mentions,
                current.mentions,
                abs(current.mentions - previous.mentions),
                _driver(pairs["source"], "source", rising, value="mentions"),
            )
        )
    inner = {"product": "aspect", "aspect": "product"}
    for kind in ("product", "aspect", "source"):
        for pair in pairs[kind]:
            delta = pair.after.negative - pair.before.negative
            if delta == 0 or not pair.before.mentions:
                continue  # new in this period: nothing to compare with
            subject = pair.key[0]
            driver = None
            if kind in inner:
                driver = _driver(pairs["product_aspect"], "product_aspect", delta > 0, within=subject)
            moves.append(Move(kind, subject, pair.before.negative, pair.after.negative, abs(delta), driver))
    return moves


def largest_moves(moves: Sequence[Move], count: int = MOVES) -> list[Move]:
    """The `count` largest moves, leaving out one whose subject an earlier move already names
    or whose driver an earlier move already gave (the same segment moving, told again)."""
    order = {"negative_share": 0, "volume": 1, "product": 2, "aspect": 3, "source": 4}
    chosen: list[Move] = []
    named: set[str] = set()
    drivers: set[tuple[str, ...]] = set()
    for move in sorted(moves, key=lambda m: (-m.magnitude, order[m.kind], m.subject or "")):
        if move.subject is not None and move.subject in named:
            continue
        if move.driver is not None and move.driver.key in drivers:
            continue
        chosen.append(move)
        named |= move.names()
        if move.driver is not None:
            drivers.add(move.driver.key)
        if len(chosen) == count:
            break
    return chosen

"""The demo stream: deterministic Chinese reviews and social posts with a story in them.

For every configured brand it writes mentions across five channels with a
daily and weekly rhythm, a positive campaign (a volume spike that is not a
negative spike), a paid-posting wave of five-star templates (which the trust
checks catch), a delivery-delay incident, and the seeded crisis: a burst of
negative, partly safety-critical posts about one product's battery heating.
With `competitors = true` a competitor of each demo brand (RIVALS, marked
`competitor_of` in koubei.toml) joins the stream with stories of its own on
other days, so the overview's comparison has something to compare.

Determinism: each (brand, hour) has its own random generator seeded from the
configured seed, so the same hour always yields the same mentions and ids,
whatever the run boundaries, and whichever other brands are in the stream. The `demo` source kind (collectors/sources/demo.py)
runs it; the phrase pools are in corpus.py.
"""

from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from collectors.demo import corpus
from collectors.text import CHINA
from koubei.records import Mention

HOUR = timedelta(hours=1)
DEFAULT_BRANDS = [
    {"name": "声浪", "products": ["声浪X1耳机", "声浪P20充电宝", "声浪Pad平板"]},
    {"name": "鲜到家", "products": ["鲜到家生鲜配送", "鲜到家会员卡"]},
]
# Competitors of the demo brands, after them in the stream. `volume` scales the hourly rate;
# each story is (kind, hours before the anchor, hours, peak extra per hour as a multiple of
# the rate, product index, aspect): on days when the demo brands have none of theirs.
RIVALS: list[dict[str, Any]] = [
    {
        "name": "律动",
        "competitor_of": "声浪",
        "products": ["律动Air耳机", "律动M10充电宝"],
        "volume": 0.8,
        "stories": [("service", 76, 24, 1.5, 0, "售后"), ("campaign", 116, 10, 2.0, 1, "价格")],
    },
    {
        "name": "邻鲜",
        "competitor_of": "鲜到家",
        "products": ["邻鲜买菜", "邻鲜月卡"],
        "volume": 0.6,
        "stories": [("spoiled", 100, 16, 1.2, 0, "质量")],
    },
]
# The negative stories told as "context, what went wrong, closer".
STORY_PHRASES = {"delay": corpus.DELAY_PHRASES, "service": corpus.SERVICE_PHRASES, "spoiled": corpus.SPOILED_PHRASES}
# Channel, share of volume, whether it carries star ratings.
CHANNELS = [
    ("weibo", 0.35, False),
    ("jd", 0.30, True),
    ("bilibili", 0.12, False),
    ("douban", 0.08, True),
    ("appstore", 0.15, True),
]
# Relative volume by hour of day, Beijing time: quiet nights, lunch and evening peaks.
HOURLY_RHYTHM = [
    0.25,
    0.15,
    0.08,
    0.05,
    0.05,
    0.08,
    0.18,
    0.35,
    0.55,
    0.65,
    0.7,
    0.8,
    0.95,
    0.85,
    0.7,
    0.65,
    0.7,
    0.75,
    0.85,
    0.95,
    1.0,
    1.0,
    0.85,
    0.5,
]


@dataclass(frozen=True)
class Episode:
    """A stretch of time in which one brand's stream changes character."""

    kind: str  # crisis | delay | campaign | paid (a 刷单 wave of five-star templates)
    brand_index: int
    start: datetime
    hours: float
    peak_extra: float  # extra mentions per hour at the peak
    product_index: int
    aspect: str

    def intensity(self, moment: datetime) -> float:
        """0 outside the episode; a fast rise and slower decay inside."""
        elapsed = (moment - self.start).total_seconds() / 3600
        if elapsed < 0 or elapsed > self.hours:
            return 0.0
        rise = min(1.0, elapsed / max(self.hours * 0.15, 1))
        decay = math.exp(-max(0.0, elapsed - self.hours * 0.4) / (self.hours * 0.3))
        return rise * decay


def local_time(value: Any) -> datetime:
    """A datetime or an ISO time; one without an offset is Beijing time."""
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=CHINA) if moment.tzinfo is None else moment


def floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


class DemoStream:
    def __init__(
        self,
        brands: list[dict[str, Any]],
        seed: int,
        anchor: datetime,
        rate: float,
        crisis_hours_ago: float,
        competitors: bool = False,
    ) -> None:
        self.brands = [b for b in brands if b.get("products")]
        self.seed = seed
        self.rate = rate
        crisis_start = floor_hour(anchor - timedelta(hours=crisis_hours_ago)).astimezone(CHINA)
        self.episodes = [
            Episode("crisis", 0, crisis_start, 30, rate * 4, 1 % len(self.brands[0]["products"]), "质量"),
        ]
        if len(self.brands) > 1:
            delay_start = floor_hour(anchor - timedelta(days=6, hours=2))
            campaign_start = floor_hour(anchor - timedelta(days=10, hours=14))
            self.episodes += [
                Episode("delay", 1, delay_start, 10, rate * 1.2, 0, "物流"),
                Episode("campaign", 1, campaign_start, 12, rate * 3, 1, "价格"),
            ]
        self.episodes.append(Episode("paid", 0, floor_hour(anchor - timedelta(days=4, hours=9)), 5, 14, 0, "质量"))
        if competitors:
            self._add_rivals(anchor)

    def _add_rivals(self, anchor: datetime) -> None:
        """The competitors after the configured brands: the brands' indexes, and so their stories, stay as they were."""
        named = {b["name"] for b in self.brands}
        for rival in (r for r in RIVALS if r["name"] not in named):
            self.brands.append(rival)
            index = len(self.brands) - 1
            for kind, hours_ago, hours, peak, product, aspect in rival["stories"]:
                start = floor_hour(anchor - timedelta(hours=hours_ago))
                self.episodes.append(Episode(kind, index, start, hours, self.rate * peak, product, aspect))

    def between(self, start: datetime, end: datetime) -> list[Mention]:
        """The mentions of the hours from start's to end's, none later than end."""
        mentions = []
        hour = floor_hour(start)
        while hour < end:
            mentions += [m for m in self.hour(hour) if m.published_at <= end]
            hour += HOUR
        return mentions

    def hour(self, hour: datetime) -> list[Mention]:
        mentions: list[Mention] = []
        local = hour.astimezone(CHINA)
        weekly = 1.2 if local.weekday() >= 5 else 1.0
        for index, brand in enumerate(self.brands):
            rng = random.Random(f"{self.seed}|{brand['name']}|{hour.isoformat()}")
            volume = brand.get("volume", 1.0 if index == 0 else 0.7)
            base = self.rate * HOURLY_RHYTHM[local.hour] * weekly * volume
            count = _poisson(rng, base)
            mentions += [self._ordinary(rng, brand, hour, n) for n in range(count)]
            for episode in self.episodes:
                if episode.brand_index != index:
                    continue
                extra = _poisson(rng, episode.peak_extra * episode.intensity(local + timedelta(minutes=30)))
                mentions += [self._episode(rng, brand, episode, hour, n) for n in range(extra)]
        return mentions

    def _ordinary(self, rng: random.Random, brand: dict[str, Any], hour: datetime, n: int) -> Mention:
        product = rng.choice(brand["products"])
        mood = rng.choices(["pos", "neu", "neg"], weights=[0.68, 0.16, 0.16])[0]
        return self._mention(rng, brand, product, hour, f"o{n}", mood, _compose(rng, product, mood), reach=1.0)

    def _episode(self, rng: random.Random, brand: dict[str, Any], episode: Episode, hour: datetime, n: int) -> Mention:
        product = brand["products"][episode.product_index]
        if episode.kind == "campaign":
            text = _compose(rng, product, "pos", aspect=episode.aspect) + rng.choice(
                ["会员日活动太划算了！", "抢到了会员日优惠[哈哈]", "活动价囤了一堆"]
            )
            return self._mention(rng, brand, product, hour, f"{episode.kind}{n}", "pos", text, reach=2.0)
        if episode.kind == "paid":
            text = corpus.PAID_TEMPLATE.format(product=product, tail=rng.choice(corpus.PAID_TAILS))
            return self._mention(
                rng, brand, product, hour, f"{episode.kind}{n}", "pos", text, reach=0.3, forced=("jd", 0.0, True)
            )
        if episode.kind in STORY_PHRASES:
            text = (
                f"{_context(rng)}，{rng.choice(STORY_PHRASES[episode.kind]).format(product=product)}。"
                f"{rng.choice(corpus.NEGATIVE_CLOSERS)}"
            )
            return self._mention(rng, brand, product, hour, f"{episode.kind}{n}", "neg", text, reach=1.5)
        text = rng.choice(corpus.CRISIS_PHRASES).format(product=product)
        text = f"{_context(rng)}，{text}，{_context(rng)}"
        if rng.random() < 0.3:
            text += "，" + rng.choice(corpus.CRISIS_ESCALATIONS)
        text += rng.choice(["！", "。", "[怒]", "，大家千万别买！", ""])
        return self._mention(rng, brand, product, hour, f"{episode.kind}{n}", "neg", text, reach=6.0)

    def _mention(
        self,
        rng: random.Random,
        brand: dict[str, Any],
        product: str,
        hour: datetime,
        slot: str,
        mood: str,
        text: str,
        reach: float,
        forced: tuple[str, float, bool] | None = None,
    ) -> Mention:
        channel, _, rated = forced or rng.choices(CHANNELS, weights=[c[1] for c in CHANNELS])[0]
        language = "zh"
        if not slot.startswith("paid"):  # a paid wave is pasted as is
            if channel == "appstore" and rng.random() < 0.25:
                pool = corpus.ENGLISH_NEGATIVE if mood == "neg" else corpus.ENGLISH_POSITIVE
                text, language = rng.choice(pool), "en"
            elif rng.random() < 0.05:
                pool = corpus.TRADITIONAL_NEGATIVE if mood == "neg" else corpus.TRADITIONAL_POSITIVE
                text, language = rng.choice(pool), "zh-Hant"
        if channel == "weibo":
            text = f"#{product}# {text}" if rng.random() < 0.4 else text
        if mood == "neg" and rng.random() < 0.02:
            text += rng.choice(corpus.CONTACT_TAILS)
        published = hour + timedelta(seconds=rng.randrange(3600))
        native_id = hashlib.sha1(f"{self.seed}|{brand['name']}|{hour.isoformat()}|{slot}".encode()).hexdigest()[:16]
        likes = int(rng.lognormvariate(1.0, 1.3) * reach)
        rating = None
        if rated:
            rating = {"pos": rng.choice([4.0, 5.0, 5.0]), "neu": 3.0, "neg": rng.choice([1.0, 1.0, 2.0])}[mood]
        return Mention(
            source=f"demo.{channel}",
            native_id=native_id,
            text=text,
            published_at=published,
            url=f"https://demo.koubei.invalid/{channel}/{native_id}",
            author=f"demo_user_{rng.randrange(50_000)}",
            rating=rating,
            brand=brand["name"],
            product=product,
            language=language,
            likes=likes,
            reposts=int(likes * rng.random() * 0.3) if channel == "weibo" else None,
            replies=int(likes * rng.random() * 0.2),
            raw={"channel": channel, "generator": "koubei demo", "mood": mood, "episode": slot.rstrip("0123456789")},
        )


def _context(rng: random.Random) -> str:
    """A personal detail ("给爸妈买的", "通勤路上用了半个月"): real reviews are each their own."""
    return rng.choice(corpus.CONTEXT_PHRASES).format(
        who=rng.choice(corpus.WHO),
        duration=rng.choice(corpus.DURATIONS),
        scene=rng.choice(corpus.SCENES),
        occasion=rng.choice(corpus.OCCASIONS),
        colour=rng.choice(corpus.COLOURS),
        price=rng.randrange(59, 1999),
        days=rng.randrange(2, 9),
        nth=rng.choice("二三四五"),
    )


def _compose(rng: random.Random, product: str, mood: str, aspect: str | None = None) -> str:
    opener = rng.choice(corpus.OPENERS).format(product=product)
    details = [_context(rng) for _ in range(rng.choice([1, 2, 2, 3]))]
    if mood == "neu":
        return opener + "，".join([*details, rng.choice(corpus.NEUTRAL_PHRASES)])
    side = 0 if mood == "pos" else 1
    aspects = [aspect] if aspect else rng.sample(list(corpus.ASPECT_PHRASES), k=rng.choice([1, 1, 2]))
    clauses = details + [rng.choice(corpus.ASPECT_PHRASES[a][side]) for a in aspects]
    rng.shuffle(clauses)
    closer = rng.choice(corpus.POSITIVE_CLOSERS if side == 0 else corpus.NEGATIVE_CLOSERS)
    tag = rng.choice(corpus.WEIBO_POSITIVE_TAGS if side == 0 else corpus.WEIBO_NEGATIVE_TAGS)
    return f"{opener}{'，'.join(clauses)}。{closer}{tag}"


def _poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method; fine for the small means of an hour's mentions."""
    if mean <= 0:
        return 0
    if mean > 50:  # normal approximation keeps large campaign hours cheap
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    threshold, count, product = math.exp(-mean), 0, rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count

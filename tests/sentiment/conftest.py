"""Helpers for the sentiment tests: small labelled sets made here, a settings object."""

from __future__ import annotations

from pathlib import Path

import pytest

from koubei.config import Settings, parse_settings
from sentiment.aspects import AspectTagger
from sentiment.model import Scorer, load_model

POSITIVE = [
    "质量很好，物流很快，非常满意",
    "客服态度热情，推荐购买",
    "味道不错，分量足，还会再来",
    "房间干净，服务周到",
    "做工精致，性价比高",
    "送餐很快，好吃",
    "包装完好，正品，好评",
    "用了一周，很好用，值得购买",
    "环境安静，早餐丰富，下次还来",
    "音质清晰，续航给力",
]
NEGATIVE = [
    "质量太差了，用了两天就坏了",
    "客服态度恶劣，不理人",
    "送餐太慢，菜都凉了，难吃",
    "房间很脏，有霉味，失望",
    "做工粗糙，不值这个价",
    "物流太慢，等了一周",
    "包装破损，假货，差评",
    "垃圾产品，千万别买",
    "服务差劲，再也不会来了",
    "耳机有杂音，退货",
]


def tiny_corpus(copies: int = 3) -> tuple[list[str], list[int]]:
    texts = (POSITIVE + NEGATIVE) * copies
    labels = ([1] * len(POSITIVE) + [0] * len(NEGATIVE)) * copies
    return texts, labels


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return parse_settings({"sentiment": {"models_dir": str(tmp_path / "models")}}, db=tmp_path / "k.duckdb")


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    """The shipped default model (the triage tests read with it)."""
    return Scorer(load_model("builtin"))


@pytest.fixture(scope="module")
def tagger() -> AspectTagger:
    return AspectTagger()

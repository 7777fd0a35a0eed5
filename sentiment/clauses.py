"""The clause grammar aspects and triage share: where clauses end, which clause turns
the verdict, which asks a question and which asks for something.

Texts come here already simplified (sentiment.text.to_simplified) and, for triage,
lower-cased, so one set of patterns covers zh-CN, zh-TW and the English words of
mixed posts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Generic, TypeVar, overload

T = TypeVar("T")

CLAUSE = re.compile(r"[^，。！？；,.!?;~～\n…]+[，。！？；,.!?;~～\n…]*")
HAS_CLAUSE = re.compile(r"[^，。！？；,.!?;~～\n…\s]")  # a text with none of these has no clause
# 吗/么 end a question; 呢 does not ("等了三天还没到呢" is a complaint).
QUESTION = re.compile(r"[？?]|[吗么]\W*$|^\W*请问|是不是|会不会|能不能|有没有|是否|怎么回事")
# A question that complains rather than asks: 为什么没有辣椒？ 怎么就订单完成了？ 送的可乐呢？？
RHETORICAL = re.compile(
    r"为什么|凭什么|怎么这么|怎么会|怎么就|怎么还|怎么又|难道|这就是|所谓|到底|是什么意思|呢\W*[？?]|[？?]{2,}|[！!][？?]|[？?][！!]"
    r"|\bwhy\b|how come|this is what you call|you call this|is this what|is this your idea"
)
# A rhetorical question that holds up a standard the text fails: 这就是你们的服务？ 这也叫五星级？
# So this is what you call customer service? - sarcasm by its form ("这就是你们的新款吗？" asks).
SARCASTIC_QUESTION = re.compile(
    r"(?:这就是|这就叫|这也叫|这也算|这叫)[^，。！？；,.!?;]{0,10}"
    r"(?:服务|质量|水准|水平|五星|星级|旗舰|正品|品质|专业|态度|速度|效率|大牌|标准|售后|客服|品牌)[^，。！？；,.!?;]{0,4}(?:[？?]|[吗么]\W*$)"
    r"|(?:this is what you call|you call this|is this what you call|is this your idea of)[^.!?]{0,40}\?"
)
# A question that asks about a risk rather than reports it: 会不会过敏？ 是否漏电？
ASKING = re.compile(
    r"会不会|还是|请问|几时|何时|什么时候|多久|多少|哪里|哪儿|是否|有没有|能不能|可不可以|可以.{0,8}吗|能.{0,8}吗|适合"
    r"|\b(?:does|is|can|will|would)\b"
)
# A question that asks for information (请问, 怎么算, 多少, 可以...吗, how much), not one that exclaims
# ("墓地？", "僵尸饮料吗？").
ASKS_FOR_INFORMATION = re.compile(
    r"请问|怎么(?:算|用|办|弄|收费|退|改|联系|申请|操作)|多少|几[个天号点次岁月]|哪里|哪儿|哪个|什么时候|如何|是否|有没有|能不能|可不可以"
    r"|可以.{0,8}[吗么]|能.{0,8}[吗么]|会不会|\bhow (?:do|does|can|much|many|long)\b|\b(?:what|when|where|which)\b"
    r"|\b(?:is|are) there\b|\bcan i\b|\bdo you\b"
)
REQUEST = re.compile(r"^\W*(?:请|麻烦|希望|建议|求求|求|拜托|能否|要是能|如果能|please\b|it would be nice)")
# A turn at the start of a clause carries the verdict of what follows it.
TURN = re.compile(
    r"^\W*(?:但是|但|可是|却|结果|然而|不过|可惜|遗憾的是|没想到|谁知|后来|but\b|however\b|yet\b|shame\b|pity\b"
    r"|sadly\b|unfortunately\b)"
)
# A caveat turns too, for triage's reading of the whole text ("味道不错，就是送了一个半小时");
# aspects leave it out: what follows 就是 is mostly about something else ("服务还可以，就是设施太旧").
# Inside a clause 就是 is a copula, so it counts only at the start.
CAVEAT = re.compile(r"^\W*(?:就是|只是|好在|幸好)")
# A turn inside a clause starts a new one: "充电很快但是一充电就烫".
TURN_INSIDE = re.compile(
    r"(?<=[^，。！？；,.!?;~～\n…])(?=但是|可是|(?<![有的没])结果|然而|不过|没想到|(?<![不非])但(?![凡愿])| but | yet )"
)
# Whole-text tests that spare the per-clause ones: a text none of these match has no clause that
# asks, requests or turns. Words that count only at a clause's start are looked for only there.
_START = r"(?:^|[，。！？；,.!?;~～\n…])\W*"
ASKS_ANYWHERE = re.compile(
    r"[？?]|[吗么]\W*(?:[，。！？；,.!?;~～\n…]|$)|是不是|会不会|能不能|有没有|是否|怎么回事"
    rf"|{_START}(?:请|麻烦|希望|建议|求|拜托|能否|要是能|如果能|please|it would be nice)"
)
_INSIDE = r"但|可是|结果|然而|不过|没想到| but | yet "
TURNS_ANYWHERE = re.compile(
    rf"{_INSIDE}|{_START}(?:却|可惜|遗憾的是|谁知|后来|就是|只是|好在|幸好|but|however|yet|shame|pity|sadly|unfortunately"
    r"|虽|尽管|although|though)"  # a concession turns at the next clause (Parsed.turn)
)
# The words either pattern needs, as one alternation of literals: re skips by their first characters,
# which the patterns above (a class or a clause start first) do not let it do; most texts hold none.
_ASK_CUES = re.compile(
    "|".join(
        map(
            re.escape,
            "？ ? 吗 么 是不是 会不会 能不能 有没有 是否 怎么回事 请 麻烦 希望 建议 求 拜托 能否 要是能 如果能 please".split(),
        )
    )
    + "|it would be nice"
)
_TURN_CUES = re.compile(
    "|".join(
        "但 可是 结果 然而 不过 没想到 but yet 却 可惜 遗憾的是 谁知 后来 就是 只是 好在 幸好 however shame pity sadly"
        " unfortunately 虽 尽管 although though".split()
    )
)


def asks_anywhere(text: str) -> bool:
    """Whether any clause of the text may ask or request (ASKS_ANYWHERE)."""
    return bool(_ASK_CUES.search(text)) and bool(ASKS_ANYWHERE.search(text))


def turns_anywhere(text: str) -> bool:
    """Whether any clause of the text may turn (TURNS_ANYWHERE)."""
    return bool(_TURN_CUES.search(text)) and bool(TURNS_ANYWHERE.search(text))


_INSIDE_ANYWHERE = re.compile(_INSIDE)
# A clause that concedes: what it says is outweighed by the turn after it.
# A start in time that the turn after it overrides ("一开始不太习惯，后来越用越喜欢").
AT_FIRST = re.compile(r"^\W*(?:一开始|刚开始|开始的时候|起初|最初|本来|原本|at first\b|initially\b)")
CONCESSION = re.compile(r"^\W*(?:虽然|虽说|虽|尽管|即使|就算|本来|原本|本以为|一开始|although|though|even though)")


def split(text: str) -> list[str]:
    """The clauses of a text, a turn inside a clause starting a new one."""
    if _INSIDE_ANYWHERE.search(text):
        text = TURN_INSIDE.sub("，", text)
    return [c for c in CLAUSE.findall(text) if c.strip()]


class once(Generic[T]):  # noqa: N801 - used as a decorator, like functools.cached_property
    """A property worked out on first use and kept in the instance. functools.cached_property
    does the same but takes a lock on every first use (Python 3.11), which costs more than
    the clause checks it would cache."""

    def __init__(self, compute: Callable[[Any], T]) -> None:
        self.compute = compute
        self.name = compute.__name__
        self.__doc__ = compute.__doc__

    @overload
    def __get__(self, instance: None, owner: type | None = None) -> once[T]: ...
    @overload
    def __get__(self, instance: object, owner: type | None = None) -> T: ...
    def __get__(self, instance: object | None, owner: type | None = None) -> T | once[T]:
        if instance is None:
            return self
        value = instance.__dict__[self.name] = self.compute(instance)
        return value


class Asking:
    """A clause's text, and whether it asks a question or a request: worked out on first use,
    as most texts need neither (aspects and triage's reading build on this)."""

    def __init__(self, text: str) -> None:
        self.text = text

    @once
    def question(self) -> bool:
        return bool(QUESTION.search(self.text))

    @once
    def request(self) -> bool:
        return bool(REQUEST.search(self.text))

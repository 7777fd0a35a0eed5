"""The clause grammar aspects and triage share: where clauses end, which clause turns
the verdict, which asks a question and which asks for something.

Texts come here already simplified (sentiment.text.to_simplified) and, for triage,
lower-cased, so one set of patterns covers zh-CN, zh-TW and the English words of
mixed posts.
"""

from __future__ import annotations

import re

CLAUSE = re.compile(r"[^，。！？；,.!?;~～\n…]+[，。！？；,.!?;~～\n…]*")
# 吗/么 end a question; 呢 does not ("等了三天还没到呢" is a complaint).
QUESTION = re.compile(r"[？?]|[吗么]\W*$|^\W*请问|是不是|会不会|能不能|有没有|是否|怎么回事")
# A question that complains rather than asks: 为什么没有辣椒？ 怎么就订单完成了？ 送的可乐呢？？
RHETORICAL = re.compile(
    r"为什么|凭什么|怎么这么|怎么会|怎么就|怎么还|怎么又|难道|这就是|所谓|到底|是什么意思|呢\W*[？?]|[？?]{2,}|[！!][？?]|[？?][！!]"
    r"|\bwhy\b|how come"
)
# A question that asks about a risk rather than reports it: 会不会过敏？ 是否漏电？
ASKING = re.compile(r"会不会|是否|有没有|能不能|可不可以|可以.{0,8}吗|能.{0,8}吗|适合|\b(?:does|is|can|will|would)\b")
REQUEST = re.compile(r"^\W*(?:请|麻烦|希望|建议|求求|求|拜托|能否|要是能|如果能|please\b|it would be nice)")
# A turn at the start of a clause carries the verdict of what follows it. 就是 turns
# only at the start ("味道不错，就是送了一个半小时"); inside a clause it is a copula.
TURN = re.compile(r"^\W*(?:但是|但|可是|却|结果|然而|不过|可惜|没想到|谁知|就是|只是|好在|幸好|还好|but\b|however\b)")
# A turn inside a clause starts a new one: "充电很快但是一充电就烫".
TURN_INSIDE = re.compile(
    r"(?<=[^，。！？；,.!?;~～\n…])(?=但是|可是|(?<![有的没])结果|然而|不过|没想到|(?<![不非])但(?![凡愿])| but )"
)
# A clause that concedes: what it says is outweighed by the turn after it.
CONCESSION = re.compile(r"^\W*(?:虽然|虽说|虽|尽管|即使|就算|本来|原本|本以为|一开始|although|though|even though)")


def split(text: str) -> list[str]:
    """The clauses of a text, a turn inside a clause starting a new one."""
    return [c for c in CLAUSE.findall(TURN_INSIDE.sub("，", text)) if c.strip()]

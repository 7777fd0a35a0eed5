"""Triage: urgency tier 1-5, complaint motive, the rule that decided, a reply.

Tiers and motives follow DOMAIN.md. The escalation words are data
(sentiment/lexicons/triage.tsv: per tier, kind, language and scope, with the
reason the duty manager sees). Each match is read in its clause: a negation
(没有, 不会, never ...), a hypothetical or other-product frame (担心, 以前用别家的),
a praise frame (the clause praises, in a positive mention) or a question in
the same clause cancels it; a cue-scoped word (经理, 报道, 律师, and every tier
3-4 word) escalates only with a complaint cue (the reading is negative, or a
cue word occurs) - or, for a harm word (去医院, 发烧), when the mention tells it
as a story after the product was used and no cure follows: harm is a complaint
whatever the tone. The rules, in order:
  tier 5  a red-alert signal: harm to a person, a fire/shock/choking hazard,
          a foreign object or spoiled food, a legal step, a regulator, the press,
          many people affected - whatever the reach (reach orders the queue);
  tier 4  a repeated failure or a demand for a senior decision in a complaint;
          or a complaint with reach >= 1000;
  tier 3  a complaint where the customer is losing money or time now;
  tier 2  any other complaint, and a question;
  tier 1  praise, suggestions, statements.
"Complaint" is triage's own reading of the text (sentiment/reading.py:
clause-aware, sarcasm, negated praise), which wins over the model's label.
Motive: the first of 补偿, 尊重, 建议 whose words occur outside the praising
clauses, else 发泄 (a complaint) or none. Words of motives and replies live in
sentiment/lexicons/{motives,replies}.tsv.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from sentiment.reading import Clause, Reading, averted, even_fine, read, reading_lexicon
from sentiment.signals import HARM_KINDS, THREAT_KINDS, Found, Signal, Words, escalation_lexicon

RED, CRITICAL, URGENT = 5, 4, 3
VENT = "发泄"
REACH_STEPS = (50, 1000)
_ZH_GAP = 2  # characters allowed between a Chinese negator and the word it cancels (不怕孩子触电)
# A word joined to the item before it ("没有长痘痘或过敏"): that item, negated, this far back.
_JOINED = re.compile(r"(?:或者?|和|与|、|以及|也没有?|也不|(?<![a-z])(?:or|nor|and)\s)\s*$")
_LIST_ITEM = 8
_RUN_ITEM = 4  # characters of a negated complaint word right before the word it carries its negation to
# A comparison whose standard is the word: 比 a few characters before it and 还/更 right after it, or "than".
_COMPARED_WITH = re.compile(r"比[^，。！？；,.!?;]{0,4}$")
_COMPARISON_ADVERBS = frozenset("还更都要")
_PROTECTION = "防"
# After a harm word in its clause: the harm is why the customer chose (so, 所以 ...), a past reason.
_BECAUSE_OF_IT = re.compile(r"所以|因此|于是|才(?:选|买|挑)|(?<![a-z])so (?:i|we)\b|that's why")
# Before a harm word in its clause: a condition the customer had before the product (冬天脸颊常常干到脱皮),
# not one it caused (用了之后经常头痛).
_CHRONIC = re.compile(r"^(?:(?!用了|吃了|之后|以后|后来).)*(?:常常|经常|总是|一直|从小|小时候|以前|之前|曾经)")
# Right before a legal or media word: it names what someone is (朋友是律师, as a journalist), not a step taken.
_OCCUPATION = re.compile(r"(?:是|当|做)(?:一名|一个|个|名)?$|(?<![a-z])(?:i'm|i am|is|as) an? $")
_THAN = re.compile(r"(?<![a-z])than (?:my |a |an |the |any |your )?$")
# Kinds a hypothetical frame does not cancel: the condition is the threat ("如果再不退款就起诉", "if nobody
# senior answers by Friday I'll be posting this on every review site").
_CONDITIONAL_THREATS = (*THREAT_KINDS, "publicise")
# How a deed is done, between a negator and the word it negates: "也不会偷偷自动续费".
_MANNER = re.compile(r"(?:偷偷摸摸|偷偷|私自|擅自|随意|随便|莫名其妙|莫名|乱)地?$")
_FEATURE_REACH = 10  # characters after a word in which a feature word makes it a feature's name
_RATE_GAP = 3  # characters between a rate (一天) and the repeat it measures (跳十几次)
# The praise-guard classes of triage.tsv (rows "-" of these kinds; see its comments).
GUARD_KINDS = ("person", "feature", "rate", "intent", "works", "settled", "place", "approves")
_WORKPLACE_REACH = 4  # characters after an authority word in which 上班/工作 make it a workplace (市场监管局上班)
_PLACE_GAP = 1  # characters between "next to the" and the authority it places ("next to the police station")
_WORKPLACE_GAP = 5  # characters between "works at" and the authority it names ("works at the fda")


def _lines(name: str) -> list[list[str]]:
    text = resources.files("sentiment").joinpath(f"lexicons/{name}").read_text(encoding="utf-8")
    return [line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")]


@lru_cache(maxsize=1)
def _guards() -> dict[str, Words]:
    """triage.tsv's praise-guard word classes (person, feature, rate, intent, works, settled, place), Chinese and English."""
    words: dict[str, list[str]] = {kind: [] for kind in GUARD_KINDS}
    for tier, kind, _lang, _scope, _reason, field in _lines("triage.tsv"):
        if tier == "-" and kind in words:
            words[kind].extend(w.strip().lower() for w in field.split(",") if w.strip())
    return {kind: Words(found) for kind, found in words.items()}


def _alternation(words: list[str]) -> re.Pattern[str]:
    return re.compile("|".join(map(re.escape, sorted(words, key=len, reverse=True))))


def signals(reading: Reading, base_negative: bool) -> list[Signal]:
    """The escalation words of a text that count, in the order they occur."""
    lexicon = escalation_lexicon()
    if not lexicon.words.search(reading.text):
        return []
    threat = lexicon.cues.search(reading.text)
    complaint = base_negative or reading.opener or threat
    turned = None if complaint else _turns_to_complaint(reading)
    found: list[Signal] = []
    clauses = reading.clauses
    saved = averted(reading.parsed)  # a harm or loss undone, or one that hurt nobody, told with praise
    for index, clause in enumerate(clauses):
        for word in lexicon.find(clause.text):
            rule = word.rule
            if rule is None:
                continue
            harm_after_turn = turned is not None and turned <= index and rule.kind in HARM_KINDS
            if not (_in_scope(rule.scope, complaint or harm_after_turn, threat, reading.polarity)) and not (
                (rule.scope == "loss" and _unresolved(reading, index)) or _told_as_story(reading, index, word)
            ):
                continue
            if rule.scope == "report" and _praising(reading):
                continue  # coverage that praises: "the local news did a segment on this bakery"
            if rule.scope == "loss" and _recovered(clause.text[: word.start]):
                continue  # "物业帮我找回了丢失的快递": the loss is told as found
            if rule.scope == "own" and not (clause.complaint < 0 or lexicon.contacts.search(clause.text)):
                continue  # "第三次入住" repeats a stay, "第三次反映" a failure
            if _cancelled(clause, word, reading.polarity == "pos") or _handled(reading, index, word):
                continue
            if saved is not None and index <= saved[0] and (rule.kind in HARM_KINDS or rule.tier == URGENT):
                continue  # "信用卡被盗刷，银行第二天就全额退回了，服务真好": the risk averted, praised
            if _in_passing(reading, index, word) or _background(reading, index, word):
                continue
            found.append(Signal(rule, word.word))
    return found


def _in_passing(reading: Reading, index: int, word: Found) -> bool:
    """A risk word told as background in praise: the mention reads as praise, another clause
    praises, the word's clause judges nothing else, and the word is someone's occupation
    ("朋友是记者，推荐的这家店，菜很好吃"), a harm given as the reason for a choice ("被烫伤过一次所以
    特别挑热水壶，这款防烫设计很贴心") or a condition the customer had before ("冬天脸颊常常干到脱皮，
    朋友推荐了这款……会继续买"). A harm or a step told otherwise ("充电宝冒烟了，幸好客服很好"), or in a
    mention read as a complaint, still counts."""
    if reading.polarity != "pos" or len(reading.clauses) < 2 or word.rule is None:
        return False
    clause = reading.clauses[index]
    before = clause.text[: word.start]
    if word.rule.kind in THREAT_KINDS:
        if not _OCCUPATION.search(before):
            return False  # a legal step taken is no background: "律师函已经发了，不过客服态度还行"
    elif not (_BECAUSE_OF_IT.search(clause.text, word.end) or _CHRONIC.search(before)):
        return False
    if reading_lexicon().figures(before + "，" + clause.text[word.end :]).hits:
        return False
    return any(c.figures.praise > 0 for i, c in enumerate(reading.clauses) if i != index)


def _background(reading: Reading, index: int, word: Found) -> bool:
    """A risk word that reports no event, whatever the reading: it names a person (当消保官的朋友, a
    journalist colleague), a feature (加个一键冻结卡片的功能), a rate (一天跳十几次: how often, not a failure
    repeated), or a step the customer meant to take and did not, a remedy or praise following with no
    complaint (本来都准备打12315了，结果当天就给换了新的，服务点赞)."""
    rule, clause, guards = word.rule, reading.clauses[index], _guards()
    if rule is None:
        return False
    after = clause.text[word.end :]
    before = clause.text[: word.start]
    if rule.kind in THREAT_KINDS and (names_a_person(after) or _workplace(before, after) or _landmark(before, after)):
        return True
    if guards["feature"].search(after[:_FEATURE_REACH]):
        return True
    if rule.kind == "repeated" and _rate(clause.text[: word.start], after):
        return True
    return rule.kind in THREAT_KINDS and _abandoned(reading, index, word)


def names_a_person(after: str) -> bool:
    """Whether the text right after an authority word makes it name someone: 消保官的朋友, a journalist colleague."""
    return _guards()["person"].at(after.lstrip(" 的"), 0)


def _workplace(before: str, after: str) -> bool:
    """An authority named as where someone works: 我妹妹在市场监管局上班, "my cousin works at the FDA"."""
    works = _guards()["works"]
    return works.search(after[:_WORKPLACE_REACH]) or any(
        len(before) - m.end() <= _WORKPLACE_GAP for m, _ in works.matches(before)
    )


def approves(after: str) -> bool:
    """Whether the text right after a doctor or a hospital approves: 医生也说可以用, dermatologist-approved."""
    return _guards()["approves"].at(after.lstrip(), 0)


def _landmark(before: str, after: str) -> bool:
    """An authority named as where the venue is: 就在派出所对面, "right next to the police station"."""
    places = _guards()["place"]
    if places.at(after.lstrip(" 的"), 0):
        return True
    return any(len(before.rstrip()) - m.end() <= _PLACE_GAP for m, _ in places.matches(before))


def _rate(before: str, after: str) -> bool:
    """A repeat measured per unit of time: "一天跳十几次", "ten times a day"."""
    rates = _guards()["rate"]
    if rates.at(after.lstrip(), 0):
        return True
    return any(len(before) - m.end() <= _RATE_GAP for m, _ in rates.matches(before))


def _abandoned(reading: Reading, index: int, word: Found) -> bool:
    """A legal, regulator or media step meant (本来, 差点, was about to) before the word in its clause,
    and after it a settlement (退了款, refunded) or praise with nothing that complains: the step was not taken."""
    if not _guards()["intent"].search(reading.clauses[index].text[: word.start]):
        return False
    rest = [c.text for c in reading.clauses[index + 1 :]]
    if not rest or any(reading_lexicon().figures(part).complaint > 0 for part in rest):
        return False
    settled = _guards()["settled"]
    return any(settled.search(part) for part in rest) or any(c.figures.praise > 0 for c in reading.clauses[index + 1 :])


def _handled(reading: Reading, index: int, word: Found) -> bool:
    """A harm in a mention triage reads as praise, followed by a remedy (马上, handled) and no
    complaint after it: an incident handled well ("孩子在飞机上流鼻血，空姐马上拿来冰袋，特别暖心")."""
    if reading.polarity != "pos" or word.rule is None or word.rule.kind not in HARM_KINDS:
        return False
    lexicon = escalation_lexicon()
    rest = [reading.clauses[index].text[word.end :], *(c.text for c in reading.clauses[index + 1 :])]
    if not any(lexicon.remedies.search(part) for part in rest):
        return False
    return all(reading_lexicon().figures(part).complaint == 0 for part in rest)


def _recovered(before: str) -> bool:
    """A remedy before a loss word in its clause, not negated ("帮我找回了丢失的快递"; not "没帮我找回丢失的行李")."""
    found = escalation_lexicon().remedies.matches(before)
    return bool(found) and not reading_lexicon().has_negator.search(before)


def _told_as_story(reading: Reading, index: int, word: Found) -> bool:
    """A harm word that needs a complaint (a medical visit, an illness: 去医院, 发烧, hospital) in a
    mention that tells what the product did without complaining: the product used, eaten or worn
    before it ("孩子用了两天这款面霜……带他去社区医院开了点药膏") and no cure after it ("打疫苗发烧，用了这个
    退热贴很快就退了" praises the patch). Harm is a complaint whatever the tone."""
    if word.rule is None or word.rule.scope != "cue" or word.rule.kind not in HARM_KINDS:
        return False
    lexicon = escalation_lexicon()
    clauses = reading.clauses
    before = "，".join([*(c.text for c in clauses[:index]), clauses[index].text[: word.start]])
    after = "，".join([clauses[index].text[word.end :], *(c.text for c in clauses[index + 1 :])])
    return bool(lexicon.causes.search(before)) and not lexicon.cures.search(after)


def _praising(reading: Reading) -> bool:
    """Whether the mention reads as praise and nothing in it complains."""
    return reading.polarity == "pos" and reading.parsed.figures.complaint == 0


def _turns_to_complaint(reading: Reading) -> int | None:
    """The turn of a long text whose clauses from the last turn on complain (harm words count):
    "本来挺期待这个婴儿床……结果护栏松了，孩子的胳膊卡在缝里，带去医院检查". Harm words after it get the
    complaint they need; the reading stays the model's, and no other word escalates (long reviews
    that praise mention flaws in passing: measured on 20,000 benchmark texts)."""
    parsed = reading.parsed
    if parsed.short or parsed.turn is None:
        return None
    after = parsed.clauses[parsed.turn :]
    if any(c.figures.praise > 0 for c in after):  # "……结果大堂经理很热情，推荐大家": praise after the turn
        return None
    return parsed.turn if sum(c.complaint for c in after) < 0 else None


def _unresolved(reading: Reading, index: int) -> bool:
    """A loss in a short text that no praise follows: a complaint whatever the model's label
    ("charged twice for the same order"; "staff were lovely, yet the garage kept my car 9 days";
    "这补习班真厉害，学费还一分不退"). Praise after the loss is a remedy ("行李丢了，第二天就送到家，
    点赞"). Long texts keep the model's label (SHORT_UNITS): a long review that praises mentions
    losses in passing ("小套房宽敞舒适……停车过夜要收费")."""
    return reading.parsed.short and not any(c.score > 0 for c in reading.clauses[index:])


def _in_scope(scope: str, complaint: bool, threat: bool, polarity: str) -> bool:
    """Whether the mention gives a word of this scope the cue it needs (triage.tsv)."""
    if scope in ("clause", "report"):
        return True
    if scope == "loss":
        return polarity != "pos" or complaint  # else only when unresolved
    if scope == "threat":
        return threat
    return complaint  # cue, own


def _cancelled(clause: Clause, word: Found, praise: bool) -> bool:
    """A negation, frame, question or praise around the word in its clause."""
    lexicon = escalation_lexicon()
    before = clause.text[: word.start]
    negatable = _MANNER.sub("", before)  # "也不会偷偷自动续费": the manner sits between negator and word
    if reading_lexicon().negated_at_end(negatable, _ZH_GAP) or lexicon.negated_en.search(before):
        return True
    if _negated_list(before) or (word.rule is not None and word.rule.kind in HARM_KINDS and negated_run(negatable)):
        return True
    if before.endswith(_PROTECTION):  # a feature that prevents the harm: 防漏电设计, 防过敏配方
        return True
    even = even_fine(clause.text)
    if even and even.start() <= word.start < even.end():  # 连我这种一吃辣就拉肚子的人都能吃: a trait
        return True
    after = word.end + (clause.text[word.end : word.end + 1] == "的")  # 消费者协会的比较试验
    hypothetical = lexicon.frames.search(before) and not (word.rule and word.rule.kind in _CONDITIONAL_THREATS)
    framed_after = lexicon.frames_after.at(clause.text, word.end) or lexicon.frames_after.at(clause.text, after)
    if hypothetical or framed_after or _compared(clause.text, before, word.end):  # 过敏的话: a condition
        return True
    if lexicon.elsewhere.search(clause.text):
        return True
    if clause.question and not clause.rhetorical:
        return True
    if not (praise and clause.figures.praise > 0):
        return False
    # The praise must come from words outside the signal (not "better" in Better Business Bureau).
    return reading_lexicon().figures(clause.text[: word.start] + "，" + clause.text[word.end :]).praise > 0


def _compared(text: str, before: str, end: int) -> bool:
    """The word is the standard of a comparison that praises someone else: "比消保官还认真", "比医院还专业",
    "more thorough than my lawyer" (no event happened to anyone)."""
    if _THAN.search(before):
        return True
    return bool(_COMPARED_WITH.search(before)) and text[end : end + 1] in _COMPARISON_ADVERBS


def negated_run(before: str) -> bool:
    """The word follows a negated complaint word with nothing between: "从来没有发烫冒烟过", "没有红肿发痒"
    (the negation reaches the run of words it starts)."""
    lexicon = reading_lexicon()
    for length in range(1, _RUN_ITEM + 1):
        head, tail = before[:-length], before[-length:]
        if len(tail) == length and lexicon.figures(tail).complaint < 0 and lexicon.negated_at_end(head, _ZH_GAP):
            return True
    return False


def _negated_list(before: str) -> bool:
    """The word is the next item of a negated list: "完全沒有長痘痘或過敏", "没有红肿和刺痛" (the
    negation of the first item reaches the ones joined to it)."""
    joined = _JOINED.search(before)
    if not joined:
        return False
    figures = reading_lexicon().figures(before[max(0, joined.start() - _LIST_ITEM) : joined.start()])
    return figures.relief > 0 and figures.complaint == 0


@lru_cache(maxsize=1)
def _motives() -> list[tuple[str, re.Pattern[str]]]:
    return [
        (motive, _alternation([w.strip() for w in words.split(",") if w.strip()]))
        for motive, words in _lines("motives.tsv")
    ]


@lru_cache(maxsize=1)
def _replies() -> dict[str, str]:
    return {key: reply for key, reply in _lines("replies.tsv")}


@dataclass(frozen=True)
class Triage:
    urgency: int
    motive: str  # 发泄 | 尊重 | 补偿 | 建议, or "" for praise
    reason: str
    reply: str
    reading: str = ""  # triage's own polarity (pos | neu | neg); wins over the model's label for the tier
    signals: tuple[str, ...] = ()  # the escalation words that counted (the learned layer's features)


def red_reply() -> str:
    return _replies()["tier5"]


def reach_bonus(reach: int) -> int:
    return sum(reach >= step for step in REACH_STEPS)


def _reply(motive: str, aspects: Mapping[str, str], tier5: bool) -> str:
    replies = _replies()
    if tier5:
        return replies["tier5"]
    if not motive:
        return replies["praise"]
    ordered = sorted(aspects, key=lambda a: aspects[a] != "neg")  # negative aspects first
    for aspect in ordered:
        if f"{motive}:{aspect}" in replies:
            return replies[f"{motive}:{aspect}"]
    if ordered and f"{motive}:*" in replies:
        return replies[f"{motive}:*"].replace("{aspect}", ordered[0])
    return replies[motive]


def _tier(signals: list[Signal], negative: bool, question: bool, reach: int) -> tuple[int, str]:
    """The tier and why, from the signals that count and the reading."""
    for tier in (RED, CRITICAL, URGENT):
        hits = [s for s in signals if s.rule.tier == tier]
        if hits:
            return tier, "; ".join(dict.fromkeys(s.describe() for s in hits))
        if tier == CRITICAL and negative and reach_bonus(reach) >= 2:
            return CRITICAL, f"complaint with reach {reach}"
    if negative:
        return 2, "complaint, no urgent signal"
    if question:
        return 2, "question"
    return 1, "no complaint"


def _motive(reading: Reading, negative: bool) -> tuple[str, str]:
    """The first motive whose words occur outside the clauses that praise."""
    for name, pattern in _motives():
        if not (negative or name == "建议"):
            continue
        for match in pattern.finditer(reading.text):
            clause = reading.parsed.clause_at(match.start())
            if clause.request or clause.score <= 0:
                return name, f"motive {name}: {match.group()}"
    if negative:
        return VENT, f"motive {VENT}: no remedy, respect or suggestion words"
    return "", ""


def triage(
    text: str, label: str, reach: int = 0, aspects: Mapping[str, str] | None = None, reading: Reading | None = None
) -> Triage:
    """Triage one mention. `label` is the model's; `reading` is sentiment.reading.read's
    (computed here when not given)."""
    reading = reading or read(text, label)
    base_negative = reading.polarity == "neg"
    found = signals(reading, base_negative)
    negative = base_negative or bool(found)  # an escalation signal that counts is a complaint
    question = reading.asks and any(c.question for c in reading.clauses)
    tier, why = _tier(found, negative, question, reach)
    polarity = "neg" if negative else reading.polarity
    motive, motive_why = _motive(reading, negative)
    parts = [f"tier {tier}: {why}", f"reach {reach}", f"reading {polarity} ({reading.why})"]
    if label != polarity:
        parts.append(f"model {label}")
    if motive_why:
        parts.append(motive_why)
    return Triage(
        urgency=tier,
        motive=motive,
        reason="; ".join(parts),
        reply=_reply(motive, aspects or {}, tier == RED),
        reading=polarity,
        signals=tuple(s.word for s in found),
    )

"""Buyers' opinions on style, size, colour and quality (AFT-8, 000 §售后 4): a Chinese keyword lexicon.

How a text is read:
1. It is cut into clauses at punctuation and line breaks (the clause is the quote shown).
2. In each clause the lexicon terms are found longest first; a found span is not matched again
   ("没有色差" is one positive term, so "色差" inside it does not count as negative).
3. A negator right before a term (不, 不太, 不是很, 不怎么, 没, 没有, 无, 并不, 不会, 一点也不,
   一点都不) flips its
   polarity: "不合身" → size negative, "不掉色" → colour positive.
4. Each (text, aspect) counts once, with the polarity of its first term: a buyer saying
   "开线了，还有线头" is one quality complaint.

The lexicon is plain data below so a shop's own words can be added in one place.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .enums import Aspect, Polarity

P, N = Polarity.POSITIVE, Polarity.NEGATIVE
ST, SZ, CO, QU = Aspect.STYLE, Aspect.SIZE, Aspect.COLOUR, Aspect.QUALITY

# term → (aspect, polarity)
LEXICON: dict[str, tuple[str, str]] = {
    # 尺码 size
    "偏大": (SZ, N), "偏小": (SZ, N), "太大": (SZ, N), "太小": (SZ, N), "大了": (SZ, N), "小了": (SZ, N),
    "大一码": (SZ, N), "小一码": (SZ, N), "码数不准": (SZ, N), "尺码不准": (SZ, N), "尺码不对": (SZ, N),
    "太紧": (SZ, N), "太松": (SZ, N), "偏紧": (SZ, N), "偏松": (SZ, N), "勒": (SZ, N), "太长": (SZ, N),
    "太短": (SZ, N), "偏长": (SZ, N), "偏短": (SZ, N), "穿不上": (SZ, N), "不合身": (SZ, N),
    "合身": (SZ, P), "尺码标准": (SZ, P), "尺码合适": (SZ, P), "尺码正": (SZ, P), "码数正": (SZ, P),
    "大小合适": (SZ, P), "大小正好": (SZ, P), "刚刚好": (SZ, P), "正好": (SZ, P),
    # 颜色 colour
    "掉色": (CO, N), "褪色": (CO, N), "色差": (CO, N), "染色": (CO, N), "串色": (CO, N), "发黄": (CO, N),
    "颜色不一样": (CO, N), "颜色不对": (CO, N), "颜色太暗": (CO, N), "颜色难看": (CO, N), "颜色发暗": (CO, N),
    "没有色差": (CO, P), "无色差": (CO, P), "颜色好看": (CO, P), "颜色很正": (CO, P), "颜色正": (CO, P),
    "颜色漂亮": (CO, P), "颜色和图片一样": (CO, P), "颜色和图片不一样": (CO, N),
    # 款式 style
    "版型不好": (ST, N), "版型差": (ST, N), "款式难看": (ST, N), "款式过时": (ST, N), "款式老气": (ST, N),
    "显胖": (ST, N), "难看": (ST, N), "土气": (ST, N), "设计不合理": (ST, N), "和图片不一样": (ST, N),
    "版型好": (ST, P), "版型很好": (ST, P), "版型不错": (ST, P), "版型正": (ST, P), "款式好看": (ST, P), "款式新颖": (ST, P),
    "显瘦": (ST, P), "好看": (ST, P), "洋气": (ST, P), "百搭": (ST, P), "时尚": (ST, P),
    # 质量 quality
    "开线": (QU, N), "脱线": (QU, N), "起球": (QU, N), "破洞": (QU, N), "线头": (QU, N), "掉毛": (QU, N),
    "起皮": (QU, N), "瑕疵": (QU, N), "污渍": (QU, N), "异味": (QU, N), "有味道": (QU, N), "质量差": (QU, N),
    "质量不好": (QU, N), "做工差": (QU, N), "做工粗糙": (QU, N), "断了": (QU, N), "坏了": (QU, N),
    "过敏": (QU, N), "扎人": (QU, N), "缩水": (QU, N), "变形": (QU, N),
    "质量好": (QU, P), "质量不错": (QU, P), "做工好": (QU, P), "做工精细": (QU, P), "面料舒服": (QU, P),
    "面料好": (QU, P), "手感好": (QU, P),
}
# Longest first, so "一点也不" wins over "不".
NEGATORS = ("一点也不", "一点都不", "不是很", "不怎么", "没有", "并不", "不会", "不太", "不", "没", "无")
# Terms that already carry their negation must not be flipped again.
_SELF_NEGATED = NEGATORS
_TERMS = sorted(LEXICON, key=len, reverse=True)
_CLAUSE = re.compile(r"[，,。.!！?？;；~～\n\r]+")
QUOTE_MAX = 60
EXAMPLES_MAX = 3


@dataclass(frozen=True)
class Mention:
    aspect: str
    polarity: str
    term: str
    quote: str


def clauses(text: str) -> list[str]:
    return [c.strip() for c in _CLAUSE.split(text or "") if c.strip()]


def _negated(clause: str, start: int) -> bool:
    before = clause[max(0, start - 4):start]
    return any(before.endswith(n) for n in NEGATORS)


def classify(text: str) -> list[Mention]:
    """Aspect mentions of one text, in reading order; one per aspect."""
    out = []
    seen = set()
    for clause in clauses(text):
        taken = [False] * len(clause)
        found: list[tuple[int, str]] = []
        for term in _TERMS:
            for m in re.finditer(re.escape(term), clause):
                s, e = m.start(), m.end()
                if any(taken[s:e]):
                    continue
                taken[s:e] = [True] * (e - s)
                found.append((s, term))
        for start, term in sorted(found):
            aspect, polarity = (str(v) for v in LEXICON[term])
            if aspect in seen:
                continue
            seen.add(aspect)
            if not term.startswith(_SELF_NEGATED) and _negated(clause, start):
                polarity = str(P if polarity == N else N)
            out.append(Mention(aspect, polarity, term, clause[:QUOTE_MAX]))
    return out


@dataclass
class AspectSummary:
    aspect: str
    label: str
    positive: int = 0
    negative: int = 0
    examples: list[dict] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.positive + self.negative


def summarise(texts: Iterable[tuple[str, str]]) -> list[AspectSummary]:
    """Counts and up to EXAMPLES_MAX quotes per aspect over (source, text) pairs; negative quotes first
    because they are what the factory needs to hear."""
    by = {a: AspectSummary(a, str(Aspect(a).label)) for a in Aspect.values}
    quotes: dict[str, list[dict]] = {a: [] for a in Aspect.values}
    for source, text in texts:
        for m in classify(text):
            s = by[m.aspect]
            if m.polarity == P:
                s.positive += 1
            else:
                s.negative += 1
            quotes[m.aspect].append({"polarity": m.polarity, "term": m.term, "quote": m.quote, "source": source})
    for a, s in by.items():
        ordered = [q for q in quotes[a] if q["polarity"] == N] + [q for q in quotes[a] if q["polarity"] == P]
        unique, seen = [], set()
        for q in ordered:
            if q["quote"] not in seen:
                seen.add(q["quote"])
                unique.append(q)
        s.examples = unique[:EXAMPLES_MAX]
    return list(by.values())

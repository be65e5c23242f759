"""A transparent Chinese negativity scorer for reviews and buyer messages (AUTO-3 prioritising).

No model file and no word segmenter: the text is scanned left to right for the longest entry of
a hand-written lexicon (words and short phrases, i.e. character n-grams). Each hit adds its
weight to the negative or positive side; a negation (不/没/没有/别/无/未) just before a positive
term turns it negative, before a negative term it softens it; an intensifier (很/太/非常/超 …)
multiplies the next hit; the clause after a contrast word (但是/可是/不过 …) counts more, the
one before it less, since Chinese reviews put the verdict last ("东西还行，但是客服太差").

`score` > 0 leans negative. Anger is scored separately: threats (投诉/12315/举报/曝光/差评),
insults (骗子/垃圾), demands, and runs of ！/？ on top of a negative score.

Every result lists its hits, so a person can see why a review was put first.
"""

import re
from dataclasses import dataclass, field

# term → weight. Longer phrases win over the words inside them (longest match first).
NEGATIVE: dict[str, float] = {
    # verdicts and threats
    "差评": 3.0, "中评": 1.5, "给差评": 3.5, "投诉": 3.0, "举报": 3.0, "曝光": 2.5, "12315": 4.0,
    "工商": 2.0, "消协": 3.0, "退款": 1.2, "退货": 1.2, "退了": 1.0, "要求退": 1.5, "骗子": 4.0, "骗人": 3.5,
    "欺骗": 3.0, "忽悠": 2.5, "上当": 3.0, "被骗": 3.5, "坑人": 3.5, "坑爹": 3.0, "黑心": 3.5,
    "垃圾": 3.5, "破烂": 3.0, "烂": 2.0, "假货": 4.0, "假的": 3.0, "山寨": 3.0, "次品": 3.0, "残次": 3.0,
    "二手": 1.5, "翻新": 2.5,
    # disappointment
    "失望": 3.0, "后悔": 3.0, "郁闷": 2.5, "无语": 2.5, "坑": 1.5, "恶心": 3.0, "气死": 3.5, "生气": 2.5,
    "愤怒": 3.0, "上火": 2.0, "闹心": 2.5, "糟糕": 3.0, "糟心": 2.5, "悲剧": 2.5, "遗憾": 1.5, "可惜": 1.5,
    "不爽": 3.0, "窝火": 3.0, "晕": 1.5, "无奈": 2.0, "伤心": 2.0, "心塞": 2.5, "呵呵": 1.5,
    "再也不": 3.5, "再也不会": 4.0, "不会再": 3.0, "不再": 2.0, "别买": 4.0, "不要买": 4.0, "慎买": 3.5,
    "慎重": 1.5, "千万不要": 4.0, "大家注意": 2.0, "不推荐": 3.5, "不值": 3.0, "不值得": 3.0, "浪费": 2.5,
    "白花": 2.5, "冤枉": 2.5, "算了": 1.5,
    # quality and service words
    "差": 2.0, "太差": 3.5, "很差": 3.5, "极差": 4.0, "最差": 4.0, "超差": 4.0, "较差": 2.5, "差劲": 3.5,
    "一般": 1.2, "一般般": 1.8, "凑合": 1.5, "勉强": 1.5, "还行吧": 1.0, "马马虎虎": 1.5,
    "坏": 2.0, "坏了": 2.5, "坏的": 2.5, "烂了": 3.0, "破了": 2.5, "破损": 2.5, "碎了": 2.5, "漏": 1.5,
    "变质": 3.0, "发霉": 3.0, "过期": 3.0, "臭": 2.0, "异味": 2.0, "刺鼻": 2.0, "难吃": 3.0, "难喝": 3.0,
    "难看": 2.5, "难用": 3.0, "不好用": 3.0, "不能用": 3.0, "没法用": 3.0, "用不了": 2.5, "不能": 1.0,
    "故障": 2.5, "问题": 1.0, "毛病": 2.0, "缺点": 1.0, "不足": 1.0, "瑕疵": 2.0, "掉色": 2.0, "褪色": 2.0,
    "起球": 2.0, "开线": 2.0, "脱线": 2.0, "色差": 1.5, "偏小": 1.0, "偏大": 1.0, "太小": 1.5, "太大": 1.0,
    "不合适": 2.0, "不符": 2.5, "不一样": 1.5, "货不对板": 3.5, "描述不符": 3.5, "缺斤少两": 3.5, "少了": 1.5,
    "发错": 2.5, "漏发": 2.5, "少发": 2.5, "没收到": 2.5, "慢": 1.5, "太慢": 3.0, "很慢": 2.5, "超慢": 3.0,
    "龟速": 3.0, "好慢": 2.5, "等了": 1.0, "吵": 1.5, "脏": 2.0, "贵": 1.2, "太贵": 2.0, "小气": 2.0,
    "死机": 3.0, "卡顿": 2.5, "很卡": 2.5, "发热": 1.5, "发烫": 2.0, "黑屏": 2.5, "蓝屏": 2.5, "掉线": 2.0,
    "噪音": 2.0, "闪退": 2.5, "不稳定": 2.0, "敷衍": 3.0, "推脱": 2.5, "推卸": 2.5, "不理": 2.5,
    "不回": 2.0, "不回复": 2.5, "爱理不理": 3.5, "态度恶劣": 4.0, "态度差": 3.5, "态度不好": 3.5,
    "服务差": 3.5, "没人理": 3.0, "骂": 2.5, "凶": 2.0, "不耐烦": 3.0, "拖": 1.0, "拖延": 2.0,
    "不新鲜": 3.0, "不甜": 2.5, "酸": 1.0, "干巴": 2.0, "硬": 0.8, "扔了": 2.5, "丢了": 1.5, "头皮屑": 1.0,
    "过敏": 2.5, "痒": 1.5, "掉发": 1.5, "油腻": 1.5, "干涩": 1.5, "假冒": 4.0, "不正宗": 2.5,
    "什么玩意": 3.5, "什么破": 3.0, "破东西": 3.0, "不发货": 2.5, "还不发": 2.5, "给个说法": 2.5, "给我个说法": 3.0, "什么东西": 2.5, "搞什么": 3.0, "怎么回事": 2.0, "为什么": 0.8, "凭什么": 3.0,
    "太失望": 4.0, "不满": 3.0, "不满意": 3.5, "不行": 2.5, "不好": 2.5, "不太好": 2.0, "不怎么样": 3.0,
    "不咋地": 3.0, "不怎么": 1.5, "没有想象": 2.0, "不如": 1.5, "还不如": 2.5, "不像": 1.0, "居然": 1.5,
    "竟然": 1.5, "根本": 1.5, "根本不": 2.5, "完全不": 2.5, "一点也不": 2.5, "一点都不": 2.5, "简直": 1.5,
    "差点": 0.5, "没用": 2.0, "没效果": 3.0, "没什么效果": 2.5, "效果不": 2.0, "不明显": 1.5,
}

POSITIVE: dict[str, float] = {
    "好评": 3.0, "五星": 2.5, "满意": 2.5, "很满意": 3.0, "非常满意": 3.5, "推荐": 2.0, "强烈推荐": 3.5,
    "值得": 2.0, "值得购买": 3.0, "物超所值": 3.5, "超值": 2.5, "划算": 2.0, "实惠": 2.0, "便宜": 1.2,
    "性价比高": 2.5, "性价比": 0.8, "不错": 2.0, "挺好": 2.0, "很好": 2.0, "好": 0.8, "棒": 2.5, "赞": 2.0,
    "喜欢": 2.0, "漂亮": 2.0, "好看": 2.0, "舒服": 2.0, "舒适": 2.0, "合适": 1.5, "合身": 2.0, "正品": 2.0,
    "新鲜": 2.0, "好吃": 2.5, "好喝": 2.5, "甜": 1.2, "香": 1.0, "快": 1.0, "很快": 1.8, "及时": 1.5,
    "迅速": 1.8, "给力": 2.5, "完美": 3.0, "放心": 2.0, "耐心": 1.5, "热情": 1.8, "周到": 2.0, "贴心": 2.0,
    "细心": 1.5, "专业": 1.2, "方便": 1.5, "流畅": 1.8, "清晰": 1.5, "精致": 2.0, "结实": 1.5, "耐用": 2.0,
    "干净": 1.5, "整洁": 1.5, "安静": 1.2, "温馨": 2.0, "高档": 1.5, "大气": 1.5, "时尚": 1.2,
    "惊喜": 2.5, "开心": 2.0, "高兴": 2.0, "感谢": 1.5, "谢谢": 1.2, "辛苦": 0.8, "回购": 2.5, "还会再来": 3.0,
    "还会来": 2.5, "会再来": 2.5, "还会买": 3.0, "再买": 1.5, "一直用": 2.0, "一直在用": 2.0, "好用": 2.5,
    "顺滑": 2.0, "柔顺": 2.0, "有效果": 2.0, "效果好": 2.5, "效果很好": 3.0, "可以": 1.0, "还可以": 1.2,
    "还行": 0.8, "不差": 1.5, "没问题": 1.5, "没有问题": 1.5, "没毛病": 2.0, "没有色差": 2.0, "无色差": 2.0,
    "没有异味": 1.5, "没异味": 1.5, "挺不错": 2.5, "很不错": 2.5, "相当不错": 3.0, "真不错": 2.5,
    "很棒": 3.0, "超赞": 3.0, "点赞": 2.5, "好极了": 3.0, "太好了": 3.0, "OK": 1.0, "ok": 1.0, "好好": 1.0,
    "优秀": 2.0, "出色": 2.0, "精彩": 2.0, "感人": 1.5, "经典": 1.5, "受益": 2.0, "值": 1.0,
    "不愧": 2.0, "靠谱": 2.5, "信赖": 2.0, "信得过": 2.5, "厚道": 2.5, "良心": 2.0, "支持": 1.2,
    "物美价廉": 3.5, "价廉": 1.5, "便利": 1.5, "齐全": 1.2, "宽敞": 1.5, "划得来": 2.0,
}

NEGATIONS = ("没有", "不是", "不太", "不够", "不", "没", "别", "无", "未", "非", "毫无", "并不")
INTENSIFIERS = ("非常", "特别", "十分", "极其", "相当", "真的", "实在", "太", "很", "超", "极", "真", "好", "巨",
                "最", "挺", "贼", "老")
CONTRASTS = ("但是", "可是", "不过", "然而", "但", "就是", "只是", "可惜")
CLAUSE_END = "，,。.！!？?；;～~ \n\t"

# Anger (buyer messages): threats, insults and demands count on top of the negative score.
ANGER: dict[str, float] = {
    "投诉": 3.0, "12315": 4.0, "举报": 3.0, "曝光": 3.0, "工商": 2.5, "消协": 3.0, "差评": 2.5, "骗子": 4.0,
    "骗人": 3.0, "垃圾": 3.0, "滚": 3.0, "妈的": 4.0, "他妈": 4.0, "有病": 3.5, "神经病": 4.0, "坑人": 3.0,
    "黑心": 3.0, "什么破": 3.0, "气死": 3.5, "搞什么": 3.0, "凭什么": 3.0, "到底": 1.5, "马上": 1.5,
    "立刻": 1.5, "赶紧": 1.5, "给个说法": 3.5, "给我个说法": 3.5, "说法": 1.0, "负责": 1.5, "赔偿": 2.0,
    "退钱": 3.0, "退款": 1.5, "还不发": 2.5, "还没到": 1.5, "多少天了": 2.5, "几天了": 2.0,
    "天了还": 2.0, "耍我": 3.5, "忽悠": 2.5, "不理人": 3.0, "人呢": 2.5, "在吗在吗": 1.5, "没人": 1.5,
}

NEGATIVE_THRESHOLD = 0.0  # score above this = negative (chosen on the training split, see bench/sentiment.py)
ANGRY_THRESHOLD = 5.0


def _index(*tables: dict[str, float]) -> dict[str, tuple[str, float]]:
    merged: dict[str, tuple[str, float]] = {}
    for sign, table in zip(("neg", "pos"), tables, strict=True):
        for term, w in table.items():
            merged[term] = (sign, w)
    return merged


_LEXICON = _index(NEGATIVE, POSITIVE)
# The lengths of the terms starting with each character, longest first: the scan tries only
# these at a position (most characters start no term), and the longest that is a term wins.
_LENGTHS: dict[str, tuple[int, ...]] = {}
for _term in _LEXICON:
    _LENGTHS[_term[0]] = tuple(sorted({*_LENGTHS.get(_term[0], ()), len(_term)}, reverse=True))
# A yes/no question ("…吗？"), not a rhetorical "还…吗" / "难道…吗".
_QUESTION = re.compile(r"^(?!.*(?:难道|还|怎么|凭什么)).*[吗嘛][？?]?\s*$")
# Whether any anger term is in a text, in one scan (most messages hold none; each term counts once).
_ANGER_ANY = re.compile("|".join(re.escape(t) for t in ANGER))


@dataclass
class Sentiment:
    score: float  # > 0 leans negative
    negative: bool
    anger: float
    angry: bool
    hits: list[tuple[str, float]] = field(default_factory=list)  # (term, signed contribution; + = negative)

    @property
    def priority(self) -> int:
        """0–100: how urgently a person should look at it."""
        return max(0, min(100, round(self.score * 8 + self.anger * 4)))


def _ends_with_any(text: str, words) -> str | None:
    for w in words:
        if text.endswith(w):
            return w
    return None


def _scan(text: str) -> list[tuple[int, str, str, float]]:
    """Longest-match hits: (position, term, sign, weight)."""
    hits, i, n = [], 0, len(text)
    lengths, lexicon = _LENGTHS.get, _LEXICON.get
    while i < n:
        for size in lengths(text[i], ()):
            if size <= n - i:
                term = text[i:i + size]
                entry = lexicon(term)
                if entry is not None:
                    hits.append((i, term, *entry))
                    i += size
                    break
        else:
            i += 1
    return hits


def _clause_weights(text: str) -> list[float]:
    """A weight per character: the clause after a contrast word counts 1.5, the one before 0.7."""
    weights = [1.0] * len(text)
    for c in CONTRASTS:
        start = text.find(c)
        while start > 0:
            before = start - 1
            while before >= 0 and text[before] in CLAUSE_END:
                before -= 1
            clause_start = before
            while clause_start > 0 and text[clause_start - 1] not in CLAUSE_END:
                clause_start -= 1
            if before >= 0:
                for k in range(clause_start, before + 1):
                    weights[k] = min(weights[k], 0.7)
            for k in range(start, len(text)):
                if text[k] in "。！!？?\n":
                    break
                weights[k] = max(weights[k], 1.5)
            start = text.find(c, start + len(c))
    return weights


def analyse(text: str) -> Sentiment:
    text = (text or "").strip()
    if not text:
        return Sentiment(score=0.0, negative=False, anger=0.0, angry=False)
    clause = _clause_weights(text)
    score, hits = 0.0, []
    for pos, term, sign, weight in _scan(text):
        before = text[max(0, pos - 3):pos]
        factor = clause[pos]
        intensifier = _ends_with_any(before, INTENSIFIERS)
        if intensifier:
            factor *= 1.5
            before = before[:-len(intensifier)]
        negated = _ends_with_any(before, NEGATIONS) is not None and term[0] not in "不没无别未"
        if sign == "pos":
            contribution = weight * factor if negated else -weight * factor
        else:
            contribution = -0.5 * weight * factor if negated else weight * factor
        score += contribution
        hits.append((term, round(contribution, 2)))
    if score > 0 and _QUESTION.search(text) and "！" not in text and "!" not in text:
        # "会起球吗" asks about a problem the buyer does not have (yet): far weaker than a statement.
        score *= 0.4
    exclaim = text.count("!") + text.count("！")
    question = text.count("?") + text.count("？")
    anger = sum(w for t, w in ANGER.items() if t in text) if _ANGER_ANY.search(text) else 0
    if score > 0:
        anger += score * 0.5 + min(exclaim, 5) * 0.8 + (min(question, 5) * 0.5 if question >= 2 else 0)
    return Sentiment(score=round(score, 2), negative=score > NEGATIVE_THRESHOLD, anger=round(anger, 2),
                     angry=anger >= ANGRY_THRESHOLD and score > 0, hits=hits)


def is_negative(text: str) -> bool:
    return analyse(text).negative

"""Automatic flags on conversations (QA-3), computed when messages arrive.

The detectors are plain functions of a message's text (measured against the labelled set in
tests/quality/flag_labels.json, README "Automatic flags"); `conversation_flags` applies them and
the turn rules to one conversation's messages; `flags_refresh` stores the result for the buyers
a rebuild touched (`flags_step`, a step of kefu.metrics.rebuild after the conversations).
"""

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.utils import timezone

from kefu.complaints.sentiment import analyse
from kefu.conversations.models import Conversation
from kefu.core.models import Shop
from kefu.core.timeutil import ServiceHours, shop_day
from kefu.metrics import facts as F
from kefu.metrics import rows as R

from .enums import FlagKind
from .models import ConversationFlag, QaSettings

BUYER, AGENT = "buyer", "agent"

# A promise of an answer or an action at a later time (seed 000: 主动说明回复时间和回复方式, ≤ 24 h),
# addressed to the buyer: "联系您", "给您回电", "明天给您配送", "有结果告知您", "帮您催一下".
_TO_YOU = r"(联系|回复|通知|告知|告诉|答复|回电)(您|你|亲)|给(您|你|亲)(回复|答复|回电|打电话|电话|配送|发货|发走|送|安排|处理|取消|短信)"
_WHEN = r"(稍后|稍等.{0,4}|晚点|晚些|回头|等会|一会儿?|明天|今天|今晚|尽快|第一时间|马上|\d+\s*(个)?(小时|分钟|天|工作日|点|时效)内?|时效内?)"
_REPLY_TIME = re.compile(
    _WHEN + r".{0,12}(" + _TO_YOU + r")"
    r"|(核实|确认|查询|查看|查一下|问一下|咨询一下|反馈|升级|结果)" + r".{0,12}(后|之后|好了?|完|有结果).{0,10}(" + _TO_YOU + r")"
    r"|有结果.{0,8}(" + _TO_YOU + r")|帮(您|你|亲)?催(促)?|(稍后|明天|马上)(会|再)?(帮您|为您|给您)?(取消|处理|操作|安排|配送)")
# A compensation, a price difference, a gift or free shipping granted or offered to the buyer.
_COMPENSATION = re.compile(
    r"补偿|赔偿|赔付|返现|返(您|你)|退(给|还)?(您|你).{0,6}(元|块|差价|运费)|差价|价保.{0,12}(成功|金额|申请)|应价保"
    r"|补发|包邮|免运费|免邮|运费.{0,6}(我们|这边|本店|店铺)(来)?(承担|出)|(我们|这边)(来)?承担.{0,4}运费"
    r"|送(给)?(您|你|亲)|赠送|给(您|你).{0,4}(优惠券|红包|礼品|小礼物)|返还.{0,6}(京豆|运费|差价|元)")
_NEGATED_GUARANTEE = re.compile(r"(不能|没办法|无法|不敢|不|没法).{0,6}保证|保证不了")
_GUARANTEE = re.compile(r"(跟|向|和)(您|你|亲)保证|一定(会|不会|给|帮)|肯定(会|给|帮)|绝对(会|不会|给)")
_HOURS = re.compile(r"(\d+)\s*(个)?(小时|分钟|天)")
# Buyer phrases that carry anger the sentiment lexicon misses (accusations, 凭什么, 到底, slowness).
ANGER_CUES = ("骗子", "骗人", "忽悠", "坑我", "坑人", "凭什么", "到底", "太差", "这么差", "太慢", "这么慢", "超慢",
              "不能不解决", "什么破", "垃圾", "投诉你", "差评", "举报", "???", "？？？")
_ANGER_CUE = re.compile("|".join(re.escape(c) for c in ANGER_CUES))
# A buyer's closing line needs no answer: the unanswered flag skips a conversation ending on one.
_CLOSING = re.compile(r"^(没有?了?|暂时?没有?(其他问题)?了?|没(有)?问题了?|谢谢|多谢了?|感谢|好的?|好吧|好呢|嗯+|哦+|恩|en|ok|可以了?|"
                      r"知道了|明白了?|再见|拜拜|不客气|不用了?|暂不用了|美了|哦了|行|收到|辛苦了?|辛苦辛苦|麻烦了|"
                      r"\d*分?好评|你|您|啦|呢|呀|的|，|,|。|!|！|~|\s|\(.*?\)|[^\w\s])+$", re.IGNORECASE)


@dataclass(frozen=True)
class Hit:
    kind: str
    detail: str


def _norm(text: str) -> str:
    # Word-segmented corpora (taobao_ecd) put spaces between words; the detectors read joined text.
    # Desensitised numbers ([数字x], JDDC) read as a number.
    return re.sub(r"\s+", "", text or "").replace("[数字x]", "9")


def word_hits(text: str, words: list[str]) -> list[str]:
    t = _norm(text).lower()
    return [w for w in words if w.lower() in t]


# Words that hold a banned word but make no claim: 最近 (recently), 最好不要 (advice), 第一款 (an ordinal),
# 最大的动力 (a courtesy) …
BANNED_EXCEPTIONS = re.compile(r"最近|最后|最晚|最迟|最早|最少|最多|最快|最好(不要|别|先|还是|是)|最大的动力|最大支持"
                               r"|第一(次|时间|[款笔盒件个天单批位步项条期]|车队)")
RUDE_EXCEPTIONS = re.compile(r"财源滚滚|滚动|打滚|滚筒|无语言")


def banned_hits(text: str, words: list[str]) -> list[str]:
    return _listed(BANNED_EXCEPTIONS, _norm(text).lower(), words)


def rude_hits(text: str, words: list[str]) -> list[str]:
    return _listed(RUDE_EXCEPTIONS, _norm(text).lower(), words)


def _listed(exceptions: re.Pattern, lowered: str, words: list[str], lowered_words: list[str] | None = None,
            any_word: re.Pattern | None = None) -> list[str]:
    """The listed words in a normalised, lower-cased text once the harmless phrases are blanked.
    `any_word` (FlagSpec's) finds whether any of them is in the text at all, in one scan."""
    if any_word is not None and any_word.search(lowered) is None:
        return []  # blanking only removes text: no word can appear
    t = exceptions.sub("　", lowered)
    if lowered_words is None:
        lowered_words = [w.lower() for w in words]
    return [w for w, low in zip(words, lowered_words, strict=True) if low in t]


def _any_word(lowered_words: list[str]) -> re.Pattern | None:
    """A pattern matching any of these words; None when it could not prove a text free of them
    (no words, or a word holding the full-width space that blanking writes)."""
    if not lowered_words or any(not w or "　" in w for w in lowered_words):
        return None
    return re.compile("|".join(re.escape(w) for w in lowered_words))


def promise_hits(text: str) -> list[str]:
    """What the agent promised: 'reply_time', 'compensation', 'guarantee' (in that order)."""
    return _promises(_norm(text))


def _promises(t: str) -> list[str]:
    out = []
    if _REPLY_TIME.search(t):
        out.append("reply_time")
    if _COMPENSATION.search(t):
        out.append("compensation")
    if _GUARANTEE.search(_NEGATED_GUARANTEE.sub("", t)):
        out.append("guarantee")
    return out


def is_closing(text: str) -> bool:
    t = (text or "").strip()
    return bool(t) and len(t) <= 30 and bool(_CLOSING.match(t))


def promised_hours(text: str) -> float | None:
    """The delay a promise names ('2小时内' → 2, '30分钟' → 0.5, '明天' → 24), None when it names none."""
    t = _norm(text)
    m = _HOURS.search(t)
    if m:
        n, unit = int(m.group(1)), m.group(3)
        return n / 60 if unit == "分钟" else n * 24 if unit == "天" else float(n)
    if "明天" in t:
        return 24.0
    if "今天" in t or "今晚" in t:
        return 8.0
    return None


def is_angry(text: str, threshold: Decimal | float = 5) -> tuple[bool, float]:
    """The complaints' sentiment scorer (anger ≥ threshold on a negative message), or an anger cue."""
    t = _norm(text)
    s = analyse(t)
    return (s.anger >= float(threshold) and s.score > 0) or _ANGER_CUE.search(t) is not None, s.anger


@dataclass
class FlagSpec:
    rude: list[str]
    banned: list[str]
    anger_threshold: float
    slow_seconds: int
    hours: ServiceHours
    tz: object

    def __post_init__(self):
        self.rude_lowered = [w.lower() for w in self.rude]
        self.banned_lowered = [w.lower() for w in self.banned]
        self.rude_any = _any_word(self.rude_lowered)
        self.banned_any = _any_word(self.banned_lowered)

    @classmethod
    def for_shop(cls, shop: Shop) -> "FlagSpec":
        qs = qa_settings(shop)
        return cls(rude=QaSettings.words(qs.rude_words), banned=QaSettings.words(qs.banned_words),
                   anger_threshold=float(qs.anger_threshold), slow_seconds=shop.slow_turn_seconds,
                   hours=ServiceHours(shop.service_hours, shop.tz), tz=shop.tz)


def qa_settings(shop: Shop) -> QaSettings:
    qs = QaSettings.objects.filter(shop=shop).first()
    if qs is None:
        qs, _ = QaSettings.objects.get_or_create(shop=shop)
    return qs


def _inside_hours(hours: ServiceHours, tz, moment: dt.datetime) -> bool:
    if hours.always and not hours.holidays:
        return True
    return any(s <= moment < e for s, e in hours.intervals_on(shop_day(moment, tz)))


def message_hits(m, spec: FlagSpec) -> list[Hit]:
    """Text flags of one message (buyer: anger; agent: rude, banned, promise, after hours)."""
    out = []
    if m.sender == BUYER:
        angry, anger = is_angry(m.text, spec.anger_threshold)
        if angry:
            out.append(Hit(FlagKind.ANGER, f"{anger:.1f}"))
    elif m.sender == AGENT:
        t = _norm(m.text)  # once for the three detectors
        lowered = t.lower()
        rude = _listed(RUDE_EXCEPTIONS, lowered, spec.rude, spec.rude_lowered, spec.rude_any)
        if rude:
            out.append(Hit(FlagKind.RUDE, ",".join(rude)))
        banned = _listed(BANNED_EXCEPTIONS, lowered, spec.banned, spec.banned_lowered, spec.banned_any)
        if banned:
            out.append(Hit(FlagKind.BANNED, ",".join(banned)))
        promises = _promises(t)
        if promises:
            out.append(Hit(FlagKind.PROMISE, ",".join(promises)))
        if not _inside_hours(spec.hours, spec.tz, m.sent_at):
            out.append(Hit(FlagKind.AFTER_HOURS, ""))
    return out


def conversation_flags(messages: list, spec: FlagSpec) -> list[tuple[object, Hit]]:
    """(message, hit) of every flag of one conversation, messages in time order.

    Turns follow SPEC §12 inside the conversation: from the oldest unanswered buyer message to the
    next human reply (bots never answer); slow when its business seconds pass the shop's target;
    unanswered when the conversation holds no reply after it."""
    out: list[tuple[object, Hit]] = []
    start = last_buyer = None
    for m in messages:
        if m.sender == BUYER:
            last_buyer = m
        for h in message_hits(m, spec):
            out.append((m, h))
        if m.sender == BUYER:
            if start is None:
                start = m
        elif m.sender == AGENT and start is not None:
            secs = spec.hours.business_seconds(start.sent_at, m.sent_at)
            if secs > spec.slow_seconds:
                out.append((start, Hit(FlagKind.SLOW_TURN, str(secs))))
            start = None
    if start is not None and not is_closing(last_buyer.text):
        out.append((start, Hit(FlagKind.UNANSWERED, "")))
    return out


def flags_step(batch) -> None:
    """The rebuild step (kefu.metrics.rebuild.REBUILD_STEPS, after the conversations): the QA-3 flags
    of the locked buyers' conversations, recomputed whenever their messages change (from the
    messages the batch read once for every step)."""
    flags_refresh(shop=batch.shop, customer_ids=[i for i in batch.ids if i not in batch.spam],
                  messages=batch.messages)


FLAG_FIELDS = ("shop_id", "customer_id", "conversation_id", "message_id", "agent_id", "kind", "detail", "at", "day")


def flags_refresh(*, shop: Shop, customer_ids, since: dt.datetime | None = None, now: dt.datetime | None = None,
                  messages: dict | None = None) -> int:
    """Recompute the flags of these buyers' conversations (those ending at or after `since`, all when
    None) and store the difference. Idempotent. Promises made in the last 24 hours create the
    follow-up that keeps them (a 待查问题 for the agent), once per message. Returns flags stored.

    `messages`: every message of these buyers (buyer id → kefu.metrics.facts.Msg with its text),
    when the caller has read them already; read here otherwise."""
    from kefu.followups.services import PROMISED_ANSWER_MAX
    from kefu.metrics.rebuild import load_messages

    ids = sorted(set(customer_ids))
    if not ids:
        return 0
    now = now or timezone.now()
    spec = FlagSpec.for_shop(shop)
    where, params = R.any_in(R.qn("customer_id"), ids)
    where = f"{R.qn('shop_id')} = %s AND {where}"
    params = [shop.id, *params]
    if since is not None:
        where += f" AND {R.qn('ended_at')} >= %s"
        params.append(since if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(since))
    convs = R.rows_select(Conversation, ("id", "customer_id", "started_at", "ended_at"), where, params)
    if not convs:
        return 0
    if messages is None:
        messages = load_messages(shop, ids, text=True, since=min(c[2] for c in convs))
    msgs = {cid: sorted(messages.get(cid, ()), key=F.sort_key) for cid in {c[1] for c in convs}}
    wanted: dict[tuple[int, str], tuple] = {}
    for conv_id, cid, started, ended in convs:
        in_conv = [m for m in msgs[cid] if started <= m.sent_at <= ended]
        for m, hit in conversation_flags(in_conv, spec):
            wanted[(m.id, hit.kind)] = (conv_id, cid, m, hit)
    conv_where, conv_params = R.any_in(R.qn("conversation_id"), [c[0] for c in convs])
    existing = {(m, k): (pk, conv, detail) for pk, m, k, conv, detail in R.rows_select(
        ConversationFlag, ("id", "message_id", "kind", "conversation_id", "detail"), conv_where, conv_params)}
    R.rows_delete(ConversationFlag, [f[0] for key, f in existing.items() if key not in wanted])
    # A message may already carry the flag under a conversation id that was rebuilt: re-point it.
    new_messages = sorted({k[0] for k in wanted if k not in existing})
    moved = {}
    if new_messages:
        m_where, m_params = R.any_in(R.qn("message_id"), new_messages)
        moved = {(m, k): (pk, conv, detail) for pk, m, k, conv, detail in R.rows_select(
            ConversationFlag, ("id", "message_id", "kind", "conversation_id", "detail"),
            f"{R.qn('shop_id')} = %s AND {m_where}", [shop.id, *m_params])}
    create, update, promises = [], [], []
    for key, (conv_id, cid, m, hit) in wanted.items():
        f = existing.get(key) or moved.get(key)
        detail = hit.detail[:200]
        if f is None:
            create.append((shop.id, cid, conv_id, m.id, m.agent_id, hit.kind, detail, m.sent_at,
                           shop_day(m.sent_at, shop.tz)))
            if hit.kind == FlagKind.PROMISE and m.agent_id is not None and m.sent_at >= now - PROMISED_ANSWER_MAX:
                promises.append(m.id)
        elif f[1] != conv_id or f[2] != detail:
            update.append((f[0], conv_id, detail))
    R.rows_update(ConversationFlag, ("conversation_id", "detail"), update)
    R.rows_insert(ConversationFlag, FLAG_FIELDS, create)
    if promises:
        _promise_followups(shop=shop, message_ids=promises, now=now)
    return len(wanted)


def _promise_followups(*, shop: Shop, message_ids: list[int], now: dt.datetime) -> None:
    """The follow-up a fresh promise should create: 待查问题 for the promising agent, due when promised
    (at most 24 h), for the promise flags just stored on these messages (in this order). Promises
    older than a day (imports of history) create none (the caller leaves them out)."""
    from kefu.followups.enums import FollowUpKind
    from kefu.followups.services import PROMISED_ANSWER_MAX, followup_create

    flags = {f.message_id: f for f in ConversationFlag.objects.filter(
        shop=shop, kind=FlagKind.PROMISE, message_id__in=message_ids).select_related("message", "agent", "customer")}
    for mid in message_ids:
        f = flags[mid]
        hours = promised_hours(f.message.text)
        due = f.at + (dt.timedelta(hours=hours) if hours else PROMISED_ANSWER_MAX)
        due = min(max(due, now + dt.timedelta(minutes=5)), now + PROMISED_ANSWER_MAX)
        if f.agent is None or not f.agent.active:
            continue
        fu = followup_create(shop=shop, kind=FollowUpKind.PROMISED_ANSWER, customer=f.customer, owner=f.agent,
                             actor=None, note=("承诺: " + _norm(f.message.text))[:500], due_at=due, now=now)
        ConversationFlag.objects.filter(pk=f.pk).update(followup=fu)

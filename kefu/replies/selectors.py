"""Reads of the scripts domain: what a person may see, Chinese search, and the values of the
variables for a conversation/order."""

import datetime as dt
from decimal import Decimal

from django.db import connection
from django.db.models import Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils import timezone

from kefu.core.access import sees_whole_shop
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import shop_day

from .enums import ScriptCategory
from .models import Script, ScriptSettings

FTS_TABLE = "replies_script_fts"
TRIGRAM = 3  # trigram search needs at least 3 characters per term; shorter ones fall back to LIKE
SEARCH_LIMIT = 50


def scripts_visible(*, shop: Shop, member: Agent | None, category: str | None = None,
                    today: dt.date | None = None, include_inactive: bool = False) -> QuerySet[Script]:
    """The shop's scripts plus the person's own opening line. By default only active ones whose
    campaign dates cover today (shop day); managers' library view passes include_inactive."""
    qs = Script.objects.filter(shop=shop)
    qs = qs.filter(Q(owner__isnull=True) | Q(owner=member)) if member is not None else qs.filter(owner__isnull=True)
    if category:
        qs = qs.filter(category=category)
    if not include_inactive:
        today = today or shop_day(timezone.now(), shop.tz)
        qs = qs.filter(active=True).filter(Q(starts_on__isnull=True) | Q(starts_on__lte=today)).filter(
            Q(ends_on__isnull=True) | Q(ends_on__gte=today))
    return qs.order_by("category", "-usage_count", "id")


def script_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> Script:
    s = Script.objects.filter(shop=shop, pk=id).first()
    if s is None or (s.owner_id is not None and member is not None and s.owner_id != member.pk
                     and not sees_whole_shop(member)):
        raise Http404("script")
    return s


def _terms(q: str) -> list[str]:
    return [t for t in (q or "").replace("\x00", "").split() if t][:5]


def _like_escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _score(s: Script, terms: list[str]) -> tuple:
    """Rank: hits in the title weigh ten times hits in the body; then the most used."""
    title, body = s.title.lower(), s.body.lower()
    hits = sum(10 * title.count(t.lower()) + body.count(t.lower()) for t in terms)
    return (-hits, -s.usage_count, s.pk)


def scripts_search(*, shop: Shop, q: str, member: Agent | None = None, category: str | None = None,
                   limit: int = SEARCH_LIMIT, include_inactive: bool = False) -> list[Script]:
    """Scripts matching every term of `q` in title or body, best first.

    Terms of 3+ characters use the database's trigram index: SQLite FTS5 (tokenize='trigram',
    ranked by bm25 with the title weighted 10:1) or PostgreSQL pg_trgm (GIN, ranked by title hits then
    word_similarity). A query with a 1–2 character term (常见: 催付, 运费) cannot use trigrams and
    falls back to LIKE, ranked by title hits, body hits and usage.
    """
    base = scripts_visible(shop=shop, member=member, category=category, include_inactive=include_inactive)
    terms = _terms(q)
    if not terms:
        return list(base.order_by("-usage_count", "category", "id")[:limit])
    if any(len(t) < TRIGRAM for t in terms) or connection.vendor not in ("sqlite", "postgresql"):
        qs = base
        for t in terms:
            qs = qs.filter(Q(title__icontains=t) | Q(body__icontains=t))
        found = list(qs[:500])
        found.sort(key=lambda s: _score(s, terms))
        return found[:limit]
    if connection.vendor == "sqlite":
        match = " AND ".join('"' + t.replace('"', '""') + '"' for t in terms)
        with connection.cursor() as cur:
            cur.execute(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s "
                        f"ORDER BY bm25({FTS_TABLE}, 10.0, 1.0) LIMIT 1000", [match])
            ranked = [r[0] for r in cur.fetchall()]
        by_id = {s.pk: s for s in base.filter(pk__in=ranked)}
        found = [by_id[i] for i in ranked if i in by_id]
        return found[:limit]
    # PostgreSQL: ILIKE is served by the GIN gin_trgm_ops indexes of 0002_search.
    qs = base
    title_hits = []
    params: list = []
    for t in terms:
        pat = f"%{_like_escape(t)}%"
        qs = qs.filter(pk__in=RawSQL("SELECT id FROM replies_script WHERE shop_id = %s AND "
                                     "(title ILIKE %s OR body ILIKE %s)", [shop.pk, pat, pat]))
        title_hits.append("(CASE WHEN replies_script.title ILIKE %s THEN 1 ELSE 0 END)")
        params.append(pat)
    qs = qs.annotate(
        title_rank=RawSQL(" + ".join(title_hits), params),
        sim=RawSQL("word_similarity(%s, replies_script.title || ' ' || replies_script.body)", [" ".join(terms)]),
    ).order_by("-title_rank", "-sim", "-usage_count", "id")
    return list(qs[:limit])


# What a buyer says when a category's scripts are the answer (the picker's suggestions, SCR-1).
CONTEXT_MESSAGES = 3
INTENT_WORDS = {
    ScriptCategory.SHIPPING: ("发货", "发出", "快递", "物流", "单号", "到货", "几天到", "什么时候到", "到了吗", "寄"),
    ScriptCategory.PAYMENT_REMINDER: ("付款", "拍下", "支付", "付钱"),
    ScriptCategory.SHIPPING_FEE: ("运费", "邮费", "补差价", "补运费"),
    ScriptCategory.BARGAINING: ("便宜", "优惠", "打折", "折扣", "少点", "包邮", "砍价", "最低"),
    ScriptCategory.AFTER_SALES: ("退货", "退款", "换货", "撤单", "取消订单", "不要了", "退"),
    ScriptCategory.COMPLAINT: ("投诉", "差评", "举报", "骗子", "垃圾", "太差", "生气", "12315"),
    ScriptCategory.APOLOGY: ("破了", "坏了", "发错", "少发", "漏发", "质量", "有问题"),
    ScriptCategory.CLOSING: ("收到了", "谢谢", "好的", "满意"),
    ScriptCategory.OPENING: ("在吗", "你好", "您好", "有人吗", "在不在"),
}


def _bigrams(text: str) -> set[str]:
    text = "".join(ch for ch in text.lower() if not ch.isspace())
    return {text[i:i + 2] for i in range(len(text) - 1)}


def buyer_recent_text(*, conversation, n: int = CONTEXT_MESSAGES) -> str:
    """The buyer's last `n` messages of the conversation, oldest first: what the reply answers."""
    from kefu.conversations.enums import Sender
    from kefu.conversations.selectors import conversation_messages

    texts = list(conversation_messages(conversation=conversation).filter(sender=Sender.BUYER)
                 .exclude(text="").order_by("-sent_at", "-id").values_list("text", flat=True)[:n])
    return "\n".join(reversed(texts))


def context_score(script: Script, text: str) -> int:
    """How well a script answers what the buyer said: the category's intent words the buyer used
    weigh most, then two-character pieces shared with the title, then with the body."""
    from .variables import TOKEN

    words = sum(1 for w in INTENT_WORDS.get(script.category, ()) if w in text)
    grams = _bigrams(text)
    return (10 * words + 3 * len(grams & _bigrams(script.title))
            + len(grams & _bigrams(TOKEN.sub("", script.body))))


def scripts_for_context(*, shop: Shop, member: Agent | None, conversation, category: str | None = None,
                        limit: int = SEARCH_LIMIT) -> list[Script]:
    """The picker's suggestions before anything is typed: ranked by the buyer's last messages
    ("什么时候发货呀" → 发货时间 first), then the most used; with nothing said, the most used."""
    base = scripts_visible(shop=shop, member=member, category=category)
    text = buyer_recent_text(conversation=conversation) if conversation is not None else ""
    if not text:
        return list(base.order_by("-usage_count", "category", "id")[:limit])
    found = list(base[:1000])
    found.sort(key=lambda s: (-context_score(s, text), -s.usage_count, s.pk))
    return found[:limit]


def script_library(*, shop: Shop, member: Agent | None, q: str = "", category: str | None = None,
                   include_inactive: bool = False) -> list[tuple[str, str, list[Script]]]:
    """(category, label, scripts) in the order of ScriptCategory; searched when q is given."""
    scripts = scripts_search(shop=shop, q=q, member=member, category=category, limit=500,
                             include_inactive=include_inactive)
    groups: dict[str, list[Script]] = {}
    for s in scripts:
        groups.setdefault(s.category, []).append(s)
    return [(c, label, groups[c]) for c, label in ScriptCategory.choices if c in groups]


# ---------------------------------------------------------------- variable values

def _yuan(amount: Decimal) -> str:
    return str(amount.quantize(Decimal("1"))) if amount == amount.to_integral_value() else str(amount)


def courier_fees_text(*, settings: ScriptSettings | None, courier: str = "") -> str:
    """{运费}: "申通10元 EMS20元 顺丰22元" (cheapest first), or just the order's courier when the shop lists it."""
    fees = (settings.courier_fees if settings else None) or {}
    if courier and courier in fees:
        return f"{courier}{_yuan(Decimal(fees[courier]))}元"
    # Cheapest first (PostgreSQL's jsonb does not keep key order).
    ordered = sorted(fees.items(), key=lambda kv: (Decimal(kv[1]), kv[0]))
    return " ".join(f"{name}{_yuan(Decimal(fee))}元" for name, fee in ordered)


def conversation_order(*, conversation):
    """The order a conversation is about: its latest order card, else the buyer's latest order."""
    from kefu.conversations.models import Message
    from kefu.orders.models import Order

    ref = (Message.objects.filter(shop_id=conversation.shop_id, customer_id=conversation.customer_id,
                                  sent_at__gte=conversation.started_at, sent_at__lte=conversation.ended_at)
           .exclude(order_ref="").order_by("-sent_at", "-id").values_list("order_ref", flat=True).first())
    orders = Order.objects.filter(shop_id=conversation.shop_id, customer_id=conversation.customer_id)
    order = orders.filter(order_id=ref).first() if ref else None
    return order or orders.order_by("-created_at", "-id").first()


def _catalog_title(order) -> str:
    """{商品} of an order without a title (most platform exports but Taobao's): the catalogue's
    product title of its first item (IN-5)."""
    from kefu.catalog.models import Sku

    first = order.items.order_by("id").values_list("sku_code", flat=True).first()
    if not first:
        return ""
    return (Sku.objects.filter(shop_id=order.shop_id, code=first, product__isnull=False)
            .values_list("product__title", flat=True).first() or "")


def script_context(*, shop: Shop, member: Agent | None = None, conversation=None, order=None) -> dict:
    """The values of the variables (field → text) for this person, conversation and order."""
    settings = ScriptSettings.objects.filter(shop=shop).first()
    values = {"shop_name": shop.name, "today": shop_day(timezone.now(), shop.tz).isoformat(),
              "fee_link": settings.fee_link if settings else ""}
    if member is not None:
        values["agent_name"] = member.name
    customer = None
    if conversation is not None:
        customer = conversation.customer
        if member is None and conversation.agent_id:
            values["agent_name"] = conversation.agent.name
        if order is None:
            order = conversation_order(conversation=conversation)
    if order is not None:
        customer = customer or order.customer
        values.update({"order_id": order.order_id, "product": order.title or _catalog_title(order),
                       "courier": order.courier,
                       "tracking_no": order.tracking_no,
                       "amount": str(order.paid_amount if order.paid_amount else order.total_amount)})
    if customer is not None:
        values["buyer_nick"] = customer.nick or customer.buyer_id
    values["courier_fees"] = courier_fees_text(settings=settings, courier=order.courier if order is not None else "")
    return values

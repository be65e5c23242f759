"""Care messages (CRM-3, seed 001): seasonal advice to a segment, with no product in it, sent as SMS
through the outbound channel — never to a buyer who opted out (退订, forever), never more than the
shop's frequency cap per buyer — and the buyers' replies, which may opt them out.

Sending takes, per chunk of buyers, the campaign's row lock and then the buyers' locks in id order
(customers_lock); an opt-out takes the buyer's lock too, so a buyer who opts out while a campaign
runs is either sent to before (and the opt-out counts from then) or skipped, never both."""

import datetime as dt
import re

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.catalog.models import Product, Sku
from kefu.core.access import user_of
from kefu.core.errors import KefuError, NotFound
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import parse_moment
from kefu.customers.models import Customer
from kefu.customers.selectors import customer_find
from kefu.customers.services import customers_lock
from kefu.orders.models import Order
from kefu.outbound.enums import SMS_CHANNEL, OutboundKind
from kefu.outbound.services import PHONE, send

from .enums import CampaignState, CareErrorCode, OptOutSource, SendOutcome
from .models import CareCampaign, CareOptOut, CareReply, CareSend
from .segments import segment_clean, segment_customers
from .selectors import care_settings
from .services import care_staff_only

CHUNK = 200
TEXT_MAX = 300
# Replies that opt a buyer out (the usual 回T退订 / 回TD退订 of Chinese SMS).
OPT_OUT_WORDS = {"T", "TD", "N", "退订", "退", "取消", "取消订阅", "UNSUBSCRIBE", "STOP"}
LINK = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+\.(?:com|cn|net|top|cc|shop|vip|me)\b|[￥$€][A-Za-z0-9]{8,}[￥$€]"
                  r"|淘口令|复制.{0,6}打开", re.IGNORECASE)
PRICE = re.compile(r"[¥￥]\s*\d+(?:\.\d+)?|\d+(?:\.\d+)?\s*(?:元|块钱|块|rmb)|\d(?:\.\d)?\s*折|满\s*\d+\s*减\s*\d+",
                   re.IGNORECASE)
PROMO = ("包邮", "优惠", "折扣", "秒杀", "特价", "下单", "拍下", "领券", "优惠券", "满减", "抢购", "限时", "上新", "新品",
         "清仓", "爆款", "活动价")
TOKEN_SPLIT = re.compile(r"[\s,，、/|｜()（）\[\]【】+\-_*·:：;；!！?？]+")
MIN_TOKEN = 3


def _product_tokens(shop: Shop) -> set[str]:
    """Names of the shop's products: catalog titles, SKU titles and the titles of recent orders, and
    their words of 3+ characters, except the shop's own name (a care SMS is signed with it)."""
    titles = set(Product.objects.filter(shop=shop).values_list("title", flat=True))
    titles |= set(Sku.objects.filter(shop=shop).exclude(title="").values_list("title", flat=True)[:5000])
    titles |= set(Order.objects.filter(shop=shop).exclude(title="").order_by("-created_at")
                  .values_list("title", flat=True)[:5000])
    tokens = set()
    for t in titles:
        t = t.strip()
        if len(t) >= MIN_TOKEN:
            tokens.add(t)
        tokens |= {w for w in TOKEN_SPLIT.split(t) if len(w) >= MIN_TOKEN and not w.isdigit()}
    return {t for t in tokens if t not in shop.name}


def content_check(*, shop: Shop, text: str) -> list[dict]:
    """What in the text looks like product content: product names (from the catalog and orders),
    prices, links and promotion words. Seed 001: care messages never carry product information."""
    found: list[dict] = []
    seen = set()

    def add(kind: str, what: str) -> None:
        if (kind, what) not in seen:
            seen.add((kind, what))
            found.append({"kind": kind, "text": what})

    for m in LINK.finditer(text):
        add("link", m.group(0))
    for m in PRICE.finditer(text):
        add("price", m.group(0))
    for w in PROMO:
        if w in text:
            add("promo", w)
    for token in sorted(_product_tokens(shop), key=len, reverse=True):
        if token in text and not any(token in f["text"] for f in found if f["kind"] == "product"):
            add("product", token)
    return found


# ---------------------------------------------------------------- campaigns

def campaign_save(*, shop: Shop, actor: Agent | None, campaign_id: int | None = None, **data) -> CareCampaign:
    """Create or change a campaign; a change puts a scheduled one back to draft (check again)."""
    care_staff_only(actor, "campaign")
    allowed = {"name", "text", "segment"}
    unknown = set(data) - allowed
    if unknown:
        raise KefuError(f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    with transaction.atomic():
        c = None
        if campaign_id is not None:
            c = CareCampaign.objects.select_for_update().filter(shop=shop, pk=campaign_id).first()
            if c is None:
                raise NotFound("campaign not found", field="campaign_id")
            if c.state not in (CampaignState.DRAFT, CampaignState.SCHEDULED):
                raise KefuError(f"a {c.state} campaign cannot change", field="state", code=CareErrorCode.BAD_STATE)
        fields = {}
        if "name" in data or c is None:
            fields["name"] = clean_text(data.get("name"), field="name", max_len=80, required=True)
        if "text" in data or c is None:
            fields["text"] = clean_text(data.get("text"), field="text", max_len=TEXT_MAX, required=True)
        if "segment" in data:
            fields["segment"] = segment_clean(shop=shop, raw=data["segment"])
        if c is None:
            c = CareCampaign.objects.create(shop=shop, created_by=actor, **fields)
        else:
            for k, v in fields.items():
                setattr(c, k, v)
            c.state, c.scheduled_at, c.warnings = CampaignState.DRAFT, None, []
            c.save()
        audit_record(shop=shop, actor=user_of(actor), action="care_campaign.save", entity=c,
                     after={k: v if isinstance(v, dict) else str(v) for k, v in fields.items()})
    return c


def campaign_schedule(*, shop: Shop, campaign_id: int, scheduled_at, actor: Agent | None,
                      accept_warnings: bool = False, now: dt.datetime | None = None) -> CareCampaign:
    """Schedule a campaign to go out at `scheduled_at` (shop time when no offset). The content check
    runs first: when it finds product names, prices, links or promotion words the campaign is only
    scheduled with `accept_warnings` (and the findings stay on it)."""
    care_staff_only(actor, "campaign")
    now = now or timezone.now()
    try:
        when = parse_moment(scheduled_at, shop.tz) if scheduled_at not in (None, "") else now
    except ValueError as exc:
        raise KefuError(str(exc), field="scheduled_at") from exc
    if when < now - dt.timedelta(minutes=5):
        raise KefuError("the time has passed", field="scheduled_at")
    with transaction.atomic():
        c = CareCampaign.objects.select_for_update().filter(shop=shop, pk=campaign_id).first()
        if c is None:
            raise NotFound("campaign not found", field="campaign_id")
        if c.state not in (CampaignState.DRAFT, CampaignState.SCHEDULED):
            raise KefuError(f"a {c.state} campaign cannot be scheduled", field="state", code=CareErrorCode.BAD_STATE)
        warnings = content_check(shop=shop, text=c.text)
        if warnings and not accept_warnings:
            shown = "、".join(w["text"] for w in warnings[:5])
            raise KefuError(f"the text looks like product content: {shown}", field="text",
                            code=CareErrorCode.CONTENT_WARNINGS)
        c.state, c.scheduled_at, c.warnings = CampaignState.SCHEDULED, max(when, now), warnings
        c.save(update_fields=["state", "scheduled_at", "warnings"])
        audit_record(shop=shop, actor=user_of(actor), action="care_campaign.schedule", entity=c,
                     after={"scheduled_at": c.scheduled_at.isoformat(), "warnings": warnings})
    return c


def campaign_cancel(*, shop: Shop, campaign_id: int, actor: Agent | None) -> CareCampaign:
    """Stop a campaign: a scheduled one never goes out; a sending one stops after the current chunk."""
    care_staff_only(actor, "campaign")
    with transaction.atomic():
        c = CareCampaign.objects.select_for_update().filter(shop=shop, pk=campaign_id).first()
        if c is None:
            raise NotFound("campaign not found", field="campaign_id")
        if c.state not in (CampaignState.DRAFT, CampaignState.SCHEDULED, CampaignState.SENDING):
            raise KefuError(f"a {c.state} campaign cannot be cancelled", field="state", code=CareErrorCode.BAD_STATE)
        before = c.state
        c.state, c.finished_at = CampaignState.CANCELLED, timezone.now()
        c.save(update_fields=["state", "finished_at"])
        audit_record(shop=shop, actor=user_of(actor), action="care_campaign.cancel", entity=c,
                     before={"state": before}, after={"state": c.state})
    return c


def campaign_send(*, shop: Shop, campaign_id: int, now: dt.datetime | None = None) -> dict:
    """Send a due campaign: every buyer of its segment gets one CareSend — queued to the outbox as an
    SMS, or skipped as opted out, over the cap, or without a phone. Resumable and idempotent (a
    buyer already handled is never handled twice)."""
    now = now or timezone.now()
    settings = care_settings(shop)
    counts = {o: 0 for o in SendOutcome.values}
    with transaction.atomic():
        c = CareCampaign.objects.select_for_update().filter(shop=shop, pk=campaign_id).first()
        if c is None or c.state not in (CampaignState.SCHEDULED, CampaignState.SENDING) or c.scheduled_at > now:
            return counts
        if c.state == CampaignState.SCHEDULED:
            c.state, c.started_at = CampaignState.SENDING, now
            c.save(update_fields=["state", "started_at"])
        segment = c.segment
    ids = list(segment_customers(shop=shop, segment=segment, now=now).order_by("pk").values_list("pk", flat=True))
    for i in range(0, len(ids), CHUNK):
        with transaction.atomic():
            c = CareCampaign.objects.select_for_update().get(pk=campaign_id)
            if c.state != CampaignState.SENDING:
                return counts  # cancelled meanwhile
            for outcome in _send_chunk(shop, c, ids[i:i + CHUNK], settings, now):
                counts[outcome] += 1
    with transaction.atomic():
        c = CareCampaign.objects.select_for_update().get(pk=campaign_id)
        if c.state == CampaignState.SENDING:
            c.state, c.finished_at = CampaignState.DONE, now
            c.save(update_fields=["state", "finished_at"])
            audit_record(shop=shop, actor=None, action="care_campaign.sent", entity=c, after=counts)
    return counts


def _send_chunk(shop: Shop, c: CareCampaign, ids: list[int], settings, now: dt.datetime) -> list[str]:
    customers_lock(shop=shop, customer_ids=ids)
    done = set(CareSend.objects.filter(campaign=c, customer_id__in=ids).values_list("customer_id", flat=True))
    ids = [i for i in ids if i not in done]
    opted = set(CareOptOut.objects.filter(shop=shop, customer_id__in=ids).values_list("customer_id", flat=True))
    since = now - dt.timedelta(days=settings.cap_days)
    recent: dict[int, int] = {}
    for cid in CareSend.objects.filter(shop=shop, customer_id__in=ids, outcome=SendOutcome.QUEUED,
                                       created_at__gt=since, created_at__lte=now).values_list("customer_id", flat=True):
        recent[cid] = recent.get(cid, 0) + 1
    buyers = Customer.objects.in_bulk(ids)
    rows, outcomes = [], []
    for cid in ids:
        b = buyers[cid]
        outbound = None
        if cid in opted:
            outcome = SendOutcome.OPTED_OUT
        elif recent.get(cid, 0) >= settings.cap_count:
            outcome = SendOutcome.CAPPED
        elif not PHONE.fullmatch(b.phone or ""):
            outcome = SendOutcome.NO_PHONE
        else:
            outcome = SendOutcome.QUEUED
            outbound, _ = send(shop=shop, channel=SMS_CHANNEL, to_buyer=b, text=c.text, key=f"care:{c.pk}:{cid}",
                               kind=OutboundKind.CARE, recipient=b.phone, now=now)
        rows.append(CareSend(shop=shop, campaign=c, customer_id=cid, outcome=outcome, outbound=outbound,
                             created_at=now))
        outcomes.append(outcome)
    CareSend.objects.bulk_create(rows)
    return outcomes


def campaigns_send_due(*, shop: Shop, now: dt.datetime | None = None) -> int:
    """Send every campaign whose time has come (the scheduler runs this each minute)."""
    now = now or timezone.now()
    due = list(CareCampaign.objects.filter(shop=shop, state__in=(CampaignState.SCHEDULED, CampaignState.SENDING),
                                           scheduled_at__lte=now).order_by("scheduled_at", "id")
               .values_list("pk", flat=True))
    for cid in due:
        campaign_send(shop=shop, campaign_id=cid, now=now)
    return len(due)


# ---------------------------------------------------------------- opt-out and replies

def opt_out_record(*, shop: Shop, customer: Customer, source: str, actor: Agent | None = None, note: str = "",
                   reply: CareReply | None = None, now: dt.datetime | None = None) -> CareOptOut:
    """退订: from now on the buyer gets no care message, ever. Idempotent (the first opt-out stays)."""
    if source not in OptOutSource.values:
        raise KefuError(f"one of {', '.join(OptOutSource.values)}", field="source")
    if customer.shop_id != shop.pk:
        raise NotFound("buyer not found", field="customer")
    note = clean_text(note, field="note", max_len=200)
    now = now or timezone.now()
    with transaction.atomic():
        customers_lock(shop=shop, customer_ids=[customer.pk])
        existing = CareOptOut.objects.filter(customer=customer).first()
        if existing is not None:
            return existing
        o = CareOptOut.objects.create(shop=shop, customer=customer, source=source, reply=reply, note=note,
                                      created_by=actor, created_at=now)
        audit_record(shop=shop, actor=user_of(actor), action="care.opt_out", entity=customer,
                     after={"source": source, "note": note, "by": actor.name if actor else "buyer"})
    return o


def is_opt_out_text(text: str) -> bool:
    t = text.strip().upper().strip("。.!！ ")
    return t in OPT_OUT_WORDS or "退订" in text


def care_reply_record(*, shop: Shop, reply_id: str, text: str, received_at, buyer_id: str = "", phone: str = "",
                      now: dt.datetime | None = None) -> tuple[CareReply, bool]:
    """A buyer's SMS answer, reported by the connector (idempotent by its reply_id). It is tied to the
    buyer's latest care message before it; an opt-out word (T, TD, 退订 …) opts the buyer out."""
    reply_id = clean_text(reply_id, field="reply_id", max_len=120, required=True)
    text = clean_text(text, field="text", max_len=500, required=True)
    try:
        received = parse_moment(received_at, shop.tz) if received_at not in (None, "") else (now or timezone.now())
    except ValueError as exc:
        raise KefuError(str(exc), field="received_at") from exc
    existing = CareReply.objects.filter(shop=shop, reply_id=reply_id).first()
    if existing is not None:
        return existing, False
    customer = customer_find(shop=shop, buyer_id=buyer_id.strip()) if buyer_id else None
    if customer is None and phone:
        customer = (Customer.objects.filter(shop=shop, phone=phone.strip(), merged_into__isnull=True)
                    .order_by("-care_sends__created_at", "-id").first())
    if customer is None:
        raise NotFound("no buyer with this id or phone", field="buyer_id" if buyer_id else "phone")
    send_row = (CareSend.objects.filter(shop=shop, customer=customer, outcome=SendOutcome.QUEUED,
                                        created_at__lte=received).order_by("-created_at", "-id").first())
    try:
        with transaction.atomic():
            reply = CareReply.objects.create(shop=shop, reply_id=reply_id, customer=customer, send=send_row,
                                             text=text, is_opt_out=is_opt_out_text(text), received_at=received)
            if reply.is_opt_out:
                opt_out_record(shop=shop, customer=customer, source=OptOutSource.REPLY, reply=reply, now=received)
    except IntegrityError:  # the same reply reported twice at once: the first one stands
        return CareReply.objects.get(shop=shop, reply_id=reply_id), False
    return reply, True

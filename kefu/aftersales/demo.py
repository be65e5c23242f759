"""Demo after-sales cases, made through the services (deterministic from the seed; registered in
kefu.demo.services.DEMO_EXTENSIONS): a wrong-item exchange with a price difference, quality returns
inside and outside the window (one waiting for approval), a lost parcel with a courier claim, an early
refund, a retention attempt, category windows and a holiday."""

import datetime as dt
import random
import struct
import zlib
from decimal import Decimal

from django.utils import timezone

from kefu.catalog.models import Product
from kefu.core.models import Agent, Shop
from kefu.core.timeutil import day_bounds, shop_day
from kefu.orders.models import Order

from . import evidence, logistics, money, rules
from .models import SecondService
from .services import MoneyLineIn, case_open, case_transition


def _photo() -> bytes:
    """A small grey PNG standing in for the buyer's photo."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + b"\x90" * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def _walk(shop, case, actor, path):
    for to in path:
        case = case_transition(shop=shop, case=case, to=to, actor_agent=actor, expected_version=case.version)
    return case


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    rnd = random.Random(f"aftersales-{seed}")
    people = list(Agent.objects.filter(shop=shop, active=True).order_by("id"))
    agents = [a for a in people if a.has_role("agent")]
    manager = next((a for a in people if a.has_role("manager")), None)
    supervisor = next((a for a in people if a.has_role("supervisor")), None)
    if not agents or manager is None or supervisor is None:
        return
    start, _ = day_bounds(date_from, shop.tz)
    _, end = day_bounds(date_to, shop.tz)
    signed = list(Order.objects.filter(shop=shop, signed_at__gte=start, signed_at__lt=end)
                  .select_related("customer").prefetch_related("items").order_by("signed_at", "id"))
    signed = [o for o in signed if o.items.all() and o.paid_amount > 0]
    if len(signed) < 8:
        return
    # Relative to the demo's last day, so that the same seed gives the same cases whenever it runs.
    recent = [o for o in signed if (end - o.signed_at).days <= 2]
    old = [o for o in signed if (end - o.signed_at).days > 10]
    pick = rnd.sample(signed, 8)

    def item(o):
        it = o.items.all()[0]
        return it.sku_code, it.price if it.price > 0 else Decimal("50.00")

    # Category windows (AFT-12) and a holiday that extends them.
    cats = sorted({c for c in Product.objects.filter(shop=shop).values_list("category", flat=True) if c})
    for cat in cats[:2]:
        rules.category_policy_set(shop=shop, member=manager, category=cat, return_days=15, quality_days=7,
                                  note="演示：大件商品放宽")
    rules.holiday_add(shop=shop, member=manager, name="国庆", date_from=dt.date(date_to.year, 10, 1),
                      date_to=dt.date(date_to.year, 10, 7))

    agent = agents[0]
    # 1. Wrong item sent: exchange, the buyer pays the price difference of a dearer replacement.
    o = pick[0]
    sku, price = item(o)
    case_open(shop=shop, actor_agent=agent, type="exchange", reason="wrong_item", order=o, responsible="warehouse",
              items=[(sku, 1)], note="发错颜色，买家要换成大一号（更贵）",
              money_lines=[MoneyLineIn("goods", "buyer_to_shop", Decimal("15.00"), "换货差价")])

    # 2. Quality problem within the window: photo, return, refund by the supervisor.
    o = (recent or pick)[0] if (recent or pick)[0] not in pick[:1] else pick[1]
    sku, price = item(o)
    refund = min(price, Decimal("45.00"))
    case = case_open(shop=shop, actor_agent=agent, type="return_refund", reason="quality", order=o,
                     responsible="supplier", items=[(sku, 1)], note="开线，签收当天反馈",
                     money_lines=[MoneyLineIn("goods", "shop_to_buyer", refund, "质量问题退款")])
    evidence.evidence_add(shop=shop, case=case, actor_agent=agent, name="开线.png", data=_photo(), sku=sku)
    case = _walk(shop, case, supervisor, ["waiting_return", "received", "inspected", "refunded"])

    # 2b. Another quality return where the agent's refund is above authority: waiting for approval.
    o = pick[2]
    sku, price = item(o)
    case = case_open(shop=shop, actor_agent=agent, type="refund_only", reason="quality", order=o,
                     responsible="supplier", items=[(sku, 1)], note="污渍，买家不想寄回",
                     money_lines=[MoneyLineIn("goods", "shop_to_buyer", Decimal("38.00"), "部分退款")])
    money.case_refund(shop=shop, case=case, actor_agent=agent, expected_version=case.version, note="买家已拍照")

    # 3. Quality problem outside the window: negotiated compensation, window lifted with a reason.
    o = (old or pick)[0] if old else pick[3]
    sku, price = item(o)
    case = case_open(shop=shop, actor_agent=agent, type="compensation", reason="quality", order=o,
                     responsible="supplier", items=[(sku, 1)], note="使用两周后起球",
                     money_lines=[MoneyLineIn("compensation", "shop_to_buyer", Decimal("10.00"), "协商补偿")])
    case = money.case_override(shop=shop, case=case, actor_agent=supervisor, expected_version=case.version,
                               reason="老客户，主管同意按质量问题处理")
    _walk(shop, case, supervisor, ["compensated"])

    # 4. Lost parcel: refund, then a claim against the courier, paid in part.
    o = pick[4]
    sku, price = item(o)
    lost = min(price, Decimal("90.00"))
    case = case_open(shop=shop, actor_agent=agent, type="refund_only", reason="lost_parcel", order=o,
                     responsible="courier", items=[(sku, 1)], note="物流三天未更新，快递确认丢件",
                     money_lines=[MoneyLineIn("goods", "shop_to_buyer", lost, "丢件退款")])
    case = _walk(shop, case, manager, ["refunded"])
    claim = logistics.claim_file(shop=shop, case=case, actor_agent=manager, expected_version=case.version,
                                 amount_claimed=lost, courier=o.courier or "中通", tracking_no=o.tracking_no or "ZT0001")
    claim = logistics.claim_transition(shop=shop, claim_id=claim.pk, actor_agent=manager, to="accepted",
                                       expected_version=claim.version)
    logistics.claim_transition(shop=shop, claim_id=claim.pk, actor_agent=manager, to="paid",
                               expected_version=claim.version, amount_recovered=(lost * Decimal("0.8")).quantize(
                                   Decimal("0.01")), note="按保价八成赔付")
    # This refund is a few days old in the demo's story: its second-service call is due today, so the
    # daily follow-up reminder has something to tell its owner.
    SecondService.objects.filter(case=case).update(due_on=shop_day(timezone.now(), shop.tz))

    # 5. Early refund: changed mind, the return is on its way, refunded before it arrives.
    o = pick[5]
    sku, price = item(o)
    case = case_open(shop=shop, actor_agent=agent, type="return_refund", reason="changed_mind", order=o,
                     responsible="buyer", items=[(sku, 1)], note="七天无理由",
                     money_lines=[MoneyLineIn("goods", "shop_to_buyer", min(price, Decimal("60.00")), "退货退款")])
    case = _walk(shop, case, manager, ["waiting_return"])
    case = money.case_return_shipped(shop=shop, case=case, actor_agent=manager, expected_version=case.version,
                                     courier="顺丰", tracking_no=f"SF{rnd.randint(10**9, 10**10 - 1)}")
    money.case_early_refund(shop=shop, case=case, actor_agent=manager, expected_version=case.version)

    # 6. Retention: a refund caused by the shop, an exchange plus a small compensation offered and accepted.
    o = pick[6]
    sku, price = item(o)
    case = case_open(shop=shop, actor_agent=agent, type="refund_only", reason="missing_item", order=o,
                     responsible="warehouse", items=[(sku, 1)], note="少发一个枕套，买家要退款",
                     money_lines=[MoneyLineIn("goods", "shop_to_buyer", min(price, Decimal("30.00")), "退款")])
    att = logistics.retention_offer(shop=shop, case=case, actor_agent=agent, expected_version=case.version,
                                    offer="补发枕套并补偿 5 元", offer_amount=Decimal("5.00"))
    case.refresh_from_db()
    case = logistics.retention_decide(shop=shop, case=case, actor_agent=agent, expected_version=case.version,
                                      attempt_id=att.pk, accepted=True).case
    case.refresh_from_db()
    goods = case.money_lines.get(kind="goods")
    case = money.case_line_remove(shop=shop, case=case, actor_agent=agent, expected_version=case.version,
                                  line_id=goods.pk) or case
    case.refresh_from_db()
    _walk(shop, case, agent, ["compensated"])
    say("after-sales: 7 demo cases (exchange, returns, lost parcel claim, early refund, retention), rules")

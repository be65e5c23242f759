"""Demo data of the integrations (DEMO_EXTENSIONS): the demo shop's catalogue imported from a file
(categories, product ids, batches), two automation rules, courier scans of recent parcels, and a
webhook subscription with a real delivery log.

The deliveries are real: while the demo is built, a receiver on 127.0.0.1 (an ephemeral port, in
this process; nothing leaves the machine) checks each signature as docs/examples/webhook_receiver.py
does and acknowledges. Afterwards the subscription points at http://127.0.0.1:8765/ — the README's
receiver — and is left disabled, so the demo never posts to an address nobody listens on; enabling
it after starting that receiver shows events arriving as one acts in the browser.
"""

import csv
import datetime as dt
import random
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.utils import timezone

from kefu.catalog.models import Sku
from kefu.core.enums import Role
from kefu.core.errors import KefuError
from kefu.core.models import Agent, Shop
from kefu.orders.enums import OrderStatus
from kefu.orders.models import Order

from .enums import DeliveryState
from .models import OutboxEvent, RuleFiring, WebhookDelivery, WebhookSubscription

README_RECEIVER = "http://127.0.0.1:8765/"
# The demo's categories (leaf names as the generator has them) under a top level, as a 类目 path.
TOP = {"床品套件": "床上用品", "枕头": "床上用品", "被子": "床上用品", "毛毯": "床上用品", "毛巾浴巾": "浴室用品",
       "地毯地垫": "家居装饰", "窗帘": "家居装饰", "抱枕靠垫": "家居装饰", "收纳": "收纳整理"}
SCANS = 14  # parcels that get courier scans
PLACES = ["杭州", "金华", "上海", "苏州", "南京", "广州", "成都", "北京"]


def _catalog(shop: Shop, date_to: dt.date, say) -> None:
    """The demo's goods as a catalogue file (generic format) imported through the file importer: each
    product gets an id and a category path; the two best-stocked SKUs get two production batches."""
    from kefu.catalog.imports import catalog_file_import

    skus = list(Sku.objects.filter(shop=shop, product__isnull=False).select_related("product").order_by("code"))
    if not skus:
        return
    batched = {s.code for s in sorted((s for s in skus if s.stock), key=lambda s: (-s.stock, s.code))[:2]}
    head = ["商品ID", "宝贝标题", "类目", "商家编码", "规格", "价格", "库存", "状态", "批次", "生产日期", "有效期至"]
    lines = []
    for s in skus:
        p = s.product
        pid = s.code.split("-")[0]
        path = f"{TOP.get(p.category, '家居日用')}/{p.category}" if p.category else ""
        status = "出售中" if s.listed else "已下架"
        if s.code in batched:  # two batches whose quantities add up to the stock on hand
            first = s.stock // 3
            for made, qty in ((date_to - dt.timedelta(days=90), first), (date_to - dt.timedelta(days=30), s.stock - first)):
                code = f"B{pid[2:]}-{made:%y%m%d}"
                lines.append([pid, p.title, path, s.code, s.title, str(s.price), str(qty), status, code,
                              made.isoformat(), (made + dt.timedelta(days=3 * 365)).isoformat()])
        else:
            lines.append([pid, p.title, path, s.code, s.title, str(s.price),
                          "" if s.stock is None else str(s.stock), status, "", "", ""])
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "demo-catalog.csv"
        with open(path, "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([head, *lines])
        got = catalog_file_import(shop=shop, path=path, file_name="demo-catalog.csv")
    say(f"catalogue: {got.summary()}")


def _rules(shop: Shop, manager: Agent) -> None:
    from .rules import rule_save

    rule_save(shop=shop, actor=manager, name="VIP 投诉转主管", event_type="message.created", stop=True,
              conditions=[{"field": "sender", "value": ["buyer"]}, {"field": "keywords", "value": ["投诉"]},
                          {"field": "buyer_grade", "value": ["VIP"]}],
              actions=[{"type": "assign", "role": "supervisor"},
                       {"type": "notify", "role": "supervisor", "text": "VIP 买家提到投诉，已转给你"}])
    rule_save(shop=shop, actor=manager, name="大额订单物流更新提醒主管", event_type="tracking.updated",
              conditions=[{"field": "order_amount", "value": {"min": "500"}}],
              actions=[{"type": "notify", "role": "supervisor", "text": "大额订单有新的物流动态"}])


def _scans(shop: Shop, rnd: random.Random, now: dt.datetime) -> list[dict]:
    """Courier scans (kuaidi100 state codes) of recent parcels: pick-up, transit and delivery at the
    times the orders already have; one parcel held up at a depot."""
    orders = list(Order.objects.filter(shop=shop, shipped_at__isnull=False).exclude(tracking_no="")
                  .filter(status__in=(OrderStatus.SHIPPED, OrderStatus.SIGNED, OrderStatus.COMPLETED))
                  .order_by("-shipped_at", "-id")[:SCANS])
    rows = []
    for n, o in enumerate(orders):
        a, b = rnd.sample(PLACES, 2)
        start = o.shipped_at
        end = o.signed_at or min(now, start + dt.timedelta(hours=40))
        step = (end - start) / 4
        scans = [("1", start, f"【{a}市】{o.courier}【{a}转运中心】已揽收"),
                 ("0", start + step, f"【{a}市】快件已发往【{b}转运中心】"),
                 ("0", start + 2 * step, f"【{b}市】快件已到达【{b}转运中心】")]
        if o.signed_at:
            scans += [("5", start + 3 * step, f"【{b}市】快件派送中，派件员电话已隐藏"),
                      ("3", o.signed_at, f"【{b}市】已签收，签收人：本人")]
        elif n % 5 == 0:
            scans.append(("2", start + 3 * step, f"【{b}市】地址不详，快件滞留在{b}网点，等待与收件人联系"))
        rows += [{"number": o.tracking_no, "courier": o.courier, "state": s, "time": at.isoformat(), "context": c}
                 for s, at, c in scans if at <= now]
    return rows


def _vip_complaint(shop: Shop, manager: Agent, now: dt.datetime) -> str:
    """A VIP buyer writes 投诉 through the live path (as the API receives it), so the rule
    「VIP 投诉转主管」 fires — the chat goes to a supervisor, who is notified — and its dry run
    finds the message. Returns the buyer's nick ("" when the demo has no VIP buyer with an order)."""
    from kefu.conversations.services import messages_clean, messages_ingest
    from kefu.crm.models import CustomerGrade

    vips = CustomerGrade.objects.filter(shop=shop, grade="VIP").values_list("customer_id", flat=True)
    order = (Order.objects.filter(shop=shop, customer_id__in=list(vips), status__in=(OrderStatus.SIGNED, OrderStatus.COMPLETED))
             .select_related("customer").order_by("-created_at", "-id").first())
    if order is None:
        return ""
    rows = [{"message_id": f"demo-vip-{order.order_id}", "buyer_id": order.customer.buyer_id, "sender": "buyer",
             "sent_at": (now - dt.timedelta(minutes=12)).isoformat(), "order_id": order.order_id,
             "text": f"订单{order.order_id}收到就是坏的，问了两天没人管，再不处理我就去平台投诉"}]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz, routed=True), route=True)
    return order.customer.nick or order.customer.buyer_id


class _Receiver(BaseHTTPRequestHandler):
    """What docs/examples/webhook_receiver.py does: check the signature, acknowledge."""

    secret = ""
    received: list[str] = []

    def do_POST(self):
        from .webhooks import signature_valid

        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        ok = signature_valid(secret=self.secret, timestamp=self.headers.get("X-Kefu-Timestamp", ""), body=body,
                             signature=self.headers.get("X-Kefu-Signature", ""))
        if ok:
            self.received.append(self.headers.get("X-Kefu-Event-Id", ""))
        self.send_response(200 if ok else 401)
        self.end_headers()
        self.wfile.write(b"ok" if ok else b"bad signature")

    def log_message(self, *args):
        pass


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    from .outbox import outbox_process
    from .tracking import events_clean, tracking_ingest
    from .webhooks import delivery_attempt, subscription_save

    rnd = random.Random(seed + 14)
    manager = next((a for a in Agent.objects.filter(shop=shop, active=True).order_by("id") if a.has_role(Role.MANAGER)),
                   None)
    _catalog(shop, date_to, say)
    if manager is None:
        return
    _rules(shop, manager)
    now = timezone.now()
    rows = _scans(shop, rnd, now)
    # a receiver on this machine for the time of the demo build
    handler = type("DemoReceiver", (_Receiver,), {"secret": "", "received": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        try:
            sub = subscription_save(shop=shop, actor=manager, name="本地接收端（演示）",
                                    url=f"http://127.0.0.1:{server.server_address[1]}/", event_types=["*"])
            handler.secret = sub.secret  # a random one, as for any subscription
        except KefuError as exc:  # KEFU_WEBHOOK_ALLOW_PRIVATE=0: no local receiver allowed
            say(f"webhook subscription skipped: {exc.message}")
            sub = None
        mark = OutboxEvent.objects.filter(shop=shop).order_by("-id").values_list("id", flat=True).first() or 0
        vip = _vip_complaint(shop, manager, now)
        got = tracking_ingest(shop=shop, rows=events_clean(rows, tz=shop.tz))
        # what the commit would set off, now, while the receiver listens: rules, then deliveries
        fresh = list(OutboxEvent.objects.filter(shop=shop, id__gt=mark).values_list("event_id", flat=True))
        outbox_process(event_ids=fresh)
        delivered = 0
        if sub is not None:
            for pk in WebhookDelivery.objects.filter(subscription=sub).order_by("id").values_list("pk", flat=True):
                d = delivery_attempt(delivery_id=pk)
                delivered += bool(d is not None and d.state == DeliveryState.SUCCEEDED)
    finally:
        server.shutdown()
        server.server_close()
    if sub is not None:
        WebhookSubscription.objects.filter(pk=sub.pk).update(
            url=README_RECEIVER, active=False,
            disabled_reason="演示店：先运行 README 里的 docs/examples/webhook_receiver.py 8765（密钥用本页的签名密钥），再在此启用")
    if vip:
        say(f"rules: VIP buyer {vip} wrote 投诉 — {RuleFiring.objects.filter(rule__shop=shop).count()} firings")
    say(f"tracking: {got.created} scans of {len({r['number'] for r in rows})} parcels; "
        f"webhooks: {delivered} events delivered to a local receiver ({len(handler.received)} signatures checked)")

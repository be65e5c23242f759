"""Test data for the pages, created through the real ingestion services (never metric tables)."""

import datetime as dt

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.services import person_create
from kefu.orders.services import orders_clean, orders_upsert

# Pages' "today" is patched to this shop day in the tests (see the `day` fixture).
DAY = dt.date(2025, 11, 11)


def at(shop, day: dt.date, hh: int, mm: int = 0, ss: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hh, mm, ss), tzinfo=shop.tz).isoformat()


def agent(shop, name: str, *, username: str | None = None, roles=("agent",)):
    return person_create(shop=shop, name=name, username=username, password="pass-word-1" if username else None,
                         roles=list(roles), platform_ids=[f"{shop.code}:{name}"])


def pid(a) -> str:
    """The platform id messages name this agent by."""
    return a.accounts.values_list("platform_id", flat=True).first()


def chat(shop, *, agent, buyer: str, day: dt.date, hour: int = 10, reply_after: int | None = 30,
         bot: bool = False, nick: str = "", text: str = "在吗？这款有货吗", prefix: str = "") -> None:
    """One buyer message to an agent, optionally a bot auto-reply and the agent's reply."""
    account = pid(agent)
    base = f"{prefix}{buyer}-{agent.id}-{day}-{hour}"
    rows = [{"message_id": f"{base}-q", "buyer_id": buyer, "buyer_nick": nick, "agent_id": account, "sender": "buyer",
             "sent_at": at(shop, day, hour), "text": text}]
    if bot:
        rows.append({"message_id": f"{base}-bot", "buyer_id": buyer, "buyer_nick": nick, "agent_id": "", "sender": "bot",
                     "sent_at": at(shop, day, hour, 0, 1), "text": "您好，欢迎光临，客服马上为您服务"})
    if reply_after is not None:
        rows.append({"message_id": f"{base}-a", "buyer_id": buyer, "buyer_nick": nick, "agent_id": account, "sender": "agent",
                     "sent_at": at(shop, day, hour, reply_after // 60, reply_after % 60), "text": "亲，有货的哦"})
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))


def order(shop, *, order_id: str, buyer: str, day: dt.date, hour: int = 11, paid: str = "99.00",
          refund: str = "0", address: str = "", paid_flag: bool = True) -> None:
    row = {"order_id": order_id, "buyer_id": buyer, "created_at": at(shop, day, hour),
           "paid_at": at(shop, day, hour, 1) if paid_flag else "", "total_amount": paid,
           "paid_amount": paid if paid_flag else "0", "refund_amount": refund, "address": address,
           "items": [{"sku": "SKU-1", "quantity": 1, "price": paid}]}
    orders_upsert(shop=shop, rows=orders_clean([row], tz=shop.tz))

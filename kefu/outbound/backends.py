"""Outbox backends: what happens to a queued message after its row is committed.

Setting KEFU_OUTBOUND_BACKEND names a class with `enqueue(message: OutboundMessage) -> None`.
The default appends one JSON line per message to DATA_DIR/outbox/<shop code>.jsonl — a file a
platform connector tails and drains. No backend marks a message sent: only the connector's report
(`outbound_mark`) does.
"""

import json
import threading
from pathlib import Path

from django.conf import settings
from django.utils.module_loading import import_string

DEFAULT_BACKEND = "kefu.outbound.backends.JsonlOutbox"
_lock = threading.Lock()

# Channels Kefu delivers itself (no connector): send() calls the function inside its transaction,
# which stores the message, pushes it to the buyer and marks the row sent (docs/adr/0005-live-push.md).
CHANNEL_DELIVERY = {
    "webchat": "kefu.livechat.delivery.deliver",
}


def channel_delivery(channel: str):
    path = CHANNEL_DELIVERY.get(channel)
    return import_string(path) if path else None


def backend_path() -> str:
    return getattr(settings, "KEFU_OUTBOUND_BACKEND", DEFAULT_BACKEND)


def get_backend():
    return import_string(backend_path())()


def outbox_line(message) -> dict:
    return {
        "id": message.pk, "idempotency_key": message.idempotency_key, "shop": message.shop.code,
        "channel": message.channel, "buyer_id": message.customer.buyer_id, "recipient": message.recipient,
        "kind": message.kind,
        "conversation_id": message.conversation_id, "agent_id": message.agent_id, "text": message.text,
        "created_at": message.created_at.isoformat(),
    }


class JsonlOutbox:
    """Rows in the database plus one JSON line per message in DATA_DIR/outbox/<shop>.jsonl."""

    def path_for(self, shop_code: str) -> Path:
        return Path(settings.DATA_DIR) / "outbox" / f"{shop_code}.jsonl"

    def enqueue(self, message) -> None:
        path = self.path_for(message.shop.code)
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(outbox_line(message), ensure_ascii=False)
        with _lock, path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


class DatabaseOutbox:
    """Rows only: the connector reads GET /api/v1/outbox?state=queued."""

    def enqueue(self, message) -> None:
        return None

"""Message ingestion: validated, idempotent by the sender's message id, facts recorded at once."""

from django.db import transaction

from kefu.core.errors import KefuError, ValidationFailed
from kefu.core.inputs import IngestResult, cell_text
from kefu.core.models import Shop
from kefu.core.services import agents_resolve
from kefu.core.timeutil import parse_moment
from kefu.customers.services import customers_resolve
from kefu.metrics.services import facts_rebuild

from .enums import Sender
from .models import Message

MESSAGE_FIELDS = ("message_id", "channel", "buyer_id", "buyer_nick", "agent_id", "sender", "sent_at", "text", "order_id")
LIMITS = {"message_id": 120, "channel": 40, "buyer_id": 120, "buyer_nick": 120, "agent_id": 120, "order_id": 64}


def message_clean(raw: dict, *, tz) -> dict:
    """One message row → clean values, or KefuError naming the field."""
    row = {k: cell_text(raw, k) for k in MESSAGE_FIELDS if k not in ("text", "sent_at")}
    text = raw.get("text")
    if text is not None and not isinstance(text, str | int | float):
        raise KefuError("must be text", field="text")
    row["text"] = "" if text is None else str(text).replace("\x00", "")
    for key, limit in LIMITS.items():
        if len(row[key]) > limit:
            raise KefuError(f"longer than {limit} characters", field=key)
    if not row["message_id"]:
        raise KefuError("required", field="message_id")
    if not row["buyer_id"]:
        raise KefuError("required", field="buyer_id")
    if row["sender"] not in Sender.values:
        raise KefuError(f"must be one of {'|'.join(Sender.values)}, got {row['sender']!r}", field="sender")
    if row["sender"] in (Sender.BUYER, Sender.AGENT) and not row["agent_id"]:
        raise KefuError(f"required for {row['sender']} messages", field="agent_id")
    try:
        row["sent_at"] = parse_moment(raw.get("sent_at") or "", tz)
    except ValueError as exc:
        raise KefuError(str(exc), field="sent_at") from exc
    row["channel"] = row["channel"] or "generic"
    return row


def messages_clean(raws: list[dict], *, tz, first_row: int = 1) -> list[dict]:
    """Validate every row; raise ValidationFailed listing each bad row and field."""
    rows, errors = [], []
    for i, raw in enumerate(raws):
        try:
            rows.append(message_clean(raw, tz=tz))
        except KefuError as exc:
            errors.append({"row": first_row + i, "field": exc.field, "message": exc.message})
    if errors:
        raise ValidationFailed(errors)
    return rows


def _nicks(rows: list[dict]) -> dict[str, str]:
    """buyer id → the nick a row gives (agent and bot rows often carry none)."""
    nicks: dict[str, str] = {}
    for r in rows:
        if r["buyer_nick"] or r["buyer_id"] not in nicks:
            nicks[r["buyer_id"]] = r["buyer_nick"]
    return nicks


def messages_ingest(*, shop: Shop, rows: list[dict], record_facts: bool = True) -> IngestResult:
    """Store clean message rows; resends are counted as duplicates and change nothing.

    With record_facts=False the caller must call facts_rebuild for result.customer_ids in the
    same transaction (a file import does it once at the end).
    """
    result = IngestResult()
    with transaction.atomic():
        ids = {r["message_id"] for r in rows}
        existing = set(Message.objects.filter(shop=shop, message_id__in=ids).values_list("message_id", flat=True))
        seen, fresh = set(existing), []
        for r in rows:
            if r["message_id"] in seen:
                result.duplicates += 1
                continue
            seen.add(r["message_id"])
            fresh.append(r)
        if not fresh:
            return result
        customers = customers_resolve(shop=shop, nicks=_nicks(fresh))
        agents = agents_resolve(shop=shop, platform_ids={r["agent_id"] for r in fresh})
        Message.objects.bulk_create(
            [
                Message(
                    shop=shop, message_id=r["message_id"], channel=r["channel"],
                    customer_id=customers[r["buyer_id"]], agent_id=agents.get(r["agent_id"]),
                    sender=r["sender"], sent_at=r["sent_at"], text=r["text"], order_ref=r["order_id"],
                )
                for r in fresh
            ],
            ignore_conflicts=True,
            batch_size=1000,
        )
        result.created = len(fresh)
        result.customer_ids = {customers[r["buyer_id"]] for r in fresh}
        if record_facts:
            facts_rebuild(shop=shop, customer_ids=result.customer_ids)
    return result

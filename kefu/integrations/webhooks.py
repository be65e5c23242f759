"""Webhook subscriptions and delivery: HMAC-SHA256 signed POSTs, retries with exponential
back-off for 24 hours, a delivery log, manual redelivery, automatic disabling (AUTO-4).

Signature: `X-Kefu-Signature: v1=<hex HMAC-SHA256(secret, "<X-Kefu-Timestamp>.<raw body>")>`;
receivers refuse a timestamp more than 5 minutes off (replay) and de-duplicate on
`X-Kefu-Event-Id` (the same for every retry and redelivery of an event).

Addresses: only http(s) URLs without user info. The host is resolved when the subscription is
saved and again before every POST, and the POST goes to the address that was checked (no second
DNS answer, no redirects followed). Link-local (169.254.0.0/16, fe80::/10: cloud metadata),
multicast, reserved and unspecified addresses are always refused; loopback and private networks
are allowed by default (shops run Kefu on an intranet beside their ERP) and refused when
KEFU_WEBHOOK_ALLOW_PRIVATE=0.
"""

import datetime as dt
import hashlib
import hmac
import http.client
import ipaddress
import json
import secrets
import socket
import ssl
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from kefu.approvals.services import notify
from kefu.core.access import user_of
from kefu.core.enums import Role
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .enums import DeliveryState, RuleErrorCode
from .events import event_types
from .models import OutboxEvent, WebhookAttempt, WebhookDelivery, WebhookSubscription

TIMEOUT = 10  # seconds for one POST
RETRY_FOR = dt.timedelta(hours=24)
MAX_DELAY = dt.timedelta(hours=6)
CLAIM = dt.timedelta(seconds=60)
SNIPPET = 500
REPLAY_WINDOW = 300  # what receivers should accept, in seconds (the README's receiver uses it)


# ---------------------------------------------------------------- signing

def sign(*, secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signature_valid(*, secret: str, timestamp: str, body: bytes, signature: str, now: float | None = None,
                    window: int = REPLAY_WINDOW) -> bool:
    """What a receiver checks (the README's example does the same in 10 lines)."""
    try:
        ts = int(timestamp)
    except (TypeError, ValueError):
        return False
    if abs((now if now is not None else time.time()) - ts) > window:
        return False
    return hmac.compare_digest(sign(secret=secret, timestamp=ts, body=body), signature or "")


def envelope(event: OutboxEvent, shop_code: str) -> dict:
    return {"id": str(event.event_id), "type": event.type, "created_at": event.created_at.isoformat(),
            "shop": shop_code, "subject": {"kind": event.subject, "id": event.subject_id}, "data": event.data}


# ---------------------------------------------------------------- addresses (SSRF)

def _allow_private() -> bool:
    return bool(getattr(settings, "KEFU_WEBHOOK_ALLOW_PRIVATE", True))


def _address_refused(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    if ip.is_link_local or ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return "a link-local, multicast, reserved or unspecified address"
    if not _allow_private() and (ip.is_loopback or ip.is_private or ip in ipaddress.ip_network("100.64.0.0/10")):
        return "a loopback or private address (KEFU_WEBHOOK_ALLOW_PRIVATE=0)"
    return None


def url_resolve(url: str) -> tuple[str, str, int, list[str]]:
    """(scheme, host, port, checked addresses) of a webhook URL, or KefuError saying why not."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https"):
        raise KefuError("only http:// and https:// URLs", field="url", code=RuleErrorCode.BAD_URL)
    if not parts.hostname or parts.username or parts.password:
        raise KefuError("a host is needed, and no user:password@ in the URL", field="url", code=RuleErrorCode.BAD_URL)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:
        raise KefuError("bad port", field="url", code=RuleErrorCode.BAD_URL) from exc
    try:
        infos = socket.getaddrinfo(parts.hostname, port, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise KefuError(f"cannot resolve {parts.hostname}", field="url", code=RuleErrorCode.BAD_URL) from exc
    addrs = sorted({info[4][0] for info in infos})
    for a in addrs:
        why = _address_refused(ipaddress.ip_address(a.split("%")[0]))
        if why:
            raise KefuError(f"{parts.hostname} resolves to {a}: {why} is not allowed", field="url",
                            code=RuleErrorCode.BAD_URL)
    return parts.scheme, parts.hostname, port, addrs


def _post(url: str, body: bytes, headers: dict) -> tuple[int, str]:
    """POST to the checked address of url (no redirects). Returns (status, start of the answer)."""
    scheme, host, port, addrs = url_resolve(url)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    sock = socket.create_connection((addrs[0], port), timeout=TIMEOUT)
    try:
        if scheme == "https":
            sock = ssl.create_default_context().wrap_socket(sock, server_hostname=host)
            conn = http.client.HTTPSConnection(host, port, timeout=TIMEOUT)
        else:
            conn = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        conn.sock = sock
        conn.request("POST", path, body=body, headers={**headers, "Host": parts.netloc.rsplit("@", 1)[-1]})
        resp = conn.getresponse()
        text = resp.read(SNIPPET * 4).decode("utf-8", "replace")
        return resp.status, text[:SNIPPET]
    finally:
        sock.close()


# ---------------------------------------------------------------- subscriptions

def _manager_only(actor: Agent | None) -> None:
    if actor is not None and not actor.has_role(Role.MANAGER, Role.ADMIN):
        raise PermissionDenied("only managers and admins manage webhooks", code=RuleErrorCode.MANAGER_ONLY)


def _types_clean(types) -> list[str]:
    if not isinstance(types, list) or not types:
        raise KefuError('choose at least one event type (or "*" for all)', field="event_types")
    known = event_types()
    bad = [t for t in types if t != "*" and t not in known]
    if bad:
        raise KefuError(f"unknown event type {bad[0]!r}; known: {', '.join(known)}", field="event_types")
    return sorted(set(types))


def subscription_save(*, shop: Shop, actor: Agent | None, name: str, url: str, event_types: list[str],
                      subscription: WebhookSubscription | None = None, active: bool | None = None,
                      secret: str | None = None) -> WebhookSubscription:
    """Create or change a subscription (managers). A new one gets a random secret unless given."""
    _manager_only(actor)
    name = (name or "").strip()[:60]
    if not name:
        raise KefuError("a name is needed", field="name")
    url = (url or "").strip()
    if len(url) > 500:
        raise KefuError("at most 500 characters", field="url")
    url_resolve(url)
    types = _types_clean(event_types)
    with transaction.atomic():
        if subscription is None:
            sub = WebhookSubscription.objects.create(
                shop=shop, name=name, url=url, event_types=types, created_by=actor,
                secret=secret or "whsec_" + secrets.token_urlsafe(24))
            audit_record(shop=shop, actor=user_of(actor), action="webhook.create", entity=sub,
                         after={"url": url, "types": types})
            return sub
        sub = WebhookSubscription.objects.select_for_update().get(shop=shop, pk=subscription.pk)
        old = {"name": sub.name, "url": sub.url, "types": sub.event_types, "active": sub.active}
        sub.name, sub.url, sub.event_types = name, url, types
        if secret:
            sub.secret = secret
        if active is not None and active != sub.active:
            sub.active = active
            if active:  # re-enabled by hand: a fresh start
                sub.failures, sub.failing_since, sub.disabled_reason = 0, None, ""
        sub.save()
        audit_record(shop=shop, actor=user_of(actor), action="webhook.update", entity=sub, before=old,
                     after={"name": name, "url": url, "types": types, "active": sub.active})
        return sub


def subscription_delete(*, shop: Shop, actor: Agent | None, subscription: WebhookSubscription) -> None:
    _manager_only(actor)
    audit_record(shop=shop, actor=user_of(actor), action="webhook.delete", entity=subscription,
                 before={"url": subscription.url})
    subscription.delete()


# ---------------------------------------------------------------- delivery

def backoff(attempts: int) -> dt.timedelta:
    """Wait after the n-th failed attempt: 1, 2, 4 … minutes, at most 6 hours."""
    return min(dt.timedelta(minutes=2 ** (attempts - 1)), MAX_DELAY)


def deliveries_create(*, events: list[OutboxEvent]) -> list[int]:
    """A delivery for each active subscription of the shop that wants the event (once each; the
    subscriptions read once for all the events). Returns the pending deliveries of these events."""
    subs: dict[int, list[WebhookSubscription]] = {}
    for s in WebhookSubscription.objects.filter(shop_id__in={e.shop_id for e in events}, active=True):
        subs.setdefault(s.shop_id, []).append(s)
    WebhookDelivery.objects.bulk_create(
        [WebhookDelivery(shop_id=e.shop_id, subscription=s, event=e, next_attempt_at=e.created_at)
         for e in events for s in subs.get(e.shop_id, ()) if s.wants(e.type)], ignore_conflicts=True)
    return list(WebhookDelivery.objects.filter(event__in=events, state=DeliveryState.PENDING)
                .order_by("id").values_list("pk", flat=True))


def _claim(delivery_id: int, now: dt.datetime, manual: bool) -> bool:
    """Take the delivery for one attempt; False when another worker has it, it is done, or not due."""
    qs = WebhookDelivery.objects.filter(pk=delivery_id, subscription__active=True)
    if manual:
        qs = qs.filter(~Q(state=DeliveryState.SENDING) | Q(claimed_until__lt=now))
    else:
        qs = qs.filter(Q(state=DeliveryState.PENDING, next_attempt_at__lte=now)
                       | Q(state=DeliveryState.SENDING, claimed_until__lt=now))
    return qs.update(state=DeliveryState.SENDING, claimed_until=now + CLAIM) == 1


def delivery_attempt(*, delivery_id: int, now: dt.datetime | None = None, manual: bool = False) -> WebhookDelivery | None:
    """POST the event once. Success ends the delivery; a failure schedules the next try (back-off)
    until 24 hours after the event, then gives up. Returns None when the delivery was not due or
    another worker holds it (so a resent task never sends twice at once)."""
    now = now or timezone.now()
    if not _claim(delivery_id, now, manual):
        return None
    d = WebhookDelivery.objects.select_related("event", "subscription", "shop").get(pk=delivery_id)
    body = json.dumps(envelope(d.event, d.shop.code), ensure_ascii=False, separators=(",", ":")).encode()
    ts = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "Kefu-Webhooks/1",
        "X-Kefu-Event": d.event.type, "X-Kefu-Event-Id": str(d.event.event_id), "X-Kefu-Delivery": str(d.pk),
        "X-Kefu-Timestamp": str(ts), "X-Kefu-Signature": sign(secret=d.subscription.secret, timestamp=ts, body=body),
    }
    started = time.monotonic()
    status, answer, error = None, "", ""
    try:
        status, answer = _post(d.subscription.url, body, headers)
    except KefuError as exc:
        error = exc.message
    except (OSError, http.client.HTTPException) as exc:
        error = f"{type(exc).__name__}: {exc}"[:300]
    latency = int((time.monotonic() - started) * 1000)
    ok = status is not None and 200 <= status < 300
    return _record(d, now=now, ok=ok, status=status, answer=answer, error=error, latency=latency, manual=manual)


def _record(d: WebhookDelivery, *, now, ok, status, answer, error, latency, manual) -> WebhookDelivery:
    with transaction.atomic():
        d = WebhookDelivery.objects.select_for_update().get(pk=d.pk)
        sub = WebhookSubscription.objects.select_for_update().get(pk=d.subscription_id)
        d.attempts += 1
        WebhookAttempt.objects.create(shop_id=d.shop_id, delivery=d, number=d.attempts, manual=manual,
                                      status_code=status, latency_ms=latency, response=answer, error=error)
        d.status_code, d.latency_ms, d.response, d.error, d.claimed_until = status, latency, answer, error, None
        if ok:
            d.state, d.delivered_at, d.next_attempt_at = DeliveryState.SUCCEEDED, now, None
            sub.failures, sub.failing_since = 0, None
            sub.save(update_fields=["failures", "failing_since"])
        else:
            nxt = now + backoff(d.attempts)
            if nxt > d.event.created_at + RETRY_FOR:
                d.state, d.next_attempt_at = DeliveryState.FAILED, None
            else:
                d.state, d.next_attempt_at = DeliveryState.PENDING, nxt
            sub.failures = F("failures") + 1
            sub.failing_since = sub.failing_since or now
            sub.save(update_fields=["failures", "failing_since"])
            sub.refresh_from_db(fields=["failures", "failing_since"])
            if sub.active and (d.state == DeliveryState.FAILED or sub.failing_since <= now - RETRY_FOR):
                since = timezone.localtime(sub.failing_since, d.shop.tz)
                _disable(sub, reason=f"连续失败 {sub.failures} 次（自 {since:%Y-%m-%d %H:%M} 起无一成功）")
        d.save()
        if d.state == DeliveryState.PENDING and not manual:
            transaction.on_commit(lambda: _enqueue(d.pk, d.next_attempt_at))
    return d


def _disable(sub: WebhookSubscription, *, reason: str) -> None:
    sub.active, sub.disabled_reason = False, reason[:300]
    sub.save(update_fields=["active", "disabled_reason"])
    notify(shop=sub.shop, recipients=managers_of(sub.shop_id),
           text=f"Webhook「{sub.name}」已自动停用：{reason}。修好接收端后在「集成」页重新启用并重发。",
           link=f"/integrations/webhooks/{sub.pk}/")


def managers_of(shop_id: int) -> list[Agent]:
    return [a for a in Agent.objects.filter(shop_id=shop_id, active=True) if a.has_role(Role.MANAGER, Role.ADMIN)]


def _enqueue(delivery_id: int, when: dt.datetime | None) -> None:
    from .tasks import webhook_deliver_task

    if when is not None and when > timezone.now():
        webhook_deliver_task.using(run_after=when).enqueue(delivery_id)
    else:
        webhook_deliver_task.enqueue(delivery_id)


def deliveries_attempt(*, delivery_ids: list[int], now: dt.datetime | None = None) -> int:
    """First attempts of new deliveries to one subscription, in event order (one task for a batch).
    After a failed attempt the rest wait until the failed one's next try instead of each asking a
    receiver that is down. Returns how many were delivered."""
    delivered = 0
    for n, pk in enumerate(delivery_ids):
        got = delivery_attempt(delivery_id=pk, now=now)
        if got is None:
            continue
        if got.state == DeliveryState.SUCCEEDED:
            delivered += 1
        elif got.state == DeliveryState.PENDING and delivery_ids[n + 1 :]:
            rest = delivery_ids[n + 1 :]
            WebhookDelivery.objects.filter(pk__in=rest, state=DeliveryState.PENDING,
                                           next_attempt_at__lt=got.next_attempt_at).update(
                next_attempt_at=got.next_attempt_at)
            _enqueue_many(rest, got.next_attempt_at)
            break
    return delivered


def _enqueue_many(delivery_ids: list[int], when: dt.datetime | None = None) -> None:
    from .tasks import webhook_deliveries_task

    if when is not None and when > timezone.now():
        webhook_deliveries_task.using(run_after=when).enqueue(delivery_ids)
    else:
        webhook_deliveries_task.enqueue(delivery_ids)


def delivery_redeliver(*, shop: Shop, actor: Agent | None, delivery: WebhookDelivery) -> WebhookDelivery:
    """Send it again now (managers), whatever its state: same event id, a new attempt in the log."""
    _manager_only(actor)
    if not delivery.subscription.active:
        raise KefuError("the subscription is disabled: enable it first", field="subscription")
    got = delivery_attempt(delivery_id=delivery.pk, manual=True)
    if got is None:
        raise KefuError("it is being sent right now; look again in a minute", field="delivery", code="already_done")
    return got

"""Reviews (CMP-2) and platform disputes (CMP-3): import (API and file, one cleaner), one task per
medium/bad review, the task's state machine with its revision outcome, disputes with evidence.

Imports are all-or-nothing: every row is cleaned first (errors name the row index and the
field), then everything is written in one transaction. A resend of a review_id is a duplicate;
a re-import that turns a medium/bad review good closes its task as revised.
"""

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.core.access import sees_whole_shop, user_of
from kefu.core.errors import KefuError, NotFound, PermissionDenied, ValidationFailed, row_number
from kefu.core.files import sniff
from kefu.core.inputs import cell_text, clean_text
from kefu.core.models import Agent, AgentAccount, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import parse_moment
from kefu.customers.services import customers_resolve
from kefu.orders.models import Order

from .enums import (
    EVIDENCE_MAX_BYTES,
    EVIDENCE_TYPES,
    ComplaintErrorCode,
    DisputeAction,
    DisputeKind,
    DisputeState,
    ReviewLevel,
    ReviewOutcome,
    ReviewTaskAction,
    ReviewTaskState,
)
from .models import Dispute, DisputeEvent, DisputeEvidence, Review, ReviewTask, ReviewTaskEvent
from .sentiment import analyse

E = ComplaintErrorCode
LEVEL_WORDS = {"好评": ReviewLevel.GOOD, "中评": ReviewLevel.MEDIUM, "差评": ReviewLevel.BAD,
               "good": ReviewLevel.GOOD, "medium": ReviewLevel.MEDIUM, "bad": ReviewLevel.BAD}
# Chinese headers of platform exports → our columns.
HEADERS = {"评价ID": "review_id", "评价编号": "review_id", "订单编号": "order_id", "订单号": "order_id",
           "买家ID": "buyer_id", "买家": "buyer_id", "SKU": "sku", "商品编码": "sku", "评分": "rating",
           "评价等级": "rating", "星级": "rating", "评价内容": "text", "内容": "text", "评价时间": "created_at",
           "客服": "agent_id", "客服账号": "agent_id"}
REQUIRED = ("review_id", "buyer_id", "rating", "created_at")


def level_of(rating: int | None, word: str | None = None) -> str:
    if word:
        return LEVEL_WORDS[word]
    return ReviewLevel.BAD if rating <= 2 else ReviewLevel.MEDIUM if rating == 3 else ReviewLevel.GOOD


def review_clean(raw: dict, *, tz) -> dict:
    out = {}
    for key, limit in (("review_id", 120), ("order_id", 64), ("buyer_id", 120), ("sku", 80), ("agent_id", 120)):
        value = cell_text(raw, key)
        if len(value) > limit:
            raise KefuError(f"at most {limit} characters", field=key)
        out[key] = value
    for key in ("review_id", "buyer_id"):
        if not out[key]:
            raise KefuError("required", field=key)
    rating = cell_text(raw, "rating")
    if rating in LEVEL_WORDS:
        out["rating"], out["level"] = None, level_of(None, rating)
    elif rating.isdigit() and 1 <= int(rating) <= 5:
        out["rating"] = int(rating)
        out["level"] = level_of(out["rating"])
    else:
        raise KefuError("must be 1–5 or 好评/中评/差评", field="rating")
    text = raw.get("text")
    if text is not None and not isinstance(text, str | int | float):
        raise KefuError("must be text", field="text")
    out["text"] = str(text or "").replace("\x00", "").strip()
    if len(out["text"]) > 5000:
        raise KefuError("at most 5000 characters", field="text")
    try:
        out["created_at"] = parse_moment(cell_text(raw, "created_at"), tz)
    except ValueError as exc:
        raise KefuError(str(exc), field="created_at") from exc
    return out


def reviews_clean(raws: list[dict], *, tz, first_row: int = 0) -> list[dict]:
    rows, errors = [], []
    for i, raw in enumerate(raws):
        try:
            row = review_clean(raw, tz=tz)
            row["_line"] = row_number(raw, first_row + i)  # for the errors found after cleaning
            rows.append(row)
        except KefuError as exc:
            errors.append({"row": row_number(raw, first_row + i), "field": exc.field, "message": exc.message})
    if errors:
        raise ValidationFailed(errors)
    return rows


def _agents_by_ref(shop: Shop, refs: set[str]) -> dict[str, int]:
    """An agent named by a platform account (店铺:小美) or by name."""
    found = dict(AgentAccount.objects.filter(shop=shop, platform_id__in=refs).values_list("platform_id", "agent_id"))
    rest = refs - set(found)
    if rest:
        found.update(Agent.objects.filter(shop=shop, name__in=rest).values_list("name", "id"))
    return found


@dataclass
class ReviewImport:
    created: int = 0
    duplicates: int = 0
    updated: int = 0
    tasks_created: int = 0
    tasks_revised: int = 0


def reviews_ingest(*, shop: Shop, rows: list[dict], first_row: int = 0, actor: Agent | None = None) -> ReviewImport:
    """Write cleaned rows (all or nothing). Unknown agents are row errors, as are duplicate ids in one batch."""
    from kefu.metrics.models import OrderCredit

    errors, seen = [], {}
    for i, r in enumerate(rows):
        line = r.get("_line", first_row + i)  # a file row's own line (multi-line cells, blank lines)
        if r["review_id"] in seen:
            errors.append({"row": line, "field": "review_id", "message": f"repeats row {seen[r['review_id']]}"})
        seen.setdefault(r["review_id"], line)
    agents = _agents_by_ref(shop, {r["agent_id"] for r in rows if r["agent_id"]})
    for i, r in enumerate(rows):
        if r["agent_id"] and r["agent_id"] not in agents:
            errors.append({"row": r.get("_line", first_row + i), "field": "agent_id",
                           "message": f"unknown agent {r['agent_id']!r}"})
    if errors:
        raise ValidationFailed(errors)
    result = ReviewImport()
    now = timezone.now()
    with transaction.atomic():
        existing = {r.review_id: r for r in Review.objects.select_for_update(of=("self",))
                    .filter(shop=shop, review_id__in=list(seen)).select_related("task")}
        new_rows = [r for r in rows if r["review_id"] not in existing]
        orders = {o.order_id: o for o in Order.objects.filter(shop=shop, order_id__in={r["order_id"] for r in new_rows
                                                                                      if r["order_id"]})}
        credits = dict(OrderCredit.objects.filter(order__in=list(orders.values()), agent__isnull=False)
                       .values_list("order_id", "agent_id"))
        customers = customers_resolve(shop=shop, nicks={r["buyer_id"]: "" for r in new_rows})
        for r in rows:
            old = existing.get(r["review_id"])
            if old is not None:
                result.duplicates += _reimport(shop, old, r, now, result)
                continue
            order = orders.get(r["order_id"])
            agent_id, source = agents.get(r["agent_id"]), "import"
            if agent_id is None:
                agent_id = credits.get(order.pk) if order else None
                source = "credit" if agent_id else ""
            s = analyse(r["text"])
            review = Review.objects.create(shop=shop, review_id=r["review_id"], order_ref=r["order_id"], order=order,
                                           customer_id=customers[r["buyer_id"]], sku=r["sku"], rating=r["rating"],
                                           level=r["level"], text=r["text"], created_at=r["created_at"],
                                           agent_id=agent_id, agent_source=source, negativity=s.priority)
            result.created += 1
            if r["level"] != ReviewLevel.GOOD:
                _task_create(shop, review, actor)
                result.tasks_created += 1
        if result.created or result.updated:
            audit_record(shop=shop, actor=user_of(actor), action="reviews.import", entity=shop,
                         after={"created": result.created, "updated": result.updated,
                                "tasks": result.tasks_created, "revised": result.tasks_revised})
    return result


def _reimport(shop, old: Review, r: dict, now, result: ReviewImport) -> int:
    """A resend: unchanged → duplicate (1); a changed rating/text updates the review, and a
    medium/bad review now good closes its task as revised (the platform shows the new rating)."""
    if (old.rating, old.level, old.text) == (r["rating"], r["level"], r["text"]):
        return 1
    old.rating, old.level, old.text = r["rating"], r["level"], r["text"]
    old.negativity = analyse(r["text"]).priority
    old.save(update_fields=["rating", "level", "text", "negativity"])
    result.updated += 1
    task = getattr(old, "task", None)
    if task is not None and task.is_open and r["level"] == ReviewLevel.GOOD:
        task = ReviewTask.objects.select_for_update().get(pk=task.pk)
        task.shop = shop
        review_task_transition(task=task, action=ReviewTaskAction.CLOSE, actor=None, outcome=ReviewOutcome.REVISED,
                               note="导入：评价已改为好评", now=now)
        result.tasks_revised += 1
    elif task is None and r["level"] != ReviewLevel.GOOD:
        _task_create(shop, old, None)
        result.tasks_created += 1
    return 0


def _task_priority(review: Review) -> int:
    # A bad review first, then the angrier text; 0–100 either way.
    base = 50 if review.level == ReviewLevel.BAD else 20
    return min(100, base + review.negativity // 2)


def _task_create(shop: Shop, review: Review, actor: Agent | None) -> ReviewTask:
    owner = review.agent_id if review.agent_id and Agent.objects.filter(pk=review.agent_id, active=True).exists() \
        else None
    task = ReviewTask.objects.create(shop=shop, review=review, owner_id=owner, priority=_task_priority(review))
    ReviewTaskEvent.objects.create(shop=shop, task=task, action=ReviewTaskAction.CREATE, to_state=task.state,
                                   actor=actor, note=f"{review.get_level_display()} {review.review_id}")
    return task


def reviews_import_file(*, shop: Shop, path: str | Path, actor: Agent | None = None) -> ReviewImport:
    """A CSV (UTF-8 or GBK) or XLSX file; English or Chinese headers; row numbers are file lines."""
    from kefu.importers.files import read_table

    headers, raw = read_table(path)
    mapped = [HEADERS.get(h, h) for h in headers]
    missing = [c for c in REQUIRED if c not in mapped]
    if missing:
        raise KefuError(f"missing column(s): {', '.join(missing)}", field="file")
    rows = [{HEADERS.get(k, k): v for k, v in r.items()} for r in raw]
    clean = reviews_clean(rows, tz=shop.tz, first_row=2)
    return reviews_ingest(shop=shop, rows=clean, first_row=2, actor=actor)


# ---------------------------------------------------------------- review tasks

T, TA = ReviewTaskState, ReviewTaskAction
TASK_TRANSITIONS: dict[tuple[str, str], str] = {
    (T.OPEN, TA.CONTACT): T.CONTACTED,
    (T.CONTACTED, TA.CONTACT): T.CONTACTED,
    (T.OPEN, TA.RESOLVE): T.RESOLVED,
    (T.CONTACTED, TA.RESOLVE): T.RESOLVED,
    (T.OPEN, TA.CLOSE): T.CLOSED,
    (T.CONTACTED, TA.CLOSE): T.CLOSED,
    (T.RESOLVED, TA.CLOSE): T.CLOSED,
}
TASK_PERSON_ACTIONS = (TA.CONTACT, TA.RESOLVE, TA.CLOSE)


def review_task_transition(*, task: ReviewTask, action: str, actor: Agent | None, note: str = "",
                           resolution: str = "", outcome: str = "", now: dt.datetime | None = None) -> ReviewTask:
    """Move a task along TASK_TRANSITIONS; the caller holds the row lock inside a transaction."""
    to_state = TASK_TRANSITIONS.get((task.state, action))
    if to_state is None:
        raise KefuError(f"cannot {action} a review task that is {task.state}", field="action",
                        code=E.INVALID_TRANSITION)
    if action == TA.RESOLVE and not resolution:
        raise KefuError("say how it was resolved", field="resolution")
    if action == TA.CLOSE and outcome not in ReviewOutcome.values:
        raise KefuError(f"outcome must be one of {', '.join(ReviewOutcome.values)}", field="outcome")
    if action == TA.CLOSE and outcome == ReviewOutcome.REVISED and actor is not None and task.state == T.OPEN:
        raise KefuError("contact the buyer before recording a revision", field="outcome", code=E.INVALID_TRANSITION)
    from_state = task.state
    task.state = to_state
    fields = ["state", "updated_at"]
    if action == TA.CONTACT:
        task.contact_count += 1
        fields.append("contact_count")
    if resolution:
        task.resolution = resolution
        fields.append("resolution")
    if action == TA.CLOSE:
        task.outcome, task.closed_at = outcome, now or timezone.now()
        fields += ["outcome", "closed_at"]
    if task.owner_id is None and actor is not None:
        task.owner = actor  # the first person to act on an unassigned task takes it
        fields.append("owner")
    task.save(update_fields=fields)
    ReviewTaskEvent.objects.create(shop_id=task.shop_id, task=task, action=action, from_state=from_state,
                                   to_state=to_state, actor=actor,
                                   note=" ".join(x for x in (outcome, resolution, note) if x)[:500])
    audit_record(shop=task.shop, actor=user_of(actor), action=f"review_task.{action}", entity=task,
                 before={"state": from_state}, after={"state": to_state, "outcome": outcome, "resolution": resolution,
                                                      "note": note, "by": actor.name if actor else "system"})
    return task


def review_task_act(*, shop: Shop, task_id: int, action: str, actor: Agent | None, note=None, resolution=None,
                    outcome=None) -> ReviewTask:
    if action not in TASK_PERSON_ACTIONS:
        raise KefuError(f"action must be one of {', '.join(TASK_PERSON_ACTIONS)}", field="action")
    note = clean_text(note, field="note", max_len=500)
    resolution = clean_text(resolution, field="resolution", max_len=500)
    outcome = clean_text(outcome, field="outcome", max_len=20)
    with transaction.atomic():
        task = ReviewTask.objects.select_for_update().filter(shop=shop, pk=task_id).first()
        if task is None:
            raise NotFound("review task not found", field="task_id")
        if actor is not None and task.owner_id not in (None, actor.pk) and not sees_whole_shop(actor):
            raise PermissionDenied("only the owner or a supervisor may act on this task", field="owner",
                                   code=E.NOT_OWNER)
        task.shop = shop
        return review_task_transition(task=task, action=action, actor=actor, note=note, resolution=resolution,
                                      outcome=outcome)


def review_task_assign(*, shop: Shop, task_id: int, owner: Agent, actor: Agent | None) -> ReviewTask:
    if actor is not None and not sees_whole_shop(actor):
        raise PermissionDenied("supervisors and up assign review tasks", field="owner_id", code=E.SUPERVISOR_ONLY)
    if owner.shop_id != shop.pk or not owner.active:
        raise NotFound("person not found", field="owner_id")
    with transaction.atomic():
        task = ReviewTask.objects.select_for_update().filter(shop=shop, pk=task_id).first()
        if task is None:
            raise NotFound("review task not found", field="task_id")
        before = task.owner_id
        task.owner = owner
        task.save(update_fields=["owner", "updated_at"])
        audit_record(shop=shop, actor=user_of(actor), action="review_task.assign", entity=task,
                     before={"owner": before}, after={"owner": owner.pk})
    return task


# ---------------------------------------------------------------- disputes (CMP-3)

D, DA = DisputeState, DisputeAction
DISPUTE_TRANSITIONS: dict[tuple[str, str], str] = {
    (D.OPEN, DA.SUBMIT): D.SUBMITTED,
    (D.SUBMITTED, DA.WIN): D.WON,
    (D.SUBMITTED, DA.LOSE): D.LOST,
    (D.OPEN, DA.WITHDRAW): D.WITHDRAWN,
    (D.SUBMITTED, DA.WITHDRAW): D.WITHDRAWN,
}
DISPUTE_PERSON_ACTIONS = (DA.SUBMIT, DA.WIN, DA.LOSE, DA.WITHDRAW)


def dispute_create(*, shop: Shop, kind: str, description, actor: Agent | None, owner: Agent | None = None,
                   order: Order | None = None, review: Review | None = None, platform_ref=None) -> Dispute:
    if kind not in DisputeKind.values:
        raise KefuError(f"must be one of {', '.join(DisputeKind.values)}", field="kind")
    description = clean_text(description, field="description", max_len=1000, required=True)
    platform_ref = clean_text(platform_ref, field="platform_ref", max_len=64)
    if order is not None and order.shop_id != shop.pk:
        raise NotFound("order not found", field="order_id")
    if review is not None and review.shop_id != shop.pk:
        raise NotFound("review not found", field="review_id")
    owner = owner or actor
    if owner is None:
        raise KefuError("name the owner of the dispute", field="owner_id")
    if owner.shop_id != shop.pk or not owner.active:
        raise NotFound("person not found", field="owner_id")
    with transaction.atomic():
        d = Dispute.objects.create(shop=shop, kind=kind, description=description, owner=owner, order=order,
                                   review=review, platform_ref=platform_ref)
        DisputeEvent.objects.create(shop=shop, dispute=d, action=DA.CREATE, to_state=d.state, actor=actor,
                                    note=description[:500])
        audit_record(shop=shop, actor=user_of(actor), action="dispute.create", entity=d,
                     after={"kind": kind, "order": order.order_id if order else None, "owner": owner.name})
    return d


def _locked_dispute(shop: Shop, dispute_id: int, actor: Agent | None) -> Dispute:
    d = Dispute.objects.select_for_update().filter(shop=shop, pk=dispute_id).first()
    if d is None:
        raise NotFound("dispute not found", field="dispute_id")
    if actor is not None and actor.pk != d.owner_id and not sees_whole_shop(actor):
        raise PermissionDenied("only the owner or a supervisor may act on this dispute", field="owner",
                               code=E.NOT_OWNER)
    d.shop = shop
    return d


def dispute_act(*, shop: Shop, dispute_id: int, action: str, actor: Agent | None, note=None,
                now: dt.datetime | None = None) -> Dispute:
    if action not in DISPUTE_PERSON_ACTIONS:
        raise KefuError(f"action must be one of {', '.join(DISPUTE_PERSON_ACTIONS)}", field="action")
    note = clean_text(note, field="note", max_len=500, required=action in (DA.WIN, DA.LOSE))
    now = now or timezone.now()
    with transaction.atomic():
        d = _locked_dispute(shop, dispute_id, actor)
        to_state = DISPUTE_TRANSITIONS.get((d.state, action))
        if to_state is None:
            raise KefuError(f"cannot {action} a dispute that is {d.state}", field="action", code=E.INVALID_TRANSITION)
        if action == DA.SUBMIT and not d.evidence.exists():
            raise KefuError("attach evidence before submitting to the platform", field="evidence")
        from_state, d.state = d.state, to_state
        fields = ["state", "updated_at"]
        if action == DA.SUBMIT:
            d.submitted_at = now
            fields.append("submitted_at")
        else:
            d.closed_at, d.outcome = now, note
            fields += ["closed_at", "outcome"]
        d.save(update_fields=fields)
        DisputeEvent.objects.create(shop=shop, dispute=d, action=action, from_state=from_state, to_state=to_state,
                                    actor=actor, note=note)
        audit_record(shop=shop, actor=user_of(actor), action=f"dispute.{action}", entity=d,
                     before={"state": from_state}, after={"state": to_state, "note": note})
    return d


def _check_file(upload: UploadedFile) -> tuple[str, str]:
    name = Path(upload.name or "").name
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in EVIDENCE_TYPES:
        raise KefuError(f"file type not accepted; use one of {', '.join(EVIDENCE_TYPES)}", field="file",
                        code=E.BAD_FILE)
    if not upload.size:
        raise KefuError("the file is empty", field="file", code=E.BAD_FILE)
    if upload.size > EVIDENCE_MAX_BYTES:
        raise KefuError(f"at most {EVIDENCE_MAX_BYTES // (1024 * 1024)} MB", field="file", code=E.BAD_FILE)
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if ext == "txt":  # a chat transcript: text, never binary
        if b"\x00" in head:
            raise KefuError(f"the content is not a .{ext} file", field="file", code=E.BAD_FILE)
        return name[-200:], "text/plain"
    sniffed = sniff(head)
    if sniffed is None or ext not in sniffed.extensions:
        raise KefuError(f"the content is not a .{ext} file", field="file", code=E.BAD_FILE)
    return name[-200:], sniffed.content_type


def dispute_evidence_add(*, shop: Shop, dispute_id: int, upload: UploadedFile, actor: Agent | None,
                         note=None) -> DisputeEvidence:
    """Store one evidence file through Django's storage API (type and size checked first)."""
    name, content_type = _check_file(upload)
    note = clean_text(note, field="note", max_len=300)
    with transaction.atomic():
        d = _locked_dispute(shop, dispute_id, actor)
        if not d.is_open:
            raise KefuError("the dispute is closed", field="file", code=E.INVALID_TRANSITION)
        ev = DisputeEvidence(shop=shop, dispute=d, name=name, size=upload.size, content_type=content_type,
                             note=note, uploaded_by=actor)
        ev.file.save(f"{shop.pk}-{d.pk}.{name.rsplit('.', 1)[-1].lower()}", upload, save=False)
        try:
            ev.save()
        except IntegrityError:
            ev.file.delete(save=False)
            raise
        DisputeEvent.objects.create(shop=shop, dispute=d, action=DA.EVIDENCE, from_state=d.state, to_state=d.state,
                                    actor=actor, note=f"{name} {note}".strip())
        audit_record(shop=shop, actor=user_of(actor), action="dispute.evidence", entity=d,
                     after={"file": name, "size": upload.size, "type": content_type})
    return ev

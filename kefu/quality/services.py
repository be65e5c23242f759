"""Writes of quality inspection: rubric and settings, reviews (start, save/submit, acknowledge),
appeals decided once, calibration, typical cases (and their way into the script library), product
knowledge and the knowledge faults of complaints. Sampling lives in sampling.py, flags in flags.py."""

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from kefu.catalog.models import Product
from kefu.conversations.models import Conversation, Message
from kefu.core.access import sees_whole_shop, user_of
from kefu.core.errors import KefuError, NotFound, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import day_bounds, shop_day

from . import scoring
from .enums import VISIBLE_STATES, AppealState, CaseKind, QaError, ReviewState, SampleState
from .flags import qa_settings
from .models import (
    KnowledgeFault,
    ProductKnowledge,
    QaAppeal,
    QaCategory,
    QaEvent,
    QaReview,
    QaSample,
    QaScore,
    QaSettings,
    TypicalCase,
)

# SPEC QA-1 rubric (politeness, accuracy, speed, resolution, upselling); 礼貌用语 is critical: rude words
# fail the review whatever else scored.
DEFAULT_RUBRIC = (
    ("礼貌用语", "称呼、问候、不使用不文明用语", 20, True),
    ("专业准确", "商品知识、尺码和政策回答正确，不做错误承诺", 25, True),
    ("响应及时", "首次响应和每次回复的速度", 20, False),
    ("问题解决", "买家的问题是否得到解决", 25, False),
    ("主动推荐", "搭配推荐、活动介绍、引导多拍", 10, False),
)


def _text(value, *, field: str, max_len: int, required: bool = False) -> str:
    return clean_text(value, field=field, max_len=max_len, required=required)


def _is_reviewer(member: Agent | None) -> bool:
    return member is not None and sees_whole_shop(member)


def _need_reviewer(member: Agent | None) -> Agent:
    if member is None:
        raise PermissionDenied("a person must do this, not an integration", code=QaError.FORBIDDEN)
    if not _is_reviewer(member):
        raise PermissionDenied("supervisors and managers review", code=QaError.FORBIDDEN)
    return member


def _event(review: QaReview, action: str, actor: Agent | None, note: str = "", now=None) -> None:
    QaEvent.objects.create(shop_id=review.shop_id, review=review, action=action, actor=actor, note=note[:1000],
                           at=now or timezone.now())


# ---------------------------------------------------------------- rubric and settings

def rubric_ensure(shop: Shop) -> list[QaCategory]:
    """The shop's rubric; the seed's five items when it has none."""
    cats = list(QaCategory.objects.filter(shop=shop))
    if not cats:
        with transaction.atomic():
            for i, (name, desc, weight, critical) in enumerate(DEFAULT_RUBRIC):
                QaCategory.objects.get_or_create(shop=shop, name=name, defaults={
                    "description": desc, "weight": weight, "scale_min": 0, "scale_max": 5, "critical": critical,
                    "position": i})
        cats = list(QaCategory.objects.filter(shop=shop))
    return cats


def category_save(*, shop: Shop, actor: Agent | None, category_id: int | None = None, name: str,
                  description: str = "", weight: int, scale_min: int = 0, scale_max: int = 5,
                  critical: bool = False, active: bool = True, position: int | None = None) -> QaCategory:
    """Create or change a rubric item (supervisors and up). Submitted reviews keep their copy."""
    if actor is not None and not sees_whole_shop(actor):
        raise PermissionDenied("supervisors and managers edit the rubric", code=QaError.FORBIDDEN)
    name = _text(name, field="name", max_len=40, required=True)
    description = _text(description, field="description", max_len=300)
    for field, v in (("weight", weight), ("scale_min", scale_min), ("scale_max", scale_max)):
        if not isinstance(v, int) or isinstance(v, bool) or not -100 <= v <= 100:
            raise KefuError("must be a whole number from -100 to 100", field=field, code=QaError.INVALID)
    if weight < 0:
        raise KefuError("must not be negative", field="weight", code=QaError.INVALID)
    if scale_max <= scale_min:
        raise KefuError("must be above the lowest value", field="scale_max", code=QaError.INVALID)
    with transaction.atomic():
        if category_id is None:
            cat = QaCategory(shop=shop)
            before = None
        else:
            cat = QaCategory.objects.select_for_update().filter(shop=shop, pk=category_id).first()
            if cat is None:
                raise NotFound("rubric item not found", field="category_id")
            before = {"name": cat.name, "weight": cat.weight, "scale_min": cat.scale_min, "scale_max": cat.scale_max,
                      "critical": cat.critical, "active": cat.active}
        cat.name, cat.description, cat.weight = name, description, weight
        cat.scale_min, cat.scale_max, cat.critical, cat.active = scale_min, scale_max, bool(critical), bool(active)
        if position is not None:
            cat.position = position
        elif category_id is None:
            cat.position = QaCategory.objects.filter(shop=shop).count()
        try:
            with transaction.atomic():
                cat.save()
        except IntegrityError:
            raise KefuError("the rubric has an item of this name", field="name", code=QaError.INVALID) from None
        if not QaCategory.objects.filter(shop=shop, active=True).exclude(weight=0).exists():
            raise KefuError("the rubric needs an active item with a weight", field="weight", code=QaError.INVALID)
        audit_record(shop=shop, actor=user_of(actor), action="qa.rubric", entity=cat, before=before,
                     after={"name": name, "weight": weight, "scale_min": scale_min, "scale_max": scale_max,
                            "critical": bool(critical), "active": bool(active)})
    return cat


SETTING_FIELDS = {"every_days": (1, 30), "per_agent": (0, 50), "extra_below_reply_rate": (0, 50),
                  "extra_complaints": (0, 50), "extra_probation": (0, 50), "flag_weight": (0, 50),
                  "min_script_uses": (1, 10000)}
TEXT_SETTINGS = ("rude_words", "banned_words")


def settings_update(*, shop: Shop, actor: Agent | None, **changes) -> QaSettings:
    if actor is not None and not sees_whole_shop(actor):
        raise PermissionDenied("supervisors and managers change the QA settings", code=QaError.FORBIDDEN)
    qs = qa_settings(shop)
    before, after = {}, {}
    for key, value in changes.items():
        if value is None:
            continue
        if key in SETTING_FIELDS:
            lo, hi = SETTING_FIELDS[key]
            if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
                raise KefuError(f"must be a whole number from {lo} to {hi}", field=key, code=QaError.INVALID)
        elif key in TEXT_SETTINGS:
            value = ",".join(QaSettings.words(_text(value, field=key, max_len=5000)))
        elif key == "anger_threshold":
            try:
                from decimal import Decimal

                value = Decimal(str(value))
            except Exception:
                raise KefuError("must be a number", field=key, code=QaError.INVALID) from None
            if not 0 < value < 1000:
                raise KefuError("must be between 0 and 1000", field=key, code=QaError.INVALID)
        else:
            raise KefuError("unknown setting", field=key, code=QaError.INVALID)
        before[key], after[key] = str(getattr(qs, key)), str(value)
        setattr(qs, key, value)
    if after:
        qs.save()
        audit_record(shop=shop, actor=user_of(actor), action="qa.settings", entity=qs, before=before, after=after)
    return qs


# ---------------------------------------------------------------- reviews

def review_start(*, shop: Shop, reviewer: Agent | None, sample: QaSample | None = None,
                 conversation: Conversation | None = None, calibration_of: QaReview | None = None,
                 now=None) -> QaReview:
    """A draft review of a sampled reception, of any conversation the reviewer picks, or a second
    reviewer's calibration of a submitted review. The same reviewer gets their open draft back."""
    reviewer = _need_reviewer(reviewer)
    now = now or timezone.now()
    if calibration_of is not None:
        if calibration_of.calibration_of_id is not None or calibration_of.state not in VISIBLE_STATES:
            raise KefuError("calibrate a submitted review", field="review_id", code=QaError.INVALID)
        if calibration_of.reviewer_id == reviewer.pk:
            raise PermissionDenied("a second reviewer calibrates", code=QaError.FORBIDDEN)
        fields = dict(agent_id=calibration_of.agent_id, customer_id=calibration_of.customer_id,
                      conversation_id=calibration_of.conversation_id, sample_id=calibration_of.sample_id,
                      window_start=calibration_of.window_start, window_end=calibration_of.window_end,
                      calibration_of=calibration_of)
        mine = QaReview.objects.filter(shop=shop, reviewer=reviewer, calibration_of=calibration_of).first()
    elif sample is not None:
        if sample.shop_id != shop.pk:
            raise NotFound("sample not found", field="sample_id")
        start, end = day_bounds(sample.day, shop.tz)
        conv = (Conversation.objects.filter(shop=shop, customer_id=sample.customer_id, started_at__lt=end,
                                            ended_at__gte=start).order_by("started_at").first())
        fields = dict(agent_id=sample.agent_id, customer_id=sample.customer_id, conversation=conv, sample=sample,
                      window_start=start, window_end=end)
        mine = QaReview.objects.filter(shop=shop, reviewer=reviewer, sample=sample, calibration_of__isnull=True).first()
    elif conversation is not None:
        agent_id = conversation.assignee_id or conversation.agent_id
        if agent_id is None:
            raise KefuError("no agent served this conversation", field="conversation_id", code=QaError.INVALID)
        fields = dict(agent_id=agent_id, customer_id=conversation.customer_id, conversation=conversation,
                      window_start=conversation.started_at, window_end=conversation.ended_at)
        mine = QaReview.objects.filter(shop=shop, reviewer=reviewer, conversation=conversation,
                                       calibration_of__isnull=True, sample__isnull=True).first()
    else:
        raise KefuError("name a sample, a conversation or a review to calibrate", field="sample_id",
                        code=QaError.INVALID)
    if fields["agent_id"] == reviewer.pk:
        raise PermissionDenied("nobody reviews their own chats", code=QaError.FORBIDDEN)
    if mine is not None:
        return mine
    with transaction.atomic():
        review = QaReview.objects.create(shop=shop, reviewer=reviewer, **fields)
        _event(review, "created", reviewer, now=now)
    return review


def _message_of(review: QaReview, message_id) -> Message | None:
    if message_id in (None, ""):
        return None
    try:
        mid = int(message_id)
    except (TypeError, ValueError):
        raise KefuError("must be a message id", field="message_id", code=QaError.INVALID) from None
    m = Message.objects.filter(shop_id=review.shop_id, pk=mid, customer_id=review.customer_id,
                               sent_at__gte=review.window_start, sent_at__lte=review.window_end).first()
    if m is None:
        raise KefuError("the comment must point at a message of the reviewed chat", field="message_id",
                        code=QaError.INVALID)
    return m


def _scores_clean(shop: Shop, review: QaReview, scores: list[dict], *, complete: bool) -> list[QaScore]:
    cats = {c.pk: c for c in rubric_ensure(shop) if c.active}
    out, seen = [], set()
    for i, s in enumerate(scores or []):
        try:
            cid = int(s.get("category_id"))
        except (TypeError, ValueError):
            raise KefuError("must be a rubric item id", field=f"scores.{i}.category_id", code=QaError.INVALID) from None
        cat = cats.get(cid)
        if cat is None or cid in seen:
            raise KefuError("unknown or repeated rubric item", field=f"scores.{i}.category_id", code=QaError.INVALID)
        seen.add(cid)
        chosen = s.get("chosen")
        if chosen in (None, "") and not complete:
            continue
        try:
            chosen = int(chosen)
        except (TypeError, ValueError):
            raise KefuError(f"must be a whole number from {cat.scale_min} to {cat.scale_max}",
                            field=f"scores.{i}.chosen", code=QaError.INVALID) from None
        if not cat.scale_min <= chosen <= cat.scale_max:
            raise KefuError(f"must be a whole number from {cat.scale_min} to {cat.scale_max}",
                            field=f"scores.{i}.chosen", code=QaError.INVALID)
        out.append(QaScore(review=review, category=cat, name=cat.name, weight=cat.weight, scale_min=cat.scale_min,
                           scale_max=cat.scale_max, critical=cat.critical, chosen=chosen,
                           comment=_text(s.get("comment"), field=f"scores.{i}.comment", max_len=1000),
                           message=_message_of(review, s.get("message_id"))))
    if complete:
        missing = [c.name for c in cats.values() if c.pk not in seen or c.pk not in {x.category_id for x in out}]
        if missing:
            raise KefuError(f"score every rubric item ({', '.join(missing)})", field="scores", code=QaError.INVALID)
    return out


def review_save(*, shop: Shop, review: QaReview, reviewer: Agent | None, scores: list[dict], summary: str = "",
                submit: bool = False, now=None) -> QaReview:
    """Save the reviewer's scores (a draft), or submit them: the score is computed (SPEC §12) and the
    agent may see the review from then on."""
    reviewer = _need_reviewer(reviewer)
    now = now or timezone.now()
    summary = _text(summary, field="summary", max_len=1000)
    with transaction.atomic():
        r = QaReview.objects.select_for_update().filter(shop=shop, pk=review.pk).first()
        if r is None:
            raise NotFound("review not found", field="review_id")
        if r.reviewer_id != reviewer.pk:
            raise PermissionDenied("only the reviewer edits a review", code=QaError.NOT_OWNER)
        if r.state != ReviewState.DRAFT:
            raise KefuError("the review was submitted", field="review_id", code=QaError.ALREADY_DONE)
        rows = _scores_clean(shop, r, scores, complete=submit)
        r.scores.all().delete()
        QaScore.objects.bulk_create(rows)
        r.summary = summary
        fields = ["summary"]
        if submit:
            r.score, r.auto_failed = scoring.review_score([_item(x) for x in rows])
            r.state, r.submitted_at, r.submitted_day = ReviewState.SUBMITTED, now, shop_day(now, shop.tz)
            fields += ["score", "auto_failed", "state", "submitted_at", "submitted_day"]
            if r.sample_id and r.calibration_of_id is None:
                QaSample.objects.filter(pk=r.sample_id).update(state=SampleState.REVIEWED)
            _event(r, "submitted", reviewer, note=f"{r.score}", now=now)
            audit_record(shop=shop, actor=user_of(reviewer), action="qa.review.submit", entity=r,
                         after={"score": str(r.score), "auto_failed": r.auto_failed, "agent": r.agent_id})
        r.save(update_fields=fields)
    return r


def _item(s: QaScore) -> scoring.Item:
    return scoring.Item(chosen=s.chosen, scale_min=s.scale_min, scale_max=s.scale_max, weight=s.weight,
                        critical=s.critical)


def review_acknowledge(*, shop: Shop, review: QaReview, agent: Agent | None, now=None) -> QaReview:
    """The reviewed agent confirms they read the review."""
    now = now or timezone.now()
    with transaction.atomic():
        r = QaReview.objects.select_for_update().get(shop=shop, pk=review.pk)
        if agent is None or r.agent_id != agent.pk:
            raise PermissionDenied("only the reviewed agent acknowledges", code=QaError.NOT_OWNER)
        if r.state != ReviewState.SUBMITTED:
            raise KefuError("only a submitted review is acknowledged", field="review_id", code=QaError.ALREADY_DONE)
        r.state, r.acknowledged_at = ReviewState.ACKNOWLEDGED, now
        r.save(update_fields=["state", "acknowledged_at"])
        _event(r, "acknowledged", agent, now=now)
    return r


def appeal_open(*, shop: Shop, review: QaReview, agent: Agent | None, reason: str, now=None) -> QaAppeal:
    """The reviewed agent's appeal (申诉), once per review."""
    now = now or timezone.now()
    reason = _text(reason, field="reason", max_len=1000, required=True)
    with transaction.atomic():
        r = QaReview.objects.select_for_update().get(shop=shop, pk=review.pk)
        if agent is None or r.agent_id != agent.pk:
            raise PermissionDenied("only the reviewed agent appeals", code=QaError.NOT_OWNER)
        if r.calibration_of_id is not None:
            raise KefuError("a calibration review is not appealed", field="review_id", code=QaError.INVALID)
        if r.state not in (ReviewState.SUBMITTED, ReviewState.ACKNOWLEDGED):
            raise KefuError("this review cannot be appealed (draft, or appealed already)", field="review_id",
                            code=QaError.ALREADY_DONE)
        appeal = QaAppeal.objects.create(shop=shop, review=r, reason=reason, score_before=r.score)
        r.state = ReviewState.APPEALED
        r.save(update_fields=["state"])
        _event(r, "appealed", agent, note=reason, now=now)
    return appeal


def appeal_decide(*, shop: Shop, appeal: QaAppeal, decider: Agent | None, accept: bool, note: str = "",
                  scores: list[dict] | None = None, now=None) -> QaAppeal:
    """Decide an appeal exactly once, by a supervisor or manager who is neither the reviewer nor the
    agent. Accepting may re-score items (the review's score is recomputed); rejecting keeps it."""
    decider = _need_reviewer(decider)
    now = now or timezone.now()
    note = _text(note, field="note", max_len=1000, required=not accept)
    with transaction.atomic():
        a = QaAppeal.objects.select_for_update().filter(shop=shop, pk=appeal.pk).first()
        if a is None:
            raise NotFound("appeal not found", field="appeal_id")
        if a.state != AppealState.OPEN:
            raise KefuError("the appeal was decided already", field="appeal_id", code=QaError.ALREADY_DECIDED)
        r = QaReview.objects.select_for_update().get(pk=a.review_id)
        if decider.pk in (r.reviewer_id, r.agent_id):
            raise PermissionDenied("someone other than the reviewer and the agent decides", code=QaError.FORBIDDEN)
        if accept and scores:
            by_cat = {int(s["category_id"]): s for s in scores if s.get("category_id") not in (None, "")}
            for row in r.scores.all():
                s = by_cat.get(row.category_id)
                if s is None or s.get("chosen") in (None, ""):
                    continue
                try:
                    chosen = int(s["chosen"])
                except (TypeError, ValueError):
                    raise KefuError("must be a whole number", field="scores.chosen", code=QaError.INVALID) from None
                if not row.scale_min <= chosen <= row.scale_max:
                    raise KefuError(f"must be from {row.scale_min} to {row.scale_max}", field="scores.chosen",
                                    code=QaError.INVALID)
                if chosen != row.chosen:
                    row.chosen = chosen
                    row.save(update_fields=["chosen"])
            r.score, r.auto_failed = scoring.review_score([_item(x) for x in r.scores.all()])
        a.state = AppealState.ACCEPTED if accept else AppealState.REJECTED
        a.decided_by, a.decided_at, a.decision_note = decider, now, note
        a.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
        r.state = ReviewState.DECIDED
        r.save(update_fields=["state", "score", "auto_failed"])
        _event(r, "decided", decider, note=f"{a.state} {r.score} {note}".strip(), now=now)
        audit_record(shop=shop, actor=user_of(decider), action="qa.appeal.decide", entity=a,
                     before={"score": str(a.score_before)}, after={"state": a.state, "score": str(r.score)})
    return a


# ---------------------------------------------------------------- typical cases (QA-2, SCR-3)

def week_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def case_mark(*, shop: Shop, actor: Agent | None, kind: str, title: str, note: str,
              conversation: Conversation | None = None, review: QaReview | None = None, now=None) -> TypicalCase:
    """Mark a conversation (or a reviewed chat) as a good or bad typical case of this week."""
    actor = _need_reviewer(actor)
    now = now or timezone.now()
    if kind not in CaseKind.values:
        raise KefuError("must be good or bad", field="kind", code=QaError.INVALID)
    title = _text(title, field="title", max_len=80, required=True)
    note = _text(note, field="note", max_len=2000, required=True)
    if review is not None:
        fields = dict(agent_id=review.agent_id, customer_id=review.customer_id, conversation_id=review.conversation_id,
                      review=review, window_start=review.window_start, window_end=review.window_end)
    elif conversation is not None:
        fields = dict(agent_id=conversation.assignee_id or conversation.agent_id, customer_id=conversation.customer_id,
                      conversation=conversation, window_start=conversation.started_at,
                      window_end=conversation.ended_at)
    else:
        raise KefuError("name the conversation or review", field="conversation_id", code=QaError.INVALID)
    with transaction.atomic():
        case = TypicalCase.objects.create(shop=shop, kind=kind, title=title, note=note, marked_by=actor,
                                          week=week_of(shop_day(now, shop.tz)), **fields)
        audit_record(shop=shop, actor=user_of(actor), action="qa.case.mark", entity=case,
                     after={"kind": kind, "title": title})
    return case


def case_to_script(*, shop: Shop, actor: Agent | None, case: TypicalCase, category: str, title: str,
                   body: str) -> TypicalCase:
    """Turn a case into a library script; the script's first version names the case as its source."""
    from kefu.replies.services import script_create

    actor = _need_reviewer(actor)
    with transaction.atomic():
        c = TypicalCase.objects.select_for_update().get(shop=shop, pk=case.pk)
        if c.script_id is not None:
            raise KefuError("this case is in the library already", field="case_id", code=QaError.ALREADY_DONE)
        script = script_create(shop=shop, actor=actor, category=category, title=title, body=body,
                               source=f"典型案例 #{c.pk} {c.title}")
        c.script = script
        c.save(update_fields=["script"])
    return c


# ---------------------------------------------------------------- product knowledge (SCR-4)

KNOWLEDGE_FIELDS = {"sizes": 4000, "fabric": 300, "model_measurements": 300, "care": 4000, "fit_advice": 4000,
                    "keywords": 300}


def knowledge_save(*, shop: Shop, actor: Agent | None, product: Product, **fields) -> ProductKnowledge:
    """Create or change a product's knowledge card (supervisors and up, or an integration)."""
    from .knowledge import fts_sync

    if actor is not None and not sees_whole_shop(actor):
        raise PermissionDenied("supervisors and managers edit product knowledge", code=QaError.FORBIDDEN)
    if product.shop_id != shop.pk:
        raise NotFound("product not found", field="product_id")
    unknown = set(fields) - set(KNOWLEDGE_FIELDS)
    if unknown:
        raise KefuError("unknown field", field=sorted(unknown)[0], code=QaError.INVALID)
    clean = {k: _text(v, field=k, max_len=KNOWLEDGE_FIELDS[k]) for k, v in fields.items() if v is not None}
    with transaction.atomic():
        pk, created = ProductKnowledge.objects.select_for_update().get_or_create(shop=shop, product=product)
        before = {k: getattr(pk, k) for k in clean}
        for k, v in clean.items():
            setattr(pk, k, v)
        pk.search_text = " ".join([product.title, pk.keywords, pk.sizes, pk.fabric, pk.model_measurements, pk.care,
                                   pk.fit_advice])
        if not created:
            pk.version += 1
        pk.updated_by = actor
        pk.save()
        audit_record(shop=shop, actor=user_of(actor), action="qa.knowledge.save", entity=pk,
                     before=None if created else before, after=clean)
        fts_sync([pk.pk])
    return pk


def knowledge_fault_record(*, shop: Shop, actor: Agent | None, complaint, product: Product | None = None,
                           note: str = "", now=None) -> KnowledgeFault:
    """Trace a complaint caused by wrong product knowledge to the agent it was against (seed 000
    遇一罚一). The people ledger reads it through selectors.knowledge_faults."""
    actor = _need_reviewer(actor)
    now = now or timezone.now()
    if complaint.shop_id != shop.pk:
        raise NotFound("complaint not found", field="complaint_id")
    if complaint.against_id is None:
        raise KefuError("the complaint names no agent", field="complaint_id", code=QaError.INVALID)
    if product is not None and product.shop_id != shop.pk:
        raise NotFound("product not found", field="product_id")
    note = _text(note, field="note", max_len=500)
    try:
        with transaction.atomic():
            fault = KnowledgeFault.objects.create(shop=shop, complaint=complaint, agent_id=complaint.against_id,
                                                  product=product, note=note, recorded_by=actor,
                                                  day=shop_day(complaint.created_at or now, shop.tz))
            audit_record(shop=shop, actor=user_of(actor), action="qa.knowledge_fault", entity=fault,
                         after={"complaint": complaint.pk, "agent": complaint.against_id,
                                "product": product.pk if product else None})
            _ledger_follows(shop, fault)
    except IntegrityError:
        raise KefuError("this complaint is traced already", field="complaint_id", code=QaError.ALREADY_DONE) from None
    return fault


def knowledge_fault_withdraw(*, shop: Shop, actor: Agent | None, fault: KnowledgeFault, reason: str) -> None:
    """Take back a trace recorded in error (with a reason, audited); its deduction goes with it."""
    actor = _need_reviewer(actor)
    reason = _text(reason, field="reason", max_len=500, required=True)
    with transaction.atomic():
        f = KnowledgeFault.objects.select_for_update().filter(shop=shop, pk=fault.pk).first()
        if f is None:
            raise NotFound("knowledge fault not found", field="fault_id")
        before = {"complaint": f.complaint_id, "agent": f.agent_id, "product": f.product_id, "note": f.note}
        f.delete()
        audit_record(shop=shop, actor=user_of(actor), action="qa.knowledge_fault.withdraw", entity=fault,
                     before=before, after={"reason": reason})
        _ledger_follows(shop, fault)


def _ledger_follows(shop: Shop, fault: KnowledgeFault) -> None:
    """The fault is a source of the people ledger (rule knowledge_fault, 遇一罚一): recompute that
    agent's month at once, in the same transaction."""
    from kefu.people.ledger import ledger_source_changed

    ledger_source_changed(shop=shop, agent_id=fault.agent_id, day=fault.day)

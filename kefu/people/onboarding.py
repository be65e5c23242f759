"""Onboarding services (WF-7, seed 001): the training plan, starting a new agent's onboarding with a
mentor bound one to one (师徒制), days done, the exam, mentor notes and sign-off, and the supervisor's
decision at the end of probation (decided once).

Who acts: managers edit the plan; the agent's supervisor starts an onboarding, records exams and decides;
the mentor writes notes and signs off; the trainee, the mentor or a supervisor ticks a day done."""

import datetime as dt
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_noop

from kefu.core.enums import Role
from kefu.core.errors import KefuError, NotFound, PermissionDenied, ValidationFailed
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .access import label_of, require_manager, require_supervisor_of, supervises
from .attendance import _text
from .enums import TRAINEE_TRANSITIONS, PeopleError, TraineeState
from .models import (
    ExamAttempt,
    ExamQuestion,
    Onboarding,
    OnboardingDay,
    OnboardingEvent,
    TrainingDay,
    TrainingPlan,
)
from .months import shop_today
from .rules import _decimal

DEFAULT_NAME = gettext_noop("新人七天入职培训")
# Seed 001: 7 days of induction — company culture, values and the trade — then an exam.
DEFAULT_DAYS = (
    (gettext_noop("公司文化"), gettext_noop("公司历史、品牌故事、团队介绍；“严进严出”的用人原则。")),
    (gettext_noop("价值观"), gettext_noop("以消费者满意为准；把客户服务当作自己的事业经营。")),
    (gettext_noop("商品知识（一）"), gettext_noop("主推商品的尺码、面料、模特尺寸与搭配建议（见商品知识库）。")),
    (gettext_noop("商品知识（二）"), gettext_noop("售后常见问题：退换货流程、七天无理由、质量问题处理。")),
    (gettext_noop("平台规则"), gettext_noop("平台禁用词（最、第一、绝对）、承诺规范、发票与运费规则。")),
    (gettext_noop("话术"), gettext_noop("开场白、催付、售后安抚、投诉处理话术（见话术库）；每周打字练习。")),
    (gettext_noop("跟岗与典型案例"), gettext_noop("跟师傅接待；学习质检标出的典型案例（好与坏）。")),
)
DEFAULT_QUESTIONS = (
    (gettext_noop("客户询问“这件是不是最好的”，应该怎样回答？"),
     gettext_noop("不用“最”“第一”“绝对”等禁用词，用商品的具体卖点和买家评价回答。"), "20"),
    (gettext_noop("买家拍下未付款，催付的要点是什么？"),
     gettext_noop("了解未付原因、打消顾虑、约定付款时间，必要时建议代付。"), "20"),
    (gettext_noop("客户投诉时的处理步骤？"),
     gettext_noop("迅速接受、平息情绪、澄清问题、提出方案、达成共识、感谢、跟踪回访。"), "30"),
    (gettext_noop("迟到超过多少分钟算缺勤？每月可调休几次？"), gettext_noop("30 分钟；4 次。"), "30"),
)
START_PAST_DAYS = 60  # an onboarding may be recorded this many days after the fact


def _event(o: Onboarding, action: str, *, by: Agent | None, actor, text: str = "", from_state: str = "",
           to_state: str = "", now=None) -> None:
    OnboardingEvent.objects.create(onboarding=o, action=action, from_state=from_state, to_state=to_state,
                                   actor=by, actor_label=label_of(by, actor), text=text[:1000],
                                   at=now or timezone.now())


# ---------------------------------------------------------------- the plan

def training_plan(shop: Shop) -> TrainingPlan:
    """The shop's plan, created from seed 001's seven days the first time it is asked for."""
    plan = TrainingPlan.objects.filter(shop=shop).first()
    if plan is not None:
        return plan
    try:
        with transaction.atomic():
            plan = TrainingPlan.objects.create(shop=shop, name=DEFAULT_NAME)
            TrainingDay.objects.bulk_create([TrainingDay(plan=plan, day_no=i, topic=t, materials=m)
                                             for i, (t, m) in enumerate(DEFAULT_DAYS, start=1)])
            ExamQuestion.objects.bulk_create([ExamQuestion(plan=plan, position=i, question=q, answer=a,
                                                           points=Decimal(p))
                                              for i, (q, a, p) in enumerate(DEFAULT_QUESTIONS)])
    except IntegrityError:
        plan = TrainingPlan.objects.get(shop=shop)
    return plan


def _plan_snapshot(plan: TrainingPlan) -> dict:
    return {"name": plan.name, "pass_mark": str(plan.pass_mark), "probation_days": plan.probation_days,
            "days": [[d.day_no, d.topic, d.materials] for d in plan.days.all()],
            "questions": [[q.question, q.answer, str(q.points)] for q in plan.questions.all()]}


def training_plan_update(*, shop: Shop, by: Agent | None, actor=None, name: str | None = None, pass_mark=None,
                         probation_days=None, days: list[dict] | None = None,
                         questions: list[dict] | None = None) -> TrainingPlan:
    """A manager changes the plan. `days` ([{topic, materials}], in order) and `questions`
    ([{question, answer, points}]) replace the lists when given; all or nothing, audited."""
    require_manager(by)
    plan = training_plan(shop)
    errors = []
    with transaction.atomic():
        plan = TrainingPlan.objects.select_for_update().get(pk=plan.pk)
        before = _plan_snapshot(plan)
        try:
            if name is not None:
                plan.name = _text(name, field="name", max_len=80)
            if pass_mark is not None:
                plan.pass_mark = _decimal(pass_mark, field="pass_mark", lo=Decimal("0"), hi=Decimal("100"))
            if probation_days is not None:
                try:
                    n = int(probation_days)
                except (TypeError, ValueError):
                    raise KefuError("probation_days must be a whole number", field="probation_days") from None
                if not 1 <= n <= 365:
                    raise KefuError("probation_days must be between 1 and 365", field="probation_days")
                plan.probation_days = n
        except KefuError as exc:
            errors.append({"row": None, "field": exc.field, "message": exc.message})
        new_days, new_questions = [], []
        for i, d in enumerate(days or []):
            try:
                new_days.append(TrainingDay(plan=plan, day_no=i + 1,
                                            topic=_text(d.get("topic"), field="topic", max_len=80),
                                            materials=_text(d.get("materials"), field="materials", max_len=2000,
                                                            required=False)))
            except KefuError as exc:
                errors.append({"row": i, "field": f"days.{exc.field}", "message": exc.message})
        for i, q in enumerate(questions or []):
            try:
                new_questions.append(ExamQuestion(
                    plan=plan, position=i, question=_text(q.get("question"), field="question", max_len=500),
                    answer=_text(q.get("answer"), field="answer", max_len=2000, required=False),
                    points=_decimal(q.get("points", "10"), field="points", lo=Decimal("0.5"), hi=Decimal("100"))))
            except KefuError as exc:
                errors.append({"row": i, "field": f"questions.{exc.field}", "message": exc.message})
        if days is not None and not days:
            errors.append({"row": None, "field": "days", "message": "a plan needs at least one day"})
        if errors:
            raise ValidationFailed(errors)
        plan.save()
        if days is not None:
            plan.days.all().delete()
            TrainingDay.objects.bulk_create(new_days)
        if questions is not None:
            plan.questions.all().delete()
            ExamQuestion.objects.bulk_create(new_questions)
        audit_record(shop=shop, actor=actor, action="onboarding.plan", entity=plan, before=before,
                     after=_plan_snapshot(plan))
    return plan


# ---------------------------------------------------------------- an onboarding

def _mentor_ok(shop: Shop, agent: Agent, mentor: Agent) -> None:
    if mentor.shop_id != shop.id or not mentor.active:
        raise NotFound("no such mentor in this shop", field="mentor_id")
    if mentor.id == agent.id:
        raise KefuError("a new agent cannot be their own mentor", field="mentor_id", code=PeopleError.INVALID)
    if not mentor.has_role(Role.AGENT, Role.SUPERVISOR):
        raise KefuError("the mentor must be an agent or a supervisor", field="mentor_id", code=PeopleError.INVALID)
    if Onboarding.objects.filter(agent=mentor, state__in=("training", "probation")).exists():
        raise KefuError(f"{mentor.name} is in probation and cannot mentor", field="mentor_id",
                        code=PeopleError.INVALID)


def onboarding_start(*, shop: Shop, agent: Agent, mentor: Agent, start_date: dt.date, by: Agent | None,
                     actor=None, probation_end: dt.date | None = None, now=None) -> Onboarding:
    """A supervisor starts a new agent's onboarding with a mentor (one mentee per mentor at a time)."""
    now = now or timezone.now()
    if agent.shop_id != shop.id:
        raise NotFound("no such agent in this shop", field="agent_id")
    require_supervisor_of(by, agent)
    _mentor_ok(shop, agent, mentor)
    today = shop_today(shop, now)
    if start_date > today + dt.timedelta(days=60) or start_date < today - dt.timedelta(days=START_PAST_DAYS):
        raise KefuError(f"the start date must be within {START_PAST_DAYS} days of today", field="start_date")
    plan = training_plan(shop)
    end = probation_end or start_date + dt.timedelta(days=plan.probation_days - 1)
    if end < start_date:
        raise KefuError("probation cannot end before it starts", field="probation_end")
    try:
        with transaction.atomic():
            o = Onboarding.objects.create(shop=shop, agent=agent, mentor=mentor, start_date=start_date,
                                          probation_end=end)
            _event(o, "start", by=by, actor=actor, to_state=o.state, now=now,
                   text=f"师傅 {mentor.name}，{start_date} 至 {end}")
            audit_record(shop=shop, actor=actor, action="onboarding.start", entity=o,
                         after={"agent": agent.name, "mentor": mentor.name, "start_date": start_date.isoformat(),
                                "probation_end": end.isoformat()})
    except IntegrityError:
        if Onboarding.objects.filter(agent=agent).exists():
            raise KefuError(f"{agent.name} has an onboarding already", field="agent_id",
                            code=PeopleError.DONE) from None
        raise KefuError(f"{mentor.name} mentors another new agent already (one to one)", field="mentor_id",
                        code=PeopleError.MENTOR_TAKEN) from None
    from kefu.approvals.services import notify

    link = reverse("people:onboarding", args=[o.pk])
    notify(shop=shop, recipients=[agent.id], link=link, text=f"欢迎加入！你的入职培训已开始，师傅是 {mentor.name}")
    notify(shop=shop, recipients=[mentor.id], link=link, text=f"你成为 {agent.name} 的师傅（师徒制）")
    return o


def onboarding_mentor_change(*, shop: Shop, onboarding: Onboarding, mentor: Agent, reason: str, by: Agent | None,
                             actor=None, now=None) -> Onboarding:
    reason = _text(reason, field="reason", max_len=300)
    with transaction.atomic():
        o = _locked(shop, onboarding)
        require_supervisor_of(by, o.agent)
        _require_open(o)
        _mentor_ok(shop, o.agent, mentor)
        before = o.mentor.name
        o.mentor = mentor
        try:
            with transaction.atomic():
                o.save(update_fields=["mentor", "updated_at"])
        except IntegrityError:
            raise KefuError(f"{mentor.name} mentors another new agent already (one to one)", field="mentor_id",
                            code=PeopleError.MENTOR_TAKEN) from None
        _event(o, "mentor", by=by, actor=actor, now=now, text=f"{before} → {mentor.name}：{reason}")
        audit_record(shop=shop, actor=actor, action="onboarding.mentor", entity=o, before={"mentor": before},
                     after={"mentor": mentor.name, "reason": reason})
    return o


def _locked(shop: Shop, onboarding: Onboarding) -> Onboarding:
    o = Onboarding.objects.select_for_update().filter(shop=shop, pk=onboarding.pk).first()
    if o is None:
        raise NotFound("onboarding not found", field="onboarding_id")
    return Onboarding.objects.select_related("agent", "mentor").get(pk=o.pk)


def _require_open(o: Onboarding) -> None:
    if not o.in_probation:
        raise KefuError(f"this onboarding was decided already ({o.state})", field="onboarding_id",
                        code=PeopleError.DECIDED)


def _move(o: Onboarding, to: str) -> str:
    if to not in TRAINEE_TRANSITIONS[o.state]:
        raise KefuError(f"an onboarding that is {o.state} cannot become {to}", field="state", code=PeopleError.STATE)
    before, o.state = o.state, to
    return before


def onboarding_day_done(*, shop: Shop, onboarding: Onboarding, day_no: int, by: Agent | None, note: str = "",
                        actor=None, now=None) -> OnboardingDay:
    """The trainee, the mentor or a supervisor marks a training day done (once per day)."""
    now = now or timezone.now()
    note = _text(note, field="note", max_len=500, required=False)
    with transaction.atomic():
        o = _locked(shop, onboarding)
        if by is not None and by.id not in (o.agent_id, o.mentor_id) and not supervises(by, o.agent):
            raise PermissionDenied("the trainee, the mentor or a supervisor marks a day", code=PeopleError.FORBIDDEN)
        _require_open(o)
        plan = training_plan(shop)
        topic = plan.days.filter(day_no=day_no).values_list("topic", flat=True).first()
        if topic is None:
            raise KefuError(f"the plan has no day {day_no}", field="day_no")
        if OnboardingDay.objects.filter(onboarding=o, day_no=day_no).exists():
            raise KefuError(f"day {day_no} is done already", field="day_no", code=PeopleError.DONE)
        d = OnboardingDay.objects.create(onboarding=o, day_no=day_no, done_at=now, done_by=by, note=note)
        _event(o, "day", by=by, actor=actor, now=now, text=f"第{day_no}天 {topic}{('：' + note) if note else ''}")
    return d


def onboarding_exam_record(*, shop: Shop, onboarding: Onboarding, score, by: Agent | None, note: str = "",
                           taken_on: dt.date | None = None, actor=None, now=None) -> ExamAttempt:
    """A supervisor records an exam score (0–100). Passing (score ≥ the plan's pass mark) opens probation;
    a failed attempt keeps the trainee in training for a retake."""
    now = now or timezone.now()
    score = _decimal(score, field="score", lo=Decimal("0"), hi=Decimal("100"))
    note = _text(note, field="note", max_len=500, required=False)
    with transaction.atomic():
        o = _locked(shop, onboarding)
        require_supervisor_of(by, o.agent)
        if by is not None and by.id == o.agent_id:
            raise PermissionDenied("nobody grades their own exam", code=PeopleError.FORBIDDEN)
        if o.state != TraineeState.TRAINING:
            raise KefuError("the exam is taken in training (it was passed already)", field="score",
                            code=PeopleError.STATE)
        plan = training_plan(shop)
        day = taken_on or shop_today(shop, now)
        a = ExamAttempt.objects.create(onboarding=o, taken_on=day, score=score, pass_mark=plan.pass_mark,
                                       passed=score >= plan.pass_mark, graded_by=by, note=note)
        before = o.state
        if a.passed:
            _move(o, TraineeState.PROBATION)
            o.save(update_fields=["state", "updated_at"])
        _event(o, "exam", by=by, actor=actor, now=now, from_state=before, to_state=o.state,
               text=f"{score} / {plan.pass_mark}{' ✓' if a.passed else ' ✗'}{('：' + note) if note else ''}")
        audit_record(shop=shop, actor=actor, action="onboarding.exam", entity=o, before={"state": before},
                     after={"state": o.state, "score": str(score), "pass_mark": str(plan.pass_mark),
                            "passed": a.passed})
    return a


def onboarding_note(*, shop: Shop, onboarding: Onboarding, text: str, by: Agent | None, actor=None,
                    now=None) -> OnboardingEvent:
    """A mentor's (or supervisor's) note on how the mentee is doing (师傅带教记录)."""
    text = _text(text, field="text", max_len=1000)
    with transaction.atomic():
        o = _locked(shop, onboarding)
        if by is not None and by.id != o.mentor_id and not (supervises(by, o.agent) and by.id != o.agent_id):
            raise PermissionDenied("the mentor or a supervisor writes notes", code=PeopleError.FORBIDDEN)
        _event(o, "note", by=by, actor=actor, now=now, text=text)
    return o.events.last()


def onboarding_signoff(*, shop: Shop, onboarding: Onboarding, opinion: str, by: Agent | None, actor=None,
                       now=None) -> Onboarding:
    """The mentor signs off the mentee (in probation, once) with an opinion for the supervisor."""
    now = now or timezone.now()
    opinion = _text(opinion, field="opinion", max_len=500)
    with transaction.atomic():
        o = _locked(shop, onboarding)
        if by is None or by.id != o.mentor_id:
            raise PermissionDenied("only the mentor signs off", code=PeopleError.FORBIDDEN)
        if o.state != TraineeState.PROBATION:
            raise KefuError("the mentor signs off in probation (after the exam)", field="opinion",
                            code=PeopleError.STATE)
        if o.mentor_signed_at is not None:
            raise KefuError("signed off already", field="opinion", code=PeopleError.DONE)
        o.mentor_signed_at, o.mentor_opinion = now, opinion
        o.save(update_fields=["mentor_signed_at", "mentor_opinion", "updated_at"])
        _event(o, "signoff", by=by, actor=actor, now=now, text=opinion)
        audit_record(shop=shop, actor=actor, action="onboarding.signoff", entity=o, after={"opinion": opinion})
    from .attendance import _notify_supervisors

    _notify_supervisors(shop, o.agent, f"{o.mentor.name} 已签署 {o.agent.name} 的试岗意见：{opinion}",
                        link=reverse("people:onboarding", args=[o.pk]))
    return o


def onboarding_decide(*, shop: Shop, onboarding: Onboarding, confirm: bool, note: str, by: Agent | None,
                      actor=None, now=None) -> Onboarding:
    """The supervisor decides, once: confirm (转正, after the mentor's sign-off) or fail (a note is
    required). Two supervisors pressing at the same moment get one decision and one 409."""
    now = now or timezone.now()
    note = _text(note, field="note", max_len=500, required=not confirm)
    with transaction.atomic():
        o = _locked(shop, onboarding)
        require_supervisor_of(by, o.agent)
        if by is not None and by.id in (o.agent_id, o.mentor_id) and not by.has_role(Role.MANAGER, Role.ADMIN):
            raise PermissionDenied("the trainee and the mentor do not decide", code=PeopleError.FORBIDDEN)
        _require_open(o)
        if confirm and o.mentor_signed_at is None:
            raise KefuError("the mentor has not signed off yet", field="confirm", code=PeopleError.STATE)
        before = _move(o, TraineeState.CONFIRMED if confirm else TraineeState.FAILED)
        o.decided_on, o.decided_by, o.decision_note = shop_today(shop, now), by, note
        o.save(update_fields=["state", "decided_on", "decided_by", "decision_note", "updated_at"])
        _event(o, "decide", by=by, actor=actor, now=now, from_state=before, to_state=o.state, text=note)
        audit_record(shop=shop, actor=actor, action="onboarding.decide", entity=o, before={"state": before},
                     after={"state": o.state, "note": note})
    from kefu.approvals.services import notify

    notify(shop=shop, recipients=[o.agent_id, o.mentor_id], link=reverse("people:onboarding", args=[o.pk]),
           text=f"{o.agent.name} 试岗结果：{TraineeState(o.state).label}{('：' + note) if note else ''}")
    return o

"""Onboarding (WF-7, seed 001): the shop's training plan (7 days of culture, values, product, platform
rules and scripts, then an exam), each new agent's onboarding record with a mentor bound one to one
(师徒制), day-by-day progress, exam attempts, mentor notes and sign-off, and the supervisor's decision
at the end of probation. Every change is an OnboardingEvent row (and an audit record)."""

from decimal import Decimal

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop

from ..enums import IN_PROBATION, TraineeState

SCORE = {"max_digits": 5, "decimal_places": 1}


class TrainingPlan(models.Model):
    """The shop's training plan (one per shop; a manager edits it). Exam scores are out of 100."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("名称"), max_length=80)
    pass_mark = models.DecimalField(_("及格分"), default=Decimal("80"), **SCORE)
    probation_days = models.PositiveSmallIntegerField(_("试岗天数"), default=30)
    updated_at = models.DateTimeField(auto_now=True)


class TrainingDay(models.Model):
    plan = models.ForeignKey(TrainingPlan, on_delete=models.CASCADE, related_name="days")
    day_no = models.PositiveSmallIntegerField(_("第几天"))
    topic = models.CharField(_("主题"), max_length=80)
    materials = models.TextField(_("学习内容"), max_length=2000, blank=True)

    class Meta:
        ordering = ["day_no"]
        constraints = [models.UniqueConstraint(fields=["plan", "day_no"], name="trainingday_once")]


class ExamQuestion(models.Model):
    """A question of the exam with the answer the shop keeps (shown to supervisors and mentors only)."""

    plan = models.ForeignKey(TrainingPlan, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    question = models.CharField(_("题目"), max_length=500)
    answer = models.TextField(_("参考答案"), max_length=2000, blank=True)
    points = models.DecimalField(_("分值"), default=Decimal("10"), **SCORE)

    class Meta:
        ordering = ["position", "id"]


class Onboarding(models.Model):
    """One new agent's way in: training → (exam passed) probation → confirmed, or failed."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.OneToOneField(Agent, on_delete=models.CASCADE, related_name="onboarding")
    mentor = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="mentees")
    start_date = models.DateField(_("入职日期"))
    probation_end = models.DateField(_("试岗截止"))
    state = models.CharField(_("状态"), max_length=12, choices=TraineeState.choices, default=TraineeState.TRAINING)
    mentor_signed_at = models.DateTimeField(null=True, blank=True)
    mentor_opinion = models.CharField(_("师傅意见"), max_length=500, blank=True)
    decided_on = models.DateField(null=True, blank=True)  # shop day of the supervisor's decision
    decided_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    decision_note = models.CharField(_("处理意见"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["shop", "state"])]
        # 师徒制: one mentee per mentor while the mentee is still in training or probation.
        constraints = [models.UniqueConstraint(fields=["mentor"], condition=Q(state__in=list(IN_PROBATION)),
                                               name="onboarding_one_mentee_per_mentor")]

    def __str__(self) -> str:
        return f"{self.agent_id} {self.state}"

    @property
    def in_probation(self) -> bool:
        return self.state in IN_PROBATION


class OnboardingDay(models.Model):
    """A training day finished (ticked by the trainee, the mentor or a supervisor)."""

    onboarding = models.ForeignKey(Onboarding, on_delete=models.CASCADE, related_name="days_done")
    day_no = models.PositiveSmallIntegerField()
    done_at = models.DateTimeField()
    done_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(_("心得"), max_length=500, blank=True)

    class Meta:
        ordering = ["day_no"]
        constraints = [models.UniqueConstraint(fields=["onboarding", "day_no"], name="onboardingday_once")]


class ExamAttempt(models.Model):
    onboarding = models.ForeignKey(Onboarding, on_delete=models.CASCADE, related_name="exams")
    taken_on = models.DateField(_("考试日期"))
    score = models.DecimalField(_("得分"), **SCORE)
    pass_mark = models.DecimalField(_("及格分"), **SCORE)  # as the plan said that day
    passed = models.BooleanField(_("通过"))
    graded_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(_("备注"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]


class OnboardingEvent(models.Model):
    """History of an onboarding: started, day done, exam, mentor note, sign-off, decision."""

    onboarding = models.ForeignKey(Onboarding, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20)
    from_state = models.CharField(max_length=12, blank=True)
    to_state = models.CharField(max_length=12, blank=True)
    actor = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    actor_label = models.CharField(max_length=120)
    text = models.CharField(max_length=1000, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

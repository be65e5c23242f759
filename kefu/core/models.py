import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from .enums import AttributionBasis, Group, Role


def default_score_weights() -> dict:
    # 001 ranks agents on conversion, average order value and response speed (and reviews,
    # which come with the reviews module); reply rate keeps unanswered buyers visible.
    return {"conversion_rate": 40, "avg_order_value": 20, "response_seconds": 20, "reply_rate": 20}


def validate_timezone(value: str) -> None:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValidationError(_("未知时区 %(tz)s"), params={"tz": value}) from exc


class ShopQuerySet(models.QuerySet):
    def active(self):
        """Shops not archived: the ones people log in to, integrations call and the scheduler runs."""
        return self.filter(archived_at__isnull=True)


class Shop(models.Model):
    """The tenant. Every domain row carries its shop. Metric settings of SPEC §12 live here.

    A shop is archived, never deleted: its audit trail must outlive it (AuditLog protects it).
    """

    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=120)
    timezone = models.CharField(_("时区"), max_length=64, default="Asia/Shanghai", validators=[validate_timezone])
    # {"weekly": {"0": [["09:00", "18:00"]], ...}, "holidays": ["2026-10-01"]}; empty = 24 h every day.
    service_hours = models.JSONField(_("服务时间"), default=dict, blank=True)
    attribution_window_days = models.PositiveSmallIntegerField(_("归因窗口(天)"), default=3)
    attribution_basis = models.CharField(
        _("归因基准"), max_length=10, choices=AttributionBasis.choices, default=AttributionBasis.CREATED
    )
    slow_turn_seconds = models.PositiveIntegerField(_("慢响应阈值(秒)"), default=180)
    aftersales_lookback_days = models.PositiveSmallIntegerField(_("售后回看(天)"), default=15)
    takeback_days = models.PositiveSmallIntegerField(_("退款冲减期(天)"), default=15)
    conversation_gap_minutes = models.PositiveSmallIntegerField(_("会话间隔(分钟)"), default=30)
    # PRE-2: an unpaid order gets its 催付 task this many minutes after it was placed.
    payment_reminder_minutes = models.PositiveSmallIntegerField(
        _("催付时间(分钟)"), default=30, validators=[MinValueValidator(1), MaxValueValidator(1440)]
    )
    score_weights = models.JSONField(_("绩效权重"), default=default_score_weights, blank=True)
    # {figure: target}, e.g. {"reply_rate": 0.95, "response_seconds": 30}; see kefu.metrics.targets.
    kpi_targets = models.JSONField(_("绩效目标"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    archived_at = models.DateTimeField(_("归档时间"), null=True, blank=True)

    objects = ShopQuerySet.as_manager()

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class Agent(models.Model):
    """A person working in a shop: an agent, supervisor, manager, warehouse clerk or admin."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="agents")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="agents"
    )
    name = models.CharField(_("姓名"), max_length=80)
    group = models.CharField(_("组"), max_length=20, choices=Group.choices, default=Group.PRESALES, blank=True)
    # Comma-separated Role values; a person may hold several roles.
    roles = models.CharField(_("角色"), max_length=120, default=Role.AGENT)
    active = models.BooleanField(_("在职"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="agent_unique_name_per_shop")]
        indexes = [models.Index(fields=["shop", "group"])]

    def __str__(self) -> str:
        return self.name

    @property
    def group_text(self) -> str:
        """The group as a table shows it: "—" for a person in no group (the choice's label "无" reads as "None")."""
        return str(self.get_group_display()) if self.group else "—"

    @property
    def role_set(self) -> set[str]:
        return {r for r in self.roles.split(",") if r}

    def has_role(self, *roles: str) -> bool:
        return bool(self.role_set & set(roles))


class AgentAccount(models.Model):
    """The name an agent has in a platform's chat (旺旺子账号, 咚咚账号); messages name agents by it."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="accounts")
    platform_id = models.CharField(_("平台账号"), max_length=120)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "platform_id"], name="agentaccount_unique_per_shop")
        ]

    def __str__(self) -> str:
        return self.platform_id


class AuditLogQuerySet(models.QuerySet):
    """Rows are only ever added: bulk changes are refused here, and by triggers in the database."""

    def update(self, **kwargs):
        raise ValueError("audit rows are append-only")

    def bulk_update(self, objs, fields, batch_size=None):
        raise ValueError("audit rows are append-only")

    def delete(self):
        raise ValueError("audit rows are append-only")

    delete.queryset_only = True

    def _raw_delete(self, using):
        raise ValueError("audit rows are append-only")


class AuditLog(models.Model):
    """Append-only record of every write of people, settings and money.

    Append-only three times over: save()/delete() of a row and the QuerySet's update/delete refuse,
    and triggers (migration core 0006) refuse UPDATE and DELETE in the database itself. The shop and
    the acting login are PROTECTed: a shop is archived instead of deleted.
    """

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, null=True, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    actor_label = models.CharField(max_length=120, blank=True)
    action = models.CharField(max_length=60)
    entity_type = models.CharField(max_length=60)
    entity_id = models.CharField(max_length=64)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = AuditLogQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "entity_type", "entity_id"])]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("audit rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("audit rows are append-only")


class IntegrationToken(models.Model):
    """A per-integration API token; only its SHA-256 is stored."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="tokens")
    name = models.CharField(max_length=80)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


ZERO = Decimal("0.00")


class LoginThrottle(models.Model):
    """Login tries of one (address, normalised username) in the current lock window.

    One row per key, moved by single UPDATE statements so concurrent tries are counted exactly.
    """

    key = models.CharField(max_length=220, unique=True)
    tries = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField(db_index=True)


class SchedulerRun(models.Model):
    """One row per (job, period) the scheduler has fired: survives restarts, never fires twice."""

    job = models.CharField(max_length=80)
    period = models.CharField(max_length=40)
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, null=True, blank=True)
    fired_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["job", "period", "shop"], name="schedulerrun_once")]

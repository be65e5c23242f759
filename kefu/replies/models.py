"""Reply scripts (话术, SCR-1/SCR-2): the shop's library, each agent's own opening line, and the
shop's script settings (courier fees for 补运费)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop

from .enums import ScriptCategory


class Script(models.Model):
    """One script. `owner` set = an agent's personal opening line (SCR-2), seen only by that agent.
    `key` names the scripts other apps render (script_render); `starts_on/ends_on` bound a campaign."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="scripts")
    category = models.CharField(_("分类"), max_length=20, choices=ScriptCategory.choices)
    title = models.CharField(_("标题"), max_length=80)
    body = models.TextField(_("内容"), max_length=2000)
    key = models.CharField(_("标识"), max_length=60, blank=True)
    owner = models.ForeignKey(Agent, on_delete=models.CASCADE, null=True, blank=True, related_name="scripts")
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    usage_count = models.PositiveIntegerField(_("使用次数"), default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "-usage_count", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "key"], condition=Q(owner__isnull=True) & ~Q(key=""),
                                    name="script_key_unique_per_shop"),
            # One personal opening line per agent.
            models.UniqueConstraint(fields=["owner"], condition=Q(owner__isnull=False), name="script_one_per_owner"),
        ]
        indexes = [models.Index(fields=["shop", "category"])]

    def __str__(self) -> str:
        return self.title


class ScriptVersion(models.Model):
    """The text of each saved version (SCR-2: trainers' scripts are versioned)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=80)
    body = models.TextField()
    editor = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # Where this text came from when not typed in the library, e.g. a typical case of QA (SCR-3).
    source = models.CharField(_("来源"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-version"]
        constraints = [models.UniqueConstraint(fields=["script", "version"], name="scriptversion_once")]


class ScriptUse(models.Model):
    """One insertion of a script into a reply to a buyer (SCR-3: what followed is measured per use)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    script = models.ForeignKey(Script, on_delete=models.CASCADE, related_name="uses")
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    customer = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey("conversations.Conversation", on_delete=models.SET_NULL, null=True, blank=True,
                                     related_name="+")
    used_at = models.DateTimeField()
    day = models.DateField()  # shop day of the use: the reception it belongs to is (agent, buyer, day)

    class Meta:
        ordering = ["-used_at", "-id"]
        indexes = [models.Index(fields=["shop", "script", "used_at"])]


def default_courier_fees() -> dict:
    # 000 §5: 申通*元 EMS*元 顺丰*元 — the shop fills in its own fees.
    return {"申通": "10.00", "EMS": "20.00", "顺丰": "22.00"}


class ScriptSettings(models.Model):
    """Values the variables {运费} and {补运费链接} take."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="script_settings")
    courier_fees = models.JSONField(_("快递运费"), default=default_courier_fees, blank=True)
    fee_link = models.CharField(_("补运费链接"), max_length=300, blank=True)

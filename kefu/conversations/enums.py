from django.db import models
from django.utils.translation import gettext_lazy as _


class Sender(models.TextChoices):
    BUYER = "buyer", _("买家")
    AGENT = "agent", _("客服")
    BOT = "bot", _("机器人/自动回复")
    SYSTEM = "system", _("系统")

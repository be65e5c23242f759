from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    AGENT = "agent", _("客服")
    SUPERVISOR = "supervisor", _("客服主管")
    MANAGER = "manager", _("经理")
    WAREHOUSE = "warehouse", _("仓储")
    ADMIN = "admin", _("管理员")


class Group(models.TextChoices):
    PRESALES = "presales", _("售前接待组")
    AFTERSALES = "aftersales", _("售后退货退款组")
    NONE = "", _("无")


class AttributionBasis(models.TextChoices):
    CREATED = "created", _("下单时间")
    PAID = "paid", _("付款时间")


# Roles that see every figure of their shop; everyone else sees their own figures and the ranking.
SHOP_WIDE_ROLES = {Role.SUPERVISOR, Role.MANAGER, Role.ADMIN}
# Roles that may see buyers' phone numbers and addresses unmasked.
CONTACT_ROLES = {Role.SUPERVISOR, Role.MANAGER, Role.ADMIN, Role.WAREHOUSE}
# Who may change the shop's settings (SPEC §12 settings, service hours, score weights, rules).
SETTINGS_ROLES = {Role.MANAGER, Role.ADMIN}

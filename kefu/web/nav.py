"""The top navigation: one entry per page family, shown to the roles that work there."""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kefu.core.enums import Role
from kefu.core.models import Agent

ANYONE = ()  # every person of the shop


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    roles: tuple[str, ...] = ANYONE  # empty = every person of the shop


NAV = [
    NavItem("web:conversations", _("会话")),
    NavItem("workforce:roster", _("排班")),
    NavItem("followups:worklist", _("跟进")),
    NavItem("aftersales:list", _("售后")),
    NavItem("approvals:queue", _("审批")),
    NavItem("web:settings", _("设置"), (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)),
]


def nav_items(member: Agent | None, path: str) -> list[dict]:
    if member is None:
        return []
    out = []
    for item in NAV:
        if item.roles and not member.has_role(*item.roles):
            continue
        url = reverse(item.url_name)
        out.append({"url": url, "label": item.label, "active": path.startswith(url)})
    return out

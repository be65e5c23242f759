"""Who sees and acts on whose people pages: an agent their own rows, a supervisor the agents of their
group (a supervisor without a group: everyone), managers and admins everyone, integrations everyone."""

from django.db.models import QuerySet
from django.http import Http404

from kefu.core.access import edits_settings, sees_whole_shop
from kefu.core.enums import Role
from kefu.core.errors import PermissionDenied
from kefu.core.models import Agent, Shop

from .enums import PeopleError


def is_supervisor(member: Agent | None) -> bool:
    """Supervisors, managers and admins (None = an integration token, which acts for the shop)."""
    return member is None or sees_whole_shop(member)


def is_manager(member: Agent | None) -> bool:
    return member is None or edits_settings(member)


def supervises(member: Agent | None, agent: Agent) -> bool:
    if member is None or member.has_role(Role.MANAGER, Role.ADMIN):
        return True
    if not member.has_role(Role.SUPERVISOR):
        return False
    return not member.group or member.group == agent.group


def may_see(member: Agent | None, agent: Agent) -> bool:
    return member is not None and member.id == agent.id or supervises(member, agent)


def agents_visible(*, shop: Shop, member: Agent | None, include_inactive: bool = False) -> QuerySet[Agent]:
    qs = Agent.objects.filter(shop=shop)
    if not include_inactive:
        qs = qs.filter(active=True)
    if member is None or member.has_role(Role.MANAGER, Role.ADMIN):
        return qs
    if member.has_role(Role.SUPERVISOR):
        return qs.filter(group=member.group) if member.group else qs
    return qs.filter(pk=member.pk)


def agent_get_for_user(*, shop: Shop, member: Agent | None, id: int) -> Agent:
    """An agent of this shop the person may see; 404 otherwise (no hint it exists)."""
    agent = Agent.objects.filter(shop=shop, pk=id).first()
    if agent is None or not may_see(member, agent):
        raise Http404("agent")
    return agent


def require_supervisor_of(member: Agent | None, agent: Agent) -> None:
    if not supervises(member, agent):
        raise PermissionDenied("only the agent's supervisor may do this", code=PeopleError.SUPERVISOR_ONLY)


def require_supervisor(member: Agent | None) -> None:
    if not is_supervisor(member):
        raise PermissionDenied("supervisors, managers and admins only", code=PeopleError.SUPERVISOR_ONLY)


def require_manager(member: Agent | None) -> None:
    if not is_manager(member):
        raise PermissionDenied("managers and admins only", code=PeopleError.MANAGER_ONLY)


def label_of(member: Agent | None, actor=None) -> str:
    return member.name if member is not None else str(actor or "integration")

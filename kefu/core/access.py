"""Access helpers: which shop a person works in, and what their roles let them see."""

from django.http import Http404

from .enums import CONTACT_ROLES, SETTINGS_ROLES, SHOP_WIDE_ROLES
from .models import Agent, Shop


def membership_for(user, shop: Shop) -> Agent | None:
    if not user or not user.is_authenticated:
        return None
    return Agent.objects.filter(user=user, shop=shop, active=True, shop__archived_at__isnull=True).first()


def shop_for_user(*, user, code: str) -> tuple[Shop, Agent]:
    """The shop with this code if the user works there; 404 otherwise (no hint it exists)."""
    member = (
        Agent.objects.select_related("shop")
        .filter(user=user, shop__code=code, active=True, shop__archived_at__isnull=True).first()
        if user and user.is_authenticated
        else None
    )
    if member is None:
        raise Http404("shop")
    return member.shop, member


def user_of(agent: Agent | None):
    """The login of a person, for audit rows (None for people without one)."""
    return agent.user if agent is not None and agent.user_id else None


def sees_whole_shop(member: Agent | None) -> bool:
    return member is not None and member.has_role(*SHOP_WIDE_ROLES)


def sees_contacts(member: Agent | None) -> bool:
    return member is not None and member.has_role(*CONTACT_ROLES)


def mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 7 else "****" if phone else ""


def mask_address(address: str) -> str:
    return address[:6] + "****" if address else ""


def edits_settings(member: Agent | None) -> bool:
    return member is not None and member.has_role(*SETTINGS_ROLES)

from django.utils.functional import SimpleLazyObject

from kefu.core.enums import Role

from .nav import nav_sections


def nav(request):
    user = getattr(request, "user", None)

    def shops():
        from .selectors import shops_of_user

        memberships = getattr(request, "memberships", None)
        if memberships is not None:  # ShopMiddleware read them already: no second query
            return [(m.shop_id, m.shop.name) for m in memberships]
        return shops_of_user(user) if user is not None else []

    shop = getattr(request, "shop", None)
    member = getattr(request, "member", None)
    return {
        "nav_sections": SimpleLazyObject(lambda: nav_sections(member, request.path)),
        "current_shop": shop,
        # Times on pages are shown in the shop's time zone (None = the default zone).
        "shop_tz": shop.tz if shop is not None else None,
        "current_member": member,
        # 我的绩效 in the person's menu: only for people with agent figures (a manager would see zeros).
        "has_own_figures": member is not None and member.has_role(Role.AGENT),
        # Evaluated only when a template asks (the shop switcher), so one query at most.
        "shop_choices": SimpleLazyObject(shops),
    }

from django.utils.functional import SimpleLazyObject


def nav(request):
    user = getattr(request, "user", None)

    def shops():
        from .selectors import shops_of_user

        return shops_of_user(user) if user is not None else []

    shop = getattr(request, "shop", None)
    return {
        "current_shop": shop,
        # Times on pages are shown in the shop's time zone (None = the default zone).
        "shop_tz": shop.tz if shop is not None else None,
        "current_member": getattr(request, "member", None),
        # Evaluated only when a template asks (the shop switcher), so one query at most.
        "shop_choices": SimpleLazyObject(shops),
    }

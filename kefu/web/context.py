def nav(request):
    return {"current_shop": getattr(request, "shop", None), "current_member": getattr(request, "member", None)}

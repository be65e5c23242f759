"""Reply scripts (SCR-1, SCR-2) under /api/v1/."""

from django.http import Http404
from ninja import Query, Router, Status

from kefu.conversations.selectors import conversation_get_for_user
from kefu.core.api_auth import AUTH
from kefu.core.errors import KefuError
from kefu.orders.models import Order

from . import selectors as sel
from . import services
from .enums import ScriptCategory
from .schemas import RenderIn, RenderOut, ScriptIn, ScriptOut, ScriptPatch

router = Router(tags=["replies"], auth=AUTH)


def script_out(s) -> dict:
    return {"id": s.pk, "category": s.category, "title": s.title, "body": s.body, "key": s.key,
            "personal": s.owner_id is not None, "starts_on": s.starts_on, "ends_on": s.ends_on,
            "active": s.active, "usage_count": s.usage_count, "version": s.version}


@router.get("/scripts", response=list[ScriptOut])
def scripts_get(request, shop: str | None = None, q: str = Query("", max_length=100),
                category: ScriptCategory | None = None, all: bool = False,
                limit: int = Query(50, ge=1, le=500), conversation_id: int | None = None):
    """The shop's scripts and the person's own opening line, searched in Chinese (`q`), best first.
    `all=true` includes inactive and out-of-date campaign scripts. Without `q`, `conversation_id`
    ranks them by what the buyer said last (the picker's suggestions)."""
    shop_obj, member = request.auth.shop_for(shop)
    services.scripts_ensure(shop_obj)
    if not q.strip() and conversation_id is not None and not all:
        conv = conversation_get_for_user(shop=shop_obj, member=member, id=conversation_id)
        found = sel.scripts_for_context(shop=shop_obj, member=member, conversation=conv, category=category,
                                        limit=limit)
    else:
        found = sel.scripts_search(shop=shop_obj, q=q, member=member, category=category, limit=limit,
                                   include_inactive=all)
    return [script_out(s) for s in found]


@router.post("/scripts", response={201: ScriptOut})
def script_post(request, payload: ScriptIn, shop: str | None = None):
    """A shop script. Supervisors, managers and integrations; unknown variables are refused."""
    shop_obj, member = request.auth.shop_for(shop)
    s = services.script_create(shop=shop_obj, actor=member, **payload.dict())
    return Status(201, script_out(s))


@router.post("/scripts/{script_id}", response=ScriptOut)
def script_patch(request, script_id: int, payload: ScriptPatch, shop: str | None = None):
    """Change a script (only the fields given). An agent may change only their own opening line."""
    shop_obj, member = request.auth.shop_for(shop)
    sel.script_get_for_user(shop=shop_obj, member=member, id=script_id)
    changes = payload.dict(exclude_unset=True)
    expected = changes.pop("expected_version", None)
    for f in ("category", "title", "body", "key", "active"):
        if f in changes and changes[f] is None:
            raise KefuError("must not be null", field=f)
    s = services.script_update(shop=shop_obj, script_id=script_id, actor=member, expected_version=expected,
                               **changes)
    return script_out(s)


@router.post("/scripts/{script_id}/render", response=RenderOut)
def script_render_post(request, script_id: int, payload: RenderIn, shop: str | None = None):
    """The script's text with its variables filled from the conversation and/or order."""
    shop_obj, member = request.auth.shop_for(shop)
    s = sel.script_get_for_user(shop=shop_obj, member=member, id=script_id)
    conv = order = None
    if payload.conversation_id is not None:
        conv = conversation_get_for_user(shop=shop_obj, member=member, id=payload.conversation_id)
    if payload.order_id:
        order = Order.objects.filter(shop=shop_obj, order_id=payload.order_id).select_related("customer").first()
        if order is None:
            raise Http404("order")
    values = sel.script_context(shop=shop_obj, member=member, conversation=conv, order=order)
    if payload.count_use:
        services.script_use(shop=shop_obj, script_id=s.pk, agent=member, conversation=conv)
    return {"id": s.pk, "text": services.script_fill(script_body=s.body, values=values)}

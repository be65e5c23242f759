"""Pages of the buyer record (CRM-1): the buyer list with search, filters and bulk tags; the buyer
360 page with the audited reveal of contacts, tags, notes, merge and undo; the shop's tags."""

from django.contrib import messages as flash
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError, http_status
from kefu.core.exports import MONEY, column_sums
from kefu.crm.services import grade_rules_ensure
from kefu.web.views import _export_format, export_response, shop_page

from . import merge as merging
from . import services
from .enums import NoteKind, TagColor
from .models import Customer, Tag
from .profile import buyer_profile
from .selectors import (
    BuyerFilters,
    buyer_filters_clean,
    buyers_list,
    cents,
    customer_find,
    customer_get_for_user,
    sees_all_buyers,
    tags_of_shop,
    visible_buyers_q,
)

PER_PAGE = 50
EXPORT_MAX = 20000
EXPORT_COLUMNS = ["buyer_id", "nick", "grade", "tags", "spend", "paid_orders", "first_paid_at", "last_paid_at",
                  "at_risk"]


def _error(exc: KefuError) -> str:
    return f"{exc.field}: {exc.message}" if exc.field else exc.message


def _export_rows(qs, tz) -> list[dict]:
    rows = []
    for c in qs[:EXPORT_MAX]:
        grade = getattr(c, "grade", None)
        rows.append({"buyer_id": c.buyer_id, "nick": c.nick, "grade": grade.grade if grade else "",
                     "tags": "、".join(t.tag.name for t in c.taggings.all()), "spend": cents(c.spend),
                     "paid_orders": c.paid_orders,
                     "first_paid_at": c.first_paid_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if c.first_paid_at else "",
                     "last_paid_at": c.last_paid_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if c.last_paid_at else "",
                     "at_risk": _("是") if c.at_risk else ""})
    return rows


@shop_page
def buyer_list(request):
    shop, member = request.shop, request.member
    error = None
    try:
        filters = buyer_filters_clean(request.GET)
        fmt = _export_format(request)
    except KefuError as exc:
        filters, fmt, error = BuyerFilters(), None, _error(exc)
    qs = buyers_list(shop=shop, member=member, filters=filters)
    if fmt:
        labels = {"buyer_id": _("买家ID"), "nick": _("昵称"), "grade": _("等级"), "tags": _("标签"),
                  "spend": _("消费金额"), "paid_orders": _("付款订单"), "first_paid_at": _("首次付款"),
                  "last_paid_at": _("最近付款"), "at_risk": _("流失风险")}
        rows = _export_rows(qs, shop.tz)
        return export_response(fmt, EXPORT_COLUMNS, rows, "buyers", labels, title=_("买家"), kinds={"spend": MONEY},
                               total=column_sums(rows, ("spend", "paid_orders"))
                               | {"buyer_id": _("合计 %(n)d 位") % {"n": len(rows)}})
    page = Paginator(qs, PER_PAGE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    ctx = {"page": page, "rows": list(page.object_list), "f": filters, "error": error, "query": params.urlencode(),
           "tags": tags_of_shop(shop=shop), "grades": [r.grade for r in grade_rules_ensure(shop)],
           "whole": sees_all_buyers(member), "edits_tags": sees_whole_shop(member)}
    if request.htmx and request.htmx.target == "buyers":
        return TemplateResponse(request, "customers/list.html#table", ctx, status=400 if error else 200)
    return TemplateResponse(request, "customers/list.html", ctx, status=400 if error else 200)


@require_POST
@shop_page
def bulk_tags(request):
    """Add or remove one tag on the ticked buyers, or on every buyer matching the list's filters
    (at most services.BULK_MAX)."""
    shop, member = request.shop, request.member
    p = request.POST
    back = redirect(reverse("customers:list") + "?" + p.get("query", ""))
    try:
        if p.get("scope") == "all":
            from django.http import QueryDict

            filters = buyer_filters_clean(QueryDict(p.get("query", "")))
            ids = list(buyers_list(shop=shop, member=member, filters=filters)
                       .values_list("pk", flat=True)[:services.BULK_MAX + 1])
            if len(ids) > services.BULK_MAX:
                raise KefuError(_("匹配的买家超过 %(n)s 位，请缩小范围") % {"n": services.BULK_MAX}, field="scope")
        else:
            ids = [int(x) for x in p.getlist("customer_ids") if x.isdigit()]
            ids = list(Customer.objects.filter(shop=shop, pk__in=ids).filter(visible_buyers_q(member))
                       .values_list("pk", flat=True))
        if not ids:
            raise KefuError(_("请先勾选买家"), field="customer_ids")
        tag = int(p.get("tag") or 0)
        n = services.customer_tags_bulk(shop=shop, customer_ids=ids, tag=tag, add=p.get("action") != "remove",
                                        actor=member)
        flash.success(request, _("已更新 %(n)s 位买家的标签") % {"n": n})
    except (KefuError, ValueError) as exc:
        flash.error(request, _error(exc) if isinstance(exc, KefuError) else str(exc))
    return back


@shop_page
def buyer_detail(request, customer_id: int):
    shop, member = request.shop, request.member
    c = customer_get_for_user(shop=shop, member=member, id=customer_id)
    if c.merged_into_id:
        flash.info(request, _("买家 %(a)s 已合并到 %(b)s") % {"a": c.buyer_id, "b": c.merged_into.buyer_id})
        return redirect("customers:detail", customer_id=c.merged_into_id)
    p = buyer_profile(shop=shop, member=member, customer=c)
    from kefu.care.selectors import is_care_staff

    ctx = {"p": p, "c": c, "all_tags": tags_of_shop(shop=shop), "note_kinds": NoteKind.choices,
           "can_merge": sees_all_buyers(member), "care_staff": is_care_staff(member)}
    return TemplateResponse(request, "customers/detail.html", ctx)


def _act(request, customer_id: int, fn):
    shop, member = request.shop, request.member
    c = customer_get_for_user(shop=shop, member=member, id=customer_id)
    try:
        fn(shop, member, c)
    except KefuError as exc:
        flash.error(request, _error(exc))
        if request.htmx:
            return TemplateResponse(request, "customers/_error.html", {"error": _error(exc)}, status=http_status(exc))
    return redirect("customers:detail", customer_id=(c.merged_into_id or c.pk))


@require_POST
@shop_page
def reveal(request, customer_id: int):
    """The audited reveal of phone and address (htmx swaps the contacts block)."""
    shop, member = request.shop, request.member
    c = customer_get_for_user(shop=shop, member=member, id=customer_id)
    try:
        contacts = services.customer_contacts_reveal(shop=shop, customer=c, member=member,
                                                     reason=request.POST.get("reason", ""))
    except KefuError as exc:
        return TemplateResponse(request, "customers/_error.html", {"error": _error(exc)}, status=http_status(exc))
    return TemplateResponse(request, "customers/_contacts.html", {"contacts": contacts, "c": c})


@require_POST
@shop_page
def tag(request, customer_id: int):
    def fn(shop, member, c):
        t = int(request.POST.get("tag") or 0)
        if request.POST.get("action") == "remove":
            services.customer_tag_remove(shop=shop, customer=c, tag=t, actor=member)
        else:
            services.customer_tag_add(shop=shop, customer=c, tag=t, actor=member)
    return _act(request, customer_id, fn)


@require_POST
@shop_page
def note(request, customer_id: int):
    def fn(shop, member, c):
        services.customer_note_add(shop=shop, customer=c, text=request.POST.get("text", ""),
                                   kind=request.POST.get("kind") or NoteKind.NOTE, actor=member)
        flash.success(request, _("已添加"))
    return _act(request, customer_id, fn)


@require_POST
@shop_page
def merge(request, customer_id: int):
    """Merge another record (by its buyer id) into this one."""
    def fn(shop, member, c):
        other = customer_find(shop=shop, buyer_id=request.POST.get("buyer_id", "").strip())
        if other is None:
            raise KefuError(_("本店没有这个买家ID"), field="buyer_id")
        other = customer_get_for_user(shop=shop, member=member, id=other.pk)
        merging.customer_merge(shop=shop, source=other, target=c, actor=member, reason=request.POST.get("reason", ""))
        flash.success(request, _("已合并 %(a)s，可在 24 小时内撤销") % {"a": other.buyer_id})
    return _act(request, customer_id, fn)


@require_POST
@shop_page
def merge_undo(request, customer_id: int, merge_id: int):
    def fn(shop, member, c):
        merging.customer_merge_undo(shop=shop, merge_id=merge_id, actor=member)
        flash.success(request, _("已撤销合并"))
    return _act(request, customer_id, fn)


@shop_page
def tags(request):
    """The shop's tags: supervisors and up define and delete them."""
    shop, member = request.shop, request.member
    if not sees_whole_shop(member):
        raise Http404("tags")
    error = None
    if request.method == "POST":
        try:
            if request.POST.get("delete"):
                t = Tag.objects.filter(shop=shop, pk=int(request.POST["delete"])).first()
                if t is None:
                    raise Http404("tag")
                services.tag_delete(shop=shop, tag=t, actor=member)
            else:
                services.tag_create(shop=shop, name=request.POST.get("name", ""),
                                    color=request.POST.get("color") or TagColor.BLUE, actor=member)
            return redirect("customers:tags")
        except (KefuError, ValueError) as exc:
            error = _error(exc) if isinstance(exc, KefuError) else str(exc)
    ctx = {"tags": tags_of_shop(shop=shop), "colors": TagColor.choices, "error": error}
    return TemplateResponse(request, "customers/tags.html", ctx, status=400 if error else 200)

"""Pages: the graded buyer list and grading rules (supervisors and up), manual grades, promotions
and product pairs, and the cross-sell prompts partial shown beside a conversation."""

from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kefu.catalog.models import Product
from kefu.conversations.selectors import conversation_get_for_user
from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError
from kefu.customers.models import Customer
from kefu.web.views import shop_page

from . import selectors as sel
from . import services
from .enums import RuleMatch
from .models import ProductPair, Promotion

PER_PAGE = 50


def _supervisors_only(member) -> None:
    if not sees_whole_shop(member):
        raise Http404("page")


@shop_page
def grades(request):
    shop, member = request.shop, request.member
    _supervisors_only(member)
    rules = services.grade_rules_ensure(shop)
    grade = request.GET.get("grade", "")[:20]
    q = request.GET.get("q", "")[:120]
    counts = sel.grade_counts(shop=shop)
    page = Paginator(sel.grades_list(shop=shop, grade=grade or None, q=q), PER_PAGE).get_page(request.GET.get("page"))
    ctx = {"page": page, "rows": list(page.object_list), "grade": grade, "q": q, "rules": rules,
           "match_choices": RuleMatch.choices, "grade_names": [r.grade for r in rules],
           "grade_options": [(r.grade, counts.get(r.grade, 0)) for r in rules],
           "rules_error": request.session.pop("crm_rules_error", None)}
    return TemplateResponse(request, "crm/grades.html", ctx)


@require_POST
@shop_page
def recompute(request):
    _supervisors_only(request.member)
    services.grades_recompute(shop=request.shop)
    return redirect("crm:grades")


@require_POST
@shop_page
def rules_save(request):
    """The rules table form: rows grade/min_spend/min_orders/match/window_days; empty grade = row dropped."""
    shop, member = request.shop, request.member
    _supervisors_only(member)
    p = request.POST
    rows = [{"grade": g, "min_spend": s, "min_orders": o, "match": m, "window_days": w}
            for g, s, o, m, w in zip(p.getlist("grade"), p.getlist("min_spend"), p.getlist("min_orders"),
                                     p.getlist("match"), p.getlist("window_days"), strict=False) if g.strip()]
    try:
        services.grade_rules_set(shop=shop, rules=rows, actor=member)
    except KefuError as exc:
        request.session["crm_rules_error"] = f"{exc.field}: {exc.message}"
    return redirect("crm:grades")


@require_POST
@shop_page
def grade_set(request, customer_id: int):
    """Anyone serving the buyer grades them by hand (with a reason); htmx answers with the badge."""
    shop, member = request.shop, request.member
    customer = Customer.objects.filter(shop=shop, pk=customer_id).first()
    if customer is None:
        raise Http404("customer")
    error = None
    try:
        g = services.grade_override_set(shop=shop, customer=customer, grade=request.POST.get("grade", ""),
                                        reason=request.POST.get("reason", ""), actor=member)
    except KefuError as exc:
        error = _("请填写调整原因") if exc.code == "reason_required" else exc.message
        g = customer.grade if hasattr(customer, "grade") else None
    if not request.htmx:
        return redirect(request.POST.get("next") or "crm:grades") if error is None else TemplateResponse(
            request, "crm/_grade_form.html", {"g": g, "customer": customer, "error": error,
                                              "grades": [r.grade for r in services.grade_rules_ensure(shop)]},
            status=400)
    ctx = {"g": g, "customer": customer, "error": error,
           "grades": [r.grade for r in services.grade_rules_ensure(shop)]}
    return TemplateResponse(request, "crm/_grade_form.html", ctx)


@shop_page
def promotions(request):
    shop, member = request.shop, request.member
    can_edit = sees_whole_shop(member)
    error = None
    if request.method == "POST":
        if not can_edit:
            raise Http404("promotions")
        p = request.POST
        try:
            if p.get("form") == "toggle":
                promo = Promotion.objects.filter(shop=shop, pk=int(p.get("promotion_id") or 0)).first()
                if promo is None:
                    raise Http404("promotion")
                services.promotion_save(shop=shop, actor=member, promotion_id=promo.pk, active=not promo.active)
            elif p.get("form") == "pair":
                services.product_pair_add(shop=shop, actor=member, product_id=int(p.get("product_id") or 0),
                                          related_id=int(p.get("related_id") or 0), note=p.get("note", ""))
            else:
                ids = [int(x) for x in p.getlist("product_ids") if x.isdigit()]
                services.promotion_save(shop=shop, actor=member, name=p.get("name", ""),
                                        discount_text=p.get("discount_text", ""), category=p.get("category", ""),
                                        product_ids=ids, starts_on=p.get("starts_on") or None,
                                        ends_on=p.get("ends_on") or None)
            return redirect("crm:promotions")
        except (KefuError, ValueError) as exc:
            error = getattr(exc, "message", str(exc))
    current = set(sel.promotions_current(shop=shop).values_list("pk", flat=True))
    promos = list(Promotion.objects.filter(shop=shop).prefetch_related("products")[:200])
    for promo in promos:
        promo.is_current = promo.pk in current
    ctx = {"promotions": promos, "can_edit": can_edit, "error": error,
           "products": list(Product.objects.filter(shop=shop).order_by("category", "title")[:500]),
           "pairs": list(ProductPair.objects.filter(shop=shop).select_related("product", "related")[:200])}
    return TemplateResponse(request, "crm/promotions.html", ctx, status=400 if error else 200)


@shop_page
def prompts(request, conversation_id: int):
    """The cross-sell prompts partial (htmx) for a conversation this person may see."""
    shop, member = request.shop, request.member
    conv = conversation_get_for_user(shop=shop, member=member, id=conversation_id)
    cs = sel.cross_sell_for_conversation(shop=shop, conversation=conv)
    ctx = {"cs": cs, "customer": conv.customer, "g": cs.grade,
           "grades": [r.grade for r in services.grade_rules_ensure(shop)]}
    return TemplateResponse(request, "crm/_prompts.html#body", ctx)

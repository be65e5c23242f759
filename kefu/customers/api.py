from django.http import Http404
from ninja import Query, Router, Schema

from kefu.core.access import sees_whole_shop
from kefu.core.api_auth import AUTH
from kefu.core.errors import PermissionDenied
from kefu.crm.schemas import GradeIn, GradeOut
from kefu.crm.selectors import grades_list
from kefu.crm.services import grade_override_set

from .models import Customer
from .services import customer_spam_set

router = Router(tags=["customers"], auth=AUTH)


def _grade_out(g) -> dict:
    return {"buyer_id": g.customer.buyer_id, "nick": g.customer.nick, "grade": g.grade, "computed": g.computed,
            "override": g.override, "override_reason": g.override_reason, "spend": g.spend, "orders": g.orders,
            "computed_at": g.computed_at}


# Declared before any /customers/{buyer_id} GET so that "grades" is never read as a buyer id.
@router.get("/customers/grades", response=list[GradeOut])
def customer_grades(request, shop: str | None = None, grade: str | None = Query(None, max_length=20),
                    q: str = Query("", max_length=120), limit: int = Query(100, ge=1, le=1000),
                    offset: int = Query(0, ge=0)):
    """PRE-9: the graded list (supervisors and up), highest spend first; filter by `grade`."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is not None and not sees_whole_shop(member):
        raise PermissionDenied("supervisors, managers and admins only")
    return [_grade_out(g) for g in grades_list(shop=shop_obj, grade=grade, q=q)[offset:offset + limit]]


@router.post("/customers/{buyer_id}/grade", response=GradeOut)
def customer_grade_set(request, buyer_id: str, payload: GradeIn, shop: str | None = None):
    """Grade a buyer by hand (wins over the rules; a reason is required; audited), or clear the
    manual grade with `grade: ""`. Any person of the shop."""
    shop_obj, member = request.auth.shop_for(shop)
    customer = Customer.objects.filter(shop=shop_obj, buyer_id=buyer_id).first()
    if customer is None:
        raise Http404("customer")
    g = grade_override_set(shop=shop_obj, customer=customer, grade=payload.grade, reason=payload.reason,
                           actor=member)
    g.customer = customer
    return _grade_out(g)


class SpamIn(Schema):
    spam: bool


class CustomerOut(Schema):
    buyer_id: str
    nick: str
    is_spam: bool


@router.post("/customers/{buyer_id}/spam", response=CustomerOut)
def customer_spam(request, buyer_id: str, payload: SpamIn, shop: str | None = None):
    """Flag a buyer as spam/advertising (left out of every figure), or clear it. Supervisors and up."""
    shop_obj, member = request.auth.shop_for(shop)
    if member is not None and not sees_whole_shop(member):
        raise PermissionDenied("supervisors, managers and admins only")
    customer = Customer.objects.filter(shop=shop_obj, buyer_id=buyer_id).first()
    if customer is None:
        raise Http404("customer")
    actor = request.user if getattr(request, "user", None) and request.user.is_authenticated else None
    customer = customer_spam_set(shop=shop_obj, customer=customer, spam=payload.spam, actor=actor)
    return {"buyer_id": customer.buyer_id, "nick": customer.nick, "is_spam": customer.is_spam}

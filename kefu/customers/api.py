from django.http import Http404
from ninja import Router, Schema

from kefu.core.access import sees_whole_shop
from kefu.core.api_auth import AUTH
from kefu.core.errors import PermissionDenied

from .models import Customer
from .services import customer_spam_set

router = Router(tags=["customers"], auth=AUTH)


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

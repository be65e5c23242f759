"""The buyer-facing reply suggested for an order request, from the shop's script library.

The script key is `order.<kind>.<state>` (e.g. `order.cancel.done`, `order.change_address.refused`,
`order.urge_shipping.waiting_warehouse`); the context passed to the library is the order and the
requesting agent (objects, so the library fills order_id, buyer_nick, courier, tracking_no,
agent_name, shop_name …) plus {kind, new_value, result, buyer} by name. The default texts use
{order_id, buyer, kind, new_value, result, tracking_no, courier, agent, shop}. When the library
(kefu.replies.services.script_render) is absent or has no script for the key, the default text
below is used, with the same placeholders.
"""

from collections import defaultdict

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop as N

from kefu.core.errors import KefuError

from .enums import RequestKind, RequestState
from .models import OrderRequest

K, S = RequestKind, RequestState

# (kind or "*", state) → default Chinese text; "*" applies to every kind without its own line.
DEFAULTS = {
    (K.CANCEL, S.DONE): N("亲，订单 {order_id} 已为您撤销处理，退款会按原路退回，请留意哦~"),
    (K.CANCEL, S.WITH_AGENT): N("亲，订单 {order_id} 的撤单我们正在处理：{result}"),
    (K.CANCEL, S.WAITING_WAREHOUSE): N("亲，已通知仓库为您找单拦截订单 {order_id}，有结果第一时间告诉您~"),
    (K.CANCEL, S.REFUSED): N("亲，订单 {order_id} 目前无法撤单：{result}，我们为您走售后处理哦~"),
    (K.URGE_SHIPPING, S.DONE): N("亲，您的宝贝已发出啦，{courier} 单号 {tracking_no}，请留意查收~"),
    (K.URGE_SHIPPING, S.WAITING_WAREHOUSE): N("亲，已为您催促仓库尽快发货，发出后马上告诉您单号~"),
    ("*", S.DONE): N("亲，订单 {order_id} 已按您的要求处理好了（{new_value}）~"),
    ("*", S.WAITING_WAREHOUSE): N("亲，已通知仓库为订单 {order_id} 处理（{new_value}），有结果第一时间告诉您~"),
    ("*", S.WITH_AGENT): N("亲，订单 {order_id} 的要求我们正在处理：{result}"),
    ("*", S.REFUSED): N("亲，很抱歉，订单 {order_id} 暂时无法按要求修改：{result}"),
    ("*", S.CANCELLED): N("亲，已按您的意思取消了这次修改，订单 {order_id} 照常处理哦~"),
    ("*", S.OPEN): N("亲，收到您的要求，正在为订单 {order_id} 处理~"),
}


def script_key(req: OrderRequest) -> str:
    return f"order.{req.kind}.{req.state}"


def reply_context(req: OrderRequest) -> dict:
    order = req.order
    return {"order_id": order.order_id, "buyer": order.customer.nick or order.customer.buyer_id,
            "kind": str(K(req.kind).label), "new_value": req.new_value, "result": req.result,
            "tracking_no": order.tracking_no, "courier": order.courier,
            "agent": req.requested_by.name, "shop": req.shop.name}


def suggested_reply(req: OrderRequest) -> tuple[str, str]:
    """(script key, text) for the buyer; the script library's text when it has one for the key."""
    key, context = script_key(req), reply_context(req)
    try:
        from kefu.replies.services import script_render

        # The library fills its own variables from the order and the agent; ours are passed by name.
        text = script_render(shop=req.shop, key=key, context={
            "order": req.order, "agent": req.requested_by,
            **{k: context[k] for k in ("kind", "new_value", "result", "buyer")}})
    except (ImportError, AttributeError, LookupError, KefuError):  # no library, or no script for the key
        text = None
    if not text:
        template = DEFAULTS.get((req.kind, req.state)) or DEFAULTS[("*", req.state)]
        text = _(template).format_map(defaultdict(str, context))
    return key, text

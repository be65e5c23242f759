from django.db import models
from django.utils.translation import gettext_lazy as _


class OrderStatus(models.TextChoices):
    UNPAID = "unpaid", _("等待买家付款")
    PAID = "paid", _("买家已付款")
    PRINTED = "printed", _("已打单")
    SHIPPED = "shipped", _("卖家已发货")
    SIGNED = "signed", _("买家已签收")
    COMPLETED = "completed", _("交易成功")
    CLOSED = "closed", _("交易关闭")
    REFUNDING = "refunding", _("退款中")
    REFUNDED = "refunded", _("已退款")


# ---------------------------------------------------------------- order requests (PRE-5, PRE-6)

class RequestKind(models.TextChoices):
    CANCEL = "cancel", _("撤单")
    CHANGE_ADDRESS = "change_address", _("改地址")
    CHANGE_SHIP_DATE = "change_ship_date", _("约定发货时间")
    CHANGE_COURIER = "change_courier", _("指定快递")
    ADD_ACCESSORY = "add_accessory", _("加配件/辅料")
    URGE_SHIPPING = "urge_shipping", _("催发货")


class RequestState(models.TextChoices):
    OPEN = "open", _("新建")
    WAITING_WAREHOUSE = "waiting_warehouse", _("等待仓库")
    WITH_AGENT = "with_agent", _("待客服处理")
    DONE = "done", _("已完成")
    REFUSED = "refused", _("未能办理")
    CANCELLED = "cancelled", _("已撤回")


class RequestAction(models.TextChoices):
    ROUTE_BUYER = "route_buyer", _("由买家自行关闭")
    ROUTE_AGENT = "route_agent", _("交客服处理")
    ROUTE_WAREHOUSE = "route_warehouse", _("交仓库处理")
    ROUTE_REFUSE = "route_refuse", _("不能办理")
    WAREHOUSE_DONE = "warehouse_done", _("仓库已办妥")
    WAREHOUSE_REFUSED = "warehouse_refused", _("仓库无法办理")
    BACK_TO_AGENT = "back_to_agent", _("退回客服")
    ASK_INTERCEPT = "ask_intercept", _("请仓库拦截快递")
    COMPLETE = "complete", _("客服已办妥")
    REFUSE = "refuse", _("无法办理")
    CANCEL = "cancel", _("撤回申请")


class TaskKind(models.TextChoices):
    FIND_SLIP = "find_slip", _("找单拦截")
    STOP_PARCEL = "stop_parcel", _("拦截快递")
    CHANGE = "change", _("改单")
    CONFIRM_SHIPPED = "confirm_shipped", _("确认发货")


class TaskState(models.TextChoices):
    OPEN = "open", _("待处理")
    DONE = "done", _("已完成")
    CANCELLED = "cancelled", _("已取消")


class TaskOutcome(models.TextChoices):
    STOPPED = "stopped", _("已拦下/已改单")
    SHIPPED = "shipped", _("已发出（填单号）")
    FAILED = "failed", _("拦截失败")
    DONE = "done", _("已办妥")
    REFUSED = "refused", _("无法办理")


class RemarkType(models.TextChoices):
    """The remark kinds of seed 000 §6 (备注: 谁处理，谁备注)."""

    PRICE_CHANGE = "price_change", _("改价")
    UNSHIPPED_CHANGE = "unshipped_change", _("未发货")
    SHIPPED_CHANGE = "shipped_change", _("已发货")
    SPECIAL_COURIER = "special_courier", _("指定快递")
    REFUNDABLE = "refundable", _("可退款")


class OrderEventKind(models.TextChoices):
    REQUEST = "request", _("申请")
    TASK = "task", _("仓库任务")
    REMARK = "remark", _("备注")
    ADJUSTMENT = "adjustment", _("改价/免单")
    COMPENSATION = "compensation", _("补偿")
    ORDER = "order", _("订单变更")


class OrderErrorCode(models.TextChoices):
    INVALID_TRANSITION = "invalid_transition", "transition not allowed"
    ALREADY_DONE = "already_done", "the task was already completed"
    NOT_ALLOWED_ROLE = "forbidden", "this role may not do this"
    PERSON_REQUIRED = "person_required", "a logged-in person must do this"
    WRONG_ORDER_STATE = "wrong_order_state", "not for an order in this state"

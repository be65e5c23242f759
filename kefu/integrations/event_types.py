"""The event types of the apps that exist today (AUTO-4): messages, orders, conversations, cases,
refunds, approvals, follow-ups, complaints, SLA breaches and tracking events.

Money is a decimal string ("12.50"), times ISO 8601 with offset, ids integers unless named
`*_id` by a platform (order_id, buyer_id, message_id are the platform's own strings).
"""

from django.utils.translation import gettext_lazy as _

from .events import EventType

S = {"type": "string"}
S0 = {"type": ["string", "null"]}
INT = {"type": "integer"}
INT0 = {"type": ["integer", "null"]}
T = {"type": "string", "format": "date-time"}
T0 = {"type": ["string", "null"], "format": "date-time"}
M = {"type": "string", "pattern": r"^-?\d+\.\d{2}$", "description": "money, 2 decimals"}
B = {"type": "boolean"}


def obj(required: dict, optional: dict | None = None) -> dict:
    props = {**required, **(optional or {})}
    return {"type": "object", "required": list(required), "properties": props, "additionalProperties": True}


PERSON = {"type": ["object", "null"], "properties": {"id": INT, "name": S}}

MESSAGE = obj({"message_id": S, "conversation_id": INT0, "buyer_id": S, "sender": {"enum": ["buyer", "agent", "bot", "system"]},
               "sent_at": T, "text": S, "channel": S},
              {"buyer_nick": S, "agent": PERSON, "order_id": S})
ORDER = obj({"order_id": S, "buyer_id": S, "status": S, "total_amount": M, "paid_amount": M, "refund_amount": M,
             "created_at": T},
            {"paid_at": T0, "shipped_at": T0, "signed_at": T0, "completed_at": T0, "closed_at": T0, "refunded_at": T0,
             "tracking_no": S, "courier": S, "changed": {"type": "array", "items": S}})
ASSIGNED = obj({"conversation_id": INT, "buyer_id": S, "to": PERSON, "reason": S},
               {"from": PERSON, "by": PERSON, "group": S})
CLOSED = obj({"conversation_id": INT, "buyer_id": S, "reopened": B}, {"by": PERSON})
CASE = obj({"case_id": INT, "order_id": S, "type": S, "from_state": S, "to_state": S, "action": S},
           {"by": PERSON, "note": S})
REFUND = obj({"case_id": INT, "order_id": S, "amount": M, "kind": S}, {"by": PERSON})
APPROVAL = obj({"approval_id": INT, "action": S, "amount": M, "decision": {"enum": ["approved", "rejected", "cancelled"]}},
               {"order_id": S, "requested_by": PERSON, "decided_by": PERSON, "reason": S})
FOLLOWUP = obj({"followup_id": INT, "kind": S, "from_state": S, "to_state": S}, {"order_id": S, "buyer_id": S, "owner": PERSON})
COMPLAINT = obj({"complaint_id": INT, "from_stage": S, "to_stage": S}, {"order_id": S, "buyer_id": S, "by": PERSON})
SLA = obj({"clock_id": INT, "target": S, "due_at": T, "breached_at": T},
          {"conversation_id": INT0, "case_id": INT0, "agent": PERSON, "policy": S})
TRACKING = obj({"tracking_no": S, "courier": S, "state": {"enum": ["shipped", "in_transit", "exception", "signed", "returned"]},
                "at": T, "context": S}, {"order_id": S0})

EVENTS = [
    EventType("message.created", _("新消息"), "conversation", MESSAGE,
              {"message_id": "m1", "conversation_id": 12, "buyer_id": "tb_buyer", "sender": "buyer",
               "sent_at": "2026-11-11T00:00:05+08:00", "text": "在吗", "channel": "qianniu"}),
    EventType("order.created", _("新订单"), "order", ORDER),
    EventType("order.updated", _("订单变化"), "order", ORDER),
    EventType("conversation.assigned", _("会话分配/转接"), "conversation", ASSIGNED),
    EventType("conversation.closed", _("会话关闭/重开"), "conversation", CLOSED),
    EventType("case.transitioned", _("售后单状态变化"), "case", CASE),
    EventType("refund.executed", _("退款已执行"), "case", REFUND),
    EventType("approval.decided", _("审批结果"), "approval", APPROVAL),
    EventType("followup.transitioned", _("跟进状态变化"), "followup", FOLLOWUP),
    EventType("complaint.stage_changed", _("投诉阶段变化"), "complaint", COMPLAINT),
    EventType("sla.breached", _("SLA 超时"), "conversation", SLA),
    EventType("tracking.updated", _("物流轨迹"), "order", TRACKING),
]

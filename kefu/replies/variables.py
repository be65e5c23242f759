"""The variables a script may use, written {名称} in its body, and how they are filled.

One place defines the names (the editor lists them, the save check refuses others) and the
values (from the conversation, its order, the agent and the shop's script settings).
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from kefu.core.errors import KefuError

from .enums import ScriptErrorCode

TOKEN = re.compile(r"\{([^{}\n]{1,20})\}")


@dataclass(frozen=True)
class Variable:
    name: str  # what the body says between braces, Chinese
    field: str  # key in the context dict script_render() takes
    help: str


VARIABLES: tuple[Variable, ...] = (
    Variable("买家昵称", "buyer_nick", _("买家昵称（没有昵称时用买家ID）")),
    Variable("客服", "agent_name", _("当前客服的名字")),
    Variable("店铺", "shop_name", _("店铺名称")),
    Variable("订单号", "order_id", _("会话中的订单卡片或买家最近的订单")),
    Variable("商品", "product", _("订单的宝贝标题")),
    Variable("金额", "amount", _("订单应付/实付金额")),
    Variable("快递", "courier", _("订单的快递公司")),
    Variable("物流单号", "tracking_no", _("订单的物流单号")),
    Variable("运费", "courier_fees", _("补运费：各快递的运费（店铺设置），有订单快递时只列该快递")),
    Variable("补运费链接", "fee_link", _("补运费链接（店铺设置）")),
    Variable("日期", "today", _("今天（店铺时区）")),
)
BY_NAME = {v.name: v for v in VARIABLES}
FIELDS = {v.field for v in VARIABLES}


def variables_check(body: str, *, field: str = "body") -> list[str]:
    """The variable names a body uses; an unknown name or a stray brace is refused, naming it."""
    names = TOKEN.findall(body)
    unknown = [n for n in names if n not in BY_NAME]
    if unknown:
        known = "、".join(v.name for v in VARIABLES)
        raise KefuError(f"unknown variable {{{unknown[0]}}}; known variables: {known}", field=field,
                        code=ScriptErrorCode.UNKNOWN_VARIABLE)
    rest = TOKEN.sub("", body)
    if "{" in rest or "}" in rest:
        raise KefuError("a brace { or } is not part of a variable like {买家昵称}", field=field,
                        code=ScriptErrorCode.BAD_BRACES)
    return names


def variables_unfilled(text: str) -> list[str]:
    """The known variables still written {名称} in a text (a script inserted without its values)."""
    seen: list[str] = []
    for name in TOKEN.findall(text):
        if name in BY_NAME and name not in seen:
            seen.append(name)
    return seen


def variables_fill(body: str, values: dict) -> str:
    """Each {名称} replaced by its value; a variable without a value stays as written so the agent
    sees what to fill in by hand."""

    def sub(m: re.Match) -> str:
        var = BY_NAME.get(m.group(1))
        if var is None:
            return m.group(0)
        value = values.get(var.field)
        return m.group(0) if value in (None, "") else str(value)

    return TOKEN.sub(sub, body)

"""Wording and colours of people pages: a deduction's source in words, points, money, status colours."""

from decimal import Decimal

from django import template
from django.utils.translation import gettext as _

from ..enums import AttendanceStatus as St
from ..enums import DeductionStatus, SourceType

register = template.Library()

# Tabler/Bootstrap background utility per attendance status (the month sheet's colours).
STATUS_CLASS = {
    St.ON_TIME: "bg-success-lt", St.LATE: "bg-warning-lt", St.ABSENT: "bg-orange-lt",
    St.UNAUTHORISED: "bg-danger-lt", St.LEAVE: "bg-info-lt", St.REST_ADJUSTED: "bg-azure-lt",
    St.FORGOT: "bg-purple-lt", St.PENDING: "bg-secondary-lt", St.REST: "",
}
# One character per status for the dense month grid.
STATUS_MARK = {
    St.ON_TIME: "✓", St.LATE: "迟", St.ABSENT: "缺", St.UNAUTHORISED: "旷", St.LEAVE: "假",
    St.REST_ADJUSTED: "调", St.FORGOT: "漏", St.PENDING: "…", St.REST: "",
}
STATUS_MARK_EN = {
    St.ON_TIME: "✓", St.LATE: "L", St.ABSENT: "A", St.UNAUTHORISED: "U", St.LEAVE: "V",
    St.REST_ADJUSTED: "R", St.FORGOT: "F", St.PENDING: "…", St.REST: "",
}


@register.filter
def status_class(status: str) -> str:
    return STATUS_CLASS.get(status, "")


@register.filter
def status_mark(status: str) -> str:
    from django.utils.translation import get_language

    marks = STATUS_MARK if (get_language() or "zh-hans").startswith("zh") else STATUS_MARK_EN
    return marks.get(status, "")


@register.filter
def pts(value) -> str:
    """Points without trailing zeros: 0.5, 2, 9.5."""
    if value is None:
        return "—"
    return format(Decimal(value).normalize(), "f")


@register.filter
def yuan(value) -> str:
    """¥1,187.00 (negative: −¥12.50)."""
    if value is None or value == "":
        return "—"
    d = Decimal(value).quantize(Decimal("0.01"))
    sign = "−" if d < 0 else ""
    return f"{sign}¥{abs(d):,.2f}"


@register.filter
def deduction_text(d) -> str:
    """What a deduction's source said, in the reader's language."""
    x = d.detail or {}
    if d.source_type == SourceType.MANUAL:
        return d.reason
    parts = []
    if "late_minutes" in x and x["late_minutes"]:
        parts.append(_("迟到 %(n)s 分钟") % {"n": x["late_minutes"]})
    if "left_early_minutes" in x and x["left_early_minutes"]:
        parts.append(_("提前 %(n)s 分钟离岗") % {"n": x["left_early_minutes"]})
    if "allowance_no" in x:
        parts.append(_("本月第 %(n)s 次请假/调休，超出调休次数") % {"n": x["allowance_no"]})
    if "minutes" in x:
        parts.append(_("值班未在线 %(n)s 分钟") % {"n": x["minutes"]})
    if d.source_type == SourceType.COMPLAINT and "fault" in x:
        parts.append(_("投诉 #%(id)s 经质检追溯为业务知识错误") % {"id": d.source_id})
        if x.get("product"):
            parts.append(x["product"])
    elif d.source_type == SourceType.COMPLAINT:
        parts.append(_("投诉 #%(id)s 成立") % {"id": d.source_id})
    if x.get("nth", 1) > 1 or d.source_type in (SourceType.PRESENCE, SourceType.COMPLAINT):
        parts.append(_("本月第 %(n)s 次") % {"n": x.get("nth", 1)})
    if x.get("withdrawn"):
        parts.append(_("来源已更正"))
    if x.get("struck"):
        parts.append(_("已撤销") if x["struck"] == DeductionStatus.REVERSED else _("申诉成功"))
    if d.origin_month:
        parts.append(_("属于 %(m)s（已锁定）") % {"m": d.origin_month.strftime("%Y-%m")})
    if d.reason:
        parts.append(d.reason)
    from django.utils.translation import get_language

    return ("；" if (get_language() or "zh").startswith("zh") else "; ").join(parts)


@register.filter
def plan_text(rows) -> str:
    """A plan's tier rows as typed in its form: "0:1, 50000:1.5"."""
    return ", ".join(":".join(str(x) for x in r) for r in rows or [])


@register.filter
def tr(value) -> str:
    """Translate data that is a default label (rule names shipped as seed defaults); other text as is."""
    return _(value) if value else ""


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.simple_tag(takes_context=True)
def people_supervisor(context) -> bool:
    """Whether the person sees the supervisors' tabs (supervisors, managers, admins)."""
    from ..access import is_supervisor

    member = context.get("current_member")
    return member is not None and is_supervisor(member)

"""Pages of the reports up (WF-8): the department report (page, XLSX, printable view) and each agent's
monthly report to the supervisor."""

from decimal import Decimal
from urllib.parse import urlencode

from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from kefu.core.errors import KefuError
from kefu.core.exports import RATE, Sheet, xlsx_bytes
from kefu.people.access import is_supervisor, supervises
from kefu.people.views.common import month_ctx
from kefu.web.labels import KPI_LABELS, PAGE_TIME_LABELS, column_kinds
from kefu.web.views import shop_page

from . import dept
from . import selectors as S
from .enums import AgentReportState, Period
from .models import DeptReport


def _choice_rows(mapping: dict, enum) -> list[tuple[str, int]]:
    labels = dict(enum.choices)
    return [(str(labels.get(k, k)), n) for k, n in sorted(mapping.items(), key=lambda kv: -kv[1])]


def _sections(data: dict) -> dict:
    from kefu.aftersales.enums import CaseType
    from kefu.complaints.enums import ComplaintCategory, Verdict
    from kefu.people.enums import AttendanceStatus, WarningLevel

    return {
        "case_types": _choice_rows(data["aftersales"]["by_type"], CaseType),
        "complaint_categories": _choice_rows(data["complaints"]["by_category"], ComplaintCategory),
        "verdicts": _choice_rows(data["complaints"]["by_verdict"], Verdict),
        "attendance": _choice_rows(data["attendance"], AttendanceStatus),
        "warnings": _choice_rows(data["points"]["warnings"], WarningLevel),
    }


def _group_label(value: str) -> str:
    from kefu.core.enums import Group

    return str(Group(value).label) if value in Group.values and value else _("未分组")


def _title(r) -> str:
    span = f"{r.start:%Y-%m-%d}" if r.start == r.end else f"{r.start:%Y-%m-%d} – {r.end:%Y-%m-%d}"
    titles = {Period.DAY: _("客服部日报"), Period.WEEK: _("客服部周报"), Period.MONTH: _("客服部月报")}
    return f"{titles[r.period]} {span}"


@shop_page
def dept_list(request):
    shop, member = request.shop, request.member
    if not is_supervisor(member):
        raise Http404("department reports")
    period = request.GET.get("period", "")
    qs = DeptReport.objects.filter(shop=shop).select_related("written_by").order_by("-start", "period")
    if period in Period.values:
        qs = qs.filter(period=period)
    rows = [(r, _title(r)) for r in qs[:60]]
    return TemplateResponse(request, "reports/dept_list.html", {
        "reports": rows, "period": period, "periods": Period.choices, "error": request.GET.get("error", "")[:300]})


@require_POST
@shop_page
def dept_generate(request):
    shop, member = request.shop, request.member
    if not is_supervisor(member):
        raise Http404("department reports")
    import datetime as dt

    try:
        start = dt.date.fromisoformat(request.POST.get("start", ""))
        row = dept.dept_report_generate(shop=shop, period=request.POST.get("period", ""), start=start)
    except ValueError:
        return redirect(reverse("reports:dept") + "?" + urlencode({"error": _("请选择日期")}))
    except KefuError as exc:
        return redirect(reverse("reports:dept") + "?" + urlencode({"error": exc.message}))
    return redirect("reports:dept_detail", row.pk)


def _kpi_rows(data: dict) -> list[dict]:
    out = []
    for k in data["kpi"]:
        ch = k["change"]
        better = None
        if ch is not None and ch != 0:
            better = (ch < 0) if k["key"] in dept.LOWER_IS_BETTER else (ch > 0)
        out.append({**k, "label": PAGE_TIME_LABELS.get(k["key"]) or KPI_LABELS.get(k["key"], k["key"]),
                    "rate": k["key"] in dept.RATE_KEYS, "better": better,
                    "change_pct": None if ch is None else (ch if k["key"] in dept.RATE_KEYS else ch * 100)})
    return out


@shop_page
def dept_detail(request, report_id: int):
    shop, member = request.shop, request.member
    r = S.dept_report_get_for_user(shop=shop, member=member, id=report_id)
    if request.GET.get("export") == "xlsx":
        return _dept_xlsx(r)
    groups = [{**g, "label": _group_label(g["group"])} for g in r.data.get("groups", [])]
    ctx = {"r": r, "d": r.data, "title": _title(r), "kpi_rows": _kpi_rows(r.data), "sections": _sections(r.data),
           "groups": groups,
           "group_keys": ("receptions", "conversion_rate", "orders", "sales", "refunds", "response_seconds"),
           "error": request.GET.get("error", "")[:300]}
    template = "reports/dept_print.html" if request.GET.get("print") else "reports/dept_detail.html"
    return TemplateResponse(request, template, ctx)


def _dept_xlsx(r: DeptReport) -> HttpResponse:
    """Sheets: the KPIs (this period, the one before; one column per figure so each keeps its number
    format), 环比, the groups, the other facts, and the supervisor's problems and measures."""
    d = r.data
    keys = [k["key"] for k in d["kpi"]]
    labels = {k: str(KPI_LABELS.get(k, k)) for k in keys} | {"row": _("期间"), "group": _("组")}
    now_row = {"row": f"{_('本期')} {d['start']} – {d['end']}", **{k["key"]: k["now"] for k in d["kpi"]}}
    prev_row = {"row": f"{_('上期')} {d['prev_start']} – {d['prev_end']}", **{k["key"]: k["prev"] for k in d["kpi"]}}
    # 环比 as a fraction (rates: the difference in points, as a fraction too, so Excel shows "+1.20%")
    change_row = {"row": _("环比"), **{k["key"]: None if k["change"] is None else
                                      (k["change"] / 100 if k["key"] in dept.RATE_KEYS else k["change"])
                                      for k in d["kpi"]}}
    sheets = [
        Sheet(title=_("指标"), columns=["row", *keys], rows=[now_row, prev_row], labels=labels,
              kinds=column_kinds(["row", *keys], [now_row, prev_row])),
        Sheet(title=_("环比"), columns=["row", *keys], rows=[change_row], labels=labels,
              kinds={k: RATE for k in keys}),
    ]
    if d.get("groups"):
        gk = ["group", *keys]
        rows = [{**g, "group": _group_label(g["group"])} for g in d["groups"]]
        sheets.append(Sheet(title=_("分组"), columns=gk, rows=rows, labels=labels, kinds=column_kinds(gk, rows)))
    s = _sections(d)
    facts = [(_("售后单"), d["aftersales"]["opened"]), (_("未结售后单"), d["aftersales"]["open_now"])]
    facts += [(f"{_('售后')}·{lb}", n) for lb, n in s["case_types"]]
    facts += [(_("投诉"), d["complaints"]["opened"]), (_("结案投诉"), d["complaints"]["closed"]),
              (_("针对客服的投诉"), d["complaints"]["against_agents"])]
    facts += [(f"{_('考勤')}·{lb}", n) for lb, n in s["attendance"]]
    facts += [(_("扣分次数"), d["points"]["deductions"]), (_("扣分合计"), Decimal(d["points"]["deducted"]))]
    facts += [(f"{_('警告')}·{lb}", n) for lb, n in s["warnings"]]
    facts += [(_("提成合计"), Decimal(d["commissions"]["total"])), (_("提成单数"), d["commissions"]["statements"]),
              (_("销售日报"), d["daily_reports"]["made"]), (_("已签字日报"), d["daily_reports"]["signed"])]
    sheets.append(Sheet(title=_("售后·投诉·考勤·提成"), columns=["item", "value"],
                        rows=[{"item": str(a), "value": b} for a, b in facts],
                        labels={"item": _("项目"), "value": _("数值")}))
    sheets.append(Sheet(title=_("问题与措施"), columns=["item", "text"],
                        rows=[{"item": _("问题"), "text": r.problems}, {"item": _("措施"), "text": r.measures}],
                        labels={"item": _("项目"), "text": _("内容")}))
    resp = HttpResponse(xlsx_bytes(sheets), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    resp["Content-Disposition"] = f'attachment; filename="dept-{r.period}-{r.start:%Y-%m-%d}.xlsx"'
    return resp


@require_POST
@shop_page
def dept_write(request, report_id: int):
    shop, member = request.shop, request.member
    S.dept_report_get_for_user(shop=shop, member=member, id=report_id)
    url = reverse("reports:dept_detail", args=[report_id])
    try:
        dept.dept_report_write(shop=shop, report_id=report_id, by=member, problems=request.POST.get("problems", ""),
                               measures=request.POST.get("measures", ""), actor=request.user)
    except KefuError as exc:
        return redirect(url + "?" + urlencode({"error": exc.message}))
    return redirect(url)


# ---------------------------------------------------------------- the agent's monthly report

@shop_page
def month_list(request):
    shop, member = request.shop, request.member
    from kefu.people.months import prev_month, shop_today

    month, ctx = month_ctx(request, shop, default=prev_month(shop_today(shop)))
    rows = S.month_reports_for(shop=shop, member=member, month=month)
    ctx.update(reports=rows, supervisor=is_supervisor(member), error=request.GET.get("error", "")[:300])
    return TemplateResponse(request, "reports/month_list.html", ctx)


@require_POST
@shop_page
def month_prepare(request):
    shop, member = request.shop, request.member
    if not is_supervisor(member):
        raise Http404("month reports")
    from kefu.people.api.common import month_of

    raw = request.POST.get("month", "")
    url = reverse("reports:month") + "?" + urlencode({"month": raw})
    try:
        dept.agent_month_reports_prepare(shop=shop, month=month_of(shop, raw))
    except KefuError as exc:
        return redirect(url + "&" + urlencode({"error": exc.message}))
    return redirect(url)


@shop_page
def month_detail(request, report_id: int):
    shop, member = request.shop, request.member
    r = S.month_report_get_for_user(shop=shop, member=member, id=report_id)
    own = member.id == r.agent_id
    ctx = {"r": r, "d": r.data, "kpi_rows": _kpi_rows(r.data), "own": own,
           "attendance": _sections({"aftersales": {"by_type": {}}, "complaints": {"by_category": {}, "by_verdict": {}},
                                    "attendance": r.data.get("attendance", {}),
                                    "points": r.data.get("points", {"warnings": {}})})["attendance"],
           "can_write": own and r.state != AgentReportState.ANSWERED,
           "can_answer": not own and supervises(member, r.agent) and r.state != AgentReportState.DRAFT,
           "error": request.GET.get("error", "")[:300]}
    return TemplateResponse(request, "reports/month_detail.html", ctx)


@require_POST
@shop_page
def month_action(request, report_id: int, action: str):
    shop, member = request.shop, request.member
    S.month_report_get_for_user(shop=shop, member=member, id=report_id)
    url = reverse("reports:month_detail", args=[report_id])
    try:
        if action == "submit":
            dept.agent_month_report_submit(shop=shop, report_id=report_id, by=member,
                                           analysis=request.POST.get("analysis", ""), actor=request.user)
        elif action == "answer":
            dept.agent_month_report_answer(shop=shop, report_id=report_id, by=member,
                                           reply=request.POST.get("reply", ""), actor=request.user)
        else:
            raise Http404("action")
    except KefuError as exc:
        return redirect(url + "?" + urlencode({"error": exc.message}))
    return redirect(url)


# The people tabs (kefu/people/templates/people/_tabs.html) link these pages; their labels live here.
TAB_LABELS = (gettext_lazy("销售日报"), gettext_lazy("月度汇报"))

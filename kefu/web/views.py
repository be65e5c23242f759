import datetime as dt
import functools
import gzip
import hashlib
from pathlib import Path
from urllib.parse import urlsplit

import plotly
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import AuthenticationForm
from django.http import Http404, HttpResponse, HttpResponseBadRequest, HttpResponseNotModified
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import Resolver404, resolve
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from kefu.core.access import sees_whole_shop
from kefu.core.enums import Group
from kefu.core.errors import KefuError
from kefu.core.exports import Sheet, csv_bytes, period_text, xlsx_bytes
from kefu.core.ratelimit import login_succeeded, login_try_begin
from kefu.metrics.kpi import report_keys
from kefu.metrics.periods import PRESETS, Period, month_of, period_of_preset, previous_period
from kefu.metrics.selectors import kpi_reports_for_viewer, parse_range
from kefu.metrics.targets import target_missed

from . import selectors as S
from .labels import (
    AGENT_FIGURES,
    DAILY_COLUMNS,
    KPI_LABELS,
    TODAY_COLUMNS,
    column_kinds,
)
from .nav import landing_page

EXPORT_FORMATS = {"csv": "text/csv; charset=utf-8",
                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


# ---------------------------------------------------------------- helpers

def shop_page(view):
    """Login required, and the person must work in a shop (request.shop/member set by middleware)."""

    @login_required
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        if request.shop is None or request.member is None:
            return TemplateResponse(request, "web/no_shop.html", {}, status=403)
        return view(request, *args, **kwargs)

    return wrapped


def export_response(fmt: str, columns: list[str], rows: list[dict], name: str, labels: dict, *, title="",
                    date_from: dt.date | None = None, date_to: dt.date | None = None, total: dict | None = None,
                    total_label="", kinds: dict | None = None) -> HttpResponse:
    """Every web export: one sheet through the shared writer (kefu.core.exports). `title` names the sheet
    in the UI's language, the range goes into the sheet's name; `total` is the 全店/合计 row."""
    labels = {c: str(labels.get(c, c)) for c in columns}
    rows = [_readable(r) for r in rows]
    sheet = Sheet(title=str(title or name), columns=columns, rows=rows, labels=labels,
                  kinds=column_kinds(columns, rows, kinds), total=_readable(total) if total is not None else None,
                  period=period_text(date_from, date_to) if date_from and date_to else "",
                  total_label=str(total_label or _("合计")))
    body = csv_bytes(sheet) if fmt == "csv" else xlsx_bytes([sheet])
    resp = HttpResponse(body, content_type=EXPORT_FORMATS[fmt])
    resp["Content-Disposition"] = f'attachment; filename="{name}.{fmt}"'
    return resp


def _readable(row: dict) -> dict:
    """Codes a person does not read: the group's code becomes its name in the UI's language."""
    g = row.get("group")
    if isinstance(g, str) and g in Group.values:
        return {**row, "group": str(Group(g).label) if g else "—"}
    return row


def _export_format(request) -> str | None:
    fmt = request.GET.get("export")
    if fmt and fmt not in EXPORT_FORMATS:
        raise KefuError("export must be csv or xlsx", field="export")
    return fmt or None


def _range(request, default_from: dt.date, default_to: dt.date) -> tuple[dt.date, dt.date, str | None]:
    """from/to of the query string, or the defaults with the error to show."""
    raw_from, raw_to = request.GET.get("from") or None, request.GET.get("to") or None
    if not raw_from and not raw_to:
        return default_from, default_to, None
    try:
        d_from, d_to = parse_range(raw_from or default_from.isoformat(), raw_to or default_to.isoformat(),
                                   today=default_to)
    except KefuError as exc:
        return default_from, default_to, exc.message
    return d_from, d_to, None


def _report_columns(rows: list[dict]) -> list[str]:
    """Every column present in any row (an agent's ranking mixes full and ranking-only rows)."""
    present = {k for r in rows for k in r}
    return [c for c in ("rank", "agent", "group", "score", *report_keys()) if c in present]


# ---------------------------------------------------------------- login / language / shop

def login_view(request):
    form = AuthenticationForm(request, data=request.POST or None)
    locked = False
    if request.method == "POST":
        username = request.POST.get("username", "")
        # The try is taken before the password is checked: a failure keeps it, a success resets.
        if not login_try_begin(request, username):
            locked = True
        elif form.is_valid():
            login_succeeded(request, username)
            login(request, form.get_user())
            nxt = request.GET.get("next")
            if nxt and url_has_allowed_host_and_scheme(nxt, {request.get_host()}, request.is_secure()):
                return redirect(nxt)
            return redirect("web:dashboard")
    return TemplateResponse(request, "web/login.html", {"form": form, "locked": locked}, status=429 if locked else 200)


@require_POST
def logout_view(request):
    logout(request)
    return redirect("web:login")


@login_required
@require_POST
def shop_switch(request):
    """Shop switcher: the session remembers the shop; the middleware reads it on every request."""
    try:
        shop_id = int(request.POST.get("shop_id", ""))
    except ValueError as exc:
        raise Http404("shop") from exc
    if not S.user_works_in(request.user, shop_id):
        raise Http404("shop")
    request.session["shop_id"] = shop_id
    return redirect(_switch_target(request, request.POST.get("next") or ""))


def _switch_target(request, nxt: str) -> str:
    """Back to the page the person was on, unless it shows an object of the old shop."""
    if not url_has_allowed_host_and_scheme(nxt, {request.get_host()}, request.is_secure()):
        return "/"
    try:
        match = resolve(urlsplit(nxt).path)
    except Resolver404:
        return "/"
    return "/" if match.kwargs else nxt


# ---------------------------------------------------------------- dashboard

def _period(request, today: dt.date) -> tuple[Period, str | None]:
    """The dashboard's period: a preset (?period=last_7), or any range (?from=&to=); this month by default."""
    if request.GET.get("from") or request.GET.get("to"):
        d_from, d_to, error = _range(request, today.replace(day=1), today)
        if error is None:
            return Period(d_from, d_to), None
        return period_of_preset(DEFAULT_PERIOD, today=today), error
    try:
        return period_of_preset(request.GET.get("period") or DEFAULT_PERIOD, today=today), None
    except KefuError as exc:
        return period_of_preset(DEFAULT_PERIOD, today=today), exc.message


DEFAULT_PERIOD = "this_month"


@shop_page
def dashboard(request):
    shop, member = request.shop, request.member
    landing = landing_page(member)
    if landing:
        return redirect(landing)
    today = S.shop_today(shop)
    period, range_error = _period(request, today)
    previous = previous_period(period)
    d_from, d_to = period.date_from, period.date_to
    try:
        fmt = _export_format(request)
    except KefuError as exc:
        return HttpResponseBadRequest(exc.message)
    table = request.GET.get("table", "ranking")

    if fmt:
        if table == "today":
            data = S.dashboard_today(shop=shop, member=member)
            return export_response(fmt, _report_columns(data["rows"]), data["rows"], f"kefu-today-{today}",
                                   KPI_LABELS, title=_("今日实时"), date_from=today, date_to=today,
                                   **_total(member, data["totals"]))
        if table == "trend":
            days = S.trend(shop=shop, member=member, date_from=d_from, date_to=d_to)
            return export_response(fmt, ["day", *[k for k in report_keys() if k in days[0]]], days,
                                   f"kefu-trend-{d_from}-{d_to}", KPI_LABELS, title=_("每日趋势"),
                                   date_from=d_from, date_to=d_to,
                                   **_total(member, S.period_figures(shop=shop, member=member, date_from=d_from,
                                                                     date_to=d_to)))
        rank = S.ranking(shop=shop, member=member, date_from=d_from, date_to=d_to)
        return export_response(fmt, _report_columns(rank["rows"]), rank["rows"], f"kefu-ranking-{d_from}-{d_to}",
                               KPI_LABELS, title=_("客服排名"), date_from=d_from, date_to=d_to,
                               **_total(member, rank["totals"]))

    ctx = {"range_error": range_error, "today": today, "today_columns": TODAY_COLUMNS,
           "sees_whole_shop": sees_whole_shop(member), "period": period, "previous": previous,
           "presets": list(PRESETS.items()), "period_query": _period_query(period),
           "live_period": Period(today, today), "targets": shop.kpi_targets or {}}
    target = request.htmx.target if request.htmx else None
    if target == "live":
        ctx["live"] = S.dashboard_today(shop=shop, member=member)
        return TemplateResponse(request, "web/dashboard.html#live", ctx)
    # Today (the live table), the period (overview and ranking) and the previous one (环比), read together.
    live, report, before = kpi_reports_for_viewer(
        shop=shop, member=member, ranges=[(today, today), (d_from, d_to), (previous.date_from, previous.date_to)])
    ctx["live"] = S.dashboard_today(shop=shop, member=member, report=live)
    ctx["summary"] = S.summary(shop=shop, member=member, period=period, report=report, previous=before)
    ctx["ranking"] = S.ranking(shop=shop, member=member, date_from=d_from, date_to=d_to, report=report,
                               previous=before)
    if not ctx["summary"]["has_data"]:  # no all-zero charts: say so, and where the data is
        ctx["latest_day"] = S.latest_data_day(shop=shop, agent=None if sees_whole_shop(member) else member)
        ctx["latest_month"] = month_of(ctx["latest_day"]) if ctx["latest_day"] else None
        return TemplateResponse(request, "web/dashboard.html", ctx)
    ctx["trend_chart"] = S.trend_chart(S.trend(shop=shop, member=member, date_from=d_from, date_to=d_to))
    ctx["load_chart"] = S.load(shop=shop, member=member, date_from=d_from, date_to=d_to, weekdays=_weekdays())
    ctx["chart_labels"] = _chart_labels()
    return TemplateResponse(request, "web/dashboard.html", ctx)


def _total(member, totals: dict | None) -> dict:
    """The export's last row: the shop's figures (全店) for whoever sees the whole shop, the person's own
    (合计) otherwise; KPI figures of the report's own computation, never summed rates."""
    if not totals:
        return {}
    return {"total": {k: v for k, v in totals.items() if k not in ("agent", "agent_id", "group", "day", "rank")},
            "total_label": _("全店") if sees_whole_shop(member) else _("合计")}


def _period_query(period: Period) -> str:
    from urllib.parse import urlencode

    if period.preset:
        return urlencode({"period": period.preset})
    return urlencode({"from": period.date_from.isoformat(), "to": period.date_to.isoformat()})


def _weekdays() -> list[str]:
    from .forms import WEEKDAYS

    return [str(w) for w in WEEKDAYS]


def _chart_labels() -> dict:
    return {"receptions": _("接待人数"), "reply_rate": _("回复率 (%)"), "conversion_rate": _("询单转化率 (%)"),
            "sales": _("客服销售额 (¥)"), "hour": _("小时"), "day": _("日期"), "load": _("接待人数"),
            "response_seconds": _("平均响应 (秒)"), "team": _("团队人均"), "agent": _("本人")}


# ---------------------------------------------------------------- agent detail

@shop_page
def agent_detail(request, agent_id: int):
    shop, member = request.shop, request.member
    agent = S.agent_get_for_viewer(shop=shop, member=member, id=agent_id)
    today = S.shop_today(shop)
    d_from, d_to, range_error = _range(request, today - dt.timedelta(days=S.TREND_DAYS - 1), today)
    try:
        fmt = _export_format(request)
    except KefuError as exc:
        return HttpResponseBadRequest(exc.message)
    if fmt:
        days = S.trend(shop=shop, member=member, date_from=d_from, date_to=d_to, agent_ids=[agent.id])
        [totals] = S.agent_figures(shop=shop, member=member, agent=agent, ranges=[(d_from, d_to)])
        return export_response(fmt, ["day", *[k for k in report_keys() if k in days[0]]], days,
                               f"kefu-agent-{agent.id}-{d_from}-{d_to}", KPI_LABELS, title=agent.name,
                               date_from=d_from, date_to=d_to, total=dict(totals or {}), total_label=_("合计"))
    days, team_days = S.agent_and_team_trend(shop=shop, agent=agent, date_from=d_from, date_to=d_to)
    previous = previous_period(Period(d_from, d_to))
    figures, before = S.agent_figures(shop=shop, member=member, agent=agent,
                                      ranges=[(d_from, d_to), (previous.date_from, previous.date_to)])
    before = before or {}
    targets = shop.kpi_targets or {}
    missed = {k for k in AGENT_FIGURES if figures and target_missed(k, figures.get(k), targets)}
    cards = [{"key": k, "missed": k in missed, "change": S.figure_change(k, figures.get(k), before.get(k))}
             for k in AGENT_FIGURES] if figures else []
    ctx = {"agent": agent, "figures": figures, "cards": cards, "missed_keys": missed, "days": days, "previous": previous,
           "daily_columns": DAILY_COLUMNS, "date_from": d_from, "date_to": d_to, "range_error": range_error,
           "targets": targets}
    if figures is None:  # nothing in the range: no all-zero charts and rows, but where the data is
        ctx["latest_day"] = S.latest_data_day(shop=shop, agent=agent)
        ctx["latest_month"] = month_of(ctx["latest_day"]) if ctx["latest_day"] else None
    else:
        ctx.update(trend_chart=S.trend_chart(days), chart_labels=_chart_labels(),
                   team_chart=S.trend_chart(team_days))
    return TemplateResponse(request, "web/agent_detail.html", ctx)


# ---------------------------------------------------------------- vendored chart library

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@functools.lru_cache(maxsize=1)
def _plotly_bytes() -> tuple[bytes, bytes, str]:
    raw = PLOTLY_JS.read_bytes()
    return raw, gzip.compress(raw, 6), '"' + hashlib.sha256(raw).hexdigest()[:32] + '"'


@require_GET
def plotly_js(request):
    """plotly.js from the installed `plotly` package: charts work offline, with no CDN."""
    raw, packed, etag = _plotly_bytes()
    if request.headers.get("If-None-Match") == etag:
        return HttpResponseNotModified()
    use_gzip = "gzip" in request.headers.get("Accept-Encoding", "")
    resp = HttpResponse(packed if use_gzip else raw, content_type="text/javascript; charset=utf-8")
    if use_gzip:
        resp["Content-Encoding"] = "gzip"
    resp["Vary"] = "Accept-Encoding"
    resp["ETag"] = etag
    resp["Cache-Control"] = "public, max-age=604800"
    return resp


# ---------------------------------------------------------------- search

@shop_page
def search(request):
    """The header's search: an exact order id opens the order; anything else lists what matched."""
    from .search import search_everything

    results = search_everything(shop=request.shop, member=request.member, q=request.GET.get("q", ""))
    if results.only_order is not None and request.GET.get("list") != "1":
        return redirect("orders:detail", order_id=results.only_order.order_id)
    return TemplateResponse(request, "web/search.html", {"r": results, "search_q": results.q})


# ---------------------------------------------------------------- error pages

def server_error(request):
    """500 in the product's layout, rendered without the context processors (they query the
    database, which may be what failed); the plain text answer if even that fails. A busy database
    (locked, lock timeout) is no server error: 503 with Retry-After, wherever it was met."""
    import sys

    from django.template import loader

    from kefu.core.busy import busy_response, is_busy

    if is_busy(sys.exc_info()[1]):
        return busy_response(request)

    try:
        body = loader.get_template("500.html").render({"request": request, "shop_tz": None})
    except Exception:  # noqa: BLE001 - the error page must never raise itself
        body = "500 Server Error"
    return HttpResponse(body, status=500)

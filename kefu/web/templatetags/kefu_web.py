"""Formatting of KPI figures in tables: rates as %, seconds as m:ss, money with ¥, None as —."""

from decimal import Decimal, InvalidOperation

from django import template
from django.templatetags.static import static
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from kefu.core.enums import Group
from kefu.metrics.targets import target_missed
from kefu.web.formatting import channel_text, duration_text
from kefu.web.labels import KPI_LABELS, MONEY_KEYS, PAGE_TIME_LABELS, RATE_KEYS, SECONDS_KEYS
from kefu.web.selectors import drill_url

register = template.Library()
DASH = "—"


@register.filter
def get(mapping, key):
    return mapping.get(key) if hasattr(mapping, "get") else None


@register.filter
def channel(code):
    return channel_text(code)


@register.filter
def label(key):
    return PAGE_TIME_LABELS.get(key) or KPI_LABELS.get(key, key)


@register.filter
def pct(value):
    if value is None or value == "":
        return DASH
    return f"{float(value) * 100:.1f}%"


@register.filter
def secs(value):
    """A duration as a 千牛 user reads it: "44 秒", "3 分 12 秒", "2 小时 5 分", "3 天 4 小时"."""
    if value is None or value == "":
        return DASH
    return duration_text(int(round(float(value))))


@register.filter
def yuan(value):
    if value is None or value == "":
        return DASH
    try:
        return f"¥{Decimal(str(value)):,.2f}"
    except InvalidOperation:
        return str(value)


@register.filter
def kpi(row, key):
    """One cell of a KPI row, formatted by what the figure is."""
    value = row.get(key) if hasattr(row, "get") else None
    if value is None or value == "":
        return DASH
    if key in RATE_KEYS:
        return pct(value)
    if key in SECONDS_KEYS:
        return secs(value)
    if key in MONEY_KEYS:
        return yuan(value)
    if key == "group":
        return Group(value).label if value in Group.values and value else DASH
    if key == "score":
        return f"{float(value):.1f}"
    return value


@register.filter(expects_localtime=True)
def minute(value):
    """A time to the minute in the shop's time zone, as `|date:"Y-m-d H:i"` writes it, for the rows
    of long lists: strftime costs a small part of the date filter's format machinery."""
    if not value:
        return ""
    return value.strftime("%Y-%m-%d %H:%M")


_ROW_ID = 987654321  # stands for a row's id in a URL reversed once per process


@register.simple_tag
def row_url(name: str, pk) -> str:
    """`{% url name pk %}` for the rows of a list: the URL is reversed once per process with a
    placeholder id and each row's id put in its place (50 reverse() calls were a fifth of a list page)."""
    from kefu.web.nav import url_of

    return url_of(name, _ROW_ID).replace(str(_ROW_ID), str(int(pk)))


@register.simple_tag
def icon(name: str, extra: str = ""):
    """An icon of the vendored Tabler sprite (scripts/vendor_tabler.py lists the names)."""
    href = static("vendor/tabler-icons/sprite.svg") + "#ti-" + name
    return format_html('<svg class="icon{}" aria-hidden="true" focusable="false"><use href="{}"></use></svg>',
                       f" {extra}" if extra else "", href)


@register.filter
def figure(value, key):
    """A figure's value formatted by what the figure is (`{{ card.value|figure:card.key }}`)."""
    return kpi({key: value}, key)


# Figures whose cell links to the rows behind it (the dashboard's drill-down).
DRILL_KEYS = {"receptions", "inquiries", "orders", "sales"}  # counts and sums: the list adds up to them


@register.filter
def delta(change):
    """A figure's 环比 (kefu.web.selectors.figure_change): "↑ 3.2%", "↓ 1.5 个百分点", "↑ 2 名",
    coloured by whether the move is good for that figure."""
    from django.utils.translation import gettext, ngettext

    if not change:
        return ""
    d = change["delta"]
    arrow = "↑" if d > 0 else "↓" if d < 0 else "→"
    size = abs(d)
    if change["unit"] == "places":
        text = ngettext("%(n)s 名", "%(n)s 名", size) % {"n": size} if size else ""  # same place: the arrow says it
    elif change["unit"] == "pp":
        unit = gettext("个百分点")  # outside the f-string: xgettext does not read calls inside one
        text = f"{size:.1f} {unit}"
    else:
        text = f"{size:.1f}%"
    return format_html('<span class="delta {}" data-delta="{}">{} {}</span>', change.get("tone") or "flat", d,
                       arrow, text)


@register.simple_tag(takes_context=True)
def kpi_row(context, row, columns):
    """The <td>s of one KPI table row, built here rather than by a template loop per cell (the
    dashboard's tables have ~500 cells): the agent's name (linked for whoever may open their page,
    with the probation badge) and each figure (kpi_cell)."""
    targets, period = context.get("targets"), context.get("period")
    agent_id = row.get("agent_id")
    cells = []
    for key in columns:
        if key == "agent" and agent_id:
            cells.append(_agent_cell(context, row, agent_id))
        else:
            cells.append(kpi_cell(row, key, targets=targets, period=period))
    return mark_safe("".join(cells))  # noqa: S308 - every part is built by format_html


@register.simple_tag
def kpi_tds(row, columns):
    """`<td>{{ row|kpi:c }}</td>` for each column, without a template loop per cell (long daily tables)."""
    return format_html_join("", "<td>{}</td>", ((kpi(row, c),) for c in columns))


def _agent_cell(context, row, agent_id) -> str:
    from django.template.loader import get_template

    member = context.get("current_member")
    name = row["agent"]
    if context.get("sees_whole_shop") or (member is not None and agent_id == member.id):
        name = format_html('<a href="{}">{}</a>', row_url("web:agent_detail", agent_id), name)
    badge = ""
    if agent_id in (context.get("probation") or ()):
        badge = format_html(" {}", get_template("web/_probation.html").render({}))
    return format_html("<td>{}{}</td>", name, badge)


def kpi_cell(row, key, *, targets, period) -> str:
    """One <td> of a KPI table: red when past the shop's target, a link to the conversations or
    orders behind a count (for the period shown) when the viewer may see that row's figures."""
    value = row.get(key)
    text = kpi(row, key)
    agent_id = row.get("agent_id")
    if period is not None and agent_id and key in DRILL_KEYS and value not in (None, 0, "0.00"):
        text = format_html('<a href="{}">{}</a>', drill_url(key, period=period, agent_id=agent_id), text)
    changes = row.get("changes")
    if changes and key in changes:  # the ranking's 环比, under the figure
        text = format_html('{}<br><small>{}</small>', text, delta(changes[key]))
    if target_missed(key, value, targets):
        return format_html('<td class="missed" title="{}">{}</td>', _target_title(key, targets), text)
    return format_html("<td>{}</td>", text)


def _target_title(key, targets) -> str:
    from django.utils.translation import gettext

    return gettext("未达目标 %(target)s") % {"target": kpi(targets or {}, key)}

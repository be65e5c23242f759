"""Formatting of KPI figures in tables: rates as %, seconds as m:ss, money with ¥, None as —."""

from decimal import Decimal, InvalidOperation

from django import template
from django.templatetags.static import static
from django.utils.html import format_html

from kefu.core.enums import Group
from kefu.web.formatting import channel_text, duration_text
from kefu.web.labels import KPI_LABELS, MONEY_KEYS, PAGE_TIME_LABELS, RATE_KEYS, SECONDS_KEYS

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
def kpi_cell(context, row, key):
    """One <td> of a KPI table: red when past the shop's target, a link to the conversations or
    orders behind a count (for the period shown) when the viewer may see that row's figures."""
    from kefu.metrics.targets import target_missed
    from kefu.web.selectors import drill_url

    text = kpi(row, key)
    missed = target_missed(key, row.get(key) if hasattr(row, "get") else None, context.get("targets"))
    period = context.get("period")
    agent_id = row.get("agent_id") if hasattr(row, "get") else None
    if period is not None and agent_id and key in DRILL_KEYS and row.get(key) not in (None, 0, "0.00"):
        text = format_html('<a href="{}">{}</a>', drill_url(key, period=period, agent_id=agent_id), text)
    changes = row.get("changes") if hasattr(row, "get") else None
    if changes and key in changes:  # the ranking's 环比, under the figure
        text = format_html('{}<br><small>{}</small>', text, delta(changes[key]))
    if missed:
        return format_html('<td class="missed" title="{}">{}</td>', _target_title(key, context), text)
    return format_html("<td>{}</td>", text)


def _target_title(key, context) -> str:
    from django.utils.translation import gettext

    return gettext("未达目标 %(target)s") % {"target": kpi(context.get("targets") or {}, key)}

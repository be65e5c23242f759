from django import template

from ..rules import ACTIONS, CONDITIONS

register = template.Library()


@register.filter
def get_item(d, key):
    return (d or {}).get(key) if isinstance(d, dict) else None


@register.filter
def get_index(items, i):
    return items[i] if items and i < len(items) else None


@register.filter
def conditions_text(conds) -> str:
    out = []
    for c in conds or []:
        label = str(CONDITIONS.get(c["field"], (c["field"],))[0])
        v = c["value"]
        if isinstance(v, list):
            v = "/".join(v)
        elif isinstance(v, dict):
            v = "–".join(str(x) for x in v.values())
        out.append(f"{label}{'≠' if c.get('not') else '='}{v}")
    return "，".join(out) or "—"


@register.filter
def actions_text(acts) -> str:
    return " → ".join(str(ACTIONS.get(a["type"], a["type"])) for a in acts or []) or "—"

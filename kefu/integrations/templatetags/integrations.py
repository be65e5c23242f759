from django import template

from kefu.core.enums import Role

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
        elif isinstance(v, dict):  # an amount range {min, max} or hours {from, to}
            low, high = v.get("min", v.get("from")), v.get("max", v.get("to"))
            if low not in (None, "") and high not in (None, ""):
                v = f"{low}–{high}"
            elif low not in (None, ""):
                out.append(f"{label}{'<' if c.get('not') else '≥'}{low}")
                continue
            else:
                out.append(f"{label}{'>' if c.get('not') else '≤'}{high}")
                continue
        out.append(f"{label}{'≠' if c.get('not') else '='}{v}")
    return "，".join(out) or "—"


@register.filter
def actions_text(acts) -> str:
    def one(a: dict) -> str:
        text = str(ACTIONS.get(a["type"], a["type"]))
        if a.get("role"):
            text += f"（{Role(a['role']).label}）" if a["role"] in Role.values else f"（{a['role']}）"
        elif a.get("tag"):
            text += f"（{a['tag']}）"
        elif a.get("priority"):
            text += f"（{a['priority']}）"
        return text

    return " → ".join(one(a) for a in acts or []) or "—"

"""How figures read on pages, charts and exports: one place, so every surface says it the same way."""

from django.utils.translation import gettext as _


def duration_text(seconds: int) -> str:
    """Seconds as a 千牛 user reads a response time: "44 秒", "3 分 12 秒", "5 分钟", "2 小时 5 分", "3 天 4 小时".

    Two units at most, the larger first; a zero smaller unit is left out ("5 分", "2 小时").
    Negative durations keep their sign ("-3 分 12 秒": overdue by that much)."""
    sign = "-" if seconds < 0 else ""
    s = abs(int(seconds))
    if s < 60:
        return sign + _("%(s)d 秒") % {"s": s}
    if s < 3600:
        m, r = divmod(s, 60)
        text = _("%(m)d 分 %(s)d 秒") % {"m": m, "s": r} if r else _("%(m)d 分钟") % {"m": m}
    elif s < 86400:
        h, r = divmod(s, 3600)
        m = r // 60
        text = _("%(h)d 小时 %(m)d 分") % {"h": h, "m": m} if m else _("%(h)d 小时") % {"h": h}
    else:
        d, r = divmod(s, 86400)
        h = r // 3600
        text = _("%(d)d 天 %(h)d 小时") % {"d": d, "h": h} if h else _("%(d)d 天") % {"d": d}
    return sign + text


def channel_text(code: str) -> str:
    """A message channel as people name it ("千牛", "短信"); an unknown platform code is shown as it is."""
    names = {"generic": _("通用"), "qianniu": _("千牛"), "sms": _("短信"), "livechat": _("网页在线客服"),
             "email": _("邮件"), "wechat": _("微信"), "taobao": _("淘宝"), "tmall": _("天猫"), "jd": _("京东"),
             "pdd": _("拼多多"), "douyin": _("抖音"), "shopify": "Shopify"}
    return str(names.get(code or "generic", code))

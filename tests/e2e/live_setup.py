"""Set up a throw-away Kefu for the live-chat browser tests (run in a subprocess against its own
SQLite file): a demo-coded shop with its widget, 小美 (kf01) on shift and online, 阿强 (kf02) on
shift but away, a supervisor, and a script that needs an order. Prints the widget key as JSON."""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from kefu.core.services import person_create, shop_create  # noqa: E402
from kefu.core.timeutil import shop_day  # noqa: E402
from kefu.livechat.identity import widget_settings_of  # noqa: E402
from kefu.replies.services import script_create  # noqa: E402
from kefu.workforce.services import presence_set, roster_assign, shift_create  # noqa: E402

PASSWORD = "pass-word-1"


def main() -> None:
    call_command("migrate", verbosity=0)
    shop = shop_create(code="demoe2e", name="浏览器测试店")
    now = timezone.now()
    shift = shift_create(shop=shop, name="全天", start="00:00", end="23:59")
    kf01 = person_create(shop=shop, name="小美", username="kf01", password=PASSWORD, roles=["agent"], group="presales")
    kf02 = person_create(shop=shop, name="阿强", username="kf02", password=PASSWORD, roles=["agent"], group="presales")
    person_create(shop=shop, name="主管", username="boss", password=PASSWORD, roles=["supervisor"], group="")
    for a, status in ((kf01, "online"), (kf02, "away")):
        roster_assign(shop=shop, agent=a, date=shop_day(now, shop.tz), shift=shift)
        presence_set(shop=shop, agent=a, status=status, by=a, at=now)
    script_create(shop=shop, actor=None, category="shipping", title="查单发货", body="亲，您的订单{订单号}已经发货啦")
    script_create(shop=shop, actor=None, category="opening", title="欢迎问候", body="{买家昵称}您好，我是{客服}～")
    ws = widget_settings_of(shop)
    print(json.dumps({"key": ws.key, "secret": ws.identity_secret, "kf01": kf01.pk, "kf02": kf02.pk}))


if __name__ == "__main__":
    main()

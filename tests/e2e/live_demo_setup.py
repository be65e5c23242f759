"""Set up the demo shop for the newcomer's walk (test_livechat_story_browser.py), in a subprocess over
its own SQLite file or PostgreSQL database: a small demo (`kefu demo`'s loader), and 小美 (kf01) on
shift now, so that the walk does not depend on the hour it runs at (the demo's roster has day and
night shifts). Everything else is the demo as a newcomer gets it. Prints what the test needs as JSON."""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from kefu.core.models import Agent, Shop  # noqa: E402
from kefu.core.timeutil import shop_day  # noqa: E402
from kefu.demo.services import DEMO_PASSWORD, demo_load  # noqa: E402
from kefu.workforce.models import RosterEntry  # noqa: E402
from kefu.workforce.services import roster_assign, roster_unassign, shift_create  # noqa: E402


def main() -> None:
    call_command("migrate", verbosity=0)
    demo_load(code="demo", seed=7, days=2, scale=0.02)
    shop = Shop.objects.get(code="demo")
    kf01 = Agent.objects.get(shop=shop, user__username="kf01")
    # The transfer goes to another pre-sales agent with a login (any agent may receive one).
    other = (Agent.objects.filter(shop=shop, group=kf01.group, active=True, user__isnull=False)
             .exclude(pk=kf01.pk).order_by("user__username").first())
    now = timezone.now()
    shift = shop.shifts.filter(name="全天").first() or shift_create(shop=shop, name="全天", start="00:00", end="23:59")
    today = shop_day(now, shop.tz)
    for entry in RosterEntry.objects.filter(agent=kf01, date=today):  # the demo's shift of the day, if any
        roster_unassign(shop=shop, entry=entry)
    roster_assign(shop=shop, agent=kf01, date=today, shift=shift)
    print(json.dumps({"shop": shop.code, "shop_name": shop.name, "tz": str(shop.tz), "password": DEMO_PASSWORD,
                      "kf01": {"id": kf01.pk, "name": kf01.name},
                      "other": {"id": other.pk, "name": other.name, "username": other.user.username}},
                     ensure_ascii=False))


if __name__ == "__main__":
    main()

import datetime as dt
import time

from django.core.management.base import BaseCommand, CommandError

from kefu.core.errors import KefuError
from kefu.core.models import Shop
from kefu.demo.services import DEMO_PASSWORD, demo_accounts_ensure, demo_load


class Command(BaseCommand):
    help = ("Load the demo shop 暖暖家居旗舰店: a month of chats and orders generated from a seed "
            "(same seed and end date → same data). --accounts-only just (re)sets the demo logins.")

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument("--days", type=int, default=30)
        parser.add_argument("--scale", type=float, default=1.0, help="traffic multiplier (1.0 ≈ 50,000 messages)")
        parser.add_argument("--shop", default="demo", help="shop code")
        parser.add_argument("--end", type=dt.date.fromisoformat, default=None,
                            help="last day of the month (YYYY-MM-DD); default yesterday in shop time")
        parser.add_argument("--accounts-only", action="store_true",
                            help="only make sure the demo logins exist with the demo password")

    def handle(self, *args, seed, days, scale, shop, end, accounts_only, **o):
        try:
            if accounts_only:
                accounts = demo_accounts_ensure(code=shop, seed=seed)
                if not accounts:
                    self.stdout.write(f"no demo shop {shop!r}; nothing to do (run `kefu demo` to load it)")
                    return
            else:
                if Shop.objects.filter(code=shop).exists():
                    raise CommandError(f"shop {shop!r} already exists; `kefu demo --accounts-only` resets its logins")
                started = time.monotonic()
                result = demo_load(code=shop, seed=seed, days=days, scale=scale, end=end,
                                   progress=lambda msg: self.stdout.write(f"  {msg}"))
                self.stdout.write(
                    f"demo shop {shop} loaded: {result.messages} messages, {result.orders} orders, "
                    f"{result.buyers} buyers, {result.date_from} … {result.date_to} "
                    f"({time.monotonic() - started:.1f} s)"
                )
                accounts = result.accounts
        except KefuError as exc:
            raise CommandError(f"{exc.field}: {exc.message}" if exc.field else exc.message) from exc
        self.stdout.write(f"login accounts (password {DEMO_PASSWORD}):")
        width = max(len(a.username) for a in accounts)
        for a in accounts:
            self.stdout.write(f"  {a.username:<{width}}  {DEMO_PASSWORD}  {a.name}  {a.label}")

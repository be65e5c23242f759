import json

from django.core.management.base import BaseCommand, CommandError

from kefu.core.errors import KefuError
from kefu.core.models import Shop
from kefu.core.selectors import tokens_of
from kefu.core.services import (
    SETTINGS_FIELDS,
    person_create,
    shop_archive,
    shop_create,
    shop_settings_update,
    token_create,
    token_revoke,
)


class Command(BaseCommand):
    help = "Shops: add, list, show, set (settings), token (API), person (login accounts), archive"

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add", help="create a shop")
        add.add_argument("code")
        add.add_argument("--name", required=True)
        add.add_argument("--timezone", default="Asia/Shanghai")
        sub.add_parser("list", help="list shops (archived ones marked)")
        arch = sub.add_parser("archive", help="archive a shop: no more logins, API or scheduler; data and audit kept")
        arch.add_argument("code")
        tok = sub.add_parser("token", help="create an API token for an integration (printed once)")
        tok.add_argument("code")
        tok.add_argument("name")
        toks = sub.add_parser("tokens", help="list a shop's API tokens: id, name, prefix, created, last used, revoked")
        toks.add_argument("code")
        rev = sub.add_parser("token-revoke", help="revoke an API token (by id or prefix, as `tokens` lists them)")
        rev.add_argument("code")
        rev.add_argument("token", help="the token's id or its prefix (kf_…)")
        setp = sub.add_parser("set", help="change settings: kefu shop set CODE slow_turn_seconds=120 service_hours='{...}'")
        setp.add_argument("code")
        setp.add_argument("pairs", nargs="+", metavar="KEY=VALUE", help=f"keys: {', '.join(SETTINGS_FIELDS)}")
        show = sub.add_parser("show", help="print a shop's settings as JSON")
        show.add_argument("code")
        person = sub.add_parser("person", help="add a person who can log in")
        person.add_argument("code")
        person.add_argument("name")
        person.add_argument("--username", required=True)
        person.add_argument("--password", required=True)
        person.add_argument("--roles", default="agent", help="comma-separated: agent,supervisor,manager,warehouse,admin")
        person.add_argument("--group", default="presales", help="presales|aftersales|''")
        person.add_argument("--platform-id", action="append", default=[], help="the agent's name in the platform chat")

    def _shop(self, code):
        shop = Shop.objects.filter(code=code).first()
        if shop is None:
            raise CommandError(f"no shop {code!r}; create it with `kefu shop add {code} --name …`")
        return shop

    def handle(self, *args, **o):
        try:
            if o["action"] == "add":
                shop = shop_create(code=o["code"], name=o["name"], timezone_name=o["timezone"])
                self.stdout.write(f"created shop {shop.code} ({shop.name}, {shop.timezone})")
            elif o["action"] == "list":
                for s in Shop.objects.all():
                    archived = f"\tarchived {s.archived_at:%Y-%m-%d}" if s.archived_at else ""
                    self.stdout.write(f"{s.code}\t{s.name}\t{s.timezone}{archived}")
            elif o["action"] == "archive":
                shop = shop_archive(shop=self._shop(o["code"]))
                self.stdout.write(f"archived shop {shop.code}: its people can no longer log in to it, its tokens "
                                  "are revoked; every row and the audit log are kept")
            elif o["action"] == "token":
                tok, raw = token_create(shop=self._shop(o["code"]), name=o["name"])
                self.stdout.write(f"token for {tok.name} (shown once): {raw}")
            elif o["action"] == "tokens":
                shop = self._shop(o["code"])
                rows = tokens_of(shop)
                if not rows:
                    self.stdout.write(f"no tokens; create one with `kefu shop token {shop.code} NAME`")
                for t in rows:
                    state = f"revoked {_when(t.revoked_at)}" if t.revoked_at else "active"
                    self.stdout.write(f"{t.id}\t{t.name}\t{t.prefix}…\tcreated {_when(t.created_at)}\t"
                                      f"last used {_when(t.last_used_at)}\t{state}")
            elif o["action"] == "token-revoke":
                shop = self._shop(o["code"])
                ref = o["token"].strip().rstrip("…")
                match = [t for t in tokens_of(shop) if str(t.id) == ref or (len(ref) >= 6 and t.prefix.startswith(ref))]
                if len(match) != 1:
                    raise CommandError(f"{'no' if not match else 'more than one'} token of {shop.code} matches "
                                       f"{ref!r}; see `kefu shop tokens {shop.code}`")
                tok = token_revoke(shop=shop, token_id=match[0].id)
                self.stdout.write(f"revoked token {tok.id} ({tok.name}, {tok.prefix}…)")
            elif o["action"] == "set":
                changes = {}
                for pair in o["pairs"]:
                    key, sep, value = pair.partition("=")
                    if not sep:
                        raise CommandError(f"{pair!r}: expected KEY=VALUE")
                    try:
                        changes[key] = json.loads(value)
                    except ValueError:
                        changes[key] = value
                shop = shop_settings_update(shop=self._shop(o["code"]), **changes)
                self.stdout.write(f"updated {', '.join(changes)} of {shop.code}")
            elif o["action"] == "show":
                shop = self._shop(o["code"])
                data = {f: getattr(shop, f) for f in ("code", *SETTINGS_FIELDS)}
                self.stdout.write(json.dumps(data, ensure_ascii=False, indent=2))
            elif o["action"] == "person":
                a = person_create(
                    shop=self._shop(o["code"]), name=o["name"], username=o["username"], password=o["password"],
                    roles=[r for r in o["roles"].split(",") if r], group=o["group"], platform_ids=o["platform_id"],
                )
                self.stdout.write(f"added {a.name} ({a.roles}) to {a.shop.code}")
        except KefuError as exc:
            raise CommandError(f"{exc.field}: {exc.message}" if exc.field else exc.message) from exc


def _when(moment) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "never"

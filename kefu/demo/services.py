"""Load the demo shop through the real services, and keep its login accounts usable."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils.module_loading import import_string

from kefu.catalog.models import Product, Sku
from kefu.conversations.services import messages_clean, messages_ingest
from kefu.core.enums import Group, Role
from kefu.core.errors import KefuError
from kefu.core.inputs import IngestResult
from kefu.core.models import Agent, Shop
from kefu.core.services import person_create, shop_create, shop_settings_update
from kefu.metrics.queue import buyers_rebuild_now
from kefu.orders.services import orders_clean, orders_upsert

from . import phrases as P
from .generator import SERVICE_HOURS, SHIFT_LABELS, SHIFTS, TZ_NAME, AgentPlan, World, catalog, team

DEMO_PASSWORD = "kefu-demo-2026"
# Each app that has demo data of its own adds it after the chats and orders, in this order:
# `demo_extend(*, shop, seed, date_from, date_to, say)` through that app's services.
DEMO_EXTENSIONS: list[str] = [
    "kefu.complaints.demo.demo_extend",
    "kefu.followups.demo.demo_extend",
    "kefu.replies.demo.demo_extend",
    "kefu.crm.demo.demo_extend",
    "kefu.aftersales.demo.demo_extend",
    "kefu.defects.demo.demo_extend",
    "kefu.shipping.demo.demo_extend",
    "kefu.orders.demo.demo_extend",
    "kefu.conversations.demo.demo_extend",
    "kefu.quality.demo.demo_extend",
    "kefu.care.demo.demo_extend",
    "kefu.people.demo.demo_extend",  # after complaints: their verdicts are sources of the points
    "kefu.reports.demo.demo_extend",  # after people: daily sales reports signed by the agents
    "kefu.people.demo_extra.demo_extend",  # account handover to the trainee (after onboarding)
    "kefu.livechat.demo.demo_extend",
    "kefu.integrations.demo.demo_extend",  # after shipping (stock) and defects: catalogue, rules, scans, webhooks
    "kefu.sla.demo.demo_extend",  # last: it times the cases and chats the others create
]
BATCH = 2000
# (login, name, roles, group) of the people who are not agents.
STAFF = (
    ("supervisor", "周敏", [Role.SUPERVISOR], Group.NONE),
    ("manager", "陈经理", [Role.MANAGER], Group.NONE),
    ("warehouse", "仓库小刘", [Role.WAREHOUSE], Group.NONE),
)
ROLE_LABELS = {Role.AGENT: "客服", Role.SUPERVISOR: "客服主管", Role.MANAGER: "经理", Role.WAREHOUSE: "仓储"}
GROUP_LABELS = {Group.PRESALES: "售前", Group.AFTERSALES: "售后"}


@dataclass
class Account:
    username: str
    name: str
    roles: list[str]
    group: str
    shift: str = ""

    @property
    def label(self) -> str:
        role = "/".join(ROLE_LABELS.get(r, r) for r in self.roles)
        parts = [role, GROUP_LABELS.get(self.group, ""), SHIFT_LABELS.get(self.shift, "")]
        return " ".join(p for p in parts if p)


@dataclass
class DemoResult:
    shop: Shop
    messages: int
    orders: int
    buyers: int
    date_from: dt.date
    date_to: dt.date
    accounts: list[Account]


def username_for(code: str, login: str) -> str:
    """The demo shop's logins are short (manager, kf01); another code prefixes them."""
    return login if code == "demo" else f"{code}-{login}"


def demo_accounts(code: str, *, seed: int = 2026) -> list[Account]:
    out = [Account(username_for(code, login), name, [str(r) for r in roles], str(group))
           for login, name, roles, group in STAFF]
    for a in team(P.SHOP_NAME, seed=seed):
        out.append(Account(username_for(code, a.key), a.name, [Role.AGENT.value], a.group, a.shift))
    return out


def _check_usernames_free(accounts: list[Account]) -> None:
    User = get_user_model()
    taken = set(User.objects.filter(username__in=[a.username for a in accounts]).values_list("username", flat=True))
    if taken:
        raise KefuError(f"login {sorted(taken)[0]!r} already exists and is not part of the demo shop", field="username")


def demo_load(*, code: str = "demo", seed: int = 2026, days: int = 30, scale: float = 1.0,
              end: dt.date | None = None, progress: Callable[[str], None] | None = None,
              extensions: bool = True) -> DemoResult:
    """Create the demo shop and a month of its chats and orders, all in one transaction.

    Messages go through messages_clean → messages_ingest and orders through orders_clean →
    orders_upsert, then the marked buyers are rebuilt at once: the figures come from production code.
    """
    say = progress or (lambda _msg: None)
    validate_password(DEMO_PASSWORD)
    if days < 1 or scale <= 0:
        raise KefuError("days and scale must be positive", field="days")
    accounts = demo_accounts(code, seed=seed)
    world = World(seed=seed, end=end, days=days, scale=scale, shop_name=P.SHOP_NAME, id_prefix=code)
    with transaction.atomic():
        shop = demo_shop_create(code=code, world=world, accounts=accounts)
        say(f"shop {code} ({P.SHOP_NAME}), {len(accounts)} people; generating {world.start} … {world.end}")

        total = IngestResult()
        batch: list[dict] = []
        n_messages = 0
        for m in world.messages():
            batch.append(m)
            if len(batch) >= BATCH:
                total.add(messages_ingest(shop=shop, rows=messages_clean(batch, tz=shop.tz)))
                n_messages += len(batch)
                batch = []
        if batch:
            total.add(messages_ingest(shop=shop, rows=messages_clean(batch, tz=shop.tz)))
            n_messages += len(batch)
        say(f"{n_messages} messages stored")
        orders = world.orders()
        for i in range(0, len(orders), BATCH):
            rows = orders_clean(orders[i : i + BATCH], tz=shop.tz, first_row=i + 1)
            total.add(orders_upsert(shop=shop, rows=rows))
        say(f"{len(orders)} orders stored; recording metric facts of {len(total.customer_ids)} buyers")
        buyers_rebuild_now(shop=shop, customer_ids=total.customer_ids)
        for path in DEMO_EXTENSIONS if extensions else ():
            import_string(path)(shop=shop, seed=seed, date_from=world.start, date_to=world.end, say=say)
    return DemoResult(shop=shop, messages=n_messages, orders=len(orders), buyers=len(total.customer_ids),
                      date_from=world.start, date_to=world.end, accounts=accounts)


def demo_shop_create(*, code: str, world: World, accounts: list[Account]) -> Shop:
    """The demo shop without its chats and orders: settings, people, roster and catalogue."""
    _check_usernames_free(accounts)
    shop = shop_create(code=code, name=P.SHOP_NAME, timezone_name=TZ_NAME)
    shop = shop_settings_update(shop=shop, service_hours=SERVICE_HOURS)
    plans = {a.name: a for a in world.agents}
    for acc in accounts:
        plan = plans.get(acc.name) if Role.AGENT in acc.roles else None
        person_create(
            shop=shop, name=acc.name, username=acc.username, password=DEMO_PASSWORD, roles=acc.roles,
            group=acc.group, platform_ids=[plan.platform_id] if plan else [],
        )
    _roster_create(shop, world.agents, world.start, world.end + dt.timedelta(days=7))
    _catalog_create(shop)
    return shop


# The demo's shift types: the generator's SHIFTS (minutes from shop midnight), named as its labels say.
SHIFT_NAMES = {key: label.split()[0] for key, label in SHIFT_LABELS.items()}


def _roster_create(shop: Shop, plans: list[AgentPlan], date_from: dt.date, date_to: dt.date) -> None:
    """Shift types and the roster through the workforce services: each agent works their shift every day
    but their rest weekday, the same plan the generator routes chats by."""
    from kefu.workforce.services import roster_pattern_apply, shift_create

    def hhmm(minute: int) -> str:
        return f"{minute // 60:02d}:{minute % 60:02d}"

    shifts = {key: shift_create(shop=shop, name=SHIFT_NAMES[key], start=hhmm(start), end=hhmm(end))
              for key, (start, end) in SHIFTS.items()}
    agents = {a.name: a for a in Agent.objects.filter(shop=shop, name__in=[p.name for p in plans])}
    pattern = {agents[p.name]: {wd: shifts[p.shift] for wd in range(7) if wd != p.rest_weekday} for p in plans}
    start = date_from
    while start <= date_to:  # the service sets at most 63 days at once
        end = min(date_to, start + dt.timedelta(days=62))
        roster_pattern_apply(shop=shop, date_from=start, date_to=end, pattern=pattern)
        start = end + dt.timedelta(days=1)


def _catalog_create(shop: Shop) -> None:
    # No catalog service exists yet; products and SKUs are plain rows (orders refer to SKU codes).
    products: dict[str, Product] = {}
    for s in catalog():
        if s.product not in products:
            products[s.product] = Product.objects.create(shop=shop, title=s.product, category=s.category)
    Sku.objects.bulk_create([
        Sku(shop=shop, product=products[s.product], code=s.code, title=s.spec, price=s.price) for s in catalog()
    ])


def demo_accounts_ensure(*, code: str = "demo", seed: int = 2026) -> list[Account]:
    """Make sure every demo login exists and has the demo password; [] when there is no demo shop.

    Only users linked to a person of the demo shop are touched: a same-named login of another
    shop is never reset.
    """
    shop = Shop.objects.filter(code=code, name=P.SHOP_NAME).first()
    if shop is None:
        return []
    validate_password(DEMO_PASSWORD)
    User = get_user_model()
    plans = {a.name: a for a in team(P.SHOP_NAME, seed=seed)}
    out = []
    with transaction.atomic():
        for acc in demo_accounts(code, seed=seed):
            person = Agent.objects.filter(shop=shop, name=acc.name).select_related("user").first()
            if person is None:
                if User.objects.filter(username=acc.username).exists():
                    continue
                plan = plans.get(acc.name) if Role.AGENT in acc.roles else None
                person_create(shop=shop, name=acc.name, username=acc.username, password=DEMO_PASSWORD,
                              roles=acc.roles, group=acc.group, platform_ids=[plan.platform_id] if plan else [])
                out.append(acc)
                continue
            user = person.user
            if user is None:
                if User.objects.filter(username=acc.username).exists():
                    continue
                user = User.objects.create(username=acc.username)
                person.user = user
                person.save(update_fields=["user"])
            user.set_password(DEMO_PASSWORD)
            user.is_active = True
            user.save(update_fields=["password", "is_active"])
            acc.username = user.username
            out.append(acc)
    return out

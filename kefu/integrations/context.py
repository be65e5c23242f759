"""What an automation rule looks at for one event (its conversation, buyer, order, message, case,
the buyer's grade and tags, the conversation's SLA state), loaded on first use.

Contexts made together (`contexts_for`, one per event of a batch or per past event of a dry run)
share one Loader: `Loader.prefetch` fetches, for all of them at once, what the rules' conditions
read — a few queries per batch instead of several per event. What only an action needs (a firing is
rare) is loaded when the action asks, for that one event.
"""

import datetime as dt
from collections import defaultdict

from django.db.models import OuterRef, Subquery

from kefu.conversations.models import Conversation, Message
from kefu.core.models import Shop
from kefu.customers.models import Customer
from kefu.orders.models import Order

_UNSET = object()

# condition field → what it reads (see rules._holds)
NEEDS = {
    "sender": {"message"}, "channel": {"message"}, "keywords": {"message"}, "time_of_day": {"message"},
    "group": {"conversation"}, "sla_state": {"conversation", "sla"},
    "buyer_grade": {"customer", "grade"}, "buyer_tags": {"customer", "tags"},
    "order_status": {"order"}, "order_amount": {"order"},
}


def _cases():
    from kefu.aftersales.models import Case

    return Case.objects.select_related("order", "order__customer")


def needs_of(conditions_lists) -> set[str]:
    out: set[str] = set()
    for conditions in conditions_lists:
        for c in conditions:
            out |= NEEDS.get(c["field"], set())
    return out


class Loader:
    """Per-shop caches of what contexts read; each lookup fills its cache, prefetch fills many at once."""

    def __init__(self, shop: Shop, *, rebuild: bool = True):
        self.shop = shop
        self.rebuild = rebuild  # bring a buyer's conversations up to date when a message has none yet
        self.messages: dict[str, Message | None] = {}
        self.conversations: dict[int, Conversation | None] = {}
        self.orders: dict[int, Order | None] = {}
        self.cases: dict[int, object] = {}
        self.buyers: dict[str, Customer | None] = {}
        self.refs: dict[tuple[int, str], Order | None] = {}
        self.latest_order: dict[int, Order | None] = {}
        self.latest_conv: dict[int, Conversation | None] = {}
        self.msg_conv: dict[int, Conversation | None] = {}  # message pk →
        self.grades: dict[int, str] = {}
        self.tags: dict[int, set] = {}
        self.sla: dict[int, set] = {}  # conversation pk → states of its running clocks

    # ---- one at a time (cached)

    def message(self, message_id: str) -> Message | None:
        if message_id not in self.messages:
            self.messages[message_id] = Message.objects.filter(shop=self.shop, message_id=message_id).first()
        return self.messages[message_id]

    def conversation(self, pk: int) -> Conversation | None:
        if pk not in self.conversations:
            self.conversations[pk] = (Conversation.objects.select_related("customer")
                                      .filter(shop=self.shop, pk=pk).first())
        return self.conversations[pk]

    def order(self, pk: int) -> Order | None:
        if pk not in self.orders:
            self.orders[pk] = Order.objects.select_related("customer").filter(shop=self.shop, pk=pk).first()
        return self.orders[pk]

    def case(self, pk: int):
        if pk not in self.cases:
            self.cases[pk] = _cases().filter(shop=self.shop, pk=pk).first()
        return self.cases[pk]

    def buyer(self, buyer_id: str) -> Customer | None:
        if buyer_id not in self.buyers:
            self.buyers[buyer_id] = Customer.objects.filter(shop=self.shop, buyer_id=buyer_id).first()
        return self.buyers[buyer_id]

    def order_of(self, customer: Customer, ref: str) -> Order | None:
        """The order the event names (by its id), else the buyer's latest."""
        if ref:
            key = (customer.pk, ref)
            if key not in self.refs:
                self.refs[key] = Order.objects.filter(shop=self.shop, customer=customer, order_id=ref).first()
            if self.refs[key] is not None:
                return self.refs[key]
        if customer.pk not in self.latest_order:
            self.latest_order[customer.pk] = (Order.objects.filter(shop=self.shop, customer=customer)
                                              .order_by("-created_at", "-id").first())
        return self.latest_order[customer.pk]

    def message_conversation(self, m: Message) -> Conversation | None:
        if m.pk not in self.msg_conv:
            self._message_conversations([m])
        return self.msg_conv[m.pk]

    def latest_conversation(self, customer: Customer | None) -> Conversation | None:
        if customer is None:
            return None
        if customer.pk not in self.latest_conv:
            self.latest_conv[customer.pk] = (
                Conversation.objects.filter(shop=self.shop, customer=customer, merged_into__isnull=True)
                .select_related("customer").order_by("-ended_at", "-id").first())
        return self.latest_conv[customer.pk]

    def grade(self, customer: Customer) -> str:
        if customer.pk not in self.grades:
            from kefu.crm.selectors import grades_of

            self.grades[customer.pk] = grades_of(shop=self.shop, customer_ids=[customer.pk]).get(customer.pk, "")
        return self.grades[customer.pk]

    def tag_names(self, customer: Customer) -> set:
        if customer.pk not in self.tags:
            self._tags([customer.pk])
        return self.tags[customer.pk]

    def sla_states(self, conversation: Conversation) -> set:
        if conversation.pk not in self.sla:
            self._sla([conversation.pk])
        return self.sla[conversation.pk]

    # ---- many at once

    def _message_conversations(self, msgs: list[Message]) -> None:
        """The conversation each message falls in (one query; one rebuild for the buyers whose
        conversations the deferred rebuild, kefu.metrics.queue, has not reached yet)."""
        def find(batch):
            cids = {m.customer_id for m in batch}
            lo, hi = min(m.sent_at for m in batch), max(m.sent_at for m in batch)
            by_customer = defaultdict(list)
            for c in (Conversation.objects.select_related("customer")
                      .filter(shop=self.shop, customer_id__in=cids, started_at__lte=hi, ended_at__gte=lo)
                      .order_by("started_at", "id")):
                by_customer[c.customer_id].append(c)
            for m in batch:
                self.msg_conv[m.pk] = next((c for c in by_customer[m.customer_id]
                                            if c.started_at <= m.sent_at <= c.ended_at), None)

        find(msgs)
        missing = [m for m in msgs if self.msg_conv[m.pk] is None]
        if missing and self.rebuild:
            from kefu.conversations.rebuild import conversations_rebuild
            from kefu.customers.services import customers_lock
            from kefu.metrics.rebuild import load_messages

            ids = sorted({m.customer_id for m in missing})
            customers_lock(shop=self.shop, customer_ids=ids)
            conversations_rebuild(self.shop, ids, load_messages(self.shop, ids))
            find(missing)

    def _tags(self, customer_ids) -> None:
        from kefu.customers.models import CustomerTag

        got = defaultdict(set)
        for cid, name in CustomerTag.objects.filter(customer_id__in=list(customer_ids)).values_list(
                "customer_id", "tag__name"):
            got[cid].add(name)
        for cid in customer_ids:
            self.tags[cid] = got[cid]

    def _sla(self, conversation_ids) -> None:
        from kefu.sla.models import SlaClock

        got = defaultdict(set)
        for cid, state in SlaClock.objects.filter(conversation_id__in=list(conversation_ids),
                                                  stopped_at__isnull=True).values_list("conversation_id", "state"):
            got[cid].add(state)
        for cid in conversation_ids:
            self.sla[cid] = got[cid]

    def prefetch(self, ctxs: list["Ctx"], needs: set[str]) -> None:
        """Load for every context what `needs` (see NEEDS) asks, a query or two per kind of object."""
        if not ctxs or not needs:
            return
        shop = self.shop
        want_conv = bool(needs & {"conversation", "sla"})
        want_customer = want_conv or bool(needs & {"customer", "grade", "tags", "order"})
        # (messages: always, one query — the rules and the dry run's list read their time)
        mids = {c.data["message_id"] for c in ctxs if c._message_id() and c.data["message_id"] not in self.messages}
        if mids:
            found = {m.message_id: m for m in Message.objects.filter(shop=shop, message_id__in=mids)}
            self.messages.update({mid: found.get(mid) for mid in mids})

        def subject_ids(kind, cache):
            return {c.subject_id for c in ctxs if c.subject_kind == kind and c.subject_id and c.subject_id not in cache}

        if want_customer:
            for kind, cache, qs in (
                    ("conversation", self.conversations, Conversation.objects.select_related("customer")),
                    ("order", self.orders, Order.objects.select_related("customer")),
                    ("case", self.cases, _cases())):
                ids = subject_ids(kind, cache)
                if ids:
                    found = qs.filter(shop=shop).in_bulk(ids)
                    cache.update({pk: found.get(pk) for pk in ids})
            buyers = {c.data["buyer_id"] for c in ctxs if c.data.get("buyer_id") and c.data["buyer_id"] not in self.buyers
                      and c._subject_customer() is None}
            if buyers:
                found = {x.buyer_id: x for x in Customer.objects.filter(shop=shop, buyer_id__in=buyers)}
                self.buyers.update({b: found.get(b) for b in buyers})
        customers = {c.customer.pk: c.customer for c in ctxs if c.customer is not None} if want_customer else {}
        if "order" in needs and customers:
            refs = {(c.customer.pk, c._order_ref()) for c in ctxs if c.customer is not None and c._order_ref()
                    and c.subject_kind not in ("order", "case")}
            refs -= set(self.refs)
            if refs:
                found = {(o.customer_id, o.order_id): o for o in Order.objects.filter(
                    shop=shop, customer_id__in={r[0] for r in refs}, order_id__in={r[1] for r in refs})}
                self.refs.update({r: found.get(r) for r in refs})
            latest = [pk for pk in customers if pk not in self.latest_order]
            if latest:
                last = Order.objects.filter(shop=shop, customer=OuterRef("pk")).order_by("-created_at", "-id")
                pks = dict(Customer.objects.filter(pk__in=latest).annotate(o=Subquery(last.values("pk")[:1]))
                           .values_list("pk", "o"))
                found = Order.objects.in_bulk([o for o in pks.values() if o])
                self.latest_order.update({c: found.get(pks.get(c)) for c in latest})
        if want_conv:
            msgs = [m for c in ctxs if c._subject_conversation() is None and (m := c.message) is not None
                    and m.pk not in self.msg_conv]
            if msgs:
                self._message_conversations(msgs)
            latest = [c.customer.pk for c in ctxs if c.customer is not None and c.customer.pk not in self.latest_conv
                      and c._subject_conversation() is None and (c.message is None or self.msg_conv.get(c.message.pk) is None)]
            if latest:
                last = (Conversation.objects.filter(shop=shop, customer=OuterRef("pk"), merged_into__isnull=True)
                        .order_by("-ended_at", "-id"))
                pks = dict(Customer.objects.filter(pk__in=latest).annotate(c=Subquery(last.values("pk")[:1]))
                           .values_list("pk", "c"))
                found = Conversation.objects.select_related("customer").in_bulk([c for c in pks.values() if c])
                self.latest_conv.update({c: found.get(pks.get(c)) for c in latest})
        if "grade" in needs and customers:
            from kefu.crm.selectors import grades_of

            todo = [pk for pk in customers if pk not in self.grades]
            got = grades_of(shop=shop, customer_ids=todo)
            self.grades.update({pk: got.get(pk, "") for pk in todo})
        if "tags" in needs and customers:
            todo = [pk for pk in customers if pk not in self.tags]
            if todo:
                self._tags(todo)
        if "sla" in needs:
            todo = {c.conversation.pk for c in ctxs if c.conversation is not None} - set(self.sla)
            if todo:
                self._sla(todo)


class Ctx:
    """One event as the rules see it. Objects given to the constructor are taken as they are; the
    others load on first use, through the loader (shared by the contexts of one batch)."""

    def __init__(self, *, shop: Shop, type: str, at: dt.datetime, data: dict, event_id=None, subject: str = "",
                 subject_id: int | None = None, loader: Loader | None = None, **given):
        self.shop, self.type, self.data, self.event_id = shop, type, data, event_id
        self.subject_kind, self.subject_id = subject, subject_id
        self.loader = loader or Loader(shop)
        self._at = at
        self._v = {k: given.get(k, _UNSET) for k in ("conversation", "customer", "order", "message", "case")}

    # ---- what the event is about

    def _message_id(self) -> str:
        return self.data.get("message_id") or "" if self.type == "message.created" else ""

    def _subject_conversation(self) -> Conversation | None:
        if self.subject_kind == "conversation" and self.subject_id:
            return self.loader.conversation(self.subject_id)
        return None

    def _subject_customer(self) -> Customer | None:
        """The buyer of the event's own object (its conversation, order or case's order)."""
        obj = None
        if self.subject_kind == "conversation" and self.subject_id:
            obj = self.loader.conversation(self.subject_id)
        elif self.subject_kind == "order" and self.subject_id:
            obj = self.loader.order(self.subject_id)
        elif self.subject_kind == "case" and self.subject_id:
            case = self.loader.case(self.subject_id)
            obj = case.order if case is not None and case.order_id else None
        return obj.customer if obj is not None else None

    def _order_ref(self) -> str:
        m = self.message
        return self.data.get("order_id") or (m.order_ref if m is not None else "")

    def _get(self, name: str, load):
        if self._v[name] is _UNSET:
            self._v[name] = load()
        return self._v[name]

    @property
    def message(self) -> Message | None:
        return self._get("message", lambda: self.loader.message(self._message_id()) if self._message_id() else None)

    @property
    def case(self):
        return self._get("case", lambda: self.loader.case(self.subject_id)
                         if self.subject_kind == "case" and self.subject_id else None)

    @property
    def customer(self) -> Customer | None:
        def load():
            got = self._subject_customer()
            if got is None and self.data.get("buyer_id"):
                got = self.loader.buyer(self.data["buyer_id"])
            return got
        return self._get("customer", load)

    @property
    def order(self) -> Order | None:
        def load():
            if self.subject_kind == "order" and self.subject_id:
                got = self.loader.order(self.subject_id)
                if got is not None:
                    return got
            elif self.subject_kind == "case" and self.subject_id:
                case = self.case
                if case is not None and case.order_id:
                    return case.order
            customer = self.customer
            return self.loader.order_of(customer, self._order_ref()) if customer is not None else None
        return self._get("order", load)

    @property
    def conversation(self) -> Conversation | None:
        def load():
            got = self._subject_conversation()
            if got is None and self.message is not None:
                got = self.loader.message_conversation(self.message)
            return got if got is not None else self.loader.latest_conversation(self.customer)
        return self._get("conversation", load)

    @conversation.setter
    def conversation(self, value: Conversation | None) -> None:
        self._v["conversation"] = value

    @property
    def at(self) -> dt.datetime:
        """When it happened: a message's sending time, else the event's."""
        m = self.message
        return m.sent_at if m is not None else self._at

    @property
    def subject(self) -> tuple[str, int | None]:
        """What the firing is logged on: the case, else the conversation, else the order."""
        for kind in ("case", "conversation", "order"):
            obj = getattr(self, kind)
            if obj is not None:
                return kind, obj.pk
        return "", None

    def changed(self) -> None:
        """A rule's actions ran: the buyer's grade and tags and the conversation's clocks are read
        again by the rules after it (the objects themselves are kept up to date by the actions)."""
        if self.customer is not None:
            self.loader.grades.pop(self.customer.pk, None)
            self.loader.tags.pop(self.customer.pk, None)
        if self.conversation is not None:
            self.loader.sla.pop(self.conversation.pk, None)

    def grade(self) -> str:
        return self.loader.grade(self.customer) if self.customer is not None else ""

    def tags(self) -> set:
        return self.loader.tag_names(self.customer) if self.customer is not None else set()

    def sla_states(self) -> set:
        return self.loader.sla_states(self.conversation) if self.conversation is not None else set()


def contexts_for(*, shop: Shop, items: list[dict], conditions_lists=(), also: set[str] = frozenset(),
                 rebuild: bool = True) -> list[Ctx]:
    """One context per item (type, subject, subject_id, data, at, event_id), sharing a loader that
    has fetched what the given conditions read (and `also`). rebuild=False: a message whose
    conversation is not built yet has none (a dry run writes nothing)."""
    loader = Loader(shop, rebuild=rebuild)
    ctxs = [Ctx(shop=shop, loader=loader, **it) for it in items]
    loader.prefetch(ctxs, needs_of(conditions_lists) | {"message"} | set(also))
    return ctxs

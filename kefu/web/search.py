"""The header's search box: one query finds orders (by id), buyers (the buyer list's rule) and
conversation text, each scoped to what the person may see."""

from dataclasses import dataclass, field

from kefu.conversations.enums import Sender
from kefu.conversations.models import Conversation, Message
from kefu.conversations.selectors import visible_q
from kefu.core.access import mask_phone, sees_contacts
from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer
from kefu.customers.selectors import buyer_search_q, visible_buyers_q
from kefu.orders.models import Order

LIMIT = 20


@dataclass
class SearchResults:
    q: str
    orders: list = field(default_factory=list)
    buyers: list = field(default_factory=list)
    messages: list = field(default_factory=list)  # (message, conversation or None)

    @property
    def total(self) -> int:
        return len(self.orders) + len(self.buyers) + len(self.messages)

    @property
    def only_order(self):
        """The one order an exact order id names (the header jumps straight to it)."""
        exact = [o for o in self.orders if o.order_id == self.q]
        return exact[0] if len(exact) == 1 else None


def search_everything(*, shop: Shop, member: Agent, q: str) -> SearchResults:
    q = " ".join(q.split())[:100]
    out = SearchResults(q=q)
    if not q:
        return out
    # Orders: the id exactly or as a prefix (a pasted id, or its first digits).
    out.orders = list(Order.objects.filter(shop=shop, order_id__startswith=q).select_related("customer")
                      .order_by("-created_at")[:LIMIT])
    # Buyers: the buyer list's own rule (id, nick, merged-away ids, phone tail, order id); a record merged
    # into another is found as the one it was merged into. Listed to everyone, linked where the person may open it.
    out.buyers = list(Customer.objects.filter(buyer_search_q(shop, q), shop=shop, is_spam=False, merged_into__isnull=True)
                      .order_by("nick", "buyer_id")[:LIMIT])
    openable = set(Customer.objects.filter(pk__in=[c.pk for c in out.buyers]).filter(visible_buyers_q(member))
                   .values_list("pk", flat=True)) if out.buyers else set()
    for c in out.buyers:
        c.openable = c.pk in openable
    show_phone = sees_contacts(member)
    for c in out.buyers:
        c.phone_shown = c.phone if show_phone else mask_phone(c.phone)
    # Conversation text: buyers' and agents' messages, newest first, in conversations this person sees.
    if len(q) >= 2:
        hits = list(Message.objects.filter(shop=shop, text__icontains=q, sender__in=[Sender.BUYER, Sender.AGENT])
                    .select_related("customer", "agent").order_by("-sent_at")[:LIMIT * 3])
        convs = (Conversation.objects.filter(shop=shop, customer_id__in={m.customer_id for m in hits})
                 .filter(visible_q(member)).order_by("-started_at"))
        by_customer: dict[int, list[Conversation]] = {}
        for c in convs:
            by_customer.setdefault(c.customer_id, []).append(c)
        for m in hits:
            conv = next((c for c in by_customer.get(m.customer_id, []) if c.started_at <= m.sent_at), None)
            if conv is not None:
                out.messages.append((m, conv))
            if len(out.messages) >= LIMIT:
                break
    return out

"""Demo data of the SLA app: seed 000's default policies and the clocks of the demo's conversations
and cases, computed by the same scan the scheduler runs."""

import datetime as dt

from kefu.core.models import Shop

from .services import policies_install_defaults, sla_scan


def demo_extend(*, shop: Shop, seed: int, date_from: dt.date, date_to: dt.date, say) -> None:
    policies_install_defaults(shop=shop)
    r = sla_scan(shop=shop)
    say(f"SLA: default policies installed; {r.rebuilt.created} clocks computed")

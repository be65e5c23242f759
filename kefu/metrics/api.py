from django.utils import timezone
from ninja import Field, Query, Router, Schema

from kefu.core.api_auth import AUTH
from kefu.core.timeutil import shop_day

from .selectors import kpi_report_for_viewer, parse_range

router = Router(tags=["metrics"], auth=AUTH)


class MetricsQuery(Schema):
    shop: str | None = None
    date_from: str | None = Field(None, alias="from")
    date_to: str | None = Field(None, alias="to")
    by: str = "agent"


@router.get("/metrics/agents")
def metrics_agents(request, q: Query[MetricsQuery]):
    """KPIs per agent (SPEC §12) for a date range in shop days; `by` = agent|group|shop."""
    shop, member = request.auth.shop_for(q.shop)
    d_from, d_to = parse_range(q.date_from, q.date_to, today=shop_day(timezone.now(), shop.tz))
    return kpi_report_for_viewer(shop=shop, member=member, date_from=d_from, date_to=d_to, by=q.by)

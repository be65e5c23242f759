"""SLA clocks under /api/v1/."""

from ninja import Router

from kefu.core.api_auth import AUTH

router = Router(tags=["sla"], auth=AUTH)

"""Production alerts and return reasons under /api/v1/."""

from ninja import Router

from kefu.core.api_auth import AUTH

router = Router(tags=["defects"], auth=AUTH)

"""Outbound messages (outbox) under /api/v1/."""

from ninja import Router

from kefu.core.api_auth import AUTH

router = Router(tags=["outbound"], auth=AUTH)

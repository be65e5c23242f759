"""Outbound messages (outbox)."""

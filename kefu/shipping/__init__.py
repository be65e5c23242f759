"""Shipping audit."""

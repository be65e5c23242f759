"""Customer care (grades, cross-sell)."""

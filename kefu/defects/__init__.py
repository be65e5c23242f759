"""Production alerts and return reasons."""

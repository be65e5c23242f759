"""Reply scripts."""

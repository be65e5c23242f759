"""Shared helpers for validated input (API bodies and import rows)."""

from dataclasses import dataclass, field


@dataclass
class IngestResult:
    created: int = 0
    duplicates: int = 0
    updated: int = 0
    # Buyers whose rows changed (their metric facts are rebuilt).
    customer_ids: set = field(default_factory=set)

    def add(self, other: "IngestResult") -> None:
        self.created += other.created
        self.duplicates += other.duplicates
        self.updated += other.updated
        self.customer_ids |= other.customer_ids


def cell_text(raw: dict, key: str) -> str:
    """A cell as trimmed text; spreadsheet floats like 12.0 read back as "12"."""
    v = raw.get(key)
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).strip()

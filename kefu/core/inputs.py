"""Shared helpers for validated input (API bodies and import rows)."""

from dataclasses import dataclass, field

from .errors import KefuError

# The furthest a list API pages (an OFFSET past a bigint is a database error, not an empty page).
MAX_OFFSET = 10**9


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
    """A cell as trimmed text; spreadsheet floats like 12.0 read back as "12".

    Lists, objects and booleans are refused (KefuError naming the field); NUL characters,
    which PostgreSQL cannot store, are dropped.
    """
    v = raw.get(key)
    if v is None:
        return ""
    if type(v) is str:  # the common case, first (an import calls this ~20 times a row)
        return (v.replace("\x00", "") if "\x00" in v else v).strip()
    if isinstance(v, bool) or not isinstance(v, str | int | float):
        raise KefuError(f"must be text or a number, got {type(v).__name__}", field=key)
    if isinstance(v, float) and v.is_integer():
        v = int(v)
    return str(v).replace("\x00", "").strip()


def json_body(request, *, list_key: str, limit: int) -> list[dict]:
    """A JSON body holding one object or {list_key: [objects]} (at most `limit`)."""
    import json

    try:
        data = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise KefuError(f"the body is not valid JSON: {exc}", field="body") from exc
    if isinstance(data, dict) and list_key in data:
        items = data[list_key]
        if not isinstance(items, list):
            raise KefuError("must be a list", field=list_key)
    elif isinstance(data, dict):
        items = [data]
    else:
        raise KefuError(f"must be an object or {{\"{list_key}\": [...]}}", field="body")
    if not items:
        raise KefuError("empty", field=list_key)
    if len(items) > limit:
        raise KefuError(f"at most {limit} per request", field=list_key)
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise KefuError(f"item {i} must be an object", field=f"{list_key}.{i}")
    return items


def openapi_body(*schemas) -> dict:
    """OpenAPI text for a body validated by the domain cleaner (one validator for API and files).

    Each schema's nested models are inlined: its `#/$defs/…` references would point nowhere once
    the schema sits inside the OpenAPI document."""
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"oneOf": [_inline_defs(s.model_json_schema()) for s in schemas]}}}}}


def _inline_defs(schema: dict) -> dict:
    defs = schema.pop("$defs", {})

    def resolve(node):
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return resolve(dict(defs[ref.removeprefix("#/$defs/")]))
            return {k: resolve(v) for k, v in node.items()}
        if isinstance(node, list):
            return [resolve(v) for v in node]
        return node

    return resolve(schema)


def clean_text(value, *, field: str, max_len: int, required: bool = False,
               required_message: str = "required") -> str:
    """A free-text input (reason, note): text only, NUL dropped, trimmed, length checked."""
    from .errors import KefuError

    if value is not None and not isinstance(value, str):
        raise KefuError("must be text", field=field)
    value = (value or "").replace("\x00", "").strip()
    if required and not value:
        raise KefuError(required_message, field=field)
    if len(value) > max_len:
        raise KefuError(f"at most {max_len} characters", field=field)
    return value

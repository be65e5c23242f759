"""Errors services raise; the API and the CLI turn them into clear answers (never a 500)."""


class KefuError(Exception):
    """A rule or input problem the caller can fix. `field` names the row/field at fault."""

    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict:
        return {"code": self.code, "field": self.field, "message": self.message}


class ValidationFailed(KefuError):
    """Several problems at once, e.g. every bad row of an import. Nothing was written."""

    code = "validation_failed"

    def __init__(self, errors: list[dict], total: int | None = None):
        self.errors = errors
        self.total = len(errors) if total is None else total  # more than listed when the list was capped
        first = errors[0]["message"] if errors else "invalid input"
        super().__init__(f"{self.total} problem(s); first: {first}")

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "errors": self.errors}

    def report(self, shown: int = 20) -> str:
        """The command line's answer: how many rows are bad (all of them, not only those listed), then
        the first `shown`, one a line."""
        lines = [f"row {e['row']}, {e['field']}: {e['message']}" for e in self.errors[:shown]]
        if self.total > len(lines):
            lines.append(f"… and {self.total - len(lines)} more")
        return f"nothing imported: {self.total} bad row(s)\n" + "\n".join(lines)


def row_number(raw, default: int) -> int:
    """The file line a row came from (`_line`, set by kefu.importers.files), else its position."""
    line = raw.get("_line") if isinstance(raw, dict) else None
    return line if type(line) is int else default


class NotFound(KefuError):
    code = "not_found"


class PermissionDenied(KefuError):
    code = "forbidden"


# One answer per error code across the API: "someone acted first / it changed while you looked" is a
# conflict (409, reload and retry); a rule about who may act is 403; everything else the caller can fix
# in the request is 400.
CONFLICT_CODES = frozenset({
    "already_decided", "already_done", "stale_version", "approval_pending", "line_done", "already_rated",
    "request_id_reused", "month_locked",
})
FORBIDDEN_CODES = frozenset({
    "forbidden", "not_owner", "supervisor_only", "manager_only", "not_manager", "not_allowed", "not_approver",
    "not_requester", "own_request", "identity_refused", "blocked",
})


# Too many requests from one visitor or address (the live widget's public endpoints).
RATE_LIMITED_CODES = frozenset({"rate_limited"})


def http_status(exc: KefuError) -> int:
    if isinstance(exc, NotFound):
        return 404
    if exc.code in RATE_LIMITED_CODES:
        return 429
    if isinstance(exc, PermissionDenied) or exc.code in FORBIDDEN_CODES:
        return 403
    if exc.code in CONFLICT_CODES:
        return 409
    return 400

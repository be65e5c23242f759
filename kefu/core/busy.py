"""The database is busy: a write met SQLite's lock past the busy timeout, or PostgreSQL's lock
timeout, a serialization failure or a deadlock, or the server is unreachable. That is not a bug of
the request: the answer is 503 with Retry-After (JSON on the API, a page elsewhere), never a 500."""

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse

RETRY_AFTER_SECONDS = 5
# lock_not_available, query_canceled (statement/lock timeout), serialization_failure, deadlock_detected,
# and the connection exception class (08…) of PostgreSQL.
BUSY_SQLSTATES = {"55P03", "57014", "40001", "40P01"}


def is_busy(exc: BaseException) -> bool:
    if not isinstance(exc, OperationalError):
        return False
    cause = exc.__cause__
    state = getattr(cause, "sqlstate", None)
    if state:
        return state in BUSY_SQLSTATES or state.startswith("08")
    text = str(exc).lower()
    return "database is locked" in text or "database table is locked" in text or "connection" in text


def busy_response(request) -> HttpResponse:
    message = "the database is busy (another process holds a lock); retry in a few seconds"
    if request.path_info.startswith("/api/"):
        response = JsonResponse({"code": "busy", "field": None, "message": message}, status=503)
    else:
        from django.template import loader

        try:
            body = loader.get_template("503.html").render({"request": request, "shop_tz": None})
        except Exception:  # noqa: BLE001 - the busy page must not fail on the busy database itself
            body = "503 Service Unavailable: " + message
        response = HttpResponse(body, status=503)
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response

"""Every API route answers the same status for the same error code (kefu.core.errors.http_status)."""

import pathlib

import pytest

from kefu.core.errors import (
    CONFLICT_CODES,
    FORBIDDEN_CODES,
    KefuError,
    NotFound,
    PermissionDenied,
    http_status,
)


@pytest.mark.parametrize("code", sorted(CONFLICT_CODES))
def test_conflicts_answer_409(code):
    assert http_status(KefuError("x", code=code)) == 409


@pytest.mark.parametrize("code", sorted(FORBIDDEN_CODES))
def test_role_rules_answer_403(code):
    assert http_status(KefuError("x", code=code)) == 403


def test_not_found_and_the_rest():
    assert http_status(NotFound("x")) == 404
    assert http_status(PermissionDenied("x")) == 403
    assert http_status(KefuError("x", code="invalid_transition")) == 400
    assert http_status(KefuError("x")) == 400


def test_every_code_in_the_tables_is_raised_somewhere():
    """A code in the table that no enum defines is a typo that would silently answer 400."""
    root = pathlib.Path(__file__).resolve().parents[2] / "kefu"
    src = "".join(p.read_text() for p in root.rglob("*.py") if p != root / "core" / "errors.py")
    for code in CONFLICT_CODES | FORBIDDEN_CODES:
        assert f'"{code}"' in src, code


def test_a_capped_validation_report_counts_every_bad_row():
    from kefu.core.errors import ValidationFailed

    listed = [{"row": n, "field": "amount", "message": "not a number"} for n in range(2, 1002)]
    text = ValidationFailed(listed, total=2600).report(3)
    assert text.splitlines() == ["nothing imported: 2600 bad row(s)", "row 2, amount: not a number",
                                 "row 3, amount: not a number", "row 4, amount: not a number", "… and 2597 more"]
    assert ValidationFailed(listed[:2]).report(3).splitlines()[0] == "nothing imported: 2 bad row(s)"

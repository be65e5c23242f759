"""The approval request state machine: every allowed and every refused transition."""

import pytest

from kefu.approvals.enums import ApprovalAction, ApprovalState
from kefu.approvals.models import ApprovalRequest
from kefu.approvals.services import TRANSITIONS, approval_transition
from kefu.core.errors import KefuError
from kefu.core.models import AuditLog

pytestmark = pytest.mark.django_db

ALL = [(s, a) for s in ApprovalState.values for a in ApprovalAction.values if a != ApprovalAction.CREATE]


def test_the_table_is_what_the_spec_says():
    assert TRANSITIONS == {("pending", "approve"): "approved", ("approved", "execute"): "executed",
                           ("pending", "reject"): "rejected", ("pending", "cancel"): "cancelled"}


@pytest.mark.parametrize("state,action", ALL)
def test_every_transition(shop, agent_person, supervisor, state, action):
    req = ApprovalRequest.objects.create(shop=shop, kind="discount", amount="30", reason="r",
                                         requested_by=agent_person, state=state)
    if (state, action) in TRANSITIONS:
        approval_transition(req=req, action=action, actor=supervisor, reason="ok")
        req.refresh_from_db()
        assert req.state == TRANSITIONS[(state, action)]
        ev = req.events.get()
        assert (ev.action, ev.from_state, ev.to_state, ev.actor) == (action, state, req.state, supervisor)
        log = AuditLog.objects.get(action=f"approval.{action}", entity_id=str(req.pk))
        assert log.before == {"state": state} and log.after["state"] == req.state
    else:
        with pytest.raises(KefuError) as exc:
            approval_transition(req=req, action=action, actor=supervisor)
        expected = "already_decided" if state != "pending" and action != "execute" else "invalid_transition"
        assert exc.value.code == expected
        req.refresh_from_db()
        assert req.state == state and not req.events.exists()

"""Money actions, approval states and the error codes of the approvals domain."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.enums import Role


class MoneyKind(models.TextChoices):
    DISCOUNT = "discount", _("改价/优惠")
    COMPENSATION = "compensation", _("补偿")
    FREE_ORDER = "free_order", _("免单")
    GIFT = "gift", _("惊喜/礼物")  # seed 001 授权: a surprise for a buyer (kefu.care)


class ApprovalState(models.TextChoices):
    PENDING = "pending", _("待审批")
    APPROVED = "approved", _("已批准")
    EXECUTED = "executed", _("已执行")
    REJECTED = "rejected", _("已驳回")
    CANCELLED = "cancelled", _("已撤回")


class ApprovalAction(models.TextChoices):
    CREATE = "create", _("提交")
    APPROVE = "approve", _("批准")
    EXECUTE = "execute", _("执行")
    REJECT = "reject", _("驳回")
    CANCEL = "cancel", _("撤回")


class ApprovalErrorCode(models.TextChoices):
    ALREADY_DECIDED = "already_decided", "already decided"
    INVALID_TRANSITION = "invalid_transition", "transition not allowed"
    ABOVE_AUTHORITY = "above_authority", "above the approver's authority"
    OWN_REQUEST = "own_request", "cannot decide one's own request"
    NOT_REQUESTER = "not_requester", "only the requester may cancel"
    NOT_APPROVER = "not_approver", "supervisors, managers and admins only"
    REQUEST_ID_REUSED = "request_id_reused", "request_id already used for another request"
    PERSON_REQUIRED = "person_required", "a logged-in person must make this request"


# Default authority per role and per money kind, in yuan (PRE-4, seed 001: agent 20, supervisor 50,
# manager 100). None = unlimited. A person with several roles gets the largest of their limits.
DEFAULT_ROLE_LIMITS: dict[str, Decimal | None] = {
    Role.AGENT: Decimal("20.00"),
    Role.SUPERVISOR: Decimal("50.00"),
    Role.MANAGER: Decimal("100.00"),
    Role.ADMIN: None,
    Role.WAREHOUSE: Decimal("0.00"),
}
# Roles whose limit a shop may change (admins stay unlimited so a request can always be decided).
SETTABLE_ROLES = (Role.AGENT, Role.SUPERVISOR, Role.MANAGER, Role.WAREHOUSE)
# Roles that may decide other people's requests (within their own authority).
APPROVER_ROLES = (Role.SUPERVISOR, Role.MANAGER, Role.ADMIN)
# Roles that may change limits.
LIMIT_EDITOR_ROLES = (Role.MANAGER, Role.ADMIN)

"""Writes of shops, people, tokens and the audit log."""

import hashlib
import secrets

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from .db import model_columns, model_from_row
from .enums import Group, Role
from .errors import KefuError, NotFound
from .models import Agent, AgentAccount, AuditLog, IntegrationToken, Shop, validate_timezone


def audit_record(*, shop: Shop | None, actor=None, action: str, entity, before=None, after=None) -> AuditLog:
    return AuditLog.objects.create(
        shop=shop,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_label=str(actor) if actor is not None else "system",
        action=action,
        entity_type=type(entity).__name__,
        entity_id=str(entity.pk),
        before=before,
        after=after,
    )


def shop_create(*, code: str, name: str, timezone_name: str = "Asia/Shanghai", actor=None) -> Shop:
    from django.core.exceptions import ValidationError

    try:
        validate_timezone(timezone_name)
    except ValidationError as exc:
        raise KefuError(f"unknown time zone {timezone_name!r}", field="timezone") from exc
    if not code or not code.replace("-", "").replace("_", "").isalnum():
        raise KefuError("shop code must be letters, digits, - or _", field="code")
    with transaction.atomic():
        if Shop.objects.filter(code=code).exists():
            raise KefuError(f"shop {code!r} already exists", field="code", code="exists")
        shop = Shop.objects.create(code=code, name=name, timezone=timezone_name)
        audit_record(shop=shop, actor=actor, action="shop.create", entity=shop,
                     after={"code": code, "name": name, "timezone": timezone_name})
    return shop


def shop_archive(*, shop: Shop, actor=None) -> Shop:
    """Archive a shop: it leaves login, the shop switcher, the API and the scheduler; every row
    and its audit trail stay (a shop is never deleted). Archiving twice is an error."""
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop.pk)
        if shop.archived_at is not None:
            raise KefuError(f"shop {shop.code!r} is already archived", field="code", code="already_done")
        shop.archived_at = timezone.now()
        shop.save(update_fields=["archived_at"])
        IntegrationToken.objects.filter(shop=shop, revoked_at__isnull=True).update(revoked_at=shop.archived_at)
        audit_record(shop=shop, actor=actor, action="shop.archive", entity=shop,
                     after={"archived_at": shop.archived_at.isoformat()})
    return shop


SETTINGS_FIELDS = (
    "name", "timezone", "service_hours", "attribution_window_days", "attribution_basis",
    "slow_turn_seconds", "aftersales_lookback_days", "takeback_days", "conversation_gap_minutes",
    "score_weights", "payment_reminder_minutes", "kpi_targets",
)
# Settings that change what the facts are: changing one rebuilds the shop's figures.
FACT_SETTINGS = {"timezone", "service_hours", "attribution_window_days", "attribution_basis",
                 "slow_turn_seconds", "aftersales_lookback_days", "takeback_days", "conversation_gap_minutes"}


def shop_settings_update(*, shop: Shop, actor=None, **changes) -> Shop:
    from django.core.exceptions import ValidationError

    from kefu.metrics.services import rollups_rebuild

    unknown = set(changes) - set(SETTINGS_FIELDS)
    if unknown:
        raise KefuError(f"unknown setting {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    if "service_hours" in changes:
        _check_service_hours(changes["service_hours"])
    if "score_weights" in changes:
        _check_weights(changes["score_weights"])
    if "kpi_targets" in changes:
        from kefu.metrics.targets import targets_check

        targets_check(changes["kpi_targets"])
    with transaction.atomic():
        # NO KEY UPDATE: messages and orders inserted meanwhile (a foreign key to the shop) do not wait.
        shop = Shop.objects.select_for_update(no_key=True).get(pk=shop.pk)
        before = {k: getattr(shop, k) for k in changes}
        for k, v in changes.items():
            setattr(shop, k, v)
        try:
            shop.full_clean(exclude=["code"])
        except ValidationError as exc:
            field, msgs = next(iter(exc.message_dict.items()))
            raise KefuError(f"{field}: {msgs[0]}", field=field) from exc
        shop.save(update_fields=list(changes))
        audit_record(shop=shop, actor=actor, action="shop.settings", entity=shop, before=before, after=changes)
        if FACT_SETTINGS & set(changes):
            rollups_rebuild(shop=shop)
        if "timezone" in changes and before["timezone"] != shop.timezone:
            # Roster entries store their shift's instants; from today on they follow the new zone.
            from kefu.workforce.services import roster_times_rebuild

            from .timeutil import shop_day

            roster_times_rebuild(shop=shop, date_from=shop_day(timezone.now(), shop.tz), actor=actor)
    return shop


def person_create(
    *, shop: Shop, name: str, username: str | None = None, password: str | None = None,
    roles: list[str] | None = None, group: str = Group.PRESALES, platform_ids: list[str] | None = None,
    actor=None,
) -> Agent:
    roles = roles or [Role.AGENT]
    bad = [r for r in roles if r not in Role.values]
    if bad:
        raise KefuError(f"unknown role {bad[0]!r}", field="roles")
    if group not in Group.values:
        raise KefuError(f"unknown group {group!r}", field="group")
    User = get_user_model()
    with transaction.atomic():
        user = None
        if username:
            user, _ = User.objects.get_or_create(username=username)
            if password:
                user.set_password(password)
                user.save(update_fields=["password"])
        platform_ids = list(dict.fromkeys(p.strip() for p in platform_ids or [] if p.strip()))
        taken = _agent_of_platform_ids(shop, platform_ids)
        try:
            with transaction.atomic():
                if taken is None:
                    agent = Agent.objects.create(shop=shop, user=user, name=name, group=group, roles=",".join(roles))
                else:
                    # An import met this platform id first and created a bare agent for it: the person
                    # takes that agent over, with every message and figure already recorded for it.
                    agent, former = taken, taken.name
                    agent.name, agent.user, agent.group, agent.roles = name, user, group, ",".join(roles)
                    agent.save(update_fields=["name", "user", "group", "roles"])
        except IntegrityError as exc:
            raise KefuError(f"a person named {name!r} already works in this shop", field="name") from exc
        known = set(agent.accounts.values_list("platform_id", flat=True)) if taken else set()
        for pid in platform_ids:
            if pid not in known:
                AgentAccount.objects.create(shop=shop, agent=agent, platform_id=pid)
        after = {"name": name, "username": username, "roles": roles, "group": group}
        if taken is not None:
            after["took_over"] = former
        audit_record(shop=shop, actor=actor, action="person.create", entity=agent, after=after)
    return agent


def _agent_of_platform_ids(shop: Shop, platform_ids: list[str]) -> Agent | None:
    """The agent an import already created for these platform ids, if any (KefuError when they
    belong to different agents, or to a person who has a login)."""
    if not platform_ids:
        return None
    accounts = list(AgentAccount.objects.select_related("agent").filter(shop=shop, platform_id__in=platform_ids))
    agents = {a.agent_id: a.agent for a in accounts}
    if len(agents) > 1:
        names = ", ".join(sorted(f"{a.platform_id} → {a.agent.name}" for a in accounts))
        raise KefuError(f"these platform ids belong to different agents ({names})", field="platform_id")
    if not agents:
        return None
    agent = next(iter(agents.values()))
    if agent.user_id is not None:
        raise KefuError(f"platform id {accounts[0].platform_id!r} already belongs to {agent.name}, who has a login",
                        field="platform_id")
    return Agent.objects.select_for_update().get(pk=agent.pk)


def agents_resolve(*, shop: Shop, platform_ids: set[str]) -> dict[str, int]:
    """platform id → agent id; an agent met for the first time is created (role agent)."""
    platform_ids = {p for p in platform_ids if p}
    if not platform_ids:
        return {}
    found = dict(
        AgentAccount.objects.filter(shop=shop, platform_id__in=platform_ids).values_list("platform_id", "agent_id")
    )
    missing = platform_ids - set(found)
    if missing:
        Agent.objects.bulk_create(
            [Agent(shop=shop, name=p, roles=Role.AGENT) for p in sorted(missing)], ignore_conflicts=True
        )
        by_name = dict(Agent.objects.filter(shop=shop, name__in=missing).values_list("name", "id"))
        AgentAccount.objects.bulk_create(
            [AgentAccount(shop=shop, agent_id=by_name[p], platform_id=p) for p in sorted(missing)],
            ignore_conflicts=True
        )
        found.update(
            AgentAccount.objects.filter(shop=shop, platform_id__in=missing).values_list("platform_id", "agent_id")
        )
    return found


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, shop: Shop, name: str, actor=None) -> tuple[IntegrationToken, str]:
    """Returns the token row and the raw token, shown once."""
    name = (name or "").strip()
    if not name or len(name) > 80:
        raise KefuError("a name of 1–80 characters (what the integration is)", field="name")
    raw = "kf_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        tok = IntegrationToken.objects.create(shop=shop, name=name, prefix=raw[:11], token_hash=token_hash(raw))
        audit_record(shop=shop, actor=actor, action="token.create", entity=tok, after={"name": name})
    return tok, raw


def token_revoke(*, shop: Shop, token_id: int, actor=None) -> IntegrationToken:
    """Revoke a token of this shop: it stops working at once. Another shop's id is NotFound."""
    with transaction.atomic():
        tok = IntegrationToken.objects.select_for_update().filter(shop=shop, pk=token_id).first()
        if tok is None:
            raise NotFound("no such token", field="token")
        if tok.revoked_at is not None:
            raise KefuError("this token is already revoked", field="token", code="already_done")
        tok.revoked_at = timezone.now()
        tok.save(update_fields=["revoked_at"])
        audit_record(shop=shop, actor=actor, action="token.revoke", entity=tok,
                     after={"name": tok.name, "prefix": tok.prefix})
    return tok


def token_authenticate(raw: str) -> IntegrationToken | None:
    if not raw or not raw.startswith("kf_"):
        return None
    from kefu.integrations.events import listeners_exist_sql

    # Every API request runs this: one fixed statement (compiling the queryset cost more than the
    # database's work), the token with its shop, and whether the shop has any webhook subscription
    # or automation rule (if not, an ingest asks no more: kefu.integrations.events.listening).
    with connection.cursor() as cursor:
        t, s = IntegrationToken._meta.db_table, Shop._meta.db_table
        cursor.execute(
            f"SELECT {model_columns(IntegrationToken)}, {model_columns(Shop)}, {listeners_exist_sql(f'{t}.shop_id')} "
            f"FROM {t} JOIN {s} ON {s}.id = {t}.shop_id "
            f"WHERE {t}.token_hash = %s AND {t}.revoked_at IS NULL AND {s}.archived_at IS NULL",
            [token_hash(raw)],
        )
        row = cursor.fetchone()
    if row is None:
        return None
    n, m = len(IntegrationToken._meta.concrete_fields), len(Shop._meta.concrete_fields)
    tok = model_from_row(IntegrationToken, row[:n])
    tok.shop = model_from_row(Shop, row[n : n + m])
    # As read at the start of the request: a subscription created during it counts from the next.
    tok.shop.kefu_listeners = bool(row[n + m])
    now = timezone.now()
    if tok.last_used_at is None or (now - tok.last_used_at).total_seconds() > 60:
        IntegrationToken.objects.filter(pk=tok.pk).update(last_used_at=now)
    return tok


def _check_service_hours(spec) -> None:
    from .timeutil import ServiceHours, zone

    if not isinstance(spec, dict) or set(spec) - {"weekly", "holidays"}:
        raise KefuError('must be {"weekly": {"0": [["09:00", "18:00"]], …}, "holidays": ["YYYY-MM-DD"]}',
                        field="service_hours")
    try:
        ServiceHours(spec, zone("UTC"))
        for key in spec.get("weekly") or {}:
            if int(key) not in range(7):
                raise ValueError(f"weekday {key} (0 = Monday … 6 = Sunday)")
    except (TypeError, ValueError, AttributeError) as exc:
        raise KefuError(f"bad service hours: {exc}", field="service_hours") from exc


def _check_weights(weights) -> None:
    from kefu.metrics.kpi import SCORE_COMPONENTS

    if not isinstance(weights, dict):
        raise KefuError("must be an object of component → weight", field="score_weights")
    for k, w in weights.items():
        if k not in SCORE_COMPONENTS:
            raise KefuError(f"unknown component {k!r} (known: {', '.join(SCORE_COMPONENTS)})", field="score_weights")
        if isinstance(w, bool) or not isinstance(w, int | float) or w < 0:
            raise KefuError(f"weight of {k} must be a number ≥ 0", field="score_weights")

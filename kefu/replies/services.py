"""Writes of the scripts domain: the library, personal opening lines, defaults, usage, settings —
and script_render(), which other apps call to get a shop's script filled for a buyer."""

import re

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from kefu.core.access import sees_whole_shop
from kefu.core.errors import KefuError, PermissionDenied
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record
from kefu.core.timeutil import parse_day, shop_day

from .defaults import DEFAULT_SCRIPTS, DEFAULTS_BY_KEY
from .enums import ScriptCategory, ScriptErrorCode
from .models import Script, ScriptSettings, ScriptUse, ScriptVersion
from .variables import variables_check, variables_fill

FTS_TABLE = "replies_script_fts"
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{0,59}$")
EDITABLE = ("category", "title", "body", "key", "starts_on", "ends_on", "active")


# ---------------------------------------------------------------- search index (SQLite FTS5)

def _fts_sync(script_ids: list[int]) -> None:
    """Keep the FTS5 trigram table equal to the scripts' title/body (SQLite only; PostgreSQL's
    trigram index lives on the table itself)."""
    if connection.vendor != "sqlite" or not script_ids:
        return
    ids = list(script_ids)
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cur:
        cur.execute(f"DELETE FROM {FTS_TABLE} WHERE rowid IN ({marks})", ids)
        cur.execute(f"INSERT INTO {FTS_TABLE}(rowid, title, body) SELECT id, title, body FROM replies_script "
                    f"WHERE id IN ({marks})", ids)


# ---------------------------------------------------------------- checks

def _actor_user(actor: Agent | None):
    return actor.user if actor is not None and actor.user_id else None


def _may_edit_shop_scripts(actor: Agent | None) -> bool:
    """Supervisors, managers and admins (trainers are supervisors); None = the shop's integration."""
    return actor is None or sees_whole_shop(actor)


def _clean(shop: Shop, data: dict, *, script: Script | None) -> dict:
    out = {}
    if "category" in data:
        if data["category"] not in ScriptCategory.values:
            raise KefuError(f"unknown category {data['category']!r}; one of {', '.join(ScriptCategory.values)}",
                            field="category")
        out["category"] = data["category"]
    if "title" in data:
        out["title"] = clean_text(data["title"], field="title", max_len=80, required=True)
    if "body" in data:
        out["body"] = clean_text(data["body"], field="body", max_len=2000, required=True)
        variables_check(out["body"])
    if "key" in data:
        key = clean_text(data["key"], field="key", max_len=60)
        if key and not KEY_RE.match(key):
            raise KefuError("key: lower-case letters, digits, . _ - (e.g. payment_reminder)", field="key")
        if key and Script.objects.filter(shop=shop, owner__isnull=True, key=key).exclude(
                pk=script.pk if script else None).exists():
            raise KefuError(f"another script of the shop has the key {key!r}", field="key",
                            code=ScriptErrorCode.KEY_TAKEN)
        out["key"] = key
    for f in ("starts_on", "ends_on"):
        if f in data:
            v = data[f]
            if v in ("", None):
                out[f] = None
            else:
                try:
                    out[f] = parse_day(v)
                except ValueError as exc:
                    raise KefuError(f"a date like 2026-11-11: {exc}", field=f) from exc
    if "active" in data:
        if not isinstance(data["active"], bool):
            raise KefuError("must be true or false", field="active")
        out["active"] = data["active"]
    starts = out.get("starts_on", script.starts_on if script else None)
    ends = out.get("ends_on", script.ends_on if script else None)
    if starts and ends and ends < starts:
        raise KefuError("the end date is before the start date", field="ends_on", code=ScriptErrorCode.BAD_DATES)
    return out


# ---------------------------------------------------------------- library

def script_create(*, shop: Shop, actor: Agent | None, category: str, title: str, body: str, key: str = "",
                  starts_on=None, ends_on=None, active: bool = True, source: str = "") -> Script:
    """A shop script (supervisors and up, or the shop's integration). `source` names where the text came
    from (a QA typical case) in the version history."""
    if not _may_edit_shop_scripts(actor):
        raise PermissionDenied("only supervisors and managers edit the shop's scripts", field="script")
    data = _clean(shop, {"category": category, "title": title, "body": body, "key": key, "starts_on": starts_on,
                         "ends_on": ends_on, "active": active}, script=None)
    with transaction.atomic():
        script = Script.objects.create(shop=shop, **data)
        ScriptVersion.objects.create(shop=shop, script=script, version=1, title=script.title, body=script.body,
                                     editor=actor, source=source[:200])
        audit_record(shop=shop, actor=_actor_user(actor), action="script.create", entity=script,
                     after={k: str(v) for k, v in data.items()})
        _fts_sync([script.pk])
    return script


def script_update(*, shop: Shop, script_id: int, actor: Agent | None, expected_version: int | None = None,
                  **changes) -> Script:
    """Edit a script: shop scripts by supervisors and up; a personal opening line by its owner.
    Each change of title or body is a new version."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise KefuError(f"unknown field {sorted(unknown)[0]!r}", field=sorted(unknown)[0])
    with transaction.atomic():
        script = Script.objects.select_for_update().filter(shop=shop, pk=script_id).first()
        if script is None or (script.owner_id is not None and actor is not None and script.owner_id != actor.pk
                              and not sees_whole_shop(actor)):
            raise KefuError("script not found", field="script_id", code="not_found")
        if script.owner_id is None and not _may_edit_shop_scripts(actor):
            raise PermissionDenied("only supervisors and managers edit the shop's scripts", field="script")
        if script.owner_id is not None:
            # A personal line stays an opening line without a key.
            changes.pop("key", None)
            changes.pop("category", None)
        if expected_version is not None and expected_version != script.version:
            raise KefuError(f"the script is at version {script.version}, not {expected_version}",
                            field="expected_version", code=ScriptErrorCode.STALE_VERSION)
        data = _clean(shop, changes, script=script)
        before = {k: str(getattr(script, k)) for k in data}
        data = {k: v for k, v in data.items() if getattr(script, k) != v}
        if not data:
            return script
        for k, v in data.items():
            setattr(script, k, v)
        fields = list(data)
        if {"title", "body"} & set(data):
            script.version += 1
            fields.append("version")
            ScriptVersion.objects.create(shop=shop, script=script, version=script.version, title=script.title,
                                         body=script.body, editor=actor)
        script.save(update_fields=[*fields, "updated_at"])
        audit_record(shop=shop, actor=_actor_user(actor), action="script.update", entity=script,
                     before={k: before[k] for k in data}, after={k: str(v) for k, v in data.items()})
        _fts_sync([script.pk])
    return script


def opening_line_set(*, shop: Shop, member: Agent, body: str, title: str = "") -> Script | None:
    """SCR-2: the agent's own opening line (001: each agent designs their own, not robotic).
    Empty body removes it (the shop's opening is used again)."""
    body = clean_text(body, field="body", max_len=2000)
    if body:
        variables_check(body)
    title = clean_text(title, field="title", max_len=80) or "我的开场白"
    with transaction.atomic():
        mine = Script.objects.select_for_update().filter(shop=shop, owner=member).first()
        if not body:
            if mine is not None:
                pk = mine.pk
                mine.delete()
                _fts_sync([pk])
            return None
        if mine is None:
            mine = Script.objects.create(shop=shop, owner=member, category=ScriptCategory.OPENING, title=title,
                                         body=body)
            ScriptVersion.objects.create(shop=shop, script=mine, version=1, title=title, body=body, editor=member)
        elif (mine.title, mine.body) != (title, body):
            mine.title, mine.body, mine.version = title, body, mine.version + 1
            mine.save(update_fields=["title", "body", "version", "updated_at"])
            ScriptVersion.objects.create(shop=shop, script=mine, version=mine.version, title=title, body=body,
                                         editor=member)
        _fts_sync([mine.pk])
    return mine


def script_use(*, shop: Shop, script_id: int, agent: Agent | None = None, conversation=None, now=None) -> None:
    """Count one use (the picker inserted it into a reply). With the conversation, the use is also
    recorded against that buyer so what followed can be measured (quality.effectiveness)."""
    with transaction.atomic():
        Script.objects.filter(shop=shop, pk=script_id).update(usage_count=F("usage_count") + 1)
        if conversation is not None:
            now = now or timezone.now()
            ScriptUse.objects.create(shop=shop, script_id=script_id, agent=agent, customer_id=conversation.customer_id,
                                     conversation=conversation, used_at=now, day=shop_day(now, shop.tz))


def scripts_install_defaults(shop: Shop) -> int:
    """The default scripts of seed 000 §5 for this shop, those it has no script with that key for.
    Idempotent; returns how many it created."""
    with transaction.atomic():
        have = set(Script.objects.filter(shop=shop, owner__isnull=True).exclude(key="").values_list("key", flat=True))
        new = [Script(shop=shop, category=d.category, title=d.title, body=d.body, key=d.key)
               for d in DEFAULT_SCRIPTS if d.key not in have]
        if not new:
            ScriptSettings.objects.get_or_create(shop=shop)
            return 0
        Script.objects.bulk_create(new)
        created = list(Script.objects.filter(shop=shop, owner__isnull=True, key__in=[s.key for s in new]))
        ScriptVersion.objects.bulk_create([ScriptVersion(shop=shop, script=s, version=1, title=s.title, body=s.body)
                                           for s in created])
        ScriptSettings.objects.get_or_create(shop=shop)
        _fts_sync([s.pk for s in created])
    return len(created)


def scripts_ensure(shop: Shop) -> None:
    """Install the defaults the first time a shop's library is used (shops created after this app)."""
    if not Script.objects.filter(shop=shop).exists():
        scripts_install_defaults(shop)


def script_settings_update(*, shop: Shop, actor: Agent | None, courier_fees: dict | None = None,
                           fee_link: str | None = None) -> ScriptSettings:
    """Courier fees for {运费} (courier → yuan) and the link for {补运费链接}. Supervisors and up."""
    from decimal import Decimal, InvalidOperation

    if not _may_edit_shop_scripts(actor):
        raise PermissionDenied("only supervisors and managers change script settings", field="settings")
    with transaction.atomic():
        s, _ = ScriptSettings.objects.select_for_update().get_or_create(shop=shop)
        before = {"courier_fees": s.courier_fees, "fee_link": s.fee_link}
        if courier_fees is not None:
            if not isinstance(courier_fees, dict) or len(courier_fees) > 30:
                raise KefuError("courier → fee, at most 30", field="courier_fees")
            clean = {}
            for name, fee in courier_fees.items():
                name = clean_text(name, field="courier_fees", max_len=20, required=True)
                try:
                    amount = Decimal(str(fee)).quantize(Decimal("0.01"))
                except InvalidOperation as exc:
                    raise KefuError(f"fee of {name} is not a number", field=f"courier_fees.{name}") from exc
                if amount < 0 or amount > 10000:
                    raise KefuError(f"fee of {name} must be 0–10000", field=f"courier_fees.{name}")
                clean[name] = str(amount)
            s.courier_fees = clean
        if fee_link is not None:
            s.fee_link = clean_text(fee_link, field="fee_link", max_len=300)
        s.save()
        audit_record(shop=shop, actor=_actor_user(actor), action="script.settings", entity=s, before=before,
                     after={"courier_fees": s.courier_fees, "fee_link": s.fee_link})
    return s


# ---------------------------------------------------------------- rendering

def script_fill(*, script_body: str, values: dict) -> str:
    return variables_fill(script_body, values)


def script_render(*, shop: Shop, key: str, context: dict) -> str:
    """The shop's script with this key, variables filled from `context`, falling back to the
    shipped default text. `context` may hold objects — conversation, order, agent (or member) —
    and/or plain values by field name (buyer_nick, agent_name, order_id, courier_fees, …), which win.
    For key "opening" the agent's own opening line is used when they have one (SCR-2)."""
    from .selectors import script_context

    objs = {k: context.get(k) for k in ("conversation", "order")}
    agent = context.get("agent") or context.get("member")
    values = script_context(shop=shop, member=agent, **objs)
    values.update({k: v for k, v in context.items() if k not in ("conversation", "order", "agent", "member")})
    body = None
    if key == "opening" and agent is not None:
        body = Script.objects.filter(shop=shop, owner=agent, active=True).values_list("body", flat=True).first()
    if body is None:
        body = Script.objects.filter(shop=shop, owner__isnull=True, key=key, active=True).values_list(
            "body", flat=True).first()
    if body is None:
        default = DEFAULTS_BY_KEY.get(key)
        if default is None:
            raise KefuError(f"no script with key {key!r}", field="key", code="not_found")
        body = default.body
    return variables_fill(body, values)

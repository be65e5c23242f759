"""After-sales policy (AFT-2, AFT-3, AFT-12): a pure function that suggests; the agent decides.

`policy_suggest` reads no database: give it the reason, who is responsible, the days since the buyer
signed for the parcel, wear, the category's return window, the keep-the-item threshold and the prices,
and it answers with the suggested handling, who pays which shipping, the price difference of an
exchange and whether to escalate. Defaults come from settings (KEFU_AFTERSALES_*), see `defaults()`.
"""

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings

from kefu.core.errors import KefuError

from .enums import CaseReason, CaseType, Party

R = CaseReason

# Handling beyond the case types: what the policy may suggest.
RETURN_EXTRA = "return_extra"  # 寄回多发的商品 (no refund)
KEEP_ITEM = "keep_item"  # 退款不退货 (below the keep-the-item threshold)
NO_RETURN = "no_return"  # 原则上不退 (buyer's responsibility, outside the window)

# Checks and follow-up actions.
VERIFY_PHOTO = "verify_photo"  # 买家拍照核实
VERIFY_WEIGHT = "verify_weight"  # 核对包裹重量
DELIST_WRONG_STOCK = "delist_wrong_stock"  # 下架/盘点错货库存
COURIER_CLAIM = "courier_claim"  # 向快递索赔
SWITCH_COURIER = "switch_courier"  # 换快递
AVOID_BAD_REVIEW = "avoid_bad_review"  # 安抚，避免中差评

SHOP, BUYER, COURIER, NOBODY = Party.SHOP.value, Party.BUYER.value, Party.COURIER.value, "nobody"

DEFAULT_RESPONSIBLE = {
    R.QUALITY: Party.SUPPLIER, R.WRONG_ITEM: Party.WAREHOUSE, R.MISSING_ITEM: Party.WAREHOUSE,
    R.EXTRA_ITEM: Party.WAREHOUSE, R.DAMAGED_PARCEL: Party.COURIER, R.LOST_PARCEL: Party.COURIER,
    R.UNDELIVERABLE: Party.BUYER, R.WRONG_SIZE_ORDERED: Party.BUYER, R.CHANGED_MIND: Party.BUYER,
    R.ALLERGY: Party.BUYER,
}


def defaults() -> dict:
    """The shop-wide defaults (settings, overridable per call)."""
    return {
        "window_days": int(getattr(settings, "KEFU_AFTERSALES_QUALITY_WINDOW_DAYS", 3)),
        "category_return_days": int(getattr(settings, "KEFU_AFTERSALES_RETURN_DAYS", 7)),
        "keep_item_below": Decimal(str(getattr(settings, "KEFU_AFTERSALES_KEEP_ITEM_BELOW", "10.00"))),
    }


@dataclass
class Suggestion:
    reason: str
    responsible: str
    handling: list[str]  # best first; CaseType values or RETURN_EXTRA / KEEP_ITEM / NO_RETURN
    return_shipping: str  # who pays the buyer's parcel back: shop, buyer, courier or nobody
    reship_shipping: str  # who pays sending the (new) item out again
    checks: list[str] = field(default_factory=list)
    within_window: bool = True
    escalate_if_refused: bool = False  # the buyer refuses the offer → to the supervisor
    needs_escalation: bool = False  # outside the normal policy: a supervisor should see it
    price_difference: Decimal = Decimal("0.00")  # new − old price; >0 the buyer pays, <0 the shop refunds
    price_difference_direction: str = ""  # buyer_to_shop / shop_to_buyer / "" (none)
    overridden: bool = False
    override_reason: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def case_type(self) -> str | None:
        return next((h for h in self.handling if h in CaseType.values), None)


def _money(value, name: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value))
    except Exception as exc:
        raise KefuError("must be a number of yuan", field=name) from exc
    if not d.is_finite() or d < 0:
        raise KefuError("must not be negative", field=name)
    return d.quantize(Decimal("0.01"))


def policy_suggest(
    *, reason: str, responsible: str | None = None, days_since_signed: int | None = None, worn: bool = False,
    refused: bool = False, item_price=None, new_item_price=None, window_days: int | None = None,
    category_return_days: int | None = None, keep_item_below=None, override_reason: str = "",
) -> Suggestion:
    """The suggested handling of one complaint about one item (see the module doc).

    `days_since_signed` None means not signed (lost, undeliverable, refused). A non-empty
    `override_reason` lifts the windows for this case (001 took a return two years late) and marks
    the suggestion as overridden, which asks for a supervisor's eye (needs_escalation).
    """
    if reason not in R.values:
        raise KefuError(f"unknown reason {reason!r}", field="reason")
    if responsible in (None, ""):
        responsible = DEFAULT_RESPONSIBLE[reason].value
    elif responsible not in Party.values:
        raise KefuError(f"unknown party {responsible!r}", field="responsible")
    if days_since_signed is not None and (isinstance(days_since_signed, bool) or days_since_signed < 0):
        raise KefuError("must be 0 or more", field="days_since_signed")
    d = defaults()
    window = d["window_days"] if window_days is None else int(window_days)
    return_days = d["category_return_days"] if category_return_days is None else int(category_return_days)
    keep_below = d["keep_item_below"] if keep_item_below is None else _money(keep_item_below, "keep_item_below")
    price = _money(item_price, "item_price")
    new_price = _money(new_item_price, "new_item_price")
    override_reason = (override_reason or "").strip()[:500]
    overridden = bool(override_reason)
    days = days_since_signed

    def within(limit: int) -> bool:
        return overridden or days is None or days <= limit

    buyer_fault = responsible == BUYER
    s = Suggestion(reason=reason, responsible=responsible, handling=[], return_shipping=SHOP, reship_shipping=SHOP,
                   overridden=overridden, override_reason=override_reason)

    if reason == R.QUALITY:
        s.within_window = within(window) and (overridden or not worn)
        if s.within_window:
            s.handling = [CaseType.RETURN_REFUND, CaseType.EXCHANGE, CaseType.REPAIR, CaseType.COMPENSATION]
            s.notes.append("quality problem within the window, no wear: return, exchange, repair or a discount; "
                           "the shop pays the return shipping")
        else:
            s.handling = [CaseType.COMPENSATION]
            s.escalate_if_refused = True
            s.notes.append("beyond the window or worn: negotiate a compensation; escalate if the buyer refuses")
        s.checks = [VERIFY_PHOTO]
    elif reason == R.ALLERGY:
        s.within_window = within(return_days)
        s.handling = [CaseType.RETURN_REFUND, CaseType.COMPENSATION] if s.within_window else [CaseType.COMPENSATION]
        s.escalate_if_refused = True
        s.return_shipping = BUYER if buyer_fault else SHOP
        s.checks = [VERIFY_PHOTO]
    elif reason in (R.WRONG_ITEM, R.EXTRA_ITEM):
        s.checks = [VERIFY_PHOTO, VERIFY_WEIGHT]
        if reason == R.WRONG_ITEM:
            s.handling = [CaseType.EXCHANGE, CaseType.RETURN_REFUND]
            s.checks.append(DELIST_WRONG_STOCK)
        else:
            s.handling = [RETURN_EXTRA]
            s.reship_shipping = NOBODY
        s.notes.append("verify by the buyer's photo and the parcel weight before acting")
    elif reason == R.DAMAGED_PARCEL:
        if refused:
            s.handling = [CaseType.RETURN_REFUND]
            s.return_shipping, s.reship_shipping = COURIER, NOBODY
            s.notes.append("refused on delivery: a normal return")
        else:
            s.handling = [CaseType.RESHIP, CaseType.COMPENSATION, CaseType.RETURN_REFUND]
            s.checks = [VERIFY_PHOTO, COURIER_CLAIM]
    elif reason == R.MISSING_ITEM:
        s.handling = [CaseType.RESHIP, CaseType.REFUND_ONLY]
        s.return_shipping = NOBODY
        s.checks = [VERIFY_WEIGHT, COURIER_CLAIM]
        s.notes.append("signed with items missing: weight check, courier claim, else reship")
    elif reason == R.LOST_PARCEL:
        s.handling = [CaseType.RESHIP, CaseType.REFUND_ONLY]
        s.return_shipping = NOBODY
        s.checks = [COURIER_CLAIM]
    elif reason == R.UNDELIVERABLE:
        s.handling = [CaseType.RESHIP, CaseType.RETURN_REFUND]
        s.checks = [SWITCH_COURIER]
        s.return_shipping = BUYER if buyer_fault else SHOP
        s.reship_shipping = BUYER if buyer_fault else SHOP
    else:  # wrong size ordered, changed mind (七天无理由): the buyer's choice
        s.within_window = within(return_days) and (overridden or not worn)
        if s.within_window:
            s.handling = ([CaseType.EXCHANGE, CaseType.RETURN_REFUND] if reason == R.WRONG_SIZE_ORDERED
                          else [CaseType.RETURN_REFUND, CaseType.EXCHANGE])
        else:
            s.handling = [NO_RETURN]
            s.checks = [AVOID_BAD_REVIEW]
            s.escalate_if_refused = True
            s.notes.append("buyer's responsibility outside the window: no return in principle, "
                           "but handle it to avoid a bad review")
        s.return_shipping = BUYER if buyer_fault else SHOP
        s.reship_shipping = BUYER if buyer_fault else SHOP

    if reason not in (R.QUALITY, R.ALLERGY, R.WRONG_SIZE_ORDERED, R.CHANGED_MIND) and buyer_fault:
        s.return_shipping = BUYER if s.return_shipping != NOBODY else NOBODY
        s.reship_shipping = BUYER if s.reship_shipping != NOBODY else NOBODY
    if buyer_fault and reason in (R.QUALITY,):
        s.return_shipping = BUYER

    # Keep the item (refund without return) when returning it is not worth it and the shop is at fault.
    if (not buyer_fault and price is not None and keep_below is not None and price <= keep_below
            and CaseType.RETURN_REFUND in s.handling):
        s.handling = [KEEP_ITEM] + [h for h in s.handling if h != CaseType.RETURN_REFUND]
        s.return_shipping = NOBODY

    # AFT-3: the price difference of an exchange for an item of another price.
    if new_price is not None:
        if price is None:
            raise KefuError("give the old item's price to compute the difference", field="item_price")
        s.price_difference = new_price - price
        s.price_difference_direction = ("buyer_to_shop" if s.price_difference > 0
                                        else "shop_to_buyer" if s.price_difference < 0 else "")
        if CaseType.EXCHANGE not in s.handling:
            s.notes.append("an exchange is outside the usual handling for this reason")

    s.handling = [str(h) for h in s.handling]
    s.needs_escalation = overridden and not (days is None or days <= max(window, return_days))
    return s


def window_days_with_holidays(signed_on: dt.date | None, days: int,
                              holidays: list[tuple[dt.date, dt.date]]) -> int:
    """A window of `days` counted from the signing day, extended by every holiday day that falls in it
    (AFT-12). Holidays met by the extension extend it further. Returns the days from signing to the end.

    Signed 2026-09-28 with 7 days ends 10-05; the National Day week 10-01..10-07 overlaps it by 5
    days (10-01..10-05), so it ends 10-10, which meets 10-06 and 10-07 as well: it ends 10-12 (14 days).
    """
    if signed_on is None or days < 0:
        return days
    spans = sorted((a, b) for a, b in holidays if b >= a)
    end = signed_on + dt.timedelta(days=days)
    counted: set[dt.date] = set()
    changed = True
    while changed:
        changed = False
        for a, b in spans:
            day = max(a, signed_on + dt.timedelta(days=1))
            while day <= min(b, end):
                if day not in counted:
                    counted.add(day)
                    end += dt.timedelta(days=1)
                    changed = True
                day += dt.timedelta(days=1)
    return (end - signed_on).days


def labels() -> dict[str, str]:
    """Display names of handling, checks and payers (for pages)."""
    from django.utils.translation import gettext as _

    out = {str(k): str(v) for k, v in CaseType.choices}
    out.update({str(k): str(v) for k, v in Party.choices})
    out.update({
        RETURN_EXTRA: _("寄回多发商品"), KEEP_ITEM: _("退款不退货"), NO_RETURN: _("原则上不退"),
        VERIFY_PHOTO: _("买家拍照核实"), VERIFY_WEIGHT: _("核对包裹重量"), DELIST_WRONG_STOCK: _("下架/盘点错货库存"),
        COURIER_CLAIM: _("向快递索赔"), SWITCH_COURIER: _("换快递"), AVOID_BAD_REVIEW: _("安抚买家，避免中差评"),
        NOBODY: _("无"), "buyer_to_shop": _("买家补差价"), "shop_to_buyer": _("店铺退差价"),
    })
    return out

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema


class GradeRuleIn(Schema):
    grade: str = Field(..., max_length=20)
    min_spend: Decimal | None = Field(None, ge=0, description="spend ≥ this (yuan) in the window")
    min_orders: int | None = Field(None, ge=0, description="paid orders ≥ this in the window")
    match: str = Field("any", description="any (either condition) or all")
    window_days: int = Field(365, ge=1, le=3650)


class RulesIn(Schema):
    rules: list[GradeRuleIn] = Field(..., min_length=1, max_length=20, description="first matching rule wins")


class GradeRuleOut(Schema):
    position: int
    grade: str
    min_spend: Decimal | None
    min_orders: int | None
    match: str
    window_days: int


class GradeIn(Schema):
    grade: str = Field(..., max_length=20, description="one of the shop's grades; empty clears the manual grade")
    reason: str = Field("", max_length=300)


class GradeOut(Schema):
    buyer_id: str
    nick: str
    grade: str
    computed: str
    override: str
    override_reason: str
    spend: Decimal
    orders: int
    computed_at: dt.datetime | None


class RecomputeOut(Schema):
    changed: int


class PromotionIn(Schema):
    name: str = Field(..., max_length=80)
    discount_text: str = Field(..., max_length=300)
    category: str = Field("", max_length=80, description="covers every product of this category")
    product_ids: list[int] = Field(default_factory=list, max_length=200)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    active: bool = True


class PromotionPatch(Schema):
    name: str | None = Field(None, max_length=80)
    discount_text: str | None = Field(None, max_length=300)
    category: str | None = Field(None, max_length=80)
    product_ids: list[int] | None = Field(None, max_length=200)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    active: bool | None = None


class PromotionOut(Schema):
    id: int
    name: str
    discount_text: str
    category: str
    product_ids: list[int]
    starts_on: dt.date | None
    ends_on: dt.date | None
    active: bool


class PairIn(Schema):
    product_id: int
    related_id: int
    note: str = Field("", max_length=120)


class PairOut(Schema):
    id: int
    product_id: int
    related_id: int
    note: str


class RelatedOut(Schema):
    product_id: int
    title: str
    category: str
    price: Decimal | None
    why: str


class PromoHitOut(Schema):
    id: int
    name: str
    discount_text: str
    ends_on: dt.date | None
    why: str


class CrossSellOut(Schema):
    product_ids: list[int]
    related: list[RelatedOut]
    promotions: list[PromoHitOut]
    grade: str | None

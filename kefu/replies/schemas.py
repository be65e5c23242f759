import datetime as dt

from ninja import Field, Schema


class ScriptIn(Schema):
    category: str = Field(..., description="opening, bargaining, shipping_fee, payment_reminder, offline_greeting, "
                                           "closing, shipping, after_sales, apology, complaint, campaign, other")
    title: str = Field(..., max_length=80)
    body: str = Field(..., max_length=2000, description="text with variables like {买家昵称} {客服} {订单号} {运费}")
    key: str = Field("", max_length=60, description="stable key other apps render by, e.g. payment_reminder")
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    active: bool = True


class ScriptPatch(Schema):
    category: str | None = None
    title: str | None = Field(None, max_length=80)
    body: str | None = Field(None, max_length=2000)
    key: str | None = Field(None, max_length=60)
    starts_on: dt.date | None = None
    ends_on: dt.date | None = None
    active: bool | None = None
    expected_version: int | None = Field(None, description="refuse the edit if the script moved on")


class RenderIn(Schema):
    conversation_id: int | None = None
    order_id: str | None = Field(None, max_length=64, description="the shop's order id (订单编号)")
    count_use: bool = Field(False, description="count this as one use of the script")


class ScriptOut(Schema):
    id: int
    category: str
    title: str
    body: str
    key: str
    personal: bool
    starts_on: dt.date | None
    ends_on: dt.date | None
    active: bool
    usage_count: int
    version: int


class RenderOut(Schema):
    id: int
    text: str

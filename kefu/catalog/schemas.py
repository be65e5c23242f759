"""API shapes of the catalogue import and listing (IN-5)."""

import datetime as dt
from decimal import Decimal

from ninja import Field, Schema

from kefu.core.inputs import MAX_OFFSET


class CatalogRowIn(Schema):
    product_id: str = Field(..., max_length=80, description="the shop's product id (商品ID, 款式编码, Shopify handle)")
    product_title: str = Field("", max_length=200, description="宝贝标题; required on at least one row of a product")
    category: str = Field("", max_length=400, description="category path, levels split by / or > (床上用品/枕头)")
    sku: str = Field(..., max_length=80, description="the SKU code order lines and reviews use (商家编码)")
    sku_title: str = Field("", max_length=200, description="规格 (spec)")
    price: str | None = Field(None, description="decimal yuan, at most 2 decimals; blank keeps the price")
    stock: int | None = Field(None, ge=0, description="stock on hand; with a batch, that batch's quantity "
                                                       "(the SKU's stock is the sum of its batches)")
    listed: bool | str | None = Field(None, description="on sale: true/false or 在售/下架/active/draft/archived")
    batch: str = Field("", max_length=60, description="batch code (批次)")
    produced_on: dt.date | None = Field(None, description="production date of the batch")
    expires_on: dt.date | None = Field(None, description="expiry date of the batch")


class CatalogBatchIn(Schema):
    items: list[CatalogRowIn]


class CatalogCountsOut(Schema):
    created: int
    updated: int
    unchanged: int


class CatalogImportOut(Schema):
    rows: int
    categories: CatalogCountsOut
    products: CatalogCountsOut
    skus: CatalogCountsOut
    batches: CatalogCountsOut
    stock_changes: int
    listing_changes: int


class CatalogBatchOut(Schema):
    code: str
    produced_on: dt.date | None
    expires_on: dt.date | None
    quantity: int | None


class CatalogSkuOut(Schema):
    code: str
    title: str
    price: Decimal
    stock: int | None
    listed: bool
    batches: list[CatalogBatchOut]


class CatalogProductOut(Schema):
    product_id: str
    title: str
    category: str
    category_path: str
    skus: list[CatalogSkuOut]


class CatalogQuery(Schema):
    q: str = Field("", max_length=80, description="part of a product title, product id or SKU code")
    category: str = Field("", max_length=80, description="products of this category (leaf name)")
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


class CatalogCategoryOut(Schema):
    path: str
    name: str
    products: int

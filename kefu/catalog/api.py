"""The catalogue under /api/v1/: import products, SKUs, categories, batches and stock (IN-5), and read them."""

from django.conf import settings
from ninja import Query, Router

from kefu.core.api_auth import AUTH
from kefu.core.inputs import json_body, openapi_body

from . import imports
from . import selectors as sel
from .schemas import (
    CatalogBatchIn,
    CatalogCategoryOut,
    CatalogImportOut,
    CatalogProductOut,
    CatalogQuery,
    CatalogRowIn,
)

router = Router(tags=["catalog"], auth=AUTH)


@router.post("/catalog/import", response=CatalogImportOut, openapi_extra=openapi_body(CatalogRowIn, CatalogBatchIn))
def catalog_import_post(request, shop: str | None = None):
    """One row or `{"items": [...]}`, one per SKU (or per SKU and batch), upserted by the shop's product id,
    SKU code and batch code: sending the same rows twice changes nothing. Every problem is named by
    row index and field and then nothing is stored. The warehouse, supervisors and up, and integration tokens."""
    shop_obj, member = request.auth.shop_for(shop)
    raws = json_body(request, list_key="items", limit=settings.KEFU_MAX_BATCH)
    rows = imports.catalog_clean(raws, first_row=0)
    return imports.catalog_import(shop=shop_obj, rows=rows, actor=member, source="api").as_dict()


@router.get("/catalog/products", response=list[CatalogProductOut])
def catalog_products(request, q: Query[CatalogQuery], shop: str | None = None):
    """The shop's products with their SKUs and batches, by title (anyone of the shop)."""
    shop_obj, _member = request.auth.shop_for(shop)
    return sel.catalog_products(shop=shop_obj, q=q.q, category=q.category, limit=q.limit, offset=q.offset)


@router.get("/catalog/categories", response=list[CatalogCategoryOut])
def catalog_categories(request, shop: str | None = None):
    """The catalogue's categories (paths) with how many products each leaf has."""
    shop_obj, _member = request.auth.shop_for(shop)
    return sel.catalog_categories(shop=shop_obj)

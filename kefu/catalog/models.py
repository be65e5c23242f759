from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop


class Category(models.Model):
    """A product category of the shop's catalogue (IN-5), imported as a path like 女装/连衣裙.
    Products carry the leaf's name (Product.category), which the category return windows
    (aftersales.CategoryPolicy) and the category rating averages match by."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(_("类目"), max_length=80)
    path = models.CharField(_("类目路径"), max_length=400)
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")

    class Meta:
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["shop", "path"], name="category_path_once")]

    def __str__(self) -> str:
        return self.path


class Product(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    # The shop's own id of the product (商品ID / 款式编码 / Shopify Handle): catalogue imports upsert by it.
    external_id = models.CharField(_("商品ID"), max_length=80, blank=True, default="")
    title = models.CharField(_("宝贝标题"), max_length=200)
    category = models.CharField(_("类目"), max_length=80, blank=True)

    class Meta:
        ordering = ["title"]
        constraints = [models.UniqueConstraint(fields=["shop", "external_id"], condition=~models.Q(external_id=""),
                                               name="product_external_id_once")]

    def __str__(self) -> str:
        return self.title


class Sku(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="skus")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, null=True, blank=True, related_name="skus")
    code = models.CharField(_("SKU"), max_length=80)
    title = models.CharField(_("规格"), max_length=200, blank=True)
    price = models.DecimalField(_("价格"), max_digits=12, decimal_places=2, default=Decimal("0.00"))
    # Stock on hand in the warehouse; None = not tracked (SKUs first seen in an order import).
    stock = models.IntegerField(_("库存"), null=True, blank=True)
    stock_updated_at = models.DateTimeField(_("库存更新时间"), null=True, blank=True)
    listed = models.BooleanField(_("在售"), default=True)
    delisted_at = models.DateTimeField(_("下架时间"), null=True, blank=True)
    # The shop's rating of the item on the platform (1–5 stars), imported (IN-5).
    rating = models.DecimalField(_("评分"), max_digits=3, decimal_places=2, null=True, blank=True)
    rating_count = models.PositiveIntegerField(_("评价数"), default=0)
    rated_at = models.DateTimeField(_("评分时间"), null=True, blank=True)
    # The platform's average for the item's category (同行/行业平均), when the import gives it; otherwise
    # the shop's own mean of its category's SKUs is used.
    category_average = models.DecimalField(_("类目平均分（平台）"), max_digits=3, decimal_places=2, null=True,
                                           blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="sku_unique_per_shop")]

    def __str__(self) -> str:
        return self.code


class Batch(models.Model):
    """A production batch (批次) of a SKU in stock, imported with the catalogue (IN-5): a production
    alert on the batch (defects) shows its dates and quantity beside how many buyers reported a problem."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="batches")
    code = models.CharField(_("批次"), max_length=60)
    produced_on = models.DateField(_("生产日期"), null=True, blank=True)
    expires_on = models.DateField(_("有效期至"), null=True, blank=True)
    quantity = models.IntegerField(_("数量"), null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sku_id", "code"]
        constraints = [models.UniqueConstraint(fields=["sku", "code"], name="batch_once_per_sku")]

    def __str__(self) -> str:
        return f"{self.sku_id}/{self.code}"


class SkuEvent(models.Model):
    """The timeline of a SKU: stock set or adjusted, delisted, relisted, rating imported."""

    class Action(models.TextChoices):
        STOCK_SET = "stock_set", _("设置库存")
        STOCK_ADJUST = "stock_adjust", _("调整库存")
        DELIST = "delist", _("下架")
        RELIST = "relist", _("重新上架")
        RATING = "rating", _("导入评分")

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    sku = models.ForeignKey(Sku, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=Action.choices)
    actor = models.ForeignKey("core.Agent", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    note = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

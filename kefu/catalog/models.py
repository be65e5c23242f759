from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop


class Product(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="products")
    title = models.CharField(_("宝贝标题"), max_length=200)
    category = models.CharField(_("类目"), max_length=80, blank=True)

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return self.title


class Sku(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="skus")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, null=True, blank=True, related_name="skus")
    code = models.CharField(_("SKU"), max_length=80)
    title = models.CharField(_("规格"), max_length=200, blank=True)
    price = models.DecimalField(_("价格"), max_digits=12, decimal_places=2, default=Decimal("0.00"))

    class Meta:
        ordering = ["code"]
        constraints = [models.UniqueConstraint(fields=["shop", "code"], name="sku_unique_per_shop")]

    def __str__(self) -> str:
        return self.code

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Shop


class Customer(models.Model):
    """A buyer, identified by the platform's buyer id (买家会员名 / buyer nick id)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers")
    buyer_id = models.CharField(_("买家ID"), max_length=120)
    nick = models.CharField(_("昵称"), max_length=120, blank=True)
    phone = models.CharField(_("手机"), max_length=40, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    # Spam/advertising buyers are left out of every figure (SPEC §12).
    is_spam = models.BooleanField(_("广告/骚扰"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["buyer_id"]
        constraints = [models.UniqueConstraint(fields=["shop", "buyer_id"], name="customer_unique_per_shop")]

    def __str__(self) -> str:
        return self.nick or self.buyer_id

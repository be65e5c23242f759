"""The buyer (Customer) and what the shop keeps about them (CRM-1): shop-defined tags, notes and
phone notes, merges of two records of one person, and the buyer's own timeline of those changes."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.core.models import Agent, Shop

from .enums import CustomerEventKind, NoteKind, TagColor


class Customer(models.Model):
    """A buyer, identified by the platform's buyer id (买家会员名 / buyer nick id)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers")
    buyer_id = models.CharField(_("买家ID"), max_length=120)
    nick = models.CharField(_("昵称"), max_length=120, blank=True)
    phone = models.CharField(_("手机"), max_length=40, blank=True)
    address = models.CharField(_("地址"), max_length=255, blank=True)
    # Spam/advertising buyers are left out of every figure (SPEC §12).
    is_spam = models.BooleanField(_("广告/骚扰"), default=False)
    # Set when this record was merged into another one of the same person: its rows moved there and
    # its buyer id stays as an alias (new messages and orders under it go to the merged record).
    merged_into = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True,
                                    related_name="aliases")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["buyer_id"]
        constraints = [models.UniqueConstraint(fields=["shop", "buyer_id"], name="customer_unique_per_shop")]

    def __str__(self) -> str:
        return self.nick or self.buyer_id


class Tag(models.Model):
    """A shop-defined buyer tag (敏感肌, 老客户转介绍 …)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customer_tags")
    name = models.CharField(_("标签"), max_length=20)
    color = models.CharField(_("颜色"), max_length=10, choices=TagColor.choices, default=TagColor.BLUE)
    created_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="tag_name_unique_per_shop")]

    def __str__(self) -> str:
        return self.name


class CustomerTag(models.Model):
    """A tag on a buyer: who put it there and when."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="taggings")
    tag = models.ForeignKey(Tag, on_delete=models.CASCADE, related_name="taggings")
    added_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["customer", "tag"], name="customertag_once")]
        indexes = [models.Index(fields=["shop", "tag"])]


class CustomerNote(models.Model):
    """A note on the buyer, or a phone note (电话记录) of a call such as a revisit."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(_("类型"), max_length=10, choices=NoteKind.choices, default=NoteKind.NOTE)
    text = models.CharField(_("内容"), max_length=1000)
    author = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "created_at"])]


class CustomerMerge(models.Model):
    """Two records of one person made one: `source`'s rows moved to `target`. `moved` lists the ids
    of every row that moved, per model, so an undo (within UNDO_HOURS) moves exactly those back."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customer_merges")
    source = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    target = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(_("原因"), max_length=300, blank=True)
    moved = models.JSONField(default=dict)  # {"app.Model": [ids]}
    merged_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(_("合并时间"))
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    undone_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "target"]), models.Index(fields=["shop", "source"])]


class CustomerEvent(models.Model):
    """The buyer record's own timeline (tags, merges, unmasking, notes), shown on the 360 page."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE)
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=CustomerEventKind.choices)
    detail = models.CharField(max_length=300, blank=True)
    actor = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["customer", "created_at"])]

"""Customer care (PRE-8, PRE-9): grading rules and grades of buyers, promotions and related
products for cross-sell prompts."""

from decimal import Decimal

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.catalog.models import Product
from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer

from .enums import RuleMatch

ZERO = Decimal("0.00")


class GradeRule(models.Model):
    """One row of the shop's grading table, tried in `position` order; the first that matches gives
    the grade (002 §2.9, PRE-9). A row with no condition matches everyone (the catch-all)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="grade_rules")
    position = models.PositiveSmallIntegerField(_("顺序"))
    grade = models.CharField(_("等级"), max_length=20)
    min_spend = models.DecimalField(_("消费金额 ≥"), max_digits=12, decimal_places=2, null=True, blank=True)
    min_orders = models.PositiveIntegerField(_("付款订单数 ≥"), null=True, blank=True)
    match = models.CharField(_("条件关系"), max_length=3, choices=RuleMatch.choices, default=RuleMatch.ANY)
    window_days = models.PositiveSmallIntegerField(_("统计天数"), default=365)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "position"], name="graderule_position_unique")]

    def __str__(self) -> str:
        return self.grade


class CustomerGrade(models.Model):
    """A buyer's grade: computed by the rules, or set by hand (the override wins), with the figures
    the rules saw."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customer_grades")
    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="grade")
    grade = models.CharField(_("等级"), max_length=20, db_index=True)  # override or computed
    computed = models.CharField(_("规则等级"), max_length=20, blank=True)
    override = models.CharField(_("手动等级"), max_length=20, blank=True)
    override_reason = models.CharField(_("调整原因"), max_length=300, blank=True)
    override_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    override_at = models.DateTimeField(null=True, blank=True)
    spend = models.DecimalField(_("消费金额"), max_digits=14, decimal_places=2, default=ZERO)
    orders = models.PositiveIntegerField(_("付款订单数"), default=0)
    computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-spend", "id"]
        indexes = [models.Index(fields=["shop", "grade", "-spend"])]


class Promotion(models.Model):
    """A shop promotion (满减, 赠品, 第二件半价…) for some products, a category, or the whole shop."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="promotions")
    name = models.CharField(_("活动名称"), max_length=80)
    discount_text = models.CharField(_("优惠内容"), max_length=300)
    category = models.CharField(_("类目"), max_length=80, blank=True)
    products = models.ManyToManyField(Product, blank=True, related_name="promotions")
    starts_on = models.DateField(_("开始日期"), null=True, blank=True)
    ends_on = models.DateField(_("结束日期"), null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_on", "-id"]

    def __str__(self) -> str:
        return self.name


class ProductPair(models.Model):
    """A hand-made cross-sell pair (搭配推荐); it works both ways."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="product_pairs")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    related = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    note = models.CharField(_("推荐理由"), max_length=120, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["product", "related"], name="productpair_once")]

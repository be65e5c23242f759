"""Quality inspection (质检, QA-1…3), typical cases (QA-2, SCR-3) and product knowledge (SCR-4).

A review is tied to a reception's identity (agent, buyer, shop day) and a time window of the
buyer's messages, not to a Reception or Conversation row: those facts are rebuilt as messages
arrive and may be replaced, while a review must outlive that.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from kefu.catalog.models import Product
from kefu.conversations.models import Conversation, Message
from kefu.core.models import Agent, Shop
from kefu.customers.models import Customer

from .enums import AppealState, CaseKind, FlagKind, ReviewAction, ReviewState, SampleState

SCORE = {"max_digits": 6, "decimal_places": 2}

# Seed 000 (聊天记录抽查 every 2–3 days, 着重 those below the average reply rate) and platform rules
# (广告法 absolute words) as defaults; every one is a shop setting.
DEFAULT_RUDE_WORDS = ("滚,傻,蠢,有病,神经病,脑子,白痴,爱买不买,不买拉倒,烦不烦,烦死,废话,自己看,自己不会看,"
                      "不会看吗,听不懂,关我什么事,跟我没关系,你懂不懂,别烦,闭嘴,活该,无语,随便你")
DEFAULT_BANNED_WORDS = ("最好,最佳,最低,最便宜,最优,最强,最高,最大,最受欢迎,最正宗,最先进,全网最,史上最,第一,"
                        "绝对,百分百,百分之百,100%,顶级,极品,唯一,万能,永久,国家级,世界级,零风险,无敌")


class QaSettings(models.Model):
    """A shop's sampling rule, lexicons and thresholds (one row per shop, seed defaults)."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="qa_settings")
    every_days = models.PositiveSmallIntegerField(_("抽查间隔(天)"), default=2)
    per_agent = models.PositiveSmallIntegerField(_("每人抽查接待数"), default=3)
    # Extra receptions per agent (added to per_agent) for each reason the agent deserves a closer look.
    extra_below_reply_rate = models.PositiveSmallIntegerField(_("低于团队回复率加抽"), default=2)
    extra_complaints = models.PositiveSmallIntegerField(_("有投诉加抽"), default=2)
    extra_probation = models.PositiveSmallIntegerField(_("试用期加抽"), default=2)
    # Within an agent, a reception's chance of being drawn is 1 + flag_weight × its flags.
    flag_weight = models.PositiveSmallIntegerField(_("每个自动标记的抽中权重"), default=3)
    rude_words = models.TextField(_("不文明用语词库"), default=DEFAULT_RUDE_WORDS, blank=True)
    banned_words = models.TextField(_("违禁词词库"), default=DEFAULT_BANNED_WORDS, blank=True)
    anger_threshold = models.DecimalField(_("愤怒分阈值"), max_digits=5, decimal_places=2, default=5)
    min_script_uses = models.PositiveSmallIntegerField(_("话术效果最少使用次数"), default=20)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"QA settings {self.shop_id}"

    @staticmethod
    def words(text: str) -> list[str]:
        return [w.strip() for w in (text or "").replace("，", ",").replace("\n", ",").split(",") if w.strip()]


class QaCategory(models.Model):
    """One item of the shop's rubric (礼貌用语, 专业准确 …): weight, scale and whether it is critical
    (auto-fail: below 50 % the whole review scores 0, SPEC §12)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="qa_categories")
    name = models.CharField(_("名称"), max_length=40)
    description = models.CharField(_("说明"), max_length=300, blank=True)
    weight = models.PositiveSmallIntegerField(_("权重"), default=1)
    scale_min = models.SmallIntegerField(_("最低分"), default=0)
    scale_max = models.SmallIntegerField(_("最高分"), default=5)
    critical = models.BooleanField(_("否决项"), default=False)
    position = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "name"], name="qa_category_unique_name")]

    def __str__(self) -> str:
        return self.name


class QaSample(models.Model):
    """A reception drawn for review: never the same (agent, buyer, day) twice in a shop."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    day = models.DateField(_("接待日"))
    reviewer = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    round_day = models.DateField(_("抽查日"))
    weight = models.PositiveSmallIntegerField(_("抽中权重"), default=1)
    reasons = models.CharField(_("加抽原因"), max_length=200, blank=True)
    state = models.CharField(_("状态"), max_length=10, choices=SampleState.choices, default=SampleState.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-round_day", "agent_id", "day", "id"]
        constraints = [models.UniqueConstraint(fields=["shop", "agent", "customer", "day"], name="qa_sample_once")]
        indexes = [models.Index(fields=["shop", "reviewer", "state"])]


class QaReview(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    reviewer = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    sample = models.ForeignKey(QaSample, on_delete=models.SET_NULL, null=True, blank=True, related_name="reviews")
    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    # The messages reviewed: the buyer's messages with this agent in [window_start, window_end].
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    # A second reviewer's review of the same chat, for calibration; it never counts in figures.
    calibration_of = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True,
                                       related_name="calibrations")
    state = models.CharField(_("状态"), max_length=14, choices=ReviewState.choices, default=ReviewState.DRAFT)
    score = models.DecimalField(_("得分"), null=True, blank=True, **SCORE)
    auto_failed = models.BooleanField(_("否决"), default=False)
    summary = models.CharField(_("总评"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    submitted_day = models.DateField(null=True, blank=True)  # shop day of submission: the figures' day
    acknowledged_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "agent", "submitted_day"]),
                   models.Index(fields=["shop", "reviewer", "state"])]


class QaScore(models.Model):
    """The chosen value of one rubric item in a review (the item's scale and weight are copied so an
    edited rubric never changes a submitted score)."""

    review = models.ForeignKey(QaReview, on_delete=models.CASCADE, related_name="scores")
    category = models.ForeignKey(QaCategory, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    name = models.CharField(max_length=40)
    weight = models.PositiveSmallIntegerField()
    scale_min = models.SmallIntegerField()
    scale_max = models.SmallIntegerField()
    critical = models.BooleanField(default=False)
    chosen = models.SmallIntegerField(_("分值"))
    comment = models.CharField(_("评语"), max_length=1000, blank=True)
    message = models.ForeignKey(Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")

    class Meta:
        ordering = ["id"]


class QaAppeal(models.Model):
    """The agent's appeal (申诉) of a review, decided once by someone other than the reviewer."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    review = models.OneToOneField(QaReview, on_delete=models.CASCADE, related_name="appeal")
    reason = models.CharField(_("申诉理由"), max_length=1000)
    state = models.CharField(_("状态"), max_length=10, choices=AppealState.choices, default=AppealState.OPEN)
    score_before = models.DecimalField(null=True, blank=True, **SCORE)
    decided_by = models.ForeignKey(Agent, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(_("裁定说明"), max_length=1000, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)


class QaEvent(models.Model):
    """The review's timeline: created, submitted, acknowledged, appealed, decided."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    review = models.ForeignKey(QaReview, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=20, choices=ReviewAction.choices)
    actor = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    note = models.CharField(max_length=1000, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]


class ConversationFlag(models.Model):
    """An automatic flag (QA-3) on one message; recomputed with the buyer's conversations."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="flags")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    kind = models.CharField(_("标记"), max_length=12, choices=FlagKind.choices)
    detail = models.CharField(_("说明"), max_length=200, blank=True)
    at = models.DateTimeField()
    day = models.DateField()  # shop day of the message
    followup = models.ForeignKey("followups.FollowUp", on_delete=models.SET_NULL, null=True, blank=True,
                                 related_name="+")

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.UniqueConstraint(fields=["message", "kind"], name="qa_flag_once_per_message")]
        indexes = [models.Index(fields=["shop", "kind", "day"]), models.Index(fields=["shop", "agent", "day"])]


class TypicalCase(models.Model):
    """A good or bad conversation marked for the weekly case sharing (QA-2, seed 000 分享会)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(_("类型"), max_length=4, choices=CaseKind.choices)
    agent = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    review = models.ForeignKey(QaReview, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    window_start = models.DateTimeField()
    window_end = models.DateTimeField()
    title = models.CharField(_("标题"), max_length=80)
    note = models.TextField(_("点评"), max_length=2000)
    marked_by = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    week = models.DateField(_("周"))  # Monday of the shop week it was marked in
    script = models.ForeignKey("replies.Script", on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-week", "-created_at", "-id"]
        indexes = [models.Index(fields=["shop", "week"])]


class ProductKnowledge(models.Model):
    """What an agent must know to answer about a product (SCR-4, seed 000 尺寸/面料/合身)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    product = models.OneToOneField(Product, on_delete=models.CASCADE, related_name="knowledge")
    sizes = models.TextField(_("尺码"), blank=True)
    fabric = models.CharField(_("面料"), max_length=300, blank=True)
    model_measurements = models.CharField(_("模特尺寸"), max_length=300, blank=True)
    care = models.TextField(_("洗护"), blank=True)
    fit_advice = models.TextField(_("合身建议"), blank=True)
    keywords = models.CharField(_("关键词"), max_length=300, blank=True)
    # One text of every field, what the Chinese search (FTS5 trigram / pg_trgm) reads.
    search_text = models.TextField(blank=True)
    version = models.PositiveIntegerField(default=1)
    updated_by = models.ForeignKey(Agent, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product_id"]


class KnowledgeFault(models.Model):
    """A complaint caused by wrong product knowledge, traced to the agent (seed 000 遇一罚一).
    The people ledger reads these through selectors.knowledge_faults."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+")
    complaint = models.OneToOneField("complaints.Complaint", on_delete=models.CASCADE, related_name="knowledge_fault")
    agent = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey(Product, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    day = models.DateField(_("日期"))
    note = models.CharField(_("说明"), max_length=500, blank=True)
    recorded_by = models.ForeignKey(Agent, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-day", "-id"]
        indexes = [models.Index(fields=["shop", "agent", "day"])]

"""Choices and error codes of the buyer record (CRM-1)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TagColor(models.TextChoices):
    """Bootstrap/Tabler badge colours a tag is shown in."""

    BLUE = "blue", _("蓝")
    GREEN = "green", _("绿")
    YELLOW = "yellow", _("黄")
    RED = "red", _("红")
    PURPLE = "purple", _("紫")
    GRAY = "gray", _("灰")


class NoteKind(models.TextChoices):
    NOTE = "note", _("备注")
    PHONE = "phone", _("电话记录")


class CustomerEventKind(models.TextChoices):
    TAG_ADD = "tag_add", _("添加标签")
    TAG_REMOVE = "tag_remove", _("移除标签")
    NOTE = "note", _("备注")
    MERGE = "merge", _("合并")
    UNMERGE = "unmerge", _("撤销合并")
    UNMASK = "unmask", _("查看联系方式")


class CustomerErrorCode(models.TextChoices):
    UNKNOWN_TAG = "unknown_tag", "no such tag in this shop"
    TAG_EXISTS = "tag_exists", "a tag of that name exists"
    MERGE_SAME = "merge_same", "a record cannot be merged into itself"
    MERGED = "merged", "the record was merged into another one"
    MERGE_SPAM = "merge_spam_mismatch", "one record is flagged as spam and the other is not"
    UNDO_EXPIRED = "undo_expired", "the merge is older than the undo window"
    UNDO_ORDER = "undo_order", "a later merge of these records must be undone first"
    ALREADY_DONE = "already_done", "already undone"
    TOO_MANY = "too_many", "too many buyers in one request"

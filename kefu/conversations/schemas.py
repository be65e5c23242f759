from datetime import datetime

from ninja import Schema


class MessageIn(Schema):
    message_id: str | int
    channel: str | None = None
    buyer_id: str | int
    buyer_nick: str | None = None
    agent_id: str | int | None = None
    sender: str
    sent_at: str
    text: str | None = None
    order_id: str | int | None = None


class MessageBatchIn(Schema):
    messages: list[MessageIn]


class IngestOut(Schema):
    created: int
    duplicates: int
    updated: int = 0


class MessageOut(Schema):
    message_id: str
    channel: str
    sender: str
    agent: str | None
    sent_at: datetime
    text: str
    order_id: str


class ConversationOut(Schema):
    id: int
    buyer_id: str
    buyer_nick: str
    agent: str | None
    assignee_id: int | None = None
    assignee: str | None = None
    group: str = ""
    queued: bool = False
    queue_reason: str = ""
    closed_at: datetime | None = None
    merged_into_id: int | None = None
    started_at: datetime
    ended_at: datetime
    message_count: int
    waiting: bool


class ConversationEventOut(Schema):
    kind: str
    from_agent: str | None
    to_agent: str | None
    by: str
    reason: str
    at: datetime


class NoteOut(Schema):
    id: int
    author: str
    text: str
    created_at: datetime


class OutboundBrief(Schema):
    id: int
    kind: str
    text: str
    state: str
    created_at: datetime


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]
    events: list[ConversationEventOut] = []
    # Internal notes: only for a person of the shop (a token, e.g. a platform connector, gets none).
    notes: list[NoteOut] | None = None
    outbound: list[OutboundBrief] = []


class TransferIn(Schema):
    to_agent_id: int
    reason: str | None = None


class ConversationNoteIn(Schema):
    text: str


class MergeIn(Schema):
    target_id: int


class ReplyIn(Schema):
    text: str
    key: str | None = None


class ReplyOut(Schema):
    id: int
    state: str
    created: bool


class SavedViewIn(Schema):
    name: str
    params: dict = {}


class SavedViewOut(Schema):
    id: int | None
    key: str
    name: str
    params: dict
    builtin: bool


class RoutingSettingsIn(Schema):
    default_cap: int | None = None
    sticky: bool | None = None
    offline_greeting: str | None = None
    aftersales_words: str | None = None


class RoutingSettingsOut(Schema):
    default_cap: int
    sticky: bool
    offline_greeting: str
    aftersales_words: str


class CapIn(Schema):
    cap: int | None = None


class Empty(Schema):
    pass

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
    started_at: datetime
    ended_at: datetime
    message_count: int
    waiting: bool


class ConversationDetailOut(ConversationOut):
    messages: list[MessageOut]

"""The opinions lexicon (AFT-8): hand-written buyer sentences with the aspect and polarity expected."""

import datetime as dt

import pytest

from kefu.conversations.services import messages_clean, messages_ingest
from kefu.defects import selectors as sel
from kefu.defects import services
from kefu.defects.opinions import classify, summarise

from .conftest import SH, open_case

CASES = [
    ("衣服偏大，要换小一码", [("size", "negative")]),
    ("尺码标准，大小合适", [("size", "positive")]),
    ("穿着不合身", [("size", "negative")]),
    ("一点也不偏小", [("size", "positive")]),
    ("洗了一次就掉色了", [("colour", "negative")]),
    ("颜色没有色差，很正", [("colour", "positive")]),
    ("不掉色", [("colour", "positive")]),
    ("实物有色差", [("colour", "negative")]),
    ("颜色和图片不一样", [("colour", "negative")]),
    ("版型很好，显瘦", [("style", "positive")]),
    ("款式老气", [("style", "negative")]),
    ("不太好看", [("style", "negative")]),
    ("一点也不显胖", [("style", "positive")]),
    ("袖口开线了，还有线头", [("quality", "negative")]),
    ("质量不错", [("quality", "positive")]),
    ("收到就开线了，尺码也偏小", [("quality", "negative"), ("size", "negative")]),
    ("版型不错但是掉色，而且偏大", [("style", "positive"), ("colour", "negative"), ("size", "negative")]),
    ("好的谢谢亲", []),
    ("", []),
    ("尺码偏大。尺码标准的话就好了", [("size", "negative")]),  # one per aspect: the first word wins
]


@pytest.mark.parametrize("text,expected", CASES)
def test_classify(text, expected):
    got = [(m.aspect, m.polarity) for m in classify(text)]
    assert sorted(got) == sorted(expected)


def test_quote_is_the_clause():
    [m] = classify("你好。这件衣服掉色严重！谢谢")
    assert m.quote == "这件衣服掉色严重" and m.term == "掉色"


def test_summarise_counts_and_examples():
    out = {s.aspect: s for s in summarise([("a", "偏大"), ("b", "偏小"), ("c", "尺码标准"), ("d", "掉色")])}
    assert (out["size"].negative, out["size"].positive) == (2, 1)
    assert [e["quote"] for e in out["size"].examples] == ["偏大", "偏小", "尺码标准"]  # negative first
    assert (out["colour"].negative, out["style"].total, out["quality"].total) == (1, 0, 0)


@pytest.mark.django_db
def test_alert_opinions_read_case_notes_and_the_buyers_messages_near_the_case(shop, manager):
    t = dt.datetime(2026, 11, 10, 12, tzinfo=SH)
    for i in range(3):
        open_case(shop, t + dt.timedelta(days=i), buyer=f"b{i}", note="开线" if i == 0 else "")
    rows = [{"message_id": "m1", "buyer_id": "b1", "agent_id": "a1", "sender": "buyer", "text": "衣服偏小，还掉色",
             "sent_at": "2026-11-11T13:00:00"},
            {"message_id": "m2", "buyer_id": "b2", "agent_id": "a1", "sender": "buyer", "text": "版型很好",
             "sent_at": "2026-11-12T13:00:00"},
            {"message_id": "m3", "buyer_id": "b2", "agent_id": "a1", "sender": "agent", "text": "亲，偏大的话可以换",
             "sent_at": "2026-11-12T13:01:00"},
            {"message_id": "m4", "buyer_id": "b2", "agent_id": "a1", "sender": "buyer", "text": "去年买的也偏大",
             "sent_at": "2026-01-01T13:00:00"}]
    messages_ingest(shop=shop, rows=messages_clean(rows, tz=shop.tz))
    alert = services.alerts_scan(shop=shop, now=t + dt.timedelta(days=5)).raised[0]
    alert = sel.alert_get_for_user(shop=shop, member=manager, id=alert.pk)
    out = {s.aspect: s for s in sel.alert_opinions(shop=shop, alert=alert)}
    # agent's message and the old message are not read
    assert (out["size"].negative, out["size"].positive) == (1, 0)
    assert out["colour"].negative == 1 and out["style"].positive == 1 and out["quality"].negative == 1
    assert {e["source"] for e in out["size"].examples} == {"买家b1"}

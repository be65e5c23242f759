"""The flag detectors' fast paths give what the plain scans give.

The drain re-flags every message of a rebuilt buyer, so the detectors skip work: the sentiment
scan tries only the term lengths that start with the character at hand, and one regular
expression tells whether any anger term, anger cue or listed rude/banned word is in a text at
all before the per-word loops run. Here the results are compared with the plain scans (every
length at every position, every word tested) on generated texts and on the real chats of
../shared/data.
"""

import datetime as dt
import re
import zoneinfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from kefu.complaints import sentiment as S
from kefu.core.timeutil import ServiceHours
from kefu.quality import flags as Q
from kefu.quality.models import DEFAULT_BANNED_WORDS, DEFAULT_RUDE_WORDS, QaSettings
from tests.conftest import shared_data

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")
MAXLEN = max(len(t) for t in S._LEXICON)


def plain_scan(text: str) -> list:
    """Longest match at each position over every length (the scan as first written)."""
    hits, i, n = [], 0, len(text)
    while i < n:
        for size in range(min(MAXLEN, n - i), 0, -1):
            entry = S._LEXICON.get(text[i:i + size])
            if entry is not None:
                hits.append((i, text[i:i + size], *entry))
                i += size
                break
        else:
            i += 1
    return hits


def plain_analyse(text: str, monkeypatch) -> S.Sentiment:
    with monkeypatch.context() as m:
        m.setattr(S, "_scan", plain_scan)
        m.setattr(S, "_ANGER_ANY", re.compile(""))  # always "some term may be there": every term tested
        return S.analyse(text)


def spec(rude=DEFAULT_RUDE_WORDS, banned=DEFAULT_BANNED_WORDS) -> Q.FlagSpec:
    return Q.FlagSpec(rude=QaSettings.words(rude), banned=QaSettings.words(banned), anger_threshold=5.0,
                      slow_seconds=180, hours=ServiceHours({}, TZ), tz=TZ)


def plain_hits(m, sp: Q.FlagSpec) -> list:
    """message_hits with every listed word and cue tested one by one."""
    t = Q._norm(m.text)
    out = []
    if m.sender == Q.BUYER:
        s = S.analyse(t)
        if (s.anger >= sp.anger_threshold and s.score > 0) or any(c in t for c in Q.ANGER_CUES):
            out.append(("anger", f"{s.anger:.1f}"))
    elif m.sender == Q.AGENT:
        low = t.lower()
        for kind, exc, words in (("rude", Q.RUDE_EXCEPTIONS, sp.rude), ("banned", Q.BANNED_EXCEPTIONS, sp.banned)):
            blanked = exc.sub("　", low)
            got = [w for w in words if w.lower() in blanked]
            if got:
                out.append((kind, ",".join(got)))
        if Q.promise_hits(m.text):
            out.append(("promise", ",".join(Q.promise_hits(m.text))))
    return out


class Msg:
    def __init__(self, sender, text):
        self.sender, self.text, self.sent_at = sender, text, dt.datetime(2026, 10, 3, 2, tzinfo=dt.UTC)


def fast_hits(m, sp) -> list:
    return [(str(h.kind), h.detail) for h in Q.message_hits(m, sp)]


# Texts made of lexicon terms, negations, intensifiers, contrast words, cues, listed words and
# other characters, so that terms overlap, nest and sit at the ends.
PIECES = sorted({*S._LEXICON, *S.ANGER, *S.NEGATIONS, *S.INTENSIFIERS, *S.CONTRASTS, *Q.ANGER_CUES,
                 *QaSettings.words(DEFAULT_RUDE_WORDS), *QaSettings.words(DEFAULT_BANNED_WORDS),
                 "的", "了", "吗", "？", "！", "，", "。", " ", "A", "x", "最近", "滚动", "稍后联系您"})
texts = st.lists(st.one_of(st.sampled_from(PIECES), st.text(max_size=3)), max_size=14).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts)
def test_scan_and_analyse_equal_the_plain_scan(text):
    assert S._scan(text) == plain_scan(text)
    with pytest.MonkeyPatch.context() as mp:
        assert S.analyse(text) == plain_analyse(text, mp)


@settings(max_examples=300, deadline=None)
@given(texts, st.sampled_from([Q.BUYER, Q.AGENT]),
       st.sampled_from([(DEFAULT_RUDE_WORDS, DEFAULT_BANNED_WORDS), ("", ""), ("滚,Ｘ坏,a　b", "最,第一,OK")]))
@example("A滚动b", Q.AGENT, ("Ｘ坏,a　b", "最"))  # the blanked 滚动 joins a and b: no shortcut for such a word
def test_message_hits_equal_the_word_by_word_tests(text, sender, words):
    sp = spec(*words)
    m = Msg(sender, text)
    assert fast_hits(m, sp) == plain_hits(m, sp)


def test_real_chats_flag_as_word_by_word():
    sp = spec()
    n = 0
    for line in shared_data("jddc_chat_sample", "chat_0.1per.txt").read_text(encoding="utf-8").splitlines():
        f = line.split("\t")
        if len(f) < 7:
            continue
        m = Msg(Q.AGENT if f[2] == "1" else Q.BUYER, "\t".join(f[6:]))
        assert fast_hits(m, sp) == plain_hits(m, sp), m.text
        with pytest.MonkeyPatch.context() as mp:
            assert S.analyse(m.text) == plain_analyse(m.text, mp), m.text
        n += 1
    assert n > 10000

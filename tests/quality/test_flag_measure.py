"""QA-3 flags measured on hand-checked labels of real chats (tests/quality/flag_labels.json: ids into
../shared/data jddc_chat_sample and taobao_ecd_sample, rules in the file). The thresholds are the
precision/recall measured when the labels were made (README "Automatic flags") minus a margin, so a
detector change that loses accuracy fails here."""

import datetime as dt
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from kefu.core.timeutil import ServiceHours, zone
from kefu.quality.flags import (
    FlagSpec,
    banned_hits,
    conversation_flags,
    is_angry,
    promise_hits,
    rude_hits,
)
from kefu.quality.models import DEFAULT_BANNED_WORDS, DEFAULT_RUDE_WORDS, QaSettings
from tests.conftest import shared_data

LABELS = json.loads((Path(__file__).parent / "flag_labels.json").read_text(encoding="utf-8"))
RUDE, BANNED = QaSettings.words(DEFAULT_RUDE_WORDS), QaSettings.words(DEFAULT_BANNED_WORDS)
MARGIN = 0.05
# Measured on the labels (README "Automatic flags"): (precision, recall).
MEASURED = {"promise": (0.92, 0.81), "banned": (1.0, 0.8), "anger": (0.61, 0.81), "unanswered": (0.55, 1.0)}


def load_texts() -> tuple[dict[str, str], dict[str, list]]:
    texts, sessions = {}, {}
    for line in shared_data("jddc_chat_sample", "chat_0.1per.txt").read_text(encoding="utf-8").splitlines():
        f = line.split("\t")
        if len(f) < 7:
            continue
        rows = sessions.setdefault(f[0], [])
        texts[f"jddc:{f[0]}:{len(rows)}"] = "\t".join(f[6:])
        rows.append(("agent" if f[2] == "1" else "buyer", "\t".join(f[6:])))
    for name in ("valid", "test"):
        path = shared_data("taobao_ecd_sample", f"ecd_sample_{name}.txt")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            f = line.split("\t")
            if f[0] == "1":
                for k, t in enumerate(f[1:]):
                    texts[f"ecd:{name}:{n}:{k}"] = t
    return texts, sessions


def detect(kind: str, text: str) -> bool:
    if kind == "promise":
        return bool(promise_hits(text))
    if kind == "banned":
        return bool(banned_hits(text, BANNED))
    if kind == "rude":
        return bool(rude_hits(text, RUDE))
    return is_angry(text)[0]


def pr(pairs) -> tuple[float | None, float | None, int, int, int]:
    tp = sum(1 for label, got in pairs if label and got)
    fp = sum(1 for label, got in pairs if not label and got)
    fn = sum(1 for label, got in pairs if label and not got)
    return (tp / (tp + fp) if tp + fp else None, tp / (tp + fn) if tp + fn else None, tp, fp, fn)


def measure() -> dict:
    texts, sessions = load_texts()
    out = {}
    for kind in ("promise", "banned", "rude", "anger"):
        rows = [m for m in LABELS["messages"] if kind in m]
        out[kind] = pr([(m[kind], detect(kind, texts[m["id"]])) for m in rows])
    spec = FlagSpec(rude=RUDE, banned=BANNED, anger_threshold=5, slow_seconds=10 ** 9,
                    hours=ServiceHours({}, zone("Asia/Shanghai")), tz=zone("Asia/Shanghai"))
    t0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    pairs = []
    for s in LABELS["sessions"]:
        rows = sessions[s["id"].split(":", 1)[1]]
        msgs = [SimpleNamespace(id=i, sender=role, text=text, sent_at=t0 + dt.timedelta(seconds=30 * i))
                for i, (role, text) in enumerate(rows)]
        flagged = any(h.kind == "unanswered" for _, h in conversation_flags(msgs, spec))
        pairs.append((s["needs_reply"], flagged))
    out["unanswered"] = pr(pairs)
    return out


def test_flags_against_the_labelled_set():
    got = measure()
    print({k: v for k, v in got.items()})
    for kind, (precision, recall) in MEASURED.items():
        p, r, *_ = got[kind]
        assert p is not None and p >= precision - MARGIN, (kind, got[kind])
        assert r is not None and r >= recall - MARGIN, (kind, got[kind])
    # No agent message of the two data sets is rude; the lexicon must not fire on them either.
    assert got["rude"][2:] == (0, 0, 0), got["rude"]


@pytest.mark.parametrize("text,kind,expected", [
    ("滚，爱买不买", "rude", True), ("祝您财源滚滚", "rude", False), ("你自己不会看吗", "rude", True),
    ("亲，这是全网最低价，绝对正品", "banned", True), ("最近比较忙，最晚明天发", "banned", False),
    ("我核实一下，稍后回复您", "promise", True), ("给您补发一件，运费我们承担", "promise", True),
    ("您好，请问有什么可以帮您", "promise", False),
    ("什么破服务！！骗子！我要投诉你们！", "anger", True), ("请问什么时候发货", "anger", False),
])
def test_detectors_on_plain_examples(text, kind, expected):
    assert detect(kind, text) is expected

"""The fast paths of parse_moment and parse_money (issue 11, item 3: the import's per-row cost) read
exactly what the slow ones read, and refuse exactly what they refuse (hypothesis)."""

import datetime as dt
import zoneinfo
from decimal import Decimal, InvalidOperation

from hypothesis import given, settings
from hypothesis import strategies as st

from kefu.core.errors import KefuError
from kefu.core.timeutil import _FORMATS, check_year, parse_moment
from kefu.orders.services import parse_money

TZ = zoneinfo.ZoneInfo("Asia/Shanghai")


def moment_by_strptime(text: str):
    """parse_moment before the fast path: fromisoformat, then each format with strptime."""
    text = text.strip()
    if not text:
        raise ValueError("empty time")
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        moment = None
        for fmt in _FORMATS:
            try:
                moment = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
    if moment is None:
        raise ValueError(f"not a date/time: {text!r}")
    check_year(moment)
    return (moment if moment.tzinfo else moment.replace(tzinfo=TZ)).astimezone(dt.UTC)


def outcome(fn, text):
    try:
        return fn(text)
    except (ValueError, KefuError) as exc:
        return ("refused", str(exc))


digits = st.text(alphabet="0123456789", min_size=1, max_size=5)
sep = st.sampled_from(["-", "/", "-", "/", ".", ""])
times = st.tuples(st.sampled_from([" ", "  ", "T", ""]), digits, st.sampled_from([":", ""]), digits,
                  st.sampled_from(["", ":"]), st.sampled_from(["", "0", "59", "60", "7"]))


@settings(max_examples=600, deadline=None)
@given(st.tuples(st.sampled_from(["2020", "2026", "1999", "0001", "9999", "20201"]), sep, digits, sep, digits,
                 st.one_of(st.just(None), times)))
def test_parse_moment_fast_path_agrees_with_strptime(parts):
    y, s1, mo, s2, d, t = parts
    text = f"{y}{s1}{mo}{s2}{d}" + ("".join(t) if t else "")
    assert outcome(lambda v: parse_moment(v, TZ), text) == outcome(moment_by_strptime, text)


def test_parse_moment_examples():
    assert parse_moment("2020/2/21 0:00", TZ) == dt.datetime(2020, 2, 20, 16, 0, tzinfo=dt.UTC)
    assert parse_moment("2020/2/21", TZ) == dt.datetime(2020, 2, 20, 16, 0, tzinfo=dt.UTC)
    assert outcome(lambda v: parse_moment(v, TZ), "2020/13/21 0:00") == ("refused", "not a date/time: '2020/13/21 0:00'")
    assert outcome(lambda v: parse_moment(v, TZ), "2020-2/21") == ("refused", "not a date/time: '2020-2/21'")


def money_by_quantize(text: str):
    """parse_money's rule written plainly: 2 decimals at most, 0 <= amount < 10^10."""
    t = text.replace("\x00", "").strip().replace(",", "").replace("¥", "").replace("￥", "")
    if not t:
        return Decimal("0.00")
    try:
        a = Decimal(t)
    except InvalidOperation:
        return "refused"
    if not a.is_finite() or a < 0 or a >= Decimal("1e10") or a != a.quantize(Decimal("0.01")):
        return "refused"
    return a.quantize(Decimal("0.01"))


@settings(max_examples=600, deadline=None)
@given(st.text(alphabet="0123456789.,-eE¥ +", max_size=14))
def test_parse_money_fast_path_agrees(text):
    got = outcome(lambda v: parse_money(v, "paid_amount"), text)
    want = money_by_quantize(text)
    if want == "refused":
        assert got[0] == "refused"
    else:
        assert got == want and str(got) == str(want)

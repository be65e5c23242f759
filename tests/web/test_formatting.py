"""Figures read the same on every page: response times as 千牛 shows them, money as ¥1,187.00."""

import re
from decimal import Decimal

from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from kefu.web.formatting import duration_text
from kefu.web.templatetags.kefu_web import secs, yuan

UNITS_ZH = {"秒": 1, "分": 60, "分钟": 60, "小时": 3600, "天": 86400}
UNITS_EN = {"s": 1, "min": 60, "h": 3600, "d": 86400}


def _parse(text: str, units: dict) -> int:
    sign = -1 if text.startswith("-") else 1
    pairs = re.findall(r"(\d+) (\S+)", text.lstrip("-"))
    assert pairs and " ".join(f"{n} {u}" for n, u in pairs) == text.lstrip("-"), text
    return sign * sum(int(n) * units[u] for n, u in pairs)


def test_examples_in_both_languages():
    with translation.override("zh-hans"):
        assert [duration_text(s) for s in (0, 44, 192, 300, 3600 + 300, 7200, 86400 * 3 + 3600 * 4, -192)] == [
            "0 秒", "44 秒", "3 分 12 秒", "5 分钟", "1 小时 5 分", "2 小时", "3 天 4 小时", "-3 分 12 秒"]
        assert secs(None) == "—" and secs(43.6) == "44 秒"
    with translation.override("en"):
        assert [duration_text(s) for s in (44, 192, 300, 3900, 86400)] == ["44 s", "3 min 12 s", "5 min", "1 h 5 min", "1 d"]


@given(st.integers(min_value=-10**7, max_value=10**7))
def test_reads_back_to_the_seconds_within_the_smallest_unit_shown(seconds):
    for lang, units in (("zh-hans", UNITS_ZH), ("en", UNITS_EN)):
        with translation.override(lang):
            text = duration_text(seconds)
        back = _parse(text, units)
        step = 1 if abs(seconds) < 3600 else 60 if abs(seconds) < 86400 else 3600
        # Exact under an hour (the response times agents are judged on); truncated, never rounded up, above.
        assert abs(seconds) - step < abs(back) <= abs(seconds) and (back < 0) == (seconds < 0 and back != 0)


def test_money_has_the_yuan_sign_thousands_and_two_decimals():
    assert yuan(Decimal("1187")) == "¥1,187.00"
    assert yuan("59.9000000000000") == "¥59.90"
    assert yuan(1902487.15000001) == "¥1,902,487.15"
    assert yuan(None) == "—"

"""Forms of the shop settings page: the §12 settings, service hours as a weekly grid, score weights."""

import re

from django import forms
from django.utils.translation import gettext_lazy as _

from kefu.core.enums import AttributionBasis
from kefu.core.timeutil import parse_day
from kefu.metrics.kpi import SCORE_COMPONENTS
from kefu.metrics.targets import RATE_TARGETS, TARGETS

WEEKDAYS = [_("周一"), _("周二"), _("周三"), _("周四"), _("周五"), _("周六"), _("周日")]
NUMBER_FIELDS = {
    "attribution_window_days": (_("归因窗口(天)"), 1, 30),
    "slow_turn_seconds": (_("慢响应阈值(秒)"), 1, 86400),
    "aftersales_lookback_days": (_("售后回看(天)"), 0, 365),
    "takeback_days": (_("退款冲减期(天)"), 0, 365),
    "conversation_gap_minutes": (_("会话间隔(分钟)"), 1, 1440),
    "payment_reminder_minutes": (_("催付时间(分钟)"), 1, 1440),
}
_RANGE = re.compile(r"^\s*(\d{1,2}:\d{2})\s*[-–~]\s*(\d{1,2}:\d{2})\s*$")


def hours_text(intervals) -> str:
    return ", ".join(f"{a}-{b}" for a, b in intervals or [])


class ShopSettingsForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=120)
    timezone = forms.CharField(label=_("时区"), max_length=64)
    attribution_basis = forms.ChoiceField(label=_("归因基准"), choices=AttributionBasis.choices)
    holidays = forms.CharField(label=_("节假日(每行一个日期)"), required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, shop, **kwargs):
        weekly = (shop.service_hours or {}).get("weekly")
        initial = {"name": shop.name, "timezone": shop.timezone, "attribution_basis": shop.attribution_basis,
                   "holidays": "\n".join((shop.service_hours or {}).get("holidays") or [])}
        super().__init__(*args, initial=initial, **kwargs)
        for key, (label, lo, hi) in NUMBER_FIELDS.items():
            self.fields[key] = forms.IntegerField(label=label, min_value=lo, max_value=hi, initial=getattr(shop, key))
        for i, day in enumerate(WEEKDAYS):
            # Empty service hours mean 24 h every day; a day left blank in a grid means closed.
            value = "00:00-24:00" if not weekly else hours_text(weekly.get(str(i)))
            self.fields[f"day_{i}"] = forms.CharField(label=day, required=False, initial=value,
                                                      help_text=_("如 09:00-12:00, 13:30-18:00；留空 = 休息"))
        weights = shop.score_weights or {}
        for comp in SCORE_COMPONENTS:
            self.fields[f"w_{comp}"] = forms.DecimalField(min_value=0, max_digits=6, decimal_places=2, required=False,
                                                          initial=weights.get(comp, 0))

        targets = shop.kpi_targets or {}
        for key in TARGETS:
            # Rates are typed as percentages (95 = 95 %), stored as fractions like the report's.
            value = targets.get(key)
            if value is not None and key in RATE_TARGETS:
                value = round(value * 100, 2)
            self.fields[f"t_{key}"] = forms.DecimalField(
                min_value=0, max_value=100 if key in RATE_TARGETS else None, max_digits=12, decimal_places=2,
                required=False, initial=value)

    def target_fields(self):
        return [(key, key in RATE_TARGETS, TARGETS[key], self[f"t_{key}"]) for key in TARGETS]

    def day_fields(self):
        return [self[f"day_{i}"] for i in range(7)]

    def number_fields(self):
        return [self[k] for k in NUMBER_FIELDS]

    def weight_fields(self):
        return [(comp, self[f"w_{comp}"]) for comp in SCORE_COMPONENTS]

    def clean(self):
        data = super().clean()
        weekly = {}
        for i in range(7):
            raw = (data.get(f"day_{i}") or "").strip()
            intervals = []
            for part in filter(None, (p.strip() for p in re.split(r"[,，;；]", raw))):
                m = _RANGE.match(part)
                if not m:
                    self.add_error(f"day_{i}", _("格式应为 09:00-18:00"))
                    break
                intervals.append([m.group(1).zfill(5), m.group(2).zfill(5)])
            weekly[str(i)] = intervals
        holidays = []
        for line in (data.get("holidays") or "").split():
            try:
                holidays.append(parse_day(line).isoformat())
            except ValueError:
                self.add_error("holidays", _("日期格式应为 YYYY-MM-DD：%(value)s") % {"value": line})
        all_day = all(weekly[str(i)] == [["00:00", "24:00"]] for i in range(7))
        data["service_hours"] = {} if all_day and not holidays else {"weekly": weekly, "holidays": holidays}
        data["score_weights"] = {c: float(data[f"w_{c}"]) for c in SCORE_COMPONENTS if data.get(f"w_{c}")}
        data["kpi_targets"] = {
            k: round(float(data[f"t_{k}"]) / 100, 6) if k in RATE_TARGETS else float(data[f"t_{k}"])
            for k in TARGETS if data.get(f"t_{k}") is not None}
        return data

    def changes(self) -> dict:
        keys = ["name", "timezone", "attribution_basis", "service_hours", "score_weights", "kpi_targets",
                *NUMBER_FIELDS]
        return {k: self.cleaned_data[k] for k in keys}

"""The return-reasons report (AFT-9) against an independent plain-loop recomputation over raw rows."""

import datetime as dt
import io
import random
import zoneinfo
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest

from kefu.aftersales.models import Case, CaseItem, CaseMoneyLine
from kefu.core.errors import KefuError
from kefu.defects import selectors as sel

from .conftest import login, open_case

REASONS = ["quality", "wrong_item", "changed_mind", "allergy", "damaged_parcel"]
PARTIES = ["", "shop", "warehouse", "courier", "supplier", "buyer"]
SKUS = ["A-1", "A-2", "B-1", "C-9", "D-4"]
KINDS = ["goods", "shipping", "cash_back", "compensation"]


def generate(shop, seed: int, n: int = 120) -> None:
    """Cases in November 2026 (many within minutes of the shop's midnight, 16:00 UTC), with items and
    money lines in every kind, direction and state."""
    rng = random.Random(seed)
    for _ in range(n):
        day = rng.randint(1, 30)
        if rng.random() < 0.5:  # around the shop's midnight
            at = dt.datetime(2026, 11, day, 16, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randint(-90, 90))
        else:
            at = dt.datetime(2026, 11, day, tzinfo=dt.UTC) + dt.timedelta(seconds=rng.randint(0, 86399))
        case = Case.objects.create(shop=shop, type="return_refund", reason=rng.choice(REASONS),
                                   responsible=rng.choice(PARTIES))
        Case.objects.filter(pk=case.pk).update(created_at=at)
        CaseItem.objects.bulk_create([CaseItem(case=case, sku=rng.choice(SKUS), qty=rng.randint(1, 3))
                                      for _ in range(rng.choice([0, 1, 1, 1, 2, 3]))])
        CaseMoneyLine.objects.bulk_create([
            CaseMoneyLine(shop=shop, case=case, kind=rng.choice(KINDS),
                          direction=rng.choice(["shop_to_buyer", "shop_to_buyer", "buyer_to_shop"]),
                          amount=Decimal(rng.randint(1, 30000)) / 100, state=rng.choice(["planned", "done", "done"]))
            for _ in range(rng.randint(0, 4))])


def oracle(shop, date_from, date_to, group_by, responsible=None, reason=None, sku=None):
    """The report recomputed by plain loops over every case of the shop."""
    tz = zoneinfo.ZoneInfo(shop.timezone)
    out = {}
    for case in Case.objects.filter(shop=shop):
        local = case.created_at.astimezone(tz).date()
        if not date_from <= local <= date_to:
            continue
        if reason and case.reason != reason:
            continue
        if responsible == "none" and case.responsible != "":
            continue
        if responsible and responsible != "none" and case.responsible != responsible:
            continue
        if group_by == "week":
            y, w, _d = local.isocalendar()
            period = dt.date.fromisocalendar(y, w, 1)
        elif group_by == "month":
            period = dt.date(local.year, local.month, 1)
        else:
            period = local
        refund = shipping = Decimal("0")
        for line in CaseMoneyLine.objects.filter(case=case):
            if line.state != "done":
                continue
            signed = line.amount if line.direction == "shop_to_buyer" else -line.amount
            if line.kind == "shipping":
                shipping += signed
            else:
                refund += signed
        qty_by_sku = {}
        for item in CaseItem.objects.filter(case=case).order_by("id"):
            qty_by_sku[item.sku] = qty_by_sku.get(item.sku, 0) + item.qty
        if not qty_by_sku:
            parts = [("", 0, refund, shipping)]
        else:
            total = sum(qty_by_sku.values())
            parts, given_r, given_s = [], Decimal("0"), Decimal("0")
            names = list(qty_by_sku)
            for k, name in enumerate(names):
                q = qty_by_sku[name]
                if k == len(names) - 1:
                    r, s = refund - given_r, shipping - given_s
                else:
                    r = (refund * q / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                    s = (shipping * q / total).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
                    given_r += r
                    given_s += s
                parts.append((name, q, r, s))
        for name, q, r, s in parts:
            if sku and name != sku:
                continue
            key = (period, name, case.reason, case.responsible)
            row = out.setdefault(key, [0, 0, Decimal("0"), Decimal("0")])
            row[0] += 1
            row[1] += q
            row[2] += r
            row[3] += s
    return {k: (v[0], v[1], v[2], v[3], v[2] + v[3]) for k, v in out.items()}


def report(shop, manager, date_from, date_to, group_by, **kw):
    q = sel.report_query(date_from=date_from, date_to=date_to, group_by=group_by, **kw)
    return sel.return_report(shop=shop, member=manager, q=q)


def as_map(rep):
    return {(r["period"], r["sku"], r["reason"], r["responsible"]): (r["cases"], r["qty"], r["refund"], r["shipping"],
                                                                      r["cost"]) for r in rep["rows"]}


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2])
@pytest.mark.parametrize("group_by", ["day", "week", "month"])
def test_report_equals_the_plain_loop_oracle(shop, other_shop, manager, seed, group_by):
    generate(shop, seed)
    generate(other_shop, seed + 100, n=30)  # never in shop s1's report
    d0, d1 = dt.date(2026, 11, 3), dt.date(2026, 11, 27)
    rep = report(shop, manager, d0, d1, group_by)
    expected = oracle(shop, d0, d1, group_by)
    assert len(expected) > 20 and as_map(rep) == expected
    assert rep["totals"]["cost"] == sum(v[4] for v in expected.values())
    assert rep["totals"]["qty"] == sum(v[1] for v in expected.values())
    for filters in ({"responsible": "none"}, {"responsible": "supplier"}, {"reason": "quality"}, {"sku": "A-1"},
                    {"reason": "allergy", "responsible": "buyer"}):
        assert as_map(report(shop, manager, d0, d1, group_by, **filters)) == oracle(shop, d0, d1, group_by, **filters)


@pytest.mark.django_db
def test_shop_day_boundaries(shop, manager):
    before = open_case(shop, dt.datetime(2026, 11, 10, 15, 59, 59, tzinfo=dt.UTC), buyer=None, sku="X")
    after = open_case(shop, dt.datetime(2026, 11, 10, 16, 0, 0, tzinfo=dt.UTC), buyer=None, sku="Y")
    rep = report(shop, manager, dt.date(2026, 11, 11), dt.date(2026, 11, 11), "day")
    assert [(r["period"], r["sku"]) for r in rep["rows"]] == [(dt.date(2026, 11, 11), "Y")]
    rep = report(shop, manager, dt.date(2026, 11, 10), dt.date(2026, 11, 11), "day")
    assert [(r["period"], r["sku"]) for r in rep["rows"]] == [(dt.date(2026, 11, 10), "X"),
                                                               (dt.date(2026, 11, 11), "Y")]
    assert before.pk != after.pk


@pytest.mark.django_db
def test_money_split_by_quantity_adds_up(shop, manager):
    case = open_case(shop, dt.datetime(2026, 11, 10, 4, tzinfo=dt.UTC), buyer="b1",
                     items=[("A", 1), ("B", 1), ("C", 1)], money=[("goods", "shop_to_buyer", "100.00")])
    CaseMoneyLine.objects.filter(case=case).update(state="done")
    rep = report(shop, manager, dt.date(2026, 11, 10), dt.date(2026, 11, 10), "day")
    assert [r["refund"] for r in rep["rows"]] == [Decimal("33.33"), Decimal("33.33"), Decimal("33.34")]
    assert rep["totals"]["cost"] == Decimal("100.00") and rep["totals"]["cases"] == 1


@pytest.mark.django_db
def test_report_is_three_queries_whatever_the_size(shop, manager, django_assert_num_queries):
    generate(shop, 7, n=60)
    q = sel.report_query(date_from=dt.date(2026, 11, 1), date_to=dt.date(2026, 11, 30), group_by="week")
    with django_assert_num_queries(3):
        sel.return_report(shop=shop, member=manager, q=q)


@pytest.mark.parametrize("kw,field", [
    ({"date_from": dt.date(2026, 11, 5), "date_to": dt.date(2026, 11, 1)}, "from"),
    ({"date_from": dt.date(2024, 1, 1), "date_to": dt.date(2026, 11, 1)}, "to"),
    ({"date_from": "2026-11-01", "date_to": dt.date(2026, 11, 1)}, "from"),
    ({"group_by": "year"}, "group_by"), ({"responsible": "boss"}, "responsible"), ({"reason": "x"}, "reason"),
    ({"sku": "x" * 81}, "sku"),
])
def test_bad_report_parameters_name_the_field(kw, field):
    args = {"date_from": dt.date(2026, 11, 1), "date_to": dt.date(2026, 11, 2), **kw}
    with pytest.raises(KefuError) as e:
        sel.report_query(**args)
    assert e.value.field == field


@pytest.mark.django_db
def test_excel_export_opens_and_has_the_rows(shop, manager):
    generate(shop, 3, n=40)
    rep = report(shop, manager, dt.date(2026, 11, 1), dt.date(2026, 11, 30), "week")
    r = login(manager).get("/defects/report/?from=2026-11-01&to=2026-11-30&group_by=week&export=xlsx")
    assert r.status_code == 200
    ws = openpyxl.load_workbook(io.BytesIO(r.content)).active
    rows = list(ws.iter_rows(values_only=True))
    assert rows[0] == ("期间", "SKU", "售后原因", "责任方", "售后单数", "件数", "退款净额", "运费净额", "售后成本")
    assert len(rows) == len(rep["rows"]) + 2 and rows[-1][0] == "合计"  # header, rows, the 合计 row
    assert sum(Decimal(str(x[8])) for x in rows[1:-1]) == rep["totals"]["cost"] == Decimal(str(rows[-1][8]))
    assert sum(x[4] for x in rows[1:-1]) == sum(x["cases"] for x in rep["rows"]) == rows[-1][4]
    assert ws.freeze_panes == "A2" and ws.cell(2, 9).number_format == "#,##0.00"
    c = login(manager).get("/defects/report/?from=2026-11-01&to=2026-11-30&export=csv")
    assert c.status_code == 200 and c.content.decode("utf-8-sig").count("\n") >= 2

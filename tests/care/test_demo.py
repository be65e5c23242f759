"""The demo shows customer care populated: tagged buyers, a plan with calls, a care message with an
opt-out honoured, surprises, at-risk buyers — deterministically."""

import datetime as dt

import pytest

from kefu.care.models import CareCampaign, CareOptOut, CareSend, ChurnFlag, Revisit, Surprise
from kefu.care.selectors import campaign_report
from kefu.customers.models import CustomerNote, CustomerTag
from kefu.demo import services as demo

pytestmark = pytest.mark.django_db
END = dt.date(2026, 5, 31)


def test_demo_extend(monkeypatch):
    assert "kefu.care.demo.demo_extend" in demo.DEMO_EXTENSIONS
    monkeypatch.setattr(demo, "DEMO_EXTENSIONS", ["kefu.complaints.demo.demo_extend", "kefu.crm.demo.demo_extend",
                                                  "kefu.care.demo.demo_extend"])
    shop = demo.demo_load(code="d1", seed=11, scale=0.1, end=END).shop
    assert CustomerTag.objects.filter(shop=shop).values("tag").distinct().count() == 5
    assert Revisit.objects.filter(shop=shop, state="done").count() == 6
    assert CustomerNote.objects.filter(shop=shop, kind="phone").count() == 6
    sent = CareCampaign.objects.get(shop=shop, state="done")
    report = campaign_report(shop=shop, campaign=sent)
    assert report["skipped_opted_out"] == 1 and report["queued"] > 5 and report["opted_out"] == 1
    opted = CareOptOut.objects.filter(shop=shop).values_list("customer_id", flat=True)
    assert not CareSend.objects.filter(campaign=sent, outcome="queued", customer_id__in=[
        o.customer_id for o in CareOptOut.objects.filter(shop=shop, source="agent")]).exists()
    assert len(opted) == 2
    assert set(Surprise.objects.filter(shop=shop).values_list("state", flat=True)) == {"approved", "pending"}
    assert ChurnFlag.objects.filter(shop=shop, cleared_at__isnull=True).exists()
    first = sorted(CustomerTag.objects.filter(shop=shop).values_list("customer__buyer_id", "tag__name"))
    again = demo.demo_load(code="d2", seed=11, scale=0.1, end=END).shop
    second = sorted((b.replace("d2-", "d1-"), t) for b, t in
                    CustomerTag.objects.filter(shop=again).values_list("customer__buyer_id", "tag__name"))
    assert first == second

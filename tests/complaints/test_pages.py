"""The pages: role-aware lists, the complaint checklist, the review worklist and import, disputes, CSAT."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kefu.complaints import reviews, services
from kefu.complaints.models import Complaint, Dispute, ReviewTask

from .conftest import login

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


def complaint(shop, actor, customer, **kw):
    return services.complaint_create(shop=shop, source="buyer", category="attitude", summary=kw.pop("summary", "太慢了"),
                                     actor=actor, customer=customer, **kw)


def test_nav_and_role_aware_list(shop, agent_person, colleague, supervisor, customer, agent_client,
                                 supervisor_client):
    mine = complaint(shop, agent_person, customer, summary="我的投诉")
    theirs = complaint(shop, colleague, customer, summary="别人的投诉")
    page = agent_client.get("/complaints/").content.decode()
    assert 'href="/complaints/"' in page and "我的投诉" in page and "别人的投诉" not in page
    assert agent_client.get(f"/complaints/{theirs.pk}/").status_code == 404
    page = supervisor_client.get("/complaints/").content.decode()
    assert "我的投诉" in page and "别人的投诉" in page
    assert supervisor_client.get(f"/complaints/{mine.pk}/").status_code == 200


def test_create_and_work_through_the_checklist(shop, agent_person, customer, agent_client):
    r = agent_client.post("/complaints/new/", {"source": "buyer", "category": "product", "buyer_type": "analytical",
                                               "buyer_id": "nobody", "summary": "杯子漏水"})
    assert r.status_code == 400 and "本店没有这个买家" in r.content.decode()
    r = agent_client.post("/complaints/new/", {"source": "buyer", "category": "product", "buyer_type": "analytical",
                                               "buyer_id": "buyer1", "summary": "杯子漏水"})
    c = Complaint.objects.get()
    assert r.status_code == 302 and r.url == f"/complaints/{c.pk}/"
    page = agent_client.get(r.url).content.decode()
    assert 'data-step="accept_quickly"' in page and "迅速接受投诉" in page and "分析型" in page
    r = agent_client.post(f"/complaints/{c.pk}/act/", {"action": "advance"}, **HX)
    assert "请先完成本阶段的步骤" in r.content.decode()
    for step in ("accept_quickly", "calm"):
        r = agent_client.post(f"/complaints/{c.pk}/check/", {"step": step}, **HX)
        assert r.status_code == 200 and 'id="complaint-panel"' in r.content.decode()
    r = agent_client.post(f"/complaints/{c.pk}/act/", {"action": "advance"})
    assert r.status_code == 302
    c.refresh_from_db()
    assert c.state == "clarify"
    assert agent_client.post(f"/complaints/{c.pk}/nope/", {}).status_code == 404


def test_supervisor_sets_the_verdict_on_the_page(shop, agent_person, supervisor, customer, agent_client,
                                                 supervisor_client):
    c = complaint(shop, supervisor, customer, against=agent_person)
    assert 'id="verdict"' in supervisor_client.get(f"/complaints/{c.pk}/").content.decode()
    supervisor_client.post(f"/complaints/{c.pk}/verdict/", {"verdict": "upheld"})
    assert c.agent_record.__class__.objects.get(complaint=c).verdict == "upheld"


def test_review_import_and_worklist(shop, agent_person, agent_client, supervisor_client):
    csv = "review_id,buyer_id,rating,text,created_at\nR1,b1,1,假货！骗子！,2026-11-01 10:00\nR2,b2,3,一般,2026-11-01 11:00\n"
    assert 'id="import"' not in agent_client.get("/complaints/reviews/").content.decode()
    r = agent_client.post("/complaints/reviews/import/", {"file": SimpleUploadedFile("r.csv", csv.encode())})
    assert r.status_code == 404
    bad = "review_id,buyer_id,rating,created_at\nR9,b1,9,2026-11-01\n"
    r = supervisor_client.post("/complaints/reviews/import/", {"file": SimpleUploadedFile("r.csv", bad.encode("gbk"))})
    assert r.status_code == 400 and "rating" in r.content.decode()
    r = supervisor_client.post("/complaints/reviews/import/", {"file": SimpleUploadedFile("r.csv", csv.encode("gbk"))})
    page = r.content.decode()
    assert r.status_code == 200 and 'id="import-result"' in page
    assert page.index('data-level="bad"') < page.index('data-level="medium"')  # worst first
    t = ReviewTask.objects.get(review__review_id="R1")
    r = agent_client.post(f"/complaints/reviews/{t.pk}/act/", {"action": "contact"}, **HX)
    assert r.status_code == 200 and f'id="task-{t.pk}"' in r.content.decode()
    r = agent_client.post(f"/complaints/reviews/{t.pk}/act/", {"action": "close", "outcome": "revised"}, **HX)
    assert 'data-state="closed"' in r.content.decode()
    page = supervisor_client.get("/complaints/reviews/").content.decode()
    table = page[page.index('id="revision-rates"'):]
    assert "静默（无客服）" in table and "100%" in table  # R1 has no agent: the silent row, revised


def test_dispute_pages_and_evidence_download(shop, agent_person, colleague, agent_client):
    r = agent_client.post("/complaints/disputes/", {"kind": "extra_item_denied", "description": "多发一件"})
    d = Dispute.objects.get()
    assert r.status_code == 302 and r.url == f"/complaints/disputes/{d.pk}/"
    r = agent_client.post(r.url, {"action": "submit"})
    assert r.status_code == 400 and "请先上传凭证" in r.content.decode()
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 16
    r = agent_client.post(f"/complaints/disputes/{d.pk}/", {"file": SimpleUploadedFile("p.png", png), "note": "称重"})
    assert r.status_code == 302
    ev = d.evidence.get()
    r = agent_client.get(f"/complaints/disputes/evidence/{ev.pk}/")
    assert r.status_code == 200 and b"".join(r.streaming_content) == png
    assert login(colleague).get(f"/complaints/disputes/evidence/{ev.pk}/").status_code == 404


def test_csat_page(shop, supervisor_client):
    r = supervisor_client.get("/complaints/csat/?from=2026-11-01&to=2026-11-07")
    assert r.status_code == 200 and 'id="csat"' in r.content.decode()
    assert supervisor_client.get("/complaints/csat/?from=bad").status_code == 200


def test_list_pages_do_not_grow_with_rows(shop, agent_person, supervisor, customer, supervisor_client):
    def add(n0, n):
        for i in range(n0, n):
            c = complaint(shop, supervisor, customer, against=agent_person, summary=f"投诉{i}",
                          revisit_on=dt.date.today() + dt.timedelta(days=1))
            services.complaint_verdict(shop=shop, complaint_id=c.pk, verdict="upheld", actor=supervisor)
            reviews.reviews_ingest(shop=shop, rows=reviews.reviews_clean(
                [{"review_id": f"R{i}", "buyer_id": f"b{i}", "rating": 1, "text": "差", "created_at": "2026-11-01",
                  "agent_id": "小美"}], tz=shop.tz))
            reviews.dispute_create(shop=shop, kind="other", description=f"d{i}", actor=supervisor)

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert supervisor_client.get(url).status_code == 200
        return len(ctx)
    urls = ["/complaints/", "/complaints/reviews/", "/complaints/disputes/", "/complaints/csat/"]
    add(0, 2)
    few = [count(u) for u in urls]
    add(2, 7)
    assert [count(u) for u in urls] == few


def test_supervisor_traces_a_knowledge_fault_on_the_page_and_withdraws_it(shop, agent_person, supervisor, customer,
                                                                         agent_client, supervisor_client):
    """Issue 10 item 6 from the page: 遇一罚一 takes a point in the ledger; the withdrawal gives it back."""
    from kefu.people.models import PenaltyDeduction
    from kefu.quality.models import KnowledgeFault

    c = complaint(shop, supervisor, customer, against=agent_person)
    active = PenaltyDeduction.objects.filter(agent=agent_person, rule_code="knowledge_fault", status="active")
    assert 'id="knowledge-fault"' not in agent_client.get(f"/complaints/{c.pk}/").content.decode()
    assert 'id="knowledge-fault"' in supervisor_client.get(f"/complaints/{c.pk}/").content.decode()
    assert agent_client.post(f"/complaints/{c.pk}/knowledge/", {"note": "x"}).status_code in (400, 404)  # no reviewer
    assert not KnowledgeFault.objects.exists()

    supervisor_client.post(f"/complaints/{c.pk}/knowledge/", {"note": "面料说成纯棉"})
    fault = KnowledgeFault.objects.get(complaint=c)
    assert (fault.agent_id, fault.note, active.count()) == (agent_person.pk, "面料说成纯棉", 1)
    page = supervisor_client.get(f"/complaints/{c.pk}/").content.decode()
    assert "已追溯" in page and "面料说成纯棉" in page and "knowledge_withdraw" in page
    again = supervisor_client.post(f"/complaints/{c.pk}/knowledge/", {"note": "再来"})
    assert again.status_code == 400 and "已追溯为业务知识错误" in again.content.decode()

    assert supervisor_client.post(f"/complaints/{c.pk}/knowledge_withdraw/", {"reason": ""}).status_code == 400
    supervisor_client.post(f"/complaints/{c.pk}/knowledge_withdraw/", {"reason": "其实是仓库发错货"})
    assert not KnowledgeFault.objects.exists() and active.count() == 0

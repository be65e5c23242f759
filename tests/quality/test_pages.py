import pytest

from kefu.catalog.models import Product
from kefu.conversations.models import Conversation
from kefu.core.services import person_create, shop_create
from kefu.quality import services
from kefu.quality.models import QaReview, TypicalCase

from .conftest import chat, login

pytestmark = pytest.mark.django_db

PAGES = ["/quality/", "/quality/cases/", "/quality/knowledge/", "/quality/reports/", "/quality/scripts/",
         "/quality/settings/"]


@pytest.fixture
def reviewed(shop, agent_person, supervisor):
    chat(shop, [("b1", "店铺:小美", "buyer", 0, "这件外套有M码吗"), ("b1", "店铺:小美", "agent", 30, "亲，有的哦")])
    conv = Conversation.objects.get(shop=shop)
    r = services.review_start(shop=shop, reviewer=supervisor, conversation=conv)
    scores = [{"category_id": c.pk, "chosen": 4} for c in services.rubric_ensure(shop)]
    return services.review_save(shop=shop, review=r, reviewer=supervisor, scores=scores, submit=True)


def test_pages_by_role(shop, reviewed, supervisor, agent_person, manager):
    for person in (supervisor, manager):
        c = login(person)
        for url in PAGES + [f"/quality/reviews/{reviewed.pk}/", f"/quality/agents/{agent_person.pk}/"]:
            r = c.get(url)
            assert r.status_code == 200, (person.name, url)
    agent = login(agent_person)
    for url in ("/quality/", "/quality/cases/", "/quality/knowledge/", f"/quality/reviews/{reviewed.pk}/",
                f"/quality/agents/{agent_person.pk}/"):
        assert agent.get(url).status_code == 200, url
    for url in ("/quality/reports/", "/quality/scripts/", "/quality/settings/"):
        assert agent.get(url).status_code == 404, url
    body = agent.get(f"/quality/reviews/{reviewed.pk}/").content.decode()
    assert 'id="appeal-form"' in body and 'id="review-form"' not in body


def test_agent_acknowledges_and_appeals_on_the_page(shop, reviewed, agent_person):
    c = login(agent_person)
    c.post(f"/quality/reviews/{reviewed.pk}/", {"what": "acknowledge"})
    c.post(f"/quality/reviews/{reviewed.pk}/", {"what": "appeal", "reason": "我推荐了搭配"})
    reviewed.refresh_from_db()
    assert reviewed.state == "appealed" and reviewed.acknowledged_at is not None


def test_reviewer_scores_on_the_page(shop, agent_person, supervisor):
    chat(shop, [("b1", "店铺:小美", "buyer", 0, "在吗"), ("b1", "店铺:小美", "agent", 30, "在的亲")])
    conv = Conversation.objects.get(shop=shop)
    c = login(supervisor)
    r = c.post("/quality/reviews/start/", {"conversation": conv.pk})
    review = QaReview.objects.get()
    assert r.url == f"/quality/reviews/{review.pk}/"
    form = {f"chosen_{cat.pk}": "5" for cat in services.rubric_ensure(shop)}
    c.post(r.url, {**form, "what": "submit", "summary": "很好"})
    review.refresh_from_db()
    assert review.score == 100 and review.state == "submitted"
    c.post(r.url, {"what": "case", "kind": "good", "title": "热情接待", "note": "回复快"})
    assert TypicalCase.objects.get().review_id == review.pk
    assert "热情接待" in c.get("/quality/cases/").content.decode()


def test_other_shop_person_gets_404(shop, reviewed, agent_person):
    other = shop_create(code="s9", name="别家")
    boss = person_create(shop=other, name="老板", username="boss9", password="pass-word-1", roles=["manager"])
    c = login(boss)
    assert c.get(f"/quality/reviews/{reviewed.pk}/").status_code == 404
    assert c.get(f"/quality/agents/{agent_person.pk}/").status_code == 404
    p = Product.objects.create(shop=shop, title="大衣")
    assert c.post("/quality/knowledge/", {"product": p.pk, "fabric": "x"}).status_code == 404
    case = TypicalCase.objects.create(shop=shop, kind="good", customer=reviewed.customer, title="t", note="n",
                                      marked_by=reviewed.reviewer, week=reviewed.submitted_day,
                                      window_start=reviewed.window_start, window_end=reviewed.window_end)
    assert c.post(f"/quality/cases/{case.pk}/script/", {"category": "opening", "title": "t", "body": "b"}
                  ).status_code == 404


def _count(c, url) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert c.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_list_pages_query_counts_do_not_grow(shop, reviewed, supervisor, agent_person):
    c = login(supervisor)
    urls = ["/quality/", "/api/v1/qa/reviews?shop=s1", f"/quality/agents/{agent_person.pk}/", "/quality/reports/"]
    before = [_count(c, u) for u in urls]
    for i in range(5):
        chat(shop, [(f"x{i}", "店铺:小美", "buyer", 0, "在吗"), (f"x{i}", "店铺:小美", "agent", 30, "在的")])
        conv = Conversation.objects.get(shop=shop, customer__buyer_id=f"x{i}")
        r = services.review_start(shop=shop, reviewer=supervisor, conversation=conv)
        services.review_save(shop=shop, review=r, reviewer=supervisor, submit=True,
                             scores=[{"category_id": cat.pk, "chosen": 3} for cat in services.rubric_ensure(shop)])
    assert [_count(c, u) for u in urls] == before


def test_english_pages(shop, reviewed, supervisor):
    c = login(supervisor)
    c.post("/i18n/setlang/", {"language": "en", "next": "/quality/"})
    body = c.get(f"/quality/reviews/{reviewed.pk}/").content.decode()
    assert "Mark as a typical case" in body and "Reviewer:" in body and "质检员" not in body
    assert "My review queue" in c.get("/quality/").content.decode()

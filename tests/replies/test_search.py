"""Chinese search: trigram index (SQLite FTS5 / PostgreSQL pg_trgm) for 3+ characters, LIKE for 1–2,
ranked; the FTS table follows every write. Runs on whichever database the suite runs on."""

import pytest
from django.db import connection

from kefu.replies.models import Script
from kefu.replies.selectors import scripts_search
from kefu.replies.services import (
    opening_line_set,
    script_create,
    script_update,
    scripts_install_defaults,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def library(shop):
    mk = lambda title, body, cat="other": script_create(shop=shop, actor=None, category=cat, title=title, body=body)  # noqa: E731
    return {
        "title_hit": mk("补运费链接说明", "麻烦您拍下这个链接"),
        "body_hit": mk("邮费", "顺丰需要补运费链接里拍一下哦"),
        "twice": mk("催付提醒", "亲，订单还没付款，付款后马上发货，付款有问题找我"),
        "other": mk("好评", "五星好评送优惠券"),
        "latin": mk("EMS快递", "ems 到付需要另外补差价"),
    }


def test_trigram_query_ranks_title_hits_first(shop, library):
    found = scripts_search(shop=shop, q="补运费")
    assert [s.pk for s in found][:2] == [library["title_hit"].pk, library["body_hit"].pk]
    assert library["other"] not in found


def test_short_chinese_queries_fall_back_to_like(shop, library):
    assert [s.pk for s in scripts_search(shop=shop, q="付款")] == [library["twice"].pk]
    one = scripts_search(shop=shop, q="链")  # a single character
    assert {s.pk for s in one} == {library["title_hit"].pk, library["body_hit"].pk}
    assert one[0].pk == library["title_hit"].pk  # title hit first
    assert scripts_search(shop=shop, q="无此") == []


def test_several_terms_must_all_match_and_case_is_ignored(shop, library):
    assert [s.pk for s in scripts_search(shop=shop, q="顺丰 补运费")] == [library["body_hit"].pk]
    assert [s.pk for s in scripts_search(shop=shop, q="ems快递")] == [library["latin"].pk]
    assert [s.pk for s in scripts_search(shop=shop, q="补差价 EMS")] == [library["latin"].pk]


def test_index_follows_edits_and_special_characters_are_safe(shop, library):
    script_update(shop=shop, script_id=library["other"].pk, actor=None, body="收到后请给五星好评，返现红包")
    assert [s.pk for s in scripts_search(shop=shop, q="返现红包")] == [library["other"].pk]
    assert scripts_search(shop=shop, q="五星好评送") == []
    for q in ('"', "%%%", "a_b", "NEAR(", "*", "' OR 1=1 --", "补运费\" OR \"x"):
        scripts_search(shop=shop, q=q)  # no error whatever the text


def test_tenancy_visibility_and_inactive(shop, other_shop, library, agent_person, colleague):
    script_create(shop=other_shop, actor=None, category="other", title="补运费链接说明", body="别家")
    assert all(s.shop_id == shop.pk for s in scripts_search(shop=shop, q="补运费链接"))
    opening_line_set(shop=shop, member=agent_person, body="小美专属开场白，欢迎光临")
    assert len(scripts_search(shop=shop, q="专属开场白", member=agent_person)) == 1
    assert scripts_search(shop=shop, q="专属开场白", member=colleague) == []
    script_update(shop=shop, script_id=library["title_hit"].pk, actor=None, active=False)
    assert library["title_hit"].pk not in [s.pk for s in scripts_search(shop=shop, q="补运费")]
    assert library["title_hit"].pk in [s.pk for s in scripts_search(shop=shop, q="补运费", include_inactive=True)]


def test_default_scripts_are_searchable(shop):
    scripts_install_defaults(shop)
    assert scripts_search(shop=shop, q="催付")[0].key == "payment_reminder"
    assert scripts_search(shop=shop, q="五星好评")[0].key == "closing"
    assert "offline_greeting" in [s.key for s in scripts_search(shop=shop, q="离线")]


def test_fts_table_matches_scripts_on_sqlite(shop, library):
    if connection.vendor != "sqlite":
        pytest.skip("the FTS5 table exists on SQLite only")
    with connection.cursor() as cur:
        cur.execute("SELECT rowid, title, body FROM replies_script_fts ORDER BY rowid")
        rows = cur.fetchall()
    assert rows == list(Script.objects.order_by("id").values_list("id", "title", "body"))


def test_trigram_index_exists_on_postgresql(shop):
    if connection.vendor != "postgresql":
        pytest.skip("pg_trgm on PostgreSQL only")
    with connection.cursor() as cur:
        cur.execute("SELECT indexdef FROM pg_indexes WHERE tablename = 'replies_script' AND indexdef LIKE '%%gin_trgm_ops%%'")
        assert len(cur.fetchall()) == 2
        cur.execute("SELECT extname FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cur.fetchone() is not None

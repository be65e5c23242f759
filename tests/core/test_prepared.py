"""kefu.core.prepared: a query compiled once per shape and run with new values gives exactly what
the ORM gives for those values (hypothesis over ids, dates, moments and strings), and a builder
whose SQL is not a fixed text with bound parameters is refused at its first run."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import Count, Q, Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kefu.core.models import Agent, Shop
from kefu.core.prepared import PreparedQueryError, prepared_dicts, prepared_rows
from kefu.core.services import shop_create
from kefu.metrics.models import AgentDay

DAY0 = dt.date(2026, 11, 1)
NAMES = ["小美", "阿强", "O'Brien", "x' OR '1'='1", "%s", "李%", "_"]


@pytest.fixture
def data(db):
    shops = [shop_create(code=f"p{i}", name=f"店{i}") for i in range(2)]
    agents = []
    for shop in shops:
        for i, name in enumerate(NAMES):
            agents.append(Agent.objects.create(shop=shop, name=name, group=["presales", "aftersales", ""][i % 3]))
    for n, agent in enumerate(agents):
        for d in range(0, 40, 1 + n % 4):
            AgentDay.objects.create(shop=agent.shop, agent=agent, day=DAY0 + dt.timedelta(days=d),
                                    receptions=(n * 7 + d) % 11, sales=Decimal(f"{n}.{d % 100:02d}"),
                                    response_hist={str(d): n + 1})
    return shops, agents


SUMS = {"rec": Sum("receptions"), "amount": Sum("sales"), "n": Count("id", filter=Q(receptions__gt=3))}


def _days(*, shop_id, agent_ids, first, last):
    qs = AgentDay.objects.filter(shop_id=shop_id, day__gte=first, day__lte=last)
    if agent_ids is not None:
        qs = qs.filter(agent_id__in=agent_ids)
    return qs.order_by().values("agent_id").annotate(**SUMS)


def _agents(*, shop_id, name, since):
    return Agent.objects.filter(shop_id=shop_id, name=name, created_at__gte=since).values_list("id", "name", "group")


def _hists(*, shop_id, days):
    return AgentDay.objects.filter(shop_id=shop_id, day__in=days).values_list("agent_id", "day", "response_hist")


calls = []


def _counted(*, shop_id):
    calls.append(shop_id)
    return AgentDay.objects.filter(shop_id=shop_id).values("shop_id").annotate(n=Count("id"))


def _by_agent(rows):
    return sorted((r["agent_id"], r["rec"], r["amount"], r["n"]) for r in rows)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(shop_i=st.integers(0, 1), first=st.integers(-3, 42), length=st.integers(0, 45),
       subset=st.one_of(st.none(), st.lists(st.integers(0, 2 * len(NAMES) - 1), max_size=5)))
def test_same_rows_as_the_orm(data, shop_i, first, length, subset):
    shops, agents = data
    args = {"shop_id": shops[shop_i].id, "first": DAY0 + dt.timedelta(days=first),
            "last": DAY0 + dt.timedelta(days=first + length),
            "agent_ids": None if subset is None else [agents[i].id for i in subset]}
    want = _by_agent(_days(**args))
    assert _by_agent(prepared_dicts(_days, **args)) == want
    # decimals come back as Decimal (SQLite sums them as text) exactly as the ORM converts them
    assert all(isinstance(r["amount"], Decimal) for r in prepared_dicts(_days, **args))


@pytest.mark.parametrize("name", NAMES)
def test_strings_and_moments_are_bound(data, name):
    shops, _agents_ = data
    since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    for shop in shops:
        assert prepared_rows(_agents, shop_id=shop.id, name=name, since=since) == list(
            _agents(shop_id=shop.id, name=name, since=since))
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    assert prepared_rows(_agents, shop_id=shops[0].id, name=name, since=later) == []


def test_lists_and_json(data):
    shops, _ = data
    for days in ([DAY0], [DAY0 + dt.timedelta(days=d) for d in (3, 4, 12)], []):
        got = prepared_rows(_hists, shop_id=shops[1].id, days=days)
        assert sorted(got) == sorted(_hists(shop_id=shops[1].id, days=days))
        assert all(isinstance(h, dict) for *_, h in got)


def test_compiled_once_per_shape(data, django_assert_num_queries):
    shops, _ = data
    calls.clear()
    with django_assert_num_queries(1):
        first = prepared_rows(_counted, shop_id=shops[0].id)
    assert len(calls) == 2  # built twice (two probe sets), once per process
    with django_assert_num_queries(2):
        again, other = prepared_rows(_counted, shop_id=shops[0].id), prepared_rows(_counted, shop_id=shops[1].id)
    assert len(calls) == 2
    assert first == again == [(shops[0].id, AgentDay.objects.filter(shop=shops[0]).count())]
    assert other == [(shops[1].id, AgentDay.objects.filter(shop=shops[1]).count())]


def _derived(*, shop_id, day):
    return AgentDay.objects.filter(shop_id=shop_id, day__lte=day + dt.timedelta(days=1)).values("id")


def _inlined(*, shop_id, n):
    return Shop.objects.filter(id__gte=shop_id).extra(where=[f"id > {n}"]).values("id")


def _not_values(*, shop_id):
    return Shop.objects.filter(id=shop_id)


def test_refused_builders(data):
    shops, _ = data
    with pytest.raises(PreparedQueryError, match="derived"):
        prepared_rows(_derived, shop_id=shops[0].id, day=DAY0)
    with pytest.raises(PreparedQueryError, match="SQL text"):
        prepared_rows(_inlined, shop_id=shops[0].id, n=3)
    with pytest.raises(PreparedQueryError, match="values"):
        prepared_rows(_not_values, shop_id=shops[0].id)
    with pytest.raises(PreparedQueryError, match="static"):
        prepared_rows(_counted, shop_id=True)
    limit = 2

    def closure(*, shop_id):
        return Shop.objects.filter(id=shop_id).values("id")[:limit]

    with pytest.raises(PreparedQueryError, match="closure"):
        prepared_rows(closure, shop_id=shops[0].id)


def test_empty_in_list_asks_nothing(data, django_assert_num_queries):
    shops, _ = data
    with django_assert_num_queries(0):
        assert prepared_dicts(_days, shop_id=shops[0].id, agent_ids=[], first=DAY0, last=DAY0) == []

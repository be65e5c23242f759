import os
from pathlib import Path

import pytest
from django.test import Client

from kefu.core.services import person_create, shop_create, token_create

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def shared_data(*parts: str) -> Path:
    """A file of ../shared/data, or skip with the reason (a user's clone has no ../shared)."""
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"{path} is absent (the real data sets live in ../shared/data beside the repo)")
    return path


@pytest.fixture(scope="session", autouse=True)
def _data_dir(tmp_path_factory):
    """Files (outbox, evidence, media) go to a directory of this test process, so parallel
    workers (pytest-xdist) never share one; tests that need a clean one set their own."""
    from django.conf import settings

    settings.DATA_DIR = tmp_path_factory.mktemp("data")


@pytest.fixture
def shop(db):
    return shop_create(code="s1", name="测试旗舰店")


@pytest.fixture
def other_shop(db):
    return shop_create(code="s2", name="别家店")


@pytest.fixture
def token(shop):
    return token_create(shop=shop, name="test")[1]


@pytest.fixture
def api(token):
    """A client that sends the integration token."""
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def manager(shop):
    return person_create(shop=shop, name="经理", username="mgr", password="pass-word-1", roles=["manager"], group="")


@pytest.fixture
def agent_person(shop):
    return person_create(shop=shop, name="小美", username="xiaomei", password="pass-word-1", roles=["agent"],
                         platform_ids=["店铺:小美"])


@pytest.fixture
def manager_client(manager):
    c = Client()
    c.force_login(manager.user)
    return c


def pytest_report_header(config):
    return f"database: {os.environ.get('KEFU_DATABASE_URL', 'sqlite (default)').split('@')[-1]}"


@pytest.fixture(autouse=True)
def _facts_inline(settings):
    """Ingestion rebuilds marked buyers inside its own transaction (kefu.metrics.queue.inline), so
    tests see figures at once through the same rebuild code as the worker. Tests of the deferred
    path itself set KEFU_FACTS_INLINE = False and drain explicitly."""
    settings.KEFU_FACTS_INLINE = True


@pytest.fixture(scope="session", autouse=True)
def _flush_past_the_audit_guard():
    """Transactional tests end by emptying every table (Django's flush, DELETE FROM on SQLite), which
    the audit log's append-only triggers refuse; the triggers step aside for that flush only."""
    from django.db import connection
    from django.db.backends.base.operations import BaseDatabaseOperations

    from kefu.core.db import audit_guard

    original = BaseDatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        audit_guard(self.connection, "drop")
        try:
            original(self, sql_list)
        finally:
            audit_guard(self.connection, "create")

    assert "execute_sql_flush" not in type(connection.ops).__dict__  # patched where every backend finds it
    BaseDatabaseOperations.execute_sql_flush = execute_sql_flush
    yield
    BaseDatabaseOperations.execute_sql_flush = original


@pytest.fixture(autouse=True)
def _live_server_requests_end(request):
    """After a test with the live server, wait (at most a minute) for its request threads to end.

    On the in-memory SQLite test database the live server's threads share the test's connection. A
    workspace stream the browser left notices only at its next keep-alive that nobody listens, and
    then writes the agent's last heartbeat: through the shared connection, inside whatever
    transaction the next test has open, for an agent that test never had (FOREIGN KEY failed at its
    commit, seen twice in full runs)."""
    yield
    if "live_server" not in request.fixturenames:
        return
    import threading
    import time

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and any(
            "process_request_thread" in t.name for t in threading.enumerate() if t is not threading.current_thread()):
        time.sleep(0.2)

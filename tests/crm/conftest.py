import pytest

from kefu.core.services import person_create
from tests.replies.conftest import conversation, login  # noqa: F401  (shared fixtures)


@pytest.fixture
def supervisor(shop):
    return person_create(shop=shop, name="主管阿琳", username="sup", password="pass-word-1", roles=["supervisor"])

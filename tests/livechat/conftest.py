import io
import json

import pytest
from django.test import Client
from django.utils import timezone

from kefu.core.services import person_create
from kefu.core.timeutil import shop_day
from kefu.livechat.identity import widget_settings_of
from kefu.workforce.services import presence_set, roster_assign, shift_create


@pytest.fixture(autouse=True)
def data_dir(settings, tmp_path):
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture(autouse=True)
def _deferred(settings):
    """As in production (ADR 0004): facts wait for the worker; the live path must not. Tests that
    read figures drain first (`drained`)."""
    settings.KEFU_FACTS_INLINE = False


def drained(*shops):
    """What the worker does after the commit: rebuild the marked buyers of these shops."""
    from kefu.metrics.queue import facts_drain, facts_pending

    for shop in shops:
        facts_drain(shop=shop)
        assert not facts_pending(shop=shop)


def person(shop, name, group="presales", roles=("agent",), username=None):
    return person_create(shop=shop, name=name, username=username or f"u-{shop.code}-{abs(hash(name)) % 10**8}",
                         password="pass-word-1", roles=list(roles), group=group, platform_ids=[f"店铺:{name}"])


def on_shift(shop, agents, status="online"):
    now = timezone.now()
    shift = shop.shifts.filter(name="全天").first() or shift_create(shop=shop, name="全天", start="00:00", end="23:59")
    for a in agents:
        roster_assign(shop=shop, agent=a, date=shop_day(now, shop.tz), shift=shift)
        if status:
            presence_set(shop=shop, agent=a, status=status, by=a, at=now)


@pytest.fixture
def widget(shop):
    return widget_settings_of(shop)


@pytest.fixture
def kf(shop):
    a = person(shop, "小美", username="xiaomei")
    on_shift(shop, [a])
    return a


class Buyer:
    """A widget in a test: the public endpoints as the iframe calls them."""

    def __init__(self, widget, *, ip="10.0.0.1", **identity):
        self.widget, self.c = widget, Client(REMOTE_ADDR=ip)
        self.base = f"/live/w/{widget.key}"
        r = self.post("/session", identity)
        self.status, self.data = r.status_code, r.json()
        self.session = self.data.get("session")
        self.token = self.data.get("visitor_token")

    def post(self, path, body, **extra):
        return self.c.post(self.base + path, json.dumps(body), content_type="application/json",
                           HTTP_X_KEFU_SESSION=getattr(self, "session", None) or "", **extra)

    def send(self, text, client_id=None, **more):
        import uuid

        return self.post("/messages", {"client_id": client_id or uuid.uuid4().hex, "text": text, **more})

    def image(self, data, name="p.png", client_id="img1"):
        return self.c.post(self.base + "/images", {"file": _named(data, name), "client_id": client_id},
                           HTTP_X_KEFU_SESSION=self.session)


def _named(data, name):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def png_bytes(w=8, h=6) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (w, h), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def staff(agent):
    c = Client()
    c.force_login(agent.user)
    return c


def post_json(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")

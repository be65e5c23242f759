"""Evidence (AFT-5): uploads checked by content and size, stored via the storage API, found by buyer id,
downloaded one by one and as a streamed zip per SKU and period."""

import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from kefu.aftersales import evidence
from kefu.aftersales.models import CaseEvent, Evidence
from kefu.core.errors import KefuError
from kefu.core.services import person_create, token_create

from .conftest import MP4_BYTES, PDF_BYTES, login, make_case, png_bytes

pytestmark = pytest.mark.django_db


def upload(c, case, name, data, **extra):
    return c.post(f"/api/v1/cases/{case.pk}/evidence", {"file": SimpleUploadedFile(name, data), **extra})


def test_upload_over_the_api_and_download(api, shop, manager, order, evidence_dir):
    case = make_case(shop, manager, order=order)
    r = upload(api, case, "破损.png", png_bytes(), note="外包装")
    assert r.status_code == 201, r.content
    body = r.json()
    assert (body["kind"], body["content_type"], body["buyer_id"], body["sku"]) == ("image", "image/png", "buyer1",
                                                                                    "DRESS-M")
    ev = Evidence.objects.get()
    # Stored in the buyer's folder (the seed keeps photos in a folder named by the customer id).
    assert (evidence_dir / ev.file_name).exists() and "/buyer1/" in f"/{ev.file_name}"
    assert CaseEvent.objects.filter(case=case, action="evidence").count() == 1
    r = api.get(f"/api/v1/evidence/{ev.pk}/file")
    assert r.status_code == 200 and b"".join(r.streaming_content) == png_bytes() and r["Content-Type"] == "image/png"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert [x["id"] for x in api.get("/api/v1/evidence?buyer_id=buyer1").json()] == [ev.pk]
    assert api.get("/api/v1/evidence?buyer_id=someone").json() == []
    assert api.get(f"/api/v1/cases/{case.pk}").json()["evidence_count"] == 1


@pytest.mark.parametrize("name,data,code", [
    ("photo.jpg", b"<?php system($_GET['x']); ?>", "file_type"),  # a script named .jpg
    ("photo.jpg", png_bytes(), "file_type"),  # a PNG that says it is a JPEG
    ("report.pdf", png_bytes(), "file_type"),
    ("virus.exe", b"MZ\x90\x00" + b"\x00" * 60, "file_type"),
    ("empty.png", b"", "file_size"),
    ("noext", png_bytes(), "file_type"),
])
def test_wrong_type_or_forged_extension_is_refused(api, shop, manager, order, name, data, code, evidence_dir):
    case = make_case(shop, manager, order=order)
    r = upload(api, case, name, data)
    assert r.status_code == 400 and r.json()["code"] == code and r.json()["field"] == "file", r.content
    assert not Evidence.objects.exists()
    assert not evidence_dir.exists() or not any(p.is_file() for p in evidence_dir.rglob("*"))


def test_size_limit(api, shop, manager, order, settings):
    settings.KEFU_AFTERSALES_EVIDENCE_MAX_MB = 1
    case = make_case(shop, manager, order=order)
    big = PDF_BYTES + b"0" * (1024 * 1024)
    r = upload(api, case, "big.pdf", big)
    assert r.status_code == 400 and r.json()["code"] == "file_size"
    assert upload(api, case, "ok.pdf", PDF_BYTES).status_code == 201


def test_pdf_and_video_are_allowed_and_missing_file_named(api, shop, manager, order):
    case = make_case(shop, manager, order=order)
    assert upload(api, case, "发票.pdf", PDF_BYTES).json()["kind"] == "pdf"
    assert upload(api, case, "开箱.mp4", MP4_BYTES).json()["kind"] == "video"
    r = api.post(f"/api/v1/cases/{case.pk}/evidence", {"note": "x"})
    assert r.status_code == 400 and r.json()["field"] == "file"
    r = upload(api, case, "a.png", png_bytes(), sku="NOT-IN-CASE")
    assert r.status_code == 400 and r.json()["field"] == "sku"


def test_thumbnail_when_pillow_is_installed(shop, manager, order):
    pytest.importorskip("PIL")
    case = make_case(shop, manager, order=order)
    ev = evidence.evidence_add(shop=shop, case=case, actor_agent=manager, name="a.png", data=png_bytes(400, 300))
    assert ev.thumbnail_name
    with evidence.evidence_open(ev, thumbnail=True) as f:
        assert f.read(3) == b"\xff\xd8\xff"


def test_storage_alias_is_used_when_defined(shop, manager, order, settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "evidence": {
        "BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path / "s3ish")}}}
    case = make_case(shop, manager, order=order)
    ev = evidence.evidence_add(shop=shop, case=case, actor_agent=manager, name="a.pdf", data=PDF_BYTES)
    assert (tmp_path / "s3ish" / ev.file_name).exists()


def _zip(resp) -> zipfile.ZipFile:
    assert resp.status_code == 200 and resp["Content-Type"] == "application/zip" and resp.streaming
    return zipfile.ZipFile(io.BytesIO(b"".join(resp.streaming_content)))


def test_zip_per_sku_and_period(api, shop, manager, order):
    case = make_case(shop, manager, order=order)
    a = evidence.evidence_add(shop=shop, case=case, actor_agent=manager, name="a.png", data=png_bytes())
    b = evidence.evidence_add(shop=shop, case=case, actor_agent=manager, name="b.pdf", data=PDF_BYTES)
    other = make_case(shop, manager)  # no order: no SKU
    evidence.evidence_add(shop=shop, case=other, actor_agent=manager, name="c.pdf", data=PDF_BYTES)
    Evidence.objects.filter(pk=b.pk).update(created_at="2026-01-15T04:00:00Z")
    z = _zip(api.get("/api/v1/evidence/zip?sku=DRESS-M"))
    names = sorted(z.namelist())
    assert names == sorted([f"buyer1/{case.pk}/{a.pk}-a.png", f"buyer1/{case.pk}/{b.pk}-b.pdf"])
    assert z.read(f"buyer1/{case.pk}/{a.pk}-a.png") == png_bytes() and z.testzip() is None
    z = _zip(api.get("/api/v1/evidence/zip?sku=DRESS-M&from=2026-01-01&to=2026-01-31"))
    assert z.namelist() == [f"buyer1/{case.pk}/{b.pk}-b.pdf"]
    assert _zip(api.get("/api/v1/evidence/zip?buyer_id=buyer1")).namelist().__len__() == 2
    r = api.get("/api/v1/evidence/zip")
    assert r.status_code == 400 and r.json()["field"] == "sku"
    r = api.get("/api/v1/evidence/zip?sku=DRESS-M&from=yesterday")
    assert r.status_code == 400 and r.json()["field"] == "from"


def test_evidence_pages(shop, manager, agent_person, agent2, order):
    case = make_case(shop, agent2, order=order)
    c = login(agent2)
    r = c.post(f"/aftersales/{case.pk}/evidence/", {"file": [SimpleUploadedFile("a.png", png_bytes()),
                                                             SimpleUploadedFile("b.pdf", PDF_BYTES)]})
    assert r.status_code == 302 and Evidence.objects.count() == 2
    r = c.post(f"/aftersales/{case.pk}/evidence/", {"file": SimpleUploadedFile("x.jpg", b"not a photo")},
               HTTP_HX_REQUEST="true")
    assert "只能上传图片" in r.content.decode() and Evidence.objects.count() == 2
    html = c.get(f"/aftersales/{case.pk}/").content.decode()
    assert "a.png" in html or "?thumb=1" in html
    html = login(manager).get("/aftersales/evidence/?buyer_id=buyer1").content.decode()
    assert "b.pdf" in html and 'id="zip"' in html
    z = _zip(login(manager).get("/aftersales/evidence/zip/?buyer_id=buyer1"))
    assert len(z.namelist()) == 2
    # Another agent does not see a colleague's case evidence.
    ev = Evidence.objects.first()
    assert login(agent_person).get(f"/aftersales/evidence/{ev.pk}/").status_code == 404
    assert "b.pdf" not in login(agent_person).get("/aftersales/evidence/?buyer_id=buyer1").content.decode()


def test_other_shop_cannot_reach_evidence(shop, other_shop, manager, order):
    case = make_case(shop, manager, order=order)
    ev = evidence.evidence_add(shop=shop, case=case, actor_agent=manager, name="a.pdf", data=PDF_BYTES)
    _, raw = token_create(shop=other_shop, name="x")
    c = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert c.get(f"/api/v1/evidence/{ev.pk}/file").status_code == 404
    assert c.get("/api/v1/evidence?buyer_id=buyer1").json() == []
    assert zipfile.ZipFile(io.BytesIO(b"".join(c.get("/api/v1/evidence/zip?buyer_id=buyer1").streaming_content))
                           ).namelist() == []
    boss = person_create(shop=other_shop, name="别人", username="b2", password="pass-word-1", roles=["manager"])
    assert login(boss).get(f"/aftersales/evidence/{ev.pk}/").status_code == 404
    with pytest.raises(KefuError):
        evidence.evidence_add(shop=other_shop, case=case, actor_agent=None, name="a.pdf", data=PDF_BYTES)


def test_evidence_list_query_count(api, shop, manager, order):
    for i in range(3):
        case = make_case(shop, manager, order=order)
        evidence.evidence_add(shop=shop, case=case, actor_agent=manager, name=f"{i}.pdf", data=PDF_BYTES)
    with CaptureQueriesContext(connection) as few:
        assert len(api.get("/api/v1/evidence?buyer_id=buyer1").json()) == 3
    for i in range(5):
        case = make_case(shop, manager, order=order)
        evidence.evidence_add(shop=shop, case=case, actor_agent=manager, name=f"m{i}.pdf", data=PDF_BYTES)
    with CaptureQueriesContext(connection) as many:
        assert len(api.get("/api/v1/evidence?buyer_id=buyer1").json()) == 8
    assert len(many) <= len(few)  # the first call may also stamp the token's last use

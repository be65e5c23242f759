"""Evidence of a case (AFT-5): photos, PDFs and videos stored through Django's storage API.

The storage is the `evidence` alias of settings.STORAGES when the integrator defines one (e.g.
django-storages' S3 backend), else a FileSystemStorage under DATA_DIR/evidence. Files are checked by
their content (signature bytes), not by their name: a `.jpg` that is not a JPEG is refused. Images
get a thumbnail when Pillow is installed. A zip of a SKU's (or a buyer's) evidence over a period is
streamed, never built in memory.
"""

import hashlib
import io
import posixpath
import uuid
import zipfile
from collections.abc import Iterator

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages
from django.db import transaction
from django.utils import timezone

from kefu.core.access import user_of
from kefu.core.errors import KefuError, NotFound
from kefu.core.files import Sniffed, sniff
from kefu.core.inputs import clean_text
from kefu.core.models import Agent, Shop
from kefu.core.services import audit_record

from .enums import CaseErrorCode, EventAction, EvidenceKind
from .models import Case, CaseEvent, Evidence

E = CaseErrorCode
STORAGE_ALIAS = "evidence"
THUMB_PX = 320
CHUNK = 64 * 1024

try:  # Pillow is optional: without it images are checked by signature only and get no thumbnail.
    from PIL import Image, UnidentifiedImageError
except ImportError:  # pragma: no cover - depends on the environment
    Image = None


def storage() -> Storage:
    """The evidence storage: settings.STORAGES["evidence"] if defined, else DATA_DIR/evidence."""
    if STORAGE_ALIAS in getattr(settings, "STORAGES", {}):
        return storages[STORAGE_ALIAS]
    return FileSystemStorage(location=settings.DATA_DIR / "evidence")


def max_bytes() -> int:
    return int(getattr(settings, "KEFU_AFTERSALES_EVIDENCE_MAX_MB", 10)) * 1024 * 1024


def _extension(name: str) -> str:
    base = posixpath.basename((name or "").replace("\\", "/"))
    return base.rsplit(".", 1)[-1].lower() if "." in base else ""


def _thumbnail(data: bytes) -> bytes | None:
    if Image is None:
        return None
    with Image.open(io.BytesIO(data)) as img:
        img.thumbnail((THUMB_PX, THUMB_PX))
        out = io.BytesIO()
        img.convert("RGB").save(out, "JPEG", quality=80)
        return out.getvalue()


def check_file(*, name: str, data: bytes, field: str = "file") -> Sniffed:
    """Refuses an empty or too large file, a type that is not allowed and a name that lies about it."""
    if not data:
        raise KefuError("the file is empty", field=field, code=E.FILE_SIZE)
    if len(data) > max_bytes():
        raise KefuError(f"larger than {max_bytes() // (1024 * 1024)} MB", field=field, code=E.FILE_SIZE)
    found = sniff(data[:16])
    if found is None:
        raise KefuError("only photos (jpg, png, gif, webp), PDF or mp4 videos", field=field, code=E.FILE_TYPE)
    ext = _extension(name)
    if ext not in found.extensions:
        raise KefuError(f"the file is a {found.content_type} but is named .{ext or '(none)'}", field=field,
                        code=E.FILE_TYPE)
    if found.kind == EvidenceKind.IMAGE and Image is not None:
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise KefuError("the image is damaged or not an image", field=field, code=E.FILE_TYPE) from exc
    return found


def _safe_name(name: str) -> str:
    base = posixpath.basename((name or "").replace("\\", "/")).strip() or "file"
    return "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in base)[-120:]


def evidence_add(*, shop: Shop, case: Case, actor_agent: Agent | None, name: str, data: bytes, sku: str = "",
                 note: str = "") -> Evidence:
    """Store a file with the case (and a thumbnail for images), one CaseEvent and an audit row."""
    if case.shop_id != shop.pk:
        raise NotFound("case not found", field="case_id")
    if actor_agent is not None and actor_agent.shop_id != shop.pk:
        raise NotFound("person not found", field="actor")
    found = check_file(name=name, data=data)
    sku = clean_text(sku, field="sku", max_len=80)
    note = clean_text(note, field="note", max_len=200)
    skus = [i.sku for i in case.items.all()]
    if sku and skus and sku not in skus:
        raise KefuError(f"{sku} is not an item of this case", field="sku")
    if not sku and len(skus) == 1:
        sku = skus[0]
    buyer_id = case.order.customer.buyer_id if case.order_id else ""
    st = storage()
    # The folder named by the buyer id, as the seed keeps them (000 §after-sales 3).
    folder = f"{shop.code}/{_safe_name(buyer_id) or '_'}/{case.pk}"
    stem = uuid.uuid4().hex[:12]
    stored = st.save(f"{folder}/{stem}-{_safe_name(name)}", ContentFile(data))
    thumb_name = ""
    try:
        if found.kind == EvidenceKind.IMAGE:
            thumb = _thumbnail(data)
            if thumb:
                thumb_name = st.save(f"{folder}/{stem}-thumb.jpg", ContentFile(thumb))
        with transaction.atomic():
            ev = Evidence.objects.create(
                shop=shop, case=case, buyer_id=buyer_id, sku=sku, kind=found.kind, name=_safe_name(name),
                content_type=found.content_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                file_name=stored, thumbnail_name=thumb_name, note=note, uploaded_by=actor_agent)
            CaseEvent.objects.create(shop=shop, case=case, actor=actor_agent, from_state=case.state,
                                     to_state=case.state, action=EventAction.EVIDENCE,
                                     note=f"{ev.name}{' · ' + sku if sku else ''}")
            audit_record(shop=shop, actor=user_of(actor_agent), action="case.evidence", entity=case,
                         after={"evidence": ev.pk, "name": ev.name, "size": ev.size, "sha256": ev.sha256})
    except Exception:
        # Nothing recorded: do not leave orphan files behind.
        st.delete(stored)
        if thumb_name:
            st.delete(thumb_name)
        raise
    return ev


def evidence_open(ev: Evidence, *, thumbnail: bool = False):
    return storage().open(ev.thumbnail_name if thumbnail and ev.thumbnail_name else ev.file_name, "rb")


class _Pipe(io.RawIOBase):
    """A write-only, unseekable buffer the zip writes into and the response drains."""

    def __init__(self):
        self.chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, b) -> int:
        self.chunks.append(bytes(b))
        return len(b)

    def drain(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


def zip_stream(rows: list[Evidence]) -> Iterator[bytes]:
    """The files as one zip, written as it is sent: buyer_id/case_id/name inside."""
    pipe = _Pipe()
    st = storage()
    with zipfile.ZipFile(pipe, "w", compression=zipfile.ZIP_STORED) as zf:
        for ev in rows:
            arcname = f"{ev.buyer_id or '_'}/{ev.case_id}/{ev.pk}-{ev.name}"
            info = zipfile.ZipInfo(arcname, date_time=timezone.localtime(ev.created_at).timetuple()[:6])
            with st.open(ev.file_name, "rb") as src, zf.open(info, "w") as dest:
                while chunk := src.read(CHUNK):
                    dest.write(chunk)
                    yield pipe.drain()
            yield pipe.drain()
    yield pipe.drain()

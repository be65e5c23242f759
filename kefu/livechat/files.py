"""Chat images: checked by their content like case evidence (kefu.core.files.sniff, then decoded by
Pillow), at most KEFU_LIVE_IMAGE_MAX_MB (default 5), stored through Django's storage API (the
`chat` alias of settings.STORAGES, else DATA_DIR/chat), with a thumbnail."""

import hashlib
import io
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import FileSystemStorage, Storage, storages

from kefu.core.errors import KefuError
from kefu.core.files import sniff

from .enums import LiveError

STORAGE_ALIAS = "chat"
THUMB_PX = 360


def storage() -> Storage:
    if STORAGE_ALIAS in getattr(settings, "STORAGES", {}):
        return storages[STORAGE_ALIAS]
    return FileSystemStorage(location=settings.DATA_DIR / "chat")


def max_bytes() -> int:
    return int(getattr(settings, "KEFU_LIVE_IMAGE_MAX_MB", 5)) * 1024 * 1024


@dataclass
class CheckedImage:
    content_type: str
    extension: str
    width: int
    height: int
    sha256: str


def image_check(data: bytes, *, field: str = "file") -> CheckedImage:
    """Refuses an empty or too large file and anything that is not a readable jpg/png/gif/webp."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise KefuError("the file is empty", field=field, code=LiveError.FILE_SIZE)
    if len(data) > max_bytes():
        raise KefuError(f"larger than {max_bytes() // (1024 * 1024)} MB", field=field, code=LiveError.FILE_SIZE)
    found = sniff(data[:16])
    if found is None or found.kind != "image":
        raise KefuError("only photos: jpg, png, gif or webp", field=field, code=LiveError.FILE_TYPE)
    try:
        with Image.open(io.BytesIO(data)) as img:
            width, height = img.size
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise KefuError("the image is damaged or not an image", field=field, code=LiveError.FILE_TYPE) from exc
    return CheckedImage(found.content_type, found.extensions[0], width, height, hashlib.sha256(data).hexdigest())


def image_store(*, shop_code: str, data: bytes, checked: CheckedImage) -> tuple[str, str]:
    """Save the file and its thumbnail; returns their storage names."""
    from PIL import Image

    st = storage()
    stem = f"{shop_code}/{uuid.uuid4().hex}"
    name = st.save(f"{stem}.{checked.extension}", ContentFile(data))
    thumb = ""
    try:
        with Image.open(io.BytesIO(data)) as img:
            img.thumbnail((THUMB_PX, THUMB_PX))
            out = io.BytesIO()
            img.convert("RGB").save(out, "JPEG", quality=80)
        thumb = st.save(f"{stem}-thumb.jpg", ContentFile(out.getvalue()))
    except Exception:  # noqa: BLE001 - a thumbnail is a nicety; the original is served instead
        thumb = ""
    return name, thumb


def image_delete(*names: str) -> None:
    st = storage()
    for n in names:
        if n:
            st.delete(n)


def image_open(attachment, *, thumbnail: bool = False):
    name = attachment.thumbnail_name if thumbnail and attachment.thumbnail_name else attachment.file_name
    return storage().open(name, "rb")


def image_response(attachment, *, thumbnail: bool):
    """The image as one body (at most the upload limit). Not a FileResponse: under ASGI, which
    `kefu start` runs, Django would read a file iterator to the end in a thread anyway, with a warning."""
    from django.http import HttpResponse

    with image_open(attachment, thumbnail=thumbnail) as f:
        data = f.read()
    resp = HttpResponse(data, content_type="image/jpeg" if thumbnail else attachment.content_type)
    resp["X-Content-Type-Options"] = "nosniff"
    resp["Cache-Control"] = "private, max-age=86400"
    return resp

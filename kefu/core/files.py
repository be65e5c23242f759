"""What an uploaded file really is, from its first bytes (evidence of cases and disputes)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Sniffed:
    kind: str  # image | pdf | video
    content_type: str
    extensions: tuple[str, ...]  # the names such a file may carry


def sniff(head: bytes) -> Sniffed | None:
    """The file type from its first 16 bytes (magic numbers), None if not an accepted type."""
    if head.startswith(b"\xff\xd8\xff"):
        return Sniffed("image", "image/jpeg", ("jpg", "jpeg"))
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Sniffed("image", "image/png", ("png",))
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Sniffed("image", "image/gif", ("gif",))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Sniffed("image", "image/webp", ("webp",))
    if head.startswith(b"%PDF-"):
        return Sniffed("pdf", "application/pdf", ("pdf",))
    if head[4:8] == b"ftyp":
        return Sniffed("video", "video/mp4", ("mp4", "m4v", "mov"))
    return None

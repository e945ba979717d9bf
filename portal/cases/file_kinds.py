"""What kind of file a person sent, and what to call it.

A file is admitted by what its first bytes are, never by the name or the media type the
browser claims: a renamed page of HTML must not come back to a reader as "text". The
name a person gave is kept only to show, so it loses any path and control characters.
"""

from __future__ import annotations

import re
import unicodedata

from portal.i18n import _

# The allow-list, by what the bytes are (not what the name or the browser claims).
KINDS = {
    "image/png": "image",
    "image/jpeg": "image",
    "image/gif": "image",
    "image/webp": "image",
    "application/pdf": "pdf",
    "text/plain": "text",
    "text/csv": "csv",
    "application/json": "json",
    "audio/mpeg": "audio",
    "audio/wav": "audio",
    "audio/ogg": "audio",
    "audio/mp4": "audio",
    "video/mp4": "video",
    "video/webm": "video",
    "application/zip": "zip",
}
UTF8_BOM = b"\xef\xbb\xbf"
PREVIEWABLE = frozenset(("image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf"))


def accepted_kinds(allowed: frozenset[str]) -> str:
    """The kinds of file the allow-list admits, as a person would name them."""
    labels = {
        "image": _("images"),
        "pdf": _("PDF"),
        "text": _("text"),
        "csv": _("CSV"),
        "json": _("JSON"),
        "audio": _("audio"),
        "video": _("video"),
        "zip": _("zip files"),
    }
    kinds = list(dict.fromkeys(KINDS[t] for t in KINDS if t in allowed))
    named = [str(labels[k]) for k in kinds]
    if len(named) <= 1:
        return "".join(named)
    # The list separator is a translation too: Chinese lists with 、 not a comma.
    separator = _(", ")
    return _("%(some)s or %(last)s", some=separator.join(named[:-1]), last=named[-1])


def sniff(head: bytes, name: str, text_ok: bool) -> str | None:
    """The media type the file's first bytes show, or None when it is not allowed."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"RIFF") and head[8:12] == b"WAVE":
        return "audio/wav"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "application/zip"
    if head.startswith(b"ID3") or head[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head[4:8] == b"ftyp":
        return "audio/mp4" if head[8:11] == b"M4A" else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if text_ok:
        lowered = name.lower()
        if lowered.endswith(".csv"):
            return "text/csv"
        if lowered.endswith(".json") and head.lstrip()[:1] in (b"{", b"["):
            return "application/json"
        # HTML or SVG as "text" is refused, behind a byte-order mark too: browsers
        # skip it when they sniff markup.
        if head.removeprefix(UTF8_BOM).lstrip()[:1] != b"<":
            return "text/plain"
    return None


def clean_name(raw: str | None) -> str:
    """A file name to show: no path, no control characters, at most 255 characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name) if ch.isprintable())
    name = re.sub(r"\s+", " ", name).strip(" .")
    return name[:255] or "file"

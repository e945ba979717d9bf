"""An image's size in pixels, read from its header without decoding it.

A file of a few hundred bytes can declare 60,000 × 60,000 pixels; a browser asked to
show it inline would try to decode gigabytes and hang the reviewer's tab. The portal
reads the declared size (PNG's IHDR, GIF's screen and first frame, a JPEG's
start-of-frame, WebP's VP8/VP8L/VP8X header), reading a few bytes at a time and never
more than `SCAN_LIMIT` into the file, and previews only what is small enough.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import BinaryIO

MAX_PIXELS = 40_000_000  # 40 megapixels: a full-size photo of most cameras still previews
MAX_SIDE = 16_384
SCAN_LIMIT = 4 * 1024 * 1024  # a JPEG's frame header must come within its first 4 MiB
MAX_SEGMENTS = 1_000


class UnknownSize(Exception):
    """The header declares no size we can read within our bounds."""


def too_large(width: int, height: int) -> bool:
    return width > MAX_SIDE or height > MAX_SIDE or width * height > MAX_PIXELS


def declared_size(path: Path, media_type: str) -> tuple[int, int] | None:
    """(width, height) the image's header declares; None when it declares none a
    browser could decode (not a well-formed header of its type); `UnknownSize` when it
    may be decodable but the size could not be found within the bounds."""
    with path.open("rb") as handle:
        if media_type == "image/png":
            return _png(handle)
        if media_type == "image/gif":
            return _gif(handle)
        if media_type == "image/jpeg":
            return _jpeg(handle)
        if media_type == "image/webp":
            return _webp(handle)
    return None


def _png(handle: BinaryIO) -> tuple[int, int] | None:
    head = handle.read(24)
    # The signature, then IHDR must be the first chunk (PNG spec 5.6): else no decoder shows it.
    if len(head) < 24 or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


def _gif(handle: BinaryIO) -> tuple[int, int] | None:
    head = handle.read(13)
    if len(head) < 13:
        return None
    width, height, flags = struct.unpack("<HHB", head[6:11])
    if flags & 0x80:  # a global colour table follows
        handle.seek(3 * 2 ** ((flags & 0x07) + 1), 1)
    # Browsers grow the canvas to the first frame when it is larger than the screen.
    for _block in range(MAX_SEGMENTS):
        kind = handle.read(1)
        if kind == b",":  # image descriptor
            frame = handle.read(8)
            if len(frame) < 8:
                break
            left, top, frame_width, frame_height = struct.unpack("<HHHH", frame)
            return max(width, left + frame_width), max(height, top + frame_height)
        if kind != b"!":  # not an extension: the trailer, or something no decoder reads
            break
        handle.read(1)  # the extension's label
        while (size := handle.read(1)) and size != b"\0":  # its sub-blocks
            handle.seek(size[0], 1)
        if handle.tell() > SCAN_LIMIT:
            raise UnknownSize()
    return width, height


_SOF = frozenset((0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF))
_STANDALONE = frozenset((0x01, *range(0xD0, 0xD8)))  # TEM, RSTn: no length field


def _jpeg(handle: BinaryIO) -> tuple[int, int] | None:
    if handle.read(2) != b"\xff\xd8":
        return None
    for _segment in range(MAX_SEGMENTS):
        if handle.tell() > SCAN_LIMIT:
            break
        byte = handle.read(1)
        if not byte:
            return None  # ended without a frame: nothing to draw
        if byte != b"\xff":
            continue  # decoders skip stray bytes before a marker, and so do we
        marker = handle.read(1)
        while marker == b"\xff":  # fill bytes
            marker = handle.read(1)
        if not marker:
            return None
        code = marker[0]
        if code in _STANDALONE or code == 0x00:
            continue
        if code in (0xD9, 0xDA):  # end of image, or scan data before any frame header
            return None
        length_bytes = handle.read(2)
        if len(length_bytes) < 2:
            return None
        (length,) = struct.unpack(">H", length_bytes)
        if code in _SOF:
            frame = handle.read(5)
            if len(frame) < 5:
                return None
            _precision, height, width = struct.unpack(">BHH", frame)
            return width, height
        handle.seek(length - 2, 1)
    raise UnknownSize()


def _webp(handle: BinaryIO) -> tuple[int, int] | None:
    head = handle.read(30)
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk, body = head[12:16], head[20:30]
    if chunk == b"VP8X":  # extended: the canvas size, 24 bits each, minus one
        width = int.from_bytes(body[4:7], "little") + 1
        height = int.from_bytes(body[7:10], "little") + 1
        return width, height
    if chunk == b"VP8L":  # lossless: 14 bits each, minus one, after the 0x2f signature
        if body[0] != 0x2F:
            return None
        bits = int.from_bytes(body[1:5], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 ":  # lossy: a key frame's start code, then 14 bits each
        if body[3:6] != b"\x9d\x01\x2a":
            return None
        width, height = struct.unpack("<HH", body[6:10])
        return width & 0x3FFF, height & 0x3FFF
    return None

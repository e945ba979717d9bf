"""An image whose header declares more pixels than a browser can safely decode (a few
hundred bytes can claim 60,000 × 60,000) is never previewed inline: the room shows no
preview link and says why, the preview routes answer 404, and it is still downloadable.
The size is read from the header of each format, never by decoding."""

from __future__ import annotations

import re
import struct
import zlib

import pytest

from portal.cases.image_size import MAX_PIXELS, MAX_SIDE, declared_size
from portal.cases.tables import Evidence
from tests.portal.test_evidence import new_case, upload


def png(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + b"\0\0\0\0IEND\xaeB`\x82"
    )


def gif(width: int, height: int, frame: tuple[int, int] | None = None) -> bytes:
    fw, fh = frame or (width, height)
    return (
        b"GIF89a" + struct.pack("<HHBBB", width, height, 0, 0, 0)
        + b"!\xf9\x04\x00\x00\x00\x00\x00"  # a graphic control extension first
        + b"," + struct.pack("<HHHHB", 0, 0, fw, fh, 0) + b"\x02\x02D\x01\x00;"
    )  # fmt: skip


def jpeg(width: int, height: int) -> bytes:
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    exif = b"Exif\x00\x00" + bytes(3000)
    sof = struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    return (
        b"\xff\xd8"
        + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0
        + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif
        + b"\xff\xc0" + struct.pack(">H", len(sof) + 2) + sof
        + b"\xff\xd9"
    )  # fmt: skip


def webp_vp8x(width: int, height: int) -> bytes:
    body = (
        b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    )
    chunk = b"VP8X" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


def webp_lossless(width: int, height: int) -> bytes:
    bits = (width - 1) | ((height - 1) << 14)
    body = b"\x2f" + bits.to_bytes(4, "little") + bytes(5)
    chunk = b"VP8L" + struct.pack("<I", len(body)) + body
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


@pytest.mark.parametrize(
    "data,media_type,size",
    [
        (png(60_000, 60_000), "image/png", (60_000, 60_000)),
        (gif(100, 100, frame=(65_535, 65_535)), "image/gif", (65_535, 65_535)),
        (jpeg(65_000, 500), "image/jpeg", (65_000, 500)),
        (webp_vp8x(30_000, 20_000), "image/webp", (30_000, 20_000)),
        (webp_lossless(16_384, 16_384), "image/webp", (16_384, 16_384)),
    ],
    ids=["png", "gif-frame", "jpeg-after-exif", "webp-extended", "webp-lossless"],
)
def test_the_declared_size_is_read_from_the_header(tmp_path, data, media_type, size):
    path = tmp_path / "image"
    path.write_bytes(data)
    assert declared_size(path, media_type) == size


async def test_a_huge_image_has_no_preview_and_the_room_says_why(people, browser):
    alice = await browser(people["alice"])
    ref = await new_case(alice)
    bomb = png(60_000, 60_000)
    assert len(bomb) < 100 and MAX_PIXELS < 60_000 * 60_000
    fine = png(MAX_SIDE, MAX_PIXELS // MAX_SIDE)
    await upload(alice, ref, [("bomb.png", bomb, "image/png"), ("fine.png", fine, "image/png")])
    ids = {r["name"]: r["id"] for r in await Evidence.select(Evidence.id, Evidence.name)}

    room = (await alice.get(f"/cases/{ref}")).text
    item = re.search(rf'<li id="evidence-{ids["bomb.png"]}">.*?</li>', room, re.S).group(0)
    assert "/preview" not in item and "preview=" not in item
    assert "No preview: this image is 60,000 × 60,000 pixels" in item
    assert f"/evidence/{ids['bomb.png']}/download" in item
    fine = re.search(rf'<li id="evidence-{ids["fine.png"]}">.*?</li>', room, re.S).group(0)
    assert f'/evidence/{ids["fine.png"]}/preview"' in fine

    assert (await alice.get(f"/cases/{ref}/evidence/{ids['bomb.png']}/preview")).status_code == 404
    frame = await alice.get(f"/cases/{ref}/evidence?preview={ids['bomb.png']}")
    assert frame.status_code == 404
    download = await alice.get(f"/cases/{ref}/evidence/{ids['bomb.png']}/download")
    assert download.status_code == 200 and download.content == bomb
    preview = await alice.get(f"/cases/{ref}/evidence/{ids['fine.png']}/preview")
    assert preview.status_code == 200

"""PDFs: the settlement agreement in English and Chinese, read back with poppler's tools,
and the child process that lays them out: killed when it runs too long or needs too
much memory, never blocking the event loop, never fetching a URL.
"""

from __future__ import annotations

import asyncio
import hashlib
import http.server
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from jinja2 import ChoiceLoader, DictLoader

from portal.i18n import gettext, language
from portal.pdf import worker
from portal.pdf.render import RenderFailed, pdf_templates, render_pdf
from portal.procedure.labels import role_label
from tests.support import ROOT

SIGNED_AT = datetime(2026, 3, 2, 14, 5, tzinfo=UTC)
DRAWN_UP = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)

ENGLISH_TERMS = "\n\n".join(
    [
        "This agreement settles the dispute about the liquidation of position 4411.",
        "1. The respondent pays the claimant 1,250.00 USDT within 5 business days.\n"
        "2. The claimant withdraws every complaint about this liquidation.\n"
        "3. Neither party admits liability. <b>Not bold</b> & not markup.",
        *[
            "The parties keep the terms of this agreement confidential, except where the "
            "law requires otherwise or where a regulator asks for them. " * 3
        ]
        * 9,
    ]
)
CHINESE_TERMS = "\n\n".join(
    [
        "本协议解决双方关于仓位 4411 强制平仓的争议。",
        "1. 被申请人应在 5 个工作日内向申请人支付 1,250.00 USDT。\n"
        "2. 申请人撤回关于本次平仓的全部投诉。\n"
        "3. 任何一方均不因此承认责任。",
        *["除法律另有规定或监管机构要求外，双方应对本协议条款保密。" * 4] * 11,
    ]
)


def settlement(terms: str, lang: str, *, signed: bool = False) -> dict[str, object]:
    """alice the claimant and bob the respondent settle with mona; alice has signed."""
    chinese = lang == "zh_Hans"
    alice, bob, mona = ("艾丽斯", "鲍勃", "莫娜") if chinese else ("Alice", "Bob", "Mona")
    with language(lang):
        claimant, respondent = role_label("claimant"), role_label("respondent")
        category = gettext("Liquidation")
    signatures = [{"name": alice, "role_label": claimant, "signed_at": DRAWN_UP, "case_seq": 17}]
    pending = [{"name": bob, "role_label": respondent}]
    if signed:
        signatures.append(
            {"name": bob, "role_label": respondent, "signed_at": SIGNED_AT, "case_seq": 19}
        )
        pending = []
    return {
        "case": {"ref": "D-2026-00042", "category_label": category, "language": lang},
        "settlement": {
            "text": terms,
            "sha256": hashlib.sha256(terms.encode()).hexdigest(),
            "created_at": DRAWN_UP,
            "signed_at": SIGNED_AT if signed else None,
            "status": "signed" if signed else "signing",
        },
        "parties": [
            {"name": alice, "role_label": claimant},
            {"name": bob, "role_label": respondent},
        ],
        "mediator": {"name": mona},
        "signatures": signatures,
        "pending": pending,
    }


def translated(message: str, lang: str) -> str:
    with language(lang):
        return gettext(message)


def poppler(tool: str, pdf: bytes, tmp_path: Path, *args: str) -> str:
    path = tmp_path / "document.pdf"
    path.write_bytes(pdf)
    arguments = [tool, *args, str(path)] + (["-"] if tool == "pdftotext" else [])
    return subprocess.run(arguments, check=True, capture_output=True, text=True).stdout


def pages_of(pdf: bytes, tmp_path: Path) -> int:
    info = poppler("pdfinfo", pdf, tmp_path)
    return int(re.search(r"^Pages:\s+(\d+)$", info, re.MULTILINE).group(1))


# name, type (which has spaces), encoding, emb, sub, uni, object number and generation
PDFFONTS_ROW = re.compile(r"(\S+)\s+(.+?)\s+(\S+)\s+(yes|no)\s+(yes|no)\s+(yes|no)\s+\d+\s+\d+$")


def fonts_of(pdf: bytes, tmp_path: Path) -> list[dict[str, str]]:
    """pdffonts' table: name, type, and whether each font is embedded."""
    lines = poppler("pdffonts", pdf, tmp_path).splitlines()[2:]
    fonts = []
    for line in lines:
        match = PDFFONTS_ROW.match(line)
        assert match, f"unexpected pdffonts line: {line!r}"
        fonts.append({"name": match[1], "type": match[2], "embedded": match[4]})
    return fonts


def unbroken(text: str) -> str:
    """The text without the spaces and line breaks that layout puts into it."""
    return "".join(text.split())


def assert_pdf_a_3b(pdf: bytes, tmp_path: Path) -> None:
    xmp = poppler("pdfinfo", pdf, tmp_path, "-meta")
    assert re.search(r'pdfaid:part(="|>)3', xmp), xmp
    assert re.search(r'pdfaid:conformance(="|>)B', xmp), xmp


def assert_every_font_embedded(pdf: bytes, tmp_path: Path) -> list[dict[str, str]]:
    fonts = fonts_of(pdf, tmp_path)
    assert fonts
    assert all(font["embedded"] == "yes" for font in fonts), fonts
    assert not [font for font in fonts if "Type 3" in font["type"]], fonts
    return fonts


async def test_the_settlement_in_english_while_a_signature_is_missing(tmp_path):
    context = settlement(ENGLISH_TERMS, "en")
    pdf = await render_pdf("pdf/settlement.html", context, language="en")

    text = poppler("pdftotext", pdf, tmp_path)
    pages = pages_of(pdf, tmp_path)
    assert pages == 2
    assert f"Page {pages} of {pages}" in text
    for expected in (
        "Settlement agreement",
        "Case D-2026-00042",
        "DRAFT — not yet signed by everyone",
        "Alice (Claimant)",
        "Bob (Respondent)",
        "Mona",
        "#17",
        "2026-03-01 09:30 UTC",
        "not signed yet",
        "<b>Not bold</b> & not markup.",
        "2. The claimant withdraws every complaint about this liquidation.",
        context["settlement"]["sha256"],
        "Each signature in the ledger of case D-2026-00042 names this hash",
    ):
        assert expected in text, expected
    assert "Signed by everyone" not in text
    assert_every_font_embedded(pdf, tmp_path)
    assert_pdf_a_3b(pdf, tmp_path)


async def test_a_settlement_everyone_signed_is_no_draft(tmp_path):
    context = settlement(ENGLISH_TERMS, "en", signed=True)
    pdf = await render_pdf("pdf/settlement.html", context, language="en")

    text = poppler("pdftotext", pdf, tmp_path)
    assert "DRAFT" not in text and "Draft" not in text
    assert "not signed yet" not in text
    assert "Signed by everyone" in text and "2026-03-02 14:05 UTC" in text
    assert "#17" in text and "#19" in text


async def test_the_settlement_in_chinese_is_set_in_a_chinese_font(tmp_path):
    context = settlement(CHINESE_TERMS, "zh_Hans")
    pdf = await render_pdf("pdf/settlement.html", context, language="zh_Hans")

    text = unbroken(poppler("pdftotext", pdf, tmp_path))
    for sentence in (
        "本协议解决双方关于仓位4411强制平仓的争议。",
        "1.被申请人应在5个工作日内向申请人支付1,250.00USDT。",
        "除法律另有规定或监管机构要求外，双方应对本协议条款保密。",
        "艾丽斯",
        "鲍勃",
        "莫娜",
        unbroken(translated("Settlement agreement", "zh_Hans")),
        unbroken(translated("not signed yet", "zh_Hans")),
        context["settlement"]["sha256"],
    ):
        assert sentence in text, sentence
    assert pages_of(pdf, tmp_path) >= 2
    fonts = assert_every_font_embedded(pdf, tmp_path)
    chinese = [font for font in fonts if "CJK-SC" in font["name"]]
    assert chinese, f"no Noto CJK SC font among {[font['name'] for font in fonts]}"
    assert_pdf_a_3b(pdf, tmp_path)


@pytest.fixture
def test_templates(monkeypatch) -> Iterator[dict[str, str]]:
    """Templates only these tests render, beside the real ones under templates/."""
    extra: dict[str, str] = {}
    environment = pdf_templates()
    monkeypatch.setattr(
        environment, "loader", ChoiceLoader([DictLoader(extra), environment.loader])
    )
    yield extra
    environment.cache.clear()


LONG_DOCUMENT = """{% extends "pdf/base.html" %}
{% block title %}A long document{% endblock %}
{% block content %}
{% for n in range(paragraphs) %}<p>{{ n }}. {{ line }}</p>{% endfor %}
{% endblock %}
"""


def children_of_this_process() -> set[int]:
    """Every process whose parent is this one, zombies included."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if int(stat.rpartition(")")[2].split()[1]) == os.getpid():
            found.add(int(entry.name))
    return found


@pytest.mark.slow
async def test_a_render_past_its_time_limit_is_stopped_and_its_child_is_gone(test_templates):
    test_templates["long.html"] = LONG_DOCUMENT
    context = {"paragraphs": 5000, "line": "Lorem ipsum dolor sit amet, consectetur. " * 2}
    before = children_of_this_process()
    rendering = asyncio.create_task(render_pdf("long.html", context, language="en", time_limit=1))
    seen: set[int] = set()
    while not rendering.done():
        seen |= children_of_this_process() - before
        await asyncio.sleep(0.02)

    with pytest.raises(RenderFailed, match="took too long") as failure:
        rendering.result()
    assert failure.value.status_code == 503
    assert seen, "the render never started a child process"
    assert not seen & children_of_this_process()


@pytest.mark.slow
async def test_a_document_too_large_for_the_memory_limit_fails(test_templates):
    test_templates["long.html"] = LONG_DOCUMENT
    # 64 MB of HTML under a 256 MiB limit: the child runs out while reading or parsing it.
    context = {"paragraphs": 64_000, "line": "x" * 1000}
    with pytest.raises(RenderFailed, match="too large"):
        await render_pdf("long.html", context, language="en", memory_limit=256 << 20)


async def test_rendering_leaves_the_event_loop_free():
    ticks = 0
    rendering = asyncio.create_task(
        render_pdf("pdf/settlement.html", settlement(ENGLISH_TERMS, "en"), language="en")
    )
    while not rendering.done():
        await asyncio.sleep(0.01)
        ticks += 1
    assert rendering.result().startswith(b"%PDF-")
    # Had WeasyPrint run on the loop, the ticker would not have run during the render.
    assert ticks >= 10


class CountingHandler(http.server.BaseHTTPRequestHandler):
    requests: list[str]

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def listener() -> Iterator[tuple[str, list[str]]]:
    """An HTTP server on this machine, and the paths that were asked of it."""
    requests: list[str] = []
    handler = type("Handler", (CountingHandler,), {"requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", requests
    server.shutdown()
    server.server_close()


async def test_a_pdf_fetches_no_url(test_templates, listener, caplog, tmp_path):
    here, requests = listener
    test_templates["fetching.html"] = f"""{{% extends "pdf/base.html" %}}
{{% block title %}}Fetching{{% endblock %}}
{{% block metadata %}}<link rel="stylesheet" href="{here}/style.css">
<style>@import url("{here}/imported.css"); body {{ background: url("{here}/bg.png"); }}</style>
{{% endblock %}}
{{% block content %}}<p>Pictures:</p>
<img src="http://example.com/x.png"><img src="{here}/x.png"><img src="file:///etc/hostname">
<img src="static/../pyproject.toml">{{% endblock %}}
"""
    pdf = await render_pdf("fetching.html", {}, language="en")

    assert requests == []
    assert "Pictures:" in poppler("pdftotext", pdf, tmp_path)
    assert "refused http://example.com/x.png" in caplog.text


def test_only_files_under_static_may_be_read():
    assert worker.static_file(worker.BASE_URL + "static/css/print.css") == (
        worker.STATIC_DIR / "css/print.css"
    )
    for url in (
        "http://example.com/x.png",
        "https://127.0.0.1/static/css/print.css",
        "file:///etc/hostname",
        worker.BASE_URL + "pyproject.toml",
        worker.BASE_URL + "static/../pyproject.toml",
        worker.BASE_URL + "static/%2e%2e/pyproject.toml",
        worker.BASE_URL + "static/css/missing.css",
        "data:text/css,body{}",
    ):
        assert worker.static_file(url) is None, url


def test_weasyprint_runs_only_in_the_child_and_the_child_loads_no_web_app():
    server_side = subprocess.run(
        [
            sys.executable,
            "-c",
            "import asyncio, sys\n"
            "from portal.pdf.render import render_pdf\n"
            "asyncio.run(render_pdf('pdf/base.html', {}, language='en'))\n"
            "assert 'weasyprint' not in sys.modules, 'WeasyPrint was imported by the server'\n",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert server_side.returncode == 0, server_side.stderr

    child = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", worker.__name__, "--memory-limit", str(1 << 30)],
        input=b"<!doctype html><p>hello</p>",
        cwd=ROOT,
        capture_output=True,
    )
    assert child.returncode == 0 and child.stdout.startswith(b"%PDF-")
    imported = re.findall(r"\|\s+([\w.]+)$", child.stderr.decode(), re.MULTILINE)
    assert "weasyprint" in imported
    web = [name for name in imported if name.split(".")[0] in ("litestar", "piccolo", "uvicorn")]
    web += [name for name in imported if name.startswith(("portal.web", "portal.app"))]
    assert not web, web

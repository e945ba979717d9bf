"""The child process that turns one HTML document into PDF bytes with WeasyPrint.

`portal.pdf.render` starts it for each document: the HTML comes on stdin, the PDF
leaves on stdout, and anything WeasyPrint has to say goes to stderr. Laying out a
document and subsetting its CJK fonts costs a second or more of CPU and a few hundred
megabytes of address space, so it happens here, under a limit on that address space,
where a runaway document can be killed without touching the server. It imports
WeasyPrint and the standard library, never the web app.

Besides stdin it reads the files the parent names with `--attach` (embedded as they are,
under their own names), and a file under the project's `static/`
directory (the print stylesheet, fonts, images): a PDF of a case must never make
the server fetch a URL that someone wrote into the case.
"""

from __future__ import annotations

import argparse
import logging
import mimetypes
import os
import resource
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

PROJECT_DIR = Path(__file__).resolve().parents[2]
STATIC_DIR = PROJECT_DIR / "static"
BASE_URL = PROJECT_DIR.as_uri() + "/"
"""Templates link `static/css/print.css`; relative to this it is a file under STATIC_DIR."""

PDF_VARIANT = "pdf/a-3b"
"""Archivable, and attachments may be of any type (PDF/A-2 allows only PDF/A files)."""

OUT_OF_MEMORY = 3
"""Exit status when Python ran out of memory under the limit. Near the limit, Pango may
instead fail to start a thread and abort the process; the parent reports that as a
failure without a reason."""


def static_file(url: str) -> Path | None:
    """The file under STATIC_DIR that `url` names, or None for anything else."""
    parts = urlsplit(url)
    if parts.scheme != "file" or parts.netloc not in ("", "localhost"):
        return None
    path = Path(url2pathname(parts.path)).resolve()
    if not path.is_relative_to(STATIC_DIR) or not path.is_file():
        return None
    return path


def url_fetcher() -> Any:
    # WeasyPrint is imported in the child only: the server imports this module too.
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class StaticFilesOnly(URLFetcher):  # type: ignore[misc]
        """Serves the portal's static files and refuses every other URL, http or file."""

        def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
            path = static_file(url)
            if path is None:
                raise ValueError(f"refused {url}: a PDF may only use the portal's static files")
            content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            return URLFetcherResponse(
                path.as_uri(), path.read_bytes(), headers={"Content-Type": content_type}
            )

    return StaticFilesOnly()


def write_pdf(html: str, attachments: list[Path] | None = None) -> bytes:
    # In the child only, as in `url_fetcher`.
    from weasyprint import HTML, Attachment

    document = HTML(string=html, base_url=BASE_URL, url_fetcher=url_fetcher())
    # PDF/A-3 lets a file carry data of any type, each named in the catalog's /AF with
    # its relationship to the document: the proof bundle is the data the document shows.
    files = [
        Attachment(filename=str(path), name=path.name, relationship="Data")
        for path in attachments or []
    ]
    pdf: bytes = document.write_pdf(pdf_variant=PDF_VARIANT, attachments=files)
    return pdf


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--memory-limit", type=int, required=True, help="bytes of address space")
    parser.add_argument(
        "--attach", type=Path, action="append", default=[], help="a file to embed, by its name"
    )
    args = parser.parse_args()
    # Before WeasyPrint is imported, so that its libraries count against the limit too.
    resource.setrlimit(resource.RLIMIT_AS, (args.memory_limit, args.memory_limit))
    # WeasyPrint reports refused URLs and unusable CSS as log records; the parent logs them.
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(name)s: %(message)s")
    try:
        pdf = write_pdf(sys.stdin.buffer.read().decode("utf-8"), args.attach)
    except MemoryError:
        print(f"out of memory: the limit is {args.memory_limit} bytes", file=sys.stderr)
        return OUT_OF_MEMORY
    # One write(2) may take only part of it (with PYTHONUNBUFFERED=1 the rest would be
    # dropped): the parent must get the whole PDF or a failed child, never a short one.
    sys.stdout.flush()
    view = memoryview(pdf)
    while view:
        view = view[os.write(sys.stdout.fileno(), view) :]
    return 0


if __name__ == "__main__":
    sys.exit(main())

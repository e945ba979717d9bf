"""Rendering a template under `templates/pdf/` into the bytes of a PDF/A-3b document.

The HTML is written here, with the page templates' filters and in the reader's
language; the layout happens in `portal.pdf.worker`, one child process per document,
under a time limit and a memory limit. A document that exceeds either, or that
WeasyPrint cannot lay out, raises `RenderFailed`: the child is gone by then. Meanwhile
the event loop only waits on the child's pipes, so the server goes on serving requests.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import tempfile
import weakref
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment

from portal import i18n
from portal.errors import PortalError
from portal.i18n import _
from portal.pdf import worker
from portal.web.pages import template_config

log = logging.getLogger(__name__)

TIME_LIMIT = 60.0
"""Seconds a child may take, its start-up included, before it is killed."""
MEMORY_LIMIT = 1 << 30
"""Bytes of address space a child may map (RLIMIT_AS); a 2-page Chinese agreement maps
about 300 MiB, of which it touches about 160 MiB."""
CONCURRENT_RENDERS = max(2, os.cpu_count() or 1)
"""Children one server process runs at once; more renders wait for a free one."""


class RenderFailed(PortalError):
    """The PDF could not be made this time; nothing about the case changed."""

    status_code = 503


_environment: Environment | None = None


def pdf_templates() -> Environment:
    """The page templates' Jinja environment: same filters, globals and translations."""
    global _environment
    if _environment is None:
        _environment = template_config().to_engine().engine
    return _environment


_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
    weakref.WeakKeyDictionary()
)


def _free_slot() -> asyncio.Semaphore:
    # A semaphore belongs to one event loop; tests, and the CLI, run more than one.
    loop = asyncio.get_running_loop()
    return _slots.setdefault(loop, asyncio.Semaphore(CONCURRENT_RENDERS))


async def render_pdf(
    template_name: str,
    context: dict[str, Any],
    *,
    language: str,
    time_limit: float = TIME_LIMIT,
    memory_limit: int = MEMORY_LIMIT,
    attachments: Mapping[str, bytes] | None = None,
) -> bytes:
    """The PDF of `templates/<template_name>` with `context`, written in `language`.

    `attachments` maps a file name to its content; each is embedded in the PDF/A-3 file.
    """
    # In a thread: a case file of thousands of entries is a few MB of HTML.
    html = await asyncio.to_thread(_html, template_name, context, language)
    with tempfile.TemporaryDirectory(prefix="portal-pdf-") as tmp:
        paths = []
        for name, content in (attachments or {}).items():
            path = Path(tmp) / Path(name).name
            path.write_bytes(content)
            paths.append(path)
        async with _free_slot():
            return await _lay_out(html, template_name, time_limit, memory_limit, paths)


def _html(template_name: str, context: dict[str, Any], language: str) -> str:
    with i18n.language(language):
        return pdf_templates().get_template(template_name).render(**context)


async def _lay_out(
    html: str, template_name: str, time_limit: float, memory_limit: int, attach: list[Path]
) -> bytes:
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        worker.__name__,
        "--memory-limit",
        str(memory_limit),
        *(arg for path in attach for arg in ("--attach", str(path))),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=worker.PROJECT_DIR,
    )
    try:
        async with asyncio.timeout(time_limit):
            pdf, said = await child.communicate(html.encode("utf-8"))
    except TimeoutError:
        log.error("PDF of %s stopped after %s s", template_name, time_limit)
        raise RenderFailed(
            _(
                "Making this PDF took too long and was stopped; nothing about the case has "
                "changed. Please try again in a few minutes."
            )
        ) from None
    finally:
        # Also when the request was cancelled: a child is never left running on its own.
        if child.returncode is None:
            child.kill()
            await child.wait()
    warnings = said.decode("utf-8", "replace").strip()
    if child.returncode == worker.OUT_OF_MEMORY:
        log.error("PDF of %s ran out of memory: %s", template_name, warnings)
        raise RenderFailed(
            _(
                "This document is too large to make into a PDF; nothing about the case has "
                "changed. Please tell the staff on the case, who can have the limit raised."
            )
        )
    if child.returncode != 0 or not pdf.startswith(b"%PDF-"):
        log.error("PDF of %s failed (exit %s): %s", template_name, child.returncode, warnings)
        raise RenderFailed(
            _(
                "The PDF could not be made just now; nothing about the case has changed. "
                "Please try again in a few minutes, and tell the staff on the case if it "
                "fails again."
            )
        )
    if warnings:
        log.warning("PDF of %s: %s", template_name, warnings)
    return pdf

"""Showing what users wrote: escaped, with paragraphs and clickable links, never their HTML."""

from __future__ import annotations

import re

from markupsafe import Markup, escape

URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")


def _linked(line: str) -> str:
    out, last = [], 0
    for match in URL.finditer(line):
        out.append(str(escape(line[last : match.start()])))
        url = escape(match.group(0))
        out.append(
            f'<a href="{url}" rel="noopener noreferrer nofollow ugc" target="_blank">{url}</a>'
        )
        last = match.end()
    out.append(str(escape(line[last:])))
    return "".join(out)


def paragraphs(text: str) -> Markup:
    """Blank lines separate paragraphs; single newlines are kept as line breaks."""
    blocks = re.split(r"\n\s*\n", text.replace("\r\n", "\n").strip())
    html = "".join(
        "<p>" + "<br>".join(_linked(line) for line in block.split("\n")) + "</p>"
        for block in blocks
        if block.strip()
    )
    return Markup(html)  # every piece of user text above went through escape()

"""A crawler for the portal as one person sees it: every same-origin link and GET form,
breadth first, every response kept; POST forms recorded, never sent.

What it follows is read from the pages (`<a href>`, `hx-get`, `src`, `<link href>`,
GET forms with their default values) and from the app's own route table (every GET
route that needs no parameter), so a route added later is crawled without editing
this file. POST forms (and `hx-post`) are recorded with their fields: a crawl that
submitted them would withdraw cases and sign settlements, so the crawl sends none;
the replay sends them as people who are *not* on the case, who must be refused.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, ClassVar
from urllib.parse import urlencode, urljoin, urlsplit

import httpx

ORIGIN = "http://portal.test"
# Each person's crawl stops here at the latest: a liveness bound, not a measurement.
MAX_PAGES = 1500
PARAMETER = re.compile(r"\{(\w+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class Form:
    """A form (or an `hx-post`) as a page offers it: where it goes and what it sends."""

    action: str
    method: str
    fields: tuple[tuple[str, str], ...]
    multipart: bool
    found_on: str


@dataclass
class Visit:
    """One request and what came back, as one person's browser saw it."""

    who: str
    method: str
    path: str
    status: int
    headers: list[tuple[str, str]]
    body: bytes
    found_on: str = ""

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k.lower() == name.lower()]
        return found[0] if found else None

    def set_cookies(self) -> list[str]:
        return [v for k, v in self.headers if k.lower() == "set-cookie"]

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def is_html(self) -> bool:
        return (self.header("content-type") or "").startswith("text/html")


class PageLinks(HTMLParser):
    """Everything a page lets a browser request next."""

    LINK_ATTRIBUTES: ClassVar[dict[str, tuple[str, ...]]] = {
        "a": ("href", "hx-get"),
        "link": ("href",),
        "script": ("src",),
        "img": ("src",),
        "iframe": ("src",),
        "object": ("data",),
    }

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.forms: list[dict[str, Any]] = []
        self._form: dict[str, Any] | None = None
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        for name in self.LINK_ATTRIBUTES.get(tag, ()):
            if found.get(name):
                self.links.append(found[name])
        if tag != "a" and found.get("hx-get"):
            self.links.append(found["hx-get"])
        if found.get("hx-post") and tag != "form":
            self.forms.append(
                {"action": found["hx-post"], "method": "post", "fields": [], "multipart": False}
            )
        if tag == "form":
            self._form = {
                "action": found.get("hx-post") or found.get("action") or "",
                "method": "post" if found.get("hx-post") else found.get("method", "get").lower(),
                "fields": [],
                "multipart": "multipart" in found.get("enctype", found.get("hx-encoding", "")),
            }
            self.forms.append(self._form)
        elif self._form is not None:
            self._field(tag, found)

    def _field(self, tag: str, found: dict[str, str]) -> None:
        assert self._form is not None
        name = found.get("name")
        if tag == "input" and name:
            kind = found.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in found:
                return
            if kind in ("submit", "button", "image", "file", "reset"):
                return
            self._form["fields"].append((name, found.get("value", "")))
        elif tag == "select" and name:
            self._select, self._select_value = name, None
        elif tag == "option" and self._select is not None:
            if self._select_value is None or "selected" in found:
                self._select_value = found.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._form["fields"].append((name, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None and self._form is not None:
            self._form["fields"].append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self._form is not None:
            name, value = self._form["fields"][-1]
            self._form["fields"][-1] = (name, value + data)


def same_origin_path(link: str, base: str) -> str | None:
    """The path and query of a link that stays on the portal, or None."""
    absolute = urljoin(ORIGIN + base, link.strip())
    parts = urlsplit(absolute)
    if f"{parts.scheme}://{parts.netloc}" != ORIGIN or not parts.path:
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def read_page(html: str, base: str) -> tuple[list[str], list[Form], list[str]]:
    """The links to follow, the POST forms to record, and the GET forms' URLs."""
    parser = PageLinks()
    parser.feed(html)
    links = [p for link in parser.links if (p := same_origin_path(link, base))]
    posts, gets = [], []
    for form in parser.forms:
        action = same_origin_path(form["action"] or base, base)
        if action is None:
            continue
        if form["method"] == "get":
            query = urlencode([(k, v) for k, v in form["fields"] if k != "_csrf_token"])
            gets.append(action.split("?")[0] + (f"?{query}" if query else ""))
        else:
            posts.append(
                Form(action, form["method"], tuple(form["fields"]), form["multipart"], base)
            )
    return links, posts, gets


@dataclass
class RouteTable:
    """The app's routes as patterns: which path a URL matches, and its parameters."""

    patterns: list[tuple[str, re.Pattern[str], frozenset[str]]] = field(default_factory=list)

    @classmethod
    def of(cls, app: Any) -> RouteTable:
        table = cls()
        for route in app.routes:
            methods = set(getattr(route, "methods", ()) or ())
            if not methods - {"HEAD", "OPTIONS"}:
                continue
            regex = ""
            last = 0
            for match in PARAMETER.finditer(route.path):
                regex += re.escape(route.path[last : match.start()])
                value = ".+" if ":path" in match.group(0) else "[^/]+"
                regex += f"(?P<{match.group(1)}>{value})"
                last = match.end()
            regex += re.escape(route.path[last:])
            table.patterns.append(
                (route.path, re.compile(regex + "$"), frozenset(methods - {"HEAD", "OPTIONS"}))
            )
        return table

    def match(self, path: str) -> tuple[str, dict[str, str]] | None:
        """The route template a path belongs to and the values of its parameters; the most
        literal template wins (`/cases/new` over `/cases/{ref}`)."""
        bare = path.split("?")[0]
        found = [
            (template, m.groupdict())
            for template, pattern, _methods in self.patterns
            if (m := pattern.match(bare))
        ]
        if not found:
            return None
        return min(found, key=lambda hit: len(hit[1]))

    def case_of(self, path: str) -> str | None:
        """The case reference a URL names, if its route takes one."""
        hit = self.match(path)
        return hit[1].get("ref") if hit else None

    def has_parameters(self, path: str) -> bool:
        hit = self.match(path)
        return bool(hit and hit[1])

    def plain_get_routes(self) -> list[str]:
        """Every GET route that needs no parameter: where a crawl starts, besides `/`."""
        return sorted(
            template
            for template, _pattern, methods in self.patterns
            if "GET" in methods and not PARAMETER.search(template)
        )

    def routes_without_get(self) -> list[str]:
        """Routes that only take a POST (or another method): a GET of one is refused."""
        return sorted(t for t, _p, methods in self.patterns if "GET" not in methods)

    def case_get_routes(self) -> list[str]:
        """Every GET route whose only parameter is the case's reference."""
        return sorted(
            template
            for template, _pattern, methods in self.patterns
            if "GET" in methods and [m.group(1) for m in PARAMETER.finditer(template)] == ["ref"]
        )


def fill(template: str, ref: str) -> str:
    """A URL of the route: the case's reference for `ref`, 1 for any other parameter."""
    return PARAMETER.sub(lambda m: ref if m.group(1) == "ref" else "1", template)


async def fetch(client: httpx.AsyncClient, who: str, path: str, found_on: str = "") -> Visit:
    response = await client.get(path)
    return Visit(
        who, "GET", path, response.status_code, response.headers.multi_items(),
        response.content, found_on,
    )  # fmt: skip


@dataclass
class Crawl:
    """One person's crawl: every response, and every POST form seen on the way."""

    who: str
    visits: list[Visit] = field(default_factory=list)
    forms: dict[str, Form] = field(default_factory=dict)


async def crawl(client: httpx.AsyncClient, who: str, seeds: list[str]) -> Crawl:
    """Breadth first from `seeds`, following links, redirects and GET forms on the portal."""
    done = Crawl(who)
    queue: deque[tuple[str, str]] = deque((seed, "(seed)") for seed in seeds)
    seen = {seed for seed in seeds}
    while queue and len(done.visits) < MAX_PAGES:
        path, found_on = queue.popleft()
        visit = await fetch(client, who, path, found_on)
        done.visits.append(visit)
        following: list[str] = []
        location = visit.header("location")
        if 300 <= visit.status < 400 and location:
            following += filter(None, [same_origin_path(location, path)])
        if visit.is_html:
            links, posts, gets = read_page(visit.text, path)
            following += links + gets
            for form in posts:
                done.forms.setdefault(form.action, form)
        for target in following:
            if target not in seen:
                seen.add(target)
                queue.append((target, path))
    assert not queue, f"{who}'s crawl passed {MAX_PAGES} pages; is a link generating links?"
    return done

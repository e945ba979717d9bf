"""The baseline for the web figures: a bare Litestar page, served like the portal
(uvicorn, two workers), so a figure of the portal can be read as a multiple of what
the framework and the server cost on this machine in the same run."""

from litestar import Litestar, MediaType, get

PAGE = "<!doctype html><title>Hello</title><p>Hello.</p>"


@get("/", media_type=MediaType.HTML)
async def hello() -> str:
    return PAGE


app = Litestar(route_handlers=[hello])

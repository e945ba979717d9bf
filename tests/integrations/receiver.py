"""A real HTTP server for webhooks, on 127.0.0.1 and a port of the system's choosing.

It answers 503 to its first `failures` requests and 200 after, or never answers at all
(`hang`), and keeps every request it got: headers and body as they came off the wire.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    answered: int | None


@dataclass
class Receiver:
    failures: int = 0
    hang: bool = False
    requests: list[Received] = field(default_factory=list)
    _server: asyncio.Server | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _arrived: asyncio.Event = field(default_factory=asyncio.Event)

    async def first_request(self, guard: float = 30.0) -> Received:
        """The first request, once it came (`guard` seconds at most, so a bug cannot hang
        the suite)."""
        await asyncio.wait_for(self._arrived.wait(), timeout=guard)
        return self.requests[0]

    def release(self) -> None:
        """Let a hanging receiver drop the connections it holds."""
        self._release.set()

    def hold(self) -> None:
        """Hang again on the next requests, until released or closed."""
        self._release.clear()

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.sockets[0].getsockname()[:2]
        return f"http://{host}:{port}/hooks/portal"

    async def start(self) -> Receiver:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def close(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = await reader.readline()
            if not request_line:
                return
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b"\n", b""):
                name, _sep, value = line.decode("latin-1").partition(":")
                headers[name.strip().lower()] = value.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            if self.hang:
                self.requests.append(Received(headers, body, None))
                self._arrived.set()
                await self._release.wait()
                return
            status = 503 if len(self.requests) < self.failures else 200
            self.requests.append(Received(headers, body, status))
            self._arrived.set()
            writer.write(
                f"HTTP/1.1 {status} {'OK' if status == 200 else 'Unavailable'}\r\n"
                "Content-Length: 0\r\nConnection: close\r\n\r\n".encode()
            )
            await writer.drain()
        finally:
            writer.close()

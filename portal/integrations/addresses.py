"""Where the portal may send a webhook: not into its own network.

Whoever holds an API key that may manage webhooks chooses the address the portal posts
to. Unchecked, such a key could make the portal post to 127.0.0.1, the cloud's metadata
address or a database on the private network, and read in the delivery log whether
anything answered (server-side request forgery). So, unless
PORTAL_WEBHOOK_PRIVATE_ADDRESSES allows it (development does, for a receiver on the same
machine), every address the host name resolves to must be a public one: when the webhook
is registered, and again before each delivery, because a name can be pointed elsewhere
after it was checked.

What this does not close: the HTTP client resolves the name once more when it connects,
so a name whose answers change within that moment (DNS rebinding with no cache) could
still lead it astray; a proxy that allows only public addresses is the complete answer.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit


class AddressRefused(Exception):
    """The host cannot be found, or leads to a private or local address."""

    def __init__(self, host: str, address: str | None) -> None:
        super().__init__(host, address)
        self.host = host
        self.address = address  # None: the name does not resolve


def is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    return ip.is_global and not ip.is_multicast


async def check_public(url: str) -> None:
    """Return if every address of the URL's host is public; AddressRefused otherwise.

    The look-up is the event loop's own `getaddrinfo`, run in a thread, so a slow name
    server holds up only this request."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        answers = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise AddressRefused(host, None) from None
    for *_, sockaddr in answers:
        if not is_public(str(sockaddr[0])):
            raise AddressRefused(host, str(sockaddr[0]))

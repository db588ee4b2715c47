"""The client's IP address: the one function every lockout, throttle and audit row uses.

`X-Forwarded-For` is believed only when the direct peer (REMOTE_ADDR) is a trusted proxy
(`settings.RESYNC_TRUSTED_PROXIES`, IPs or CIDRs, empty by default): anyone else could
write any address there and dodge a lockout or throttle, or frame another client. Behind
trusted proxies the header is read from the right, skipping the proxies' own addresses; the
first address that is not a trusted proxy is the client.

There is never a shared fallback value: the original Resync keyed lockouts on "unknown" when
it could not tell, and locked everyone out at once. An address that cannot be known is the
empty string, and the callers skip the per-address limits for it.
"""

from __future__ import annotations

import functools
import ipaddress
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_current_client_ip: ContextVar[str] = ContextVar("client_ip", default="")
_ATTR = "_resync_client_ip"


def client_ip(request) -> str:
    """The client's address for this request (a Django or DRF request), or "" if unknown."""
    http_request = getattr(request, "_request", request)  # DRF wraps the Django request
    cached = getattr(http_request, _ATTR, None)
    if cached is None:
        cached = _resolve(http_request.META)
        setattr(http_request, _ATTR, cached)
    return cached


def current_client_ip() -> str:
    """The address of the request this thread is serving ("" outside a request)."""
    return _current_client_ip.get()


def _resolve(meta) -> str:
    peer = _parse(meta.get("REMOTE_ADDR", ""))
    if peer is None:
        return ""
    networks = trusted_proxies()
    if not networks or not _trusted(peer, networks):
        return peer.compressed
    client = peer
    for hop in reversed(meta.get("HTTP_X_FORWARDED_FOR", "").split(",")):
        address = _parse(hop)
        if address is None:  # only a trusted proxy's garbage could get here: stop at it
            break
        client = address
        if not _trusted(address, networks):
            break
    return client.compressed


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:1.2.3.4 is 1.2.3.4
    return mapped or address


def _trusted(address, networks: tuple[_Network, ...]) -> bool:
    return any(address in network for network in networks)


def trusted_proxies() -> tuple[_Network, ...]:
    """The configured trusted proxy networks (parsed once per configured list)."""
    return _networks(tuple(settings.RESYNC_TRUSTED_PROXIES))


@functools.lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple[_Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def ip_in_networks(address: str, entries: list[str] | tuple[str, ...]) -> bool:
    """Is `address` (as client_ip gives it) in one of `entries` (IPs or CIDRs)? Never for ""."""
    parsed = _parse(address)
    return parsed is not None and _trusted(parsed, _networks(tuple(entries)))


class ClientIpMiddleware:
    """Resolves the client address once per request and makes it current for audit rows."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _current_client_ip.set(client_ip(request))
        try:
            return self.get_response(request)
        finally:
            _current_client_ip.reset(token)

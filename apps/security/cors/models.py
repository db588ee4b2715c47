"""The browser origins allowed to call the API cross-origin, and what an origin looks like.

An origin is exactly what a browser sends in its `Origin` header: `scheme://host[:port]`,
lower case, without the scheme's default port, with no path, no user name and no wildcard.
Rows are stored in that form, so the allow-list check is one exact string comparison.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import models

NOT_AN_ORIGIN = (
    "Enter an origin as scheme://host or scheme://host:port, e.g. https://ops.example.com."
)
NOT_ASCII = "Use only ASCII, without spaces (write an international host name in its xn-- form)."
BAD_SCHEME = "An origin's scheme is http or https."
HAS_PATH = "An origin has no path, query or fragment (not even a trailing /)."
HAS_USERINFO = "An origin has no user name or password."
HAS_WILDCARD = "Wildcards are not allowed: list each origin."
BAD_HOST = "The host is not a host name or an IP address."
BAD_PORT = "The port must be a number from 1 to 65535."
ALREADY_LISTED = "This origin is already listed."

DEFAULT_PORTS = {"http": 80, "https": 443}
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_PRINTABLE_ASCII = re.compile(r"[!-~]+\Z")


def _host(host: str, *, bracketed: bool) -> str:
    """The host as a browser serialises it (IPv6 in brackets, compressed), or raise."""
    if bracketed:
        try:
            return f"[{ipaddress.IPv6Address(host).compressed}]"
        except ValueError:
            raise ValidationError(BAD_HOST) from None
    if re.fullmatch(r"[0-9.]+", host):
        try:
            return str(ipaddress.IPv4Address(host))
        except ValueError:
            raise ValidationError(BAD_HOST) from None
    labels = host.split(".")
    if len(host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValidationError(BAD_HOST)
    return host


def origin_normalize(value: str) -> str:
    """`value` as a browser's Origin header would spell it; ValidationError if not an origin."""
    text = value.strip()
    if "*" in text:
        raise ValidationError(HAS_WILDCARD)
    if not _PRINTABLE_ASCII.match(text):
        raise ValidationError(NOT_ASCII if text else NOT_AN_ORIGIN)
    if "://" not in text:
        raise ValidationError(NOT_AN_ORIGIN)
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise ValidationError(BAD_PORT if "[" not in text else BAD_HOST) from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ValidationError(BAD_SCHEME)
    if parts.path or "?" in text or "#" in text:
        raise ValidationError(HAS_PATH)
    if "@" in parts.netloc:
        raise ValidationError(HAS_USERINFO)
    if not parts.hostname:
        raise ValidationError(NOT_AN_ORIGIN)
    if port is not None and not 1 <= port <= 65535:
        raise ValidationError(BAD_PORT)
    host = _host(parts.hostname, bracketed=parts.netloc.startswith("["))
    suffix = f":{port}" if port is not None and port != DEFAULT_PORTS[scheme] else ""
    return f"{scheme}://{host}{suffix}"


class CorsOrigin(models.Model):
    """A browser origin allowed to call the API from its pages (CORS)."""

    origin = models.CharField(
        max_length=300,
        unique=True,
        error_messages={"unique": ALREADY_LISTED},
        help_text="scheme://host[:port], e.g. https://ops.example.com: no path, no wildcard.",
    )
    enabled = models.BooleanField(default=True, help_text="Only enabled origins are allowed.")
    note = models.CharField(max_length=200, blank=True, help_text="Who uses it, and why.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["origin"]
        verbose_name = "CORS origin"
        verbose_name_plural = "CORS origins"

    def __str__(self) -> str:
        return self.origin if self.enabled else f"{self.origin} (disabled)"

    def clean(self) -> None:
        # Stored as browsers send it, so uniqueness and the allow-list compare like with like.
        if self.origin:
            try:
                self.origin = origin_normalize(self.origin)
            except ValidationError as exc:
                raise ValidationError({"origin": exc.messages}) from None

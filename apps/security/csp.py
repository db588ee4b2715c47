"""The Content-Security-Policy headers, built once per policy instead of on every response.

django-csp's middleware rebuilds its header from the settings for every response, which costs
about a third of a JWT verification. The policy changes only with the settings, so this
subclass builds each header once, in two forms: without a nonce, and with a marker where the
nonce goes. A response whose page used `request.csp_nonce` gets the second with its nonce
spliced in. A view that changes its own policy (django-csp's `@csp`, `@csp_update`,
`@csp_replace`) is still built by django-csp, per response.

It also sends `Reporting-Endpoints`, which tells the browser where the policy's `report-to`
group is: the `report-uri` address (browsers that do not know report-to use report-uri).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

REPORTING_ENDPOINTS = "Reporting-Endpoints"
# Where the nonce goes in a prebuilt header: no policy contains it, and a nonce (base64) has
# neither < nor >.
NONCE_MARK = "<nonce>"
# Attributes django-csp's decorators set on a response to change the policy for one view.
_PER_VIEW_POLICY = tuple(
    f"_csp_{kind}{suffix}" for kind in ("config", "update", "replace") for suffix in ("", "_ro")
)
_POLICY_SETTINGS = frozenset({"CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY"})


@dataclass(frozen=True)
class PolicyHeader:
    """One header as the settings define it, built once."""

    name: str
    value: str
    value_with_nonce: str  # holds NONCE_MARK
    exempt_attribute: str  # set by django-csp's @csp_exempt
    excluded_prefixes: tuple[str, ...]
    reporting_endpoints: str  # the Reporting-Endpoints value, or ""

    def for_nonce(self, nonce: str | None) -> str:
        return self.value if nonce is None else self.value_with_nonce.replace(NONCE_MARK, nonce)

    def applies_to(self, request: HttpRequest, response: HttpResponseBase) -> bool:
        return (
            self.name not in response
            and not getattr(response, self.exempt_attribute, False)
            and not request.path_info.startswith(self.excluded_prefixes)
        )


@functools.cache
def policy_headers() -> tuple[PolicyHeader, ...]:
    """The enforced and the report-only header, those the settings define."""
    headers = []
    for name, setting, report_only, exempt in (
        (HEADER, "CONTENT_SECURITY_POLICY", False, "_csp_exempt"),
        (HEADER_REPORT_ONLY, "CONTENT_SECURITY_POLICY_REPORT_ONLY", True, "_csp_exempt_ro"),
    ):
        value = build_policy(report_only=report_only)
        if not value:
            continue
        policy = getattr(settings, setting)
        headers.append(
            PolicyHeader(
                name=name,
                value=value,
                value_with_nonce=build_policy(nonce=NONCE_MARK, report_only=report_only),
                exempt_attribute=exempt,
                excluded_prefixes=tuple(policy.get("EXCLUDE_URL_PREFIXES") or ()),
                reporting_endpoints=_reporting_endpoints(policy.get("DIRECTIVES") or {}),
            )
        )
    return tuple(headers)


def _reporting_endpoints(directives: Mapping) -> str:
    group, uris = directives.get("report-to"), directives.get("report-uri")
    if not group or not uris:
        return ""
    uri = uris if isinstance(uris, str) else next(iter(uris))
    return f'{group}="{uri}"'


@receiver(setting_changed)
def _forget_policy_headers(*, setting: str, **kwargs) -> None:
    if setting in _POLICY_SETTINGS:
        policy_headers.cache_clear()


class CSPMiddleware(DjangoCSPMiddleware):
    """django-csp's middleware, answering from the prebuilt headers."""

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if any(getattr(response, attr, None) is not None for attr in _PER_VIEW_POLICY):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in (404, 500):
            return response  # Django's debug pages carry inline code (as django-csp does)
        nonce = getattr(request, "_csp_nonce", None)
        for header in policy_headers():
            if header.applies_to(request, response):
                response[header.name] = header.for_nonce(nonce)
                if header.reporting_endpoints and REPORTING_ENDPOINTS not in response:
                    response[REPORTING_ENDPOINTS] = header.reporting_endpoints
        if nonce is None:
            # A nonce asked for after this point would not be in the header: fail loudly.
            request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response

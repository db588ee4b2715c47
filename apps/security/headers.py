"""The security headers Django has no setting for, built once when the process starts.

Django's SecurityMiddleware sends nosniff, Referrer-Policy, Cross-Origin-Opener-Policy and
HSTS, XFrameOptionsMiddleware X-Frame-Options (settings.py, "Security headers"); this one
adds the rest:

- Permissions-Policy: every powerful browser feature off, for this site and anything it
  embeds (nothing in the admin or the API docs uses one).
- Cross-Origin-Resource-Policy: same-origin: other sites cannot embed our responses
  (`<img>`, `<script>`); CORS requests from allowed origins are not affected.
- X-XSS-Protection: 0: the old XSS auditor's "1; mode=block" could be abused to blank out or
  probe pages and is gone from current browsers; "0" turns it off where it remains, and the
  Content-Security-Policy does that job.
- Cache-Control: no-store on every API response (plan reads served from Resync's own cache
  too): a browser or a shared proxy must not keep what a signed-in user was shown, nor the
  tokens the sign-in endpoints return. Resync's server-side cache is not affected.

Per request it only sets headers whose text is already built: a later performance issue
measures what each request costs.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# The features Chromium knows (an unknown name is a console error there), all denied.
DENIED_FEATURES = (
    "accelerometer",
    "autoplay",
    "camera",
    "display-capture",
    "encrypted-media",
    "fullscreen",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "local-fonts",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "picture-in-picture",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)
API_PREFIX = "/api/"
NO_STORE = "no-store"


def security_headers() -> dict[str, str]:
    """The headers every response carries (those Django's settings do not cover)."""
    return {
        "Permissions-Policy": PERMISSIONS_POLICY,
        "Cross-Origin-Resource-Policy": "same-origin",
        "X-XSS-Protection": "0",
    }


class SecurityHeadersMiddleware:
    """Adds `security_headers()` to every response and no-store to every API response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.headers = tuple(security_headers().items())

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in self.headers:
            response.headers.setdefault(name, value)
        if request.path.startswith(API_PREFIX):
            response.headers["Cache-Control"] = NO_STORE
        return response

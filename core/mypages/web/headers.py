"""The security headers of every response: pages, redirects, error pages, static files."""
from __future__ import annotations

from mypages.services import settings_of

CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")


def security_headers(response, registry, signed_in: bool) -> None:
    """Add the headers ``response`` does not set itself."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if settings_of(registry).production:
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if signed_in:
        headers.setdefault("Cache-Control", "private, no-store")


def security_headers_tween_factory(handler, registry):
    """Outermost of the tweens, so it also sees what the exception views answer."""

    def security_headers_tween(request):
        response = handler(request)
        security_headers(response, registry, request.request_context.user_if_loaded is not None)
        return response

    return security_headers_tween

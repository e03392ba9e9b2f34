"""Rate limit for requests anyone can send: the sign-in callback and writes
(POST, PUT, PATCH, DELETE) without a signed-in user.

A fixed one-minute window per source address (``security_events.client_source``)
counted with Django's cache (``add`` then the atomic ``incr``), shared by every
web process when the cache is Redis (``REDIS_URL``). Past
``ANONYMOUS_REQUESTS_PER_MINUTE`` the answer is 429 with a plain page
(``templates/429.html``) and a ``Retry-After``; the first refusal of a window
is counted as a ``rate_limited`` security event, the others write nothing.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse

from grantsconsole.accounts import security_events

logger = logging.getLogger("grantsconsole.accounts")

WINDOW_SECONDS = 60
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def hit(key: str, window: int = WINDOW_SECONDS) -> tuple[int, int]:
    """Count one request under ``key`` in the current fixed window of
    ``window`` seconds. Returns ``(count so far in this window, seconds until
    the window ends)``. A cache that cannot be reached counts 0 (the request
    goes ahead: the rate limit must not take sign-in down with it)."""
    now = time.time()
    bucket = f"ratelimit:{key}:{int(now // window)}"
    try:
        cache.add(bucket, 0, window + 5)
        try:
            count = cache.incr(bucket)
        except ValueError:  # the entry expired between add and incr
            cache.add(bucket, 1, window + 5)
            count = 1
    except Exception:  # Redis down: log, and let the request through
        logger.warning("rate limit: the cache is unavailable", exc_info=True)
        count = 0
    return count, int(window - now % window) + 1


class AnonymousRateLimitMiddleware:
    """Refuse the sign-in callback and anonymous writes past the per-source
    limit with 429, before any view, CSRF check or audit code runs. Place after
    ``AuthenticationMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if self._limited(request):
            source = security_events.client_source(request)
            limit = settings.ANONYMOUS_REQUESTS_PER_MINUTE
            count, retry_after = hit(f"anon:{source}")
            if count > limit:
                if count == limit + 1:
                    security_events.note(request, "rate_limited")
                response = HttpResponse(_page(), status=429)
                response["Retry-After"] = str(retry_after)
                return response
        return self.get_response(request)

    @staticmethod
    def _limited(request: HttpRequest) -> bool:
        if request.path == _callback_path():
            return True
        return request.method not in SAFE_METHODS and not request.user.is_authenticated


# Both are the same for every request: built once per process, so a refused
# request costs no URL resolving or template rendering.
@functools.cache
def _callback_path() -> str:
    return reverse("accounts:okta_callback")


@functools.cache
def _page() -> str:
    return render_to_string("429.html")

"""Request ids: one per request, for log lines and the ``X-Request-ID`` response header.

The platform router's ``X-Request-ID`` is reused when it is a well-formed id (UUID or
up to 64 of ``[A-Za-z0-9-]``), otherwise a new UUID4 is made, so a client cannot inject
text into our logs through the header. (django-guid does the same but pins Django < 6
on Python 3.12.)
"""

from __future__ import annotations

import contextvars
import logging
import re
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

_current: contextvars.ContextVar[str] = contextvars.ContextVar(
    "request_id", default="-"
)
_VALID = re.compile(r"^[A-Za-z0-9-]{8,64}$")


def current_request_id() -> str:
    """The id of the request being served in this context, or ``"-"``."""
    return _current.get()


class RequestIdMiddleware:
    """Sets the request id for the duration of the request and echoes it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        token = _current.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            _current.reset(token)
        response["X-Request-ID"] = request_id
        return response


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get()
        return True

"""JSON log lines for stdout (Heroku's log router), one object per line.

Every record carries the request id (django-guid's correlation id, taken from the
router's ``X-Request-ID`` when it is a valid UUID). Values are passed through
``redact`` so a token, assertion, secret or key that slips into a message is masked
before it leaves the process.
"""

from __future__ import annotations

import logging
import re

from pythonjsonlogger.json import JsonFormatter

# Bearer/SSWS credentials, JWTs (three base64url parts), and key=value secrets.
_SECRET_PATTERNS = [
    re.compile(r"(?i)\b(bearer|ssws|dpop)\s+[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    re.compile(
        r"(?i)\b(access_token|refresh_token|id_token|client_secret|client_assertion"
        r"|password|code_verifier|token)=([^&\s\"']+)"
    ),
    re.compile(
        r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S
    ),
]


def redact(text: str) -> str:
    """Return ``text`` with credentials replaced by ``[redacted]``."""
    for pattern in _SECRET_PATTERNS:
        text = pattern.sub(_mask, text)
    return text


def _mask(match: re.Match[str]) -> str:
    if match.re.groups == 2:
        return f"{match.group(1)}=[redacted]"
    if match.re.groups == 1:
        return f"{match.group(1)} [redacted]"
    return "[redacted]"


class RedactingJsonFormatter(JsonFormatter):
    """python-json-logger's formatter with secrets masked and newlines kept inside
    the JSON string (so a hostile value cannot forge a second log line)."""

    def process_log_record(self, log_data: dict) -> dict:  # type: ignore[override]
        for key, value in list(log_data.items()):
            if isinstance(value, str):
                log_data[key] = redact(value)
        return log_data


class RedactingFormatter(logging.Formatter):
    """Plain-text development formatter with the same masking and newline escaping."""

    def format(self, record: logging.LogRecord) -> str:
        text = redact(super().format(record))
        return text.replace("\r", "\\r").replace("\n", "\\n")

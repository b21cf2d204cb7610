"""Keep secrets out of messages and logs.

The Batch API takes its key in the query string, so every URL is a secret; httpx logs full request URLs
at INFO and its exceptions quote them. Everything user-visible goes through :func:`redact`, and
:func:`install_log_redaction` filters the loggers that might print a URL.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable

MASK = "***"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # apiKey=KEY or apiKey={KEY}, client_id=..., client_secret=... in URLs, forms and messages
    re.compile(r"(?i)((?:api_?key|client_secret|client_id|access_token)=)[^&\s'\"<>]+"),
    # JSON bodies: "access_token": "...", "client_secret": "..."
    re.compile(r"(?i)(\"(?:access_token|refresh_token|client_secret|client_id|api_?key)\"\s*:\s*\")[^\"]*"),
    re.compile(r"(?i)(\bBearer\s+)[A-Za-z0-9\-._~+/=]+"),
)

_registry: set[str] = set()
_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret so that every later :func:`redact` (and the log filter) masks it."""
    if value and len(value) >= 4:  # masking 1-3 character strings would garble ordinary text
        with _lock:
            _registry.add(value)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with key/secret/token parameters and every known secret value replaced by ``***``."""
    if not text:
        return text
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    with _lock:
        known = set(_registry)
    known.update(s for s in secrets if s)
    for secret in sorted(known, key=len, reverse=True):  # longest first: one secret may contain another
        text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message (with its args merged in) through :func:`redact`."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string is the logger's problem, not ours
            return True
        cleaned = redact(message)
        if cleaned != message or record.args:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # the formatter would print the exception text (often with a URL): render it redacted now
            record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
        return True


_FILTER = RedactingFilter()
LOGGERS = ("httpx", "httpcore", "dlt")


def install_log_redaction() -> RedactingFilter:
    """Attach the filter to the root handlers and to the httpx, httpcore and dlt loggers (idempotent).

    Logger-level filters only see records logged *on that logger*, so the filter also goes on the root
    logger's handlers, which see records propagated from every logger.
    """
    targets: list[logging.Filterer] = [logging.getLogger(), *(logging.getLogger(n) for n in LOGGERS)]
    for logger in list(targets):
        targets.extend(getattr(logger, "handlers", []))
    for target in targets:
        if _FILTER not in target.filters:
            target.addFilter(_FILTER)
    return _FILTER

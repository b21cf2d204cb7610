"""Keep secrets out of messages and logs.

The Batch API takes its key in the query string, so every URL is a secret; httpx logs full request URLs
at INFO and its exceptions quote them. Everything user-visible goes through :func:`redact`, and
:func:`install_log_redaction` filters the loggers that might print a URL.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections import Counter
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

_PATTERNS: tuple[re.Pattern[str], ...] = (
    # apiKey=KEY or apiKey={KEY}, client_id=..., client_secret=... in URLs, forms and messages
    re.compile(r"(?i)((?:api_?key|client_secret|client_id|access_token)=)[^&\s'\"<>]+"),
    # JSON bodies: "access_token": "...", "client_secret": "..."
    re.compile(r"(?i)(\"(?:access_token|refresh_token|client_secret|client_id|api_?key)\"\s*:\s*\")[^\"]*"),
    re.compile(r"(?i)(\bBearer\s+)[A-Za-z0-9\-._~+/=]+"),
    # credentials in a URL: scheme://user:password@host
    re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]*://)[^/\s@'\"<>]+@"),
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
        text = pattern.sub(lambda m: m.group(1) + MASK + ("@" if m.group(0).endswith("@") else ""), text)
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


def safe_url(url: str) -> str:
    """``url`` without credentials (``user:pass@``), query string or fragment: what may be stored or shown."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname or ""
        port = parts.port
    except ValueError:  # not a URL we can take apart: show nothing of it that could hold a secret
        return redact(url.split("?", 1)[0].split("#", 1)[0])
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{host}:{port}" if port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", "")).rstrip("/")


# --- telling a key from a name -------------------------------------------------------------------------
# iSAMS Batch API keys are GUIDs (often upper case, sometimes in braces); REST client secrets are long random
# strings. Names of environment variables, schools, hosts and paths are made of words.
_GUID = re.compile(
    r"(?i)(?<![0-9a-f])[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}(?![0-9a-f])"
)
_HEX_RUN = re.compile(r"(?i)[0-9a-f]{16,}")
_TOKEN = re.compile(r"[A-Za-z0-9+/=_\-.~]{20,}")


def _entropy(text: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _random_looking(token: str) -> bool:
    """A long token whose characters look drawn at random rather than spelled as words."""
    classes = sum(bool(re.search(p, token)) for p in (r"[a-z]", r"[A-Z]", r"[0-9]"))
    digits = sum(c.isdigit() for c in token)
    if classes == 3 and digits >= 2 and _entropy(token) >= 3.5:
        return True  # base64-like: mixed case and digits
    return len(token) >= 32 and classes >= 2 and digits >= 4 and _entropy(token) >= 4.0


def looks_like_key(value: str) -> bool:
    """Whether ``value`` holds something that looks like a key or secret: a GUID, a long hexadecimal run,
    or a long high-entropy token. Ordinary names, codes, host names and URLs do not."""
    if _GUID.search(value):
        return True
    for run in _HEX_RUN.findall(value):
        if any(c.isdigit() for c in run) and any(c.isalpha() for c in run):
            return True
    return any(_random_looking(t) for t in _TOKEN.findall(value))

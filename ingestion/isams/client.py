"""HTTP client for the iSAMS Batch and REST APIs: retries what is transient, explains what is not.

iSAMS deadlocks and times out intermittently (reference ``isams-api.md`` 1.4), so 5xx, 429, read timeouts,
dropped connections and truncated JSON are retried with exponential backoff. 4xx are never retried: they need
a person. A host that cannot be reached at all (connection refused, a name that does not resolve, a failed TLS
handshake, no answer to connect) is a wrong address or a blocked network, not a busy iSAMS: it gets one short
retry, then :class:`IsamsUnreachableError`, and every later call of that client fails at once with the same
message, so a dead school costs seconds, not minutes. Every error message names the school and dataset(s) and is redacted, because the Batch API key
travels in the URL and httpx quotes URLs in its exceptions.
"""

from __future__ import annotations

import errno
import functools
import json
import logging
import random
import socket
import ssl
import time
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import httpx
import orjson

from ingestion.core.config import SchoolConfig
from ingestion.isams.datasets import BatchDataset, RestDataset
from ingestion.isams.quirks import parse_error_body
from ingestion.core.redact import redact, register_secret, safe_url

log = logging.getLogger(__name__)

BATCH_PATH = "/api/batch/1.0/json.ashx"
TOKEN_PATH = "/auth/connect/token"
TOKEN_MARGIN_S = 30.0  # renew a token this long before iSAMS says it expires
CONNECT_TIMEOUT_S = 10.0  # a live iSAMS accepts a connection at once, however busy it is
UNREACHABLE_ATTEMPTS = 2  # one short retry for a host that cannot be reached (a blip in DNS or the network)
UNREACHABLE_RETRY_S = 2.0


class IsamsError(Exception):
    """An iSAMS call failed; ``str()`` names school and dataset and is free of secrets."""

    def __init__(
        self, message: str, *, school: str, dataset: str, status: int | None = None, message_id: str | None = None
    ) -> None:
        super().__init__(message)
        self.school, self.dataset, self.status, self.message_id = school, dataset, status, message_id


class IsamsAuthError(IsamsError):
    """The key or REST client credentials were rejected: later calls for this school will fail too."""


class IsamsPermissionError(IsamsError):
    """The key works but is not allowed to run this method."""


class IsamsUnavailableError(IsamsError):
    """iSAMS kept failing transiently until the retries ran out."""


class IsamsUnreachableError(IsamsUnavailableError):
    """The school's iSAMS host cannot be reached at all (refused, unknown name, TLS, no answer to connect)."""


# what each kind of unreachable host means and what a person should check
UNREACHABLE_ADVICE = {
    "dns": ("the host name does not resolve (DNS)",
            "check the spelling of base_url in the schools file and that this machine's DNS works"),
    "refused": ("the connection was refused",
                "check the host and port in base_url, and that the school's iSAMS is up at that address"),
    "tls": ("the TLS (https) handshake failed",
            "check that base_url is the school's iSAMS address with https, this machine's clock and CA "
            "certificates, and any proxy that intercepts TLS"),
    "connect-timeout": (f"no answer to connect within {CONNECT_TIMEOUT_S:.0f} s",
                        "check base_url, the firewall and proxy, and the IP allow-list on the school's API key "
                        "(iSAMS keys can be restricted to addresses)"),
    "connect": ("the connection failed", "check base_url and that this machine can reach it"),
}


def unreachable_kind(exc: BaseException) -> str | None:
    """``dns``/``refused``/``tls``/``connect-timeout``/``connect`` for a failure to reach the host at all;
    None for failures after connecting (a dropped or truncated transfer), which are worth retrying."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "connect-timeout"
    if not isinstance(exc, httpx.ConnectError):
        return None
    chain, cause = [], exc
    while cause is not None and len(chain) < 10:
        chain.append(cause)
        cause = cause.__cause__ or cause.__context__
    text = " ".join(str(c) for c in chain).lower()
    if any(isinstance(c, ssl.SSLError) for c in chain) or "ssl" in text or "certificate" in text or "tls" in text:
        return "tls"
    if any(isinstance(c, socket.gaierror) for c in chain) or any(
        k in text for k in ("name or service not known", "name resolution", "nodename nor servname",
                            "getaddrinfo", "no address associated", "errno -2", "errno -3", "errno -5")
    ):
        return "dns"
    if any(isinstance(c, ConnectionRefusedError) or getattr(c, "errno", None) == errno.ECONNREFUSED
           for c in chain) or "refused" in text:
        return "refused"
    return "connect"


class _Unreachable(Exception):
    """Internal: one attempt could not reach the host."""

    def __init__(self, kind: str, detail: str) -> None:
        super().__init__(detail)
        self.kind, self.detail = kind, detail


class _Retryable(Exception):
    """Internal: one attempt failed in a way worth repeating."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason, self.retry_after = reason, retry_after


def filters_xml(datasets: Sequence[BatchDataset], window: tuple[date, date] | None = None) -> str:
    """The Batch ``<Filters>`` body: which methods to run and, for registers, the date window."""
    methods = "".join(f"<Method>{escape(d.method)}</Method>" for d in datasets)
    body = f"<MethodsToRun>{methods}</MethodsToRun>"
    if any(d.windowed for d in datasets):
        if window is None:
            raise ValueError("windowed datasets (registers) need a (start, end) window")
        start, end = window
        body += (
            f"<Registration><RegistrationStatus StartDate={quoteattr(start.isoformat())} "
            f"EndDate={quoteattr(end.isoformat())}/></Registration>"
        )
    return f"<Filters>{body}</Filters>"


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:  # an HTTP date: fall back to our own backoff
        return None


def fast_loads(content: bytes) -> Any:
    """``json.loads`` through orjson (several times faster on big register windows).

    Whatever orjson refuses and ``json`` accepts (a BOM or UTF-16, lone surrogates, NaN, overflowing
    floats) goes to ``json.loads``, so only truncated or invalid JSON still raises ``ValueError``. The one
    silent difference: orjson reads an integer beyond 64 bits as a float (Json.NET sends strings only).
    """
    try:
        return orjson.loads(content)
    except orjson.JSONDecodeError:
        return json.loads(content)


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's own default TLS context (same CA bundle and environment), built once for every school's
    client: building one loads the CA bundle, ~0.3 s of CPU per school otherwise."""
    return httpx.create_ssl_context()


class IsamsClient:
    """One school's connection to iSAMS. ``retries`` counts every retry made, for the run log."""

    def __init__(
        self,
        school: SchoolConfig,
        *,
        timeout: float = 60.0,
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        max_backoff: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.school = school
        self.max_attempts = max(1, max_attempts)
        self.backoff_base = backoff_base
        self.max_backoff = max_backoff
        self.retries = 0
        self._sleep = sleep
        self._random = random.Random()
        self._token: tuple[str, float] | None = None  # (access token, monotonic expiry)
        self.unreachable: IsamsUnreachableError | None = None  # once set, no further request is made
        for secret in school.secrets():
            register_secret(secret)
        self._http = httpx.Client(
            base_url=school.base_url,
            timeout=httpx.Timeout(timeout, connect=min(CONNECT_TIMEOUT_S, timeout)),
            transport=transport,
            verify=_tls_context(),
        )

    def __enter__(self) -> IsamsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # --- Batch -------------------------------------------------------------------------------------------
    def batch(self, datasets: Sequence[BatchDataset], window: tuple[date, date] | None = None) -> dict:
        """Run the datasets' methods in one Batch request and return the Json.NET document."""
        label = ", ".join(d.name for d in datasets)
        body = filters_xml(datasets, window)
        methods = ", ".join(d.method for d in datasets)

        def send() -> httpx.Response:
            return self._http.post(
                BATCH_PATH,
                params={"apiKey": self.school.api_key},
                content=body.encode("utf-8"),
                headers={"Content-Type": "application/xml", "Accept": "application/json"},
            )

        return self._call(send, label, lambda r: self._batch_error(r, label, methods))

    def batch_fast(
        self, datasets: Sequence[BatchDataset], window: tuple[date, date] | None = None
    ) -> tuple[dict, bytes]:
        """``batch()`` parsed with :func:`fast_loads`; also returns the response body, so that a caller that
        meets something unusual can re-read it with ``json.loads`` (same retries, same errors as ``batch()``)."""
        label = ", ".join(d.name for d in datasets)
        body = filters_xml(datasets, window)
        methods = ", ".join(d.method for d in datasets)
        content = [b""]

        def send() -> httpx.Response:
            return self._http.post(
                BATCH_PATH,
                params={"apiKey": self.school.api_key},
                content=body.encode("utf-8"),
                headers={"Content-Type": "application/xml", "Accept": "application/json"},
            )

        def loads(raw: bytes) -> Any:
            content[0] = raw
            return fast_loads(raw)

        doc = self._call(send, label, lambda r: self._batch_error(r, label, methods), loads)
        return doc, content[0]

    def _batch_error(self, response: httpx.Response, label: str, methods: str) -> IsamsError:
        message_id, title, description = parse_error_body(response.content)
        status = response.status_code
        code = f"{status} {message_id}" if message_id else str(status)
        if status == 401 or message_id == "InvalidApiKey":
            return self._error(
                IsamsAuthError, label, status, message_id,
                f"iSAMS rejected the API key ({code}). Check the key in {self.school.api_key_env} "
                "/ the API Services Manager.",
            )
        if status == 403 or (message_id or "").startswith("MethodsNotAllocatedToKey"):
            return self._error(
                IsamsPermissionError, label, status, message_id,
                f"the API key may not run {methods} ({code}). Allocate the method(s) to the key in "
                "Control Panel > API Services Manager > Manage Batch API Keys, or leave the dataset out.",
            )
        detail = ": ".join(x for x in (title, description) if x)
        return self._error(
            IsamsError, label, status, message_id,
            f"iSAMS refused the request ({code}{': ' + detail if detail else ''}). This is not retried; "
            "check the base_url and the catalogue entry in ingestion/isams/datasets.py.",
        )

    # --- REST --------------------------------------------------------------------------------------------
    def rest_list(self, dataset: RestDataset, page_size: int = 100) -> list[dict]:
        """Every item of a paged REST list endpoint, following ``totalPages``."""
        out: list[dict] = []
        page, total_pages = 1, 1
        while page <= total_pages:
            token = self._access_token(dataset.name)

            def send(page: int = page, token: str = token) -> httpx.Response:
                return self._http.get(
                    dataset.path,
                    params={"page": page, "pageSize": page_size},
                    headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
                )

            doc = self._call(send, dataset.name, lambda r: self._rest_error(r, dataset.name))
            chunk = doc.get(dataset.wrapper) or []
            out.extend(chunk if isinstance(chunk, list) else [chunk])
            total_pages = int(doc.get("totalPages") or 1)
            page += 1
        return out

    def _access_token(self, label: str) -> str:
        """A client-credentials token, cached until shortly before it expires."""
        if self._token and time.monotonic() < self._token[1]:
            return self._token[0]
        if not self.school.has_rest:
            raise self._error(
                IsamsAuthError, label, None, None,
                "no REST client credentials configured (rest_client_id_env / rest_client_secret_env).",
            )
        form = {
            "grant_type": "client_credentials",
            "client_id": self.school.rest_client_id or "",
            "client_secret": self.school.rest_client_secret or "",
            "scope": "restapi",
        }
        doc = self._call(
            lambda: self._http.post(TOKEN_PATH, data=form, headers={"Accept": "application/json"}),
            label,
            lambda r: self._rest_error(r, label),
        )
        token = doc.get("access_token")
        if not token:
            raise self._error(IsamsAuthError, label, None, None, "the token reply had no access_token.")
        register_secret(str(token))
        lifetime = float(doc.get("expires_in") or 3600)
        self._token = (str(token), time.monotonic() + max(0.0, lifetime - TOKEN_MARGIN_S))
        return self._token[0]

    def _rest_error(self, response: httpx.Response, label: str) -> IsamsError:
        status = response.status_code
        try:
            body = response.json()
        except ValueError:
            body = {}
        body = body if isinstance(body, dict) else {}
        reason = str(body.get("error") or body.get("message") or "")
        code = f"{status} {reason}" if reason else str(status)
        envs = " / ".join(e for e in (self.school.rest_client_id_env, self.school.rest_client_secret_env) if e)
        if status == 401 or reason in ("invalid_client", "unauthorized_client"):
            return self._error(
                IsamsAuthError, label, status, reason or None,
                f"iSAMS rejected the REST client credentials ({code}). Check "
                f"{envs or 'the rest_client_id / rest_client_secret'} and the client in the API Services Manager.",
            )
        if status == 403 or "not authorised" in reason.lower():
            return self._error(
                IsamsPermissionError, label, status, reason or None,
                f"the REST client may not read this endpoint ({code}). Grant it the scope in the "
                "API Services Manager, or leave the dataset out.",
            )
        return self._error(
            IsamsError, label, status, reason or None,
            f"iSAMS refused the REST request ({code}). This is not retried; check the base_url.",
        )

    # --- shared ------------------------------------------------------------------------------------------
    def _error(self, cls: type[IsamsError], label: str, status: int | None, message_id: str | None, what: str) -> IsamsError:
        message = redact(f"school {self.school.code}, dataset {label}: {what}", self.school.secrets())
        return cls(message, school=self.school.code, dataset=label, status=status, message_id=message_id)

    def _call(
        self,
        send: Callable[[], httpx.Response],
        label: str,
        refuse: Callable[[httpx.Response], IsamsError],
        loads: Callable[[bytes], Any] = json.loads,
    ) -> dict:
        """Send with retries; returns the JSON object of a 2xx response (parsed by ``loads``)."""
        if self.unreachable is not None:  # the host was found dead earlier in this run: do not pay again
            raise self._error(
                IsamsUnreachableError, label, None, None,
                f"not requested: {str(self.unreachable).split(': ', 1)[-1]}",
            )
        last = ""
        unreachable_attempts = 0
        for attempt in range(1, self.max_attempts + 1):
            try:
                return self._attempt(send, refuse, loads)
            except _Unreachable as failure:
                unreachable_attempts += 1
                if unreachable_attempts >= UNREACHABLE_ATTEMPTS or attempt == self.max_attempts:
                    what, check = UNREACHABLE_ADVICE[failure.kind]
                    self.unreachable = self._error(
                        IsamsUnreachableError, label, None, None,
                        f"cannot reach iSAMS at {safe_url(self.school.base_url)}: {what} ({failure.detail}). "
                        f"{check[0].upper()}{check[1:]}. This school's other datasets are skipped this run.",
                    )
                    raise self.unreachable from None
                self.retries += 1
                log.warning("%s", redact(
                    f"school {self.school.code}, dataset {label}: cannot reach {safe_url(self.school.base_url)} "
                    f"({failure.detail}); one more try in {UNREACHABLE_RETRY_S:.0f} s", self.school.secrets()))
                self._sleep(UNREACHABLE_RETRY_S)
            except _Retryable as failure:
                last = failure.reason
                if attempt == self.max_attempts:
                    break
                delay = self._delay(attempt, failure.retry_after)
                self.retries += 1
                log.warning(
                    "%s",
                    redact(
                        f"school {self.school.code}, dataset {label}: attempt {attempt} failed ({last}); "
                        f"retrying in {delay:.1f} s",
                        self.school.secrets(),
                    ),
                )
                self._sleep(delay)
        raise self._error(
            IsamsUnavailableError, label, None, None,
            f"iSAMS did not answer successfully after {self.max_attempts} attempts (last: {last}). "
            "It deadlocks and times out under load: try again later, at a quieter time, or with a smaller "
            "register window (window_days).",
        )

    def _attempt(
        self, send: Callable[[], httpx.Response], refuse: Callable[[httpx.Response], IsamsError],
        loads: Callable[[bytes], Any] = json.loads,
    ) -> dict:
        try:
            response = send()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            kind = unreachable_kind(exc) or "connect"
            raise _Unreachable(kind, redact(f"{type(exc).__name__}: {exc}", self.school.secrets())) from None
        except httpx.TimeoutException as exc:
            raise _Retryable(f"timeout: {type(exc).__name__}") from None
        except httpx.TransportError as exc:  # connection refused/reset, truncated transfer
            raise _Retryable(redact(f"connection error: {type(exc).__name__}: {exc}", self.school.secrets())) from None
        status = response.status_code
        if status == 429:
            raise _Retryable("429 Too Many Requests", _retry_after(response))
        if status >= 500:
            message_id, _, description = parse_error_body(response.content)
            detail = f" {message_id}: {description}" if message_id else ""
            raise _Retryable(f"{status}{detail}")
        if status >= 400:
            raise refuse(response)
        try:
            doc = loads(response.content)
        except ValueError:
            raise _Retryable(f"{status} with a body that is not valid JSON (truncated?)") from None
        if not isinstance(doc, dict):
            raise _Retryable(f"{status} with a JSON body that is not an object")
        return doc

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        """Exponential backoff with up to 10 % jitter; ``Retry-After`` wins when the server sends one."""
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        base = min(self.backoff_base * 2 ** (attempt - 1), self.max_backoff)
        return min(base + self._random.uniform(0, 0.1 * base), self.max_backoff)

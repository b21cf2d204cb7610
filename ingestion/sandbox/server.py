"""A local stand-in for the iSAMS Batch and REST APIs, serving a synthetic :class:`SchoolGroup`.

One server answers for every school of the group: Batch requests pick the school by API key (or by a
REST bearer token, the OAuth variant), REST requests by bearer token. Responses are built from the dataset
catalogue (``ingestion.isams.datasets``) and rendered through ``ingestion.isams.jsonnet``, so the JSON has
exactly the Json.NET quirks of ``json.ashx``. Error bodies copy the real ones (reference section 1.4).
A :class:`FaultPlan` injects deadlocks, throttling, delays and truncated bodies for retry tests.

Keys, secrets and tokens never reach the request log or the console.
"""

from __future__ import annotations

import json
import math
import re
import secrets
import sys
import threading
import time
import traceback
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

import orjson

from ingestion.isams.datasets import BATCH_DATASETS, BY_METHOD, REST_DATASETS, REST_TERMS, BatchDataset, RestDataset
from ingestion.isams.jsonnet import to_jsonnet, to_xml
from ingestion.core.redact import redact
from ingestion.sandbox.contract import SandboxSchool, SchoolGroup
from ingestion.sandbox.faults import FaultPlan

__all__ = ["FaultPlan", "SandboxServer", "serve_forever"]

BATCH_PATH = re.compile(r"^/api/batch/1\.0/(json|xml)\.ashx$", re.IGNORECASE)
TOKEN_PATH = "/auth/connect/token"
REST_BY_PATH: dict[str, RestDataset] = {d.path: d for d in (*REST_DATASETS, REST_TERMS)}
TOKEN_LIFETIME = 3600
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 500  # [I] the real maximum is undocumented; larger requests are clamped, not refused
NOT_AUTHORISED = {"message": "The user is not authorised for this request"}
DEADLOCK = (
    "Transaction (Process ID 118) was deadlocked on lock resources with another process and has been chosen "
    "as the deadlock victim. Rerun the transaction."
)
XML_CONTENT_TYPE = "application/xml; charset=utf-8"  # the body *declares* utf-16, as iSAMS's does; it is utf-8
JSON_CONTENT_TYPE = "application/json; charset=utf-8"


class BatchError(Exception):
    """An iSAMS Batch error: rendered as the ``<Message>`` body with its HTTP status."""

    def __init__(self, status: int, message_id: str, title: str, description: str) -> None:
        super().__init__(description)
        self.status, self.message_id, self.title, self.description = status, message_id, title, description

    def body(self) -> bytes:
        """The exact shape of iSAMS error bodies (fixtures ``Errors/*.xml``), including the utf-16 claim."""
        return (
            '<?xml version="1.0" encoding="utf-16"?>\n<Message>\n'
            f"  <MessageId>{self.message_id}</MessageId>\n"
            f"  <MessageName>{self.message_id}</MessageName>\n"
            f"  <Title>{escape(self.title)}</Title>\n"
            f"  <Description>{escape(self.description)}</Description>\n"
            "</Message>"
        ).encode("utf-8")


def missing_api_key() -> BatchError:
    return BatchError(
        400, "MissingParameter", "Missing Field: apiKey",
        'A required field "apiKey" was not supplied or was in an incorrect format.',
    )


def invalid_api_key() -> BatchError:
    return BatchError(
        401, "InvalidApiKey", "Invalid API Key", "The API key is invalid.\nPlease contact your iSAMS administrator.",
    )


def unhandled(description: str) -> BatchError:
    return BatchError(500, "UnhandledException", "Unknown Error", description)


def methods_not_allocated(methods: list[str]) -> BatchError:
    return BatchError(
        403, "MethodsNotAllocatedToKeyException", "Methods Not Allocated To Key",
        "The following methods specified in the MethodsToRun filter are not allocated to the requested key: "
        + ", ".join(m.lower() for m in methods),
    )


@dataclass(frozen=True)
class BatchFilters:
    """What a Batch ``<Filters>`` body asks for. ``methods`` None means "every allocated method"."""

    methods: list[str] | None = None
    start: date | None = None
    end: date | None = None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1].lower()


def _find(root: ET.Element, name: str) -> ET.Element | None:
    """First descendant (or root) whose tag matches ``name`` case-insensitively."""
    return next((el for el in root.iter() if _local(el.tag) == name.lower()), None)


def _attr(el: ET.Element, name: str) -> str | None:
    return next((v for k, v in el.attrib.items() if k.lower() == name.lower()), None)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text.strip()[:10])
    except ValueError:
        raise unhandled("String was not recognized as a valid DateTime.") from None


def parse_filters(body: bytes) -> BatchFilters:
    """Parse a Batch POST body leniently, as iSAMS does.

    Accepts ``<Registration>`` or ``<RegistrationManager>`` around ``<RegistrationStatus>``, attribute and
    element names in any case, and an empty body (same as a GET). Anything that is not XML gets the real
    server's parser error.
    """
    if not body.strip():
        return BatchFilters()
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise unhandled("Data at the root level is invalid. Line 1, position 1.") from None
    methods_el = _find(root, "MethodsToRun")
    methods = None
    if methods_el is not None:
        methods = [(m.text or "").strip() for m in methods_el if _local(m.tag) == "method" and (m.text or "").strip()]
        methods = methods or None  # an empty MethodsToRun is treated as absent
    status_el = _find(root, "RegistrationStatus")
    start = end = None
    if status_el is not None:
        raw_start, raw_end = _attr(status_el, "StartDate"), _attr(status_el, "EndDate")
        start = _parse_date(raw_start) if raw_start else None
        end = _parse_date(raw_end) if raw_end else None
    return BatchFilters(methods, start, end)


def registration_window(filters: BatchFilters, today: date) -> tuple[date, date]:
    """The ``[start, end)`` window of register marks to return.

    [I] iSAMS's behaviour without a window is undocumented; the sandbox returns today's marks only
    (``[today, today + 1)``): a missing StartDate defaults to today, a missing EndDate to tomorrow.
    ``EndDate`` is exclusive, matching clients that ask for today..tomorrow (reference 1.2).
    """
    return filters.start or today, filters.end or today + timedelta(days=1)


def resolve_datasets(filters: BatchFilters, allocated: set[str]) -> list[BatchDataset]:
    """The datasets to render, in catalogue order; raises 403 for unknown or unallocated methods."""
    if filters.methods is None:
        return [d for d in BATCH_DATASETS if d.method.lower() in allocated]
    refused = [m for m in filters.methods if m.lower() not in BY_METHOD or m.lower() not in allocated]
    if refused:
        raise methods_not_allocated(refused)
    wanted = {m.lower() for m in filters.methods}
    return [d for d in BATCH_DATASETS if d.method.lower() in wanted]


def batch_document(school: SandboxSchool, datasets: list[BatchDataset], window: tuple[date, date]) -> Any:
    """The ``iSAMS`` element dict holding every dataset under its manager/collection (empty -> None)."""
    root: dict[str, dict[str, Any]] = {}
    for ds in datasets:
        manager, collection, item = ds.path
        records = list(school.registration_statuses(*window)) if ds.windowed else school.batch_records(ds.name)
        root.setdefault(manager, {})[collection] = {item: records} if records else None
    return root or None


def render_batch(school: SandboxSchool, datasets: list[BatchDataset], window: tuple[date, date]) -> str:
    """One ``<iSAMS>`` document holding every dataset under its manager/collection (empty -> ``<X/>``)."""
    return to_xml("iSAMS", batch_document(school, datasets, window))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # stop() must not wait for a handler sleeping in a delay fault

    def __init__(self, address: tuple[str, int], sandbox: SandboxServer) -> None:
        super().__init__(address, _Handler)
        self.sandbox = sandbox

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet: clients that time out or hang up are expected in fault tests."""


class SandboxServer:
    """The sandbox iSAMS, serving ``group`` on ``host:port`` (port 0 picks a free one) from a daemon thread.

    ``allowed_methods`` maps a school code to the Batch methods allocated to its key (any case); a school
    not in the map has every catalogue method. ``verbose`` prints request lines with secrets redacted.
    """

    def __init__(
        self, group: SchoolGroup, host: str = "127.0.0.1", port: int = 0,
        faults: FaultPlan | None = None, allowed_methods: dict[str, set[str]] | None = None,
        verbose: bool = False,
    ) -> None:
        self.group = group
        self.host, self.port = host, port
        self.faults = faults or FaultPlan()
        self.allowed_methods = {k.lower(): {m.lower() for m in v} for k, v in (allowed_methods or {}).items()}
        self.verbose = verbose
        self.requests: list[dict[str, Any]] = []
        self.url = ""
        self._keys = {_normalise_key(s.api_key): s for s in group.schools}
        # Known secret values, masked in console output even where no ``apiKey=`` pattern would catch them.
        self.secrets = [v for s in group.schools for v in (s.api_key, s.rest_client_secret) if v]
        self._tokens: dict[str, tuple[SandboxSchool, float]] = {}
        self._lock = threading.Lock()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # lifecycle
    def start(self) -> str:
        """Bind, serve in a daemon thread and return the base URL."""
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self.url = f"http://{self.host}:{self.port}"
        httpd = self._httpd
        # A short poll interval keeps stop() fast (tests start a server each).
        self._thread = threading.Thread(
            target=lambda: httpd.serve_forever(poll_interval=0.02), name="isams-sandbox", daemon=True,
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None

    def __enter__(self) -> SandboxServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # lookups used by the handler
    def school_for_key(self, key: str) -> SandboxSchool | None:
        return self._keys.get(_normalise_key(key))

    def issue_token(self, school: SandboxSchool) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = (school, time.monotonic() + TOKEN_LIFETIME)
        return token

    def school_for_token(self, token: str) -> SandboxSchool | None:
        with self._lock:
            school, expires = self._tokens.get(token, (None, 0.0))
        return school if school is not None and time.monotonic() < expires else None

    def allocated(self, school: SandboxSchool) -> set[str]:
        return self.allowed_methods.get(school.code.lower(), {d.method.lower() for d in BATCH_DATASETS})

    def log(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)


def _normalise_key(key: str) -> str:
    """iSAMS keys are GUIDs; clients send them with or without braces, in any case."""
    return key.strip().strip("{}").lower()


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes; avoid 40 ms delayed-ACK stalls

    @property
    def sandbox(self) -> SandboxServer:
        return self.server.sandbox

    def log_message(self, format: str, *args: Any) -> None:
        """Silent unless verbose; then with apiKey/secret/token values replaced by ``***``."""
        if self.sandbox.verbose:
            sys.stderr.write(redact(f"{self.address_string()} - {format % args}", self.sandbox.secrets) + "\n")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        self._logged = False  # one handler serves every request of a keep-alive connection
        url = urlsplit(self.path)
        entry: dict[str, Any] = {
            "method": method, "path": url.path, "format": None, "school": None, "datasets": [], "fault": None,
        }
        try:
            body = self._read_body()
            if (m := BATCH_PATH.match(url.path)) is not None:
                entry["format"] = m.group(1).lower()
                self._batch(entry, parse_qs(url.query), body)
            elif url.path.lower() == TOKEN_PATH and method == "POST":
                entry["format"] = "token"
                self._token(entry, body)
            elif url.path.lower() in REST_BY_PATH and method == "GET":
                entry["format"] = "rest"
                self._rest(entry, REST_BY_PATH[url.path.lower()], parse_qs(url.query))
            else:
                self._send_json(entry, 404, {"message": "No HTTP resource was found"})
        except (BrokenPipeError, ConnectionResetError):
            entry["status"] = entry.get("status") or "disconnected"
        except Exception as exc:  # a bug in the sandbox or the generator: answer, and never hide it
            self._crash(entry, exc)
        finally:
            self._log(entry)

    def _log(self, entry: dict[str, Any]) -> None:
        """Log once, *before* the response goes out, so a client that has its answer sees the entry."""
        if not getattr(self, "_logged", False):
            self._logged = True
            self.sandbox.log(entry)

    def _crash(self, entry: dict[str, Any], exc: Exception) -> None:
        """Print the traceback (redacted) and answer 500 UnhandledException, as iSAMS does for its own faults."""
        sys.stderr.write(redact("".join(traceback.format_exception(exc)), self.sandbox.secrets))
        entry["error"] = f"{type(exc).__name__}: {exc}"
        if "status" not in entry:  # nothing sent yet
            self._send(entry, 500, unhandled(f"{type(exc).__name__}: {exc}").body(), XML_CONTENT_TYPE)

    def _read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _bearer(self) -> str | None:
        auth = self.headers.get("Authorization") or ""
        return auth[7:].strip() if auth.lower().startswith("bearer ") else None

    # Batch
    def _batch(self, entry: dict[str, Any], query: dict[str, list[str]], body: bytes) -> None:
        try:
            school = self._batch_school(query)
            entry["school"] = school.code
            filters = parse_filters(body)
            datasets = resolve_datasets(filters, self.sandbox.allocated(school))
            entry["datasets"] = [d.name for d in datasets]
            if self._fault(entry, school, entry["datasets"], batch=True):
                return
            doc = batch_document(school, datasets, registration_window(filters, self.sandbox.group.today))
        except BatchError as err:
            self._send(entry, err.status, err.body(), XML_CONTENT_TYPE)
            return
        if entry["format"] == "json":  # what Json.NET makes of the XML below, without rendering it
            payload = orjson.dumps(to_jsonnet("iSAMS", doc))  # UTF-8, compact, as Json.NET writes it
            self._send(entry, 200, payload, JSON_CONTENT_TYPE, truncate=entry.get("fault") == "truncate")
        else:
            xml = to_xml("iSAMS", doc)
            self._send(entry, 200, xml.encode("utf-8"), XML_CONTENT_TYPE, truncate=entry.get("fault") == "truncate")

    def _batch_school(self, query: dict[str, list[str]]) -> SandboxSchool:
        """The school selected by ``apiKey`` (preferred) or by a REST bearer token."""
        key = next((v[0] for k, v in query.items() if k.lower() == "apikey" and v and v[0].strip()), None)
        token = self._bearer()
        if key is None and token is None:
            raise missing_api_key()
        school = self.sandbox.school_for_key(key) if key is not None else self.sandbox.school_for_token(token or "")
        if school is None:
            raise invalid_api_key()
        return school

    # REST
    def _token(self, entry: dict[str, Any], body: bytes) -> None:
        form = {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            self._send_json(entry, 400, {"error": "unsupported_grant_type"})
            return
        school = self.sandbox.group.by_client_id(form.get("client_id", ""))
        if school is None or not secrets.compare_digest(school.rest_client_secret or "", form.get("client_secret", "")):
            self._send_json(entry, 400, {"error": "invalid_client"})
            return
        entry["school"] = school.code
        token = self.sandbox.issue_token(school)
        self._send_json(entry, 200, {"access_token": token, "expires_in": TOKEN_LIFETIME, "token_type": "Bearer"})

    def _rest(self, entry: dict[str, Any], dataset: RestDataset, query: dict[str, list[str]]) -> None:
        school = self.sandbox.school_for_token(self._bearer() or "")
        if school is None:
            self._send_json(entry, 401, NOT_AUTHORISED)
            return
        entry["school"], entry["datasets"] = school.code, [dataset.name]
        try:
            page = int(query.get("page", ["1"])[0])
            page_size = min(int(query.get("pageSize", [str(DEFAULT_PAGE_SIZE)])[0]), MAX_PAGE_SIZE)
        except ValueError:
            page = page_size = 0
        if page < 1 or page_size < 1:
            self._send_json(entry, 400, {"message": "The request is invalid."})
            return
        if self._fault(entry, school, entry["datasets"], batch=False):
            return
        self._send_json(entry, 200, paginate(getattr(school, dataset.name)(), dataset.wrapper, page, page_size),
                        truncate=entry.get("fault") == "truncate")

    # faults and output
    def _fault(self, entry: dict[str, Any], school: SandboxSchool, datasets: list[str], batch: bool) -> bool:
        """Apply the fault plan; True when an error response has been sent (truncation is left to the caller)."""
        plan = self.sandbox.faults
        if plan.down and plan.is_down(school.code, self.sandbox.group.today):  # down for tonight only
            entry["fault"] = "down"
            if batch:
                self._send(entry, 401, invalid_api_key().body(), XML_CONTENT_TYPE)
            else:
                self._send_json(entry, 401, NOT_AUTHORISED)
            return True
        if not plan.matches(school.code, datasets):
            return False
        if plan.delay_seconds > 0:
            time.sleep(plan.delay_seconds)
        kind = plan.take()
        entry["fault"] = kind
        if kind == "throttle":
            headers = {"Retry-After": str(plan.retry_after)}
            self._send(entry, 429, f"Rate limit exceeded. Retry after {plan.retry_after} seconds.".encode(),
                       "text/plain; charset=utf-8", headers)
        elif kind == "fail" and batch:
            self._send(entry, 500, unhandled(DEADLOCK).body(), XML_CONTENT_TYPE)
        elif kind == "fail":
            self._send_json(entry, 500, {"message": "An error has occurred."})
        return kind in ("throttle", "fail")

    def _send_json(self, entry: dict[str, Any], status: int, payload: Any, truncate: bool = False) -> None:
        self._send(entry, status, json.dumps(payload).encode("utf-8"), JSON_CONTENT_TYPE, truncate=truncate)

    def _send(
        self, entry: dict[str, Any], status: int, body: bytes, content_type: str,
        headers: dict[str, str] | None = None, truncate: bool = False,
    ) -> None:
        """Write the response; a truncated one is cut in half (see ``FaultPlan.truncate_close_early``)."""
        entry["status"] = status
        self._log(entry)
        sent = body[: len(body) // 2] if truncate else body
        close_early = truncate and self.sandbox.faults.truncate_close_early
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if close_early else len(sent)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if close_early:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(sent)
        self.wfile.flush()


def paginate(items: list[dict[str, Any]], wrapper: str, page: int, page_size: int) -> dict[str, Any]:
    """One REST page in iSAMS's envelope; a page past the end is empty, not an error [I]."""
    chunk = items[(page - 1) * page_size : page * page_size]
    return {
        "count": len(chunk), "page": page, "pageSize": page_size, "totalCount": len(items),
        "totalPages": math.ceil(len(items) / page_size), wrapper: chunk,
    }


def serve_forever(group: SchoolGroup, host: str = "127.0.0.1", port: int = 8765) -> None:
    """Run the sandbox in the foreground (``schoolwh sandbox``): print the URL and schools, block until Ctrl-C.

    Keys and client secrets are deliberately not printed; read them from the group's configuration.
    """
    server = SandboxServer(group, host, port, verbose=True)
    url = server.start()
    print(f"iSAMS sandbox on {url} (Batch {url}/api/batch/1.0/json.ashx, REST {url}/api/...)", flush=True)
    for school in group.schools:
        rest = "Batch + REST" if school.rest_client_id else "Batch only"
        print(f"  {school.code}: {school.name} ({rest})", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()

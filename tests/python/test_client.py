"""IsamsClient against httpx.MockTransport: retries, error classes, secrecy, REST paging, request bodies."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import date
from urllib.parse import parse_qs

import httpx
import pytest

from ingestion.core.config import SchoolConfig
from ingestion.isams.client import (
    IsamsAuthError,
    IsamsClient,
    IsamsError,
    IsamsPermissionError,
    IsamsUnavailableError,
    IsamsUnreachableError,
)
from ingestion.isams.datasets import BY_NAME, REST_DATASETS
from ingestion.core.redact import install_log_redaction, redact, register_secret

KEY = "4F1C2B9A-7D3E-4A5B-9C8D-112233445566"
CLIENT_ID = "nhs-client-id-991"
CLIENT_SECRET = "s3cr3t-client-value-777"
SCHOOL = SchoolConfig(
    code="NHS", name="North High School", base_url="https://nhs.isams.example", api_key_env="ISAMS_NHS_API_KEY",
    rest_client_id_env="ISAMS_NHS_CLIENT_ID", rest_client_secret_env="ISAMS_NHS_CLIENT_SECRET",
    api_key=KEY, rest_client_id=CLIENT_ID, rest_client_secret=CLIENT_SECRET,
)
PUPILS = BY_NAME["pupils"]
REGISTERS = BY_NAME["registration_statuses"]
OK_DOC = {"iSAMS": {"PupilManager": {"CurrentPupils": {"Pupil": {"@Id": "1"}}}}}
DEADLOCK = (
    '<?xml version="1.0" encoding="utf-16"?><Message><MessageId>UnhandledException</MessageId>'
    "<Title>Unknown Error</Title><Description>Transaction (Process ID 118) was deadlocked</Description></Message>"
)


def error_xml(message_id: str, title: str) -> str:
    return (
        f'<?xml version="1.0" encoding="utf-16"?><Message><MessageId>{message_id}</MessageId>'
        f"<MessageName>{message_id}</MessageName><Title>{title}</Title><Description>d</Description></Message>"
    )


class Script:
    """A MockTransport handler replaying scripted responses and recording requests."""

    def __init__(self, *steps: httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]) -> None:
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        return step(request) if callable(step) else step


def client(script: Script, slept: list[float], **kw: object) -> IsamsClient:
    return IsamsClient(SCHOOL, sleep=slept.append, transport=httpx.MockTransport(script), **kw)


def test_deadlock_twice_then_success() -> None:
    script = Script(httpx.Response(500, text=DEADLOCK), httpx.Response(500, text=DEADLOCK), httpx.Response(200, json=OK_DOC))
    slept: list[float] = []
    with client(script, slept) as c:
        assert c.batch([PUPILS]) == OK_DOC
        assert c.retries == 2
    assert len(script.requests) == 3
    assert len(slept) == 2 and 1.0 <= slept[0] <= 1.1 and 2.0 <= slept[1] <= 2.2  # base 1 s, doubling, <=10 % jitter


def test_429_honours_retry_after() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json=OK_DOC))
    slept: list[float] = []
    with client(script, slept) as c:
        assert c.batch([PUPILS]) == OK_DOC
    assert slept == [3.0]


def test_retry_after_capped_by_max_backoff() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "600"}), httpx.Response(200, json=OK_DOC))
    slept: list[float] = []
    with client(script, slept, max_backoff=20.0) as c:
        c.batch([PUPILS])
    assert slept == [20.0]


def test_timeout_then_success() -> None:
    script = Script(httpx.ReadTimeout("timed out"), httpx.Response(200, json=OK_DOC))
    slept: list[float] = []
    with client(script, slept) as c:
        assert c.batch([PUPILS]) == OK_DOC
        assert c.retries == 1


def test_truncated_json_then_success() -> None:
    truncated = json.dumps(OK_DOC)[:-7]
    script = Script(httpx.Response(200, text=truncated), httpx.Response(200, json=OK_DOC))
    slept: list[float] = []
    with client(script, slept) as c:
        assert c.batch([PUPILS]) == OK_DOC
        assert c.retries == 1


def test_exhausted_retries() -> None:
    script = Script(httpx.Response(500, text=DEADLOCK))
    slept: list[float] = []
    with client(script, slept, max_attempts=4) as c, pytest.raises(IsamsUnavailableError) as info:
        c.batch([PUPILS])
    assert len(script.requests) == 4 and len(slept) == 3
    assert "school NHS" in str(info.value) and "pupils" in str(info.value) and "deadlocked" in str(info.value)
    assert (info.value.school, info.value.dataset) == ("NHS", "pupils")


def test_connection_error_message_is_redacted() -> None:
    # httpx's own exception text would carry the URL, and with it the key
    script = Script(httpx.ConnectError(f"cannot connect to https://nhs.isams.example/api?apiKey={KEY}"))
    slept: list[float] = []
    with client(script, slept, max_attempts=2) as c, pytest.raises(IsamsUnavailableError) as info:
        c.batch([PUPILS])
    assert KEY not in str(info.value) and "apiKey=***" in str(info.value)


def test_401_invalid_key_no_retry() -> None:
    script = Script(httpx.Response(401, text=error_xml("InvalidApiKey", "Invalid API Key")))
    slept: list[float] = []
    with client(script, slept) as c, pytest.raises(IsamsAuthError) as info:
        c.batch([PUPILS])
    assert len(script.requests) == 1 and slept == [] and c.retries == 0
    err = info.value
    assert (err.school, err.dataset, err.status, err.message_id) == ("NHS", "pupils", 401, "InvalidApiKey")
    assert str(err).startswith("school NHS, dataset pupils: iSAMS rejected the API key (401 InvalidApiKey)")
    assert "ISAMS_NHS_API_KEY" in str(err) and KEY not in str(err)


def test_403_methods_not_allocated() -> None:
    body = error_xml("MethodsNotAllocatedToKeyException", "Methods Not Allocated To Key")
    script = Script(httpx.Response(403, text=body))
    slept: list[float] = []
    with client(script, slept) as c, pytest.raises(IsamsPermissionError) as info:
        c.batch([PUPILS])
    assert len(script.requests) == 1
    assert info.value.message_id == "MethodsNotAllocatedToKeyException"
    assert "Pupil_GetCurrentPupils" in str(info.value) and "school NHS" in str(info.value)


@pytest.mark.parametrize("status", [400, 404])
def test_other_4xx_not_retried(status: int) -> None:
    script = Script(httpx.Response(status, text=error_xml("MissingParameter", "Missing Field: apiKey")))
    slept: list[float] = []
    with client(script, slept) as c, pytest.raises(IsamsError) as info:
        c.batch([PUPILS])
    assert len(script.requests) == 1 and type(info.value) is IsamsError
    assert info.value.status == status and "MissingParameter" in str(info.value)


def test_request_body_methods_and_window() -> None:
    script = Script(httpx.Response(200, json={"iSAMS": {}}))
    slept: list[float] = []
    with client(script, slept) as c:
        c.batch([PUPILS, REGISTERS], window=(date(2025, 9, 1), date(2025, 9, 15)))
    request = script.requests[0]
    assert request.method == "POST" and request.url.path == "/api/batch/1.0/json.ashx"
    assert request.url.params["apiKey"] == KEY and request.headers["Content-Type"] == "application/xml"
    body = request.content.decode()
    assert "<MethodsToRun><Method>Pupil_GetCurrentPupils</Method><Method>Registration_GetRegistrationStatus</Method></MethodsToRun>" in body
    assert '<RegistrationStatus StartDate="2025-09-01" EndDate="2025-09-15"/>' in body
    assert body.startswith("<Filters>") and body.endswith("</Filters>")


def test_window_required_for_registers() -> None:
    with client(Script(httpx.Response(200, json={})), []) as c, pytest.raises(ValueError):
        c.batch([REGISTERS])


def test_secret_in_no_message_or_log(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    caplog.set_level(logging.INFO, logger="httpx")
    caplog.set_level(logging.INFO)
    script = Script(
        httpx.Response(500, text=DEADLOCK), httpx.ReadTimeout(f"read timeout apiKey={KEY}"),
        httpx.Response(401, text=error_xml("InvalidApiKey", "Invalid API Key")),
    )
    with client(script, []) as c, pytest.raises(IsamsAuthError) as info:
        c.batch([PUPILS])
    assert KEY not in str(info.value)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "HTTP Request: POST" in logged  # httpx did log its requests ...
    assert "apiKey=***" in logged and KEY not in logged  # ... with the key masked
    assert KEY not in caplog.text


def rest_handler(pages: int, seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/auth/connect/token":
            form = parse_qs(request.content.decode())
            ok = form == {
                "grant_type": ["client_credentials"], "client_id": [CLIENT_ID],
                "client_secret": [CLIENT_SECRET], "scope": ["restapi"],
            }
            if not ok:
                return httpx.Response(400, json={"error": "invalid_client"})
            return httpx.Response(200, json={"access_token": "tok-abc-123456", "expires_in": 3600, "token_type": "Bearer"})
        assert request.headers["Authorization"] == "Bearer tok-abc-123456"
        page = int(request.url.params["page"])
        size = int(request.url.params["pageSize"])
        codes = [{"id": (page - 1) * size + i + 1, "code": f"C{page}{i}"} for i in range(size if page < pages else 1)]
        return httpx.Response(200, json={"page": page, "pageSize": size, "totalPages": pages, "absenceCodes": codes})

    return handle


def test_rest_token_and_paging() -> None:
    seen: list[httpx.Request] = []
    c = IsamsClient(SCHOOL, sleep=lambda s: None, transport=httpx.MockTransport(rest_handler(3, seen)))
    with c:
        codes = c.rest_list(REST_DATASETS[0], page_size=2)
        again = c.rest_list(REST_DATASETS[0], page_size=2)
    assert [x["id"] for x in codes] == [1, 2, 3, 4, 5]  # 2 + 2 + 1 over three pages
    assert again == codes
    paths = [r.url.path for r in seen]
    assert paths.count("/auth/connect/token") == 1  # token cached across pages and calls
    assert [r.url.params["page"] for r in seen if r.url.path != "/auth/connect/token"] == ["1", "2", "3"] * 2


def test_rest_invalid_client() -> None:
    seen: list[httpx.Request] = []
    bad = SchoolConfig(**{**SCHOOL.__dict__, "rest_client_secret": "wrong-secret-000"})
    c = IsamsClient(bad, sleep=lambda s: None, transport=httpx.MockTransport(rest_handler(1, seen)))
    with c, pytest.raises(IsamsAuthError) as info:
        c.rest_list(REST_DATASETS[0])
    assert len(seen) == 1 and "invalid_client" in str(info.value) and "absence_codes" in str(info.value)
    assert "wrong-secret-000" not in str(info.value) and "ISAMS_NHS_CLIENT_SECRET" in str(info.value)


def test_redact_patterns() -> None:
    register_secret("registered-secret-42")
    text = (
        "GET https://x/api?apiKey={ABC-123}&page=1 apikey=plain client_secret=zz&client_id=yy "
        'Authorization: Bearer eyJ.abc.def {"access_token": "tok", "x": 1} registered-secret-42 other'
    )
    assert redact(text, ["other"]) == (
        "GET https://x/api?apiKey=***&page=1 apikey=*** client_secret=***&client_id=*** "
        'Authorization: Bearer *** {"access_token": "***", "x": 1} *** ***'
    )


# --- a school whose host cannot be reached fails fast and says where --------------------------------------
@pytest.mark.parametrize(("error", "kind", "advice"), [
    (httpx.ConnectError("[Errno 111] Connection refused"), "connection was refused", "host and port"),
    (httpx.ConnectError("[Errno -2] Name or service not known"), "does not resolve", "spelling of base_url"),
    (httpx.ConnectError("[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed"), "TLS", "CA certificates"),
    (httpx.ConnectTimeout("timed out"), "no answer to connect", "allow-list"),
])
def test_unreachable_host_gets_one_short_retry_then_names_school_url_and_what_to_check(error, kind, advice) -> None:
    script = Script(error)
    slept: list[float] = []
    with client(script, slept) as c, pytest.raises(IsamsUnreachableError) as info:
        c.batch([PUPILS])
    assert len(script.requests) == 2 and slept == [2.0] and c.retries == 1  # not 5 attempts with backoff
    message = str(info.value)
    assert "school NHS" in message and "https://nhs.isams.example" in message and kind in message
    assert advice in message and "under load" not in message and KEY not in message


def test_once_the_host_is_dead_later_datasets_are_not_requested() -> None:
    script = Script(httpx.ConnectError("[Errno 111] Connection refused"))
    slept: list[float] = []
    with client(script, slept) as c:
        with pytest.raises(IsamsUnreachableError):
            c.batch([PUPILS])
        with pytest.raises(IsamsUnreachableError) as later:
            c.batch([REGISTERS], (date(2026, 11, 1), date(2026, 11, 15)))
        with pytest.raises(IsamsUnreachableError):
            c.rest_list(REST_DATASETS[0])
    assert len(script.requests) == 2 and slept == [2.0]
    assert "registration_statuses: not requested: cannot reach iSAMS at https://nhs.isams.example" in str(later.value)


def test_a_dropped_transfer_is_still_retried_like_a_busy_server() -> None:
    script = Script(httpx.RemoteProtocolError("peer closed connection"), httpx.Response(200, json=OK_DOC))
    slept: list[float] = []
    with client(script, slept) as c:
        assert c.batch([PUPILS]) == OK_DOC
    assert c.unreachable is None


def _real_client(base_url: str, slept: list[float]) -> IsamsClient:
    school = SchoolConfig(code="DED", name="Dead School", base_url=base_url, api_key_env="K", api_key=KEY)
    return IsamsClient(school, sleep=slept.append)


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("base_url", "kind"), [
    ("http://127.0.0.1:{closed_port}", "connection was refused"),  # the port is picked when the test runs
    ("https://nonexistent.invalid", "does not resolve"),
])
def test_real_refused_port_and_unknown_host_fail_fast(base_url: str, kind: str) -> None:
    import time

    base_url = base_url.format(closed_port=_closed_port()) if "{closed_port}" in base_url else base_url
    slept: list[float] = []
    started = time.monotonic()
    with _real_client(base_url, slept) as c, pytest.raises(IsamsUnreachableError) as info:
        c.batch([PUPILS])
    assert time.monotonic() - started < 10 and slept == [2.0]
    assert kind in str(info.value) and base_url in str(info.value) and KEY not in str(info.value)


def test_real_tls_handshake_failure_is_reported_as_tls() -> None:
    import http.server
    import threading

    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)  # plain HTTP: https cannot shake hands
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        slept: list[float] = []
        with _real_client(f"https://127.0.0.1:{server.server_address[1]}", slept) as c, \
                pytest.raises(IsamsUnreachableError) as info:
            c.batch([PUPILS])
        assert "TLS (https) handshake failed" in str(info.value) and slept == [2.0]
    finally:
        server.shutdown()

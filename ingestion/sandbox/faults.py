"""Fault injection for the sandbox server: the failures a real iSAMS produces, on demand.

Real iSAMS deadlocks (HTTP 500 ``UnhandledException``), times out at about 35 s and may be throttled, so
ingestion must retry; these faults let tests prove that it does. Counters are consumed atomically because
``ThreadingHTTPServer`` answers concurrent requests on separate threads.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import date


@dataclass
class FaultPlan:
    """Which requests to sabotage, and how. Mutable at runtime; counters count down as faults fire.

    A request *matches* when ``school`` is None or equals its school code (case-insensitive) and ``dataset``
    is None or is one of the datasets it asks for (Batch names, or ``absence_codes``/``present_codes``/
    ``rest_terms`` for REST). The token endpoint is never faulted, so a fault budget is spent on data calls.
    For a matching request: sleep ``delay_seconds``, then the first pending fault of throttle, fail,
    truncate (in that order) fires and uses up one of its times.
    """

    fail_times: int = 0  # next N matching requests -> 500 UnhandledException (the deadlock message)
    throttle_times: int = 0  # next N matching requests -> 429 with Retry-After
    retry_after: int = 1  # seconds, sent in Retry-After
    delay_seconds: float = 0.0  # sleep before answering every matching request (timeout tests)
    truncate_times: int = 0  # next N matching requests -> 200 with a body cut in half
    school: str | None = None  # only requests for this school code (None = any)
    dataset: str | None = None  # only requests including this dataset name (None = any)
    # How truncation looks on the wire: False sends half the body with a matching Content-Length (a complete
    # response whose JSON/XML does not parse); True declares the full length and drops the connection early.
    truncate_close_early: bool = False
    # (school code, date): every request for that school answers 401 while the sandbox's today is that date
    # (a load that fails for one night and recovers the next; see ``sandbox/scenario.py``)
    down: tuple[tuple[str, date], ...] = ()
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def matches(self, school_code: str | None, datasets: list[str]) -> bool:
        """Whether a request for ``school_code`` asking for ``datasets`` is in scope of this plan."""
        if self.school is not None and (school_code or "").lower() != self.school.lower():
            return False
        return self.dataset is None or self.dataset in datasets

    def is_down(self, school_code: str | None, today: date) -> bool:
        """Whether ``school_code`` is down (answers 401 to everything) on the sandbox's ``today``."""
        return any((school_code or "").lower() == code.lower() and today == night for code, night in self.down)

    def take(self) -> str | None:
        """Consume and return the next pending fault kind ("throttle", "fail", "truncate"), or None."""
        with self._lock:
            for kind in ("throttle", "fail", "truncate"):
                attr = f"{kind}_times"
                if getattr(self, attr) > 0:
                    setattr(self, attr, getattr(self, attr) - 1)
                    return kind
        return None

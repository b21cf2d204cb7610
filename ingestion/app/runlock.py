"""The run lock: one run per warehouse, and nothing outlives the run that started it.

A run holds an exclusive ``flock`` on a file beside the warehouse (``Warehouse.lock_path``) for its whole
life. The file also says who holds it, as JSON: the run's id, command, start time, phase (ingestion,
validation, build, docs), the school codes it ingests, and the process ids of the run and of every child it
started (dbt), each with its kernel start time so a recycled process id is never mistaken for it.

- Children (dbt) start in their own process group (``spawn``) and inherit the locked file descriptor, so the
  lock stays held until every child has ended, even when the parent is killed with SIGKILL.
- On SIGTERM or SIGINT the run raises :class:`RunAborted` in the main thread; leaving the lock stops every
  child's process group (SIGTERM, then SIGKILL after a grace period), records the aborted run in
  ``ops.run_log`` and clears the file. The command line exits 128 + the signal number (130, 143).
- After a SIGKILL nothing cleans up, so the next run finds the file still filled in. If the run it names is
  dead, that run's surviving children are stopped (they may still be writing the warehouse), the killed run
  is recorded as aborted in ``ops.run_log``, and the new run proceeds normally. If the run it names is alive,
  the new run is refused with :class:`WarehouseLocked` (exit code 4).
- A DuckDB warehouse opened by some other process (a BI tool or the duckdb CLI writing to it) is
  :class:`WarehouseInUse` (also exit code 4), never DuckDB's "Conflicting lock is held" traceback.

Signal handlers and the one lock a process holds are process-wide by nature: :func:`spawn` finds the active
lock through this module, so ``dbt_runner`` needs no lock passed down.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from ingestion.core.warehouse import Warehouse

STOP_GRACE_S = 10.0  # how long a child gets to end after SIGTERM before SIGKILL
BUSY_WAIT_S = 10.0  # how long to wait for another process to let go of the DuckDB file
PHASES = ("starting", "ingestion", "validation", "build", "docs")


class WarehouseLocked(RuntimeError):
    """Another schoolwh run holds the warehouse (exit code 4)."""


class WarehouseInUse(WarehouseLocked):
    """Another process (not a schoolwh run) has the DuckDB file open for writing (exit code 4)."""


class RunAborted(BaseException):
    """SIGTERM or SIGINT stopped the run. A BaseException, so that no ``except Exception`` (a school's load,
    dlt, a summary) swallows it and carries on."""

    def __init__(self, signum: int, phase: str = "") -> None:
        self.signum, self.phase = signum, phase
        super().__init__(f"stopped by {self.signal_name}" + (f" during {phase_label(phase)}" if phase else ""))

    @property
    def signal_name(self) -> str:
        return signal.Signals(self.signum).name

    @property
    def exit_code(self) -> int:
        return 128 + self.signum  # the shell's convention: 130 for SIGINT, 143 for SIGTERM


def phase_label(phase: str) -> str:
    return {"build": "dbt build", "docs": "dbt docs generate", "publish": "publishing the serving file"}.get(phase, phase)


# --- processes ---------------------------------------------------------------------------------------------
def _proc_stat(pid: int) -> tuple[str, str] | None:
    """(state, start time in clock ticks) from /proc, or None without /proc or when the process is gone."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2:].split()  # after "pid (comm) "
    return fields[0], fields[19]


def start_time(pid: int) -> str | None:
    stat = _proc_stat(pid)
    return stat[1] if stat else None


def alive(pid: int, started: str | None = None) -> bool:
    """Whether process ``pid`` (with that start time, when known) exists and is not a zombie."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    stat = _proc_stat(pid)
    if stat is None:
        return not Path("/proc/self/stat").exists()  # no /proc: trust kill(0)
    state, ticks = stat
    return state != "Z" and (started is None or ticks == started)


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def stop_group(pid: int, started: str | None = None, grace: float = STOP_GRACE_S) -> bool:
    """Stop process ``pid`` and its process group (it leads one: see :func:`spawn`): SIGTERM, then SIGKILL
    after ``grace`` seconds. Returns whether anything was still running."""
    if not alive(pid, started):
        return False
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return True
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:  # reap it when it is our own child; an orphan is reaped by init
                os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                pass
            if not alive(pid, started):
                return True
            time.sleep(0.05)
    return True


# --- the lock file -----------------------------------------------------------------------------------------
@dataclass
class LockRecord:
    """What the lock file says about the run holding it (or, after a SIGKILL, the run that held it)."""

    pid: int
    start: str | None = None
    run_id: str = ""
    command: str = ""
    started_at: str = ""
    phase: str = "starting"
    schools: list[str] = field(default_factory=list)
    children: list[list[Any]] = field(default_factory=list)  # [pid, start time, what]

    @classmethod
    def parse(cls, text: str) -> LockRecord | None:
        text = text.strip()
        if not text:
            return None
        if text.isdigit():  # the file of an older version: just the pid
            return cls(pid=int(text))
        try:
            data = json.loads(text)
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except (ValueError, TypeError):
            return None

    def live_children(self) -> list[list[Any]]:
        return [c for c in self.children if alive(int(c[0]), c[1])]

    def describe(self) -> str:
        when = f", started {self.started_at[:19].replace('T', ' ')}" if self.started_at else ""
        what = f"schoolwh {self.command}" if self.command else "schoolwh"
        return f"{what} (pid {self.pid}{when}, {phase_label(self.phase)})"


@dataclass
class StaleRun:
    """A run that was killed without cleaning up, as the next run found it."""

    record: LockRecord
    stopped: list[str]  # leftover processes this run stopped, described


_active: RunLock | None = None
_active_guard = threading.Lock()


class RunLock:
    """Hold the warehouse for one run: ``with RunLock(wh, command="nightly", schools=[...]) as lock:``."""

    def __init__(
        self, warehouse: Warehouse, *, command: str = "", run_id: str | None = None,
        schools: Sequence[str] = (), notify: Callable[[str], None] | None = None,
        busy_wait: float = BUSY_WAIT_S,
    ) -> None:
        from ingestion.ops import runlog

        self.warehouse = warehouse
        self.path = self.warehouse.lock_path
        self.record = LockRecord(
            pid=os.getpid(), start=start_time(os.getpid()), run_id=run_id or runlog.new_run_id(), command=command,
            started_at=datetime.now().isoformat(timespec="seconds"), schools=list(schools),
        )
        self.notify = notify or (lambda message: None)
        self.busy_wait = busy_wait
        self.stale: StaleRun | None = None
        self._handle: IO[str] | None = None
        self._previous_handlers: dict[int, Any] = {}
        self._write_lock = threading.Lock()

    @property
    def run_id(self) -> str:
        return self.record.run_id

    @property
    def phase(self) -> str:
        return self.record.phase

    # -- entering -------------------------------------------------------------------------------------------
    def __enter__(self) -> RunLock:
        global _active
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._handle = open(self.path, "a+")  # noqa: SIM115 (held for the whole run)
        self._held, previous = False, ""
        try:
            self._acquire()
            self._held = True
            previous = self._read()
            self._write()
            self._install_signal_handlers()
            self._check_duckdb_free()
            if self.stale is not None:
                self._log_stale()
        except BaseException:
            # not starting after all: leave the file as found (a killed run's record is still to be logged)
            self._release(restore=previous if self._held and self.stale is not None else "")
            raise
        with _active_guard:
            _active = self
        return self

    def _acquire(self) -> None:
        assert self._handle is not None
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            held_by_other = False
        except BlockingIOError:
            held_by_other = True
        previous = LockRecord.parse(self._read())
        if held_by_other:
            if previous is None or alive(previous.pid, previous.start):  # None: a run that is just starting
                what = previous.describe() if previous is not None else "another schoolwh run"
                raise WarehouseLocked(
                    f"another run is using {self.warehouse.describe()}: {what} (lock {self.path}); "
                    "wait for it to finish"
                )
            # the run is gone but the lock is still held: by the children it left behind
            stopped = self._stop_leftovers(previous)
            if not self._wait_for_flock(STOP_GRACE_S + 6.0):
                raise WarehouseLocked(
                    f"{self.warehouse.describe()} is still locked ({self.path}) although the run that took the lock "
                    f"has ended: {previous.describe()}; a process it left behind "
                    "could not be stopped. Find it with `fuser " + str(self.path) + "` and stop it."
                )
            self.stale = StaleRun(previous, stopped)
        elif previous is not None and previous.pid != os.getpid():
            # the file is still filled in: its run ended without cleaning up (SIGKILL, power loss)
            self.stale = StaleRun(previous, self._stop_leftovers(previous))

    def _stop_leftovers(self, previous: LockRecord | None) -> list[str]:
        stopped = []
        for pid, started, what in previous.live_children() if previous else []:
            self.notify(
                f"The previous run ({previous.describe()}) was killed but left {what} running (pid {pid}); "
                f"stopping it before this run starts."
            )
            if stop_group(int(pid), started):
                stopped.append(f"{what} (pid {pid})")
        return stopped

    def _wait_for_flock(self, timeout: float) -> bool:
        assert self._handle is not None
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.1)

    def _log_stale(self) -> None:
        """Record the killed run in ops.run_log, so the log has every run, finished or not."""
        stale = self.stale
        assert stale is not None
        record = stale.record
        left = f"; stopped what it left running: {', '.join(stale.stopped)}" if stale.stopped else ""
        logged = bool(record.schools and record.run_id)
        self.notify(
            f"The previous run ({record.describe()}) ended without finishing (killed){left}. "
            + ("It is recorded as aborted in ops.run_log; " if logged else "") + "this run carries on normally."
        )
        if not logged:
            return
        reason = (f"run killed during {phase_label(record.phase)} (SIGKILL or the machine stopped); "
                  f"found by run {self.run_id}{left}")
        self._write_aborted(record, reason)

    def _write_aborted(self, record: LockRecord, reason: str, starting: bool = True) -> None:
        from ingestion.ops import runlog

        try:
            started = datetime.fromisoformat(record.started_at) if record.started_at else datetime.now()
            runlog.write_aborted(self.warehouse, record.run_id, record.command or "?", started, record.schools, reason)
        except Exception as exc:  # the log must never turn an abort into a traceback
            if starting and is_conflicting_lock(exc):
                raise WarehouseInUse(in_use_message(self.warehouse, exc)) from None
            self.notify(f"could not record the aborted run in ops.run_log: {type(exc).__name__}: {exc}")

    def _check_duckdb_free(self) -> None:
        """DuckDB has one writer: a process outside schoolwh holding the file would fail the run halfway."""
        if self.warehouse.pg is not None or not self.warehouse.path.exists():
            return
        import duckdb

        deadline = time.monotonic() + self.busy_wait
        while True:
            try:
                duckdb.connect(str(self.warehouse.path)).close()
                return
            except duckdb.Error as exc:
                if not is_conflicting_lock(exc):
                    return  # not another process's lock (e.g. this process has it open): the run will tell
                if time.monotonic() >= deadline:
                    raise WarehouseInUse(in_use_message(self.warehouse, exc)) from None
                time.sleep(0.25)

    # -- during the run -------------------------------------------------------------------------------------
    def set_phase(self, phase: str) -> None:
        self.record.phase = phase
        self._write()

    def add_child(self, pid: int, what: str) -> None:
        self.record.children.append([pid, start_time(pid), what])
        self._write()

    def remove_child(self, pid: int) -> None:
        self.record.children = [c for c in self.record.children if c[0] != pid]
        self._write()

    @property
    def fileno(self) -> int | None:
        return self._handle.fileno() if self._handle is not None else None

    def _read(self) -> str:
        assert self._handle is not None
        for _ in range(5):  # a writer truncates then writes: an empty or half file is retried
            text = Path(self.path).read_text() if self.path.exists() else ""
            if LockRecord.parse(text) is not None or not text.strip():
                return text
            time.sleep(0.02)
        return text

    def _write(self, clear: bool = False) -> None:
        """Rewrite the file in place (never replace it: the lock is on this file's inode)."""
        if self._handle is None:
            return
        with self._write_lock:
            fd = self._handle.fileno()
            data = b"" if clear else (json.dumps(asdict(self.record)) + "\n").encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, data, 0)
            os.fsync(fd)

    # -- signals --------------------------------------------------------------------------------------------
    def _install_signal_handlers(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        for sig in (signal.SIGTERM, signal.SIGINT):
            self._previous_handlers[sig] = signal.getsignal(sig)
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        raise RunAborted(signum, self.record.phase)

    def _restore_signal_handlers(self) -> None:
        for sig, handler in self._previous_handlers.items():
            signal.signal(sig, handler)
        self._previous_handlers.clear()

    # -- leaving --------------------------------------------------------------------------------------------
    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        aborted = exc if isinstance(exc, RunAborted) else None
        # a second signal during cleanup must not cut it short: note it and carry on
        for sig in self._previous_handlers:
            signal.signal(sig, lambda *_: None)
        try:
            self._stop_children()
            if aborted is not None and self.record.schools:
                self._write_aborted(self.record, f"run aborted by {aborted.signal_name} during "
                                                 f"{phase_label(aborted.phase)}; its processes were stopped",
                                    starting=False)
        finally:
            self._release(restore="")

    def _stop_children(self) -> None:
        for pid, started, _ in list(self.record.children):
            stop_group(int(pid), started)
            self.remove_child(pid)

    def _release(self, restore: str | None) -> None:
        """Let go of the lock; ``restore``: what to leave in the file ("" = empty: the run ended and cleaned
        up; None = untouched, when the lock was never ours)."""
        global _active
        self._restore_signal_handlers()
        with _active_guard:
            if _active is self:
                _active = None
        if self._handle is None:
            return
        try:
            if restore is not None and getattr(self, "_held", True):
                with self._write_lock:
                    fd = self._handle.fileno()
                    os.ftruncate(fd, 0)
                    os.pwrite(fd, restore.encode(), 0)
                    os.fsync(fd)
            fcntl.flock(self._handle, fcntl.LOCK_UN)
        finally:
            self._handle.close()
            self._handle = None


def active() -> RunLock | None:
    """The lock this process holds, if any."""
    return _active


def set_phase(phase: str) -> None:
    """Note the phase of the run in the lock file (no-op without a lock)."""
    lock = _active
    if lock is not None:
        lock.set_phase(phase)


@contextmanager
def spawn(cmd: Sequence[str], *, what: str = "", **popen: Any) -> Iterator[subprocess.Popen]:
    """``subprocess.Popen(cmd, **popen)`` as a child that cannot outlive the run: in its own process group,
    holding the run's lock (inherited descriptor) for as long as it lives, named in the lock file, and
    stopped with its whole group when the block is left early (an exception, SIGTERM, Ctrl-C)."""
    lock = _active
    fds = (lock.fileno,) if lock is not None and lock.fileno is not None else ()
    proc = subprocess.Popen(list(cmd), start_new_session=True, pass_fds=fds, **popen)
    if lock is not None:
        lock.add_child(proc.pid, what or Path(cmd[0]).name)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            stop_group(proc.pid)
        if lock is not None and _active is lock:
            lock.remove_child(proc.pid)


def aborted_by(exc: BaseException) -> RunAborted | None:
    """The :class:`RunAborted` behind ``exc``: itself, or a signal that dlt intercepted and turned into an
    ordinary exception (its load step stops gracefully first); None for any other failure."""
    cause: BaseException | None = exc
    for _ in range(10):
        if cause is None:
            return None
        if isinstance(cause, RunAborted):
            return cause
        if isinstance(cause, KeyboardInterrupt):
            lock = _active
            return RunAborted(int(getattr(cause, "signal_code", signal.SIGINT)), lock.phase if lock else "")
        cause = cause.__cause__ or cause.__context__
    return None


def raise_if_signalled(exc: BaseException) -> None:
    """Raise :class:`RunAborted` if ``exc`` was caused by a signal (see :func:`aborted_by`)."""
    aborted = aborted_by(exc)
    if aborted is not None:
        raise aborted


def in_use_message(warehouse: Warehouse, exc: BaseException) -> str:
    """DuckDB's "Conflicting lock is held in <program> (PID n)" as a sentence a person can act on."""
    match = re.search(r"held in (.+?) \(PID (\d+)\)", str(exc))
    holder = ""
    if match:
        pid = int(match.group(2))
        holder = f" by process {pid} ({command_line(pid) or match.group(1)})"
    return (
        f"the DuckDB warehouse {warehouse.describe()} is open for writing{holder}. DuckDB allows one writer: "
        "close that program (a BI tool or duckdb shell should open the file read-only) or wait for it, then run "
        "again."
    )


def is_conflicting_lock(exc: BaseException) -> bool:
    return "Conflicting lock" in str(exc)

"""The processes the bench starts, and the CPU they (and PostgreSQL) use, read from /proc.

Every child runs in its own session (process group); `Processes.stop_all` ends exactly those
groups: TERM, a grace period, then KILL. Nothing else is touched.
"""

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode} before listening on {port}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout:.0f} s")


class Processes:
    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, args: list[str], env: dict, cwd: Path) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        process = subprocess.Popen(
            args,
            env=env,
            cwd=cwd,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.started.append((name, process))
        return process

    def log_tail(self, name: str, lines: int = 20) -> str:
        path = self.log_dir / f"{name}.log"
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:]) if path.exists() else ""

    def stop(self, process: subprocess.Popen, grace: float = 10.0) -> None:
        if process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(grace)
        _signal_group(process.pid, signal.SIGKILL)  # whatever the leader left behind in its group
        if process.poll() is None:
            process.wait()

    def stop_all(self) -> None:
        for _name, process in reversed(self.started):
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for _name, process in reversed(self.started):
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(max(0.1, deadline - time.monotonic()))
            self.stop(process, grace=0)
        self.started.clear()


def _signal_group(pgid: int, sig: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, sig)


# -- CPU, from /proc/<pid>/stat: utime, stime (own) and cutime, cstime (children already reaped).


def _stat(pid: int) -> tuple[int, str, int] | None:
    """(ppid, comm, own + reaped children's ticks) of `pid`, or None when it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    comm = raw[raw.index("(") + 1 : raw.rindex(")")]
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is state; ppid is fields[1]; utime, stime, cutime, cstime are fields[11:15].
    return int(fields[1]), comm, sum(int(f) for f in fields[11:15])


def _table() -> dict[int, tuple[int, str, int]]:
    table = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (stat := _stat(int(entry))) is not None:
            table[int(entry)] = stat
    return table


def tree_seconds(roots: list[int], table: dict | None = None) -> float:
    """CPU seconds used so far by `roots` and all their descendants, live or exited (reaped)."""
    table = table if table is not None else _table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _comm, _ticks) in table.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0, [r for r in roots if r in table]
    while todo:
        pid = todo.pop()
        total += table[pid][2]
        todo += children.get(pid, [])
    return total / TICK


def postgres_roots(table: dict | None = None) -> list[int]:
    """The postmaster(s): `postgres` processes whose parent is not one."""
    table = table if table is not None else _table()
    return [
        pid
        for pid, (ppid, comm, _) in table.items()
        if comm == "postgres" and table.get(ppid, (0, "", 0))[1] != "postgres"
    ]


class CpuMeter:
    """CPU seconds of the web server's processes and of PostgreSQL, between two reads.

    PostgreSQL: every process of the server, live or exited (the postmaster's reaped children),
    less the client backends that `foreign_pids()` names (other databases and clients, e.g. other
    people's sessions on a shared server) and that lived through both reads. Short-lived foreign
    backends cannot be told apart once gone: on a shared server they remain as noise.
    """

    def __init__(self, web_roots: list[int], foreign_pids: Callable[[], list[int]]):
        self.web_roots = web_roots
        self.foreign_pids = foreign_pids

    def read(self) -> dict:
        foreign = self.foreign_pids()
        table = _table()
        return {
            "web": tree_seconds(self.web_roots, table),
            "db": tree_seconds(postgres_roots(table), table),
            "foreign": {pid: table[pid][2] / TICK for pid in foreign if pid in table},
        }

    @staticmethod
    def spent(before: dict, after: dict) -> tuple[float, float]:
        """(web, database) CPU seconds between two reads."""
        lived = before["foreign"].keys() & after["foreign"].keys()
        others = sum(after["foreign"][pid] - before["foreign"][pid] for pid in lived)
        return after["web"] - before["web"], after["db"] - before["db"] - others

"""The load generator: threads, one `http.client` connection each (standard library only).

Gunicorn's sync workers close the connection after every response; `http.client` then opens a
new one for the next request, so the same code measures keep-alive and close alike.
"""

import http.client
import json
import math
import threading
import time
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: dict | None = None
    headers: dict = field(default_factory=dict)

    def send(self, conn: http.client.HTTPConnection) -> tuple[int, bytes]:
        headers = dict(self.headers)
        payload = None
        if self.body is not None:
            payload = json.dumps(self.body).encode()
            headers["Content-Type"] = "application/json"
        conn.request(self.method, self.path, body=payload, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests only
    errors: int = 0
    elapsed: float = 0.0
    statuses: dict[int, int] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies)

    def add(self, other: "Result") -> None:
        self.latencies += other.latencies
        self.errors += other.errors
        self.elapsed += other.elapsed
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n

    @property
    def per_second(self) -> float:
        return self.count / self.elapsed if self.elapsed else 0.0


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def connect(port: int, timeout: float = 60.0) -> http.client.HTTPConnection:
    return http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)


def run_load(port: int, requests: list[Request], seconds: float, ok=lambda status, body: status < 400) -> Result:
    """Each of `len(requests)` threads sends its request again and again for `seconds`.

    A response counts when `ok(status, body)`; anything else (or an exception) is an error.
    """
    results = [Result() for _ in requests]
    start = threading.Barrier(len(requests) + 1)
    deadline = [0.0]

    def worker(index: int) -> None:
        request, result, conn = requests[index], results[index], connect(port)
        start.wait()
        try:
            while time.perf_counter() < deadline[0]:
                began = time.perf_counter()
                try:
                    status, body = request.send(conn)
                except (OSError, http.client.HTTPException):
                    conn.close()
                    result.errors += 1
                    continue
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if ok(status, body):
                    result.latencies.append(time.perf_counter() - began)
                else:
                    result.errors += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    began = time.perf_counter()
    deadline[0] = began + seconds
    start.wait()
    for thread in threads:
        thread.join()
    total = Result(elapsed=time.perf_counter() - began)
    for result in results:
        result.elapsed = 0.0
        total.add(result)
    return total


def burst(targets: list[tuple[int, Request]]) -> list[tuple[int, bytes]]:
    """Send every request at the same moment, one thread and connection each; their answers in order."""
    answers: list[tuple[int, bytes]] = [(0, b"")] * len(targets)
    ready = threading.Barrier(len(targets))

    def worker(index: int) -> None:
        port, request = targets[index]
        conn = connect(port, timeout=120)
        conn.connect()  # connected before the barrier: the requests leave together
        ready.wait()
        try:
            answers[index] = request.send(conn)
        except (OSError, http.client.HTTPException) as error:
            answers[index] = (0, str(error).encode())
        finally:
            conn.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(len(targets))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def timed_get(port: int, path: str, headers: dict, times: int) -> tuple[list[float], set[int]]:
    """GET `path` `times` times, one after another; the durations (seconds) and the statuses seen."""
    durations, statuses = [], set()
    conn = connect(port)
    try:
        for _ in range(times):
            began = time.perf_counter()
            status, _body = Request("GET", path, headers=headers).send(conn)
            durations.append(time.perf_counter() - began)
            statuses.add(status)
    finally:
        conn.close()
    return durations, statuses

"""A small closed-loop HTTP/1.1 load generator: C keep-alive connections, one thread each, stdlib only.

Every request is a ready-made byte string (built before the clock starts), so the threads only send, read the
status line, the headers and `Content-Length` bytes of body, and time it. A server that closes the connection
after a response (gunicorn's sync workers do) costs a reconnect, timed as part of the next request.
Requests that start during the warm-up are sent but not counted; the measured window then lasts `duration`
seconds or until the requests run out. In-flight requests are always finished, so the server's count of
successes matches the client's.
"""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

TIMEOUT = 30.0


def build_request(method: str, path: str, host: str, headers: dict[str, str], body: bytes = b"") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class LoadResult:
    concurrency: int
    window_s: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)  # measured successes and failures alike
    statuses: Counter[int] = field(default_factory=Counter)  # measured window only
    warmup_statuses: Counter[int] = field(default_factory=Counter)
    socket_errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    client_cpu_s: float = 0.0  # this process's CPU time during the measured window
    client_cpu_window_s: float = 0.0
    sent: int = 0

    @property
    def ok(self) -> int:
        return sum(n for status, n in self.statuses.items() if 200 <= status < 300)

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok + self.socket_errors

    @property
    def ok_total(self) -> int:
        """Successes including the warm-up: what the database should hold."""
        return self.ok + sum(n for status, n in self.warmup_statuses.items() if 200 <= status < 300)

    def rate(self) -> float:
        return self.ok / self.window_s if self.window_s else 0.0

    def percentile(self, p: float) -> float:
        return percentile(sorted(self.latencies_ms), p)

    def summary(self) -> dict[str, Any]:
        ordered = sorted(self.latencies_ms)
        return {
            "concurrency": self.concurrency,
            "window_s": round(self.window_s, 3),
            "ok": self.ok,
            "errors": self.errors,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "socket_errors": self.socket_errors,
            "per_s": round(self.rate(), 1),
            "latency_ms": {
                "p50": round(percentile(ordered, 50), 2),
                "p90": round(percentile(ordered, 90), 2),
                "p99": round(percentile(ordered, 99), 2),
                "max": round(ordered[-1], 2) if ordered else 0.0,
                "mean": round(sum(ordered) / len(ordered), 2) if ordered else 0.0,
            },
            "client_cpu_s": round(self.client_cpu_s, 2),
            "client_cpu_pct_of_one_core": round(100 * self.client_cpu_s / self.client_cpu_window_s, 1)
            if self.client_cpu_window_s
            else 0.0,
            "error_samples": self.error_samples,
        }


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not ordered:
        return 0.0
    rank = max(1, min(len(ordered), math.ceil(p / 100 * len(ordered))))
    return ordered[rank - 1]


class _Connection:
    def __init__(self, host: str, port: int) -> None:
        self.address = (host, port)
        self.sock: socket.socket | None = None
        self.reader: Any = None

    def open(self) -> None:
        self.sock = socket.create_connection(self.address, timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = self.sock.makefile("rb", buffering=65536)

    def close(self) -> None:
        if self.sock is not None:
            self.reader.close()
            self.sock.close()
        self.sock = self.reader = None

    def exchange(self, request: bytes) -> tuple[int, bytes]:
        """Send one request and read its answer; reconnect first if the server closed the last one."""
        if self.sock is None:
            self.open()
        assert self.sock is not None
        self.sock.sendall(request)
        status_line = self.reader.readline(65536)
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length, close, chunked = 0, False, False
        while True:
            line = self.reader.readline(65536)
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"connection":
                close = value.strip().lower() == b"close"
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
        body = self._read_chunked() if chunked else self.reader.read(length)
        if close:
            self.close()
        return status, body

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int(self.reader.readline(65536).split(b";")[0], 16)
            if size == 0:
                self.reader.readline(65536)
                return b"".join(parts)
            parts.append(self.reader.read(size))
            self.reader.readline(65536)


def run(
    host: str,
    port: int,
    requests: Sequence[bytes],
    *,
    concurrency: int,
    duration: float,
    warmup: float = 0.0,
    ok_status: range = range(200, 300),
    mark: Callable[[str], None] | None = None,
) -> LoadResult:
    """Fire `requests` (each at most once, in order) over `concurrency` connections; see the module docstring."""
    result = LoadResult(concurrency=concurrency)
    lock = threading.Lock()
    cursor = iter(range(len(requests)))
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    last_end = [measure_from]

    def worker() -> None:
        conn = _Connection(host, port)
        latencies: list[float] = []
        statuses: Counter[int] = Counter()
        warm: Counter[int] = Counter()
        socket_errors, samples, sent, end = 0, [], 0, measure_from
        try:
            while True:
                t0 = time.perf_counter()
                if t0 >= stop_at:
                    break
                try:
                    i = next(cursor)
                except StopIteration:
                    break
                sent += 1
                measured = t0 >= measure_from
                try:
                    status, body = conn.exchange(requests[i])
                except (OSError, ValueError, IndexError) as exc:
                    conn.close()
                    if measured:
                        socket_errors += 1
                        if len(samples) < 3:
                            samples.append(f"{type(exc).__name__}: {exc}")
                    continue
                end = time.perf_counter()
                if not measured:
                    warm[status] += 1
                    continue
                latencies.append((end - t0) * 1000)
                statuses[status] += 1
                if status not in ok_status and len(samples) < 3:
                    samples.append(f"{status}: {body[:300].decode('utf-8', 'replace')}")
        finally:
            conn.close()
            with lock:
                result.latencies_ms.extend(latencies)
                result.statuses.update(statuses)
                result.warmup_statuses.update(warm)
                result.socket_errors += socket_errors
                result.error_samples.extend(samples[: max(0, 5 - len(result.error_samples))])
                result.sent += sent
                last_end[0] = max(last_end[0], end)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    # The main thread only marks the window: CPU times (this process, and whatever `mark` samples) at its start
    # and its end, so the load generator's own cost can be told apart from the server's.
    _sleep_until(measure_from, threads)
    cpu_start = os.times()
    if mark:
        mark("start")
    _sleep_until(stop_at, threads)
    cpu_end = os.times()
    if mark:
        mark("end")
    for thread in threads:
        thread.join()
    # The window: from the end of the warm-up to the last measured answer (the deadline, or earlier when the
    # requests ran out). Answers to requests started before the deadline may land a little after it.
    result.window_s = max(last_end[0] - measure_from, 1e-9)
    result.client_cpu_s = (cpu_end.user - cpu_start.user) + (cpu_end.system - cpu_start.system)
    result.client_cpu_window_s = (cpu_end.elapsed - cpu_start.elapsed) or 1e-9
    return result


def _sleep_until(deadline: float, threads: list[threading.Thread]) -> None:
    while (left := deadline - time.perf_counter()) > 0 and any(t.is_alive() for t in threads):
        time.sleep(min(left, 0.05))

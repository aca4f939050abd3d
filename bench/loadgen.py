"""A small closed-loop HTTP/1.1 load generator: C keep-alive connections in one thread's event loop, stdlib only.

One thread with non-blocking sockets and `selectors` (epoll) rather than a thread per connection: no thread
handoffs inside the timed span. Measured against a bare WSGI app, both designs cost 65–70 µs of CPU per request
at 5,000/s, half of it the kernel's connect and close.
Every request is a ready-made byte string (built before the clock starts), so the loop only sends, reads the
status line, the headers and `Content-Length` bytes of body (or a chunked body), and times it. A server that
closes the connection after a response (gunicorn's sync workers do) costs a reconnect, timed as part of the next
request.
Requests that start during the warm-up are sent but not counted; the measured window then lasts `duration`
seconds or until the requests run out. In-flight requests are always finished, so the server's count of
successes matches the client's.
"""

from __future__ import annotations

import errno
import math
import os
import selectors
import socket
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
    """One client connection's state: the request in flight, what has been read of its answer, and when it began."""

    __slots__ = ("buf", "chunked", "close", "head_end", "length", "measured", "out", "sock", "status", "t0")

    def __init__(self) -> None:
        self.sock: socket.socket | None = None
        self.out = memoryview(b"")
        self.buf = bytearray()
        self.head_end = -1
        self.status = self.length = 0
        self.chunked = self.close = self.measured = False
        self.t0 = 0.0

    def begin(self, request: bytes, t0: float, measured: bool) -> None:
        self.out, self.t0, self.measured = memoryview(request), t0, measured
        self.buf.clear()
        self.head_end = -1
        self.status = self.length = 0
        self.chunked = self.close = False

    def answer(self) -> bytes | None:
        """The body once the whole answer is in `buf`, else None."""
        if self.head_end < 0:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return None
            self.head_end = end + 4
            lines = bytes(self.buf[:end]).split(b"\r\n")
            self.status = int(lines[0].split(b" ", 2)[1])
            for line in lines[1:]:
                name, _, value = line.partition(b":")
                name = name.strip().lower()
                if name == b"content-length":
                    self.length = int(value)
                elif name == b"connection":
                    self.close = value.strip().lower() == b"close"
                elif name == b"transfer-encoding":
                    self.chunked = b"chunked" in value.lower()
        body = self.buf[self.head_end :]
        if self.chunked:
            return _dechunk(bytes(body))
        return bytes(body) if len(body) >= self.length else None


def _dechunk(data: bytes) -> bytes | None:
    """The body of a complete chunked encoding, or None while it is incomplete."""
    parts, at = [], 0
    while True:
        line_end = data.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(data[at:line_end].split(b";")[0], 16)
        if size == 0:  # no trailers are expected: the last chunk's line and an empty line end it
            return b"".join(parts) if data[line_end : line_end + 4] == b"\r\n\r\n" else None
        start = line_end + 2
        if len(data) < start + size + 2:
            return None
        parts.append(data[start : start + size])
        at = start + size + 2


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
    selector = selectors.DefaultSelector()
    address = (host, port)
    next_request = 0
    start = time.perf_counter()
    measure_from = start + warmup
    stop_at = measure_from + duration
    last_end = measure_from
    marks = [(measure_from, "start"), (stop_at, "end")]
    cpu: dict[str, os.times_result] = {}
    restart: list[_Connection] = []

    def fail(conn: _Connection, exc: BaseException) -> None:
        drop(conn)
        if conn.measured:
            result.socket_errors += 1
            if len(result.error_samples) < 5:
                result.error_samples.append(f"{type(exc).__name__}: {exc}")
        restart.append(conn)  # by the main loop, not from here: a server refusing at once would recurse

    def drop(conn: _Connection) -> None:
        if conn.sock is not None:
            selector.unregister(conn.sock)
            conn.sock.close()
            conn.sock = None

    def begin_next(conn: _Connection) -> None:
        """Start the next request on `conn` (connecting first if needed), or retire it when the run is over."""
        nonlocal next_request
        t0 = time.perf_counter()
        if t0 >= stop_at or next_request >= len(requests):
            drop(conn)
            return
        conn.begin(requests[next_request], t0, t0 >= measure_from)
        next_request += 1
        result.sent += 1
        if conn.sock is None:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.setblocking(False)
            code = sock.connect_ex(address)
            if code not in (0, errno.EINPROGRESS):
                sock.close()
                fail(conn, OSError(code, os.strerror(code)))
                return
            conn.sock = sock
            selector.register(sock, selectors.EVENT_WRITE, conn)
        else:
            selector.modify(conn.sock, selectors.EVENT_WRITE, conn)

    def on_writable(conn: _Connection) -> None:
        assert conn.sock is not None
        code = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if code:
            fail(conn, OSError(code, os.strerror(code)))
            return
        sent = conn.sock.send(conn.out)
        conn.out = conn.out[sent:]
        if not conn.out:
            selector.modify(conn.sock, selectors.EVENT_READ, conn)

    def on_readable(conn: _Connection) -> None:
        nonlocal last_end
        assert conn.sock is not None
        data = conn.sock.recv(65536)
        if not data:
            raise ConnectionError("server closed the connection")
        conn.buf += data
        body = conn.answer()
        if body is None:
            return
        end = time.perf_counter()
        if conn.measured:
            result.latencies_ms.append((end - conn.t0) * 1000)
            result.statuses[conn.status] += 1
            last_end = max(last_end, end)
            if conn.status not in ok_status and len(result.error_samples) < 5:
                result.error_samples.append(f"{conn.status}: {body[:300].decode('utf-8', 'replace')}")
        else:
            result.warmup_statuses[conn.status] += 1
        if conn.close:
            drop(conn)
        begin_next(conn)

    def pass_marks(now: float) -> None:
        # CPU times (this process, and whatever `mark` samples) at the window's start and end, so the load
        # generator's own cost can be told apart from the server's.
        while marks and now >= marks[0][0]:
            _, phase = marks.pop(0)
            cpu[phase] = os.times()
            if mark:
                mark(phase)

    connections = [_Connection() for _ in range(concurrency)]
    restart.extend(connections)
    while restart:
        begin_next(restart.pop())
    next_stuck_check = start + 1.0
    while selector.get_map():
        now = time.perf_counter()
        pass_marks(now)
        timeout = min(0.05, marks[0][0] - now) if marks else 0.05
        for key, events in selector.select(max(timeout, 0)):
            conn = key.data
            try:
                if events & selectors.EVENT_WRITE:
                    on_writable(conn)
                else:
                    on_readable(conn)
            except (OSError, ValueError, IndexError) as exc:
                fail(conn, exc)
        if now >= next_stuck_check:
            next_stuck_check = now + 1.0
            for conn in connections:
                if conn.sock is not None and conn.t0 < now - TIMEOUT:
                    fail(conn, TimeoutError(f"no answer in {TIMEOUT:.0f} s"))
        while restart:
            begin_next(restart.pop())
    selector.close()
    pass_marks(math.inf)
    # The window: from the end of the warm-up to the last measured answer (the deadline, or earlier when the
    # requests ran out). Answers to requests started before the deadline may land a little after it.
    result.window_s = max(last_end - measure_from, 1e-9)
    cpu_start, cpu_end = cpu["start"], cpu["end"]
    result.client_cpu_s = (cpu_end.user - cpu_start.user) + (cpu_end.system - cpu_start.system)
    result.client_cpu_window_s = (cpu_end.elapsed - cpu_start.elapsed) or 1e-9
    return result

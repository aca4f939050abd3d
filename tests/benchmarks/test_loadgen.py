"""The benchmark's load generator against a small stdlib server: every answer is read whole and counted once.

The server answers in the three ways the loader must handle (Content-Length on a kept-alive connection,
Content-Length then close, chunked), with a status taken from the request, and counts what it answered, so the
client's figures can be checked against the server's own.
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from bench import loadgen
from tests.support.live import closed_port


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    answered: ClassVar[Counter[int]] = Counter()
    lock: ClassVar[threading.Lock] = threading.Lock()

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        status, style = body.decode().split()
        status = int(status)
        payload = f"answer to {status} {style} ".encode() * 20
        with self.lock:  # counted before answering: the client may check as soon as it has the answer
            self.answered[status] += 1
        self.send_response(status)
        if style == "chunked":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for at in range(0, len(payload), 97):
                piece = payload[at : at + 97]
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self.send_header("Content-Length", str(len(payload)))
            if style == "close":
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server():
    Handler.answered = Counter()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()


def requests_for(port: int, plan: list[tuple[int, str]]) -> list[bytes]:
    host = f"127.0.0.1:{port}"
    return [loadgen.build_request("POST", "/", host, {}, f"{status} {style}".encode()) for status, style in plan]


def test_every_answer_is_read_whole_and_counted_once(server):
    plan = [(201, "keep"), (201, "close"), (201, "chunked"), (422, "keep"), (409, "close")] * 60
    port = server.server_address[1]

    result = loadgen.run("127.0.0.1", port, requests_for(port, plan), concurrency=7, duration=30)

    assert result.sent == len(plan)
    assert result.socket_errors == 0, result.error_samples
    assert result.statuses == Counter({201: 180, 422: 60, 409: 60})
    assert result.statuses == Handler.answered
    assert result.ok == result.ok_total == 180
    assert result.errors == 120
    assert len(result.latencies_ms) == len(plan)
    assert all(ms > 0 for ms in result.latencies_ms)
    assert any(sample.startswith("422: answer to 422 keep") for sample in result.error_samples)


def test_warm_up_answers_are_kept_apart_and_the_deadline_stops_the_run(server):
    port = server.server_address[1]
    requests = requests_for(port, [(201, "close")] * 100_000)
    marks = []

    result = loadgen.run(
        "127.0.0.1", port, requests, concurrency=4, duration=0.3, warmup=0.2, mark=lambda phase: marks.append(phase)
    )

    assert marks == ["start", "end"]
    assert sum(result.warmup_statuses.values()) > 0
    assert result.ok > 0
    assert result.sent < len(requests)
    # Nothing sent goes unanswered or uncounted: in-flight requests are finished after the deadline.
    assert result.ok_total == result.sent == Handler.answered[201]
    assert result.window_s >= 0.3


def test_a_refused_connection_is_a_socket_error_not_a_crash():
    port = closed_port()
    result = loadgen.run("127.0.0.1", port, requests_for(port, [(201, "keep")] * 5), concurrency=2, duration=5)

    assert result.ok == 0
    assert result.socket_errors == 5
    assert "ConnectionRefusedError" in result.error_samples[0] or "Errno 111" in result.error_samples[0]

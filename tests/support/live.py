"""A real HTTP server for tests that need one: concurrency tests, browser tests.

``live_server(app)`` serves a Flask app with werkzeug's threaded WSGI server on 127.0.0.1 and a free port, in a
background thread, yields its base URL (``http://127.0.0.1:PORT``) and shuts the server down afterwards. Every
request runs in its own thread with its own app context and database session, as under a real WSGI server.

``request_json`` is a small urllib client for it: it returns the status, headers and parsed JSON body, also for
4xx/5xx answers, and always closes the connection (``filterwarnings = error`` turns a leaked socket into a
failure).
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

HOST = "127.0.0.1"


@contextmanager
def live_server(app: Flask, *, host: str = HOST, threaded: bool = True) -> Iterator[str]:
    """Serve ``app`` on ``host`` and a free port while the block runs; yield the base URL.

    ``threaded=False``: one request at a time, all in the one server thread (on PostgreSQL the API's plain SQL
    keeps one connection per thread, `asm.rawdb`: a long run of requests in fresh threads would open one each).
    """
    server = make_server(host, 0, app, threaded=threaded)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def closed_port(host: str = HOST) -> int:
    """A port on `host` with nothing listening on it: connecting is refused."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class LiveResponse:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def request_json(
    method: str,
    url: str,
    body: Any = None,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 60,
) -> LiveResponse:
    """Send ``body`` as JSON (when given) and return the answer, whatever its status."""
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return LiveResponse(resp.status, dict(resp.headers.items()), resp.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return LiveResponse(exc.code, dict(exc.headers.items()), exc.read())

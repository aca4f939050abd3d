"""Helpers for tests that run the platform's own processes (a worker, the MLLP listener) or several threads."""

from __future__ import annotations

import signal
import subprocess
import threading
from collections.abc import Callable
from typing import Any


def stop(proc: subprocess.Popen[Any], timeout: float = 60) -> None:
    """SIGTERM, as systemd stops a service; SIGKILL only if it has not ended after `timeout` seconds (a hung
    process ends the test rather than outliving it)."""
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def in_threads(target: Callable[[int], Any], count: int, timeout: float = 120) -> None:
    """`target(0)` … `target(count - 1)`, each in its own thread, all started before any is waited for."""
    threads = [threading.Thread(target=target, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)

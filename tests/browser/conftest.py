"""Browser fixtures: Debian's headless Chromium driven by Playwright, and the test app on a live server.

Playwright never downloads a browser here: it launches /usr/bin/chromium (Debian packages `chromium` and
`chromium-driver`). The live server is werkzeug's threaded server on 127.0.0.1 and a port the OS picks, serving
the same `app` (and so the same database) that the `factory` fixture writes to (tests/support/live.py).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from asm.extensions import db
from tests.support.live import live_server as serve

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HTMX = Path(__file__).resolve().parents[2] / "node_modules" / "htmx.org" / "dist" / "htmx.min.js"
TABLET_LANDSCAPE = {"width": 1280, "height": 800}
TIMEOUT_MS = 10_000
# Chromium's own language (date inputs show dd/mm/yyyy): needs Debian's chromium-l10n, else it stays en-US.
CHROMIUM_ENV = {"LANGUAGE": "vi"}

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright package is not installed")


@pytest.fixture(scope="session")
def browser() -> Iterator[sync_api.Browser]:
    if not CHROMIUM.exists() or shutil.which(str(CHROMIUM)) is None:
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (apt-get install chromium chromium-driver)")
    if not HTMX.exists():
        pytest.skip("needs htmx from node_modules: run `npm ci`")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env={**os.environ, **CHROMIUM_ENV}
        )
        yield browser
        browser.close()


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The test app over real HTTP; yields its base URL. The test config names the host asm.test, the browser
    uses 127.0.0.1, so SERVER_NAME is dropped."""
    app.config["SERVER_NAME"] = None
    db.session.commit()  # nothing pending in the test thread: the server threads write to the same database
    with serve(app) as url:
        yield url


@pytest.fixture
def page(browser: sync_api.Browser, live_server: str) -> Iterator[sync_api.Page]:
    """A fresh browser context (no cookies) per test, at tablet-landscape size, with paths relative to the server."""
    context = browser.new_context(base_url=live_server, viewport=TABLET_LANDSCAPE, locale="vi-VN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda message: errors.extend(blocked_by_policy(message)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors or Content-Security-Policy violations on the page: {errors}"


def blocked_by_policy(message: sync_api.ConsoleMessage) -> list[str]:
    """Chromium reports what the Content-Security-Policy blocked (an inline script, style or handler, eval, a
    foreign source) as a console error; every browser test then fails on it."""
    text = message.text
    return [text] if message.type == "error" and "Content Security Policy" in text else []

"""Scan-to-confirmation on the kiosk: the card read on the device (zxing-wasm + cccd.js) against the server path.

    .venv/bin/python -m bench device [--frames 15] [--seed 0] [--json PATH]

One run, on loopback only:
1. a temporary SQLite database, migrated; a hotel, its owner, and a kiosk registered and paired through the real
   pages; the app served by werkzeug's threaded server on 127.0.0.1;
2. a fake camera for Debian's headless Chromium: a Y4M video of `--frames` different photo-like 1280×720 frames
   (generated card strings, random angle, blur, noise, contrast, perspective: tests/support/qrimages.py);
3. the kiosk screen (the real kiosk.js), once as shipped (the **device** path: each camera frame grabbed at
   1280×720, decoded by zxing-wasm and parsed by cccd.js in the page) and once with the device reader blocked
   (the **server** path kiosk.js falls back to: each frame downscaled to 960 px, JPEG, POSTed to
   /kiosk/api/giai-ma?khung=1, decoded and parsed by the server);
4. for each path, `--frames` guests in turn: "Check in" starts the camera, the kiosk reads a card and draws the
   confirmation, "Start over" clears the screen. kiosk.js times each read from the moment its frame was grabbed to
   the confirmation drawn (`window.kioskMetrics`); the median and p90 over the reads are reported.

Both paths run in the same browser on the same machine in the same run: the machine is shared, so their ratio is
the figure to compare. Figures: docs/PERFORMANCE.md ("Reading cards on the device").
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
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
TARGET_MS = 300.0
VIEWPORT = {"width": 1280, "height": 800}
DEVICE_READER = re.compile(r"/(vendor/zxing-wasm|static/idcard)/")


def frames(n: int, seed: int) -> list[Image.Image]:
    """`n` photo-like 1280×720 camera frames of different cards, each readable by the server's zxing."""
    from asm.idcard.decode import ZxingDecoder
    from tests.support.qrimages import photo_like, sample_card_texts

    decoder = ZxingDecoder()
    out: list[Image.Image] = []
    texts = sample_card_texts(4 * n, seed=seed)
    for i, text in enumerate(texts):
        frame = photo_like(text, size=(1280, 720), seed=seed * 1000 + i, blur=0.5, qr_fraction=0.45)
        if decoder.decode(frame.convert("L")) == [text]:
            out.append(frame)
        if len(out) == n:
            return out
    raise SystemExit(f"only {len(out)} of {4 * n} generated frames were readable")


def serve_kiosk(workdir: Path) -> tuple[Any, str, list[str]]:
    """The app on a fresh SQLite database with two kiosks to pair: (server context, base URL, pairing codes)."""
    from flask import request_started
    from flask_migrate import upgrade

    from asm import create_app
    from asm.accounts.models import Role
    from asm.config import Test
    from asm.extensions import db
    from asm.geo.services import load_units
    from tests.conftest import Factory, _fresh_g
    from tests.support.desk import client_as
    from tests.support.kiosk import register_kiosk
    from tests.support.live import live_server

    app = create_app(Test, SQLALCHEMY_DATABASE_URI=f"sqlite:///{workdir / 'bench.sqlite3'}", RATELIMIT_ENABLED=False)
    request_started.connect(_fresh_g, app)  # a fresh `g` per request although this app context stays open
    context = app.app_context()
    context.push()
    upgrade()
    load_units()
    db.session.commit()
    factory = Factory(app)
    est = factory.establishment(name="Khách sạn Đo Tốc Độ")
    owner = client_as(app, factory.user(Role.OWNER, establishment=est))
    codes = [register_kiosk(owner, est.code, name=name, flows=("hotel_check_in",)) for name in ("Sảnh A", "Sảnh B")]
    server = live_server(app)
    url = server.__enter__()
    return server, url, codes


def run_path(browser: Any, url: str, code: str, n: int, *, device: bool) -> list[dict[str, Any]]:
    context = browser.new_context(base_url=url, viewport=VIEWPORT, locale="vi-VN")
    context.set_default_timeout(20_000)
    page = context.new_page()
    page.on("pageerror", lambda exc: print("page error:", exc, file=sys.stderr))
    if not device:
        page.route(DEVICE_READER, lambda route: route.abort())
    page.goto("/kiosk/")
    page.get_by_label("Mã ghép nối").fill(code)
    page.get_by_role("button", name="Ghép nối").click()
    page.wait_for_selector("body[data-ready]", state="attached")
    reader = "device" if device else "server"
    page.wait_for_selector(f"body[data-reader={reader}]", state="attached")
    for _ in range(n):
        page.locator("[data-flow=hotel_check_in]").click()
        page.wait_for_selector("#step-confirm:not([hidden])")
        page.locator("#step-confirm [data-action=reset]").first.click()
        page.wait_for_selector("#step-start:not([hidden])")
    metrics: list[dict[str, Any]] = page.evaluate("window.kioskMetrics")
    context.close()
    assert all(m["path"] == reader for m in metrics), metrics
    return metrics


def summary(metrics: list[dict[str, Any]]) -> dict[str, Any]:
    ms = sorted(m["ms"] for m in metrics)
    return {
        "reads": len(ms),
        "frames_decoded": sorted({m["frame"] for m in metrics}),
        "median_ms": statistics.median(ms),
        "p90_ms": ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))],
        "min_ms": ms[0],
        "max_ms": ms[-1],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench device", description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=15, help="guests read per path (default 15)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    from tests.support.camera import fake_camera_args, write_y4m

    with tempfile.TemporaryDirectory(prefix="asm-bench-device-") as tmp:
        workdir = Path(tmp)
        started = time.monotonic()
        video = workdir / "cards.y4m"
        images = frames(args.frames, args.seed)
        _write_video(video, images, write_y4m)
        server, url, codes = serve_kiosk(workdir)
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path=str(CHROMIUM),
                    args=[*CHROMIUM_ARGS, *fake_camera_args(video)],
                    env={**os.environ, "LANGUAGE": "vi"},
                )
                results = {
                    "device": summary(run_path(browser, url, codes[0], args.frames, device=True)),
                    "server": summary(run_path(browser, url, codes[1], args.frames, device=False)),
                }
                browser.close()
        finally:
            server.__exit__(None, None, None)
    ratio = results["server"]["median_ms"] / max(results["device"]["median_ms"], 0.1)
    report = {
        "frame": "1280x720, photo-like, 5 fps fake camera",
        "target_median_ms": TARGET_MS,
        **results,
        "server_over_device": round(ratio, 2),
        "seconds": round(time.monotonic() - started, 1),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "chromium": _chromium_version()},
    }
    print(json.dumps(report, indent=2))
    verdict = "meets" if results["device"]["median_ms"] <= TARGET_MS else "MISSES"
    print(f"device path median {results['device']['median_ms']} ms: {verdict} the {TARGET_MS:.0f} ms target")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


def _write_video(path: Path, images: list[Image.Image], write_y4m: Any) -> None:
    """One Y4M of all the frames, each repeated for 0.2 s at 10 fps (write_y4m writes one frame repeated)."""
    parts = []
    for i, image in enumerate(images):
        part = path.with_name(f"part{i}.y4m")
        write_y4m(part, image, frames=2, fps=10)
        parts.append(part.read_bytes())
    header, first = parts[0].split(b"\n", 1)
    body = first + b"".join(p.split(b"\n", 1)[1] for p in parts[1:])
    path.write_bytes(header + b"\n" + body)


def _chromium_version() -> str:
    try:
        return subprocess.run([str(CHROMIUM), "--version"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "?"


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark the MRZ reader on photo-like frames of passport data pages, against the QR decoder.

    .venv/bin/python -m bench mrz [--n 100] [--seed 0] [--json PATH]

Over ``--n`` generated passports (tests/support/mrzdata.py), each photographed as a 1280×720 frame
(tests/support/mrzimages.py: rotation ±12°, perspective, blur, glare, uneven light, noise, JPEG), it measures
``read_mrz_image`` on the JPEG upload: exact % (every line equals the passport's), wrong % (accepted but not
exact: must be 0), refused %, and median / p90 ms per frame. As the baseline, in the same run, zxing-cpp
decodes the QR code of a chip ID card in comparable 1280×720 frames (tests/support/qrimages.py), upload path
``decode_qr_texts`` included, because the machine is shared and absolute times drift.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import statistics
import sys
import time
from datetime import date
from importlib import metadata

from asm.idcard.decode import DecodeError, decode_qr_texts
from asm.idcard.mrz_image import read_mrz_image
from tests.support.mrzdata import random_document
from tests.support.mrzimages import mrz_photo_bytes
from tests.support.qrimages import photo_like, sample_card_texts, to_bytes

TODAY = date(2026, 12, 4)


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]


def run(n: int, seed: int, progress: bool = True) -> dict[str, object]:
    exact = wrong = refused = 0
    mrz_ms: list[float] = []
    qr_ms: list[float] = []
    qr_exact = 0
    cards = sample_card_texts(n, seed)
    read_mrz_image(mrz_photo_bytes(random_document(random.Random(-1), "TD3", today=TODAY), seed=-1), today=TODAY)
    started = time.monotonic()
    for i in range(n):
        doc = random_document(random.Random(seed * 100_003 + i), "TD3", today=TODAY)
        upload = mrz_photo_bytes(doc, seed=seed * 100_003 + i)
        t0 = time.perf_counter()
        try:
            data = read_mrz_image(upload, today=TODAY)
        except DecodeError:
            data = None
        mrz_ms.append((time.perf_counter() - t0) * 1000)
        if data is None:
            refused += 1
        elif data.lines == doc.lines():
            exact += 1
        else:
            wrong += 1
        qr_upload = to_bytes(photo_like(cards[i], size=(1280, 720), seed=seed * 100_003 + i), "JPEG", quality=90)
        t0 = time.perf_counter()
        try:
            texts = decode_qr_texts(qr_upload)
        except DecodeError:
            texts = []
        qr_ms.append((time.perf_counter() - t0) * 1000)
        qr_exact += texts == [cards[i]]
        if progress and (i + 1) % 25 == 0:
            print(f"  {i + 1}/{n} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    return {
        "n": n,
        "seed": seed,
        "mrz_exact_pct": 100 * exact / n,
        "mrz_wrong_pct": 100 * wrong / n,
        "mrz_refused_pct": 100 * refused / n,
        "mrz_median_ms": statistics.median(mrz_ms),
        "mrz_p90_ms": _p90(mrz_ms),
        "qr_exact_pct": 100 * qr_exact / n,
        "qr_median_ms": statistics.median(qr_ms),
        "qr_p90_ms": _p90(qr_ms),
        "mrz_over_qr_median": statistics.median(mrz_ms) / statistics.median(qr_ms),
        "environment": {
            "python": platform.python_version(),
            **{d: metadata.version(d) for d in ("opencv-python-headless", "numpy", "Pillow", "zxing-cpp")},
        },
        "raw_ms": {"mrz": mrz_ms, "qr": qr_ms},
    }


def markdown(result: dict[str, object], command: str) -> str:
    r = result
    return "\n".join(
        [
            f"Command: `{command}`  ",
            f"Environment: {json.dumps(r['environment'])}  ",
            f"{r['n']} frames of 1280×720 per reader, seed {r['seed']}.",
            "",
            "| reader (upload path, JPEG 1280×720) | exact % | wrong % | refused % | median ms | p90 ms |",
            "|---|---:|---:|---:|---:|---:|",
            f"| MRZ: `read_mrz_image` (passport data page) | {r['mrz_exact_pct']:.1f} | {r['mrz_wrong_pct']:.1f} | "
            f"{r['mrz_refused_pct']:.1f} | {r['mrz_median_ms']:.1f} | {r['mrz_p90_ms']:.1f} |",
            f"| QR baseline: `decode_qr_texts` (zxing-cpp, CCCD) | {r['qr_exact_pct']:.1f} | — | — | "
            f"{r['qr_median_ms']:.1f} | {r['qr_p90_ms']:.1f} |",
            "",
            f"MRZ median ÷ QR median (same run): {r['mrz_over_qr_median']:.1f}",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench mrz", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="frames (default 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", metavar="PATH", help="write the figures as JSON")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    command = " ".join(["python -m bench mrz", *(sys.argv[2:] if argv is None else argv)])
    result = run(args.n, args.seed, progress=not args.quiet)
    print(markdown(result, command))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

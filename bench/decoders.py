"""Benchmark the card-QR decoders: detection, exact text and time per frame.

    .venv/bin/python -m bench.decoders [--n 300] [--seed 0] [--repeat 3] [--json PATH]

Over ``--n`` generated card strings (tests/support/qrimages.py), each rendered as a clean QR image, as
photo-like camera frames at 640×480 and 1280×720 (random angle, skew, blur, noise, contrast, JPEG) and as
out-of-focus 640×480 frames, it measures for every decoder:

- detected %: a code was found; exact %: the decoded text equals the card string (mojibake is a failure);
  garbled %: found but not exact;
- median and p90 time per frame, each frame timed ``--repeat`` times keeping the fastest run, on the
  already grayscale frame (the upload path's image decoding is measured separately, as ``end-to-end``);
- the same times as a multiple of a baseline measured on the same frames in the same run (Pillow's
  RGB → L conversion plus a 3×3 box blur), because the machine is shared and absolute times drift.

Decoders: ``zxing`` and ``zbar`` (binary mode) alone and with the fallback pass of ``decode_image_texts``,
and ``zbar-text`` (zbar's default text mode) to show its charset-guess garbling.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import metadata

from PIL import Image, ImageFilter

from asm.idcard.decode import (
    DEFAULT_DECODER,
    DecodeError,
    ZbarDecoder,
    ZxingDecoder,
    decode_image_texts,
    decode_qr_texts,
)
from tests.support.qrimages import photo_like, qr_image, sample_card_texts, to_bytes

SIZES: tuple[tuple[int, int], ...] = ((640, 480), (1280, 720))


@dataclass
class Series:
    """Raw figures of one decoder over one set of frames."""

    decoder: str
    frames: str
    found: list[bool] = field(default_factory=list)
    exact: list[bool] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)

    def summary(self, baseline_median_ms: float) -> dict[str, float | str | int]:
        n = len(self.ms)
        ordered = sorted(self.ms)
        median = statistics.median(ordered)
        return {
            "frames": self.frames,
            "decoder": self.decoder,
            "n": n,
            "detected_pct": 100 * sum(self.found) / n,
            "exact_pct": 100 * sum(self.exact) / n,
            "garbled_pct": 100 * sum(f and not e for f, e in zip(self.found, self.exact, strict=True)) / n,
            "median_ms": median,
            "p90_ms": ordered[min(n - 1, int(0.9 * n))],
            "median_x_baseline": median / baseline_median_ms if baseline_median_ms else float("nan"),
        }


def _best_of(fn: Callable[[], object], repeat: int) -> tuple[object, float]:
    """Run ``fn`` ``repeat`` times; return its result and the fastest time in milliseconds."""
    best = float("inf")
    result: object = None
    for _ in range(repeat):
        start = time.perf_counter_ns()
        result = fn()
        best = min(best, (time.perf_counter_ns() - start) / 1e6)
    return result, best


def _texts_or_empty(fn: Callable[[], list[str]]) -> list[str]:
    try:
        return fn()
    except DecodeError as exc:
        if exc.code != "no_code_found":
            raise
        return []


def _baseline(frame: Image.Image) -> None:
    frame.convert("L").filter(ImageFilter.BoxBlur(1))


def run(n: int, seed: int, repeat: int, progress: bool = True, command: str = "") -> dict[str, object]:
    texts = sample_card_texts(n, seed)
    zxing, zbar, zbar_text = ZxingDecoder(), ZbarDecoder(), ZbarDecoder(binary=False)
    decoders: dict[str, Callable[[Image.Image], list[str]]] = {
        "zxing": zxing.decode,
        "zxing+fallback": lambda g: _texts_or_empty(lambda: decode_image_texts(g, decoder=zxing)),
        "zbar": zbar.decode,
        "zbar+fallback": lambda g: _texts_or_empty(lambda: decode_image_texts(g, decoder=zbar)),
        "zbar-text": zbar_text.decode,
    }
    frame_sets: list[tuple[str, Callable[[int, str], Image.Image]]] = [
        ("clean", lambda i, text: qr_image(text, scale=4, border=4).convert("RGB")),
    ]
    for w, h in SIZES:
        frame_sets.append(
            (f"photo {w}x{h}", lambda i, text, w=w, h=h: photo_like(text, size=(w, h), seed=seed * 100_003 + i))
        )
    # Out of focus: a card held too close to a fixed-focus webcam; where the fallback pass earns its keep.
    frame_sets.append(
        (
            "blurred 640x480",
            lambda i, text: photo_like(text, size=(640, 480), blur=1.3, qr_fraction=0.27, seed=seed * 100_003 + i),
        )
    )

    series: list[Series] = []
    baselines: dict[str, list[float]] = {}
    end_to_end: dict[str, list[float]] = {}
    for set_name, make in frame_sets:
        per_decoder = {name: Series(name, set_name) for name in decoders}
        base_ms: list[float] = []
        e2e_ms: list[float] = []
        started = time.monotonic()
        warm = make(0, texts[0]).convert("L")
        for decode in decoders.values():  # first calls pay for lazy set-up; keep that out of the figures
            decode(warm)
        for i, text in enumerate(texts):
            frame = make(i, text)
            gray = frame.convert("L")
            base_ms.append(_best_of(lambda frame=frame: _baseline(frame), repeat)[1])
            order = list(decoders.items())
            order = order[i % len(order) :] + order[: i % len(order)]  # no decoder always runs first
            for name, decode in order:
                found, ms = _best_of(lambda decode=decode, gray=gray: decode(gray), repeat)
                assert isinstance(found, list)
                s = per_decoder[name]
                s.found.append(bool(found))
                s.exact.append(found == [text])
                s.ms.append(ms)
            if set_name != "clean":
                upload = to_bytes(frame, "JPEG", quality=90)
                e2e_ms.append(
                    _best_of(lambda upload=upload: _texts_or_empty(lambda: decode_qr_texts(upload)), repeat)[1]
                )
            if progress and (i + 1) % 50 == 0:
                print(f"  {set_name}: {i + 1}/{n} ({time.monotonic() - started:.0f} s)", file=sys.stderr)
        series.extend(per_decoder.values())
        baselines[set_name] = base_ms
        if e2e_ms:
            end_to_end[set_name] = e2e_ms

    summaries = []
    for s in series:
        summaries.append(s.summary(statistics.median(baselines[s.frames])))
    return {
        "command": command,
        "n": n,
        "seed": seed,
        "repeat": repeat,
        "environment": _environment(),
        "baseline": "Pillow RGB->L conversion + 3x3 BoxBlur on the same frame",
        "baseline_median_ms": {k: statistics.median(v) for k, v in baselines.items()},
        "end_to_end_decoder": DEFAULT_DECODER,
        "end_to_end_median_ms": {k: statistics.median(v) for k, v in end_to_end.items()},
        "end_to_end_p90_ms": {k: sorted(v)[min(len(v) - 1, int(0.9 * len(v)))] for k, v in end_to_end.items()},
        "summary": summaries,
        "raw": {
            "series": [asdict(s) for s in series],
            "baseline_ms": baselines,
            "end_to_end_ms": end_to_end,
        },
    }


def _environment() -> dict[str, str]:
    env = {"python": platform.python_version(), "machine": platform.machine(), "platform": platform.platform()}
    for dist in ("zxing-cpp", "pyzbar", "Pillow", "segno"):
        try:
            env[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            env[dist] = "missing"
    try:
        from ctypes import byref, c_uint

        from pyzbar.wrapper import zbar_version

        major, minor = c_uint(), c_uint()
        zbar_version(byref(major), byref(minor))
        env["libzbar"] = f"{major.value}.{minor.value}"
    except (ImportError, OSError):
        env["libzbar"] = "missing"
    return env


def markdown(result: dict[str, object]) -> str:
    lines = [
        f"Command: `{result['command']}`  ",
        f"Environment: {json.dumps(result['environment'], ensure_ascii=False)}  ",
        f"Frames per set: {result['n']}, seed {result['seed']}, each timed {result['repeat']}× (fastest kept).",
        "",
        "| frames | decoder | detected % | exact % | garbled % | median ms | p90 ms | median × baseline |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    summary = result["summary"]
    assert isinstance(summary, list)
    for row in summary:
        lines.append(
            f"| {row['frames']} | {row['decoder']} | {row['detected_pct']:.1f} | {row['exact_pct']:.1f} | "
            f"{row['garbled_pct']:.1f} | {row['median_ms']:.2f} | {row['p90_ms']:.2f} | "
            f"{row['median_x_baseline']:.2f} |"
        )
    lines += ["", f"Baseline ({result['baseline']}), median ms per set:"]
    baseline = result["baseline_median_ms"]
    assert isinstance(baseline, dict)
    lines += [f"- {k}: {v:.2f}" for k, v in baseline.items()]
    e2e, e2e90 = result["end_to_end_median_ms"], result["end_to_end_p90_ms"]
    assert isinstance(e2e, dict) and isinstance(e2e90, dict)
    lines += [
        "",
        f"End to end on the server path (`decode_qr_texts` on a JPEG upload, decoder "
        f"`{result['end_to_end_decoder']}`, fallback on): median / p90 ms",
    ]
    lines += [f"- {k}: {v:.2f} / {e2e90[k]:.2f}" for k, v in e2e.items()]
    by_key = {(r["frames"], r["decoder"]): r for r in summary}
    lines += ["", "zxing time as a fraction of zbar's (median, same frames):"]
    for frames in baseline:
        zx, zb = by_key.get((frames, "zxing")), by_key.get((frames, "zbar"))
        if zx and zb:
            lines.append(f"- {frames}: {float(zx['median_ms']) / float(zb['median_ms']):.2f}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.decoders", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=300, help="card strings per frame set (default 300)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the card strings and frames")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per frame, fastest kept")
    parser.add_argument("--json", metavar="PATH", help="write the raw figures as JSON")
    parser.add_argument("--quiet", action="store_true", help="no progress on stderr")
    args = parser.parse_args(argv)
    command = " ".join(["python -m bench.decoders", *(sys.argv[1:] if argv is None else argv)])
    result = run(args.n, args.seed, args.repeat, progress=not args.quiet, command=command)
    print(markdown(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

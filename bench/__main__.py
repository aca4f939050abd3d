"""Run the benchmarks: `python -m bench` runs them all; `python -m bench NAME [ARGS]` runs one.

    python -m bench                      # all of them, in this order
    python -m bench api [--help]         # stay filings/s through the JSON API vs raw INSERTs (PostgreSQL)
    python -m bench decoders [--help]    # card-QR decoders: detection, exact text, time per frame
    python -m bench mrz [--help]         # passport MRZ from 1280x720 photos vs the QR decoder
    python -m bench device [--help]      # kiosk scan-to-confirmation: zxing-wasm + cccd.js in Chromium vs server
    python -m bench hospital [--help]    # batches of 1,000 hospital events vs raw INSERTs (PostgreSQL)
    python -m bench groups [--help]      # groups of 40 guests in one API request vs raw INSERTs (PostgreSQL)
    python -m bench mllp [--help]        # HL7 ADT messages/s over MLLP (1 and 8 connections) vs batch and raw
    python -m bench police [--help]      # police dashboards and reports over 10M generated stays (PostgreSQL)
    python -m bench purge [--help]       # the retention purge of a month while the API files (PostgreSQL)
    python -m bench layout [--help]      # filings/s, history partitioned by month or not (PostgreSQL)

Figures and method: docs/PERFORMANCE.md.
"""

from __future__ import annotations

import sys
from collections.abc import Callable


def _api(argv: list[str]) -> int:
    from bench import api_filings

    api_filings.main(argv)
    return 0


def _decoders(argv: list[str]) -> int:
    from bench import decoders

    return decoders.main(argv)


def _hospital(argv: list[str]) -> int:
    from bench import hospital_events

    return hospital_events.main(argv)


BENCHMARKS: dict[str, Callable[[list[str]], int]] = {"decoders": _decoders, "api": _api}
BENCHMARKS["hospital"] = _hospital  # batches of 1,000 hospital events vs raw INSERTs (PostgreSQL)


def _groups(argv: list[str]) -> int:
    from bench import groups

    return groups.main(argv)


BENCHMARKS["groups"] = _groups  # groups of 40 guests through the API vs raw INSERTs (PostgreSQL)


def _device(argv: list[str]) -> int:
    from bench import device_reading

    return device_reading.main(argv)


BENCHMARKS["device"] = _device  # kiosk scan-to-confirmation on the device (zxing-wasm) vs the server path


def _mllp(argv: list[str]) -> int:
    from bench import hospital_mllp

    return hospital_mllp.main(argv)


BENCHMARKS["mllp"] = _mllp  # HL7 v2 ADT over MLLP, one and eight connections, vs the events API and raw INSERTs


def _police(argv: list[str]) -> int:
    from bench import police_scale

    police_scale.main(argv)
    return 0


BENCHMARKS["police"] = _police  # police dashboards and reports over 10 million stays (PostgreSQL)


def _purge(argv: list[str]) -> int:
    from bench import purge

    purge.main(argv)
    return 0


BENCHMARKS["purge"] = _purge  # the retention purge of one month while the API files (PostgreSQL)


def _layout(argv: list[str]) -> int:
    from bench import history_layout

    history_layout.main(argv)
    return 0


BENCHMARKS["layout"] = _layout  # filings/s with the history partitioned by month and without (PostgreSQL)


def _mrz(argv: list[str]) -> int:
    from bench import mrz

    return mrz.main(argv)


BENCHMARKS["mrz"] = _mrz  # passport MRZ read from 1280x720 photos, against the QR decoder


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv and argv[0] in BENCHMARKS:
        return BENCHMARKS[argv[0]](argv[1:])
    if argv:
        print(f"unknown benchmark {argv[0]!r}; choose from: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    status = 0
    for name, run in BENCHMARKS.items():
        print(f"\n##### bench {name}", flush=True)
        status = run([]) or status
    return status


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

"""Regenerate ``asm/geo/data/*.csv`` from the ``vietnamadminunits`` dataset.

Not used at run time: the app reads the shipped CSVs through :mod:`asm.geo.units`.

The source is the SQLite file ``vietnamadminunits/data/dataset.db`` (table ``admin_units``) that the PyPI
package ``vietnamadminunits`` (MIT) ships. It can be read in either of two ways, without importing the
package (whose import pulls in its parser and that one's dependencies):

* ``python -m asm.geo.generate --from-package``: the package is installed in the running interpreter;
* ``python -m asm.geo.generate --wheel PATH``: a wheel fetched with
  ``pip download --no-deps vietnamadminunits==1.0.4``, so nothing has to be installed at all.

``--check`` compares instead of writing and exits 1 when the shipped CSVs differ from the source.
"""

from __future__ import annotations

import argparse
import csv
import importlib.metadata
import importlib.util
import io
import re
import sqlite3
import sys
import tempfile
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from asm.geo.units import COMMUNE_HEADER, PROVINCE_HEADER, CommuneRow, ProvinceRow

SOURCE_PACKAGE = "vietnamadminunits"
DATASET_MEMBER = "vietnamadminunits/data/dataset.db"
DEFAULT_OUTPUT_DIR = Path(__file__).resolve().parent / "data"

# The official name carries the kind: "Tỉnh Cao Bằng", "Phường Ba Đình". The kind comes from it, because the
# source has no province type column, and its commune ``wardType`` contradicts the name for a few units
# (4 in version 1.0.4); those are reported.
PROVINCE_KIND_BY_PREFIX: tuple[tuple[str, str], ...] = (("Thành phố ", "thanh_pho"), ("Tỉnh ", "tinh"))
COMMUNE_KIND_BY_PREFIX: tuple[tuple[str, str], ...] = (
    ("Xã ", "xa"),
    ("Phường ", "phuong"),
    ("Đặc khu ", "dac_khu"),
)
# The source's ``wardType`` and our commune kinds.
COMMUNE_KIND_BY_SOURCE_TYPE: dict[str, str] = {"Xã": "xa", "Phường": "phuong", "Đặc khu": "dac_khu"}

_SPACES = re.compile(r"\s+")
_PROVINCE_CODE = re.compile(r"\d{2}")
_COMMUNE_CODE = re.compile(r"\d{5}")


class SourceError(Exception):
    """The source data is missing or does not have the expected shape."""


@dataclass(frozen=True)
class Dataset:
    provinces: list[ProvinceRow]
    communes: list[CommuneRow]
    # Communes whose source ``wardType`` contradicts their name: (code, name, wardType).
    type_disagreements: list[tuple[str, str, str]]

    def counts(self) -> dict[str, int]:
        kinds = Counter(c.kind for c in self.communes)
        return {
            "provinces": len(self.provinces),
            "thanh_pho": sum(1 for p in self.provinces if p.kind == "thanh_pho"),
            "tinh": sum(1 for p in self.provinces if p.kind == "tinh"),
            "communes": len(self.communes),
            "xa": kinds["xa"],
            "phuong": kinds["phuong"],
            "dac_khu": kinds["dac_khu"],
        }


def clean_name(raw: str) -> str:
    """NFC, single spaces, no leading or trailing blanks."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", raw)).strip()


def kind_from_name(name: str, prefixes: tuple[tuple[str, str], ...]) -> str:
    for prefix, kind in prefixes:
        if name.startswith(prefix):
            return kind
    raise SourceError(f"cannot tell the kind of {name!r}")


def read_dataset(db_path: Path) -> Dataset:
    """Read and validate the ``admin_units`` table of a ``vietnamadminunits`` dataset.db."""
    uri = f"{db_path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as conn:
        try:
            records = conn.execute(
                "SELECT provinceCode, province, wardCode, ward, wardType FROM admin_units"
            ).fetchall()
        except sqlite3.Error as exc:
            raise SourceError(f"{db_path}: {exc}") from exc

    provinces: dict[str, ProvinceRow] = {}
    communes: dict[str, CommuneRow] = {}
    disagreements: list[tuple[str, str, str]] = []
    for province_code, raw_province_name, code, raw_name, source_type in records:
        province_code, code = str(province_code), str(code)
        if not _PROVINCE_CODE.fullmatch(province_code):
            raise SourceError(f"malformed province code {province_code!r}")
        if not _COMMUNE_CODE.fullmatch(code):
            raise SourceError(f"malformed commune code {code!r}")
        province_name = clean_name(raw_province_name)
        province = ProvinceRow(
            code=province_code,
            name=province_name,
            kind=kind_from_name(province_name, PROVINCE_KIND_BY_PREFIX),
        )
        if provinces.setdefault(province_code, province) != province:
            raise SourceError(f"province {province_code} has two names")
        if code in communes:
            raise SourceError(f"commune code {code} appears twice")
        name = clean_name(raw_name)
        kind = kind_from_name(name, COMMUNE_KIND_BY_PREFIX)
        if COMMUNE_KIND_BY_SOURCE_TYPE.get(source_type) != kind:
            disagreements.append((code, name, str(source_type)))
        communes[code] = CommuneRow(code=code, name=name, kind=kind, province_code=province_code)

    return Dataset(
        provinces=[provinces[c] for c in sorted(provinces)],
        communes=[communes[c] for c in sorted(communes)],
        type_disagreements=sorted(disagreements),
    )


def installed_dataset() -> tuple[Path, str]:
    """Path to the installed package's dataset.db and the package version."""
    spec = importlib.util.find_spec(SOURCE_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SourceError(f"{SOURCE_PACKAGE} is not installed in this interpreter")
    db_path = Path(next(iter(spec.submodule_search_locations))) / "data" / "dataset.db"
    if not db_path.is_file():
        raise SourceError(f"{db_path} not found")
    return db_path, importlib.metadata.version(SOURCE_PACKAGE)


def wheel_version(wheel: zipfile.ZipFile) -> str:
    for member in wheel.namelist():
        if member.endswith(".dist-info/METADATA"):
            for line in wheel.read(member).decode("utf-8").splitlines():
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
    raise SourceError("wheel has no METADATA version")


def render_csv(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def render(dataset: Dataset) -> dict[str, str]:
    """File name to UTF-8 text of each CSV."""
    return {
        "provinces.csv": render_csv(PROVINCE_HEADER, [(p.code, p.name, p.kind) for p in dataset.provinces]),
        "communes.csv": render_csv(
            COMMUNE_HEADER, [(c.code, c.name, c.kind, c.province_code) for c in dataset.communes]
        ),
    }


def write_or_check(files: dict[str, str], output_dir: Path, *, check: bool) -> list[str]:
    """Write the files, or with ``check`` list those that differ from what is on disk."""
    stale: list[str] = []
    for name, text in files.items():
        path = output_dir / name
        if check:
            if not path.is_file() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            output_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="")
    return stale


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m asm.geo.generate", description=__doc__.splitlines()[0])
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--from-package", action="store_true", help=f"read the installed {SOURCE_PACKAGE}")
    source.add_argument("--wheel", type=Path, help=f"read a downloaded {SOURCE_PACKAGE} wheel")
    parser.add_argument("--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR)
    parser.add_argument("--check", action="store_true", help="compare with the CSVs instead of writing")
    args = parser.parse_args(argv)

    try:
        if args.wheel is not None:
            with zipfile.ZipFile(args.wheel) as wheel, tempfile.TemporaryDirectory() as tmp:
                version = wheel_version(wheel)
                db_path = Path(wheel.extract(DATASET_MEMBER, tmp))
                dataset = read_dataset(db_path)
        else:
            db_path, version = installed_dataset()
            dataset = read_dataset(db_path)
    except (SourceError, OSError, KeyError, zipfile.BadZipFile) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    print(f"source: {SOURCE_PACKAGE} {version}")
    print(" ".join(f"{key}={value}" for key, value in dataset.counts().items()))
    for code, name, source_type in dataset.type_disagreements:
        print(f"note: {code} {name}: kind taken from the name, the source's wardType says {source_type!r}")
    stale = write_or_check(render(dataset), args.output_dir, check=args.check)
    if stale:
        print(f"out of date: {', '.join(stale)}", file=sys.stderr)
        return 1
    print("up to date" if args.check else f"written to {args.output_dir}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

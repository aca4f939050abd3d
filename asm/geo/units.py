"""The administrative units of Vietnam since 1 July 2025, read from the CSVs shipped in ``asm/geo/data``.

Two levels: 34 provinces (``thanh_pho``: centrally governed city, ``tinh``: province) and 3,321 communes
(``xa``, ``phuong``, ``dac_khu``). Codes are the official ones: 2 digits for a province, 5 for a commune.
Where the data comes from and how to regenerate it: ``asm/geo/data/SOURCE.md``.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib.resources import files
from types import MappingProxyType
from typing import Final

from asm.i18n import N_

__all__ = [
    "COMMUNE_HEADER",
    "COMMUNE_KINDS",
    "KIND_LABELS",
    "PROVINCE_HEADER",
    "PROVINCE_KINDS",
    "CommuneRow",
    "ProvinceRow",
    "iter_communes",
    "iter_provinces",
]

PROVINCE_KINDS: Final = ("thanh_pho", "tinh")
COMMUNE_KINDS: Final = ("xa", "phuong", "dac_khu")

PROVINCE_HEADER: Final = ("code", "name", "kind")
COMMUNE_HEADER: Final = ("code", "name", "kind", "province_code")

# kind -> msgid of the catalogue (asm/i18n.py), translated where shown
KIND_LABELS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "thanh_pho": N_("Thành phố trực thuộc trung ương"),
        "tinh": N_("Tỉnh"),
        "xa": N_("Xã"),
        "phuong": N_("Phường"),
        "dac_khu": N_("Đặc khu"),
    }
)


@dataclass(frozen=True)
class ProvinceRow:
    code: str  # "01"
    name: str  # "Thành phố Hà Nội", "Tỉnh Cao Bằng"
    kind: str  # one of PROVINCE_KINDS


@dataclass(frozen=True)
class CommuneRow:
    code: str  # "00004"
    name: str  # "Phường Ba Đình"
    kind: str  # one of COMMUNE_KINDS
    province_code: str  # "01"


def _read(file_name: str, header: tuple[str, ...]) -> Iterator[list[str]]:
    resource = files("asm.geo").joinpath("data", file_name)
    with resource.open("rb") as raw, io.TextIOWrapper(raw, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        found = tuple(next(reader, ()))
        if found != header:
            raise ValueError(f"{file_name}: header {found!r}, expected {header!r}")
        for line in reader:
            if len(line) != len(header):
                raise ValueError(f"{file_name} line {reader.line_num}: {len(line)} fields, expected {len(header)}")
            yield line


def iter_provinces() -> Iterator[ProvinceRow]:
    """The 34 provinces, sorted by code."""
    for code, name, kind in _read("provinces.csv", PROVINCE_HEADER):
        yield ProvinceRow(code=code, name=name, kind=kind)


def iter_communes() -> Iterator[CommuneRow]:
    """The 3,321 communes, sorted by code."""
    for code, name, kind, province_code in _read("communes.csv", COMMUNE_HEADER):
        yield CommuneRow(code=code, name=name, kind=kind, province_code=province_code)

"""The shipped administrative units: 34 provinces and 3,321 communes since 1 July 2025."""

from __future__ import annotations

import re
import sqlite3
import unicodedata
from collections import Counter
from contextlib import closing
from pathlib import Path

import pytest

from asm.geo import generate
from asm.geo.units import (
    COMMUNE_KINDS,
    KIND_LABELS,
    PROVINCE_KINDS,
    CommuneRow,
    ProvinceRow,
    iter_communes,
    iter_provinces,
)
from asm.i18n import translations

PROVINCES = list(iter_provinces())
COMMUNES = list(iter_communes())
PROVINCE_BY_CODE = {p.code: p for p in PROVINCES}
COMMUNE_BY_CODE = {c.code: c for c in COMMUNES}


def test_counts() -> None:
    assert len(PROVINCES) == 34
    assert len(COMMUNES) == 3321


def test_province_kind_split() -> None:
    assert Counter(p.kind for p in PROVINCES) == {"thanh_pho": 6, "tinh": 28}


def test_commune_kind_split() -> None:
    assert Counter(c.kind for c in COMMUNES) == {"xa": 2621, "phuong": 687, "dac_khu": 13}


def test_codes_unique_well_formed_and_sorted() -> None:
    province_codes = [p.code for p in PROVINCES]
    commune_codes = [c.code for c in COMMUNES]
    assert all(re.fullmatch(r"\d{2}", code) for code in province_codes)
    assert all(re.fullmatch(r"\d{5}", code) for code in commune_codes)
    assert len(set(province_codes)) == len(province_codes)
    assert len(set(commune_codes)) == len(commune_codes)
    assert province_codes == sorted(province_codes)
    assert commune_codes == sorted(commune_codes)


def test_kinds_are_known_and_labelled() -> None:
    assert {p.kind for p in PROVINCES} <= set(PROVINCE_KINDS)
    assert {c.kind for c in COMMUNES} <= set(COMMUNE_KINDS)
    for kind in (*PROVINCE_KINDS, *COMMUNE_KINDS):
        assert KIND_LABELS[kind]
        assert translations("en").gettext(KIND_LABELS[kind]) != KIND_LABELS[kind]  # in the catalogue


def test_every_commune_has_its_province_and_every_province_has_communes() -> None:
    assert {c.province_code for c in COMMUNES} == set(PROVINCE_BY_CODE)


def test_names_are_nfc_and_trimmed() -> None:
    for name in [p.name for p in PROVINCES] + [c.name for c in COMMUNES]:
        assert unicodedata.is_normalized("NFC", name), name
        assert name == " ".join(name.split()), name


def test_names_carry_the_kind() -> None:
    prefixes = {
        "thanh_pho": "Thành phố ",
        "tinh": "Tỉnh ",
        "xa": "Xã ",
        "phuong": "Phường ",
        "dac_khu": "Đặc khu ",
    }
    for row in (*PROVINCES, *COMMUNES):
        assert row.name.startswith(prefixes[row.kind]), row


def test_commune_names_unique_within_a_province() -> None:
    pairs = Counter((c.province_code, c.name) for c in COMMUNES)
    assert [pair for pair, n in pairs.items() if n > 1] == []


@pytest.mark.parametrize(
    "province",
    [
        ProvinceRow("01", "Thành phố Hà Nội", "thanh_pho"),
        ProvinceRow("46", "Thành phố Huế", "thanh_pho"),
        ProvinceRow("79", "Thành phố Hồ Chí Minh", "thanh_pho"),
        ProvinceRow("91", "Tỉnh An Giang", "tinh"),
        ProvinceRow("96", "Tỉnh Cà Mau", "tinh"),
    ],
)
def test_known_provinces(province: ProvinceRow) -> None:
    assert PROVINCE_BY_CODE[province.code] == province


@pytest.mark.parametrize(
    "commune",
    [
        CommuneRow("00004", "Phường Ba Đình", "phuong", "01"),
        CommuneRow("00070", "Phường Hoàn Kiếm", "phuong", "01"),
        CommuneRow("00082", "Phường Cửa Nam", "phuong", "01"),
        CommuneRow("00226", "Phường Văn Miếu - Quốc Tử Giám", "phuong", "01"),
        CommuneRow("26740", "Phường Sài Gòn", "phuong", "79"),
        CommuneRow("26732", "Đặc khu Côn Đảo", "dac_khu", "79"),
        CommuneRow("31078", "Đặc khu Phú Quốc", "dac_khu", "91"),
        CommuneRow("20333", "Đặc khu Hoàng Sa", "dac_khu", "48"),
        CommuneRow("22736", "Đặc khu Trường Sa", "dac_khu", "56"),
        CommuneRow("31207", "Phường Thốt Nốt", "phuong", "92"),
        CommuneRow("23938", "Xã Ia Mơ", "xa", "52"),
        # The source's wardType is wrong for these four; the kind comes from the official name.
        CommuneRow("10543", "Phường Việt Hòa", "phuong", "31"),
        CommuneRow("11848", "Xã Vĩnh Hòa", "xa", "31"),
        CommuneRow("31213", "Phường Tân Lộc", "phuong", "92"),
        CommuneRow("31299", "Xã Phong Điền", "xa", "92"),
    ],
)
def test_known_communes(commune: CommuneRow) -> None:
    assert COMMUNE_BY_CODE[commune.code] == commune


def test_iterators_start_afresh() -> None:
    assert next(iter_provinces()) == PROVINCES[0]
    assert next(iter_communes()) == COMMUNES[0]


# --- generate: the transformation, on a small dataset.db shaped like the source package's ---


def _fake_dataset(path: Path, rows: list[tuple[str, str, str, str, str]]) -> Path:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(
            "CREATE TABLE admin_units (provinceCode TEXT, province TEXT, wardCode TEXT, ward TEXT, wardType TEXT)"
        )
        conn.executemany("INSERT INTO admin_units VALUES (?, ?, ?, ?, ?)", rows)
        conn.commit()
    return path


def test_generate_transforms_and_renders(tmp_path: Path) -> None:
    decomposed = unicodedata.normalize("NFD", "Xã  Bắc Đông Quan ")
    db = _fake_dataset(
        tmp_path / "dataset.db",
        [
            ("33", "Tỉnh Hưng Yên", "12745", decomposed, "Xã"),
            ("01", "Thành phố Hà Nội", "00070", "Phường Hoàn Kiếm", "Phường"),
            ("01", "Thành phố Hà Nội", "00004", "Phường Ba Đình", "Phường"),
            ("91", "Tỉnh An Giang", "31078", "Đặc khu Phú Quốc", "Đặc khu"),
            ("31", "Thành phố Hải Phòng", "10543", "Phường Việt Hòa", "Xã"),
        ],
    )
    dataset = generate.read_dataset(db)
    assert dataset.type_disagreements == [("10543", "Phường Việt Hòa", "Xã")]
    assert dataset.counts() == {
        "provinces": 4,
        "thanh_pho": 2,
        "tinh": 2,
        "communes": 5,
        "xa": 1,
        "phuong": 3,
        "dac_khu": 1,
    }
    files = generate.render(dataset)
    assert files["provinces.csv"] == (
        "code,name,kind\n01,Thành phố Hà Nội,thanh_pho\n31,Thành phố Hải Phòng,thanh_pho\n"
        "33,Tỉnh Hưng Yên,tinh\n91,Tỉnh An Giang,tinh\n"
    )
    assert files["communes.csv"].splitlines() == [
        "code,name,kind,province_code",
        "00004,Phường Ba Đình,phuong,01",
        "00070,Phường Hoàn Kiếm,phuong,01",
        "10543,Phường Việt Hòa,phuong,31",
        "12745,Xã Bắc Đông Quan,xa,33",
        "31078,Đặc khu Phú Quốc,dac_khu,91",
    ]

    assert generate.write_or_check(files, tmp_path / "out", check=True) == ["provinces.csv", "communes.csv"]
    assert generate.write_or_check(files, tmp_path / "out", check=False) == []
    assert generate.write_or_check(files, tmp_path / "out", check=True) == []


@pytest.mark.parametrize(
    "rows, message",
    [
        ([("1", "Thành phố Hà Nội", "00004", "Phường Ba Đình", "Phường")], "province code"),
        ([("01", "Thành phố Hà Nội", "4", "Phường Ba Đình", "Phường")], "commune code"),
        ([("01", "Thủ đô Hà Nội", "00004", "Phường Ba Đình", "Phường")], "kind of"),
        ([("01", "Thành phố Hà Nội", "00004", "Quận Ba Đình", "Quận")], "kind of"),
        (
            [
                ("01", "Thành phố Hà Nội", "00004", "Phường Ba Đình", "Phường"),
                ("01", "Thành phố Hà Nội", "00004", "Phường Ngọc Hà", "Phường"),
            ],
            "twice",
        ),
        (
            [
                ("01", "Thành phố Hà Nội", "00004", "Phường Ba Đình", "Phường"),
                ("01", "Tỉnh Hà Nội", "00008", "Phường Ngọc Hà", "Phường"),
            ],
            "two names",
        ),
    ],
)
def test_generate_rejects_malformed_source(
    tmp_path: Path, rows: list[tuple[str, str, str, str, str]], message: str
) -> None:
    db = _fake_dataset(tmp_path / "dataset.db", rows)
    with pytest.raises(generate.SourceError, match=message):
        generate.read_dataset(db)


def test_generate_cli_without_the_package(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(generate, "SOURCE_PACKAGE", "asm_no_such_source_package")
    assert generate.main(["--from-package", "--check"]) == 2
    assert "not installed" in capsys.readouterr().err

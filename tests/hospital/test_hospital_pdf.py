"""The carer card and the ward census as PDFs, built from plain data and read back (pypdf and pdftotext)."""

from __future__ import annotations

import io
import shutil
import subprocess
import unicodedata
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from asm.hospital.pdf import (
    CarerCardData,
    CensusCarerLine,
    CensusData,
    CensusLine,
    build_carer_card_pdf,
    build_census_pdf,
)
from asm.i18n import translations

PDFTOTEXT = shutil.which("pdftotext")

VI, EN = translations("vi"), translations("en")


def text_of(pdf: bytes) -> str:
    return unicodedata.normalize("NFC", "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def card(**kw: object) -> CarerCardData:
    values: dict[str, object] = {
        "hospital_name": "Bệnh viện Đa khoa Hoàn Kiếm",
        "carer_name": "Nguyễn Thị Hoa",
        "document_masked": "********1829",
        "relation": "Con gái",
        "patient_name": "Trần Văn Nam",
        "ward": "K1 Khoa Nội",
        "bed": "K1-G03",
        "valid_from": datetime(2026, 11, 20, 13, 30, tzinfo=UTC),
        "lookup_url": "https://asm.example/benh-vien/HN-BV/the-cham-soc/abc",
        "card_no": "NCS-000042",
    }
    values.update(kw)
    return CarerCardData(**values)  # type: ignore[arg-type]


def census(lines: list[CensusLine]) -> CensusData:
    return CensusData(
        hospital_name="Bệnh viện Đa khoa Hoàn Kiếm",
        hospital_address="26 Phan Chu Trinh",
        ward_code="K1",
        ward_name="Khoa Nội",
        day=date(2026, 11, 20),
        beds=8,
        lines=lines,
        printed_at=datetime(2026, 11, 20, 16, 0, tzinfo=UTC),
    )


LINE = CensusLine(
    bed="K1-G01",
    room="K1-G01",
    full_name="Trần Văn Nam",
    birth_date=date(1985, 6, 15),
    document="********2345",
    admitted_at=datetime(2026, 11, 18, 2, 0, tzinfo=UTC),
    in_bed_from=datetime(2026, 11, 18, 2, 0, tzinfo=UTC),
    in_bed_until=datetime(2026, 11, 20, 8, 15, tzinfo=UTC),
    carers=[CensusCarerLine("Nguyễn Thị Hoa", "Vợ", "********1829")],
)


def test_the_carer_card_reads_back_in_local_time() -> None:
    text = text_of(build_carer_card_pdf(card(), translations=VI))
    for expected in (
        "BỆNH VIỆN ĐA KHOA HOÀN KIẾM",
        "THẺ NGƯỜI CHĂM SÓC NGƯỜI BỆNH",
        "Nguyễn Thị Hoa",
        "********1829",
        "Con gái",
        "Trần Văn Nam",
        "K1 Khoa Nội · K1-G03",
        "20/11/2026 20:30",  # 13:30 UTC
        "NCS-000042",
    ):
        assert expected in text, expected
    assert "13:30" not in text


def test_the_carer_card_in_english() -> None:
    text = text_of(build_carer_card_pdf(card(), translations=EN))
    assert "PATIENT CARER CARD" in text and "Caring for" in text


def test_the_census_lists_beds_patients_and_carers() -> None:
    text = text_of(build_census_pdf(census([LINE]), translations=VI))
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "DANH SÁCH NGƯỜI BỆNH VÀ NGƯỜI CHĂM SÓC" in text
    assert "1/8 giường" in text and "20/11/2026" in text
    assert "K1-G01" in text and "Trần Văn Nam" in text and "15/06/1985" in text
    assert "18/11/2026 09:00" in text and "20/11/2026 15:15" in text  # in bed from/until, local time
    assert "Nguyễn Thị Hoa (Vợ)" in text


def test_the_census_of_an_empty_day_and_in_english(tmp_path: Path) -> None:
    pdf = build_census_pdf(census([]), translations=EN)
    assert "No patient during the day." in text_of(pdf)
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (Debian package poppler-utils) is not installed")
    (tmp_path / "c.pdf").write_bytes(build_census_pdf(census([LINE]), translations=VI))
    out = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(tmp_path / "c.pdf"), "-"], capture_output=True, check=True)
    assert "Trần Văn Nam" in unicodedata.normalize("NFC", out.stdout.decode())


def test_a_long_census_flows_onto_more_pages() -> None:
    pdf = build_census_pdf(census([LINE] * 80), translations=VI)
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) > 1
    assert "Trần Văn Nam" in unicodedata.normalize("NFC", pages[-1].extract_text())

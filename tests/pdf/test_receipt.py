"""The stay-notification receipt PDF, read back with pypdf and with poppler's pdftotext."""

from __future__ import annotations

import enum
import io
import re
import shutil
import subprocess
import unicodedata
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pypdf import PdfReader

from asm.i18n import translations
from asm.pdf import fonts
from asm.pdf.common import format_date, format_datetime
from asm.stays.pdf import KINDS, ReceiptData, ReceiptGuest, build_receipt_pdf, mask_document_number

NAMES = ["Nguyễn Thị Hoa", "Đặng Văn Ấn", "Lê Thị Ngọc Ánh"]
FULL_NUMBER = "034303011829"
VERIFY_URL = "https://asm.example.vn/r/LT-2025-000123?sig=9f2c1a"

PDFTOTEXT = shutil.which("pdftotext")
PDFTOPPM = shutil.which("pdftoppm")

VI, EN = translations("vi"), translations("en")


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def guest(name: str, last4: str = "1829", *, born: date | None = date(2003, 3, 21)) -> ReceiptGuest:
    return ReceiptGuest(
        full_name=name,
        document_label="CCCD",
        document_number_masked="********" + last4,
        birth_date=born,
        nationality="Việt Nam",
    )


def group(size: int) -> list[ReceiptGuest]:
    """The three reference names first, then distinct names with a running number."""
    people = [guest(NAMES[0]), guest(NAMES[1], "0042", born=None), guest(NAMES[2], "7731")]
    for i in range(len(people), size):
        people.append(guest(f"Trần Thị Phương Thảo {i + 1:02d}", f"{i:04d}", born=date(1980 + i % 40, 1, 2)))
    return people[:size]


def receipt(**changes: object) -> ReceiptData:
    data = ReceiptData(
        receipt_no="LT-2025-000123",
        kind="check_in",
        filed_at=datetime(2025, 11, 3, 15, 45, tzinfo=UTC),  # 22:45 in Hà Nội
        deadline_at=datetime(2025, 11, 3, 16, 0, tzinfo=UTC),  # 23:00 in Hà Nội
        on_time=True,
        establishment_name="Khách sạn Hoa Sen & Spa",
        establishment_code="HN-BD-0042",
        establishment_address="12 Phố Đội Cấn, Phường Ba Đình, Thành phố Hà Nội",
        commune_name="Phường Ba Đình, Thành phố Hà Nội",
        guests=group(1),
        room="305",
        arrived_at=datetime(2025, 11, 3, 15, 30, tzinfo=UTC),  # 22:30 in Hà Nội
        expected_departure=date(2025, 11, 6),
        departed_at=None,
        reason="Du lịch",
        filed_by="Kiosk: Quầy lễ tân 1",
        verify_url=VERIFY_URL,
    )
    return replace(data, **changes)  # type: ignore[arg-type]


def pypdf_pages(pdf: bytes) -> list[str]:
    return [nfc(page.extract_text()) for page in PdfReader(io.BytesIO(pdf)).pages]


def pdftotext(pdf: bytes, tmp_path: Path) -> str:
    if PDFTOTEXT is None:
        pytest.skip("pdftotext (Debian package poppler-utils) is not installed")
    source = tmp_path / "receipt.pdf"
    source.write_bytes(pdf)
    result = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(source), "-"], capture_output=True, check=True, timeout=60)
    return nfc(result.stdout.decode("utf-8"))


@pytest.fixture(params=["pypdf", "pdftotext"])
def read_text(request: pytest.FixtureRequest, tmp_path: Path) -> Callable[[bytes], str]:
    """Text of the whole document, by one extractor or the other (both must agree on what is there)."""
    if request.param == "pypdf":
        return lambda pdf: "\n".join(pypdf_pages(pdf))
    return lambda pdf: pdftotext(pdf, tmp_path)


# --- content ------------------------------------------------------------------------------------


def test_vietnamese_receipt_reads_back(read_text) -> None:
    pdf = build_receipt_pdf(receipt(), translations=VI)
    text = read_text(pdf)

    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text
    assert "Độc lập - Tự do - Hạnh phúc" in text
    assert "GIẤY BIÊN NHẬN THÔNG BÁO LƯU TRÚ" in text
    assert "Khai báo đến" in text
    assert "LT-2025-000123" in text
    assert "Công an Phường Ba Đình, Thành phố Hà Nội" in text
    assert "Khách sạn Hoa Sen & Spa" in text
    assert "HN-BD-0042" in text
    assert "Nguyễn Thị Hoa" in text
    assert "21/03/2003" in text  # birth date
    assert "03/11/2025 22:30" in text  # arrival 15:30 UTC
    assert "03/11/2025 22:45" in text  # filed 15:45 UTC
    assert "03/11/2025 23:00" in text  # deadline 16:00 UTC
    assert "06/11/2025" in text  # expected departure
    assert "Đúng hạn" in text
    assert "Trễ hạn" not in text
    assert "Kiosk: Quầy lễ tân 1" in text
    assert "dữ liệu cá nhân" in text  # the footer note
    assert "15:30" not in text  # never UTC


def test_late_receipt_says_so(read_text) -> None:
    late = receipt(filed_at=datetime(2025, 11, 3, 16, 20, tzinfo=UTC), on_time=False)
    text = read_text(build_receipt_pdf(late, translations=VI))
    assert "Trễ hạn" in text
    assert "Đúng hạn" not in text
    assert "03/11/2025 23:20" in text


def test_english_receipt(read_text) -> None:
    text = read_text(build_receipt_pdf(receipt(guests=group(3)), translations=EN))
    assert "STAY NOTIFICATION RECEIPT" in text
    assert "SOCIALIST REPUBLIC OF VIET NAM" in text
    assert "Arrival" in text
    assert "On time" in text
    assert "03/11/2025 22:30" in text
    for name in NAMES:
        assert name in text
    assert "Công an Phường Ba Đình, Thành phố Hà Nội" in text  # the unit's own name is not translated
    for vietnamese_label in ("Họ và tên", "Đúng hạn", "Hạn thông báo", "GIẤY BIÊN NHẬN"):
        assert vietnamese_label not in text


def test_english_late(read_text) -> None:
    text = read_text(build_receipt_pdf(receipt(on_time=False), translations=EN))
    assert "Late" in text
    assert "On time" not in text


def test_local_time_crosses_midnight(read_text) -> None:
    """17:30 UTC on the 3rd is 00:30 on the 4th in Hà Nội; the date follows the local time."""
    data = receipt(
        arrived_at=datetime(2025, 11, 3, 17, 30, tzinfo=UTC),
        filed_at=datetime(2025, 11, 3, 23, 10, tzinfo=UTC),
        deadline_at=datetime(2025, 11, 4, 1, 0, tzinfo=UTC),
    )
    text = read_text(build_receipt_pdf(data, translations=VI))
    assert "04/11/2025 00:30" in text
    assert "04/11/2025 06:10" in text
    assert "04/11/2025 08:00" in text


def test_other_timezones_are_converted_too() -> None:
    tokyo = timezone(timedelta(hours=9))
    data = receipt(arrived_at=datetime(2025, 11, 4, 0, 30, tzinfo=tokyo))  # = 15:30 UTC = 22:30 local
    assert "03/11/2025 22:30" in "\n".join(pypdf_pages(build_receipt_pdf(data, translations=VI)))


@pytest.mark.parametrize(
    ("kind", "vi", "en"),
    [
        ("check_in", "Khai báo đến", "Arrival"),
        ("file", "Khai báo đến", "Arrival"),
        ("extend", "Gia hạn", "Extension"),
        ("move", "Chuyển phòng", "Room change"),
        ("check_out", "Trả phòng", "Check-out"),
        ("cancel", "Hủy thông báo", "Cancellation"),
    ],
)
def test_every_kind_is_named(kind: str, vi: str, en: str) -> None:
    data = receipt(kind=kind, deadline_at=None, on_time=None)
    assert vi in "\n".join(pypdf_pages(build_receipt_pdf(data, translations=VI)))
    assert en in "\n".join(pypdf_pages(build_receipt_pdf(data, translations=EN)))
    assert set(KINDS) == {"check_in", "file", "extend", "move", "check_out", "cancel"}


def test_kind_may_be_a_str_enum() -> None:
    class Kind(enum.StrEnum):
        MOVE = "move"

    text = "\n".join(pypdf_pages(build_receipt_pdf(receipt(kind=Kind.MOVE), translations=VI)))
    assert "Chuyển phòng" in text


def test_no_deadline_and_departure() -> None:
    data = receipt(
        kind="check_out",
        deadline_at=None,
        on_time=None,
        departed_at=datetime(2025, 11, 6, 4, 5, tzinfo=UTC),
        room=None,
        expected_departure=None,
    )
    text = "\n".join(pypdf_pages(build_receipt_pdf(data, translations=VI)))
    assert "Không áp dụng" in text
    assert "06/11/2025 11:05" in text
    assert "Đúng hạn" not in text
    assert "Trễ hạn" not in text


# --- names and personal data ---------------------------------------------------------------------


def test_decomposed_input_comes_out_composed(read_text) -> None:
    decomposed = [unicodedata.normalize("NFD", name) for name in NAMES]
    assert decomposed != NAMES
    data = receipt(guests=[guest(name) for name in decomposed])
    text = read_text(build_receipt_pdf(data, translations=VI))
    for name in NAMES:
        assert name in text


def test_full_document_number_never_printed(read_text) -> None:
    """Callers pass masked numbers; an unmasked one slipping through is masked by the builder."""
    unmasked = replace(guest(NAMES[0]), document_number_masked=FULL_NUMBER)
    data = receipt(guests=[unmasked, guest(NAMES[1], "5678")])
    text = read_text(build_receipt_pdf(data, translations=VI))
    assert FULL_NUMBER not in text
    assert FULL_NUMBER[:8] not in text
    assert "********1829" in text
    assert "********5678" in text


def test_mask_document_number() -> None:
    assert mask_document_number("********1829") == "********1829"
    assert mask_document_number(FULL_NUMBER) == "********1829"
    assert mask_document_number("C1234567") == "****4567"
    assert mask_document_number("12345") == "*****"
    assert mask_document_number("") == ""


def test_markup_characters_are_text() -> None:
    data = receipt(establishment_name="Nhà nghỉ <Bình An> & Co", reason="Công tác & học tập")
    text = "\n".join(pypdf_pages(build_receipt_pdf(data, translations=VI)))
    assert "Nhà nghỉ <Bình An> & Co" in text
    assert "Công tác & học tập" in text


# --- layout --------------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["vi", "en"])
@pytest.mark.parametrize("size", [1, 30])
def test_one_page(locale: str, size: int, read_text) -> None:
    pdf = build_receipt_pdf(receipt(guests=group(size)), translations=translations(locale))
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = read_text(pdf)
    for person in group(size):
        assert nfc(person.full_name) in text
    assert ("Trang 1/1" if locale == "vi" else "Page 1/1") in text


def test_large_group_flows_onto_more_pages() -> None:
    people = group(90)
    pages = pypdf_pages(build_receipt_pdf(receipt(guests=people), translations=VI))
    assert len(pages) >= 2
    text = "\n".join(pages)
    for person in people:
        assert person.full_name in text
    assert f"Trang 2/{len(pages)}" in pages[1]
    assert "Họ và tên" in pages[1]  # the table header repeats
    assert "(90 người)" in text
    # every guest is listed exactly once
    numbers = re.findall(r"Phương Thảo (\d\d)", text)
    assert sorted(numbers) == [f"{i:02d}" for i in range(4, 91)]


def test_text_is_text_not_images() -> None:
    reader = PdfReader(io.BytesIO(build_receipt_pdf(receipt(guests=group(3)), translations=VI)))
    assert all(len(page.images) == 0 for page in reader.pages)
    font_dict = reader.pages[0]["/Resources"]["/Font"].get_object()
    base_fonts = {str(ref.get_object()["/BaseFont"]) for ref in font_dict.values()}
    # reportlab embeds subsets named like "/AAAAAA+DejaVuSans-Bold"
    assert any(name.endswith("+DejaVuSans") for name in base_fonts), base_fonts
    assert any(name.endswith("+DejaVuSans-Bold") for name in base_fonts), base_fonts


def test_output_is_reproducible() -> None:
    assert build_receipt_pdf(receipt(), translations=VI) == build_receipt_pdf(receipt(), translations=VI)


def test_qr_code_holds_the_verify_url(tmp_path: Path) -> None:
    if PDFTOPPM is None:
        pytest.skip("pdftoppm (Debian package poppler-utils) is not installed")
    import zxingcpp
    from PIL import Image

    source = tmp_path / "receipt.pdf"
    source.write_bytes(build_receipt_pdf(receipt(), translations=VI))
    subprocess.run([PDFTOPPM, "-png", "-r", "150", str(source), str(tmp_path / "page")], check=True, timeout=60)
    with Image.open(tmp_path / "page-1.png") as image:
        found = [result.text for result in zxingcpp.read_barcodes(image)]
    assert found == [VERIFY_URL]


def test_without_verify_url_there_is_no_qr_caption() -> None:
    text = "\n".join(pypdf_pages(build_receipt_pdf(receipt(verify_url=None), translations=VI)))
    assert "Quét mã QR" not in text
    assert "LT-2025-000123" in text


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="kind"):
        build_receipt_pdf(receipt(kind="arrival"), translations=VI)
    with pytest.raises(ValueError, match="kind"):
        build_receipt_pdf(receipt(kind="draft"), translations=VI)  # a draft was never sent: no receipt
    with pytest.raises(ValueError, match="locale"):
        translations("fr")
    with pytest.raises(ValueError, match="timezone-aware"):
        build_receipt_pdf(receipt(arrived_at=datetime(2025, 11, 3, 15, 30)), translations=VI)
    vi_vn = build_receipt_pdf(receipt(), translations=translations("vi_VN"))
    assert vi_vn == build_receipt_pdf(receipt(), translations=VI)


# --- shared helpers --------------------------------------------------------------------------------


def test_local_formatting() -> None:
    assert format_datetime(datetime(2025, 1, 31, 17, 5, tzinfo=UTC)) == "01/02/2025 00:05"
    assert format_date(date(2025, 7, 1)) == "01/07/2025"
    assert format_date(datetime(2025, 6, 30, 18, 0, tzinfo=UTC)) == "01/07/2025"


def test_missing_font_names_the_debian_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(fonts.FONT_DIR_ENV, str(tmp_path))
    with pytest.raises(fonts.FontNotFoundError, match="fonts-dejavu-core"):
        fonts.find_font_dir()


def test_font_dir_override(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(fonts.FONT_DIR_ENV, raising=False)
    installed = fonts.find_font_dir()
    for name in (
        "DejaVuSans.ttf",
        "DejaVuSans-Bold.ttf",
        "DejaVuSans-Oblique.ttf",
        "DejaVuSans-BoldOblique.ttf",
    ):
        (tmp_path / name).symlink_to(installed / name)
    monkeypatch.setenv(fonts.FONT_DIR_ENV, str(tmp_path))
    assert fonts.find_font_dir() == tmp_path


def test_register_fonts_is_idempotent() -> None:
    from reportlab.pdfbase import pdfmetrics

    first = fonts.register_fonts()
    font = pdfmetrics.getFont(fonts.REGULAR)
    assert fonts.register_fonts() == first
    assert pdfmetrics.getFont(fonts.REGULAR) is font  # not loaded again

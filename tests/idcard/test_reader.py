"""The one document reader (asm/idcard/reader.py): scanned text and photos route to the QR or the MRZ parser, and
what was read becomes a person (PersonInput.from_document)."""

from __future__ import annotations

import io
import random
from datetime import date

import pytest
from PIL import Image

from asm.idcard import reader
from asm.idcard.decode import DecodeError, get_decoder
from asm.idcard.mrz import MrzData, MrzError
from asm.idcard.parse import CardData
from asm.people.services import PersonInput
from tests.support.foreign import MRZ, PASSPORT
from tests.support.mrzdata import SPECIMENS, random_document, with_field
from tests.support.mrzimages import mrz_photo_bytes
from tests.support.qrimages import EXAMPLE_CARD_TEXT, photo_like, to_bytes

TODAY = date(2026, 12, 4)
LINES = PASSPORT.lines()


@pytest.mark.parametrize(
    "text",
    [
        "\r\n".join(LINES),
        "\n".join(LINES) + "\n",
        "\r".join(LINES) + "\r",
        "".join(LINES),  # run together
        "\ufeff" + "\r\n".join(LINES).lower() + "\r\n",  # a reader with Caps Lock on, and a BOM
    ],
    ids=["crlf", "lf", "cr", "run-together", "lower-case-bom"],
)
def test_a_passport_readers_text_is_an_mrz(text: str) -> None:
    doc = reader.read_text(text, today=TODAY)
    assert isinstance(doc, MrzData)
    assert doc.lines == LINES and doc.document_number == "15AB12345" and doc.nationality == "FRA"


def test_a_qr_text_is_still_a_card() -> None:
    assert isinstance(reader.read_text(EXAMPLE_CARD_TEXT), CardData)


def test_an_mrz_with_a_wrong_check_digit_is_refused_with_its_code() -> None:
    broken = LINES[1][:9] + str((int(LINES[1][9]) + 1) % 10) + LINES[1][10:]
    with pytest.raises(MrzError) as info:
        reader.read_text(LINES[0] + "\n" + broken, today=TODAY)
    assert info.value.code == "mrz_check_document_number"


def test_an_mrz_line_missing_is_an_mrz_error_not_a_qr_one() -> None:
    with pytest.raises(MrzError) as info:
        reader.read_text(LINES[0] + "\r\n", today=TODAY)
    assert info.value.code == "mrz_format"


def _read_image(data: bytes) -> tuple[object, str]:
    return reader.read_image(
        data, decoder=get_decoder("zxing"), max_bytes=8_000_000, max_pixels=12_000_000, today=TODAY
    )


def test_a_photo_with_a_qr_reads_the_qr() -> None:
    doc, text = _read_image(to_bytes(photo_like(EXAMPLE_CARD_TEXT, seed=1), "JPEG", quality=90))
    assert isinstance(doc, CardData) and text == EXAMPLE_CARD_TEXT


def test_a_photo_of_a_passport_reads_the_mrz() -> None:
    doc = random_document(random.Random(5), "TD3", today=TODAY)
    found, text = _read_image(mrz_photo_bytes(doc, seed=5))
    assert isinstance(found, MrzData) and found.lines == doc.lines() and text == "\n".join(doc.lines())


def test_a_photo_of_neither_says_so_naming_both() -> None:
    blank = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 200, 200)).save(blank, "PNG")
    with pytest.raises(DecodeError) as info:
        _read_image(blank.getvalue())
    assert info.value.code == "no_code_found" and info.value.http_status == 422
    assert "MRZ" in info.value.message_vi and "passport" in info.value.message_en


# --- what was read becomes a person -----------------------------------------------------------------------


def test_a_foreign_passport_is_a_passport_with_its_expiry() -> None:
    person = PersonInput.from_document(reader.read_text(MRZ, today=TODAY))
    assert (person.doc_type, person.doc_number, person.nationality) == ("passport", "15AB12345", "FRA")
    assert person.full_name == "DUBOIS JEAN PIERRE" and person.birth_date == date(1985, 6, 12) and person.sex == "M"
    assert person.foreign is not None and person.foreign.passport_expiry == date(2031, 1, 1)


def test_a_vietnamese_passport_is_a_citizens_passport() -> None:
    doc = with_field(PASSPORT, issuing="VNM", nationality="VNM", number="C1234567")
    person = PersonInput.from_document(reader.read_text("\n".join(doc.lines()), today=TODAY))
    assert (person.doc_type, person.nationality, person.foreign) == ("passport", "VNM", None)


def test_a_vietnamese_id_cards_zone_gives_the_personal_number() -> None:
    # Hà Nội (001), female born 2003 (century/sex digit 3), six random digits.
    doc = random_document(random.Random(3), "TD1", today=TODAY)
    doc = with_field(
        doc, code="ID", issuing="VNM", nationality="VNM", number="A12345678", optional="001303011829",
        birth="030321", sex="F",
    )  # fmt: skip
    person = PersonInput.from_document(reader.read_text("\n".join(doc.lines()), today=TODAY))
    assert (person.doc_type, person.doc_number, person.nationality) == ("cccd", "001303011829", "VNM")


def test_a_visa_is_not_an_identity() -> None:
    with pytest.raises(MrzError) as info:
        PersonInput.from_document(reader.read_text("\n".join(SPECIMENS["MRVA"]), today=TODAY))
    assert info.value.code == "mrz_not_identity"


def test_another_states_id_card_is_refused_for_the_passport() -> None:
    with pytest.raises(MrzError) as info:
        PersonInput.from_document(reader.read_text("\n".join(SPECIMENS["TD1"]), today=TODAY))
    assert info.value.code == "mrz_not_travel_document" and "UTO" in info.value.message_en

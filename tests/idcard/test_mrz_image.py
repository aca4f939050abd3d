"""Reading the MRZ from photos and camera frames (asm/idcard/mrz_image.py), with generated OCR-B pages."""

from __future__ import annotations

import random
from datetime import date

import pytest

from asm.idcard.decode import DecodeError
from asm.idcard.mrz_image import read_mrz, read_mrz_image
from tests.support.mrzdata import random_document
from tests.support.mrzimages import data_page, mrz_photo, mrz_photo_bytes
from tests.support.qrimages import EXAMPLE_CARD_TEXT, photo_like, to_bytes

TODAY = date(2026, 12, 4)


@pytest.mark.parametrize("fmt", ["TD3", "TD1"])
def test_a_flat_data_page_reads_exactly(fmt: str) -> None:
    doc = random_document(random.Random(7), fmt, today=TODAY)
    data = read_mrz_image(to_bytes(data_page(doc), "PNG"), today=TODAY)
    assert data.lines == doc.lines()
    assert data.mrz_format == fmt


def test_photo_like_frames_read_exactly_or_not_at_all() -> None:
    """1280×720 frames (rotation, perspective, blur, glare, noise, JPEG): never a wrong read."""
    exact = 0
    for seed in range(12):
        doc = random_document(random.Random(seed), "TD3", today=TODAY)
        try:
            data = read_mrz_image(mrz_photo_bytes(doc, seed=seed), today=TODAY)
        except DecodeError as exc:
            assert exc.code == "no_mrz_found" and exc.http_status == 422
            continue
        assert data.lines == doc.lines(), seed
        exact += 1
    assert exact >= 8


def test_an_expired_passport_in_a_photo_is_read_with_its_warning() -> None:
    doc = random_document(random.Random(3), "TD3", today=TODAY)
    doc = type(doc)(**{**doc.__dict__, "expiry": "240101"})
    data = read_mrz(mrz_photo(doc, seed=3, angle=4, blur=0.3, glare=0.2), today=TODAY)
    assert data.expired and data.expiry == date(2024, 1, 1)


def test_a_frame_without_an_mrz_says_so() -> None:
    with pytest.raises(DecodeError) as info:
        read_mrz(photo_like(EXAMPLE_CARD_TEXT, seed=1), today=TODAY)
    assert info.value.code == "no_mrz_found"
    assert "MRZ" in info.value.message_vi and "machine-readable zone" in info.value.message_en


def test_a_bad_upload_is_refused_before_any_reading() -> None:
    with pytest.raises(DecodeError) as info:
        read_mrz_image(b"%PDF-1.7 not an image", today=TODAY)
    assert info.value.code == "image_type_unsupported"

"""One reading of a document: scanned text or an image becomes a checked identity. Pure: no Flask.

Every channel reads documents through here (the desk's scan field and photo, the kiosk's scanner and camera, the
API's `qr` guests and its parse/decode endpoints, the hospital's pages), so a reading rule is written once.

A document is either the QR of the chip ID card or the VNeID app (`CardData`, asm/idcard/parse.py) or the
machine-readable zone of a passport, ID card or visa (`MrzData`, asm/idcard/mrz.py):

- `read_text`: what a scanner sent. A QR text holds `|` separators; an MRZ is two or three lines of A–Z, 0–9 and
  `<` (a passport reader sends them ended by CR, LF or both, or run together, sometimes in lower case): it goes
  to the MRZ parser, which then names the exact fault (a line too short, a check digit) in its own error codes.
- `read_image`: the QR codes of a photo or camera frame first (fast); when none reads, the MRZ (OCR-B template
  reader, asm/idcard/mrz_image.py). Nothing found: `DecodeError("no_code_found")`, whose message names both.
"""

from __future__ import annotations

import re
from datetime import date

from asm.idcard.decode import DecodeError, Decoder, decode_image_texts, load_image
from asm.idcard.errors import CardError
from asm.idcard.mrz import MrzData, parse_mrz
from asm.idcard.parse import CardData, parse_qr_text

Document = CardData | MrzData

# What a passport reader may send besides the zone: line breaks, spaces, a BOM, NUL, STX/ETX.
_MRZ_TEXT = re.compile(r"[A-Za-z0-9<\s\ufeff\x00\x02\x03]+")


def is_mrz_text(text: str) -> bool:
    """True when a scanned text is meant as an MRZ (only MRZ characters and `<<`), not a CCCD QR text."""
    return "<<" in text and "|" not in text and _MRZ_TEXT.fullmatch(text) is not None


def read_text(text: str, *, today: date | None = None) -> Document:
    """The document in a scanned or pasted text. Raises CardError (MrzError for an MRZ) with a stable code."""
    if is_mrz_text(text):
        return parse_mrz(text, today=today)
    return parse_qr_text(text)


def read_image(
    data: bytes,
    *,
    decoder: Decoder,
    max_bytes: int,
    max_pixels: int,
    fallback: bool = True,
    today: date | None = None,
) -> tuple[Document, str]:
    """The first document in the image, and its text (an MRZ's lines joined by LF).

    QR codes first; when no code reads as a document, the machine-readable zone. Raises DecodeError (not an
    image, too large, nothing found) or, when QR codes were found but none is a card and there is no MRZ, the
    CardError of the first code."""
    image = load_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    try:
        texts = decode_image_texts(image, decoder=decoder, fallback=fallback)
    except DecodeError as exc:
        if exc.code != "no_code_found":
            raise
        texts = []
    first_error: CardError | None = None
    for text in texts:
        try:
            return read_text(text, today=today), text
        except CardError as exc:
            first_error = first_error or exc
    from asm.idcard.mrz_image import read_mrz  # OpenCV and the templates load only when a photo needs them

    try:
        mrz = read_mrz(image, today=today)
    except DecodeError as exc:
        if exc.code != "no_mrz_found":
            raise
    else:
        return mrz, "\n".join(mrz.lines)
    if first_error is not None:
        raise first_error
    raise DecodeError("no_code_found")

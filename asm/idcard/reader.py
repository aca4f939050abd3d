"""One reading of a document: scanned text or an image becomes a checked identity. Pure: no Flask.

Every channel reads documents through here (the desk's scan field and photo, the kiosk's scanner and camera, the
API's `qr` guests and its parse/decode endpoints, the hospital's pages), so a reading rule is written once. Today
a document is the QR of the chip ID card or the VNeID app (`CardData`, asm/idcard/parse.py); the passport's
machine-readable zone joins here as another kind of `Document`.
"""

from __future__ import annotations

from asm.idcard.decode import Decoder, decode_qr_texts
from asm.idcard.errors import CardError
from asm.idcard.parse import CardData, parse_qr_text

Document = CardData


def read_text(text: str) -> Document:
    """The document in a scanned or pasted text. Raises CardError with a stable code."""
    return parse_qr_text(text)


def read_image(
    data: bytes, *, decoder: Decoder, max_bytes: int, max_pixels: int, fallback: bool = True
) -> tuple[Document, str]:
    """The first code in the image that reads as a document, and its text. Raises DecodeError (no code, not an
    image, too large) or the CardError of the first code found when none reads."""
    texts = decode_qr_texts(data, decoder=decoder, max_bytes=max_bytes, max_pixels=max_pixels, fallback=fallback)
    first_error: CardError | None = None
    for text in texts:
        try:
            return read_text(text), text
        except CardError as exc:
            first_error = first_error or exc
    assert first_error is not None  # decode_qr_texts raises rather than return no text
    raise first_error

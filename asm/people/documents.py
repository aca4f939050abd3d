"""Reading a document in a request: asm/idcard/reader.py with this app's settings (decoder, image limits).

Desk, kiosk, API and hospital pages all read documents here; `PersonInput.from_document` turns what was read
(the QR of a chip ID card, or a passport's machine-readable zone) into the person the filing core checks and
files.
"""

from __future__ import annotations

from flask import current_app

from asm.idcard import reader
from asm.idcard.decode import get_decoder
from asm.idcard.reader import Document

__all__ = ["Document", "read_image", "read_text"]


def read_text(text: str) -> Document:
    return reader.read_text(text)


def read_image(data: bytes, *, fallback: bool = True) -> tuple[Document, str]:
    """The document in an image, and the text it was read from. `fallback=False` for a camera stream: one quick
    pass, the next frame is the retry."""
    config = current_app.config
    return reader.read_image(
        data,
        decoder=get_decoder(config["QR_DECODER"]),
        max_bytes=config["MAX_IMAGE_BYTES"],
        max_pixels=config["MAX_IMAGE_PIXELS"],
        fallback=fallback,
    )

"""Read the QR code of a Vietnamese chip ID card (CCCD) from an uploaded photo or a camera frame.

Two decoders sit behind one small protocol, both returning ``str`` that they decoded from the code's raw
bytes as UTF-8 themselves (the card stores UTF-8 in byte mode without an ECI header):

- ``zxing`` (zxing-cpp): fast and finds the most codes; we read ``Barcode.bytes``, never its guessed text.
- ``zbar`` (libzbar0 through pyzbar): zbar guesses a charset and returns Shift-JIS/Big5 mojibake for a share
  of Vietnamese strings (``Nữ`` → ``N盻ｯ``). We therefore run it in zbar's binary mode, which
  pyzbar's ``decode()`` cannot switch on, by driving pyzbar's thin ctypes wrapper of the C library.

``load_image`` is the gate for untrusted uploads: size in bytes first, then the real format from the file's
header (never the client's content type), then the pixel count from the header, and only then the full
decode. See ``docs/DECODERS.md`` for the measurements behind the default decoder and the fallback pass.
"""

from __future__ import annotations

import functools
import io
import struct
from collections.abc import Callable, Iterator
from ctypes import byref, c_int, c_void_p, cast, string_at
from typing import ClassVar, Protocol, runtime_checkable

from babel.numbers import format_decimal
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from asm.i18n import N_, translations

ALLOWED_FORMATS: frozenset[str] = frozenset({"JPEG", "PNG", "WEBP"})
DEFAULT_MAX_BYTES = 8_000_000
DEFAULT_MAX_PIXELS = 12_000_000

# code -> (HTTP status, message): the message is a msgid of the catalogue (asm/i18n.py), named placeholders.
_ERRORS: dict[str, tuple[int, str]] = {
    "image_too_large_bytes": (413, N_("Tệp ảnh quá lớn (%(size)s MB); tối đa %(limit)s MB.")),
    "image_too_large_pixels": (413, N_("Ảnh có quá nhiều điểm ảnh; tối đa %(limit)s triệu điểm ảnh.")),
    "image_type_unsupported": (415, N_("Không nhận dạng được định dạng ảnh: hãy gửi ảnh JPEG, PNG hoặc WebP.")),
    "image_unreadable": (422, N_("Không đọc được ảnh: tệp bị hỏng hoặc không đầy đủ.")),
    "no_code_found": (
        422,
        N_(
            "Không tìm thấy mã QR (thẻ căn cước, VNeID) hay vùng đọc máy MRZ (hộ chiếu) trong ảnh. Hãy đưa mã QR "
            "của thẻ, hoặc cả trang thông tin hộ chiếu, vào khung hình, giữ yên và đủ sáng."
        ),
    ),
    "no_mrz_found": (
        422,
        N_(
            "Không đọc được vùng đọc máy (MRZ, hai hoặc ba dòng ký tự < ở cuối trang hộ chiếu) trong ảnh. "
            "Hãy đặt cả trang thông tin vào khung hình, giữ yên, đủ sáng và tránh loá."
        ),
    ),
    "decoder_unavailable": (503, N_("Bộ giải mã QR “%(name)s” không dùng được trên máy chủ này.")),
}

DECODE_ERROR_STATUS = {code: status for code, (status, _message) in _ERRORS.items()}  # for the API's document

# What Pillow raises on malformed or truncated input (its plugins are not consistent about it).
_PILLOW_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    KeyError,
    struct.error,
    ZeroDivisionError,
)


Param = str | int | float  # a float is printed in the message's language ("8,5" / "8.5")


class DecodeError(ValueError):
    """An image that cannot give a card's QR text. ``code`` is stable; ``http_status`` suits an API answer."""

    code: str
    http_status: int
    params: dict[str, Param]

    def __init__(self, code: str, /, **params: Param) -> None:
        if code not in _ERRORS:
            raise KeyError(f"unknown DecodeError code {code!r}")
        self.code = code
        self.http_status = _ERRORS[code][0]
        self.params = params
        super().__init__(f"{code}: {self.message_vi}")  # Vietnamese needs no catalogue file

    def message(self, locale: str) -> str:
        """The message for ``vi``, ``vi_VN``…; any other locale gets English."""
        lang = "vi" if locale.lower().startswith("vi") else "en"
        values = {
            k: format_decimal(v, format="#,##0.##", locale=lang) if isinstance(v, float) else v
            for k, v in self.params.items()
        }
        return translations(lang).gettext(_ERRORS[self.code][1]) % values

    @property
    def message_vi(self) -> str:
        return self.message("vi")

    @property
    def message_en(self) -> str:
        return self.message("en")

    def to_dict(self, locale: str) -> dict[str, str]:
        """JSON-ready form for an API answer."""
        return {"code": self.code, "message": self.message(locale)}


# --------------------------------------------------------------------------------------------------------
# Decoders
# --------------------------------------------------------------------------------------------------------


@runtime_checkable
class Decoder(Protocol):
    """Finds QR codes in an image and returns their texts, decoded from the raw bytes as UTF-8."""

    @property
    def name(self) -> str: ...

    def decode(self, image: Image.Image) -> list[str]: ...


def utf8_text(raw: bytes) -> str:
    """The card's bytes as text. Invalid UTF-8 is not guessed at: bad bytes become U+FFFD, which the strict
    parser rejects, so no silent mojibake reaches a record."""
    return raw.decode("utf-8", errors="replace")


def _gray(image: Image.Image) -> Image.Image:
    return image if image.mode == "L" else to_grayscale(image)


class ZxingDecoder:
    """zxing-cpp, QR codes only. Reads ``Barcode.bytes`` so no charset guess can garble Vietnamese."""

    name: ClassVar[str] = "zxing"

    def __init__(self) -> None:
        import zxingcpp

        self._read = functools.partial(
            zxingcpp.read_barcodes,
            formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode),
            try_rotate=True,
            try_downscale=True,
            try_invert=False,  # cards print dark on light; inverting doubles the time of a miss
        )

    def decode(self, image: Image.Image) -> list[str]:
        return [utf8_text(bytes(code.bytes)) for code in self._read(_gray(image))]


class _Zbar:
    """The pieces of pyzbar's ctypes wrapper we drive, loaded once (pyzbar loads libzbar on import)."""

    def __init__(self) -> None:
        try:
            from pyzbar import wrapper
        except (ImportError, OSError) as exc:  # no pyzbar, or no libzbar0 on this machine
            raise DecodeError("decoder_unavailable", name="zbar") from exc
        self.w = wrapper
        self.qrcode = int(wrapper.ZBarSymbol.QRCODE)
        # zbar's own parser turns zbarimg-style settings into (symbology, config, value), so we use no
        # magic numbers: the same strings as `zbarimg -Sdisable -Sqrcode.enable -Sqrcode.binary`.
        self.settings_text = [self._parse(b"disable"), self._parse(b"qrcode.enable")]
        self.settings_binary = [*self.settings_text, self._parse(b"qrcode.binary")]

    def _parse(self, setting: bytes) -> tuple[int, int, int]:
        symbology, config, value = c_int(), c_int(), c_int()
        if self.w.zbar_parse_config(setting, byref(symbology), byref(config), byref(value)) != 0:
            # A zbar older than 0.23 has no binary mode: refuse rather than return mojibake.
            raise DecodeError("decoder_unavailable", name="zbar")
        return symbology.value, config.value, value.value


@functools.cache
def _zbar() -> _Zbar:
    return _Zbar()


_Y800 = int.from_bytes(b"Y800", "little")  # zbar's fourcc for 8-bit grayscale


class ZbarDecoder:
    """zbar through pyzbar's wrapper, in binary mode (raw bytes) unless ``binary=False``.

    ``binary=False`` is zbar's default text mode with its charset guess; it exists to measure the damage.
    """

    name: ClassVar[str] = "zbar"

    def __init__(self, *, binary: bool = True) -> None:
        self.binary = binary
        self._lib = _zbar()

    def decode(self, image: Image.Image) -> list[str]:
        gray = _gray(image)
        pixels = gray.tobytes()
        width, height = gray.size
        lib, w = self._lib, self._lib.w
        texts: list[str] = []
        scanner = w.zbar_image_scanner_create()
        if not scanner:
            raise MemoryError("zbar could not create an image scanner")
        try:
            for symbology, config, value in lib.settings_binary if self.binary else lib.settings_text:
                w.zbar_image_scanner_set_config(scanner, symbology, config, value)
            zimage = w.zbar_image_create()
            if not zimage:
                raise MemoryError("zbar could not create an image")
            try:
                w.zbar_image_set_format(zimage, _Y800)
                w.zbar_image_set_size(zimage, width, height)
                pointer = cast(pixels, c_void_p)  # type: ignore[arg-type]  # ctypes takes bytes as a pointer at run time
                w.zbar_image_set_data(zimage, pointer, len(pixels), None)
                if w.zbar_scan_image(scanner, zimage) < 0:
                    raise RuntimeError("zbar rejected the image format")
                symbol = w.zbar_image_first_symbol(zimage)
                while symbol:
                    if symbol.contents.type == lib.qrcode:
                        raw = string_at(w.zbar_symbol_get_data(symbol), w.zbar_symbol_get_data_length(symbol))
                        texts.append(utf8_text(raw))
                    symbol = w.zbar_symbol_next(symbol)
            finally:
                w.zbar_image_destroy(zimage)
        finally:
            w.zbar_image_scanner_destroy(scanner)
        return texts


DECODERS: dict[str, Callable[[], Decoder]] = {"zxing": ZxingDecoder, "zbar": ZbarDecoder}
# zxing: every string exact, more codes found on photo-like frames, several times faster (docs/DECODERS.md).
DEFAULT_DECODER = "zxing"


@functools.cache
def get_decoder(name: str = DEFAULT_DECODER) -> Decoder:
    """A shared decoder instance by name (decoders keep no per-call state, so sharing is thread-safe).

    Raises ``DecodeError("decoder_unavailable")`` for an unknown name or a library missing on this machine.
    """
    factory = DECODERS.get(name)
    if factory is None:
        raise DecodeError("decoder_unavailable", name=name)
    return factory()


# --------------------------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------------------------


def to_grayscale(image: Image.Image) -> Image.Image:
    """Mode "L": transparency flattened onto white (a transparent PNG must not turn black), 16-bit scaled."""
    if image.mode == "L":
        return image
    if image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        white.alpha_composite(rgba)
        return white.convert("L")
    if image.mode.startswith("I;16"):
        return image.convert("I").point(lambda v: v * (1 / 257)).convert("L")
    return image.convert("L")


def _millions(n: int) -> float:
    """``n`` in millions, to two decimals (a message prints it as "8,5" in Vietnamese, "8.5" in English)."""
    return round(n / 1_000_000, 2)


def load_image(data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, max_pixels: int = DEFAULT_MAX_PIXELS) -> Image.Image:
    """Check and decode an uploaded image into grayscale ("L"), EXIF orientation applied.

    Order matters for untrusted input: bytes, then format (Pillow's header sniffing, restricted to
    ``ALLOWED_FORMATS`` so no other parser even runs), then width × height from the header, and only then
    the full pixel decode, so a small file declaring a huge image (a decompression bomb) is never expanded.
    """
    if len(data) > max_bytes:
        raise DecodeError("image_too_large_bytes", size=_millions(len(data)), limit=_millions(max_bytes))
    too_many_pixels = DecodeError("image_too_large_pixels", limit=_millions(max_pixels))
    try:
        image = Image.open(io.BytesIO(data), formats=sorted(ALLOWED_FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own, looser, bomb check fires inside open(); the warning is an error under strict filters.
        raise too_many_pixels from exc
    except UnidentifiedImageError as exc:
        raise DecodeError("image_type_unsupported") from exc
    except _PILLOW_ERRORS as exc:  # a recognised header whose first bytes are already broken
        raise DecodeError("image_unreadable") from exc
    if image.format not in ALLOWED_FORMATS:  # defensive: open() was restricted to these formats
        raise DecodeError("image_type_unsupported")
    width, height = image.size
    if width * height > max_pixels:
        raise too_many_pixels
    if width == 0 or height == 0:
        raise DecodeError("image_unreadable")
    try:
        if image.format == "JPEG":
            image.draft("L", image.size)  # let libjpeg decode the luma plane only: same pixels, faster
        image.load()
        return to_grayscale(ImageOps.exif_transpose(image))
    except _PILLOW_ERRORS as exc:
        raise DecodeError("image_unreadable") from exc


# --------------------------------------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------------------------------------


def _fallback_images(gray: Image.Image) -> Iterator[Image.Image]:
    """Second-chance copies of a frame where the first pass found nothing, made only when needed.

    Chosen by measurement over generated camera frames (docs/DECODERS.md): an unsharp mask rescues
    slightly out-of-focus cards, a 3×3 box blur rescues grainy, dim frames. Contrast stretching and
    down- or up-scaling rescued fewer frames for their cost.
    """
    yield gray.filter(ImageFilter.UnsharpMask(radius=2, percent=150, threshold=3))
    yield gray.filter(ImageFilter.BoxBlur(1))


def decode_image_texts(image: Image.Image, *, decoder: Decoder | None = None, fallback: bool = True) -> list[str]:
    """The texts of the QR codes in an already loaded image, in the order found, without duplicates.

    When the first pass finds nothing and ``fallback`` is on, a sharpened and then a smoothed copy are
    tried: worth it for a single uploaded photo; a camera stream can pass ``fallback=False`` and simply
    try its next frame, since a miss then costs several times a first pass.
    Raises ``DecodeError("no_code_found")``.
    """
    decoder = decoder or get_decoder(DEFAULT_DECODER)
    gray = _gray(image)
    texts = decoder.decode(gray)
    if not texts and fallback:
        for variant in _fallback_images(gray):
            texts = decoder.decode(variant)
            if texts:
                break
    if not texts:
        raise DecodeError("no_code_found")
    return list(dict.fromkeys(texts))


def decode_qr_texts(
    data: bytes,
    *,
    decoder: Decoder | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    fallback: bool = True,
) -> list[str]:
    """The texts of the QR codes in an uploaded image (JPEG, PNG or WebP bytes).

    Raises ``DecodeError`` (see ``load_image``; ``no_code_found`` when the image holds no readable code).
    """
    image = load_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    return decode_image_texts(image, decoder=decoder, fallback=fallback)
